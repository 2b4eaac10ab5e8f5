/*
 * tests/bench/latency.c - the publish-to-read latency of a line pipeline,
 * for tests/bench/latency.sh.
 *
 *   latency stamp RATE COUNT [SIZE [PREFIX]]
 *       Writes WARM unmeasured lines, then COUNT lines, at RATE lines a
 *       second to stdout, one write(2) each.  A line is PREFIX, '@' and
 *       the time just before its write (CLOCK_MONOTONIC, ns; 0 on a
 *       warm-up line), padding to SIZE bytes with its newline: one word.  A line is written as soon
 *       as it is due: woken late, the writer writes every line due by
 *       then, one by one, so the rate holds.  It prints on stderr how late
 *       it was, at worst and in all, and how long its writes blocked.
 *   latency read COUNT FILE
 *       Reads lines from stdin until COUNT measured ones have come, stdin
 *       ends, or nothing has come for IDLE seconds (5).  A line's latency is the time its read(2) returned
 *       less the time in it; lines with no time in them (a warm-up line,
 *       a client's own lines: no '@' and digits) are left out.  Writes the latencies to FILE,
 *       8 bytes each, native order.
 *   latency report COUNT FILE...
 *       Prints "p50 p99 p99.9 max lost" over every FILE, in microseconds,
 *       lost being the latencies missing from COUNT per FILE (all of
 *       them for a FILE that does not exist).
 *
 * Both ends run on one machine, so one clock serves both.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define WARM 1000              /* lines before the measured ones */
#define IDLE_MS 5000           /* a reader gives up after this silence */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "latency: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long
number(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "latency: %s %s: not a number from %ld to %ld\n",
		    what, s, min, max);
		exit(2);
	}
	return v;
}

static void
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("write");
		p += n;
		len -= (size_t)n;
	}
}

static int
stamp(long rate, long count, long size, const char *prefix)
{
	char line[4096];
	uint64_t period = 1000000000u / (uint64_t)rate, due = now_ns();
	uint64_t t, late, worst = 0, blocked = 0;
	struct timespec at;
	long i;
	int n;

	/* Woken when due, not up to 50 us later (the default slack). */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	for (i = 0; i < WARM + count; i++) {
		due += period;
		at.tv_sec = (time_t)(due / 1000000000u);
		at.tv_nsec = (long)(due % 1000000000u);
		if (now_ns() < due)
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
			    &at, NULL) == EINTR)
				;
		t = now_ns();
		late = t - due;
		if (i >= WARM && late > worst)
			worst = late;
		n = snprintf(line, sizeof(line), "%s@%" PRIu64, prefix,
		    i < WARM ? 0 : t);
		if (n < 0 || n >= size)
			n = snprintf(line, sizeof(line), "%s@%" PRIu64 "\n",
			    prefix, i < WARM ? 0 : t);
		else {
			memset(line + n, 'x', (size_t)(size - 1 - n));
			line[size - 1] = '\n';
			n = (int)size;
		}
		write_all(STDOUT_FILENO, line, (size_t)n);
		blocked += now_ns() - t;
	}
	fprintf(stderr, "latency: stamp: at worst %.1f us late, %.3f s in "
	    "write(2) for %ld lines\n", (double)worst / 1000.0,
	    (double)blocked / 1e9, count + WARM);
	return 0;
}

/* The time in a line: the digits after its first '@'; 0 for none. */
static uint64_t
time_in(const char *p, const char *end)
{
	uint64_t v = 0;

	if ((p = memchr(p, '@', (size_t)(end - p))) == NULL)
		return 0;
	p++;
	while (p < end && *p >= '0' && *p <= '9')
		v = v * 10 + (uint64_t)(*p++ - '0');
	return v;
}

static int
readlines(long count, const char *file)
{
	static char buf[1 << 16];
	uint64_t *lat, t, got_at;
	size_t have = 0, got = 0, k;
	char *nl, *start;
	ssize_t n;
	FILE *out;

	struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
	char tmp[PATH_MAX];
	int ready;

	if ((lat = malloc((size_t)count * sizeof(*lat))) == NULL)
		die("malloc");
	while (got < (size_t)count) {
		ready = poll(&in, 1, IDLE_MS);
		if (ready == -1 && errno == EINTR)
			continue;
		if (ready == -1)
			die("poll");
		if (ready == 0)
			break;
		n = read(STDIN_FILENO, buf + have, sizeof(buf) - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("read");
		if (n == 0)
			break;
		got_at = now_ns();
		have += (size_t)n;
		start = buf;
		while (got < (size_t)count &&
		    (nl = memchr(start, '\n', have - (size_t)(start - buf))) != NULL) {
			t = time_in(start, nl);
			if (t != 0)
				lat[got++] = got_at > t ? got_at - t : 0;
			start = nl + 1;
		}
		k = have - (size_t)(start - buf);
		if (k == sizeof(buf))
			k = 0;   /* a line longer than the buffer: drop it */
		memmove(buf, start, k);
		have = k;
	}
	/* Whole or not at all, for whoever waits for FILE to appear. */
	snprintf(tmp, sizeof(tmp), "%s.part", file);
	if ((out = fopen(tmp, "wb")) == NULL)
		die(tmp);
	if (fwrite(lat, sizeof(*lat), got, out) != got || fclose(out) != 0)
		die(tmp);
	if (rename(tmp, file) == -1)
		die(file);
	free(lat);
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double
at_rank(const uint64_t *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);

	return (double)v[i] / 1000.0;
}

static int
report(long count, int nfiles, char **files)
{
	uint64_t *all = NULL, *p;
	size_t n = 0, cap = 0, k;
	long lost = 0;
	FILE *in;
	int i;

	for (i = 0; i < nfiles; i++) {
		if ((in = fopen(files[i], "rb")) == NULL && errno == ENOENT) {
			lost += count;   /* a reader that never finished */
			continue;
		}
		if (in == NULL)
			die(files[i]);
		if (cap - n < (size_t)count) {
			cap = n + (size_t)count;
			if ((p = realloc(all, cap * sizeof(*all))) == NULL)
				die("realloc");
			all = p;
		}
		k = fread(all + n, sizeof(*all), (size_t)count, in);
		if (ferror(in))
			die(files[i]);
		(void)fclose(in);
		n += k;
		lost += count - (long)k;
	}
	if (n == 0) {
		printf("- - - - %ld\n", lost);
		free(all);
		return 0;
	}
	qsort(all, n, sizeof(*all), cmp_u64);
	printf("%.1f %.1f %.1f %.1f %ld\n", at_rank(all, n, 0.50),
	    at_rank(all, n, 0.99), at_rank(all, n, 0.999),
	    (double)all[n - 1] / 1000.0, lost);
	free(all);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "stamp") == 0 && argc <= 6)
		return stamp(number(argv[2], 1, 10000000, "RATE"),
		    number(argv[3], 1, LONG_MAX / 2, "COUNT"),
		    argc > 4 ? number(argv[4], 2, 4096, "SIZE") : 100,
		    argc > 5 ? argv[5] : "");
	if (argc == 4 && strcmp(argv[1], "read") == 0)
		return readlines(number(argv[2], 1, 100000000, "COUNT"),
		    argv[3]);
	if (argc >= 4 && strcmp(argv[1], "report") == 0)
		return report(number(argv[2], 1, 100000000, "COUNT"), argc - 3,
		    argv + 3);
	fprintf(stderr, "usage: latency stamp RATE COUNT [SIZE [PREFIX]]\n"
	    "       latency read COUNT FILE\n"
	    "       latency report COUNT FILE...\n");
	return 2;
}

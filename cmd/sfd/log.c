#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "sfd.h"

static enum log_level shown = LOG_INFO;

void
log_set_level(enum log_level max)
{
	shown = max;
}

int
log_enabled(enum log_level level)
{
	return level <= shown;
}

/*
 * The log never makes the daemon wait: with stderr on a pipe nobody
 * reads, a blocking write would stop every client.  A line is written
 * only when poll(2) says it fits at once (lines are shorter than
 * PIPE_BUF, which a writable pipe has room for); otherwise it waits in a
 * bounded backlog, and when that is full it is dropped and counted.  The
 * loop calls log_flush() before it sleeps.
 */
#define BACKLOG (64u << 10)
static char backlog[BACKLOG];
static size_t backlog_len;
static unsigned long long dropped;

/* 1 when stderr takes a line at once, 0 when it is full, -1 when it
 * never will (closed, or its reader went away). */
static int
writable(void)
{
	struct pollfd pfd = { .fd = STDERR_FILENO, .events = POLLOUT };

	if (poll(&pfd, 1, 0) != 1)
		return 0;
	if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
		return -1;
	return (pfd.revents & POLLOUT) != 0;
}

/* Drop the backlog, counting its lines. */
static void
discard(void)
{
	size_t i;

	for (i = 0; i < backlog_len; i++)
		dropped += backlog[i] == '\n';
	backlog_len = 0;
}

/* Write what fits now from the backlog; 1 while some of it waits. */
static int
drain(void)
{
	size_t n;
	ssize_t k;
	int w;

	while (backlog_len > 0 && (w = writable()) != 0) {
		n = backlog_len < PIPE_BUF ? backlog_len : PIPE_BUF;
		if (w == -1 || (k = write(STDERR_FILENO, backlog, n)) == -1) {
			if (w != -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			discard();   /* nowhere to write: no use keeping it */
			break;
		}
		memmove(backlog, backlog + k, backlog_len - (size_t)k);
		backlog_len -= (size_t)k;
	}
	return backlog_len > 0;
}

static void
emit(const char *line, size_t n)
{
	if (backlog_len + n > sizeof(backlog)) {
		dropped++;
		return;
	}
	memcpy(backlog + backlog_len, line, n);
	backlog_len += n;
}

/*
 * 1 when stderr is the stream the journal gave us: JOURNAL_STREAM names
 * its device and inode, so a redirected stderr is told apart.  Looked at
 * once, at the first line.
 */
static int journal = -1;

static int
to_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	char want[64];
	struct stat st;

	if (journal != -1)
		return journal;
	journal = 0;
	if (v == NULL || fstat(STDERR_FILENO, &st) == -1)
		return 0;
	snprintf(want, sizeof(want), "%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	journal = strcmp(v, want) == 0;
	return journal;
}

/*
 * With -v, off the journal (which stamps each line itself), a line starts
 * with the time it was logged: "2026-12-03T15:06:02.123Z ", UTC to the
 * millisecond.  Writes it into buf and returns its length (STAMP_LEN), or
 * 0 for none: also when the clock cannot be read, as a line without a
 * time is better than none.
 */
#define STAMP_LEN 25
static size_t
stamp(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	size_t n;
	int k;

	if (shown < LOG_DEBUG || to_journal() || cap <= STAMP_LEN ||
	    clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    (n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm)) != 19)
		return 0;
	k = snprintf(buf + n, cap - n, ".%03ldZ ", ts.tv_nsec / 1000000);
	if (k != STAMP_LEN - 19)
		return 0;
	return STAMP_LEN;
}

int
log_flush(void)
{
	char line[128];
	size_t n;
	int k;

	if (drain())
		return 1;
	if (dropped > 0) {
		n = stamp(line, sizeof(line));
		k = snprintf(line + n, sizeof(line) - n, "sfd: %llu log lines "
		    "dropped: standard error was not being read\n", dropped);
		dropped = 0;
		if (k > 0 && (size_t)k < sizeof(line) - n)
			emit(line, n + (size_t)k);
		return drain();
	}
	return 0;
}

/*
 * Build the whole line first and hand it to write(2) at once, so lines
 * never interleave and no stdio buffer is left half-flushed.
 */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];   /* shorter than PIPE_BUF: see writable() */
	size_t n;
	va_list ap;
	int k;

	if (!log_enabled(level))
		return;
	if (to_journal()) {
		/* journald reads the level from a <N> prefix. */
		n = (size_t)snprintf(line, sizeof(line), "<%c>sfd: ",
		    "3567"[level]);   /* err, notice, info, debug */
	} else {
		n = stamp(line, sizeof(line));
		n += (size_t)snprintf(line + n, sizeof(line) - n, "sfd: ");
	}
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	n += (size_t)k < sizeof(line) - n - 1 ? (size_t)k : sizeof(line) - n - 2;
	line[n++] = '\n';
	(void)log_flush();   /* in order: what waits goes first */
	emit(line, n);
	(void)drain();
}

void
log_client(const struct client *c, enum log_level level, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->tcp)
		log_msg(level, "#%llu addr=%s: %s", (unsigned long long)c->id,
		    c->peer, msg);
	else
		log_msg(level, "#%llu pid=%ld uid=%ld gid=%ld: %s",
		    (unsigned long long)c->id, (long)c->pid, (long)c->uid,
		    (long)c->gid, msg);
}

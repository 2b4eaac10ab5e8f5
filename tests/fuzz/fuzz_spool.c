/*
 * A spool file as sfd finds it when it starts: arbitrary bytes as
 * DIR/f.ring, taken up as restore() in cmd/sfd/stream.c does it:
 * spool_open, ring_adopt from the recorded positions with the end mark
 * check of adopt_mark(), spool_adopted.  Every byte from tail to head is
 * then read through ring_at (so ASan sees any access outside the
 * mapping), the frames walked and a sample of lookups checked.  One
 * append follows as stream_append() makes it, which drops the oldest
 * frames taken up from the file; after it the file is opened again and
 * must give back the same ring.
 *
 * Input: the file's bytes, with these changes so that the fuzzer gets
 * past the header's check values, which it cannot forge:
 *   - a boot id field (offset 128) of just "@" is made this boot's id,
 *     so the live record, which only the boot that wrote it trusts, can
 *     be reached (no check covers that field);
 *   - byte 384, the first the format leaves unused, when bit 0 is set
 *     has the check of the part written once recomputed, and when bit 1
 *     is set the check of each of the four position records.
 * The ring size asked for is the header's (offset 24) when it is a
 * plausible one, else the file's size less a page, as a daemon started
 * with the right or a wrong --ring would.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame.h"
#include "fuzz.h"
#include "ring.h"
#include "spool.h"

#define NAME        "f"
#define FILE_NAME   NAME SPOOL_SUFFIX
#define OFF_RING    24           /* lib/spool.c's header layout */
#define OFF_CHECK   120
#define OFF_BOOT    128
#define BOOT_FIELD  40
#define OFF_RECORDS 192          /* live, live, synced, synced */
#define REC_LEN     48
#define OFF_FLAGS   384          /* this harness's: see above */
#define FLAG_HDR    0x01
#define FLAG_RECS   0x02
#define RING_MAX    (1u << 20)   /* a plausible ring for an input */
#define SAMPLES     8            /* frames whose lookups are checked */

static char dir[4096];
static int dirfd = -1;
static size_t page;

/* What adopt_mark() remembers: where each end mark stands. */
struct marks {
	uint64_t *pos, *seq;
	size_t n, cap;
};

/* adopt_mark() without the daemon: "EOS seq=N", N the seq where it
 * stands, else refused. */
static int
check_mark(void *arg, const unsigned char *body, uint32_t len, uint64_t pos,
    uint64_t seq)
{
	struct marks *m = arg;
	char want[64];
	int n;

	FUZZ_CHECK(len <= FRAME_CTL_MAX);
	n = snprintf(want, sizeof(want), "EOS seq=%" PRIu64, seq);
	if (n < 0 || (uint32_t)n != len || memcmp(body, want, len) != 0)
		return -1;
	FUZZ_CHECK(m->n < m->cap);
	m->pos[m->n] = pos;
	m->seq[m->n] = seq;
	m->n++;
	return 0;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* FNV-1a, the check value of lib/spool.c. */
static uint64_t
check(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (len-- > 0) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static void
cleanup(void)
{
	if (dirfd == -1)
		return;
	(void)unlinkat(dirfd, FILE_NAME, 0);
	(void)unlinkat(dirfd, "lock", 0);
	close(dirfd);
	(void)rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("TMPDIR");
	struct stat sb;
	char why[256];

	(void)argc;
	(void)argv;
	page = (size_t)sysconf(_SC_PAGESIZE);
	/* A tmpfs unless told otherwise: each input is synced twice, which
	 * costs nothing there and a disk write elsewhere. */
	if (base == NULL || *base == '\0')
		base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/sf-fuzz-spool-XXXXXX", base);
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	/* Locked as sfd locks it: the folder is the daemon's. */
	dirfd = spool_lock(dir, why, sizeof(why));
	if (dirfd == -1)
		fprintf(stderr, "spool_lock %s: %s\n", dir, why);
	FUZZ_CHECK(dirfd != -1);
	atexit(cleanup);
	return 0;
}

/* Write the input as the ring file. */
static void
write_file(const uint8_t *data, size_t size)
{
	uint8_t *buf, *r;
	size_t off = 0;
	ssize_t n;
	int fd, i;

	FUZZ_CHECK((buf = malloc(size + 1)) != NULL);
	memcpy(buf, data, size);
	if (size >= OFF_BOOT + BOOT_FIELD && buf[OFF_BOOT] == '@' &&
	    buf[OFF_BOOT + 1] == '\0') {
		memset(buf + OFF_BOOT, 0, BOOT_FIELD);
		memcpy(buf + OFF_BOOT, spool_boot_id(),
		    strlen(spool_boot_id()));
	}
	if (size > OFF_FLAGS && (buf[OFF_FLAGS] & FLAG_HDR))
		put64(buf + OFF_CHECK, check(buf, OFF_CHECK));
	if (size > OFF_FLAGS && (buf[OFF_FLAGS] & FLAG_RECS)) {
		for (i = 0; i < 4; i++) {
			r = buf + OFF_RECORDS + i * REC_LEN;
			put64(r + 40, check(r, 40));
		}
	}
	fd = openat(dirfd, FILE_NAME, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	FUZZ_CHECK(fd != -1);
	while (off < size) {
		n = write(fd, buf + off, size - off);
		FUZZ_CHECK(n > 0 || (n == -1 && errno == EINTR));
		if (n > 0)
			off += (size_t)n;
	}
	close(fd);
	free(buf);
}

/* The ring size a daemon would be started with for this file. */
static size_t
ring_size_for(const uint8_t *data, size_t size)
{
	uint64_t v = size >= OFF_RING + 8 ? get64(data + OFF_RING) : 0;

	if (v > 0 && v <= RING_MAX && ring_round((size_t)v) == v)
		return (size_t)v;
	if (size > page && size - page <= RING_MAX &&
	    ring_round(size - page) == size - page)
		return size - page;
	return page;
}

/*
 * Walk r's frames from tail to head: each fits, they end at head, the
 * data frames number head_seq - tail_seq, and the end marks are those in
 * m (when m is given).  Every byte is read.  A sample of frames is
 * looked up.
 */
static void
walk(const struct ring *r, const struct marks *m)
{
	uint64_t tail = ring_tail(r), head = ring_head(r), pos, seq, s, q;
	uint64_t nframes = 0, stride, k = 0, last_data_end = tail;
	unsigned char *copy;
	uint32_t len;
	int control;

	FUZZ_CHECK(tail <= head && head - tail <= ring_size(r));
	FUZZ_CHECK(ring_tail_seq(r) <= ring_head_seq(r));
	/* One copy, which ASan checks as a whole (faster than byte by byte
	 * under the fuzzer's comparison tracing). */
	FUZZ_CHECK((copy = malloc(head - tail + 1)) != NULL);
	memcpy(copy, ring_at(r, tail), head - tail);
	free(copy);

	for (pos = tail; pos < head; nframes++) {
		FUZZ_CHECK(head - pos >= FRAME_HDR);
		frame_get_header(ring_at(r, pos), &len, &control);
		FUZZ_CHECK(FRAME_HDR + (uint64_t)len <= head - pos);
		pos += FRAME_HDR + len;
	}
	stride = nframes / SAMPLES + 1;
	FUZZ_CHECK(ring_locate(r, head, &s, &q) == 0 && s == head &&
	    q == ring_head_seq(r));
	FUZZ_CHECK(ring_find(r, ring_tail_seq(r), &s) == 0 && s == tail);
	for (pos = tail, seq = ring_tail_seq(r), nframes = 0; pos < head;
	    nframes++) {
		frame_get_header(ring_at(r, pos), &len, &control);
		if (nframes % stride == 0) {
			FUZZ_CHECK(ring_locate(r, pos, &s, &q) == 0);
			FUZZ_CHECK(s == pos && q == seq);
			FUZZ_CHECK(ring_locate(r, pos + FRAME_HDR + len - 1,
			    &s, &q) == 0);
			FUZZ_CHECK(s == pos && q == seq);
			/* From seq on: just after data frame seq - 1. */
			if (seq > ring_tail_seq(r))
				FUZZ_CHECK(ring_find(r, seq, &s) == 0 &&
				    s == last_data_end);
		}
		if (control) {
			if (m != NULL) {
				FUZZ_CHECK(k < m->n);
				FUZZ_CHECK(m->pos[k] == pos && m->seq[k] == seq);
			}
			k++;
		} else {
			seq++;
		}
		pos += FRAME_HDR + len;
		if (!control)
			last_data_end = pos;
	}
	FUZZ_CHECK(seq == ring_head_seq(r));
	FUZZ_CHECK(m == NULL || k == m->n);
	FUZZ_CHECK(ring_find(r, seq, &s) == 0 && (seq == ring_tail_seq(r) ?
	    s == tail : s == last_data_end));
	FUZZ_CHECK(ring_find(r, seq + 1, &s) == -1 && errno == ERANGE);
}

/* spool_open and ring_adopt as restore() has them; NULL if refused. */
static struct spool *
take_up(size_t ring_size, struct ring **r, struct marks *m)
{
	const struct spool_header *h;
	struct spool *sp;
	char why[256];
	uint64_t head;

	why[0] = '\0';
	if ((sp = spool_open(dirfd, NAME, ring_size, r, why,
	    sizeof(why))) == NULL) {
		FUZZ_CHECK(*r == NULL && why[0] != '\0');
		return NULL;
	}
	h = spool_start(sp);
	FUZZ_CHECK(strcmp(h->name, NAME) == 0 && h->ring_size == ring_size);
	FUZZ_CHECK(strlen(h->epoch) == SPOOL_EPOCH_LEN);
	FUZZ_CHECK(h->pos.tail <= h->pos.head &&
	    h->pos.head - h->pos.tail <= ring_size);
	m->n = 0;
	m->cap = ring_size / FRAME_HDR + 1;
	FUZZ_CHECK((m->pos = calloc(m->cap, sizeof(*m->pos))) != NULL);
	FUZZ_CHECK((m->seq = calloc(m->cap, sizeof(*m->seq))) != NULL);
	head = ring_adopt(*r, h->pos.tail, h->pos.tail_seq, h->pos.head,
	    check_mark, m);
	FUZZ_CHECK(head == ring_head(*r));
	FUZZ_CHECK(ring_tail(*r) == h->pos.tail);
	FUZZ_CHECK(ring_tail_seq(*r) == h->pos.tail_seq);
	FUZZ_CHECK(h->pos.tail <= head && head <= h->pos.head);
	walk(*r, m);
	return sp;
}

static void
marks_free(struct marks *m)
{
	free(m->pos);
	free(m->seq);
	m->pos = m->seq = NULL;
}

/* One data frame of len bytes, appended as stream_append() does it. */
static void
append(struct spool *sp, struct ring *r, size_t len)
{
	size_t room = ring_size(r) / 4 > len ? ring_size(r) / 4 : len;
	uint64_t tail, head = ring_head(r), head_seq = ring_head_seq(r);
	unsigned char *buf;

	FUZZ_CHECK((buf = calloc(1, len)) != NULL);
	frame_put_header(buf, (uint32_t)(len - FRAME_HDR), 0);
	if (spool_must_sync(sp, r, len)) {
		/* A failed sync is logged and the ring goes on. */
		(void)spool_sync(sp, r, room);
		FUZZ_CHECK(!spool_must_sync(sp, r, len));
	}
	tail = ring_tail(r);
	ring_make_room(r, len);
	if (ring_tail(r) != tail)
		spool_note(sp, r);
	FUZZ_CHECK(ring_head(r) + len - ring_tail(r) <= ring_size(r));
	FUZZ_CHECK(ring_append(r, buf, len) == 1);
	spool_note(sp, r);
	FUZZ_CHECK(ring_head(r) == head + len);
	FUZZ_CHECK(ring_head_seq(r) == head_seq + 1);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ring *r = NULL, *r2 = NULL;
	struct spool *sp, *sp2;
	struct marks m = { 0 }, m2 = { 0 };
	size_t ring_size;
	char why[256];
	uint64_t tail, tail_seq, head, head_seq;

	write_file(data, size);
	ring_size = ring_size_for(data, size);
	if ((sp = take_up(ring_size, &r, &m)) == NULL)
		return 0;
	if (spool_adopted(sp, r, why, sizeof(why)) == -1) {
		/* Refused at start: the daemon stops there. */
		goto out;
	}
	/* Half the ring, so that what was taken up is partly dropped. */
	append(sp, r, ring_size / 2);
	walk(r, NULL);
	tail = ring_tail(r);
	tail_seq = ring_tail_seq(r);
	head = ring_head(r);
	head_seq = ring_head_seq(r);
	spool_close(sp);
	ring_free(r);
	sp = NULL;
	r = NULL;
	/* What the daemon left is a file it takes up whole: on this boot
	 * the live record names it.  (With no boot id only the synced one
	 * counts, which is behind.) */
	if ((sp2 = take_up(ring_size, &r2, &m2)) != NULL) {
		if (spool_boot_id()[0] != '\0') {
			FUZZ_CHECK(ring_tail(r2) == tail);
			FUZZ_CHECK(ring_tail_seq(r2) == tail_seq);
			FUZZ_CHECK(ring_head(r2) == head);
			FUZZ_CHECK(ring_head_seq(r2) == head_seq);
		}
		spool_close(sp2);
		ring_free(r2);
	}
	FUZZ_CHECK(sp2 != NULL);
	marks_free(&m2);
out:
	spool_close(sp);
	ring_free(r);
	marks_free(&m);
	return 0;
}

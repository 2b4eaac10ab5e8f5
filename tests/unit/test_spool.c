/*
 * Unit tests for lib/spool.c and the ring over a file (ring_map,
 * ring_adopt): a stream's frames written through a spool file, the file
 * closed and opened again, and the frames taken up as the daemon does it
 * (cmd/sfd/stream.c: stream_append, restore, adopt_mark) must be those of
 * a ring in memory that took the same appends, byte for byte and lookup
 * for lookup.  Then torn and rejected frames, every reason spool_parse()
 * gives for a header, the room spool_sync() leaves, and the folder lock.
 * Each test works in its own temporary folder, removed at its end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame.h"
#include "ring.h"
#include "spool.h"
#include "unit.h"

/*
 * The header layout of lib/spool.c, which is the file format: tests that
 * write damaged headers need it, and pinning it here catches a change to
 * the format that forgot SPOOL_VERSION.
 */
#define OFF_VERSION  16
#define OFF_HDR_LEN  20
#define OFF_RING     24
#define OFF_EPOCH    32
#define OFF_NAME     48
#define NAME_FIELD   72
#define OFF_CHECK    120
#define OFF_BOOT     128
#define BOOT_FIELD   40
#define OFF_LIVE     192
#define OFF_SYNCED   288
#define REC_LEN      48

#define EPOCH        "0123456789abcdef"
#define MAX_MARKS    512
#define CHUNK_MAX    3            /* frames per append */

static size_t
page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* Remove dirfd's entry name, a folder's contents first. */
static void
rm_tree(int dirfd, const char *name)
{
	struct dirent *d;
	DIR *dir;
	int fd;

	if (unlinkat(dirfd, name, 0) == 0 || (errno != EISDIR &&
	    errno != EPERM))
		return;
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY)) == -1)
		return;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			rm_tree(fd, d->d_name);
	closedir(dir);
	CHECK_EQ(unlinkat(dirfd, name, AT_REMOVEDIR), 0);
}

/* A private folder, open as dirfd. */
struct tmp {
	char dir[PATH_MAX];
	int dirfd;
};

static int
tmp_new(struct tmp *t)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(t->dir, sizeof(t->dir), "%s/sf-unit-spool-XXXXXX", base);
	t->dirfd = -1;
	if (!CHECK(mkdtemp(t->dir) != NULL))
		return -1;
	if (!CHECK((t->dirfd = open(t->dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1)) {
		rmdir(t->dir);
		return -1;
	}
	return 0;
}

static void
tmp_free(struct tmp *t)
{
	close(t->dirfd);
	rm_tree(AT_FDCWD, t->dir);
}

/* FNV-1a, the check value of lib/spool.c. */
static uint64_t
fnv(const unsigned char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (len-- > 0) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static void
le32(unsigned char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
le64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Recompute the check of the part of hdr written once. */
static void
reseal(unsigned char *hdr)
{
	le64(hdr + OFF_CHECK, fnv(hdr, OFF_CHECK));
}

/* Write a valid record: copy (0 or 1) of the pair at off. */
static void
put_rec(unsigned char *hdr, size_t off, int copy, uint64_t gen,
    const struct spool_pos *pos)
{
	unsigned char *r = hdr + off + (size_t)copy * REC_LEN;

	le64(r, gen);
	le64(r + 8, pos->tail);
	le64(r + 16, pos->tail_seq);
	le64(r + 24, pos->head);
	le64(r + 32, pos->head_seq);
	le64(r + 40, fnv(r, 40));
}

static int
pos_is(const struct spool_pos *p, uint64_t tail, uint64_t tail_seq,
    uint64_t head, uint64_t head_seq)
{
	int ok;

	ok = CHECK_EQ(p->tail, tail);
	ok &= CHECK_EQ(p->tail_seq, tail_seq);
	ok &= CHECK_EQ(p->head, head);
	ok &= CHECK_EQ(p->head_seq, head_seq);
	return ok;
}

static int
ring_is(const struct ring *r, uint64_t tail, uint64_t tail_seq,
    uint64_t head, uint64_t head_seq)
{
	int ok;

	ok = CHECK_EQ(ring_tail(r), tail);
	ok &= CHECK_EQ(ring_tail_seq(r), tail_seq);
	ok &= CHECK_EQ(ring_head(r), head);
	ok &= CHECK_EQ(ring_head_seq(r), head_seq);
	return ok;
}

/*
 * The end marks ring_adopt() passed, checked as adopt_mark() in
 * cmd/sfd/stream.c checks them: "EOS seq=N", N the seq where it stands.
 */
struct marks {
	uint64_t pos[MAX_MARKS], seq[MAX_MARKS];
	size_t n;
	size_t calls;
};

static int
check_mark(void *arg, const unsigned char *body, uint32_t len, uint64_t pos,
    uint64_t seq)
{
	struct marks *m = arg;
	char want[64];
	int n;

	m->calls++;
	n = snprintf(want, sizeof(want), "EOS seq=%" PRIu64, seq);
	if (n < 0 || (uint32_t)n != len || memcmp(body, want, len) != 0)
		return -1;
	if (!CHECK(m->n < MAX_MARKS))
		return -1;
	m->pos[m->n] = pos;
	m->seq[m->n] = seq;
	m->n++;
	return 0;
}

/*
 * A stream kept in a spool file, and a ring in memory that takes the same
 * appends: what the file gives back must be what the memory ring holds.
 */
struct fix {
	struct tmp t;
	int dirfd;                   /* t's, or the lock's */
	size_t size;
	struct spool *sp;
	struct ring *r, *mem;
	struct marks marks;          /* of the last adopt */
	uint64_t rng;
	uint64_t last;               /* start of the newest frame */
	uint64_t syncs;
};

static int
fix_new(struct fix *f, size_t size, int lock, uint64_t seed)
{
	char why[256];

	memset(f, 0, sizeof(*f));
	f->rng = seed;
	f->size = size;
	if (tmp_new(&f->t) == -1)
		return -1;
	f->dirfd = f->t.dirfd;
	if (lock) {
		f->dirfd = spool_lock(f->t.dir, why, sizeof(why));
		if (!CHECK(f->dirfd >= 0)) {
			printf("    (spool_lock: %s)\n", why);
			goto fail;
		}
	}
	if (!CHECK((f->mem = ring_new(size)) != NULL))
		goto fail;
	f->sp = spool_create(f->dirfd, "st", size, EPOCH, 0600, (gid_t)-1,
	    &f->r, why, sizeof(why));
	if (!CHECK(f->sp != NULL)) {
		printf("    (spool_create: %s)\n", why);
		goto fail;
	}
	CHECK_EQ(ring_size(f->r), size);
	CHECK_EQ(ring_size(f->mem), size);
	return 0;
fail:
	ring_free(f->mem);
	if (f->dirfd != f->t.dirfd && f->dirfd != -1)
		close(f->dirfd);
	tmp_free(&f->t);
	return -1;
}

static void
fix_close(struct fix *f)
{
	spool_close(f->sp);
	ring_free(f->r);
	f->sp = NULL;
	f->r = NULL;
}

static void
fix_free(struct fix *f)
{
	fix_close(f);
	ring_free(f->mem);
	if (f->dirfd != f->t.dirfd)
		close(f->dirfd);
	tmp_free(&f->t);
}

/* What stream_append() does with a spool: sync when the append would
 * overwrite what the synced record names (leaving room for a quarter of
 * the ring, and at least this append, as sync_room() does), note the new
 * tail before the bytes change and the new head after. */
static void
fix_append(struct fix *f, const unsigned char *frames, size_t len)
{
	uint64_t tail;
	size_t room = f->size / 4 > len ? f->size / 4 : len;

	if (spool_must_sync(f->sp, f->r, len)) {
		CHECK_EQ(spool_sync(f->sp, f->r, room), 0);
		CHECK(!spool_must_sync(f->sp, f->r, len));
		f->syncs++;
	}
	tail = ring_tail(f->r);
	ring_make_room(f->r, len);
	if (ring_tail(f->r) != tail)
		spool_note(f->sp, f->r);
	ring_append(f->r, frames, len);
	spool_note(f->sp, f->r);
	ring_append(f->mem, frames, len);
	CHECK(!spool_must_sync(f->sp, f->r, 0));
}

/* Store a data frame of len bytes of the generator's at p; its size. */
static size_t
put_data(struct fix *f, unsigned char *p, uint32_t len)
{
	uint32_t i;

	frame_put_header(p, len, 0);
	for (i = 0; i < len; i++)
		p[FRAME_HDR + i] = (unsigned char)unit_rand(&f->rng);
	return FRAME_HDR + len;
}

/* Store an end mark "EOS seq=seq" at p; its size. */
static size_t
put_eos(unsigned char *p, uint64_t seq)
{
	int n;

	n = snprintf((char *)p + FRAME_HDR, 64, "EOS seq=%" PRIu64, seq);
	frame_put_header(p, (uint32_t)n, 1);
	return FRAME_HDR + (size_t)n;
}

/* Append one chunk of 1 to CHUNK_MAX frames, an end mark now and then:
 * through the spool and to the memory ring. */
static void
fix_chunk(struct fix *f, uint32_t max_body)
{
	unsigned char buf[CHUNK_MAX * (FRAME_HDR + 1024)];
	uint64_t seq = ring_head_seq(f->mem);
	size_t n, i, len = 0;

	n = 1 + (size_t)(unit_rand(&f->rng) % CHUNK_MAX);
	for (i = 0; i < n; i++) {
		f->last = ring_head(f->mem) + len;
		if (unit_rand(&f->rng) % 6 == 0) {
			len += put_eos(buf + len, seq);
		} else {
			len += put_data(f, buf + len,
			    (uint32_t)(unit_rand(&f->rng) % (max_body + 1)));
			seq++;
		}
	}
	fix_append(f, buf, len);
}

/* Append a single data frame of len bytes (at most 2 * FRAME_CTL_MAX). */
static void
fix_data(struct fix *f, uint32_t len)
{
	static unsigned char buf[FRAME_HDR + 2 * FRAME_CTL_MAX];

	if (!CHECK(len <= 2 * FRAME_CTL_MAX))
		return;
	f->last = ring_head(f->mem);
	fix_append(f, buf, put_data(f, buf, len));
}

/*
 * Close the file and open it again as restore() does: spool_open, then
 * ring_adopt from the recorded positions.  Returns what ring_adopt
 * returned (UINT64_MAX when the file did not open).
 */
static uint64_t
fix_reopen(struct fix *f)
{
	const struct spool_header *h;
	char why[256];

	fix_close(f);
	f->sp = spool_open(f->dirfd, "st", f->size, &f->r, why, sizeof(why));
	if (!CHECK(f->sp != NULL)) {
		printf("    (spool_open: %s)\n", why);
		return UINT64_MAX;
	}
	h = spool_start(f->sp);
	CHECK_STR(h->name, "st");
	CHECK_STR(h->epoch, EPOCH);
	CHECK_EQ(h->ring_size, f->size);
	/* Nothing is taken up until the caller adopts. */
	CHECK(ring_is(f->r, 0, 0, 0, 0));
	memset(&f->marks, 0, sizeof(f->marks));
	return ring_adopt(f->r, h->pos.tail, h->pos.tail_seq, h->pos.head,
	    check_mark, &f->marks);
}

/*
 * The adopted ring is the memory ring: bounds, bytes, every position's
 * frame, every seq's start, and the end marks adopt passed.
 */
static int
same_ring(struct fix *f)
{
	const struct ring *a = f->r, *m = f->mem;
	uint64_t tail = ring_tail(m), head = ring_head(m), pos, seq;
	uint64_t s1, q1, s2, q2;
	uint32_t len;
	size_t k = 0;
	int control, ok;

	if (!ring_is(a, tail, ring_tail_seq(m), head, ring_head_seq(m)))
		return 0;
	if (!CHECK(memcmp(ring_at(a, tail), ring_at(m, tail), head - tail) ==
	    0))
		return 0;
	ok = 1;
	for (pos = tail > 0 ? tail - 1 : 0; pos <= head + 1 && ok; pos++) {
		s1 = q1 = s2 = q2 = 1;
		ok &= CHECK_EQ(ring_locate(a, pos, &s1, &q1),
		    ring_locate(m, pos, &s2, &q2));
		ok &= CHECK_EQ(s1, s2);
		ok &= CHECK_EQ(q1, q2);
		s1 = q1 = s2 = q2 = 1;
		ok &= CHECK_EQ(ring_align(a, pos, &s1, &q1),
		    ring_align(m, pos, &s2, &q2));
		ok &= CHECK_EQ(s1, s2);
		ok &= CHECK_EQ(q1, q2);
	}
	seq = ring_tail_seq(m) > 0 ? ring_tail_seq(m) - 1 : 0;
	for (; seq <= ring_head_seq(m) + 1 && ok; seq++) {
		s1 = s2 = 1;
		ok &= CHECK_EQ(ring_find(a, seq, &s1), ring_find(m, seq, &s2));
		ok &= CHECK_EQ(s1, s2);
	}
	if (!ok)
		return 0;
	/* Every end mark between tail and head was passed to the check, in
	 * order, with its seq. */
	for (pos = tail, seq = ring_tail_seq(m); pos < head && ok;
	    pos += FRAME_HDR + len) {
		frame_get_header(ring_at(m, pos), &len, &control);
		if (!control) {
			seq++;
			continue;
		}
		ok &= CHECK(k < f->marks.n);
		if (ok) {
			ok &= CHECK_EQ(f->marks.pos[k], pos);
			ok &= CHECK_EQ(f->marks.seq[k], seq);
		}
		k++;
	}
	ok &= CHECK_EQ(f->marks.n, k);
	return ok;
}


/* The first page of dirfd's file name into hdr, and the file's size. */
static int
read_header(int dirfd, const char *name, unsigned char *hdr, uint64_t *size)
{
	struct stat sb;
	int fd, ok;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	ok = fstat(fd, &sb) == 0 &&
	    pread(fd, hdr, page_size(), 0) == (ssize_t)page_size();
	close(fd);
	if (!ok)
		return -1;
	*size = (uint64_t)sb.st_size;
	return 0;
}

/* Overwrite n bytes of the ring in the (closed) file from position pos,
 * wrapping at the ring's end as the ring does. */
static int
patch_ring(struct fix *f, uint64_t pos, const unsigned char *p, size_t n)
{
	size_t i;
	int fd, ok = 1;

	if ((fd = openat(f->dirfd, "st.ring", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	for (i = 0; i < n && ok; i++)
		ok = pwrite(fd, p + i, 1, (off_t)(page_size() +
		    (pos + i) % f->size)) == 1;
	close(fd);
	return ok ? 0 : -1;
}

/*
 * Frames through the spool, total bytes of them in all, with restarts
 * evenly between: after each, ring_adopt takes up exactly what was
 * appended, and appends go on from there after spool_adopted, as
 * restore() has it.
 */
static void
round_trip(size_t pages, uint64_t total, int restarts, uint32_t max_body,
    uint64_t seed)
{
	const struct spool_header *h;
	struct spool_header ph;
	unsigned char *hdr;
	size_t size = pages * page_size();
	uint64_t head, fsize;
	char why[256];
	struct fix f;
	int i;

	if (fix_new(&f, size, 1, seed) == -1)
		return;
	if (!CHECK((hdr = malloc(page_size())) != NULL))
		goto out;
	for (i = 1; i <= restarts; i++) {
		while (ring_head(f.mem) < total * (uint64_t)i /
		    (uint64_t)restarts)
			fix_chunk(&f, max_body);
		/* Without a boot id only the synced record counts: make it
		 * name everything, as a clean stop does. */
		if (spool_boot_id()[0] == '\0')
			CHECK_EQ(spool_sync(f.sp, f.r, 0), 0);
		head = fix_reopen(&f);
		if (!CHECK_EQ(head, ring_head(f.mem)) || !same_ring(&f))
			break;
		h = spool_start(f.sp);
		CHECK_EQ(h->same_boot, spool_boot_id()[0] != '\0');
		CHECK(pos_is(&h->pos, ring_tail(f.mem), ring_tail_seq(f.mem),
		    ring_head(f.mem), ring_head_seq(f.mem)));
		if (!CHECK_EQ(spool_adopted(f.sp, f.r, why, sizeof(why)), 0)) {
			printf("    (spool_adopted: %s)\n", why);
			break;
		}
		/* Both records name the ring now: a reboot takes it all. */
		if (!CHECK_EQ(read_header(f.dirfd, "st.ring", hdr, &fsize), 0))
			break;
		CHECK_EQ(fsize, page_size() + size);
		if (CHECK_EQ(spool_parse(hdr, page_size(), fsize, "", &ph, why,
		    sizeof(why)), 0))
			CHECK(pos_is(&ph.pos, ring_tail(f.mem),
			    ring_tail_seq(f.mem), ring_head(f.mem),
			    ring_head_seq(f.mem)));
		CHECK_EQ(ph.same_boot, 0);
		if (spool_boot_id()[0] != '\0' &&
		    CHECK_EQ(spool_parse(hdr, page_size(), fsize,
		    spool_boot_id(), &ph, why, sizeof(why)), 0))
			CHECK_EQ(ph.same_boot, 1);
	}
	CHECK(ring_head(f.mem) >= total);
	/* Going round, the synced record held the tail back. */
	CHECK(total < 2 * size || f.syncs > 0);
	free(hdr);
out:
	fix_free(&f);
}

static void
test_spool_round_trip(void)
{
	size_t page = page_size();

	round_trip(2, 0, 1, 100, 1);                /* no frames */
	round_trip(2, page, 1, 100, 2);             /* not wrapped */
	round_trip(2, 2 * page - 1, 1, 300, 3);     /* up to the end */
	round_trip(4, 4 * page, 2, 1000, 4);
}

static void
test_spool_round_trip_wrapped(void)
{
	size_t page = page_size();

	round_trip(2, 10 * page, 1, 300, 5);        /* five laps */
	round_trip(1, 8 * page, 8, 300, 6);         /* a restart a lap */
	round_trip(4, 24 * page, 3, 1000, 7);
	round_trip(1, 3 * page, 5, 8, 8);           /* many small frames */
	round_trip(2, 9 * page, 13, 600, 9);        /* restarts mid-lap */
}

/* A closed spool of pages pages that took total bytes of data frames and
 * end marks, then a data frame of len bytes, which f->last names. */
static int
torn_fixture(struct fix *f, size_t pages, uint64_t total, uint32_t len,
    uint64_t seed)
{
	if (fix_new(f, pages * page_size(), 0, seed) == -1)
		return -1;
	while (ring_head(f->mem) < total)
		fix_chunk(f, 300);
	fix_data(f, len);
	fix_close(f);
	return 0;
}

/*
 * A frame whose header in the file no longer fits before the recorded
 * head (a torn write, a damaged byte) ends the ring where it starts: it
 * and everything after it are dropped, what is before it is kept.
 */
static void
torn_at(size_t pages, uint64_t total, uint32_t len, uint32_t new_len,
    int control, uint64_t seed)
{
	unsigned char h[FRAME_HDR];
	uint64_t torn, head_seq;
	struct fix f;
	size_t calls;

	if (torn_fixture(&f, pages, total, len, seed) == -1)
		return;
	torn = f.last;
	head_seq = ring_head_seq(f.mem);
	frame_put_header(h, new_len, control);
	if (!CHECK_EQ(patch_ring(&f, torn, h, sizeof(h)), 0))
		goto out;
	CHECK_EQ(fix_reopen(&f), torn);
	CHECK(ring_is(f.r, ring_tail(f.mem), ring_tail_seq(f.mem), torn,
	    head_seq - 1));
	CHECK(memcmp(ring_at(f.r, ring_tail(f.mem)),
	    ring_at(f.mem, ring_tail(f.mem)), torn - ring_tail(f.mem)) == 0);
	/* A control frame over FRAME_CTL_MAX is refused unread; a shorter
	 * one is shown to the check, which refuses its body. */
	calls = f.marks.n + (control && new_len <= FRAME_CTL_MAX);
	CHECK_EQ(f.marks.calls, calls);
out:
	fix_free(&f);
}

static void
test_spool_torn(void)
{
	size_t page = page_size();

	/* One byte past head; then as far as a length goes. */
	torn_at(2, page, 100, 101, 0, 11);
	torn_at(2, page, 100, FRAME_LEN_MASK, 0, 12);
	/* The same in a ring that went round, the frame across the end
	 * maybe. */
	torn_at(1, 7 * page, 100, 101, 0, 13);
	torn_at(1, 5 * page, 100, FRAME_LEN_MASK, 0, 14);
	torn_at(2, 9 * page, 700, 701, 0, 15);
	/* A data frame that turned into a control frame: its body is no
	 * end mark, or it is longer than a control frame may be. */
	torn_at(2, 3 * page, 20, 20, 1, 16);
	torn_at(4, 3 * page, FRAME_CTL_MAX + 1, FRAME_CTL_MAX + 1, 1, 17);
}

/* The oldest frame torn: nothing is left, the ring is empty at tail. */
static void
test_spool_torn_tail(void)
{
	unsigned char h[FRAME_HDR];
	uint64_t tail;
	struct fix f;

	if (torn_fixture(&f, 1, 6 * page_size(), 50, 21) == -1)
		return;
	tail = ring_tail(f.mem);
	frame_put_header(h, (uint32_t)(ring_head(f.mem) - tail), 0);
	if (CHECK_EQ(patch_ring(&f, tail, h, sizeof(h)), 0)) {
		CHECK_EQ(fix_reopen(&f), tail);
		CHECK(ring_is(f.r, tail, ring_tail_seq(f.mem), tail,
		    ring_tail_seq(f.mem)));
		CHECK_EQ(f.marks.n, 0);
	}
	fix_free(&f);
}

/* Append an end mark with this body as it stands. */
static void
fix_mark(struct fix *f, const char *body)
{
	unsigned char buf[FRAME_HDR + 64];
	size_t n = strlen(body);

	frame_put_header(buf, (uint32_t)n, 1);
	memcpy(buf + FRAME_HDR, body, n);
	f->last = ring_head(f->mem);
	fix_append(f, buf, FRAME_HDR + n);
}

/*
 * A control frame the check refuses stops the walk at its start: the
 * frames before it are kept, it and those after it are not.
 */
static void
test_spool_rejected_mark(void)
{
	static const char *bad[] = { "EOS seq=7", "EOS seq=02", "EOS seq=2 ",
	    "EOS", "" };
	uint64_t mark, good;
	struct fix f;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (fix_new(&f, 2 * page_size(), 0, 30 + i) == -1)
			return;
		fix_data(&f, 10);
		fix_mark(&f, "EOS seq=1");
		good = f.last;
		fix_data(&f, 20);
		fix_mark(&f, bad[i]);      /* seq 2 here */
		mark = f.last;
		fix_data(&f, 30);
		fix_mark(&f, "EOS seq=3");
		fix_data(&f, 40);
		CHECK_EQ(fix_reopen(&f), mark);
		CHECK(ring_is(f.r, 0, 0, mark, 2));
		CHECK_EQ(f.marks.calls, 2);
		if (CHECK_EQ(f.marks.n, 1)) {
			CHECK_EQ(f.marks.pos[0], good);
			CHECK_EQ(f.marks.seq[0], 1);
		}
		fix_free(&f);
	}
}

/* Recorded positions that cannot hold give an empty ring at tail. */
static void
test_spool_adopt_bounds(void)
{
	struct marks m;
	struct fix f;
	size_t size = 2 * page_size();

	if (fix_new(&f, size, 0, 40) == -1)
		return;
	while (ring_head(f.mem) < size / 2)
		fix_chunk(&f, 100);
	memset(&m, 0, sizeof(m));
	CHECK_EQ(ring_adopt(f.r, 100, 5, 99, check_mark, &m), 100);
	CHECK(ring_is(f.r, 100, 5, 100, 5));
	CHECK_EQ(ring_adopt(f.r, 0, 0, size + 1, check_mark, &m), 0);
	CHECK(ring_is(f.r, 0, 0, 0, 0));
	/* Less than a header before head: no frame. */
	CHECK_EQ(ring_adopt(f.r, 0, 0, 3, check_mark, &m), 0);
	CHECK(ring_is(f.r, 0, 0, 0, 0));
	CHECK_EQ(m.calls, 0);
	/* The whole ring's worth is fine. */
	CHECK_EQ(ring_adopt(f.r, 0, 0, ring_head(f.mem), check_mark, &m),
	    ring_head(f.mem));
	CHECK_EQ(ring_head_seq(f.r), ring_head_seq(f.mem));
	fix_free(&f);
}

/*
 * A header to damage: as spool_create() writes it for a ring of one page,
 * then boot id "boot-a", a live record (gen 7) and a synced one (gen 3)
 * that differ.
 */
#define LIVE_POS    { 100, 2, 300, 10 }
#define SYNCED_POS  { 0, 0, 200, 8 }

struct hdr_fix {
	unsigned char *hdr;          /* a page */
	uint64_t fsize;
};

static int
hdr_new(struct hdr_fix *x)
{
	struct spool_pos live = LIVE_POS, synced = SYNCED_POS;
	char why[256];
	struct spool *sp;
	struct ring *r;
	struct tmp t;
	int ok;

	x->hdr = NULL;
	if (tmp_new(&t) == -1)
		return -1;
	sp = spool_create(t.dirfd, "parse", page_size(), EPOCH, 0600,
	    (gid_t)-1, &r, why, sizeof(why));
	ok = CHECK(sp != NULL);
	spool_close(sp);
	ring_free(r);
	if (ok)
		ok = CHECK((x->hdr = malloc(page_size())) != NULL) &&
		    CHECK_EQ(read_header(t.dirfd, "parse.ring", x->hdr,
		    &x->fsize), 0);
	tmp_free(&t);
	if (!ok) {
		free(x->hdr);
		return -1;
	}
	memset(x->hdr + OFF_BOOT, 0, BOOT_FIELD);
	memcpy(x->hdr + OFF_BOOT, "boot-a", 6);
	put_rec(x->hdr, OFF_LIVE, 1, 7, &live);
	put_rec(x->hdr, OFF_SYNCED, 1, 3, &synced);
	return 0;
}

static int
parses(const struct hdr_fix *x, const char *boot, struct spool_header *h)
{
	char why[256] = "";

	if (!CHECK_EQ(spool_parse(x->hdr, page_size(), x->fsize, boot, h, why,
	    sizeof(why)), 0)) {
		printf("    (%s)\n", why);
		return 0;
	}
	return 1;
}

/* spool_parse of len bytes of hdr fails with reason want. */
static int
refused(const unsigned char *hdr, size_t len, uint64_t fsize,
    const char *boot, const char *want)
{
	struct spool_header h;
	char why[256] = "";
	int ok;

	ok = CHECK_EQ(spool_parse(hdr, len, fsize, boot, &h, why,
	    sizeof(why)), -1);
	ok &= CHECK_STR(why, want);
	return ok;
}

static void
test_spool_parse_valid(void)
{
	struct spool_pos p;
	struct spool_header h;
	struct hdr_fix x;

	if (hdr_new(&x) == -1)
		return;
	CHECK_EQ(x.fsize, 2 * page_size());
	if (parses(&x, "boot-a", &h)) {
		CHECK_EQ(h.ring_size, page_size());
		CHECK_STR(h.epoch, EPOCH);
		CHECK_STR(h.name, "parse");
		CHECK_EQ(h.same_boot, 1);
		CHECK(pos_is(&h.pos, 100, 2, 300, 10));
	}
	/* Another boot, or none known: the synced record. */
	if (parses(&x, "boot-b", &h)) {
		CHECK_EQ(h.same_boot, 0);
		CHECK(pos_is(&h.pos, 0, 0, 200, 8));
	}
	if (parses(&x, "", &h)) {
		CHECK_EQ(h.same_boot, 0);
		CHECK(pos_is(&h.pos, 0, 0, 200, 8));
	}
	if (parses(&x, "boot-", &h))
		CHECK_EQ(h.same_boot, 0);
	/* A header that names no boot is never this one. */
	memset(x.hdr + OFF_BOOT, 0, BOOT_FIELD);
	if (parses(&x, "", &h))
		CHECK_EQ(h.same_boot, 0);
	/* A boot field without its NUL is not compared past its end. */
	memset(x.hdr + OFF_BOOT, 'a', BOOT_FIELD);
	if (parses(&x, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &h))
		CHECK_EQ(h.same_boot, 0);
	memcpy(x.hdr + OFF_BOOT, "boot-a", 7);

	/* Of two copies the valid one with the larger gen counts. */
	p = (struct spool_pos){ 300, 10, 400, 12 };
	put_rec(x.hdr, OFF_LIVE, 0, 8, &p);
	if (parses(&x, "boot-a", &h))
		CHECK(pos_is(&h.pos, 300, 10, 400, 12));
	x.hdr[OFF_LIVE + 20] ^= 1;          /* gen 8 torn */
	if (parses(&x, "boot-a", &h))
		CHECK(pos_is(&h.pos, 100, 2, 300, 10));
	put_rec(x.hdr, OFF_LIVE, 0, 0, &p); /* gen 0 is no record */
	if (parses(&x, "boot-a", &h))
		CHECK(pos_is(&h.pos, 100, 2, 300, 10));
	/* Both live copies damaged: on the same boot, the synced one. */
	x.hdr[OFF_LIVE + REC_LEN + 47] ^= 0x80;
	if (parses(&x, "boot-a", &h)) {
		CHECK_EQ(h.same_boot, 1);
		CHECK(pos_is(&h.pos, 0, 0, 200, 8));
	}
	/* The limits themselves are fine: all of the ring, a data frame
	 * every 4 bytes. */
	p = (struct spool_pos){ 5, 1, 5 + page_size(), 1 + page_size() / 4 };
	put_rec(x.hdr, OFF_LIVE, 1, 9, &p);
	if (parses(&x, "boot-a", &h))
		CHECK(pos_is(&h.pos, p.tail, p.tail_seq, p.head, p.head_seq));
	free(x.hdr);
}

static void
test_spool_parse_header(void)
{
	char want[128];
	unsigned char *b, *copy;
	struct spool_header h;
	struct hdr_fix x;
	size_t page = page_size();
	uint64_t fs;

	if (hdr_new(&x) == -1)
		return;
	b = x.hdr;
	fs = x.fsize;
	if (!CHECK((copy = malloc(page)) != NULL)) {
		free(b);
		return;
	}
#define FRESH() memcpy(copy, b, page)

	/* Truncated: nothing past len is read (ASan watches the copy). */
	FRESH();
	CHECK(refused(copy, 0, fs, "boot-a", "not a ring file"));
	CHECK(refused(copy, 383, fs, "boot-a", "not a ring file"));
	memcpy(copy + page - 383, b, 383);
	CHECK(refused(copy + page - 383, 383, fs, "boot-a",
	    "not a ring file"));
	CHECK(refused(copy + page - 16, 16, fs, "boot-a", "not a ring file"));
	/* The magic, to its NUL. */
	FRESH();
	copy[0] = 'S';
	CHECK(refused(copy, page, fs, "boot-a", "not a ring file"));
	FRESH();
	copy[15] = ' ';
	CHECK(refused(copy, page, fs, "boot-a", "not a ring file"));
	memset(copy, 0, page);
	CHECK(refused(copy, page, fs, "boot-a", "not a ring file"));
	/* The version, before the check: a later format may change it. */
	FRESH();
	le32(copy + OFF_VERSION, 2);
	CHECK(refused(copy, page, fs, "boot-a",
	    "format version 2; this sfd reads version 1"));
	FRESH();
	le32(copy + OFF_VERSION, 0);
	CHECK(refused(copy, page, fs, "boot-a",
	    "format version 0; this sfd reads version 1"));
	/* Any byte of the part written once, or the check itself. */
	FRESH();
	copy[OFF_NAME] ^= 0x20;
	CHECK(refused(copy, page, fs, "boot-a",
	    "damaged header (its check fails)"));
	FRESH();
	copy[OFF_RING] ^= 1;
	CHECK(refused(copy, page, fs, "boot-a",
	    "damaged header (its check fails)"));
	FRESH();
	copy[OFF_CHECK + 7] ^= 1;
	CHECK(refused(copy, page, fs, "boot-a",
	    "damaged header (its check fails)"));
	/* The header's length: one page. */
	FRESH();
	le32(copy + OFF_HDR_LEN, (uint32_t)(2 * page));
	reseal(copy);
	snprintf(want, sizeof(want), "header of %zu bytes, not one page (%zu)",
	    2 * page, page);
	CHECK(refused(copy, page, fs, "boot-a", want));
	FRESH();
	le32(copy + OFF_HDR_LEN, 384);
	reseal(copy);
	snprintf(want, sizeof(want), "header of 384 bytes, not one page (%zu)",
	    page);
	CHECK(refused(copy, page, fs, "boot-a", want));
	/* The ring's size: whole pages (and index blocks), not zero, not
	 * absurd. */
	FRESH();
	le64(copy + OFF_RING, 0);
	reseal(copy);
	CHECK(refused(copy, page, fs, "boot-a",
	    "damaged header (ring size 0)"));
	FRESH();
	le64(copy + OFF_RING, page + 1);
	reseal(copy);
	snprintf(want, sizeof(want), "damaged header (ring size %zu)",
	    page + 1);
	CHECK(refused(copy, page, fs, "boot-a", want));
	FRESH();
	le64(copy + OFF_RING, (uint64_t)1 << 62);
	reseal(copy);
	CHECK(refused(copy, page, fs, "boot-a",
	    "damaged header (ring size 4611686018427387904)"));
	FRESH();
	le64(copy + OFF_RING, UINT64_MAX);
	reseal(copy);
	CHECK(refused(copy, page, fs, "boot-a",
	    "damaged header (ring size 18446744073709551615)"));
	/* The file's size: header and ring, exactly. */
	FRESH();
	snprintf(want, sizeof(want), "the file is %zu bytes; its header "
	    "says %zu", 2 * page + 1, 2 * page);
	CHECK(refused(copy, page, fs + 1, "boot-a", want));
	snprintf(want, sizeof(want), "the file is %zu bytes; its header "
	    "says %zu", page, 2 * page);
	CHECK(refused(copy, page, page, "boot-a", want));
	snprintf(want, sizeof(want), "the file is 0 bytes; its header "
	    "says %zu", 2 * page);
	CHECK(refused(copy, page, 0, "boot-a", want));
	le64(copy + OFF_RING, 2 * page);
	reseal(copy);
	snprintf(want, sizeof(want), "the file is %zu bytes; its header "
	    "says %zu", 2 * page, 3 * page);
	CHECK(refused(copy, page, fs, "boot-a", want));
	/* The epoch: 16 lower-case hex digits. */
	FRESH();
	copy[OFF_EPOCH + 3] = 'g';
	reseal(copy);
	CHECK(refused(copy, page, fs, "boot-a", "damaged header (epoch)"));
	FRESH();
	copy[OFF_EPOCH] = 'A';
	reseal(copy);
	CHECK(refused(copy, page, fs, "boot-a", "damaged header (epoch)"));
	FRESH();
	copy[OFF_EPOCH + 15] = '\0';
	reseal(copy);
	CHECK(refused(copy, page, fs, "boot-a", "damaged header (epoch)"));
	/* The name: a valid stream name, NUL-terminated in its field. */
	FRESH();
	memset(copy + OFF_NAME, 0, NAME_FIELD);
	reseal(copy);
	CHECK(refused(copy, page, fs, "boot-a",
	    "damaged header (stream name)"));
	FRESH();
	memcpy(copy + OFF_NAME, "a/b", 3);
	reseal(copy);
	CHECK(refused(copy, page, fs, "boot-a",
	    "damaged header (stream name)"));
	FRESH();
	memset(copy + OFF_NAME, 'n', 65);       /* one over the limit */
	reseal(copy);
	CHECK(refused(copy, page, fs, "boot-a",
	    "damaged header (stream name)"));
	FRESH();
	memset(copy + OFF_NAME, 'n', NAME_FIELD);
	reseal(copy);
	CHECK(refused(copy, page, fs, "boot-a",
	    "damaged header (stream name)"));
	FRESH();
	memset(copy + OFF_NAME, 'n', 64);       /* the longest */
	reseal(copy);
	if (CHECK_EQ(spool_parse(copy, page, fs, "boot-a", &h, want,
	    sizeof(want)), 0))
		CHECK_EQ(strlen(h.name), 64);
#undef FRESH
	free(copy);
	free(b);
}

static void
test_spool_parse_records(void)
{
	static const struct {
		struct spool_pos pos;
		const char *what;
	} bad[] = {
		{ { 200, 0, 100, 0 }, "head before tail" },
		{ { 0, 0, 4097, 0 }, "more than the ring" },
		{ { 10, 0, 4107, 0 }, "more than the ring, from 10" },
		{ { 0, 5, 100, 4 }, "head_seq before tail_seq" },
		{ { 0, 0, 100, 26 }, "more data frames than fit" },
		{ { 0, 0, 3, 1 }, "a frame in 3 bytes" },
		{ { UINT64_MAX, 0, 0, 0 }, "tail past head by wrapping" },
		{ { 0, UINT64_MAX, 10, 0 }, "tail_seq past head_seq" },
		/* Positions and seqs count from the ring's creation and
		 * never wrap: none so near the end of their range that the
		 * next appends would, and no more data frames before a
		 * position than 4-byte frames fit. */
		{ { UINT64_MAX - 100, 0, UINT64_MAX - 100, 0 },
		    "positions about to wrap" },
		{ { (UINT64_MAX >> 1) + 1, 0, (UINT64_MAX >> 1) + 1, 0 },
		    "positions past half their range" },
		{ { 100, 26, 100, 26 }, "more data frames than bytes before" },
	};
	struct spool_pos ok = { 0, 0, 8, 2 }, p;
	struct spool_header h;
	struct hdr_fix x;
	size_t i;

	if (hdr_new(&x) == -1)
		return;
	if (!CHECK_EQ(page_size(), 4096)) {   /* the sizes above */
		free(x.hdr);
		return;
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* As the live record on the same boot, then as the synced
		 * one after a reboot. */
		put_rec(x.hdr, OFF_LIVE, 1, 7, &bad[i].pos);
		put_rec(x.hdr, OFF_SYNCED, 1, 3, &ok);
		if (!refused(x.hdr, page_size(), x.fsize, "boot-a",
		    "damaged position record"))
			printf("    (live: %s)\n", bad[i].what);
		put_rec(x.hdr, OFF_LIVE, 1, 7, &ok);
		put_rec(x.hdr, OFF_SYNCED, 1, 3, &bad[i].pos);
		if (!refused(x.hdr, page_size(), x.fsize, "other",
		    "damaged position record"))
			printf("    (synced: %s)\n", bad[i].what);
		/* Nor is a bad synced record looked at on the same boot, or
		 * a bad live one after a reboot. */
		CHECK(parses(&x, "boot-a", &h));
		put_rec(x.hdr, OFF_LIVE, 1, 7, &bad[i].pos);
		put_rec(x.hdr, OFF_SYNCED, 1, 3, &ok);
		CHECK(parses(&x, "other", &h));
	}
	/* The limits themselves are fine. */
	p = (struct spool_pos){ 100, 25, 100, 25 };
	put_rec(x.hdr, OFF_LIVE, 1, 7, &p);
	CHECK(parses(&x, "boot-a", &h));
	p = (struct spool_pos){ (UINT64_MAX >> 1) - 4096,
	    ((UINT64_MAX >> 1) - 4096) / 4, UINT64_MAX >> 1,
	    (UINT64_MAX >> 1) / 4 };
	put_rec(x.hdr, OFF_LIVE, 1, 7, &p);
	CHECK(parses(&x, "boot-a", &h));
	/* No valid record: neither copy of the pair that counts. */
	put_rec(x.hdr, OFF_LIVE, 1, 7, &ok);
	put_rec(x.hdr, OFF_SYNCED, 1, 3, &ok);
	x.hdr[OFF_SYNCED + REC_LEN + 8] ^= 1;
	CHECK(refused(x.hdr, page_size(), x.fsize, "other",
	    "no valid position record"));
	CHECK(refused(x.hdr, page_size(), x.fsize, "",
	    "no valid position record"));
	x.hdr[OFF_LIVE + REC_LEN] ^= 1;
	CHECK(refused(x.hdr, page_size(), x.fsize, "boot-a",
	    "no valid position record"));
	free(x.hdr);
}

/* Append n data frames of 64 bytes each, without syncing. */
static void
fix_frames64(struct fix *f, int n)
{
	unsigned char buf[64];
	uint64_t tail;

	while (n-- > 0) {
		put_data(f, buf, 64 - FRAME_HDR);
		tail = ring_tail(f->r);
		ring_make_room(f->r, sizeof(buf));
		if (ring_tail(f->r) != tail)
			spool_note(f->sp, f->r);
		ring_append(f->r, buf, sizeof(buf));
		spool_note(f->sp, f->r);
		ring_append(f->mem, buf, sizeof(buf));
	}
}

/* The synced record as the file has it: what a reboot would take. */
static int
synced_is(struct fix *f, uint64_t tail, uint64_t tail_seq, uint64_t head,
    uint64_t head_seq)
{
	struct spool_header h;
	unsigned char *hdr;
	uint64_t fsize;
	char why[256];
	int ok;

	if (!CHECK((hdr = malloc(page_size())) != NULL))
		return 0;
	ok = CHECK_EQ(read_header(f->dirfd, "st.ring", hdr, &fsize), 0) &&
	    CHECK_EQ(spool_parse(hdr, page_size(), fsize, "", &h, why,
	    sizeof(why)), 0) &&
	    pos_is(&h.pos, tail, tail_seq, head, head_seq);
	free(hdr);
	return ok;
}

/*
 * spool_sync names the frames from tail less the oldest, so that room
 * bytes (at least) may be appended before the ring overwrites what it
 * names; spool_must_sync says when that would happen.
 */
static void
test_spool_sync_room(void)
{
	size_t size = 2 * page_size(), full = size / 64;
	struct fix f;

	if (fix_new(&f, size, 0, 50) == -1)
		return;
	/* Not full: all of it, with room for what is left and more. */
	fix_frames64(&f, 10);
	CHECK(!spool_must_sync(f.sp, f.r, size - 640));
	CHECK(spool_must_sync(f.sp, f.r, size - 640 + 1));
	CHECK_EQ(spool_sync(f.sp, f.r, size / 4), 0);
	CHECK(synced_is(&f, 0, 0, 640, 10));
	CHECK(!spool_must_sync(f.sp, f.r, size - 640));
	CHECK(spool_must_sync(f.sp, f.r, size - 640 + 1));

	/* Full: the record from the start holds the tail. */
	fix_frames64(&f, (int)full - 10);
	CHECK(ring_is(f.r, 0, 0, size, full));
	CHECK(!spool_must_sync(f.sp, f.r, 0));
	CHECK(spool_must_sync(f.sp, f.r, 1));
	/* room on a frame boundary: exactly room. */
	CHECK_EQ(spool_sync(f.sp, f.r, size / 4), 0);
	CHECK(synced_is(&f, size / 4, full / 4, size, full));
	CHECK(!spool_must_sync(f.sp, f.r, size / 4));
	CHECK(spool_must_sync(f.sp, f.r, size / 4 + 1));
	/* Appending that much needs no sync; one byte more does. */
	fix_frames64(&f, (int)full / 4);
	CHECK(!spool_must_sync(f.sp, f.r, 0));
	CHECK(spool_must_sync(f.sp, f.r, 1));
	CHECK(synced_is(&f, size / 4, full / 4, size, full));
	CHECK(ring_is(f.r, size / 4, full / 4, size + size / 4,
	    full + full / 4));
	/* room inside a frame: up to the next boundary. */
	CHECK_EQ(spool_sync(f.sp, f.r, size / 4 - 48), 0);
	CHECK(synced_is(&f, size / 2, full / 2, size + size / 4,
	    full + full / 4));
	CHECK(!spool_must_sync(f.sp, f.r, size / 4 - 48));
	CHECK(!spool_must_sync(f.sp, f.r, size / 4));
	CHECK(spool_must_sync(f.sp, f.r, size / 4 + 1));
	/* room of more than the ring: none of the frames, all of it free. */
	CHECK_EQ(spool_sync(f.sp, f.r, 2 * size), 0);
	CHECK(synced_is(&f, size + size / 4, full + full / 4, size + size / 4,
	    full + full / 4));
	CHECK(!spool_must_sync(f.sp, f.r, size));
	CHECK(spool_must_sync(f.sp, f.r, size + 1));
	/* room 0: all of it, nothing may be appended. */
	CHECK_EQ(spool_sync(f.sp, f.r, 0), 0);
	CHECK(synced_is(&f, size / 4, full / 4, size + size / 4,
	    full + full / 4));
	CHECK(!spool_must_sync(f.sp, f.r, 0));
	CHECK(spool_must_sync(f.sp, f.r, 1));
	fix_free(&f);
}

/* The contents of dirfd's file name, up to cap - 1 bytes; "" if none. */
static void
read_small(int dirfd, const char *name, char *buf, size_t cap)
{
	ssize_t n = -1;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) != -1) {
		n = pread(fd, buf, cap - 1, 0);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
}

/*
 * The folder lock is flock(2), held by an open file description: a
 * second spool_lock, even from the same process, opens its own and is
 * refused, naming the holder.
 */
static void
test_spool_lock(void)
{
	char path[PATH_MAX + 16], why[256], want[64], buf[64];
	struct stat sb;
	struct tmp t;
	int fd, fd2;

	if (tmp_new(&t) == -1)
		return;
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	fd = spool_lock(t.dir, why, sizeof(why));
	if (!CHECK(fd >= 0)) {
		printf("    (%s)\n", why);
		goto out;
	}
	read_small(t.dirfd, "lock", buf, sizeof(buf));
	CHECK_STR(buf, want);
	snprintf(want, sizeof(want), "in use by another sfd (pid %ld)",
	    (long)getpid());
	why[0] = '\0';
	CHECK_EQ(fd2 = spool_lock(t.dir, why, sizeof(why)), -1);
	CHECK_STR(why, want);
	if (fd2 >= 0)
		close(fd2);
	/* The lock outlives the folder's descriptor. */
	close(fd);
	why[0] = '\0';
	CHECK_EQ(spool_lock(t.dir, why, sizeof(why)), -1);
	CHECK_STR(why, want);
	/* A holder that has not written its pid yet. */
	if (CHECK((fd = openat(t.dirfd, "lock", O_WRONLY | O_TRUNC |
	    O_CLOEXEC)) != -1))
		close(fd);
	why[0] = '\0';
	CHECK_EQ(spool_lock(t.dir, why, sizeof(why)), -1);
	CHECK_STR(why, "in use by another sfd");

	/* A stale pid, no lock held: taken over. */
	snprintf(path, sizeof(path), "%s/stale", t.dir);
	CHECK_EQ(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/stale/lock", t.dir);
	if (CHECK((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) !=
	    -1)) {
		CHECK_EQ(write(fd, "4194303999\n", 11), 11);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/stale", t.dir);
	fd = spool_lock(path, why, sizeof(why));
	if (CHECK(fd >= 0)) {
		read_small(fd, "lock", buf, sizeof(buf));
		snprintf(want, sizeof(want), "%ld\n", (long)getpid());
		CHECK_STR(buf, want);
		close(fd);
	}

	/* A missing folder is made, private; not so under a missing one. */
	snprintf(path, sizeof(path), "%s/new", t.dir);
	fd = spool_lock(path, why, sizeof(why));
	if (CHECK(fd >= 0)) {
		CHECK(fstat(fd, &sb) == 0 && (sb.st_mode & 07777) == 0700);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/none/new", t.dir);
	CHECK_EQ(spool_lock(path, why, sizeof(why)), -1);
	CHECK_STR(why, "cannot create it: No such file or directory");
out:
	tmp_free(&t);
}

/* spool_open(name) fails with reason want. */
static int
open_refused(struct fix *f, const char *name, size_t size, const char *want)
{
	char why[256] = "";
	struct spool *sp;
	struct ring *r = (struct ring *)1;
	int ok;

	sp = spool_open(f->dirfd, name, size, &r, why, sizeof(why));
	ok = CHECK(sp == NULL);
	ok &= CHECK(r == NULL);
	ok &= CHECK_STR(why, want);
	spool_close(sp);
	ring_free(sp != NULL ? r : NULL);
	return ok;
}

/* The file spool_create makes, and what spool_open refuses. */
static void
test_spool_open_refuses(void)
{
	size_t page = page_size(), size = 2 * page;
	char want[128];
	struct stat sb;
	struct fix f;
	int fd;

	if (fix_new(&f, size, 0, 60) == -1)
		return;
	fix_close(&f);
	if (CHECK(fstatat(f.dirfd, "st.ring", &sb, AT_SYMLINK_NOFOLLOW) ==
	    0)) {
		CHECK(S_ISREG(sb.st_mode));
		CHECK_EQ(sb.st_mode & 07777, 0600);
		CHECK_EQ(sb.st_size, page + size);
	}
	CHECK(fstatat(f.dirfd, "st.ring.new", &sb, 0) == -1 &&
	    errno == ENOENT);

	snprintf(want, sizeof(want), "it holds a ring of %zu bytes, not "
	    "--ring %zu", size, page);
	CHECK(open_refused(&f, "st", page, want));
	CHECK_EQ(renameat(f.dirfd, "st.ring", f.dirfd, "other.ring"), 0);
	CHECK(open_refused(&f, "other", size, "it holds stream st"));
	CHECK(open_refused(&f, "st", size, "No such file or directory"));
	CHECK_EQ(symlinkat("other.ring", f.dirfd, "st.ring"), 0);
	CHECK(open_refused(&f, "st", size,
	    "Too many levels of symbolic links"));
	CHECK_EQ(mkdirat(f.dirfd, "dir.ring", 0700), 0);
	CHECK(open_refused(&f, "dir", size, "Is a directory"));
	if (CHECK((fd = openat(f.dirfd, "small.ring", O_RDWR | O_CREAT |
	    O_CLOEXEC, 0600)) != -1)) {
		CHECK_EQ(ftruncate(fd, 100), 0);
		close(fd);
		CHECK(open_refused(&f, "small", size,
		    "not a ring file (100 bytes)"));
	}
	if (CHECK((fd = openat(f.dirfd, "zero.ring", O_RDWR | O_CREAT |
	    O_CLOEXEC, 0600)) != -1)) {
		CHECK_EQ(ftruncate(fd, (off_t)(page + size)), 0);
		close(fd);
		CHECK(open_refused(&f, "zero", size, "not a ring file"));
	}
	fix_free(&f);
}

void
suite_spool(void)
{
	RUN(test_spool_round_trip);
	RUN(test_spool_round_trip_wrapped);
	RUN(test_spool_torn);
	RUN(test_spool_torn_tail);
	RUN(test_spool_rejected_mark);
	RUN(test_spool_adopt_bounds);
	RUN(test_spool_parse_valid);
	RUN(test_spool_parse_header);
	RUN(test_spool_parse_records);
	RUN(test_spool_sync_room);
	RUN(test_spool_lock);
	RUN(test_spool_open_refuses);
}

/*
 * Unit tests for lib/ring.c.  Besides small hand-checked cases, a model
 * keeps every byte ever appended at its position and every frame's start,
 * and after each append the ring must hold exactly the newest frames that
 * fit, byte for byte, with ring_locate and ring_find agreeing with the
 * model.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include "frame.h"
#include "guard.h"
#include "ring.h"
#include "share.h"
#include "unit.h"

#define SENTINEL UINT64_C(0x5a5a5a5a5a5a5a5a)

static size_t
page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* After a failed check of call(arg): print the ring's bounds (lo..hi,
 * named what) to tell the case apart.  Returns ok. */
static int
explain(int ok, const char *call, uint64_t arg, const char *what,
    uint64_t lo, uint64_t hi)
{
	if (!ok)
		printf("    (%s(%" PRIu64 ") with %s %" PRIu64 "..%" PRIu64 ")\n",
		    call, arg, what, lo, hi);
	return ok;
}

/* Check ring_locate(pos) gives start and seq; 1 when it does. */
static int
locate_is(const struct ring *r, uint64_t pos, uint64_t start, uint64_t seq)
{
	uint64_t s = SENTINEL, q = SENTINEL;
	int ok;

	ok = CHECK_EQ(ring_locate(r, pos, &s, &q), 0);
	ok &= CHECK_EQ(s, start);
	ok &= CHECK_EQ(q, seq);
	return explain(ok, "ring_locate", pos, "positions", ring_tail(r),
	    ring_head(r));
}

/* Check ring_locate(pos) fails with ERANGE; 1 when it does. */
static int
locate_out(const struct ring *r, uint64_t pos)
{
	uint64_t s = SENTINEL, q = SENTINEL;
	int ok;

	errno = 0;
	ok = CHECK_EQ(ring_locate(r, pos, &s, &q), -1);
	ok &= CHECK_EQ(errno, ERANGE);
	return explain(ok, "ring_locate", pos, "positions", ring_tail(r),
	    ring_head(r));
}

/* Check ring_find(seq) gives pos; 1 when it does. */
static int
find_is(const struct ring *r, uint64_t seq, uint64_t pos)
{
	uint64_t p = SENTINEL;
	int ok;

	ok = CHECK_EQ(ring_find(r, seq, &p), 0);
	ok &= CHECK_EQ(p, pos);
	return explain(ok, "ring_find", seq, "seqs", ring_tail_seq(r),
	    ring_head_seq(r));
}

/* Check ring_find(seq) fails with ERANGE; 1 when it does. */
static int
find_out(const struct ring *r, uint64_t seq)
{
	uint64_t p = SENTINEL;
	int ok;

	errno = 0;
	ok = CHECK_EQ(ring_find(r, seq, &p), -1);
	ok &= CHECK_EQ(errno, ERANGE);
	return explain(ok, "ring_find", seq, "seqs", ring_tail_seq(r),
	    ring_head_seq(r));
}

static int
state_is(const struct ring *r, uint64_t tail, uint64_t head,
    uint64_t tail_seq, uint64_t head_seq)
{
	int ok;

	ok = CHECK_EQ(ring_tail(r), tail);
	ok &= CHECK_EQ(ring_head(r), head);
	ok &= CHECK_EQ(ring_tail_seq(r), tail_seq);
	ok &= CHECK_EQ(ring_head_seq(r), head_seq);
	return ok;
}

static void
test_ring_new(void)
{
	size_t page = page_size();
	struct ring *r;

	if (CHECK((r = ring_new(1)) != NULL)) {
		CHECK_EQ(ring_size(r), page);
		CHECK(state_is(r, 0, 0, 0, 0));
		ring_free(r);
	}
	if (CHECK((r = ring_new(page)) != NULL)) {
		CHECK_EQ(ring_size(r), page);
		ring_free(r);
	}
	if (CHECK((r = ring_new(page + 1)) != NULL)) {
		CHECK_EQ(ring_size(r), 2 * page);
		ring_free(r);
	}
	if (CHECK((r = ring_new(5 * page - 1)) != NULL)) {
		CHECK_EQ(ring_size(r), 5 * page);
		ring_free(r);
	}
	if (CHECK((r = ring_new(100000)) != NULL)) {
		CHECK_EQ(ring_size(r) % page, 0);
		CHECK(ring_size(r) >= 100000);
		CHECK(ring_size(r) < 100000 + page);
		ring_free(r);
	}
	errno = 0;
	CHECK(ring_new(0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(ring_new(SIZE_MAX) == NULL);
	CHECK_EQ(errno, EINVAL);
	ring_free(NULL);
}

/* Store a data frame with body s at p; returns its size. */
static size_t
put(unsigned char *p, const char *s)
{
	size_t n = strlen(s);

	frame_put_header(p, (uint32_t)n, 0);
	memcpy(p + 4, s, n);
	return 4 + n;
}

static void
test_ring_basic(void)
{
	unsigned char buf[64];
	struct ring *r;
	size_t n, a, b, c;

	if (!CHECK((r = ring_new(1)) != NULL))
		return;
	CHECK(locate_is(r, 0, 0, 0));
	CHECK(locate_out(r, 1));
	CHECK(find_is(r, 0, 0));
	CHECK(find_out(r, 1));

	n = put(buf, "hello");
	CHECK_EQ(ring_append(r, buf, n), 1);
	CHECK(state_is(r, 0, 9, 0, 1));
	CHECK(memcmp(ring_at(r, 0), "\0\0\0\5hello", 9) == 0);

	/* Three frames in one call, one of them empty. */
	a = put(buf, "ab");
	b = put(buf + a, "");
	c = put(buf + a + b, "xyz");
	CHECK_EQ(ring_append(r, buf, a + b + c), 3);
	CHECK(state_is(r, 0, 9 + 6 + 4 + 7, 0, 4));
	CHECK(memcmp(ring_at(r, 0), "\0\0\0\5hello\0\0\0\2ab\0\0\0\0"
	    "\0\0\0\3xyz", 26) == 0);
	CHECK(memcmp(ring_at(r, 15), "\0\0\0\0\0\0\0\3xyz", 11) == 0);

	/* Nothing appended: nothing changes. */
	CHECK_EQ(ring_append(r, buf, 0), 0);
	CHECK(state_is(r, 0, 26, 0, 4));

	CHECK(locate_is(r, 0, 0, 0));
	CHECK(locate_is(r, 3, 0, 0));
	CHECK(locate_is(r, 4, 0, 0));
	CHECK(locate_is(r, 8, 0, 0));
	CHECK(locate_is(r, 9, 9, 1));
	CHECK(locate_is(r, 14, 9, 1));
	CHECK(locate_is(r, 15, 15, 2));
	CHECK(locate_is(r, 18, 15, 2));
	CHECK(locate_is(r, 19, 19, 3));
	CHECK(locate_is(r, 25, 19, 3));
	CHECK(locate_is(r, 26, 26, 4));
	CHECK(locate_out(r, 27));
	CHECK(locate_out(r, UINT64_MAX));

	CHECK(find_is(r, 0, 0));
	CHECK(find_is(r, 1, 9));
	CHECK(find_is(r, 2, 15));
	CHECK(find_is(r, 3, 19));
	CHECK(find_is(r, 4, 26));
	CHECK(find_out(r, 5));
	CHECK(find_out(r, UINT64_MAX));
	ring_free(r);
}

/* One frame as big as the ring, then one more byte of data. */
static void
test_ring_full_frame(void)
{
	unsigned char *buf, small[8];
	struct ring *r;
	size_t size;

	if (!CHECK((r = ring_new(1)) != NULL))
		return;
	size = ring_size(r);
	if (!CHECK((buf = malloc(size)) != NULL)) {
		ring_free(r);
		return;
	}
	memset(buf, 'F', size);
	frame_put_header(buf, (uint32_t)(size - 4), 0);
	CHECK_EQ(ring_append(r, (const unsigned char *)"\0\0\0\1a", 5), 1);
	CHECK_EQ(ring_append(r, buf, size), 1);
	CHECK(state_is(r, 5, 5 + size, 1, 2));
	CHECK(memcmp(ring_at(r, 5), buf, size) == 0);
	CHECK(locate_out(r, 4));
	CHECK(locate_is(r, 5, 5, 1));
	CHECK(locate_is(r, 5 + size - 1, 5, 1));
	CHECK(locate_is(r, 5 + size, 5 + size, 2));

	CHECK_EQ(ring_append(r, small, put(small, "b")), 1);
	CHECK(state_is(r, 5 + size, 5 + size + 5, 2, 3));
	CHECK(memcmp(ring_at(r, 5 + size), "\0\0\0\1b", 5) == 0);
	CHECK(locate_out(r, 5 + size - 1));
	CHECK(find_out(r, 0));
	CHECK(find_out(r, 1));
	CHECK(find_is(r, 2, 5 + size));
	CHECK(find_is(r, 3, 5 + size + 5));
	CHECK(find_out(r, 4));
	free(buf);
	ring_free(r);
}

/* A frame header split across the end of the buffer. */
static void
test_ring_split_header(void)
{
	unsigned char *buf, f2[4 + 10], f3[4 + 3];
	struct ring *r;
	uint64_t size;

	if (!CHECK((r = ring_new(1)) != NULL))
		return;
	size = ring_size(r);
	if (!CHECK((buf = malloc(size)) != NULL)) {
		ring_free(r);
		return;
	}
	/* Frame 0 ends 2 bytes before the end of the buffer. */
	memset(buf, 'A', size - 2);
	frame_put_header(buf, (uint32_t)(size - 6), 0);
	frame_put_header(f2, 10, 0);
	memcpy(f2 + 4, "0123456789", 10);
	frame_put_header(f3, 3, 0);
	memcpy(f3 + 4, "xyz", 3);

	CHECK_EQ(ring_append(r, buf, size - 2), 1);
	CHECK_EQ(ring_append(r, f2, sizeof(f2)), 1);
	CHECK(state_is(r, size - 2, size + 12, 1, 2));
	CHECK(memcmp(ring_at(r, size - 2), f2, sizeof(f2)) == 0);
	/* The same bytes read from the second mapping's start. */
	CHECK(memcmp(ring_at(r, size), f2 + 2, sizeof(f2) - 2) == 0);
	CHECK(locate_is(r, size - 2, size - 2, 1));
	CHECK(locate_is(r, size, size - 2, 1));
	CHECK(locate_is(r, size + 11, size - 2, 1));
	CHECK(locate_is(r, size + 12, size + 12, 2));

	CHECK_EQ(ring_append(r, f3, sizeof(f3)), 1);
	CHECK(state_is(r, size - 2, size + 19, 1, 3));
	CHECK(locate_is(r, size + 12, size + 12, 2));
	CHECK(locate_is(r, size + 18, size + 12, 2));

	/* Dropping frame 1 reads its split header. */
	memset(buf, 'B', size);
	frame_put_header(buf, (uint32_t)(size - 4 - 7), 0);
	CHECK_EQ(ring_append(r, buf, size - 7), 1);
	CHECK(state_is(r, size + 12, 2 * size + 12, 2, 4));
	CHECK(memcmp(ring_at(r, size + 12), f3, sizeof(f3)) == 0);
	CHECK(memcmp(ring_at(r, size + 19), buf, size - 7) == 0);
	CHECK(locate_is(r, size + 19, size + 19, 3));
	CHECK(locate_is(r, 2 * size + 11, size + 19, 3));
	free(buf);
	ring_free(r);
}

/*
 * The model.  bytes[pos] is the byte appended at pos; starts[seq] the
 * start of frame seq, and starts[nframes] == head.
 */
struct model {
	struct ring *r;
	uint64_t size;
	unsigned char *bytes;
	size_t cap;
	uint64_t *starts;
	size_t maxframes;
	uint64_t nframes, head, tail_seq;
	uint64_t rng;
	uint64_t every;     /* a full check every so many appends; 0: per lap */
	uint64_t appends, wraps, splits, laps;
};

static int
model_new(struct model *m, size_t size, int laps, uint64_t seed)
{
	memset(m, 0, sizeof(*m));
	m->rng = seed;
	if (!CHECK((m->r = ring_new(size)) != NULL))
		return -1;
	m->size = ring_size(m->r);
	m->cap = (size_t)(laps + 2) * m->size;
	m->maxframes = m->cap / 4 + 2;
	m->bytes = malloc(m->cap);
	m->starts = malloc(m->maxframes * sizeof(*m->starts));
	if (!CHECK(m->bytes != NULL && m->starts != NULL)) {
		free(m->bytes);
		free(m->starts);
		ring_free(m->r);
		return -1;
	}
	m->starts[0] = 0;
	return 0;
}

static void
model_free(struct model *m)
{
	free(m->bytes);
	free(m->starts);
	ring_free(m->r);
}

static uint64_t
model_rand(struct model *m, uint64_t n)
{
	return unit_rand(&m->rng) % n;
}

/* Room for a chunk of len more bytes and n more frames? */
static int
model_room(const struct model *m, uint64_t len, uint64_t n)
{
	return m->head + len <= m->cap && m->nframes + n + 1 <= m->maxframes;
}

/*
 * Check the ring against the model.  Always: the bookkeeping, the whole
 * held run read at once from tail, the frames of the last chunk, the tail
 * frame, a few held frames at random, head and the positions and seqs just
 * outside.  When full, every position from tail to head, every seq, and
 * every frame's run up to head.
 */
static int
model_check(struct model *m, uint64_t first_new, int full)
{
	const struct ring *r = m->r;
	uint64_t tail, len, k, pos, i;

	while (m->head - m->starts[m->tail_seq] > m->size)
		m->tail_seq++;
	tail = m->starts[m->tail_seq];
	if (!state_is(r, tail, m->head, m->tail_seq, m->nframes))
		return 0;
	len = m->head - tail;
	if (tail % m->size + len > m->size)
		m->wraps++;
	if (!CHECK(memcmp(ring_at(r, tail), m->bytes + tail, len) == 0))
		return 0;

	if (!locate_is(r, m->head, m->head, m->nframes) ||
	    !locate_out(r, m->head + 1) || !locate_out(r, UINT64_MAX) ||
	    (tail > 0 && !locate_out(r, tail - 1)) ||
	    (tail > 0 && !locate_out(r, 0)))
		return 0;

	if (!find_is(r, m->nframes, m->head) ||
	    !find_out(r, m->nframes + 1) || !find_out(r, UINT64_MAX) ||
	    (m->tail_seq > 0 && !find_out(r, m->tail_seq - 1)) ||
	    (m->tail_seq > 0 && !find_out(r, 0)))
		return 0;

	/* A chunk is at most the ring's size: its frames are all held. */
	for (k = first_new; k < m->nframes; k++)
		if (!locate_is(r, m->starts[k], m->starts[k], k) ||
		    !locate_is(r, m->starts[k + 1] - 1, m->starts[k], k) ||
		    !find_is(r, k, m->starts[k]))
			return 0;
	if (m->tail_seq < m->nframes &&
	    (!locate_is(r, tail, tail, m->tail_seq) ||
	    !find_is(r, m->tail_seq, tail) ||
	    !locate_is(r, m->starts[m->tail_seq + 1] - 1, tail, m->tail_seq)))
		return 0;
	for (i = 0; i < 4 && m->tail_seq < m->nframes; i++) {
		k = m->tail_seq + model_rand(m, m->nframes - m->tail_seq);
		pos = m->starts[k] + model_rand(m, m->starts[k + 1] -
		    m->starts[k]);
		if (!locate_is(r, pos, m->starts[k], k) ||
		    !find_is(r, k, m->starts[k]) ||
		    !CHECK(memcmp(ring_at(r, pos), m->bytes + pos,
		    m->head - pos) == 0))
			return 0;
	}
	if (!full)
		return 1;

	for (k = m->tail_seq, pos = tail; pos < m->head; pos++) {
		while (pos >= m->starts[k + 1])
			k++;
		if (!locate_is(r, pos, m->starts[k], k))
			return 0;
	}
	for (k = m->tail_seq; k < m->nframes; k++)
		if (!find_is(r, k, m->starts[k]) ||
		    !CHECK(memcmp(ring_at(r, m->starts[k]),
		    m->bytes + m->starts[k], m->head - m->starts[k]) == 0))
			return 0;
	return 1;
}

/*
 * Append one chunk of n data frames with bodies of lens[i] random bytes,
 * and check.  Returns 1 when all is well.
 */
static int
model_append(struct model *m, const uint32_t *lens, size_t n, int full)
{
	uint64_t pos = m->head, first = m->nframes, got;
	size_t i, j;

	for (i = 0; i < n; i++) {
		m->starts[m->nframes + i] = pos;
		if (pos % m->size > m->size - 4)
			m->splits++;
		frame_put_header(m->bytes + pos, lens[i], 0);
		pos += 4;
		for (j = 0; j < lens[i]; j++)
			m->bytes[pos++] = (unsigned char)unit_rand(&m->rng);
	}
	got = ring_append(m->r, m->bytes + m->head, (size_t)(pos - m->head));
	if (!CHECK_EQ(got, n))
		return 0;
	m->nframes += n;
	m->starts[m->nframes] = pos;
	if (pos / m->size != m->head / m->size) {
		m->laps++;
		full = 1;
	}
	if (m->every != 0 && ++m->appends % m->every == 0)
		full = 1;
	m->head = pos;
	return model_check(m, first, full);
}

enum gen {
	GEN_SMALL,     /* one frame of 0..300 bytes per append */
	GEN_CHUNKS,    /* 1..8 such frames per append */
	GEN_MIXED      /* also frames over a block, whole-ring frames, and
	                  runs of empty frames */
};

#define MAXCHUNK 64

/*
 * Append random chunks until the ring has gone round laps times, with a
 * full check at each lap and every so many appends (0: only per lap).
 */
static void
model_run(size_t size, int laps, uint64_t seed, enum gen gen, int every)
{
	uint32_t lens[MAXCHUNK];
	uint64_t bytes, limit, lo;
	struct model m;
	size_t n, i;
	int pick;

	if (model_new(&m, size, laps, seed) == -1)
		return;
	m.every = (uint64_t)every;
	limit = (uint64_t)laps * m.size;
	while (m.head < limit) {
		n = 1;
		lens[0] = (uint32_t)model_rand(&m, 301);
		if (gen == GEN_CHUNKS) {
			n = 1 + (size_t)model_rand(&m, 8);
			for (i = 0; i < n; i++)
				lens[i] = (uint32_t)model_rand(&m, 301);
		} else if (gen == GEN_MIXED) {
			pick = (int)model_rand(&m, 100);
			if (pick < 10) {
				/* Over an index block, up to the whole ring. */
				lo = m.size - 4 < 4093 ? m.size - 4 : 4093;
				lens[0] = (uint32_t)(lo +
				    model_rand(&m, m.size - 4 - lo + 1));
			} else if (pick < 12) {
				lens[0] = (uint32_t)(m.size - 4);
			} else if (pick < 20) {
				/* A run of empty frames, as one chunk or not. */
				n = 1 + (size_t)model_rand(&m, MAXCHUNK);
				for (i = 0; i < n; i++)
					lens[i] = 0;
				if (pick < 15) {
					for (i = 0; i < n; i++)
						if (!model_room(&m, 4, 1) ||
						    !model_append(&m, lens, 1,
						    0))
							goto out;
					continue;
				}
			}
		}
		for (bytes = 0, i = 0; i < n; i++)
			bytes += 4 + lens[i];
		if (!model_room(&m, bytes, n))
			break;
		if (!model_append(&m, lens, n, 0))
			goto out;
	}
	/* The loop really went round, and reads did cross the end. */
	CHECK(m.laps >= (uint64_t)laps);
	CHECK(m.wraps > 0);
out:
	model_free(&m);
}

static void
test_ring_model_small(void)
{
	model_run(8192, 30, 1, GEN_SMALL, 0);
	model_run(4096, 20, 2, GEN_SMALL, 1);
}

static void
test_ring_model_chunks(void)
{
	model_run(8192, 30, 3, GEN_CHUNKS, 7);
	model_run(12288, 20, 4, GEN_CHUNKS, 0);
}

static void
test_ring_model_mixed(void)
{
	model_run(16384, 20, 5, GEN_MIXED, 0);
	model_run(4096, 40, 6, GEN_MIXED, 1);
	model_run(3 * 4096, 30, 7, GEN_MIXED, 5);
}

/*
 * Long runs of empty frames: more of them than fit in one index block, one
 * per call and then as one chunk the size of the ring.
 */
static void
test_ring_zero_runs(void)
{
	static uint32_t lens[8192 / 4];
	struct model m;
	size_t i;

	if (model_new(&m, 8192, 4, 8) == -1)
		return;
	if (!CHECK_EQ(m.size, 8192))
		goto out;
	for (i = 0; i < 2500; i++)
		if (!model_append(&m, lens, 1, i == 2499))
			goto out;
	if (!CHECK_EQ(ring_tail_seq(m.r), 2500 - 2048))
		goto out;
	lens[0] = 4000;
	if (!model_append(&m, lens, 1, 1))
		goto out;
	lens[0] = 0;
	if (!model_append(&m, lens, 8192 / 4, 1))
		goto out;
	CHECK_EQ(ring_tail_seq(m.r), 2501);
	CHECK_EQ(ring_head_seq(m.r), 2501 + 2048);
	lens[0] = 5000;
	lens[1] = 0;
	lens[2] = 3;
	model_append(&m, lens, 3, 1);
out:
	model_free(&m);
}

/* The positions of frame starts split across the buffer's end. */
static void
test_ring_model_splits(void)
{
	uint32_t len;
	struct model m;
	int i;

	if (model_new(&m, 4096, 40, 9) == -1)
		return;
	if (!CHECK_EQ(m.size, 4096))
		goto out;
	/* Frames of 4095 bytes start one byte earlier each lap. */
	for (i = 0; i < 40; i++) {
		len = 4091;
		if (!model_append(&m, &len, 1, 1))
			break;
	}
	CHECK_EQ(m.splits, 3);
out:
	model_free(&m);
}

/*
 * Control frames (an end-of-stream mark) ride in the ring without a
 * sequence number: data 0, data 1, EOS, data 2.  A reader from seq 2 on
 * starts at the mark, so a consumer resuming after frame 1 still sees it.
 */
static void
test_ring_control_frames(void)
{
	unsigned char buf[64];
	uint64_t pos, start, seq, eos_pos;
	struct ring *r;
	size_t n = 0;

	if (!CHECK((r = ring_new(4096)) != NULL))
		return;
	frame_put_header(buf + n, 1, 0); buf[n + 4] = 'a'; n += 5;
	frame_put_header(buf + n, 1, 0); buf[n + 4] = 'b'; n += 5;
	eos_pos = n;
	frame_put_header(buf + n, 3, 1); memcpy(buf + n + 4, "EOS", 3); n += 7;
	frame_put_header(buf + n, 1, 0); buf[n + 4] = 'c'; n += 5;
	CHECK_EQ(ring_append(r, buf, n), 3);
	CHECK_EQ(ring_head_seq(r), 3);

	CHECK(ring_find(r, 0, &pos) == 0 && pos == 0);
	CHECK(ring_find(r, 1, &pos) == 0 && pos == 5);
	CHECK(ring_find(r, 2, &pos) == 0 && pos == eos_pos);
	CHECK(ring_find(r, 3, &pos) == 0 && pos == n);
	/* Inside the mark: its seq is that of the data frame after it. */
	CHECK(ring_locate(r, eos_pos + 5, &start, &seq) == 0);
	CHECK_EQ(start, eos_pos);
	CHECK_EQ(seq, 2);
	CHECK(ring_align(r, eos_pos + 1, &start, &seq) == 0);
	CHECK_EQ(start, eos_pos + 7);
	CHECK_EQ(seq, 2);
	ring_free(r);
}

/*
 * A shared ring as a reader sees it: the head and tail sfd publishes, the
 * bytes through a read-only mapping, a copy the ring has passed told
 * apart, and descriptors nobody can write with.
 */
static void
test_ring_share(void)
{
	unsigned char buf[4096], copy[4096];
	struct share_view v;
	struct ring *r;
	int fds[2], again[2];
	size_t size, n;
	uint64_t i;

	if (!CHECK(guard_install() == 0) ||
	    !CHECK((r = ring_new(1)) != NULL))
		return;
	size = ring_size(r);
	n = put(buf, "hello");
	ring_append(r, buf, n);
	if (!CHECK(ring_share(r, fds) == 0)) {
		ring_free(r);
		return;
	}
	CHECK(ring_share(r, again) == 0);
	CHECK(again[0] == fds[0] && again[1] == fds[1]);
	if (!CHECK(share_map(&v, fds[0], fds[1]) == 0)) {
		ring_free(r);
		return;
	}
	CHECK_EQ(v.size, size);
	CHECK_EQ(share_head(&v), 9);
	CHECK(share_copy(&v, 0, copy, 9) == 1);
	CHECK(memcmp(copy, "\0\0\0\5hello", 9) == 0);
	/* Seen as it is appended, contiguous across the wrap. */
	n = put(buf, "world");
	ring_append(r, buf, n);
	CHECK_EQ(share_head(&v), 18);
	CHECK(share_copy(&v, 9, copy, 9) == 1);
	CHECK(memcmp(copy, "\0\0\0\5world", 9) == 0);
	memset(buf + FRAME_HDR, 'x', sizeof(buf) - FRAME_HDR);
	frame_put_header(buf, (uint32_t)(sizeof(buf) - FRAME_HDR), 0);
	for (i = 0; i < 2 * size / sizeof(buf); i++)
		ring_append(r, buf, sizeof(buf));
	CHECK_EQ(share_head(&v), ring_head(r));
	/* What the ring gave up may have changed: a copy of it is refused;
	 * the newest frame, across the end of the buffer, is whole. */
	CHECK(share_copy(&v, 0, copy, 9) == 0);
	CHECK(share_copy(&v, ring_tail(r) - 1, copy, 9) == 0);
	CHECK(share_copy(&v, ring_head(r) - sizeof(buf), copy,
	    sizeof(buf)) == 1);
	CHECK(memcmp(copy, buf, sizeof(buf)) == 0);
	/* Neither descriptor writes, maps writable or resizes. */
	for (i = 0; i < 2; i++) {
		errno = 0;
		CHECK(mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
		    MAP_SHARED, fds[i], 0) == MAP_FAILED && errno == EPERM);
		errno = 0;
		CHECK(pwrite(fds[i], "x", 1, 0) == -1 && errno == EPERM);
		errno = 0;
		CHECK(ftruncate(fds[i], 0) == -1 && errno == EPERM);
	}
	share_unmap(&v);
	ring_free(r);
}

void
suite_ring(void)
{
	RUN(test_ring_new);
	RUN(test_ring_basic);
	RUN(test_ring_full_frame);
	RUN(test_ring_split_header);
	RUN(test_ring_model_small);
	RUN(test_ring_model_chunks);
	RUN(test_ring_model_mixed);
	RUN(test_ring_zero_runs);
	RUN(test_ring_model_splits);
	RUN(test_ring_control_frames);
	RUN(test_ring_share);
}

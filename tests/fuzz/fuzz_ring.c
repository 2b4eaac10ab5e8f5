/*
 * The ring against a simple model: appends of whole frames of arbitrary
 * sizes, and ring_locate(), ring_align() and ring_find() at arbitrary
 * positions and sequence numbers.
 *
 * Input: one byte choosing the ring's size (1 to 4 index blocks, so the
 * sparse index wraps often), then operations, each a byte and its
 * arguments:
 *   op & 3 == 0  append (op >> 2 & 7) + 1 frames; each a 2-byte word:
 *                top bit control, the rest the body length
 *   op & 3 == 1  the same with bodies of at most 63 bytes
 *   op & 3 == 2  ring_locate() and ring_align() at a 2-byte offset from
 *                just before the tail to just past the head
 *   op & 3 == 3  ring_find() at a 2-byte offset from just before the
 *                oldest sequence number to just past the newest
 * The model keeps every frame's start, size, kind and sequence number;
 * bodies are a function of their position, so the ring's bytes can be
 * checked without keeping a copy.
 */
#include <errno.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"
#include "ring.h"

#define MAX_FRAMES 65536

struct mframe {
	uint64_t start;
	uint64_t seq;       /* data frames before this one */
	uint32_t len;       /* body */
	int data;
};

struct model {
	struct mframe *f;
	size_t n, first;    /* frames ever appended; oldest held */
	uint64_t head, head_seq, size;
};

static unsigned char
body_byte(uint64_t pos)
{
	return (unsigned char)(pos ^ pos >> 7 ^ pos >> 17);
}

static uint64_t
end_of(const struct mframe *f)
{
	return f->start + FRAME_HDR + f->len;
}

static uint64_t
tail_of(const struct model *m)
{
	return m->first < m->n ? m->f[m->first].start : m->head;
}

static uint64_t
tail_seq_of(const struct model *m)
{
	return m->first < m->n ? m->f[m->first].seq : m->head_seq;
}

/* The held frame holding pos (tail <= pos < head). */
static const struct mframe *
frame_at(const struct model *m, uint64_t pos)
{
	size_t lo = m->first, hi = m->n, mid;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (m->f[mid].start <= pos)
			lo = mid;
		else
			hi = mid;
	}
	FUZZ_CHECK(m->f[lo].start <= pos && pos < end_of(&m->f[lo]));
	return &m->f[lo];
}

static void
check_bounds(const struct ring *r, const struct model *m)
{
	FUZZ_CHECK(ring_head(r) == m->head);
	FUZZ_CHECK(ring_tail(r) == tail_of(m));
	FUZZ_CHECK(ring_head_seq(r) == m->head_seq);
	FUZZ_CHECK(ring_tail_seq(r) == tail_seq_of(m));
	FUZZ_CHECK(ring_head(r) - ring_tail(r) <= ring_size(r));
}

static void
check_locate(const struct ring *r, const struct model *m, uint64_t pos)
{
	uint64_t start = 1, seq = 1, astart = 1, aseq = 1;
	const struct mframe *f;
	int rc, arc;

	errno = 0;
	rc = ring_locate(r, pos, &start, &seq);
	arc = ring_align(r, pos, &astart, &aseq);
	if (pos < tail_of(m) || pos > m->head) {
		FUZZ_CHECK(rc == -1 && errno == ERANGE);
		FUZZ_CHECK(arc == -1);
		return;
	}
	FUZZ_CHECK(rc == 0 && arc == 0);
	if (pos == m->head) {
		FUZZ_CHECK(start == m->head && seq == m->head_seq);
		FUZZ_CHECK(astart == m->head && aseq == m->head_seq);
		return;
	}
	f = frame_at(m, pos);
	FUZZ_CHECK(start == f->start && seq == f->seq);
	if (pos == f->start) {
		FUZZ_CHECK(astart == f->start && aseq == f->seq);
	} else if (f + 1 < m->f + m->n) {
		FUZZ_CHECK(astart == f[1].start && aseq == f[1].seq);
	} else {
		FUZZ_CHECK(astart == m->head && aseq == m->head_seq);
	}
}

/* The held data frame numbered seq (tail_seq <= seq < head_seq). */
static const struct mframe *
data_frame(const struct model *m, uint64_t seq)
{
	size_t lo = m->first, hi = m->n, i;

	/* The first frame with that number; control frames before it
	 * share it. */
	while (lo < hi) {
		i = lo + (hi - lo) / 2;
		if (m->f[i].seq < seq)
			lo = i + 1;
		else
			hi = i;
	}
	for (i = lo; i < m->n && !m->f[i].data; i++)
		;
	FUZZ_CHECK(i < m->n && m->f[i].seq == seq);
	return &m->f[i];
}

/*
 * ring_find(seq) is where a reader of data frames from seq on starts: the
 * tail for tail_seq, else just after data frame seq - 1, so a control
 * frame between the two is part of what it reads.
 */
static void
check_find(const struct ring *r, const struct model *m, uint64_t seq)
{
	uint64_t pos = 1;
	int rc;

	errno = 0;
	rc = ring_find(r, seq, &pos);
	if (seq < tail_seq_of(m) || seq > m->head_seq) {
		FUZZ_CHECK(rc == -1 && errno == ERANGE);
		return;
	}
	FUZZ_CHECK(rc == 0);
	if (seq == tail_seq_of(m))
		FUZZ_CHECK(pos == tail_of(m));
	else
		FUZZ_CHECK(pos == end_of(data_frame(m, seq - 1)));
}

/* Everything the ring holds, byte for byte, and every lookup. */
static void
check_all(const struct ring *r, const struct model *m)
{
	const unsigned char *p = ring_at(r, tail_of(m));
	uint64_t pos, s;
	uint32_t len;
	size_t i;
	int control;

	check_bounds(r, m);
	for (i = m->first; i < m->n; i++) {
		const struct mframe *f = &m->f[i];

		FUZZ_CHECK(p == ring_at(r, tail_of(m)) + (f->start - tail_of(m)));
		frame_get_header(p, &len, &control);
		FUZZ_CHECK(len == f->len && control == !f->data);
		for (pos = f->start + FRAME_HDR; pos < end_of(f); pos++)
			FUZZ_CHECK(p[pos - f->start] == body_byte(pos));
		p += FRAME_HDR + f->len;
		check_locate(r, m, f->start);
		check_locate(r, m, end_of(f) - 1);
	}
	check_locate(r, m, m->head);
	for (s = tail_seq_of(m); s <= m->head_seq; s++)
		check_find(r, m, s);
}

static void
append(struct ring *r, struct model *m, struct fuzz_in *in, int count,
    uint32_t cap)
{
	unsigned char *buf;
	uint64_t used = 0, ndata = 0, pos;
	uint32_t w, len;
	size_t start = m->n;
	int i;

	if ((buf = malloc(m->size)) == NULL)
		return;
	for (i = 0; i < count && m->n < MAX_FRAMES; i++) {
		w = (uint32_t)fuzz_uint(in, 2);
		len = (w & 0x7fff) % cap;
		if (used + FRAME_HDR > m->size)
			break;
		if (used + FRAME_HDR + len > m->size)
			len = (uint32_t)(m->size - used - FRAME_HDR);
		frame_put_header(buf + used, len, (int)(w >> 15));
		for (pos = 0; pos < len; pos++)
			buf[used + FRAME_HDR + pos] =
			    body_byte(m->head + used + FRAME_HDR + pos);
		m->f[m->n].start = m->head + used;
		m->f[m->n].seq = m->head_seq + ndata;
		m->f[m->n].len = len;
		m->f[m->n].data = !(w >> 15);
		ndata += (uint64_t)m->f[m->n].data;
		used += FRAME_HDR + len;
		m->n++;
	}
	FUZZ_CHECK(ring_append(r, buf, (size_t)used) == ndata);
	free(buf);
	m->head += used;
	m->head_seq += ndata;
	/* The oldest frames go until the rest fit. */
	while (m->first < m->n && m->head - m->f[m->first].start > m->size)
		m->first++;
	check_bounds(r, m);
	/* The frames just appended and the new tail. */
	for (; start < m->n; start++)
		if (m->f[start].start >= tail_of(m))
			check_locate(r, m, m->f[start].start);
	check_locate(r, m, tail_of(m));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct model m = { 0 };
	struct ring *r;
	uint64_t span, v;
	uint8_t op;

	r = ring_new((size_t)((fuzz_byte(&in) & 3) + 1) * 4096);
	FUZZ_CHECK(r != NULL);
	m.size = ring_size(r);
	FUZZ_CHECK(m.size >= 4096 && m.size % 4096 == 0);
	m.f = calloc(MAX_FRAMES, sizeof(*m.f));
	FUZZ_CHECK(m.f != NULL);
	check_bounds(r, &m);

	while (in.left > 0) {
		op = fuzz_byte(&in);
		switch (op & 3) {
		case 0:
		case 1:
			append(r, &m, &in, (op >> 2 & 7) + 1,
			    (op & 3) == 0 ? 0x8000 : 64);
			break;
		case 2:
			span = m.head - tail_of(&m) + 3;
			v = fuzz_uint(&in, 2) % span;
			if (tail_of(&m) + v >= 1)
				check_locate(r, &m, tail_of(&m) + v - 1);
			break;
		case 3:
			span = m.head_seq - tail_seq_of(&m) + 3;
			v = fuzz_uint(&in, 2) % span;
			if (tail_seq_of(&m) + v >= 1)
				check_find(r, &m, tail_seq_of(&m) + v - 1);
			break;
		}
	}
	check_all(r, &m);
	ring_free(r);
	free(m.f);
	return 0;
}

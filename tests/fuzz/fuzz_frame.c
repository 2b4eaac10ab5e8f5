/*
 * frame_decode() on arbitrary bytes, in one piece and in arbitrary chunks.
 *
 * Input: one byte choosing max_data, four bytes of chunk sizes (used in
 * turn), then the byte stream.  The stream is decoded once whole and once
 * the way a reader sees it, a chunk at a time with a partial frame carried
 * over; both must find the same frames and stop at the same place, and
 * every result must agree with the header as the protocol defines it.
 */
#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "frame.h"
#include "fuzz.h"

struct rec {
	size_t off;         /* where the frame starts in the stream */
	uint32_t len;
	int control;
};

/* How a decode of the whole stream ended. */
struct result {
	struct rec *frames;
	size_t n;
	size_t end;          /* offset of the first byte not in a frame */
	int error;           /* stopped at a frame over its limit */
};

static uint32_t
pick_max(uint8_t b)
{
	static const uint32_t fixed[] = { 0, 1, 16, 255, FRAME_CTL_MAX,
	    65536, FRAME_LEN_MASK };

	if ((b & 7) < 7)
		return fixed[b & 7];
	return (uint32_t)(b >> 3) * 37;
}

/*
 * Check one frame_decode() result at buf[0..avail) against the header as
 * the protocol defines it.
 */
static void
check_decode(const unsigned char *buf, size_t avail, uint32_t max,
    ssize_t k, const struct frame *f, int err)
{
	uint32_t h, len;
	unsigned char hdr[FRAME_HDR];
	int control;

	if (avail < FRAME_HDR) {
		FUZZ_CHECK(k == 0);
		return;
	}
	h = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | buf[3];
	control = (h & FRAME_CONTROL) != 0;
	len = h & FRAME_LEN_MASK;
	if (len > (control ? FRAME_CTL_MAX : max)) {
		FUZZ_CHECK(k == -1);
		FUZZ_CHECK(err == EMSGSIZE);
		FUZZ_CHECK(f->len == len && f->control == control);
		return;
	}
	if (avail - FRAME_HDR < len) {
		FUZZ_CHECK(k == 0);
		return;
	}
	FUZZ_CHECK(k > 0);
	FUZZ_CHECK((size_t)k == FRAME_HDR + (size_t)f->len);
	FUZZ_CHECK(f->len == len && f->control == control);
	FUZZ_CHECK(f->data == buf + FRAME_HDR);
	FUZZ_CHECK(f->len <= (f->control ? FRAME_CTL_MAX : max));
	/* The header encodes back to the same four bytes. */
	frame_put_header(hdr, f->len, f->control);
	FUZZ_CHECK(memcmp(hdr, buf, FRAME_HDR) == 0);
}

/* Decode with a check of each step; returns the result code. */
static ssize_t
decode(const unsigned char *buf, size_t avail, uint32_t max, struct frame *f)
{
	ssize_t k;

	memset(f, 0, sizeof(*f));
	errno = 0;
	k = frame_decode(buf, avail, max, f);
	check_decode(buf, avail, max, k, f, errno);
	return k;
}

static void
whole(const unsigned char *s, size_t n, uint32_t max, struct result *r)
{
	struct frame f;
	size_t off = 0;
	ssize_t k;

	for (;;) {
		k = decode(s + off, n - off, max, &f);
		if (k <= 0) {
			r->error = k == -1;
			break;
		}
		r->frames[r->n].off = off;
		r->frames[r->n].len = f.len;
		r->frames[r->n].control = f.control;
		r->n++;
		off += (size_t)k;
	}
	r->end = off;
}

/*
 * Decode as a reader does: append a chunk, take the whole frames, keep the
 * rest.  The buffer is sized to exactly what it holds, so a read past it
 * is caught.
 */
static void
chunked(const unsigned char *s, size_t n, uint32_t max,
    const uint8_t sizes[4], struct result *r)
{
	unsigned char *buf = NULL, *nb;
	size_t have = 0, base = 0, fed = 0, c, i = 0;
	struct frame f;
	ssize_t k;

	while (fed < n && !r->error) {
		c = sizes[i++ % 4];
		if (c > n - fed)
			c = n - fed;
		nb = malloc(have + c + 1);   /* + 1: malloc(0) may be NULL */
		FUZZ_CHECK(nb != NULL);
		if (have > 0)
			memcpy(nb, buf, have);
		memcpy(nb + have, s + fed, c);
		free(buf);
		buf = nb;
		have += c;
		fed += c;
		for (;;) {
			k = decode(buf, have, max, &f);
			if (k == 0)
				break;
			if (k == -1) {
				r->error = 1;
				break;
			}
			FUZZ_CHECK(f.data == buf + FRAME_HDR);
			FUZZ_CHECK(memcmp(f.data, s + base + FRAME_HDR,
			    f.len) == 0);
			r->frames[r->n].off = base;
			r->frames[r->n].len = f.len;
			r->frames[r->n].control = f.control;
			r->n++;
			memmove(buf, buf + k, have - (size_t)k);
			have -= (size_t)k;
			base += (size_t)k;
		}
	}
	r->end = base;
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct result one = { 0 }, parts = { 0 };
	uint8_t sizes[4];
	uint32_t max;
	size_t i;

	max = pick_max(fuzz_byte(&in));
	for (i = 0; i < 4; i++)
		sizes[i] = fuzz_byte(&in);
	/* A chunk of 0 bytes is a read that brought nothing: allowed, but
	 * four in a row would never finish. */
	if ((sizes[0] | sizes[1] | sizes[2] | sizes[3]) == 0)
		sizes[0] = 1;

	one.frames = calloc(in.left / FRAME_HDR + 1, sizeof(*one.frames));
	parts.frames = calloc(in.left / FRAME_HDR + 1, sizeof(*parts.frames));
	FUZZ_CHECK(one.frames != NULL && parts.frames != NULL);

	whole(in.p, in.left, max, &one);
	chunked(in.p, in.left, max, sizes, &parts);

	FUZZ_CHECK(one.n == parts.n);
	FUZZ_CHECK(one.error == parts.error);
	FUZZ_CHECK(one.end == parts.end);
	for (i = 0; i < one.n; i++) {
		FUZZ_CHECK(one.frames[i].off == parts.frames[i].off);
		FUZZ_CHECK(one.frames[i].len == parts.frames[i].len);
		FUZZ_CHECK(one.frames[i].control == parts.frames[i].control);
		FUZZ_CHECK(i + 1 == one.n || one.frames[i + 1].off ==
		    one.frames[i].off + FRAME_HDR + one.frames[i].len);
	}
	free(one.frames);
	free(parts.frames);
	return 0;
}

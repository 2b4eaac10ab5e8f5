/* Unit tests for lib/frame.c: the header codec and frame_decode. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "frame.h"
#include "unit.h"

static void
test_header_bytes(void)
{
	unsigned char p[4];

	frame_put_header(p, 0, 0);
	CHECK(memcmp(p, "\x00\x00\x00\x00", 4) == 0);
	frame_put_header(p, 0, 1);
	CHECK(memcmp(p, "\x80\x00\x00\x00", 4) == 0);
	frame_put_header(p, 1, 0);
	CHECK(memcmp(p, "\x00\x00\x00\x01", 4) == 0);
	frame_put_header(p, 1, 1);
	CHECK(memcmp(p, "\x80\x00\x00\x01", 4) == 0);
	frame_put_header(p, 0x01020304, 0);
	CHECK(memcmp(p, "\x01\x02\x03\x04", 4) == 0);
	frame_put_header(p, 0x01020304, 1);
	CHECK(memcmp(p, "\x81\x02\x03\x04", 4) == 0);
	frame_put_header(p, FRAME_LEN_MASK, 0);
	CHECK(memcmp(p, "\x7f\xff\xff\xff", 4) == 0);
	frame_put_header(p, FRAME_LEN_MASK, 1);
	CHECK(memcmp(p, "\xff\xff\xff\xff", 4) == 0);
}

static void
test_header_roundtrip(void)
{
	static const uint32_t lens[] = {
		0, 1, 2, 127, 128, 255, 256, 4095, 4096, 4097, 65535, 65536,
		0x00ffffff, 0x01000000, 0x12345678, 0x7ffffffe, FRAME_LEN_MASK
	};
	unsigned char p[4];
	uint32_t len;
	size_t i;
	int control, c;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (c = 0; c <= 1; c++) {
			frame_put_header(p, lens[i], c);
			CHECK_EQ((p[0] & 0x80) != 0, c);
			len = 0xdeadbeef;
			control = -1;
			frame_get_header(p, &len, &control);
			CHECK_EQ(len, lens[i]);
			CHECK_EQ(control, c);
		}
	}
	/* Any non-zero control flag means a control frame. */
	frame_put_header(p, 7, 42);
	frame_get_header(p, &len, &control);
	CHECK_EQ(len, 7);
	CHECK_EQ(control, 1);
}

static void
test_decode_complete(void)
{
	unsigned char buf[16];
	struct frame f;

	frame_put_header(buf, 5, 0);
	memcpy(buf + 4, "hello", 5);
	memset(buf + 9, 'X', sizeof(buf) - 9);   /* the next frame's bytes */
	memset(&f, 0, sizeof(f));
	CHECK_EQ(frame_decode(buf, sizeof(buf), 100, &f), 9);
	CHECK_EQ(f.len, 5);
	CHECK_EQ(f.control, 0);
	CHECK(f.data == buf + 4);

	/* Exactly the frame, nothing more. */
	memset(&f, 0, sizeof(f));
	CHECK_EQ(frame_decode(buf, 9, 5, &f), 9);
	CHECK(f.data == buf + 4);

	/* An empty body is complete with the header alone. */
	frame_put_header(buf, 0, 0);
	memset(&f, 0xff, sizeof(f));
	CHECK_EQ(frame_decode(buf, 4, 100, &f), 4);
	CHECK_EQ(f.len, 0);
	CHECK_EQ(f.control, 0);
	CHECK(f.data == buf + 4);

	frame_put_header(buf, 3, 1);
	memcpy(buf + 4, "BYE", 3);
	CHECK_EQ(frame_decode(buf, 7, 0, &f), 7);
	CHECK_EQ(f.len, 3);
	CHECK_EQ(f.control, 1);
	CHECK(f.data == buf + 4);
}

static void
test_decode_incomplete(void)
{
	unsigned char buf[4 + 300];
	struct frame f;
	size_t n;

	frame_put_header(buf, 300, 0);
	memset(buf + 4, 'a', 300);
	for (n = 0; n < sizeof(buf); n++)
		CHECK_EQ(frame_decode(buf, n, 1000, &f), 0);
	CHECK_EQ(frame_decode(buf, sizeof(buf), 1000, &f), sizeof(buf));

	frame_put_header(buf, 2, 1);
	for (n = 0; n < 6; n++)
		CHECK_EQ(frame_decode(buf, n, 0, &f), 0);
	CHECK_EQ(frame_decode(buf, 6, 0, &f), 6);
}

static void
test_decode_limits(void)
{
	unsigned char buf[4 + FRAME_CTL_MAX];
	struct frame f;

	memset(buf, 'z', sizeof(buf));

	/* A data body of exactly max_data is fine... */
	frame_put_header(buf, 100, 0);
	CHECK_EQ(frame_decode(buf, 4, 100, &f), 0);
	CHECK_EQ(frame_decode(buf, 104, 100, &f), 104);

	/* ...one more fails on the header alone, before any body. */
	frame_put_header(buf, 101, 0);
	memset(&f, 0, sizeof(f));
	errno = 0;
	CHECK_EQ(frame_decode(buf, 4, 100, &f), -1);
	CHECK_EQ(errno, EMSGSIZE);
	CHECK_EQ(f.len, 101);
	CHECK_EQ(f.control, 0);

	/* The largest length the header can carry. */
	frame_put_header(buf, FRAME_LEN_MASK, 0);
	errno = 0;
	CHECK_EQ(frame_decode(buf, 4, 1u << 20, &f), -1);
	CHECK_EQ(errno, EMSGSIZE);
	CHECK_EQ(f.len, FRAME_LEN_MASK);
	CHECK_EQ(f.control, 0);
	CHECK_EQ(frame_decode(buf, 4, UINT32_MAX, &f), 0);

	/* max_data 0 allows only empty data frames. */
	frame_put_header(buf, 0, 0);
	CHECK_EQ(frame_decode(buf, 4, 0, &f), 4);
	frame_put_header(buf, 1, 0);
	errno = 0;
	CHECK_EQ(frame_decode(buf, 4, 0, &f), -1);
	CHECK_EQ(errno, EMSGSIZE);

	/* Control bodies are limited by FRAME_CTL_MAX, not max_data. */
	frame_put_header(buf, FRAME_CTL_MAX, 1);
	CHECK_EQ(frame_decode(buf, 4, 10, &f), 0);
	CHECK_EQ(frame_decode(buf, sizeof(buf), 10, &f), sizeof(buf));
	CHECK_EQ(f.len, FRAME_CTL_MAX);
	CHECK_EQ(f.control, 1);

	frame_put_header(buf, FRAME_CTL_MAX + 1, 1);
	memset(&f, 0, sizeof(f));
	errno = 0;
	CHECK_EQ(frame_decode(buf, 4, UINT32_MAX, &f), -1);
	CHECK_EQ(errno, EMSGSIZE);
	CHECK_EQ(f.len, FRAME_CTL_MAX + 1);
	CHECK_EQ(f.control, 1);

	frame_put_header(buf, FRAME_LEN_MASK, 1);
	errno = 0;
	CHECK_EQ(frame_decode(buf, 4, UINT32_MAX, &f), -1);
	CHECK_EQ(errno, EMSGSIZE);
	CHECK_EQ(f.len, FRAME_LEN_MASK);
	CHECK_EQ(f.control, 1);
}

/* The frames of the chunking test, back to back in one buffer. */
struct spec {
	uint32_t len;
	int control;
};

static const struct spec specs[] = {
	{ 0, 0 }, { 1, 0 }, { 3, 1 }, { 0, 1 }, { 300, 0 }, { 5000, 0 },
	{ 2, 0 }, { 0, 0 }, { 0, 0 }, { 4096, 1 }, { 17, 0 }, { 1, 1 },
	{ 65536, 0 }, { 4, 0 }, { 0, 0 },
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))
#define MAX_DATA 65536u

/* Body byte i of frame k: differs between frames and along a body. */
static unsigned char
body_byte(size_t k, size_t i)
{
	return (unsigned char)(k * 37 + i * 11 + (i >> 8));
}

static size_t
build(unsigned char *buf, size_t *starts)
{
	size_t k, i, off = 0;

	for (k = 0; k < NSPECS; k++) {
		starts[k] = off;
		frame_put_header(buf + off, specs[k].len, specs[k].control);
		off += 4;
		for (i = 0; i < specs[k].len; i++)
			buf[off++] = body_byte(k, i);
	}
	return off;
}

/*
 * Feed the wire bytes to a reader in the chunks the generator picks
 * (mode 0: all at once, else random sizes from 1 to mode; mode 1 is byte by
 * byte), decoding every
 * complete frame after each chunk.  Every frame must come out exactly once,
 * in order, with the right body.  Returns 1 when all did.
 */
static int
feed(const unsigned char *wire, size_t total, const size_t *starts,
    size_t mode, uint64_t seed)
{
	static unsigned char acc[1 << 17];
	size_t have = 0, off = 0, k = 0, chunk, i;
	struct frame f;
	ssize_t n;
	int ok = 1;

	while (have < total) {
		chunk = mode == 0 ? total : 1 + unit_rand(&seed) % mode;
		if (chunk > total - have)
			chunk = total - have;
		memcpy(acc + have, wire + have, chunk);
		have += chunk;
		while ((n = frame_decode(acc + off, have - off, MAX_DATA,
		    &f)) > 0) {
			if (!CHECK(k < NSPECS))
				return 0;
			ok &= CHECK_EQ(off, starts[k]);
			ok &= CHECK_EQ(n, 4 + specs[k].len);
			ok &= CHECK_EQ(f.len, specs[k].len);
			ok &= CHECK_EQ(f.control, specs[k].control);
			ok &= CHECK(f.data == acc + off + 4);
			for (i = 0; i < f.len; i++)
				if (f.data[i] != body_byte(k, i))
					break;
			ok &= CHECK_EQ(i, f.len);
			if (!ok)
				return 0;
			off += (size_t)n;
			k++;
		}
		if (!CHECK_EQ(n, 0))
			return 0;
		/* Nothing is decoded before its last byte has arrived. */
		if (k < NSPECS && !CHECK(have < starts[k] + 4 + specs[k].len))
			return 0;
	}
	ok &= CHECK_EQ(k, NSPECS);
	ok &= CHECK_EQ(off, total);
	return ok;
}

static void
test_decode_chunking(void)
{
	static unsigned char wire[1 << 17];
	static const size_t modes[] = { 2, 3, 5, 7, 64, 1000, 10000, 100000 };
	size_t starts[NSPECS], total, m;
	uint64_t seed;

	total = build(wire, starts);
	if (!CHECK(total < sizeof(wire)))
		return;
	if (!feed(wire, total, starts, 0, 1) ||
	    !feed(wire, total, starts, 1, 1))
		return;
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		for (seed = 1; seed <= 8; seed++)
			if (!feed(wire, total, starts, modes[m],
			    seed * 0x9e3779b97f4a7c15u))
				return;
}

void
suite_frame(void)
{
	RUN(test_header_bytes);
	RUN(test_header_roundtrip);
	RUN(test_decode_complete);
	RUN(test_decode_incomplete);
	RUN(test_decode_limits);
	RUN(test_decode_chunking);
}

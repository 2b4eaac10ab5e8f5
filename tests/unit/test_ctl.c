/*
 * Unit tests for lib/ctl.c (control lines and frames) and
 * lib/proto.c (stream names).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "frame.h"
#include "proto.h"
#include "unit.h"

static int
parse(struct ctl *c, const char *s)
{
	return ctl_parse(c, (const unsigned char *)s, strlen(s));
}

static void
test_parse_sub(void)
{
	static struct ctl c;

	if (!CHECK_EQ(parse(&c, "SUB 1 stream=tweets"), 0))
		return;
	CHECK_STR(c.verb, "SUB");
	if (!CHECK_EQ(c.nargs, 2))
		return;
	CHECK(c.args[0].key == NULL);
	CHECK_STR(c.args[0].val, "1");
	CHECK_STR(c.args[1].key, "stream");
	CHECK_STR(c.args[1].val, "tweets");
	CHECK_STR(ctl_get(&c, "stream"), "tweets");
	CHECK_STR(ctl_get(&c, "missing"), NULL);
	CHECK_STR(ctl_get(&c, "1"), NULL);        /* positional, not a key */
	CHECK_STR(ctl_get(&c, "tweets"), NULL);   /* a value, not a key */
	CHECK_STR(ctl_get(&c, "strea"), NULL);
	CHECK_STR(ctl_get(&c, "streams"), NULL);
	CHECK_STR(ctl_positional(&c, 0), "1");
	CHECK_STR(ctl_positional(&c, 1), NULL);
	CHECK_STR(ctl_positional(&c, -1), NULL);
}

static void
test_parse_verb_only(void)
{
	static struct ctl c;

	if (!CHECK_EQ(parse(&c, "BYE"), 0))
		return;
	CHECK_STR(c.verb, "BYE");
	CHECK_EQ(c.nargs, 0);
	CHECK_STR(ctl_positional(&c, 0), NULL);
	CHECK_STR(ctl_get(&c, "BYE"), NULL);

	CHECK_EQ(parse(&c, "A"), 0);
	CHECK_STR(c.verb, "A");
}

static void
test_parse_positional(void)
{
	static struct ctl c;

	if (!CHECK_EQ(parse(&c, "ERR a k=v b c=d e 7"), 0))
		return;
	CHECK_STR(c.verb, "ERR");
	CHECK_EQ(c.nargs, 6);
	CHECK_STR(ctl_positional(&c, 0), "a");
	CHECK_STR(ctl_positional(&c, 1), "b");
	CHECK_STR(ctl_positional(&c, 2), "e");
	CHECK_STR(ctl_positional(&c, 3), "7");
	CHECK_STR(ctl_positional(&c, 4), NULL);
	CHECK_STR(ctl_get(&c, "k"), "v");
	CHECK_STR(ctl_get(&c, "c"), "d");
	CHECK_STR(ctl_get(&c, "a"), NULL);
}

static void
test_parse_value_with_eq(void)
{
	static struct ctl c;

	if (!CHECK_EQ(parse(&c, "SET a=b=c x==y"), 0))
		return;
	CHECK_EQ(c.nargs, 2);
	CHECK_STR(c.args[0].key, "a");
	CHECK_STR(c.args[0].val, "b=c");
	CHECK_STR(ctl_get(&c, "a"), "b=c");
	CHECK_STR(ctl_get(&c, "x"), "=y");
	CHECK_STR(ctl_get(&c, "b"), NULL);
}

/* The words live in c, not in the caller's body. */
static void
test_parse_copies(void)
{
	static struct ctl c;
	char body[] = "PUB 1 stream=x";

	if (!CHECK_EQ(parse(&c, body), 0))
		return;
	memset(body, 'Q', strlen(body));
	CHECK_STR(c.verb, "PUB");
	CHECK_STR(ctl_positional(&c, 0), "1");
	CHECK_STR(ctl_get(&c, "stream"), "x");

	/* A second parse forgets the first. */
	CHECK_EQ(parse(&c, "OK"), 0);
	CHECK_STR(c.verb, "OK");
	CHECK_EQ(c.nargs, 0);
	CHECK_STR(ctl_get(&c, "stream"), NULL);

	/* Only len bytes count: a NUL-less body is fine. */
	CHECK_EQ(ctl_parse(&c, (const unsigned char *)"SUB 2xyz", 5), 0);
	CHECK_STR(c.verb, "SUB");
	CHECK_STR(ctl_positional(&c, 0), "2");
}

static void
test_parse_rejects(void)
{
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {
#define B(s) { s, sizeof(s) - 1 }
		B(""), B(" "), B("  "), B(" SUB"), B("SUB "), B("SUB  1"),
		B("SUB 1 "), B(" SUB 1"), B("SUB 1  stream=x"),
		B("sub 1"), B("Sub 1"), B("sUB"), B("SUB1"), B("1SUB"),
		B("SU-B"), B("SU_B"), B("=x"), B("SUB =x"), B("SUB 1 =x"),
		B("SUB ="), B("SUB\t1"), B("SUB 1\n"), B("SUB\r\n"), B("\n"),
		B("SUB \x01"), B("SUB \x1f"), B("SUB \x7f"), B("\x7f"),
		B("SUB a\x80"), B("SUB \xc3\xa9"), B("SUB \xff"),
		B("SUB \0"), B("SUB a\0b"), B("\0"), B("SUB 1\0"),
#undef B
	};
	static struct ctl c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		if (!CHECK_EQ(ctl_parse(&c, (const unsigned char *)bad[i].s,
		    bad[i].len), -1) || !CHECK_EQ(errno, EINVAL))
			printf("    (bad[%zu], %zu bytes)\n", i, bad[i].len);
	}
}

static void
test_parse_max_args(void)
{
	static struct ctl c;
	char line[512], want[16], key[16];
	size_t n;
	int i;

	n = (size_t)snprintf(line, sizeof(line), "PUB");
	for (i = 0; i < CTL_MAX_ARGS; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n,
		    i % 2 ? " k%d=v%d" : " p%d", i, i);
	if (!CHECK_EQ(parse(&c, line), 0))
		return;
	CHECK_EQ(c.nargs, CTL_MAX_ARGS);
	CHECK_STR(ctl_positional(&c, 0), "p0");
	snprintf(want, sizeof(want), "p%d", CTL_MAX_ARGS - 2);
	CHECK_STR(ctl_positional(&c, CTL_MAX_ARGS / 2 - 1), want);
	CHECK_STR(ctl_get(&c, "k1"), "v1");
	snprintf(want, sizeof(want), "v%d", CTL_MAX_ARGS - 1);
	snprintf(key, sizeof(key), "k%d", CTL_MAX_ARGS - 1);
	CHECK_STR(ctl_get(&c, key), want);

	/* One word more is too many, positional or key=value. */
	snprintf(line + n, sizeof(line) - n, " x");
	errno = 0;
	CHECK_EQ(parse(&c, line), -1);
	CHECK_EQ(errno, EINVAL);
	snprintf(line + n, sizeof(line) - n, " x=y");
	errno = 0;
	CHECK_EQ(parse(&c, line), -1);
	CHECK_EQ(errno, EINVAL);
}

static void
test_parse_length(void)
{
	static unsigned char body[FRAME_CTL_MAX + 2];
	static struct ctl c;

	memcpy(body, "SUB ", 4);
	memset(body + 4, 'x', sizeof(body) - 4);
	if (!CHECK_EQ(ctl_parse(&c, body, FRAME_CTL_MAX), 0))
		return;
	CHECK_STR(c.verb, "SUB");
	if (CHECK(ctl_positional(&c, 0) != NULL))
		CHECK_EQ(strlen(ctl_positional(&c, 0)), FRAME_CTL_MAX - 4);

	errno = 0;
	CHECK_EQ(ctl_parse(&c, body, FRAME_CTL_MAX + 1), -1);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK_EQ(ctl_parse(&c, body, FRAME_CTL_MAX + 2), -1);
	CHECK_EQ(errno, EINVAL);
}

static void
test_frame_encode(void)
{
	static const char line[] = "SUB 1 stream=tweets";
	static struct ctl c;
	unsigned char out[64];
	struct frame f;
	uint32_t len;
	int n, control;

	memset(out, 0xee, sizeof(out));
	n = ctl_frame(out, sizeof(out), "SUB %d stream=%s", 1, "tweets");
	if (!CHECK_EQ(n, 4 + strlen(line)))
		return;
	CHECK(memcmp(out, "\x80\x00\x00\x13", 4) == 0);
	CHECK(memcmp(out + 4, line, strlen(line)) == 0);
	frame_get_header(out, &len, &control);
	CHECK_EQ(len, strlen(line));
	CHECK_EQ(control, 1);

	/* It decodes as a control frame and parses back. */
	CHECK_EQ(frame_decode(out, (size_t)n, 0, &f), n);
	CHECK_EQ(f.control, 1);
	CHECK_EQ(ctl_parse(&c, f.data, f.len), 0);
	CHECK_STR(c.verb, "SUB");
	CHECK_STR(ctl_get(&c, "stream"), "tweets");

	n = ctl_frame(out, sizeof(out), "OK");
	CHECK_EQ(n, 6);
	CHECK(memcmp(out, "\x80\x00\x00\x02OK", 6) == 0);
}

static void
test_frame_too_small(void)
{
	unsigned char out[64];
	size_t cap;

	/* "BYE evicted" is 11 bytes: the frame needs 15. */
	for (cap = 0; cap < 15; cap++) {
		memset(out, 0xee, sizeof(out));
		errno = 0;
		CHECK_EQ(ctl_frame(out, cap, "BYE %s", "evicted"), -1);
		CHECK_EQ(errno, EMSGSIZE);
		/* Nothing written past cap. */
		CHECK_EQ(out[cap], 0xee);
	}
	CHECK_EQ(ctl_frame(out, 16, "BYE %s", "evicted"), 15);
	CHECK(memcmp(out, "\x80\x00\x00\x0b" "BYE evicted", 15) == 0);
}

/*
 * The contract: EMSGSIZE "when it does not fit in cap".  A frame of
 * exactly cap bytes fits.
 */
static void
test_frame_exact_fit(void)
{
	unsigned char out[15 + 1];

	out[15] = 0xee;
	errno = 0;
	CHECK_EQ(ctl_frame(out, 15, "BYE %s", "evicted"), 15);
	CHECK(memcmp(out, "\x80\x00\x00\x0b" "BYE evicted", 15) == 0);
	CHECK_EQ(out[15], 0xee);
}

static void
test_frame_ctl_max(void)
{
	static unsigned char out[4 + FRAME_CTL_MAX + 100];
	static char arg[FRAME_CTL_MAX + 1];
	uint32_t len;
	int control;

	/* "SUB " + arg = FRAME_CTL_MAX bytes exactly. */
	memset(arg, 'y', FRAME_CTL_MAX - 4);
	arg[FRAME_CTL_MAX - 4] = '\0';
	CHECK_EQ(ctl_frame(out, sizeof(out), "SUB %s", arg),
	    4 + FRAME_CTL_MAX);
	frame_get_header(out, &len, &control);
	CHECK_EQ(len, FRAME_CTL_MAX);
	CHECK_EQ(control, 1);
	CHECK(memcmp(out + 4, "SUB yyy", 7) == 0);
	CHECK_EQ(out[4 + FRAME_CTL_MAX - 1], 'y');

	/* One more byte is over the protocol limit, whatever cap says. */
	errno = 0;
	CHECK_EQ(ctl_frame(out, sizeof(out), "SUB %sy", arg), -1);
	CHECK_EQ(errno, EMSGSIZE);
}

static void
test_stream_valid_length(void)
{
	char name[STREAM_NAME_MAX + 2];

	CHECK_EQ(proto_stream_valid(""), 0);
	CHECK_EQ(proto_stream_valid("a"), 1);
	memset(name, 'n', sizeof(name) - 1);
	name[STREAM_NAME_MAX] = '\0';
	CHECK_EQ(strlen(name), 64);
	CHECK_EQ(proto_stream_valid(name), 1);
	name[STREAM_NAME_MAX] = 'n';
	name[STREAM_NAME_MAX + 1] = '\0';
	CHECK_EQ(strlen(name), 65);
	CHECK_EQ(proto_stream_valid(name), 0);
	CHECK_EQ(proto_stream_valid(STREAM_DEFAULT), 1);
	CHECK_EQ(proto_stream_valid("tweets"), 1);
	CHECK_EQ(proto_stream_valid("a.b_c-D9"), 1);
}

static void
test_stream_valid_bytes(void)
{
	char one[2], three[4];
	int b, want;

	for (b = 1; b < 256; b++) {
		want = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') ||
		    (b >= '0' && b <= '9') || b == '.' || b == '_' || b == '-';
		one[0] = (char)b;
		one[1] = '\0';
		three[0] = 'a';
		three[1] = (char)b;
		three[2] = 'b';
		three[3] = '\0';
		if (!CHECK_EQ(proto_stream_valid(one), want) ||
		    !CHECK_EQ(proto_stream_valid(three), want))
			printf("    (byte 0x%02x)\n", (unsigned)b);
	}
	CHECK_EQ(proto_stream_valid("a/b"), 0);
	CHECK_EQ(proto_stream_valid("../x"), 0);
	CHECK_EQ(proto_stream_valid("a b"), 0);
	CHECK_EQ(proto_stream_valid("ab\n"), 0);
	CHECK_EQ(proto_stream_valid("stream=x"), 0);
}

void
suite_ctl(void)
{
	RUN(test_parse_sub);
	RUN(test_parse_verb_only);
	RUN(test_parse_positional);
	RUN(test_parse_value_with_eq);
	RUN(test_parse_copies);
	RUN(test_parse_rejects);
	RUN(test_parse_max_args);
	RUN(test_parse_length);
	RUN(test_frame_encode);
	RUN(test_frame_too_small);
	RUN(test_frame_exact_fit);
	RUN(test_frame_ctl_max);
	RUN(test_stream_valid_length);
	RUN(test_stream_valid_bytes);
}

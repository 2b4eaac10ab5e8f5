/*
 * The string parsers on arbitrary NUL-terminated strings: num_parse(),
 * num_parse_size(), addr_parse() and proto_stream_valid().
 *
 * Input: one byte choosing the bounds (a fixed pair, or with the top bit
 * set the next 16 bytes as min and max), then the string, which ends at
 * the first NUL or the end of the input.  Each parser must accept exactly
 * what its header describes, checked against a plain reading of that
 * text, and give the value that text implies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fuzz.h"
#include "num.h"
#include "proto.h"

#define SENTINEL UINT64_C(0xa5a5a5a5a5a5a5a5)

/* The leading decimal digits of s: their count, and whether their value
 * exceeds UINT64_MAX (else it is in *v). */
static size_t
lead_digits(const char *s, uint64_t *v, int *overflow)
{
	size_t n = 0;

	*v = 0;
	*overflow = 0;
	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		unsigned d = (unsigned)(s[n] - '0');

		if (*overflow || *v > UINT64_MAX / 10 ||
		    *v * 10 > UINT64_MAX - d)
			*overflow = 1;
		else
			*v = *v * 10 + d;
	}
	return n;
}

static int
is_reason(const char *e)
{
	return e != NULL && (strcmp(e, "invalid") == 0 ||
	    strcmp(e, "too small") == 0 || strcmp(e, "too large") == 0);
}

/* The reason bounds give for an otherwise good value v. */
static const char *
bounds_reason(uint64_t v, uint64_t min, uint64_t max)
{
	if (v < min)
		return "too small";
	if (v > max)
		return "too large";
	return NULL;
}

static void
check_num(const char *s, uint64_t min, uint64_t max)
{
	uint64_t v, out = SENTINEL;
	const char *e, *want;
	size_t n;
	int over;

	n = lead_digits(s, &v, &over);
	e = num_parse(s, min, max, &out);
	if (n == 0 || (s[n] != '\0' && !over))
		want = "invalid";
	else if (over)
		want = "too large";
	else
		want = bounds_reason(v, min, max);
	if (want == NULL) {
		FUZZ_CHECK(e == NULL);
		FUZZ_CHECK(out == v && v >= min && v <= max);
	} else {
		FUZZ_CHECK(is_reason(e));
		/* A run of digits too long for 64 bits and then junk may be
		 * called either. */
		FUZZ_CHECK(strcmp(e, want) == 0 || (over && s[n] != '\0'));
		FUZZ_CHECK(out == SENTINEL);
	}
}

static void
check_size(const char *s, uint64_t min, uint64_t max)
{
	uint64_t v, out = SENTINEL;
	const char *e, *want, *suffix;
	unsigned shift = 99;
	size_t n;
	int over;

	n = lead_digits(s, &v, &over);
	suffix = s + n;
	if (strcmp(suffix, "") == 0)
		shift = 0;
	else if (strcmp(suffix, "k") == 0)
		shift = 10;
	else if (strcmp(suffix, "M") == 0)
		shift = 20;
	else if (strcmp(suffix, "G") == 0)
		shift = 30;
	e = num_parse_size(s, min, max, &out);
	if (n == 0 || (shift == 99 && !over))
		want = "invalid";
	else if (over || v > UINT64_MAX >> shift)
		want = "too large";
	else
		want = bounds_reason(v << shift, min, max);
	if (want == NULL) {
		FUZZ_CHECK(e == NULL);
		FUZZ_CHECK(out == v << shift);
		FUZZ_CHECK(out >= min && out <= max);
		FUZZ_CHECK(out >> shift == v);
	} else {
		FUZZ_CHECK(is_reason(e));
		FUZZ_CHECK(strcmp(e, want) == 0 || (over && shift == 99));
		FUZZ_CHECK(out == SENTINEL);
	}
}

/* A TCP address: either a reason, or a host and a port 0..65535 that
 * read back as what was given. */
static void
check_tcp(const char *s, const struct addr *a, const char *e)
{
	char back[sizeof(a->text) + 8];

	if (e != NULL)
		return;   /* any reason is fine; a crash or a bad parse is not */
	FUZZ_CHECK(a->kind == ADDR_TCP);
	FUZZ_CHECK(memchr(a->host, '\0', sizeof(a->host)) != NULL);
	FUZZ_CHECK(memchr(a->port, '\0', sizeof(a->port)) != NULL);
	FUZZ_CHECK(strtoul(a->port, NULL, 10) <= 65535);
	FUZZ_CHECK(strcmp(a->text, s) == 0);
	/* The port as given ends the text (leading zeros aside). */
	snprintf(back, sizeof(back), ":%lu", strtoul(strrchr(s, ':') + 1,
	    NULL, 10));
	FUZZ_CHECK(strcmp(back + 1, a->port) == 0);
}

static void
check_addr(const char *s)
{
	struct addr a;
	const char *e, *path = s;
	size_t n;

	memset(&a, 0x5a, sizeof(a));
	e = addr_parse(s, &a);
	if (strlen(s) >= sizeof(a.text)) {
		FUZZ_CHECK(e != NULL);
		return;
	}
	if (strncmp(s, "tcp:", 4) == 0) {
		check_tcp(s, &a, e);
		return;
	}
	if (strncmp(s, "unix:", 5) == 0)
		path += 5;
	n = strlen(path);
	if (n == 0) {
		FUZZ_CHECK(e != NULL && strcmp(e, "empty") == 0);
	} else if (n >= sizeof(a.path)) {
		FUZZ_CHECK(e != NULL && strcmp(e, "path too long") == 0);
	} else {
		FUZZ_CHECK(e == NULL);
		FUZZ_CHECK(a.kind == ADDR_UNIX);
		FUZZ_CHECK(strcmp(a.path, path) == 0);
		FUZZ_CHECK(memchr(a.text, '\0', sizeof(a.text)) != NULL);
		FUZZ_CHECK(strncmp(a.text, path, strlen(a.text)) == 0);
	}
}

static void
check_stream_name(const char *s)
{
	size_t n = strlen(s), i;
	int want = n >= 1 && n <= STREAM_NAME_MAX;

	for (i = 0; i < n && want; i++)
		want = (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-';
	FUZZ_CHECK(proto_stream_valid(s) == want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The bounds the programs use, and edge cases. */
	static const uint64_t pairs[8][2] = {
		{ 0, UINT64_MAX },
		{ 1, 1u << 30 },                               /* --max-frame */
		{ 64u << 10, (uint64_t)64 << 30 },             /* --ring */
		{ 1, 1000000 },                                /* --max-clients */
		{ 0, 3600 },                                   /* --grace */
		{ 1, 86400 * 365 },                            /* --timeout */
		{ UINT64_MAX, UINT64_MAX },
		{ 5, 4 },                                      /* empty range */
	};
	struct fuzz_in in = { data, size };
	uint64_t min, max;
	uint8_t mode;
	char *s;

	mode = fuzz_byte(&in);
	if (mode & 0x80) {
		min = fuzz_uint(&in, 8);
		max = fuzz_uint(&in, 8);
	} else {
		min = pairs[mode & 7][0];
		max = pairs[mode & 7][1];
	}
	if ((s = malloc(in.left + 1)) == NULL)
		return 0;
	memcpy(s, in.p, in.left);
	s[in.left] = '\0';

	check_num(s, min, max);
	check_size(s, min, max);
	check_addr(s);
	check_stream_name(s);
	free(s);
	return 0;
}

/* Unit tests for lib/num.c: strict decimal and size parsing, and sizes
 * written for people. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "num.h"
#include "unit.h"

struct numcase {
	const char *s;
	uint64_t min, max;
	const char *err;    /* NULL: success with val */
	uint64_t val;
};

#define MAX UINT64_MAX
#define SENTINEL UINT64_C(0x5a5a5a5a5a5a5a5a)

static void
run_cases(const struct numcase *t, size_t n,
    const char *(*fn)(const char *, uint64_t, uint64_t, uint64_t *))
{
	uint64_t v;
	size_t i;
	int ok;

	for (i = 0; i < n; i++) {
		v = SENTINEL;
		ok = CHECK_STR(fn(t[i].s, t[i].min, t[i].max, &v), t[i].err);
		if (t[i].err == NULL)
			ok &= CHECK_EQ(v, t[i].val);
		if (!ok)
			printf("    (input \"%s\", bounds [%llu, %llu])\n",
			    t[i].s, (unsigned long long)t[i].min,
			    (unsigned long long)t[i].max);
	}
}

static void
test_parse_valid(void)
{
	static const struct numcase t[] = {
		{ "0", 0, MAX, NULL, 0 },
		{ "1", 0, MAX, NULL, 1 },
		{ "42", 0, MAX, NULL, 42 },
		{ "1234567890", 0, MAX, NULL, 1234567890 },
		{ "4294967296", 0, MAX, NULL, UINT64_C(4294967296) },
		{ "18446744073709551614", 0, MAX, NULL, MAX - 1 },
		{ "18446744073709551615", 0, MAX, NULL, MAX },
		{ "1844674407370955161", 0, MAX, NULL,
		    UINT64_C(1844674407370955161) },
	};

	run_cases(t, sizeof(t) / sizeof(t[0]), num_parse);
}

static void
test_parse_overflow(void)
{
	static const struct numcase t[] = {
		{ "18446744073709551616", 0, MAX, "too large", 0 },
		{ "18446744073709551619", 0, MAX, "too large", 0 },
		{ "18446744073709551620", 0, MAX, "too large", 0 },
		{ "18446744073709551625", 0, MAX, "too large", 0 },
		{ "28446744073709551615", 0, MAX, "too large", 0 },
		{ "99999999999999999999", 0, MAX, "too large", 0 },
		{ "184467440737095516150", 0, MAX, "too large", 0 },
		{ "100000000000000000000000000000", 0, MAX, "too large", 0 },
	};

	run_cases(t, sizeof(t) / sizeof(t[0]), num_parse);
}

static void
test_parse_invalid(void)
{
	static const struct numcase t[] = {
		{ "", 0, MAX, "invalid", 0 },
		{ "-1", 0, MAX, "invalid", 0 },
		{ "-0", 0, MAX, "invalid", 0 },
		{ "+1", 0, MAX, "invalid", 0 },
		{ " 1", 0, MAX, "invalid", 0 },
		{ "1 ", 0, MAX, "invalid", 0 },
		{ "1x", 0, MAX, "invalid", 0 },
		{ "x1", 0, MAX, "invalid", 0 },
		{ "1.0", 0, MAX, "invalid", 0 },
		{ "1e3", 0, MAX, "invalid", 0 },
		{ "0x10", 0, MAX, "invalid", 0 },
		{ "1k", 0, MAX, "invalid", 0 },   /* no suffixes here */
		{ "1\n", 0, MAX, "invalid", 0 },
		{ "\t1", 0, MAX, "invalid", 0 },
	};

	run_cases(t, sizeof(t) / sizeof(t[0]), num_parse);
}

static void
test_parse_bounds(void)
{
	static const struct numcase t[] = {
		{ "5", 5, 10, NULL, 5 },
		{ "7", 5, 10, NULL, 7 },
		{ "10", 5, 10, NULL, 10 },
		{ "4", 5, 10, "too small", 0 },
		{ "0", 5, 10, "too small", 0 },
		{ "11", 5, 10, "too large", 0 },
		{ "18446744073709551615", 5, 10, "too large", 0 },
		{ "0", 1, MAX, "too small", 0 },
		{ "1", 1, 1, NULL, 1 },
		{ "0", 0, 0, NULL, 0 },
		{ "1", 0, 0, "too large", 0 },
		{ "18446744073709551614", MAX, MAX, "too small", 0 },
		{ "18446744073709551615", MAX, MAX, NULL, MAX },
		{ "65535", 1, 65535, NULL, 65535 },
		{ "65536", 1, 65535, "too large", 0 },
	};

	run_cases(t, sizeof(t) / sizeof(t[0]), num_parse);
}

static void
test_size_suffixes(void)
{
	static const struct numcase t[] = {
		{ "0", 0, MAX, NULL, 0 },
		{ "1", 0, MAX, NULL, 1 },
		{ "1000", 0, MAX, NULL, 1000 },
		{ "0k", 0, MAX, NULL, 0 },
		{ "1k", 0, MAX, NULL, 1024 },
		{ "3k", 0, MAX, NULL, 3072 },
		{ "1M", 0, MAX, NULL, 1048576 },
		{ "32M", 0, MAX, NULL, UINT64_C(33554432) },
		{ "1G", 0, MAX, NULL, UINT64_C(1073741824) },
		{ "5G", 0, MAX, NULL, UINT64_C(5368709120) },
		{ "1024k", 0, MAX, NULL, 1048576 },
		{ "18446744073709551615", 0, MAX, NULL, MAX },
		/* The largest multiples that still fit. */
		{ "18014398509481983k", 0, MAX, NULL, MAX - 1023 },
		{ "17592186044415M", 0, MAX, NULL, MAX - 1048575 },
		{ "17179869183G", 0, MAX, NULL, MAX - 1073741823 },
	};

	run_cases(t, sizeof(t) / sizeof(t[0]), num_parse_size);
}

static void
test_size_invalid(void)
{
	static const struct numcase t[] = {
		{ "", 0, MAX, "invalid", 0 },
		{ "1K", 0, MAX, "invalid", 0 },
		{ "1m", 0, MAX, "invalid", 0 },
		{ "1g", 0, MAX, "invalid", 0 },
		{ "1T", 0, MAX, "invalid", 0 },
		{ "1b", 0, MAX, "invalid", 0 },
		{ "1kk", 0, MAX, "invalid", 0 },
		{ "1kb", 0, MAX, "invalid", 0 },
		{ "1kM", 0, MAX, "invalid", 0 },
		{ "1k1", 0, MAX, "invalid", 0 },
		{ "1k ", 0, MAX, "invalid", 0 },
		{ "1 k", 0, MAX, "invalid", 0 },
		{ " 1k", 0, MAX, "invalid", 0 },
		{ "k", 0, MAX, "invalid", 0 },
		{ "M", 0, MAX, "invalid", 0 },
		{ "-1k", 0, MAX, "invalid", 0 },
		{ "+1k", 0, MAX, "invalid", 0 },
		{ "1.5M", 0, MAX, "invalid", 0 },
		{ "0x1k", 0, MAX, "invalid", 0 },
	};

	run_cases(t, sizeof(t) / sizeof(t[0]), num_parse_size);
}

static void
test_size_overflow(void)
{
	static const struct numcase t[] = {
		{ "17179869184G", 0, MAX, "too large", 0 },
		{ "17592186044416M", 0, MAX, "too large", 0 },
		{ "18014398509481984k", 0, MAX, "too large", 0 },
		{ "18446744073709551615G", 0, MAX, "too large", 0 },
		{ "18446744073709551616", 0, MAX, "too large", 0 },
		{ "18446744073709551616k", 0, MAX, "too large", 0 },
		{ "99999999999999999999G", 0, MAX, "too large", 0 },
	};

	run_cases(t, sizeof(t) / sizeof(t[0]), num_parse_size);
}

static void
test_size_bounds(void)
{
	static const struct numcase t[] = {
		{ "1k", 1024, 1024, NULL, 1024 },
		{ "1k", 0, 1023, "too large", 0 },
		{ "1k", 1025, MAX, "too small", 0 },
		{ "1024", 1024, 1024, NULL, 1024 },
		{ "4095", 4096, 1u << 30, "too small", 0 },
		{ "4k", 4096, 1u << 30, NULL, 4096 },
		{ "1G", 4096, 1u << 30, NULL, 1u << 30 },
		{ "1025M", 4096, 1u << 30, "too large", 0 },
		{ "2G", 4096, 1u << 30, "too large", 0 },
		{ "0", 1, MAX, "too small", 0 },
		{ "0k", 1, MAX, "too small", 0 },
	};

	run_cases(t, sizeof(t) / sizeof(t[0]), num_parse_size);
}

static void
test_format_size(void)
{
	static const struct {
		uint64_t bytes;
		const char *text;
	} t[] = {
		{ 0, "0 bytes" },
		{ 1, "1 byte" },
		{ 100, "100 bytes" },
		{ 1023, "1023 bytes" },
		{ 1024, "1 KiB" },
		{ 1025, "1 KiB" },
		{ 1536, "1.5 KiB" },
		{ 512 << 10, "512 KiB" },
		/* Rounded to the nearest tenth: .05 goes up, below stays. */
		{ 1024 + 51, "1 KiB" },
		{ 1024 + 52, "1.1 KiB" },
		{ (1 << 20) + (1 << 20) / 5, "1.2 MiB" },
		{ (3 << 20) / 2, "1.5 MiB" },
		{ (2 << 20) - 1, "2 MiB" },
		/* Never "1024 KiB": a rounded 1024 is 1 of the next unit. */
		{ (1 << 20) - 1, "1 MiB" },
		{ (1 << 20) - 52, "1023.9 KiB" },
		{ 1 << 20, "1 MiB" },
		{ 64 << 20, "64 MiB" },
		{ UINT64_C(1) << 30, "1 GiB" },
		{ UINT64_C(5) << 29, "2.5 GiB" },
		{ UINT64_C(1) << 40, "1 TiB" },
		{ UINT64_C(1) << 50, "1 PiB" },
		{ UINT64_C(1) << 60, "1 EiB" },
		{ UINT64_C(3) << 59, "1.5 EiB" },
		{ UINT64_MAX, "16 EiB" },
	};
	char buf[NUM_SIZE_LEN];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!CHECK_STR(num_format_size(t[i].bytes, buf, sizeof(buf)),
		    t[i].text))
			printf("    (input %llu)\n",
			    (unsigned long long)t[i].bytes);
}

static void
test_format_size_fits(void)
{
	char buf[NUM_SIZE_LEN], small[4];
	uint64_t state = 42, v;
	int i;

	/* The longest text fits NUM_SIZE_LEN, whatever the number. */
	CHECK_STR(num_format_size((1 << 20) - 52, buf, sizeof(buf)),
	    "1023.9 KiB");
	for (i = 0; i < 10000; i++) {
		v = unit_rand(&state) >> (unit_rand(&state) % 64);
		num_format_size(v, buf, sizeof(buf));
		if (!CHECK(strlen(buf) < sizeof(buf) - 1))
			break;
	}
	/* A small buffer is cut short, never overrun, and is returned. */
	CHECK(num_format_size(64 << 20, small, sizeof(small)) == small);
	CHECK_STR(small, "64 ");
}

void
suite_num(void)
{
	RUN(test_parse_valid);
	RUN(test_parse_overflow);
	RUN(test_parse_invalid);
	RUN(test_parse_bounds);
	RUN(test_size_suffixes);
	RUN(test_size_invalid);
	RUN(test_size_overflow);
	RUN(test_size_bounds);
	RUN(test_format_size);
	RUN(test_format_size_fits);
}

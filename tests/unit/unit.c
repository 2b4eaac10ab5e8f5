/*
 * The harness behind unit.h, and main: runs every suite and ends with the
 * line "N passed, M failed" (test cases).  Exit status 0 only when none
 * failed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

/* A failing loop in one test should not bury the others' reports. */
#define REPORT_MAX 10

static const char *current = "(no test)";
static int failures;        /* failed CHECKs in the current test */
static int passed, failed;  /* test cases */

static void
report(const char *file, int line)
{
	if (failures++ == REPORT_MAX)
		printf("%s:%d: %s: further failures not shown\n", file, line,
		    current);
}

int
unit_check(int ok, const char *file, int line, const char *expr)
{
	if (ok)
		return 1;
	report(file, line);
	if (failures <= REPORT_MAX)
		printf("%s:%d: %s: CHECK(%s) failed\n", file, line, current,
		    expr);
	return 0;
}

/* v as unsigned, or as negative when it is a small negative number cast. */
static void
show(char *buf, size_t cap, uint64_t v)
{
	if (v >= UINT64_C(0xffffffff00000000))
		snprintf(buf, cap, "%" PRId64, (int64_t)v);
	else
		snprintf(buf, cap, "%" PRIu64, v);
}

int
unit_check_u64(uint64_t a, uint64_t b, const char *file, int line,
    const char *ea, const char *eb)
{
	char sa[32], sb[32];

	if (a == b)
		return 1;
	report(file, line);
	show(sa, sizeof(sa), a);
	show(sb, sizeof(sb), b);
	if (failures <= REPORT_MAX)
		printf("%s:%d: %s: CHECK_EQ(%s, %s) failed: %s != %s\n",
		    file, line, current, ea, eb, sa, sb);
	return 0;
}

int
unit_check_str(const char *a, const char *b, const char *file, int line,
    const char *ea, const char *eb)
{
	if (a == b || (a != NULL && b != NULL && strcmp(a, b) == 0))
		return 1;
	report(file, line);
	if (failures <= REPORT_MAX)
		printf("%s:%d: %s: CHECK_STR(%s, %s) failed: %s%s%s != %s%s%s\n",
		    file, line, current, ea, eb,
		    a ? "\"" : "", a ? a : "NULL", a ? "\"" : "",
		    b ? "\"" : "", b ? b : "NULL", b ? "\"" : "");
	return 0;
}

void
unit_run(const char *name, void (*fn)(void))
{
	current = name;
	failures = 0;
	fn();
	if (failures == 0)
		passed++;
	else {
		failed++;
		printf("FAIL %s\n", name);
	}
	fflush(stdout);
	current = "(no test)";
}

uint64_t
unit_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(2685821657736338717);
}

int
main(void)
{
	suite_frame();
	suite_ctl();
	suite_num();
	suite_addr();
	suite_ring();
	suite_spool();
	printf("%d passed, %d failed\n", passed, failed);
	if (fflush(stdout) == EOF)
		return 1;
	return failed == 0 ? 0 : 1;
}

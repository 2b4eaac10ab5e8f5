/*
 * A tiny unit-test harness: no dependencies, no allocation.
 *
 * A test is a static void function of no arguments; a suite is a non-static
 * function that runs its tests with RUN().  A test fails when any CHECK in
 * it fails; it goes on after a failed CHECK unless it returns itself, so a
 * test that cannot continue writes "if (!CHECK(p != NULL)) return;".
 */
#ifndef SF_UNIT_H
#define SF_UNIT_H

#include <stdint.h>

/*
 * Each CHECK is an expression worth 1 when cond holds, 0 (after printing
 * file:line and the expression) when it does not.
 */
#define CHECK(cond) \
	unit_check((cond) != 0, __FILE__, __LINE__, #cond)

/* Integer equality, printing both values when they differ. */
#define CHECK_EQ(a, b) \
	unit_check_u64((uint64_t)(a), (uint64_t)(b), __FILE__, __LINE__, \
	    #a, #b)

/* String equality; either side may be NULL (NULL equals only NULL). */
#define CHECK_STR(a, b) \
	unit_check_str((a), (b), __FILE__, __LINE__, #a, #b)

#define RUN(fn) unit_run(#fn, fn)

int unit_check(int ok, const char *file, int line, const char *expr);
int unit_check_u64(uint64_t a, uint64_t b, const char *file, int line,
    const char *ea, const char *eb);
int unit_check_str(const char *a, const char *b, const char *file, int line,
    const char *ea, const char *eb);
void unit_run(const char *name, void (*fn)(void));

/* A small deterministic generator (xorshift64*); seed must not be 0. */
uint64_t unit_rand(uint64_t *state);

/* The suites, one per test_*.c file. */
void suite_frame(void);
void suite_ctl(void);
void suite_num(void);
void suite_addr(void);
void suite_ring(void);
void suite_spool(void);

#endif

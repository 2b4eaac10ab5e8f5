/*
 * What the libFuzzer targets share: the entry points' prototypes, a check
 * that aborts (so libFuzzer keeps the input), and a reader that takes
 * parameters from the front of an input.
 */
#ifndef SF_FUZZ_H
#define SF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant: on failure print where and why, then abort. */
#define FUZZ_CHECK(cond) \
	((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))

static inline void __attribute__((noreturn))
fuzz_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
	abort();
}

/* The unread part of an input. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

/* The next byte, or 0 once the input is used up. */
static inline uint8_t
fuzz_byte(struct fuzz_in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

/* The next n bytes (n <= 8) as a big-endian number; 0s past the end. */
static inline uint64_t
fuzz_uint(struct fuzz_in *in, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | fuzz_byte(in);
	return v;
}

#endif

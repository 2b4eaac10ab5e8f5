/*
 * Strict number parsing for options, in the manner of strtonum(3): each
 * function returns NULL on success, or a short reason ("invalid",
 * "too small", "too large") for the caller to print after the option.
 */
#ifndef SF_NUM_H
#define SF_NUM_H

#include <stdint.h>

/* A plain decimal integer in [min, max]: no sign, no spaces, no suffix. */
const char *num_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * A size in bytes in [min, max]: a decimal integer optionally followed by
 * one suffix k, M or G (binary multiples: 1k = 1024).
 */
const char *num_parse_size(const char *s, uint64_t min, uint64_t max,
    uint64_t *out);

#endif

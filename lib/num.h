/*
 * Numbers in and out.  Strict parsing for options, in the manner of
 * strtonum(3): each num_parse function returns NULL on success, or a short
 * reason ("invalid", "too small", "too large") for the caller to print
 * after the option.  And byte counts written for people to read.
 */
#ifndef SF_NUM_H
#define SF_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Room for any text of num_format_size(), "1023.9 KiB" being the longest. */
#define NUM_SIZE_LEN 16

/* A plain decimal integer in [min, max]: no sign, no spaces, no suffix. */
const char *num_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * A size in bytes in [min, max]: a decimal integer optionally followed by
 * one suffix k, M or G (binary multiples: 1k = 1024).
 */
const char *num_parse_size(const char *s, uint64_t min, uint64_t max,
    uint64_t *out);

/*
 * Write bytes into buf for people to read, in binary units: "100 bytes",
 * "1 byte", "512 KiB", "1.5 MiB", "64 MiB", up to EiB.  The unit is the
 * largest that leaves at least 1; the value is rounded to the nearest
 * tenth, shown only when it is not whole (so 1.96 MiB is "2 MiB", and
 * 1048575 bytes is "1 MiB", not "1024 KiB").  Truncates to fit cap, which
 * NUM_SIZE_LEN always is enough for.  Returns buf.
 */
const char *num_format_size(uint64_t bytes, char *buf, size_t cap);

#endif

/*
 * Control lines: the body of a control frame, e.g. "SUB 1 stream=tweets".
 *
 * A line is printable ASCII words separated by single spaces.  The first
 * word is the verb (upper-case letters); each later word is either a bare
 * positional value or key=value.  Nothing here allocates.
 */
#ifndef SF_CTL_H
#define SF_CTL_H

#include <stddef.h>

#include "frame.h"

/* Words after the verb; room for a STATS line's keys and more to come. */
#define CTL_MAX_ARGS 32

struct ctl_arg {
	const char *key;   /* NULL for a positional word */
	const char *val;
};

struct ctl {
	const char *verb;
	int nargs;
	struct ctl_arg args[CTL_MAX_ARGS];
	char buf[FRAME_CTL_MAX + 1];   /* the words point in here */
};

/*
 * Parse body[0..len) into c.  Returns 0, or -1 with errno EINVAL when the
 * line is empty, longer than FRAME_CTL_MAX, has a byte outside printable
 * ASCII, an empty word, a bad verb, an empty key, or too many words.
 */
int ctl_parse(struct ctl *c, const unsigned char *body, size_t len);

/* The value of key, or NULL when the line has none. */
const char *ctl_get(const struct ctl *c, const char *key);

/* The i-th positional word (0-based), or NULL. */
const char *ctl_positional(const struct ctl *c, int i);

/*
 * Encode a whole control frame (header + line built from fmt) into out.
 * Returns its size, or -1 with errno EMSGSIZE when it does not fit in cap or
 * the line is longer than FRAME_CTL_MAX.
 */
int ctl_frame(unsigned char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

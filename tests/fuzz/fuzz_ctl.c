/*
 * ctl_parse(), ctl_get(), ctl_positional() and ctl_frame() on arbitrary
 * bytes.
 *
 * ctl_parse() must accept exactly the lines ctl.h describes (checked
 * against a plain reading of that text), and what it accepts must join back
 * into the input.  ctl_frame() must encode any string that fits and refuse
 * with EMSGSIZE what does not, and an accepted line must survive a trip
 * through ctl_frame() and frame_decode().  session_verdict() must make
 * sense of any line: a known exit code and a message that fits.
 */
#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "ctl.h"
#include "frame.h"
#include "fuzz.h"
#include "proto.h"
#include "session.h"

/* Is s[0..n) a valid line by the text of ctl.h? */
static int
valid_line(const uint8_t *s, size_t n)
{
	size_t i, start = 0;
	int word = 0;

	if (n == 0 || n > FRAME_CTL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != ' ')
			continue;
		if (i == start)
			return 0;                     /* an empty word */
		if (word == 0) {
			for (size_t j = start; j < i; j++)
				if (s[j] < 'A' || s[j] > 'Z')
					return 0;     /* a bad verb */
		} else if (s[start] == '=') {
			return 0;                     /* an empty key */
		}
		if (++word > 1 + CTL_MAX_ARGS)
			return 0;
		start = i + 1;
	}
	return 1;
}

static void
check_parsed(const struct ctl *c, const uint8_t *data, size_t size)
{
	char *joined;
	size_t n = 0;
	int i, j, npos = 0;

	FUZZ_CHECK(c->verb != NULL && *c->verb != '\0');
	for (const char *p = c->verb; *p != '\0'; p++)
		FUZZ_CHECK(*p >= 'A' && *p <= 'Z');
	FUZZ_CHECK(c->nargs >= 0 && c->nargs <= CTL_MAX_ARGS);

	/* Join verb and words back: the input again, byte for byte. */
	joined = malloc(size + 1);
	FUZZ_CHECK(joined != NULL);
#define PUT(s) do { \
		size_t l_ = strlen(s); \
		FUZZ_CHECK(n + l_ <= size); \
		memcpy(joined + n, s, l_); \
		n += l_; \
	} while (0)
	PUT(c->verb);
	for (i = 0; i < c->nargs; i++) {
		const struct ctl_arg *a = &c->args[i];

		FUZZ_CHECK(a->val != NULL);
		PUT(" ");
		if (a->key != NULL) {
			FUZZ_CHECK(*a->key != '\0');
			FUZZ_CHECK(strchr(a->key, '=') == NULL);
			FUZZ_CHECK(strchr(a->key, ' ') == NULL);
			PUT(a->key);
			PUT("=");
		} else {
			FUZZ_CHECK(*a->val != '\0');
			FUZZ_CHECK(strchr(a->val, '=') == NULL);
		}
		FUZZ_CHECK(strchr(a->val, ' ') == NULL);
		PUT(a->val);
	}
#undef PUT
	FUZZ_CHECK(n == size);
	FUZZ_CHECK(memcmp(joined, data, size) == 0);
	free(joined);

	/* ctl_get: the first value for a key; ctl_positional: in order. */
	for (i = 0; i < c->nargs; i++) {
		if (c->args[i].key == NULL) {
			FUZZ_CHECK(ctl_positional(c, npos++) == c->args[i].val);
			continue;
		}
		for (j = 0; j < i; j++)
			if (c->args[j].key != NULL &&
			    strcmp(c->args[j].key, c->args[i].key) == 0)
				break;
		FUZZ_CHECK(ctl_get(c, c->args[i].key) == c->args[j].val);
	}
	FUZZ_CHECK(ctl_positional(c, npos) == NULL);
	FUZZ_CHECK(ctl_positional(c, -1) == NULL);
	FUZZ_CHECK(ctl_get(c, "") == NULL);
}

/* An accepted line goes through ctl_frame() and back unchanged. */
static void
check_reframed(const struct ctl *c, const uint8_t *data, size_t size)
{
	unsigned char out[FRAME_HDR + FRAME_CTL_MAX];
	struct ctl again;
	struct frame f;
	int n, i;

	n = ctl_frame(out, sizeof(out), "%.*s", (int)size, (const char *)data);
	FUZZ_CHECK(n == (int)(FRAME_HDR + size));
	FUZZ_CHECK(frame_decode(out, (size_t)n, 0, &f) == n);
	FUZZ_CHECK(f.control && f.len == size);
	FUZZ_CHECK(ctl_parse(&again, f.data, f.len) == 0);
	FUZZ_CHECK(strcmp(again.verb, c->verb) == 0);
	FUZZ_CHECK(again.nargs == c->nargs);
	for (i = 0; i < c->nargs; i++) {
		FUZZ_CHECK((again.args[i].key == NULL) ==
		    (c->args[i].key == NULL));
		FUZZ_CHECK(c->args[i].key == NULL ||
		    strcmp(again.args[i].key, c->args[i].key) == 0);
		FUZZ_CHECK(strcmp(again.args[i].val, c->args[i].val) == 0);
	}
}

/* What a tool makes of a line from the daemon. */
static void
check_verdict(const struct ctl *c)
{
	char msg[64];
	int code;

	memset(msg, 'x', sizeof(msg));
	code = session_verdict(c, msg, sizeof(msg));
	FUZZ_CHECK(code == SF_EXIT_EVICTED || code == SF_EXIT_GONE ||
	    code == SF_EXIT_CONNECT || code == SF_EXIT_PROTOCOL);
	FUZZ_CHECK(memchr(msg, '\0', sizeof(msg)) != NULL);
}

/*
 * ctl_frame() of the input up to its first NUL, into a buffer whose size
 * the first byte picks.
 */
static void
check_frame(const uint8_t *data, size_t size)
{
	size_t cap = size > 0 ? (size_t)data[0] * 17 : 0, len;
	unsigned char *out;
	char *line;
	uint32_t hlen;
	int n, control;

	line = malloc(size + 1);
	out = malloc(cap + 1);
	FUZZ_CHECK(line != NULL && out != NULL);
	memcpy(line, data, size);
	line[size] = '\0';
	len = strlen(line);

	errno = 0;
	n = ctl_frame(out, cap, "%s", line);
	if (len > FRAME_CTL_MAX || cap < FRAME_HDR + len) {
		FUZZ_CHECK(n == -1 && errno == EMSGSIZE);
	} else {
		FUZZ_CHECK(n == (int)(FRAME_HDR + len));
		frame_get_header(out, &hlen, &control);
		FUZZ_CHECK(control && hlen == len);
		FUZZ_CHECK(memcmp(out + FRAME_HDR, line, len) == 0);
	}
	free(line);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl c;
	int rc;

	errno = 0;
	rc = ctl_parse(&c, data, size);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(rc == (valid_line(data, size) ? 0 : -1));
	if (rc == 0) {
		check_parsed(&c, data, size);
		check_reframed(&c, data, size);
		check_verdict(&c);
	} else {
		FUZZ_CHECK(errno == EINVAL);
	}
	check_frame(data, size);
	return 0;
}

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static int
verb_valid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < 'A' || *s > 'Z')
			return 0;
	return 1;
}

int
ctl_parse(struct ctl *c, const unsigned char *body, size_t len)
{
	char *p, *word, *eq;
	size_t i;

	c->verb = NULL;
	c->nargs = 0;
	if (len == 0 || len > FRAME_CTL_MAX)
		goto invalid;
	for (i = 0; i < len; i++)
		if (body[i] < 0x20 || body[i] > 0x7e)
			goto invalid;
	memcpy(c->buf, body, len);
	c->buf[len] = '\0';

	for (p = c->buf; p != NULL; ) {
		word = p;
		p = strchr(p, ' ');
		if (p != NULL)
			*p++ = '\0';
		if (*word == '\0')
			goto invalid;     /* leading, trailing or double space */
		if (c->verb == NULL) {
			if (!verb_valid(word))
				goto invalid;
			c->verb = word;
			continue;
		}
		if (c->nargs == CTL_MAX_ARGS)
			goto invalid;
		eq = strchr(word, '=');
		if (eq == word)
			goto invalid;
		if (eq != NULL) {
			*eq = '\0';
			c->args[c->nargs].key = word;
			c->args[c->nargs].val = eq + 1;
		} else {
			c->args[c->nargs].key = NULL;
			c->args[c->nargs].val = word;
		}
		c->nargs++;
	}
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}

const char *
ctl_get(const struct ctl *c, const char *key)
{
	int i;

	for (i = 0; i < c->nargs; i++)
		if (c->args[i].key != NULL && strcmp(c->args[i].key, key) == 0)
			return c->args[i].val;
	return NULL;
}

const char *
ctl_positional(const struct ctl *c, int i)
{
	int k;

	for (k = 0; k < c->nargs; k++)
		if (c->args[k].key == NULL && i-- == 0)
			return c->args[k].val;
	return NULL;
}

int
ctl_frame(unsigned char *out, size_t cap, const char *fmt, ...)
{
	char line[FRAME_CTL_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((unsigned)n > FRAME_CTL_MAX || cap < FRAME_HDR + (size_t)n) {
		errno = EMSGSIZE;
		return -1;
	}
	frame_put_header(out, (uint32_t)n, 1);
	memcpy(out + FRAME_HDR, line, (size_t)n);
	return (int)FRAME_HDR + n;
}

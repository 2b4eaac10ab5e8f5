#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "input.h"
#include "log.h"

#define READS_PER_TURN  4     /* before other clients get a go */

void
input_keep(struct client *c, size_t off)
{
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

ssize_t
input_decode(const struct client *c, size_t off, struct frame *f)
{
	return frame_decode(c->in + off, c->in_len - off,
	    (uint32_t)c->srv->cfg.max_frame, f);
}

void
input_too_large(struct client *c, const struct frame *f)
{
	char detail[96];

	snprintf(detail, sizeof(detail), "%lu bytes > %s %llu",
	    (unsigned long)f->len, f->control ? "control limit" :
	    "max-frame", f->control ? (unsigned long long)FRAME_CTL_MAX :
	    (unsigned long long)c->srv->cfg.max_frame);
	client_error(c, f->control ? "control-too-large" : "frame-too-large",
	    detail);
}

int
input_frames(struct client *c, int *err)
{
	ssize_t n;
	int i;

	if (c->in_len > 0 && c->ops->consume(c) == -1)
		return 0;
	for (i = 0; i < READS_PER_TURN; i++) {
		n = read(c->w.fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			*err = n == 0 ? 0 : errno;
			return -1;
		}
		c->in_len += (size_t)n;
		if (c->ops->consume(c) == -1)
			return 0;
	}
	/* Edge-triggered: nobody will tell us again that more is waiting. */
	client_ready_set(c);
	return 0;
}

int
input_drain(struct client *c, int *err)
{
	unsigned char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(c->w.fd, buf, sizeof(buf));
		if (n > 0 || (n == -1 && errno == EINTR))
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		*err = n == 0 ? 0 : errno;
		log_client(c, LOG_DEBUG, "hung up before its goodbye");
		return -1;
	}
}

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "frame.h"
#include "hello.h"
#include "input.h"
#include "log.h"
#include "output.h"
#include "publisher.h"
#include "queue.h"

#define PUB_READS  4              /* reads per turn before others get a go */

/* Reading stops for a client that is held, departs or is closed. */
static int
listening(const struct client *c)
{
	return c->state == CS_HELLO || c->state == CS_ACTIVE;
}

/* Keep c->in from off on (a paced publisher was held there). */
static void
keep_input(struct client *c, size_t off)
{
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

/*
 * Handle the complete frames in c->in: the hello, then runs of data frames
 * that go to the ring in one piece.  Keeps a partial frame for later and
 * makes room for it; a held publisher keeps the run it could not append.
 * Returns -1 once the client stops reading input.
 */
static int
consume(struct client *c)
{
	size_t off = 0, run = 0, need;
	struct frame f;
	ssize_t k;
	char detail[96];

	for (;;) {
		/* Before the hello only a control frame may come: say so at
		 * its header, before buffering any body. */
		if (c->role == ROLE_HELLO && c->in_len - off >= FRAME_HDR) {
			frame_get_header(c->in + off, &f.len, &f.control);
			if (!f.control) {
				client_error(c, "bad-hello",
				    "data frame before the hello");
				return -1;
			}
		}
		k = frame_decode(c->in + off, c->in_len - off,
		    (uint32_t)c->srv->cfg.max_frame, &f);
		if (k == 0)
			break;
		if (k == -1) {
			/* Held, the frames before the bad one go with it: the
			 * publisher gets ERR, and they never reached anyone. */
			if (c->role == ROLE_PUB && off > run)
				(void)publisher_append(c, c->in + run,
				    off - run);
			snprintf(detail, sizeof(detail), "%lu bytes > %s %llu",
			    (unsigned long)f.len, f.control ? "control limit" :
			    "max-frame", f.control ? (unsigned long long)
			    FRAME_CTL_MAX : (unsigned long long)
			    c->srv->cfg.max_frame);
			client_error(c, f.control ? "control-too-large" :
			    "frame-too-large", detail);
			return -1;
		}
		if (!f.control && c->role == ROLE_CTL) {
			client_error(c, "bad-control", "a data frame from a "
			    "control client");
			return -1;
		}
		if (!f.control) {
			off += (size_t)k;
			continue;
		}
		if (off > run && publisher_append(c, c->in + run,
		    off - run) == -1) {
			keep_input(c, run);
			return -1;
		}
		off += (size_t)k;
		run = off;
		control_frame(c, &f);
		if (!listening(c))
			return -1;
		if (c->role == ROLE_CTL && c->admin.job != 0) {
			/* One request at a time: the rest waits for the
			 * answer to be out (control.c). */
			keep_input(c, off);
			return -1;
		}
		if (c->role == ROLE_SUB) {
			if (off < c->in_len) {
				client_error(c, "not-a-publisher",
				    "a subscriber sent a frame");
				return -1;
			}
			free(c->in);   /* subscribers keep no input buffer */
			c->in = NULL;
			c->in_len = c->in_cap = 0;
			return -1;
		}
	}
	if (c->role == ROLE_PUB && off > run &&
	    publisher_append(c, c->in + run, off - run) == -1) {
		keep_input(c, run);
		return -1;
	}
	keep_input(c, off);

	/* A frame bigger than the buffer: grow to fit it (already checked). */
	if (c->role == ROLE_PUB && c->in_len >= FRAME_HDR) {
		frame_get_header(c->in, &f.len, &f.control);
		need = FRAME_HDR + f.len;
		if (need > c->in_cap) {
			unsigned char *p = realloc(c->in, need);
			if (p == NULL) {
				client_error(c, "no-memory", "frame buffer");
				return -1;
			}
			c->in = p;
			c->in_cap = need;
		}
	}
	return 0;
}

/* Discard input from a departing client; notice when it hangs up. */
static int
drain_input(struct client *c, int *err)
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
		client_log(c, LOG_DEBUG, "hung up before its goodbye");
		return -1;
	}
}

/* Input from a subscriber: only its hang-up is expected. */
static int
subscriber_input(struct client *c, int *err)
{
	unsigned char buf[256];
	ssize_t n;

	for (;;) {
		n = read(c->w.fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n > 0) {
			client_error(c, "not-a-publisher",
			    "a subscriber sent a frame");
			return 0;
		}
		*err = n == 0 ? 0 : errno;
		return -1;
	}
}

/* Input from a client saying hello or publishing. */
static int
frame_input(struct client *c, int *err)
{
	ssize_t n;
	int i;

	/* A publisher let go after being held: what it had read first. */
	if ((c->role == ROLE_PUB || c->role == ROLE_CTL) && c->in_len > 0 &&
	    consume(c) == -1)
		return 0;
	for (i = 0; i < PUB_READS; i++) {
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
		if (consume(c) == -1)
			return 0;
	}
	/* Edge-triggered: nobody will tell us again that more is waiting. */
	client_ready_set(c);
	return 0;
}

int
client_input(struct client *c, int *err)
{
	if (c->state == CS_DEPARTING)
		return drain_input(c, err);
	if (c->state == CS_CLOSED || c->state == CS_HELD)
		return 0;   /* held: its socket pushes back on it */
	if (c->role == ROLE_SUB)
		return subscriber_input(c, err);
	if (c->role == ROLE_CTL && c->admin.job != 0)
		return 0;   /* read again once answered */
	return frame_input(c, err);
}

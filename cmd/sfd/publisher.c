#include <stdlib.h>

#include "client.h"
#include "ctl.h"
#include "log.h"
#include "output.h"
#include "publisher.h"
#include "queue.h"
#include "stream.h"

#define PUB_BUF    APPEND_MAX     /* a publisher's read buffer */

int
publisher_start(struct client *c, struct stream *st)
{
	unsigned char *buf;

	if ((buf = realloc(c->in, PUB_BUF)) == NULL)
		return -1;
	c->in = buf;
	c->in_cap = PUB_BUF;
	c->stream = st;
	c->role = ROLE_PUB;
	c->state = CS_ACTIVE;
	TAILQ_INSERT_TAIL(&st->pubs, c, slink);
	st->npubs++;
	return 0;
}

int
publisher_append(struct client *c, const unsigned char *frames, size_t len)
{
	struct stream *st = c->stream;

	/*
	 * Held, the publisher is simply not read: the kernel's socket
	 * buffer fills and pushes back on it, and through it on whatever
	 * feeds it.  Unpaced publishers of the same stream go on.
	 */
	if (c->pub.paced && stream_must_wait(st, len)) {
		c->state = CS_HELD;
		st->nheld++;
		st->paced_waits++;
		c->srv->nheld++;
		client_ready_clear(c);
		server_tick_arm(c->srv);
		client_log(c, LOG_DEBUG, "held: its next frames would "
		    "overwrite some that a subscriber of %s still needs",
		    st->name);
		return -1;
	}
	c->pub.frames_in += stream_append(st, frames, len);
	c->pub.bytes_in += len;
	c->pub.last_append_ms = c->srv->now;
	return 0;
}

void
publisher_release(struct stream *st)
{
	struct client *c;

	if (st->nheld == 0 || !stream_drained(st))
		return;
	for (c = TAILQ_FIRST(&st->pubs); c != NULL; c = TAILQ_NEXT(c, slink)) {
		if (c->state != CS_HELD)
			continue;
		c->state = CS_ACTIVE;
		st->nheld--;
		c->srv->nheld--;
		client_log(c, LOG_DEBUG, "released: stream %s has drained",
		    st->name);
		/* What it had read is consumed first, then its socket. */
		client_ready_set(c);
	}
}

void
publisher_subscribed(struct stream *st)
{
	struct client *c;

	for (c = TAILQ_FIRST(&st->pubs); c != NULL; c = TAILQ_NEXT(c, slink)) {
		if (c->pub.want_subs == 0 || st->nsubs < c->pub.want_subs)
			continue;
		c->pub.want_subs = 0;
		client_reply(c, "READY subscribers=%u", st->nsubs);
	}
}

void
publisher_eos(struct client *c)
{
	struct ring *r = c->stream->ring;
	unsigned char buf[64];
	int n;

	n = ctl_frame(buf, sizeof(buf), "EOS seq=%llu",
	    (unsigned long long)ring_head_seq(r));
	if (n > 0 && stream_append_mark(c->stream, buf, (size_t)n) == -1) {
		client_error(c, "no-memory", "end of stream mark");
		return;
	}
	client_log(c, LOG_DEBUG, "end of stream %s at seq %llu",
	    c->stream->name, (unsigned long long)ring_head_seq(r));
}

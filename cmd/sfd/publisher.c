#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "ctl.h"
#include "frame.h"
#include "guard.h"
#include "input.h"
#include "log.h"
#include "server.h"
#include "stream.h"

#define PUB_BUF    APPEND_MAX     /* a publisher's read buffer */

/*
 * Put len bytes of whole frames into st's ring.  First the subscribers
 * whose unsent frames they would overwrite are cut off (or keep the rest
 * of their frame aside), then the room is made, then any subscriber
 * owed an end mark that room took is told.  Returns the data frames
 * appended.
 */
static uint64_t
append(struct stream *st, const unsigned char *frames, size_t len)
{
	/* Its file cut short under us: not one more byte into it, and its
	 * clients are cut off before the loop goes on. */
	if (st->damaged || (st->spool != NULL && !st->cut_short &&
	    spool_cut_short(st->spool))) {
		st->cut_short = 1;
		guard_pending = 1;
		return 0;
	}
	if (st->cut_short)
		return 0;
	subscribers_before_append(st, frames, len);
	stream_make_room(st, len);
	subscribers_marks_leaving(st);
	return stream_append(st, frames, len);
}

/*
 * Append len bytes of whole data frames from c to its stream.  Returns
 * -1 when c is paced and they would overwrite frames a subscriber still
 * needs: nothing is appended, c is held (not read) until
 * publisher_release() lets it go on.
 */
static int
publish(struct client *c, const unsigned char *frames, size_t len)
{
	struct stream *st = c->stream;

	/*
	 * Held, the publisher is simply not read: the kernel's socket
	 * buffer fills and pushes back on it, and through it on whatever
	 * feeds it.  Unpaced publishers of the same stream go on.
	 */
	if (c->pub.paced && stream_must_wait(st, len)) {
		client_set_state(c, CS_HELD);
		st->paced_waits++;
		client_ready_clear(c);
		server_tick_arm(c->srv);
		log_client(c, LOG_DEBUG, "held: its next frames would "
		    "overwrite some that a subscriber of %s still needs",
		    st->name);
		return -1;
	}
	c->pub.frames_in += append(st, frames, len);
	c->pub.bytes_in += len;
	c->pub.last_append_ms = c->srv->now;
	return 0;
}

/*
 * c's end of stream: a mark in the ring after its last frame, so each
 * subscriber gets it once it has every frame before it.
 */
static void
end_of_stream(struct client *c)
{
	struct stream *st = c->stream;
	struct ring *r = st->ring;
	unsigned char buf[64];
	int n;

	n = ctl_frame(buf, sizeof(buf), "EOS seq=%llu",
	    (unsigned long long)ring_head_seq(r));
	if (n <= 0)
		return;
	if (stream_remember_mark(st, ring_head(r), ring_head_seq(r)) == -1) {
		client_error(c, "no-memory", "end of stream mark");
		return;
	}
	(void)append(st, buf, (size_t)n);
	log_client(c, LOG_DEBUG, "end of stream %s at seq %llu", st->name,
	    (unsigned long long)ring_head_seq(r));
}

static void
control(struct client *c, const struct frame *f)
{
	struct ctl m;

	if (ctl_parse(&m, f->data, f->len) == -1)
		client_error(c, "bad-control", "not a control line");
	else if (strcmp(m.verb, "EOS") == 0)
		end_of_stream(c);
	else
		client_error(c, "unexpected-control", m.verb);
}

/* A frame larger than the buffer is coming: grow to fit it (its size
 * was checked against --max-frame). */
static int
fit_next(struct client *c)
{
	struct frame f;
	unsigned char *p;
	size_t need;

	if (c->in_len < FRAME_HDR)
		return 0;
	frame_get_header(c->in, &f.len, &f.control);
	need = FRAME_HDR + f.len;
	if (need <= c->in_cap)
		return 0;
	if ((p = realloc(c->in, need)) == NULL) {
		client_error(c, "no-memory", "frame buffer");
		return -1;
	}
	c->in = p;
	c->in_cap = need;
	return 0;
}

/*
 * The complete frames in c->in: runs of data frames go to the ring in one
 * piece, control frames are acted on between them.  Keeps a partial frame
 * for later; a held publisher keeps the run it could not append.
 */
static int
consume(struct client *c)
{
	size_t off = 0, run = 0;
	struct frame f;
	ssize_t k;

	while ((k = input_decode(c, off, &f)) != 0) {
		if (k == -1) {
			/* Held, the frames before the bad one go with it: the
			 * publisher gets ERR, and they never reached anyone. */
			if (off > run)
				(void)publish(c, c->in + run, off - run);
			input_too_large(c, &f);
			return -1;
		}
		if (!f.control) {
			off += (size_t)k;
			continue;
		}
		if (off > run && publish(c, c->in + run, off - run) == -1) {
			input_keep(c, run);
			return -1;
		}
		off += (size_t)k;
		run = off;
		control(c, &f);
		if (c->state != CS_ACTIVE)
			return -1;
	}
	if (off > run && publish(c, c->in + run, off - run) == -1) {
		input_keep(c, run);
		return -1;
	}
	input_keep(c, off);
	return fit_next(c);
}

static void
cut_off(struct client *c, enum cut why, const char *by)
{
	client_depart(c, "BYE reason=%s seq=%llu%s", why == CUT_SHUTDOWN ?
	    "shutdown" : why == CUT_DAMAGED ? "spool" : "kicked",
	    (unsigned long long)ring_head_seq(c->stream->ring), by);
}

static void
close_publisher(struct client *c)
{
	TAILQ_REMOVE(&c->stream->pubs, c, slink);
	c->stream->npubs--;
}

const struct role_ops publisher_ops = {
	.name = "pub",
	.read = input_frames,
	.consume = consume,
	.flush = client_flush,
	.cut_off = cut_off,
	.close = close_publisher,
};

int
publisher_start(struct client *c, struct stream *st,
    const struct pub_hello *h)
{
	struct ring *r = st->ring;
	unsigned char *buf;

	if ((buf = realloc(c->in, PUB_BUF)) == NULL)
		return -1;
	c->in = buf;
	c->in_cap = PUB_BUF;
	c->stream = st;
	client_start(c, ROLE_PUB, &publisher_ops);
	c->pub.paced = h->paced;
	TAILQ_INSERT_TAIL(&st->pubs, c, slink);
	st->npubs++;
	log_client(c, LOG_DEBUG, "publishing to %s at seq %llu%s", st->name,
	    (unsigned long long)ring_head_seq(r), c->pub.paced ? ", paced" :
	    "");
	client_reply(c, "OK stream=%s seq=%llu epoch=%s max-frame=%llu "
	    "ring=%zu", st->name, (unsigned long long)ring_head_seq(r),
	    st->epoch, (unsigned long long)c->srv->cfg.max_frame,
	    ring_size(r));
	if (h->min_subs > 0) {
		c->pub.want_subs = h->min_subs;
		publisher_subscribed(st);
	}
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
		client_set_state(c, CS_ACTIVE);
		log_client(c, LOG_DEBUG, "released: stream %s has drained",
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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "cutoff.h"
#include "frame.h"
#include "log.h"
#include "num.h"
#include "reader.h"
#include "server.h"
#include "stream.h"

/* ---- Where it starts ---- */

/*
 * Where a new subscriber starts, from its hello's from=, epoch= and
 * resume=: "now" (default), "oldest", "-N" (the last N frames) or a
 * sequence number.  A sequence from another epoch of the stream means
 * nothing here, so that subscriber gets the oldest frames and sees the new
 * epoch in the answer.  An end mark right before the start is left out,
 * unless resume=1 and the start is the frame asked for: a client that had
 * frame SEQ - 1 but not the end that may follow it.
 * Returns -1 when from= is not one of these.
 */
static int
start_point(const struct stream *st, const struct sub_hello *h,
    uint64_t *pos, uint64_t *seq)
{
	struct ring *r = st->ring;
	uint64_t oldest_pos, oldest, hard_pos, hard, n;
	int exact = 0;

	stream_oldest(st, 1, &oldest_pos, &oldest);
	stream_oldest(st, 0, &hard_pos, &hard);
	*pos = ring_head(r);
	*seq = ring_head_seq(r);
	if (h->from == NULL || strcmp(h->from, "now") == 0)
		return 0;
	if (strcmp(h->from, "oldest") == 0) {
		n = oldest;
	} else if (h->from[0] == '-') {
		if (num_parse(h->from + 1, 0, UINT64_MAX, &n) != NULL)
			return -1;
		n = n > *seq - oldest ? oldest : *seq - n;
	} else {
		if (num_parse(h->from, 0, UINT64_MAX, &n) != NULL)
			return -1;
		/* Gone from the ring, or from another epoch: the oldest;
		 * the answer's seq (or epoch) shows the gap.  A frame still
		 * held is given even without the headroom of "oldest". */
		if ((h->epoch != NULL && strcmp(h->epoch, st->epoch) != 0) ||
		    n < hard)
			n = oldest;
		else if (n > *seq)
			n = *seq;
		else
			exact = 1;
	}
	*seq = n;
	if (n == oldest)
		*pos = oldest_pos;
	else if (n == hard)
		*pos = hard_pos;
	else if (ring_find(r, n, pos) == -1)
		return -1;
	if (!(h->resume && exact))
		*pos = stream_past_marks(st, *pos);
	return 0;
}

int
subscriber_start(struct client *c, struct stream *st,
    const struct sub_hello *h)
{
	struct server *s = c->srv;
	struct ring *r = st->ring;
	uint64_t pos, seq;
	int sndbuf;
	char where[48];

	if (start_point(st, h, &pos, &seq) == -1)
		return -1;
	c->stream = st;
	/* reader_offer sets c->sub.shared once the ring is handed over. */
	if (h->shared)
		(void)reader_offer(c, st);
	client_start(c, ROLE_SUB, c->sub.shared ? &shared_reader_ops :
	    &subscriber_ops);
	c->sub.pos = pos;
	c->sub.start_seq = seq;
	c->sub.skip_on_lag = h->skip_on_lag;
	c->sub.own_lag = h->max_lag;
	/* A replay may start further back than its max-lag; it must not
	 * fall further behind than that until it catches up. */
	c->sub.lag_limit = ring_head(r) - pos > h->max_lag ?
	    ring_head(r) - pos : h->max_lag;
	c->sub.progress_ms = s->now;
	/* A larger kernel buffer absorbs a network's jitter. */
	sndbuf = (int)s->cfg.sndbuf;
	if (sndbuf > 0 && !c->sub.shared && setsockopt(c->w.fd, SOL_SOCKET,
	    SO_SNDBUF, &sndbuf, sizeof(sndbuf)) == -1)
		log_client(c, LOG_INFO, "--sndbuf: %s", strerror(errno));
	TAILQ_INSERT_TAIL(&st->subs, c, slink);
	st->nsubs++;
	log_client(c, LOG_DEBUG, "subscribed to %s at seq %llu%s", st->name,
	    (unsigned long long)seq, c->plain ? ", plain" :
	    c->sub.shared ? ", shared" : "");
	/* A shared reader starts at byte pos of the ring it maps. */
	where[0] = '\0';
	if (c->sub.shared)
		snprintf(where, sizeof(where), " shared=1 pos=%llu",
		    (unsigned long long)pos);
	if (!c->plain)
		client_reply(c, "OK stream=%s seq=%llu epoch=%s "
		    "max-frame=%llu ring=%zu%s", st->name,
		    (unsigned long long)seq, st->epoch,
		    (unsigned long long)s->cfg.max_frame, ring_size(r), where);
	publisher_subscribed(st);
	/* Its ring file was found cut short as it was handed over
	 * (reader_offer): cut off as every reader of it was. */
	if (st->damaged)
		cutoff_cut_off(c, CUT_DAMAGED, "");
	return 0;
}

/* ---- Writes ---- */

int
send_data(struct client *c)
{
	struct subscriber *sub = &c->sub;
	struct ring *r = c->stream->ring;
	uint64_t limit = c->state == CS_ACTIVE ? ring_head(r) : sub->stop;
	uint64_t end;
	ssize_t n;

	if (sub->shared)
		return reader_wake(c);   /* it takes the ring itself */
	while (sub->tail_off < sub->tail_len) {
		if ((n = client_write(c, sub->tail + sub->tail_off,
		    sub->tail_len - sub->tail_off)) == -1)
			return -1;
		sub->tail_off += (size_t)n;
		sub->bytes_out += (uint64_t)n;
		sub->progress_ms = c->srv->now;
	}
	cutoff_drop_tail(c);
	while (sub->pos < limit) {
		end = limit;
		if (c->plain) {
			/* Data frames only: up to the next end mark, which
			 * is passed over unsent. */
			if ((end = stream_next_mark(c->stream, sub->pos)) ==
			    sub->pos) {
				sub->pos = stream_past_marks(c->stream,
				    sub->pos);
				continue;
			}
			if (end > limit)
				end = limit;
		}
		/* One write: the ring makes every run contiguous. */
		if ((n = client_write(c, ring_at(r, sub->pos),
		    end - sub->pos)) == -1) {
			/* EFAULT: the ring's file was cut short under it. */
			if (errno == EFAULT && ring_probe(r, sub->pos,
			    (size_t)(end - sub->pos)))
				server_check_damage(c->srv);
			return -1;
		}
		sub->pos += (uint64_t)n;
		sub->bytes_out += (uint64_t)n;
		sub->progress_ms = c->srv->now;
	}
	/* Nothing left to take is not a stall either. */
	sub->progress_ms = c->srv->now;
	return 0;
}

/* Write what c is owed: control lines, SKIP notices, ring data (a skip
 * under way lands here), and for a departing one its goodbye. */
static enum flush
write_out(struct client *c, int *err)
{
	if (c->blocked)
		return FLUSH_BLOCKED;
	for (;;) {
		if (client_send_ctl(c, c->ctl_split) == -1)
			goto failed;
		if (c->sub.skip_count > 0) {
			cutoff_owe_skip(c);
			continue;
		}
		if (send_data(c) == -1)
			goto failed;
		if (c->state != CS_FINISHING)
			break;
		cutoff_finish_skip(c);
	}
	if (c->state != CS_DEPARTING)
		return FLUSH_OK;
	if (client_send_ctl(c, c->ctl_len) == -1)
		goto failed;
	return FLUSH_DONE;
failed:
	if (c->blocked)
		return FLUSH_BLOCKED;
	if (c->sub.cut == CUT_DAMAGED)
		return FLUSH_OK;   /* its cut-off is acted on next */
	*err = errno;
	return FLUSH_GONE;
}

/*
 * The subscriber's flush: its cut-off if one was decided, then its
 * writes, then the limits on what it could not take.  A limit passed is
 * acted on at once, once.
 */
static enum flush
flush(struct client *c, int *err)
{
	enum flush f = FLUSH_OK;
	int round;

	for (round = 0; round < 2; round++) {
		if (c->sub.cut != CUT_NONE && cutoff_act(c) == -1)
			return FLUSH_CUT;
		f = write_out(c, err);
		if (f != FLUSH_OK && f != FLUSH_BLOCKED)
			return f;
		if (!cutoff_check(c))
			return f;
	}
	client_schedule(c);   /* decided again: act on it in this pass */
	return f;
}

/* ---- Reads, close ---- */

/* Input from a subscriber: only its hang-up is expected. */
static int
read_input(struct client *c, int *err)
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

/* What came after its hello in the same read: a subscriber sends none,
 * and keeps no input buffer. */
static int
consume(struct client *c)
{
	if (c->in_len > 0) {
		client_error(c, "not-a-publisher", "a subscriber sent a frame");
		return -1;
	}
	free(c->in);
	c->in = NULL;
	c->in_len = c->in_cap = 0;
	return -1;
}

static void
close_subscriber(struct client *c)
{
	TAILQ_REMOVE(&c->stream->subs, c, slink);
	c->stream->nsubs--;
	cutoff_drop_tail(c);
}

const struct role_ops subscriber_ops = {
	.name = "sub",
	.read = read_input,
	.consume = consume,
	.flush = flush,
	.tick = cutoff_tick,
	.cut_off = cutoff_cut_off,
	.close = close_subscriber,
};

/* The same role, reading the ring itself: it sends position reports. */
const struct role_ops shared_reader_ops = {
	.name = "sub",
	.read = reader_read,
	.consume = reader_consume,
	.flush = flush,
	.tick = cutoff_tick,
	.cut_off = cutoff_cut_off,
	.close = close_subscriber,
};

/* ---- What others ask ---- */

int
subscriber_holds(const struct client *c)
{
	return (c->state == CS_ACTIVE || c->state == CS_FINISHING) &&
	    c->sub.cut == CUT_NONE && !c->sub.untethered;
}

uint64_t
subscriber_lag(const struct client *c)
{
	uint64_t end;

	if (c->role != ROLE_SUB)
		return 0;
	end = c->state == CS_DEPARTING ? c->sub.stop :
	    ring_head(c->stream->ring);
	return (end > c->sub.pos ? end - c->sub.pos : 0) +
	    (c->sub.tail_len - c->sub.tail_off);
}

uint64_t
subscriber_frames_sent(const struct client *c)
{
	uint64_t start, seq, n;

	if (c->role != ROLE_SUB)
		return 0;
	if (ring_locate(c->stream->ring, c->sub.pos, &start, &seq) == -1)
		/* Gone from the ring: it is finishing the frame before its
		 * stop from what was kept aside. */
		seq = c->sub.stop_seq > 0 ? c->sub.stop_seq - 1 : 0;
	n = seq - c->sub.start_seq;
	return n > c->sub.skipped ? n - c->sub.skipped : 0;
}

const char *
subscriber_standing(const struct client *c)
{
	if (c->sub.untethered)
		return "untethered";
	if (c->sub.over_since != 0 || c->sub.cut != CUT_NONE ||
	    subscriber_lag(c) > ring_size(c->stream->ring) / 8)
		return "lagging";
	return "live";
}

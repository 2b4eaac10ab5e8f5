/*
 * Who is cut off and why: a subscriber's lag limits (its own max-lag, sfd
 * --max-lag and --lag-time, the ring itself), --stall, kicks and
 * shutdown; what a cut-off sends (the goodbye and the log line), and the
 * skips of on-lag=skip.  Part of the subscriber role (subscriber.h); the
 * stream only says where things are (stream.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cutoff.h"
#include "frame.h"
#include "log.h"
#include "server.h"
#include "stream.h"

/* ---- Skips ---- */

void
cutoff_owe_skip(struct client *c)
{
	char where[32] = "";

	if (c->sub.skip_count > 0) {
		/* A shared reader also needs where in the ring to go on. */
		if (c->sub.shared)
			snprintf(where, sizeof(where), " pos=%llu",
			    (unsigned long long)c->sub.skip_pos);
		client_reply(c, "SKIP seq=%llu count=%llu%s",
		    (unsigned long long)c->sub.skip_seq,
		    (unsigned long long)c->sub.skip_count, where);
		c->sub.skip_count = 0;
	}
}

/* Count data frames from .. to - 1 as skipped, for its SKIP notice. */
static void
count_skip(struct client *c, uint64_t from, uint64_t to)
{
	if (to == from)
		return;   /* nothing but marks passed over */
	if (c->sub.skip_count == 0)
		c->sub.skip_seq = from;
	c->sub.skip_count += to - from;
	/* The first skip is news; the rest of a long stall only with -v. */
	log_client(c, c->sub.skipped == 0 ? LOG_INFO : LOG_DEBUG, "skipped "
	    "ahead on stream %s: %llu frames (seq %llu..%llu)",
	    c->stream->name, (unsigned long long)(to - from),
	    (unsigned long long)from, (unsigned long long)to - 1);
	c->sub.skipped += to - from;
}

/*
 * How far behind the newest frame a skip lands: half the tightest limit
 * on it, so it has room to fall behind again before the next skip.
 */
static uint64_t
skip_keep(const struct client *c)
{
	uint64_t limit = stream_safe_lag(c->stream);

	if (c->sub.own_lag > 0 && c->sub.own_lag < limit)
		limit = c->sub.own_lag;
	if (c->srv->cfg.max_lag > 0 && c->srv->cfg.max_lag < limit)
		limit = c->srv->cfg.max_lag;
	return limit / 2;
}

/*
 * Jump c, standing on the start of frame seq, ahead to where a skip lands
 * (stream_skip_target); the frames passed over are counted for its SKIP
 * notice.  Standing on an end mark, it first finishes that.  Returns 0
 * when there was nowhere to go.
 */
static int
jump(struct client *c, uint64_t seq)
{
	uint64_t to, to_seq;

	client_set_state(c, CS_ACTIVE);
	switch (stream_skip_target(c->stream, c->sub.pos, skip_keep(c), &to,
	    &to_seq)) {
	case SKIP_NONE:
		return 0;   /* caught up meanwhile: nothing to skip */
	case SKIP_MARK_FIRST:
		/* It goes out first, as if it were the frame in progress;
		 * the skip follows it. */
		c->sub.stop = to;
		c->sub.stop_seq = seq;
		client_set_state(c, CS_FINISHING);
		return 1;
	case SKIP_TO:
		break;
	}
	c->sub.over_since = 0;   /* a new start for sfd --max-lag */
	count_skip(c, seq, to_seq);
	c->sub.pos = c->sub.skip_pos = to;
	return 1;
}

/* ---- Cut-offs: deciding ---- */

/*
 * Where c stops, while the ring still holds it: the end of the frame it
 * is in (unchanged while finishing one; at pos when its frame ends with a
 * kept tail).  -1 when its current frame was already overwritten.
 */
static int
fix_stop(struct client *c)
{
	if (c->state == CS_FINISHING)
		return 0;
	if (c->sub.tail != NULL) {
		c->sub.stop = c->sub.pos;
		c->sub.stop_seq = ring_head_seq(c->stream->ring);
		return 0;
	}
	return stream_stop_point(c->stream, c->sub.pos, &c->sub.stop,
	    &c->sub.stop_seq);
}

/*
 * Decide that c is cut off for why, at lag bytes behind: fix where it
 * stops (the end of its frame, or with CUT_SHUTDOWN the newest frame).
 * With on-lag=skip a lagging subscriber is moved ahead instead.  Nothing
 * is sent here.  Returns 1 when there is something to act on.
 */
static int
decide(struct client *c, enum cut why, uint64_t lag)
{
	int lagging = why == CUT_RING || why == CUT_OWN || why == CUT_SLOW;

	if (c->sub.cut != CUT_NONE || c->state == CS_DEPARTING ||
	    c->state == CS_CLOSED)
		return 0;   /* already on its way out */
	if (c->state == CS_FINISHING && lagging)
		return 0;   /* a skip is under way */
	if (fix_stop(c) == -1)
		why = CUT_TORN;

	/* Shutting down, it gets all there is; unless the ring already ran
	 * over where its kept tail ends. */
	if (why == CUT_SHUTDOWN && c->sub.tail == NULL)
		c->sub.stop = ring_head(c->stream->ring);
	c->sub.cut = why;
	c->sub.cut_lag = lag;
	if (lagging && c->sub.skip_on_lag) {
		/* A skip is not a departure: on a frame boundary it jumps
		 * at once, else after the frame it is in. */
		c->sub.cut = CUT_NONE;
		if (c->sub.stop != c->sub.pos)
			client_set_state(c, CS_FINISHING);
		else if (!jump(c, c->sub.stop_seq))
			return 0;   /* nowhere to go: nothing to act on */
	}
	return 1;
}

/* A cut-off decided outside c's own flush: act on it before the loop
 * sleeps. */
static void
cut_later(struct client *c, enum cut why, uint64_t lag)
{
	if (decide(c, why, lag))
		client_schedule(c);
}

/* The cut-offs the connection layer asks for: shutdown and kick. */
void
cutoff_cut_off(struct client *c, enum cut why, const char *by)
{
	if (why == CUT_KICKED)
		snprintf(c->sub.kick, sizeof(c->sub.kick), "%s", by);
	if (why == CUT_DAMAGED && c->state == CS_DEPARTING &&
	    c->sub.tail == NULL && c->sub.pos < c->sub.stop) {
		/* Leaving already, with more to send from the ring. */
		log_client(c, LOG_INFO, "closed before its goodbye: the ring "
		    "file of stream %s was cut short", c->stream->name);
		client_close(c);
		return;
	}
	cut_later(c, why, why == CUT_KICKED ? subscriber_lag(c) : 0);
}

void
subscriber_refuse(struct client *c, const char *reason)
{
	if (c->state == CS_ACTIVE && fix_stop(c) == -1) {
		c->sub.cut = CUT_TORN;
		client_schedule(c);
		return;
	}
	cutoff_owe_skip(c);   /* still owed, before the goodbye */
	client_depart(c, "ERR reason=%s", reason);
}

/* ---- Cut-offs: acting ---- */

/* The goodbye for a subscriber cut off for lagging, and the log line. */
static void
evict(struct client *c, enum cut why)
{
	struct server *s = c->srv;
	struct stream *st = c->stream;
	unsigned long long seq = c->sub.stop_seq,
	    head = ring_head_seq(st->ring), lag = c->sub.cut_lag;
	char why_text[160];

	st->evicted[why == CUT_SLOW ? EV_SLOW : EV_LAG]++;
	cutoff_owe_skip(c);
	switch (why) {
	case CUT_OWN:
		snprintf(why_text, sizeof(why_text), "reason=lag: %llu bytes "
		    "behind, past its own max-lag %llu", lag,
		    (unsigned long long)c->sub.own_lag);
		client_depart(c, "BYE reason=lag seq=%llu lag=%llu "
		    "max-lag=%llu", seq, lag,
		    (unsigned long long)c->sub.own_lag);
		break;
	case CUT_SLOW:
		snprintf(why_text, sizeof(why_text), "reason=slow: %llu bytes "
		    "behind, over --max-lag %llu for %llu s", lag,
		    (unsigned long long)s->cfg.max_lag,
		    (unsigned long long)s->cfg.lag_ms / 1000);
		client_depart(c, "BYE reason=slow seq=%llu lag=%llu "
		    "max-lag=%llu lag-time=%llu", seq, lag,
		    (unsigned long long)s->cfg.max_lag,
		    (unsigned long long)s->cfg.lag_ms / 1000);
		break;
	default:
		snprintf(why_text, sizeof(why_text), "reason=lag: %llu bytes "
		    "behind, the ring of %zu bytes was about to overwrite "
		    "frames it had not received", lag, ring_size(st->ring));
		client_depart(c, "BYE reason=lag seq=%llu lag=%llu ring=%zu",
		    seq, lag, ring_size(st->ring));
		break;
	}
	log_client(c, LOG_INFO, "evicted from stream %s, %s; %llu frames not "
	    "received (seq %llu..%llu)", st->name, why_text, head - seq, seq,
	    head - 1);
}

/*
 * An evicted subscriber may be paused (a slow consumer, ^Z): its goodbye
 * waits --goodbye-time for it, not --grace, so that it learns why it was
 * cut off when it reads again.  At shutdown --grace bounds everyone.
 */
static void
linger(struct client *c)
{
	struct server *s = c->srv;

	if (!s->stopping && c->state == CS_DEPARTING)
		client_timer_set(c, &s->lingering, s->cfg.goodbye_ms);
}

int
cutoff_act(struct client *c)
{
	enum cut why = c->sub.cut;

	c->sub.cut = CUT_NONE;
	switch (why) {
	case CUT_NONE:
		break;
	case CUT_RING:
	case CUT_OWN:
	case CUT_SLOW:
		evict(c, why);
		linger(c);
		break;
	case CUT_SHUTDOWN:
		c->stream->evicted[EV_SHUTDOWN]++;
		cutoff_owe_skip(c);
		client_depart(c, "BYE reason=shutdown seq=%llu",
		    (unsigned long long)ring_head_seq(c->stream->ring));
		break;
	case CUT_KICKED:
		/* Counted and logged by the kick (admin.c). */
		cutoff_owe_skip(c);
		client_depart(c, "BYE reason=kicked seq=%llu%s",
		    (unsigned long long)c->sub.stop_seq, c->sub.kick);
		break;
	case CUT_DAMAGED:
		/* From a damaged ring nothing more is sent: the goodbye
		 * between two frames, or a close in the middle of one. */
		if (c->sub.stop != c->sub.pos) {
			log_client(c, LOG_INFO, "closed in the middle of a "
			    "frame: the ring file of stream %s was cut short",
			    c->stream->name);
			return -1;
		}
		cutoff_owe_skip(c);
		log_client(c, LOG_INFO, "cut off: the ring file of stream %s "
		    "was cut short", c->stream->name);
		client_depart(c, "BYE reason=spool seq=%llu",
		    (unsigned long long)c->sub.stop_seq);
		break;
	case CUT_TORN:
		log_client(c, LOG_INFO, "closed: the ring wrapped over the "
		    "frame it was in the middle of, and its rest could not be "
		    "kept aside (out of memory, or --goodbye-memory %llu "
		    "bytes in use)", (unsigned long long)
		    c->srv->cfg.goodbye_mem);
		return -1;
	}
	return 0;
}

/* ---- Limits ---- */

/* 1 once c has been over sfd --max-lag for --lag-time without a break. */
static int
too_slow(struct client *c, uint64_t lag)
{
	struct server *s = c->srv;

	if (s->cfg.max_lag == 0 || lag <= s->cfg.max_lag) {
		c->sub.over_since = 0;
		return 0;
	}
	if (c->sub.over_since == 0) {
		c->sub.over_since = s->now;
		server_tick_arm(s);
	}
	return s->now - c->sub.over_since >= (long long)s->cfg.lag_ms;
}

int
cutoff_check(struct client *c)
{
	uint64_t lag;

	if (c->state != CS_ACTIVE)
		return 0;
	lag = ring_head(c->stream->ring) - c->sub.pos;
	if (c->sub.own_lag > 0) {
		/* Its own limit: what it could not take, at once.  A replay
		 * may start further back, but not fall further behind. */
		if (lag <= c->sub.own_lag)
			c->sub.lag_limit = c->sub.own_lag;
		else if (lag > c->sub.lag_limit)
			return decide(c, CUT_OWN, lag);
	}
	if (too_slow(c, lag))
		return decide(c, CUT_SLOW, lag);
	if (c->sub.untethered && c->sub.progress_ms == c->srv->now &&
	    stream_caught_up(c->stream, c->sub.pos)) {
		c->sub.untethered = 0;
		log_client(c, LOG_INFO, "reading again on stream %s: holds "
		    "paced publishers back again", c->stream->name);
	}
	return 0;
}

int
cutoff_tick(struct client *c)
{
	struct server *s = c->srv;
	struct stream *st = c->stream;
	uint64_t lag = ring_head(st->ring) - c->sub.pos;

	if (c->state != CS_ACTIVE && c->state != CS_FINISHING)
		return 0;
	if (st->nheld > 0 && !c->sub.untethered &&
	    (lag > 0 || c->sub.tail != NULL) &&
	    s->now - c->sub.progress_ms >= (long long)s->cfg.stall_ms) {
		c->sub.untethered = 1;
		log_client(c, LOG_INFO, "stalled on stream %s: took no byte "
		    "for %llu s, %llu bytes behind; no longer holds paced "
		    "publishers back", st->name,
		    (unsigned long long)(s->now - c->sub.progress_ms) / 1000,
		    (unsigned long long)lag);
	}
	if (c->state == CS_ACTIVE && too_slow(c, lag))
		cut_later(c, CUT_SLOW, lag);
	return c->sub.over_since != 0;
}

void
cutoff_finish_skip(struct client *c)
{
	if (c->sub.mark_owed) {
		/* Announce the skip up to the mark, then the mark itself. */
		c->sub.mark_owed = 0;
		count_skip(c, c->sub.stop_seq, c->sub.mark_seq);
		cutoff_owe_skip(c);
		client_reply(c, "EOS seq=%llu",
		    (unsigned long long)c->sub.mark_seq);
		c->sub.stop_seq = c->sub.mark_seq;
	}
	(void)jump(c, c->sub.stop_seq);
}

/* ---- Appends ---- */

/*
 * Make room for len more bytes kept aside within --goodbye-memory: close
 * the oldest departing subscribers that hold some, each logged.  -1 when
 * even that leaves too little.
 */
static int
kept_room(struct server *s, size_t len)
{
	struct client_list *lists[2] = { &s->lingering, &s->leaving };
	struct client *c, *next;
	int i;

	for (i = 0; i < 2; i++) {
		for (c = TAILQ_FIRST(lists[i]); c != NULL &&
		    s->kept_bytes + len > s->cfg.goodbye_mem; c = next) {
			next = TAILQ_NEXT(c, tlink);
			if (c->role != ROLE_SUB || c->sub.tail == NULL)
				continue;
			log_client(c, LOG_INFO, "closed before its goodbye: "
			    "frames kept aside for departing subscribers "
			    "reached --goodbye-memory (%llu bytes)",
			    (unsigned long long)s->cfg.goodbye_mem);
			client_close(c);
		}
	}
	return s->kept_bytes + len > s->cfg.goodbye_mem ? -1 : 0;
}

/*
 * A subscriber finishing a frame (departing, or before a skip) still needs
 * its rest, which the next append would overwrite: keep that rest aside.
 * Returns -1 when it cannot be kept (memory, or --goodbye-memory).
 */
static int
keep_tail(struct client *c)
{
	size_t len = (size_t)(c->sub.stop - c->sub.pos);

	/* At most one frame: --max-frame bounds it. */
	if (kept_room(c->srv, len) == -1 ||
	    (c->sub.tail = malloc(len)) == NULL)
		return -1;
	memcpy(c->sub.tail, ring_at(c->stream->ring, c->sub.pos), len);
	c->sub.tail_len = len;
	c->sub.tail_off = 0;
	c->sub.pos = c->sub.stop;
	c->srv->kept_bytes += len;
	log_client(c, LOG_DEBUG, "kept the last %zu bytes of its frame aside "
	    "as the ring wrapped", len);
	return 0;
}

void
cutoff_drop_tail(struct client *c)
{
	if (c->sub.tail == NULL)
		return;
	c->srv->kept_bytes -= c->sub.tail_len;
	free(c->sub.tail);
	c->sub.tail = NULL;
	c->sub.tail_len = c->sub.tail_off = 0;
}

/*
 * Its own max-lag, checked per append rather than once a turn: a
 * subscriber that these frames take past its limit is first given what
 * it can take now (nothing else is owed it first: no control line, no
 * skip, no kept tail); if its socket is full (a shared reader: from
 * where it last said it was), it is cut off at the first
 * of the frames that takes it past, so its lag at the cut is within one
 * frame of the limit however much the publisher sends in one turn.
 */
static void
own_limit(struct client *c, const unsigned char *frames, size_t len)
{
	uint64_t head = ring_head(c->stream->ring), limit = c->sub.lag_limit;
	size_t off = 0;
	uint32_t flen;
	int control;

	if (c->sub.own_lag == 0 || c->sub.skip_on_lag ||
	    c->state != CS_ACTIVE || c->sub.cut != CUT_NONE ||
	    head + len - c->sub.pos <= limit)
		return;
	/* A write that fails is seen by its own flush.  One that took part
	 * and then blocked has still moved it on: the lag is measured again
	 * either way, or it would be cut off under its limit. */
	if (!c->sub.shared && !c->blocked && c->ctl_len == 0 &&
	    c->sub.skip_count == 0 && c->sub.tail == NULL)
		(void)send_data(c);
	if (head + len - c->sub.pos <= limit)
		return;   /* it took enough: within its limit after all */
	if (!c->blocked && !c->sub.shared)
		return;   /* it can still write: checked after its writes */
	while (off < len) {
		frame_get_header(frames + off, &flen, &control);
		off += FRAME_HDR + flen;
		if (head + off - c->sub.pos > limit)
			break;
	}
	cut_later(c, CUT_OWN, head + off - c->sub.pos);
}

void
subscribers_before_append(struct stream *st, const unsigned char *frames,
    size_t len)
{
	uint64_t hard = stream_hard_lag(st), after;
	struct client *c;

	/*
	 * The hard limit, the only one by default: a subscriber is cut off
	 * only when frames it still needs are about to be overwritten.  Why
	 * not wait for it?  Waiting would slow the publisher and every other
	 * subscriber down to it; a publisher that can wait asks for pace=1.
	 */
	after = ring_head(st->ring) + len;
	for (c = TAILQ_FIRST(&st->subs); c != NULL; c = TAILQ_NEXT(c, slink)) {
		own_limit(c, frames, len);
		if (c->sub.tail != NULL || c->sub.cut == CUT_TORN)
			continue;   /* needs nothing more from the ring */
		if (after - c->sub.pos <= hard)
			continue;   /* its frame survives this append */
		if (c->state == CS_ACTIVE && c->sub.cut == CUT_NONE)
			cut_later(c, CUT_RING, after - c->sub.pos);
		if (c->sub.shared)
			continue;   /* keeps nothing: takes nothing from us */
		/* Cut off, or finishing a frame before a skip: what it still
		 * takes up to its stop is kept aside, as the ring will not
		 * hold it.  (A skip that jumped may be clear of it now.) */
		if (c->sub.cut == CUT_TORN || c->sub.stop <= c->sub.pos ||
		    after - c->sub.pos <= hard)
			continue;
		if ((c->state == CS_ACTIVE && c->sub.cut == CUT_NONE) ||
		    keep_tail(c) == -1) {
			c->sub.cut = CUT_TORN;
			client_schedule(c);
		}
	}
}

void
subscribers_marks_leaving(struct stream *st)
{
	const struct mark *m;
	struct client *c;
	size_t i;

	/* One that had not reached the mark and is finishing a frame from
	 * what was kept aside, to skip after, is owed it: its skip ends
	 * there, as it would have in the ring.  (Any other subscriber
	 * behind it was cut off, or skipped to it, before the append.) */
	for (i = 0; i < st->marks_len; i++) {
		m = &st->marks[i];
		if (m->pos >= ring_tail(st->ring))
			break;
		for (c = TAILQ_FIRST(&st->subs); c != NULL;
		    c = TAILQ_NEXT(c, slink)) {
			if (c->state == CS_FINISHING && !c->sub.mark_owed &&
			    c->sub.pos <= m->pos) {
				c->sub.mark_owed = 1;
				c->sub.mark_seq = m->seq;
			}
		}
	}
}


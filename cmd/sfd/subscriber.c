#include <stdio.h>

#include "client.h"
#include "log.h"
#include "output.h"
#include "queue.h"
#include "stream.h"
#include "subscriber.h"

/* The goodbye for a subscriber cut off for lagging, and the log line. */
static void
evict(struct client *c, enum cut why)
{
	struct server *s = c->srv;
	struct stream *st = c->stream;
	unsigned long long seq = c->sub.stop_seq, head = ring_head_seq(st->ring),
	    lag = c->sub.cut_lag;
	char why_text[160];

	st->evicted[why == CUT_SLOW ? EV_SLOW : EV_LAG]++;
	switch (why) {
	case CUT_OWN:
		snprintf(why_text, sizeof(why_text), "reason=lag: %llu bytes "
		    "behind, past its own max-lag %llu", lag,
		    (unsigned long long)c->sub.own_lag);
		client_depart(c, "BYE reason=lag seq=%llu lag=%llu "
		    "max-lag=%llu", seq, lag, (unsigned long long)c->sub.own_lag);
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
	client_log(c, LOG_INFO, "evicted from stream %s, %s; %llu frames not "
	    "received (seq %llu..%llu)", st->name, why_text, head - seq, seq,
	    head - 1);
}

int
subscriber_cut(struct client *c)
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
		break;
	case CUT_SHUTDOWN:
		c->stream->evicted[EV_SHUTDOWN]++;
		client_depart(c, "BYE reason=shutdown seq=%llu",
		    (unsigned long long)ring_head_seq(c->stream->ring));
		break;
	case CUT_KICKED:
		/* Counted and logged by the kick (control.c). */
		client_depart(c, "BYE reason=kicked seq=%llu%s",
		    (unsigned long long)c->sub.stop_seq, c->sub.kick);
		break;
	case CUT_TORN:
		client_log(c, LOG_INFO, "closed: the ring wrapped over the "
		    "frame it was in the middle of, and there was no memory "
		    "to keep its rest aside");
		return -1;
	}
	return 0;
}

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
subscriber_check(struct client *c)
{
	uint64_t lag;

	if (c->state != CS_ACTIVE)
		return 0;
	lag = ring_head(c->stream->ring) - c->sub.pos;
	if (c->sub.own_lag > 0) {
		/* Its own limit: what it could not take, at once.  A replay
		 * may start further back, but not fall further behind. */
		if (lag <= c->sub.own_lag) {
			c->sub.lag_limit = c->sub.own_lag;
		} else if (lag > c->sub.lag_limit) {
			stream_cut(c, CUT_OWN, lag);
			return 1;
		}
	}
	if (too_slow(c, lag)) {
		stream_cut(c, CUT_SLOW, lag);
		return 1;
	}
	if (c->sub.untethered && c->sub.progress_ms == c->srv->now &&
	    stream_caught_up(c)) {
		c->sub.untethered = 0;
		client_log(c, LOG_INFO, "reading again on stream %s: holds "
		    "paced publishers back again", c->stream->name);
	}
	return 0;
}

int
subscriber_tick(struct client *c)
{
	struct server *s = c->srv;
	struct stream *st = c->stream;
	uint64_t lag = ring_head(st->ring) - c->sub.pos;

	if (c->state != CS_ACTIVE && c->state != CS_FINISHING)
		return 0;
	if (st->nheld > 0 && !c->sub.untethered && (lag > 0 || c->sub.tail != NULL) &&
	    s->now - c->sub.progress_ms >= (long long)s->cfg.stall_ms) {
		c->sub.untethered = 1;
		client_log(c, LOG_INFO, "stalled on stream %s: took no byte "
		    "for %llu s, %llu bytes behind; no longer holds paced "
		    "publishers back", st->name,
		    (unsigned long long)(s->now - c->sub.progress_ms) / 1000,
		    (unsigned long long)lag);
	}
	if (c->state == CS_ACTIVE && too_slow(c, lag))
		stream_cut(c, CUT_SLOW, lag);
	return c->sub.over_since != 0;
}

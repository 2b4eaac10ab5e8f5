#include "log.h"
#include "output.h"
#include "stream.h"
#include "subscriber.h"

/* Evict a subscriber that fell too far behind, telling it why. */
static void
evict(struct client *c)
{
	struct ring *r = c->stream->ring;
	uint64_t seq = c->stop_seq;

	client_log(c, LOG_INFO, "evicted from stream %s: lag %llu bytes > "
	    "max-lag %llu; %llu frames not received (seq %llu..%llu)",
	    c->stream->name, (unsigned long long)c->cut_lag,
	    (unsigned long long)c->srv->cfg.max_lag,
	    (unsigned long long)(ring_head_seq(r) - seq),
	    (unsigned long long)seq, (unsigned long long)ring_head_seq(r) - 1);
	client_depart(c, "BYE reason=lag seq=%llu lag=%llu",
	    (unsigned long long)seq, (unsigned long long)c->cut_lag);
}

int
subscriber_cut(struct client *c)
{
	enum cut why = c->cut;

	c->cut = CUT_NONE;
	switch (why) {
	case CUT_NONE:
		break;
	case CUT_LAG:
		evict(c);
		break;
	case CUT_SHUTDOWN:
		client_depart(c, "BYE reason=shutdown seq=%llu",
		    (unsigned long long)ring_head_seq(c->stream->ring));
		break;
	case CUT_TORN:
		client_log(c, LOG_INFO, "closed: the ring wrapped over the "
		    "frame it was in the middle of");
		return -1;
	}
	return 0;
}

int
subscriber_check(struct client *c)
{
	uint64_t lag, max_lag = c->srv->cfg.max_lag;

	if (c->state != CS_ACTIVE)
		return 0;
	/* Lag is what the subscriber could not take: why cut it off rather
	 * than wait?  Waiting would slow the publisher and every other
	 * subscriber down to it. */
	lag = ring_head(c->stream->ring) - c->pos;
	if (lag <= max_lag) {
		c->lag_limit = max_lag;   /* caught up */
		return 0;
	}
	if (lag <= c->lag_limit)
		return 0;
	stream_cut(c, CUT_LAG, lag);
	return 1;
}

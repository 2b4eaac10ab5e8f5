#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "frame.h"
#include "log.h"
#include "output.h"
#include "stream.h"

/*
 * A fresh random id, so a client resuming by sequence number can tell this
 * stream from an earlier one of the same name (before a daemon restart).
 */
static void
new_epoch(char *buf, size_t cap)
{
	unsigned long long v;
	struct timespec ts;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		v = (unsigned long long)ts.tv_nsec << 32 ^
		    (unsigned long long)ts.tv_sec ^ (unsigned long long)getpid();
	}
	snprintf(buf, cap, "%016llx", v);
}

struct stream *
stream_get(struct server *s, const char *name)
{
	struct stream *st;

	TAILQ_FOREACH(st, &s->streams, link)
		if (strcmp(st->name, name) == 0)
			return st;
	if (s->nstreams >= s->cfg.max_streams) {
		errno = ENOSPC;
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->ring = ring_new(s->cfg.ring);
	if (st->ring == NULL && errno == EMFILE && s->spare_fd != -1) {
		/* The ring needs a descriptor for a moment: lend it ours. */
		close(s->spare_fd);
		st->ring = ring_new(s->cfg.ring);
		s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (st->ring == NULL) {
		int saved = errno;
		free(st);
		errno = saved;
		return NULL;
	}
	snprintf(st->name, sizeof(st->name), "%s", name);
	new_epoch(st->epoch, sizeof(st->epoch));
	TAILQ_INIT(&st->subs);
	TAILQ_INIT(&st->pubs);
	TAILQ_INSERT_TAIL(&s->streams, st, link);
	s->nstreams++;
	log_msg(LOG_DEBUG, "stream %s created, ring of %zu bytes", st->name,
	    ring_size(st->ring));
	return st;
}

void
stream_free(struct stream *st)
{
	ring_free(st->ring);
	free(st);
}

/* How far behind the newest frame a subscriber can be and still be sure
 * to get its current frame whole after the next append. */
static uint64_t
safe_lag(const struct server *s, const struct ring *r)
{
	return ring_size(r) - s->cfg.max_frame - FRAME_HDR - APPEND_MAX;
}

/* A subscriber is too far behind: skip it ahead if it asked, else evict. */
static void
lagging(struct client *c)
{
	if (c->skip_on_lag)
		client_skip(c);
	else
		client_evict(c);
}

/*
 * A subscriber finishing a frame (departing, or before a skip) still needs
 * its rest, which the next append would overwrite: keep that rest aside.
 * Returns -1 when it is too large to keep.
 */
static int
keep_tail(struct client *c)
{
	size_t len = (size_t)(c->stop - c->pos);

	if (len > TAIL_MAX || (c->tail = malloc(len)) == NULL)
		return -1;
	memcpy(c->tail, ring_at(c->stream->ring, c->pos), len);
	c->tail_len = len;
	c->tail_off = 0;
	c->pos = c->stop;
	client_log(c, LOG_DEBUG, "kept the last %zu bytes of its frame aside "
	    "as the ring wrapped", len);
	return 0;
}

void
stream_publish(struct server *s, struct stream *st,
    const unsigned char *frames, size_t len)
{
	struct ring *r = st->ring;
	struct client *c, *next;
	uint64_t lag;

	/*
	 * --max-lag is checked after the subscribers had their chance to
	 * take the new frames (stream_fanout); here only those whose unsent
	 * bytes this append would overwrite are dealt with, before it does.
	 */
	for (c = TAILQ_FIRST(&st->subs); c != NULL; c = next) {
		next = TAILQ_NEXT(c, slink);
		lag = ring_head(r) + len - c->pos;
		if (c->tail != NULL) {
			continue;   /* needs nothing more from the ring */
		} else if (lag <= ring_size(r)) {
			if (!c->leaving && lag > safe_lag(s, r))
				lagging(c);
		} else if (!(c->leaving || c->skip_wanted) ||
		    keep_tail(c) == -1) {
			client_log(c, LOG_INFO, "closed: the ring wrapped over "
			    "the frame it was in the middle of");
			client_close(c);
		}
	}
	ring_append(r, frames, len);
	if (!st->dirty) {
		st->dirty = 1;
		TAILQ_INSERT_TAIL(&s->dirty, st, dlink);
	}
}

void
stream_oldest(const struct server *s, const struct stream *st,
    uint64_t *pos, uint64_t *seq)
{
	const struct ring *r = st->ring;
	uint64_t keep = safe_lag(s, r);
	uint64_t from = ring_tail(r);

	if (ring_head(r) - from > keep)
		from = ring_head(r) - keep;
	(void)ring_align(r, from, pos, seq);   /* tail <= from <= head */
}

void
stream_fanout(struct server *s)
{
	struct client *c, *next;
	struct stream *st;
	uint64_t lag;

	while ((st = TAILQ_FIRST(&s->dirty)) != NULL) {
		TAILQ_REMOVE(&s->dirty, st, dlink);
		st->dirty = 0;
		for (c = TAILQ_FIRST(&st->subs); c != NULL; c = next) {
			next = TAILQ_NEXT(c, slink);
			if (!c->blocked)
				client_flush(c);
			if (c->closed || c->leaving)
				continue;
			/* Lag is what the subscriber could not take: why
			 * evict rather than wait?  Waiting would slow the
			 * publisher and every other subscriber down to it. */
			lag = ring_head(st->ring) - c->pos;
			if (lag <= s->cfg.max_lag)
				c->lag_limit = s->cfg.max_lag;   /* caught up */
			else if (lag > c->lag_limit)
				lagging(c);
		}
	}
}

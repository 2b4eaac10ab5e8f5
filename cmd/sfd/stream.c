#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "log.h"
#include "stream.h"

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
	if ((st->ring = ring_new(s->cfg.ring)) == NULL) {
		int saved = errno;
		free(st);
		errno = saved;
		return NULL;
	}
	snprintf(st->name, sizeof(st->name), "%s", name);
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

void
stream_publish(struct server *s, struct stream *st,
    const unsigned char *frames, size_t len)
{
	struct ring *r = st->ring;
	struct client *c, *next;
	uint64_t head;

	/*
	 * A departing subscriber still needs the rest of its last frame; if
	 * this append overwrites it, it can only be cut off.  (Subscribers
	 * that are not departing are never that far behind: --max-lag plus
	 * one append always fits in the ring.)
	 */
	if (st->nleaving > 0) {
		head = ring_head(r) + len;
		for (c = TAILQ_FIRST(&st->subs); c != NULL; c = next) {
			next = TAILQ_NEXT(c, slink);
			if (c->leaving && head - c->pos > ring_size(r)) {
				client_log(c, LOG_INFO, "closed: too slow to "
				    "take its goodbye before the ring wrapped");
				client_close(c);
			}
		}
	}
	ring_append(r, frames, len);

	/* Why evict rather than wait: waiting would slow the publisher and
	 * every other subscriber down to the slowest one. */
	head = ring_head(r);
	for (c = TAILQ_FIRST(&st->subs); c != NULL; c = next) {
		next = TAILQ_NEXT(c, slink);
		if (!c->leaving && head - c->pos > s->cfg.max_lag)
			client_evict(c);
	}
	if (!st->dirty) {
		st->dirty = 1;
		TAILQ_INSERT_TAIL(&s->dirty, st, dlink);
	}
}

void
stream_fanout(struct server *s)
{
	struct client *c, *next;
	struct stream *st;

	while ((st = TAILQ_FIRST(&s->dirty)) != NULL) {
		TAILQ_REMOVE(&s->dirty, st, dlink);
		st->dirty = 0;
		for (c = TAILQ_FIRST(&st->subs); c != NULL; c = next) {
			next = TAILQ_NEXT(c, slink);
			if (!c->blocked)
				client_flush(c);
		}
	}
}

/* Streams: a name, its ring, its publishers and subscribers. */
#ifndef SFD_STREAM_H
#define SFD_STREAM_H

#include "sfd.h"

/*
 * The stream called name, created on first use.  NULL with errno ENOSPC
 * when --max-streams are in use, else ring_new()'s (ENOMEM, EMFILE...).
 */
struct stream *stream_get(struct server *s, const char *name);

void stream_free(struct stream *st);

/*
 * Append whole frames from a publisher.  Subscribers that now lag more than
 * they may are evicted or skipped ahead; ones finishing a frame that was
 * overwritten meanwhile are closed.  Nobody is written to here: that is
 * stream_fanout's job, once per loop turn.
 */
void stream_publish(struct server *s, struct stream *st,
    const unsigned char *frames, size_t len);

/*
 * The oldest frame a new subscriber may start from: the oldest in the
 * ring that the next append cannot overwrite.
 */
void stream_oldest(const struct server *s, const struct stream *st,
    uint64_t *pos, uint64_t *seq);

/* Write to every subscriber of every stream that got frames, unless its
 * socket is full (it will be written to when it drains). */
void stream_fanout(struct server *s);

#endif

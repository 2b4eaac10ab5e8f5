/*
 * Streams: a name, its ring, its publishers and subscribers, and the
 * subscribers' positions in the ring.  This layer decides (who fell too
 * far behind, where a departing subscriber stops, where a skip lands) and
 * does no I/O: what it decides about a client is left on the server's
 * pending list, for the loop to act on before it sleeps.
 */
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
 * Append len bytes of whole frames (headers checked).  Before the ring
 * takes them, every subscriber they would leave too far behind is cut off
 * (stream_cut), and a departing one whose unsent bytes they would
 * overwrite keeps the rest of its frame aside.  The stream is marked for
 * fan-out.
 */
void stream_append(struct stream *st, const unsigned char *frames,
    size_t len);

/*
 * Decide that subscriber c is cut off for why, at lag bytes behind: fix
 * where it stops (the end of the frame it is in, or with CUT_SHUTDOWN the
 * newest frame) while the ring still holds it, and schedule it.  A
 * subscriber that asked for on-lag=skip is moved ahead instead when why
 * is CUT_LAG.  Nothing is sent here.
 */
void stream_cut(struct client *c, enum cut why, uint64_t lag);

/*
 * Where subscriber c can stop without cutting a frame (c->pos, or the end
 * of the frame it is in), and the seq of the first frame it will not have
 * received.  -1 when its current frame was already overwritten.
 */
int stream_stop_point(const struct client *c, uint64_t *stop, uint64_t *seq);

/*
 * Jump subscriber c, standing on the start of frame seq, ahead to where a
 * skip lands; the frames passed over are counted for the SKIP notice it
 * gets before its next data.
 */
void stream_jump(struct client *c, uint64_t seq);

/*
 * The oldest frame a new subscriber may start from: the oldest in the
 * ring that the next append cannot overwrite.
 */
void stream_oldest(const struct server *s, const struct stream *st,
    uint64_t *pos, uint64_t *seq);

/* Schedule every subscriber of every stream that got frames. */
void stream_fanout(struct server *s);

#endif

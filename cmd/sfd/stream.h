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
#include "subscriber.h"

/*
 * The stream called name, created on first use.  NULL with errno ENOSPC
 * when --max-streams are in use, EIO when its spool file cannot be made
 * (logged), else ring_new()'s (ENOMEM, EMFILE...).
 */
struct stream *stream_get(struct server *s, const char *name);

/* Free st; a spooled one is synced first (a clean stop loses nothing). */
void stream_free(struct stream *st);

/* A stream over ring r (and its file sp, or NULL), on the server's list;
 * for stream_get() and for restoring the spool.  NULL when out of memory. */
struct stream *stream_new(struct server *s, const char *name,
    const char *epoch, struct ring *r, struct spool *sp);

/* Remember an end mark at pos (seq of the data frame after it), so that
 * no skip passes over it.  -1 (ENOMEM) when that cannot be done. */
int stream_remember_mark(struct stream *st, uint64_t pos, uint64_t seq);

/* Sync the spool of every stream that took frames since its last sync. */
void stream_sync_all(struct server *s);

/*
 * Append len bytes of whole frames (headers checked).  Before the ring
 * takes them, every subscriber whose unsent frames they would overwrite
 * is cut off (stream_cut, CUT_RING), and a departing one keeps the rest
 * of its frame aside.  The stream is marked for fan-out.  Returns the
 * number of data frames appended.
 */
uint64_t stream_append(struct stream *st, const unsigned char *frames,
    size_t len);

/*
 * Append an end-of-stream mark, remembering where it is so that no skip
 * passes over it.  -1 (ENOMEM, nothing appended) when that cannot be
 * remembered.
 */
int stream_append_mark(struct stream *st, const unsigned char *frame,
    size_t len);

/*
 * The hard limit: how far behind the newest frame a subscriber may be,
 * just after an append, and still have its current frame whole in the
 * ring (the ring drops whole frames).
 */
uint64_t stream_hard_lag(const struct stream *st);

/* The same before an append: the hard limit less the largest append, so
 * that the next one cannot take the subscriber past it. */
uint64_t stream_safe_lag(const struct stream *st);

/*
 * 1 if a paced publisher must wait before appending len bytes: they would
 * take a subscriber that holds paced publishers back (one taking frames,
 * not stalled) to within an eighth of the ring of the hard limit.
 */
int stream_must_wait(const struct stream *st, size_t len);

/* 1 once every subscriber holding paced publishers back is a quarter of
 * the ring below that: held publishers may go on. */
int stream_drained(const struct stream *st);

/* 1 if subscriber c is within that same distance of the newest frame. */
int stream_caught_up(const struct client *c);

/*
 * Decide that subscriber c is cut off for why, at lag bytes behind: fix
 * where it stops (the end of the frame it is in, or with CUT_SHUTDOWN the
 * newest frame) while the ring still holds it, and schedule it.  A
 * subscriber that asked for on-lag=skip is moved ahead instead when it
 * lags (CUT_RING, CUT_OWN, CUT_SLOW).  Nothing is sent here.
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
 * skip lands (half its tightest limit behind the newest frame, or the
 * first end mark before that); the frames passed over are counted for the
 * SKIP notice it gets before its next data.  Returns 0 when there was
 * nowhere to go.
 */
int stream_jump(struct client *c, uint64_t seq);

/* Count data frames from .. to - 1 as skipped by c, for its SKIP notice. */
void stream_skip(struct client *c, uint64_t from, uint64_t to);

/*
 * The oldest frame a new subscriber may start from.  With headroom, the
 * oldest that leaves it a quarter of the ring to fall behind before the
 * hard limit (from=oldest, -N); without, the oldest that the next append
 * cannot overwrite (a subscriber resuming at a sequence number it asked
 * for gets all the ring can still give it).
 */
void stream_oldest(const struct stream *st, int headroom, uint64_t *pos,
    uint64_t *seq);

/*
 * pos, moved past any end marks that stand there: a new subscriber never
 * starts with the end of a stream that came before it.
 */
uint64_t stream_past_marks(const struct stream *st, uint64_t pos);

/* Where the first end mark at or after pos starts; UINT64_MAX if none. */
uint64_t stream_next_mark(const struct stream *st, uint64_t pos);

/* Schedule every subscriber of every stream that got frames. */
void stream_fanout(struct server *s);

#endif

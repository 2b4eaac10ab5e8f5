/*
 * Streams: a name, its ring (in memory or in the spool), its end marks,
 * and the arithmetic of lag over it: how far behind a subscriber may be,
 * where one can stop without cutting a frame, where a skip lands, whether
 * a paced publisher must wait.  It answers and does no I/O; it writes no
 * client field.  What happens to a subscriber is decided in
 * subscriber.c, from these answers.
 */
#ifndef SFD_STREAM_H
#define SFD_STREAM_H

#include "sfd.h"

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
 * Make room for len more bytes: the oldest frames they would overwrite are
 * dropped (a spool's file is synced first when it must be, and names the
 * new tail before any byte changes).
 */
void stream_make_room(struct stream *st, size_t len);

/*
 * Append len bytes of whole frames (headers checked), once the room is
 * made: end marks that went out of the ring are forgotten, and the stream
 * is marked for fan-out.  Returns the number of data frames appended.
 */
uint64_t stream_append(struct stream *st, const unsigned char *frames,
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

/* 1 if a subscriber at pos is within that same distance of the newest
 * frame. */
int stream_caught_up(const struct stream *st, uint64_t pos);

/*
 * Where a subscriber at pos can stop without cutting a frame (pos, or the
 * end of the frame it is in), and the seq of the first frame it will not
 * have received.  -1 when its current frame was already overwritten.
 */
int stream_stop_point(const struct stream *st, uint64_t pos, uint64_t *stop,
    uint64_t *seq);

/* Where a skip from pos lands: keep bytes behind the newest frame, or at
 * the first end mark before that. */
enum skip {
	SKIP_NONE,       /* within keep already: nowhere to go */
	SKIP_TO,         /* to (to_seq) */
	SKIP_MARK_FIRST  /* pos is an end mark: finish it first (to is its
	                    end); the skip comes after */
};
enum skip stream_skip_target(const struct stream *st, uint64_t pos,
    uint64_t keep, uint64_t *to, uint64_t *to_seq);

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

#endif

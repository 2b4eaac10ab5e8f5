#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "frame.h"
#include "log.h"
#include "queue.h"
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
stream_new(struct server *s, const char *name, const char *epoch,
    struct ring *r, struct spool *sp)
{
	struct stream *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->srv = s;
	st->ring = r;
	st->spool = sp;
	snprintf(st->name, sizeof(st->name), "%s", name);
	snprintf(st->epoch, sizeof(st->epoch), "%s", epoch);
	TAILQ_INIT(&st->subs);
	TAILQ_INIT(&st->pubs);
	TAILQ_INSERT_TAIL(&s->streams, st, link);
	s->nstreams++;
	st->created_ms = s->now;
	return st;
}

/* A new ring for stream name, in memory or in the spool; errno EIO when
 * its file could not be made (logged). */
static struct ring *
new_ring(struct server *s, const char *name, const char *epoch,
    struct spool **sp)
{
	char why[256];
	struct ring *r;

	*sp = NULL;
	if (s->spool_fd == -1)
		return ring_new(s->cfg.ring);
	*sp = spool_create(s->spool_fd, name, ring_round(s->cfg.ring), epoch,
	    s->cfg.spool_mode, s->cfg.spool_group, &r, why, sizeof(why));
	if (*sp == NULL) {
		log_msg(LOG_ERROR, "stream %s: spool %s: %s", name,
		    s->cfg.spool, why);
		errno = EIO;
		return NULL;
	}
	return r;
}

struct stream *
stream_get(struct server *s, const char *name)
{
	char epoch[sizeof(((struct stream *)0)->epoch)];
	struct stream *st;
	struct spool *sp;
	struct ring *r;
	int saved;

	TAILQ_FOREACH(st, &s->streams, link)
		if (strcmp(st->name, name) == 0)
			return st;
	if (s->nstreams >= s->cfg.max_streams) {
		errno = ENOSPC;
		return NULL;
	}
	new_epoch(epoch, sizeof(epoch));
	r = new_ring(s, name, epoch, &sp);
	if (r == NULL && errno == EMFILE && server_spare_lend(s)) {
		/* The ring needs a descriptor for a moment: lend it ours.
		 * Not getting it back is handled where it is needed. */
		r = new_ring(s, name, epoch, &sp);
		(void)server_spare_restore(s);
	}
	if (r == NULL)
		return NULL;
	if ((st = stream_new(s, name, epoch, r, sp)) == NULL) {
		saved = errno;
		ring_free(r);
		spool_close(sp);
		errno = saved;
		return NULL;
	}
	log_msg(LOG_DEBUG, "stream %s created, ring of %zu bytes%s", st->name,
	    ring_size(st->ring), sp != NULL ? " in the spool" : "");
	return st;
}

int
stream_remember_mark(struct stream *st, uint64_t pos, uint64_t seq)
{
	struct mark *p;
	size_t cap;

	if (st->marks_len == st->marks_cap) {
		cap = st->marks_cap == 0 ? 8 : st->marks_cap * 2;
		if ((p = realloc(st->marks, cap * sizeof(*p))) == NULL)
			return -1;
		st->marks = p;
		st->marks_cap = cap;
	}
	st->marks[st->marks_len].pos = pos;
	st->marks[st->marks_len].seq = seq;
	st->marks_len++;
	return 0;
}

/*
 * How much the ring may take after a sync before it would overwrite what
 * the synced record names: a quarter of it, and never less than one
 * append, so a sync is forced at most once per quarter of the ring.
 */
static size_t
sync_room(const struct stream *st)
{
	size_t quarter = ring_size(st->ring) / 4;
	size_t append = APPEND_MAX + st->srv->cfg.max_frame +
	    (size_t)2 * FRAME_HDR;

	return quarter > append ? quarter : append;
}

static void
sync_stream(struct stream *st)
{
	if (spool_sync(st->spool, st->ring, sync_room(st)) == -1) {
		if (!st->sync_failed)
			log_msg(LOG_ERROR, "stream %s: cannot sync the spool: "
			    "%s; a power cut may lose what it took since",
			    st->name, strerror(errno));
		st->sync_failed = 1;
		return;
	}
	if (st->sync_failed)
		log_msg(LOG_INFO, "stream %s: the spool syncs again", st->name);
	st->sync_failed = 0;
	st->unsynced = 0;
}

void
stream_sync_all(struct server *s)
{
	struct stream *st;

	TAILQ_FOREACH(st, &s->streams, link)
		if (st->spool != NULL && st->unsynced)
			sync_stream(st);
}

void
stream_free(struct stream *st)
{
	if (st->spool != NULL && st->unsynced)
		sync_stream(st);
	ring_free(st->ring);
	spool_close(st->spool);
	free(st->marks);
	free(st);
}

uint64_t
stream_hard_lag(const struct stream *st)
{
	return ring_size(st->ring) - st->srv->cfg.max_frame - FRAME_HDR;
}

uint64_t
stream_safe_lag(const struct stream *st)
{
	return stream_hard_lag(st) - APPEND_MAX;
}

/*
 * Where a paced publisher waits: an eighth of the ring short of the hard
 * limit.  The slack lets an unpaced publisher of the same stream append
 * without cutting anyone at once, and gives a stalled subscriber that no
 * longer holds the publisher back a moment to come back before it is
 * overwritten.
 */
static uint64_t
hold_lag(const struct stream *st)
{
	uint64_t safe = stream_safe_lag(st), eighth = ring_size(st->ring) / 8;

	return safe > eighth ? safe - eighth : 0;
}

/* Where it goes on: a quarter of the ring lower, so that it does not
 * flip on and off with every frame. */
static uint64_t
release_lag(const struct stream *st)
{
	uint64_t hold = hold_lag(st), quarter = ring_size(st->ring) / 4;

	return hold > quarter ? hold - quarter : 0;
}

int
stream_stop_point(const struct client *c, uint64_t *stop, uint64_t *seq)
{
	struct ring *r = c->stream->ring;
	uint64_t start;
	uint32_t len;
	int control;

	if (ring_locate(r, c->sub.pos, &start, seq) == -1)
		return -1;
	if (start == c->sub.pos) {
		*stop = c->sub.pos;
		return 0;
	}
	/* Mid-frame: finish it, so only whole frames ever reach the peer. */
	frame_get_header(ring_at(r, start), &len, &control);
	*stop = start + FRAME_HDR + len;
	if (!control)
		*seq += 1;   /* an end mark takes no number */
	return 0;
}

void
stream_cut(struct client *c, enum cut why, uint64_t lag)
{
	struct ring *r = c->stream->ring;

	int lagging = why == CUT_RING || why == CUT_OWN || why == CUT_SLOW;

	if (c->sub.cut != CUT_NONE || c->state == CS_DEPARTING ||
	    c->state == CS_CLOSED)
		return;   /* already on its way out */
	if (c->state == CS_FINISHING && lagging)
		return;   /* a skip is under way */
	if (c->state == CS_FINISHING) {
		/* stop is the end of the frame it is finishing */
	} else if (c->sub.tail != NULL) {
		c->sub.stop = c->sub.pos;   /* its frame ends with the tail */
		c->sub.stop_seq = ring_head_seq(r);
	} else if (stream_stop_point(c, &c->sub.stop, &c->sub.stop_seq) == -1) {
		why = CUT_TORN;
	}
	/* Shutting down, it gets all there is; unless the ring already ran
	 * over where its kept tail ends. */
	if (why == CUT_SHUTDOWN && c->sub.tail == NULL)
		c->sub.stop = ring_head(r);
	c->sub.cut = why;
	c->sub.cut_lag = lag;
	if (lagging && c->sub.skip_on_lag) {
		/* A skip is not a departure: on a frame boundary it jumps
		 * at once, else after the frame it is in. */
		c->sub.cut = CUT_NONE;
		if (c->sub.stop != c->sub.pos)
			c->state = CS_FINISHING;
		else if (!stream_jump(c, c->sub.stop_seq))
			return;   /* nowhere to go: nothing to act on */
	}
	client_schedule(c);
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

int
stream_jump(struct client *c, uint64_t seq)
{
	struct stream *st = c->stream;
	struct ring *r = st->ring;
	uint64_t keep = skip_keep(c), to, to_seq;
	uint32_t len;
	int control;
	size_t i;

	c->state = CS_ACTIVE;
	if (ring_head(r) - c->sub.pos <= keep ||
	    ring_align(r, ring_head(r) - keep, &to, &to_seq) == -1 ||
	    to <= c->sub.pos)
		return 0;   /* caught up meanwhile: nothing to skip */
	/* Never past an end of stream: one in the part skipped is where the
	 * skip lands, so the subscriber ends there as it would have. */
	for (i = 0; i < st->marks_len; i++) {
		if (st->marks[i].pos < c->sub.pos || st->marks[i].pos >= to)
			continue;
		if (st->marks[i].pos == c->sub.pos) {
			/* Standing on one: it goes out first, as if it were
			 * the frame in progress; the skip follows it. */
			frame_get_header(ring_at(r, c->sub.pos), &len, &control);
			c->sub.stop = c->sub.pos + FRAME_HDR + len;
			c->sub.stop_seq = seq;
			c->state = CS_FINISHING;
			return 1;
		}
		to = st->marks[i].pos;
		to_seq = st->marks[i].seq;
		break;
	}
	c->sub.over_since = 0;   /* a new start for sfd --max-lag */
	stream_skip(c, seq, to_seq);
	c->sub.pos = to;
	return 1;
}

void
stream_skip(struct client *c, uint64_t from, uint64_t to)
{
	if (to == from)
		return;   /* nothing but marks passed over */
	if (c->sub.skip_count == 0)
		c->sub.skip_seq = from;
	c->sub.skip_count += to - from;
	/* The first skip is news; the rest of a long stall only with -v. */
	client_log(c, c->sub.skipped == 0 ? LOG_INFO : LOG_DEBUG, "skipped ahead "
	    "on stream %s: %llu frames (seq %llu..%llu)", c->stream->name,
	    (unsigned long long)(to - from), (unsigned long long)from,
	    (unsigned long long)to - 1);
	c->sub.skipped += to - from;
}

/*
 * A subscriber finishing a frame (departing, or before a skip) still needs
 * its rest, which the next append would overwrite: keep that rest aside.
 * Returns -1 when it is too large to keep.
 */
static int
keep_tail(struct client *c)
{
	size_t len = (size_t)(c->sub.stop - c->sub.pos);

	/* At most one frame: --max-frame bounds it. */
	if ((c->sub.tail = malloc(len)) == NULL)
		return -1;
	memcpy(c->sub.tail, ring_at(c->stream->ring, c->sub.pos), len);
	c->sub.tail_len = len;
	c->sub.tail_off = 0;
	c->sub.pos = c->sub.stop;
	client_log(c, LOG_DEBUG, "kept the last %zu bytes of its frame aside "
	    "as the ring wrapped", len);
	return 0;
}

/*
 * End mark m went out of the ring.  A subscriber that had not reached it
 * and is finishing a frame from what was kept aside, to skip after, is
 * owed it: its skip ends there, as it would have in the ring.  (Any other
 * subscriber behind it was cut off, or skipped to it, before the append.)
 */
static void
owe_mark(struct stream *st, const struct mark *m)
{
	struct client *c;

	for (c = TAILQ_FIRST(&st->subs); c != NULL; c = TAILQ_NEXT(c, slink)) {
		if (c->state == CS_FINISHING && !c->sub.mark_owed &&
		    c->sub.pos <= m->pos) {
			c->sub.mark_owed = 1;
			c->sub.mark_seq = m->seq;
		}
	}
}

uint64_t
stream_append(struct stream *st, const unsigned char *frames, size_t len)
{
	struct ring *r = st->ring;
	struct client *c;
	uint64_t n, tail;
	size_t i;

	/*
	 * The hard limit, the only one by default: a subscriber is cut off
	 * only when frames it still needs are about to be overwritten.  Why
	 * not wait for it?  Waiting would slow the publisher and every other
	 * subscriber down to it; a publisher that can wait asks for pace=1.
	 */
	for (c = TAILQ_FIRST(&st->subs); c != NULL; c = TAILQ_NEXT(c, slink)) {
		if (c->sub.tail != NULL || c->sub.cut == CUT_TORN)
			continue;   /* needs nothing more from the ring */
		if (ring_head(r) + len - c->sub.pos <= stream_hard_lag(st))
			continue;   /* its frame survives this append */
		if (c->state == CS_ACTIVE && c->sub.cut == CUT_NONE)
			stream_cut(c, CUT_RING, ring_head(r) + len - c->sub.pos);
		/* Cut off, or finishing a frame before a skip: what it still
		 * takes up to its stop is kept aside, as the ring will not
		 * hold it.  (A skip that jumped may be clear of it now.) */
		if (c->sub.cut == CUT_TORN || c->sub.stop <= c->sub.pos ||
		    ring_head(r) + len - c->sub.pos <= stream_hard_lag(st))
			continue;
		if ((c->state == CS_ACTIVE && c->sub.cut == CUT_NONE) ||
		    keep_tail(c) == -1) {
			c->sub.cut = CUT_TORN;
			client_schedule(c);
		}
	}
	if (st->spool != NULL) {
		/* The file names the new tail before a byte is overwritten,
		 * and the new head once the frames are in. */
		if (spool_must_sync(st->spool, r, len))
			sync_stream(st);
		tail = ring_tail(r);
		ring_make_room(r, len);
		if (ring_tail(r) != tail)
			spool_note(st->spool, r);
	}
	n = ring_append(r, frames, len);
	if (st->spool != NULL) {
		spool_note(st->spool, r);
		st->unsynced = 1;
	}
	st->frames_in += n;
	st->bytes_in += len;
	for (i = 0; i < st->marks_len && st->marks[i].pos < ring_tail(r); i++)
		owe_mark(st, &st->marks[i]);
	if (i > 0) {
		st->marks_len -= i;
		memmove(st->marks, st->marks + i, st->marks_len *
		    sizeof(*st->marks));
	}
	if (!st->dirty) {
		st->dirty = 1;
		TAILQ_INSERT_TAIL(&st->srv->dirty, st, dlink);
	}
	return n;
}

int
stream_append_mark(struct stream *st, const unsigned char *frame,
    size_t len)
{
	if (stream_remember_mark(st, ring_head(st->ring),
	    ring_head_seq(st->ring)) == -1)
		return -1;
	stream_append(st, frame, len);
	return 0;
}

/* A subscriber whose unsent frames a paced publisher must not overwrite:
 * one taking frames that has not stalled. */
static int
holds_publishers(const struct client *c)
{
	return (c->state == CS_ACTIVE || c->state == CS_FINISHING) &&
	    c->sub.cut == CUT_NONE && !c->sub.untethered;
}

int
stream_must_wait(const struct stream *st, size_t len)
{
	const struct client *c;
	uint64_t hold = hold_lag(st), head = ring_head(st->ring);

	/* One with nothing left to take can take any one append: sfd
	 * makes sure the ring holds two of the largest. */
	for (c = TAILQ_FIRST(&st->subs); c != NULL; c = TAILQ_NEXT(c, slink))
		if (holds_publishers(c) && c->sub.pos < head &&
		    head + len - c->sub.pos > hold)
			return 1;
	return 0;
}

int
stream_drained(const struct stream *st)
{
	const struct client *c;
	uint64_t limit = release_lag(st), head = ring_head(st->ring);

	for (c = TAILQ_FIRST(&st->subs); c != NULL; c = TAILQ_NEXT(c, slink))
		if (holds_publishers(c) && head - c->sub.pos > limit)
			return 0;
	return 1;
}

int
stream_caught_up(const struct client *c)
{
	return ring_head(c->stream->ring) - c->sub.pos <= release_lag(c->stream);
}

void
stream_oldest(const struct stream *st, int headroom, uint64_t *pos,
    uint64_t *seq)
{
	const struct ring *r = st->ring;
	uint64_t keep = stream_safe_lag(st), room = ring_size(r) / 4;
	uint64_t from = ring_tail(r);

	if (headroom)
		keep = keep > room ? keep - room : 0;
	if (ring_head(r) - from > keep)
		from = ring_head(r) - keep;
	(void)ring_align(r, from, pos, seq);   /* tail <= from <= head */
}

uint64_t
stream_next_mark(const struct stream *st, uint64_t pos)
{
	size_t i;

	for (i = 0; i < st->marks_len; i++)
		if (st->marks[i].pos >= pos)
			return st->marks[i].pos;
	return UINT64_MAX;
}

uint64_t
stream_past_marks(const struct stream *st, uint64_t pos)
{
	uint32_t len;
	int control;
	size_t i;

	/* The marks are kept in ring order, so one loop passes a run of
	 * them (EOS sent twice). */
	for (i = 0; i < st->marks_len; i++) {
		if (st->marks[i].pos != pos)
			continue;
		frame_get_header(ring_at(st->ring, pos), &len, &control);
		pos += FRAME_HDR + len;
	}
	return pos;
}

void
stream_fanout(struct server *s)
{
	struct client *c;
	struct stream *st;

	while ((st = TAILQ_FIRST(&s->dirty)) != NULL) {
		TAILQ_REMOVE(&s->dirty, st, dlink);
		st->dirty = 0;
		for (c = TAILQ_FIRST(&st->subs); c != NULL;
		    c = TAILQ_NEXT(c, slink))
			client_schedule(c);
	}
}

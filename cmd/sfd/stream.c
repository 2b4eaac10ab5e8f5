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
#include "server.h"
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
stream_stop_point(const struct stream *st, uint64_t pos, uint64_t *stop,
    uint64_t *seq)
{
	struct ring *r = st->ring;
	uint64_t start;
	uint32_t len;
	int control;

	if (ring_locate(r, pos, &start, seq) == -1)
		return -1;
	if (start == pos) {
		*stop = pos;
		return 0;
	}
	/* Mid-frame: finish it, so only whole frames ever reach the peer. */
	frame_get_header(ring_at(r, start), &len, &control);
	*stop = start + FRAME_HDR + len;
	if (!control)
		*seq += 1;   /* an end mark takes no number */
	return 0;
}

enum skip
stream_skip_target(const struct stream *st, uint64_t pos, uint64_t keep,
    uint64_t *to, uint64_t *to_seq)
{
	struct ring *r = st->ring;
	uint32_t len;
	int control;
	size_t i;

	if (ring_head(r) - pos <= keep ||
	    ring_align(r, ring_head(r) - keep, to, to_seq) == -1 || *to <= pos)
		return SKIP_NONE;
	/* Never past an end of stream: one in the part skipped is where the
	 * skip lands, so the subscriber ends there as it would have. */
	for (i = 0; i < st->marks_len; i++) {
		if (st->marks[i].pos < pos || st->marks[i].pos >= *to)
			continue;
		if (st->marks[i].pos == pos) {
			frame_get_header(ring_at(r, pos), &len, &control);
			*to = pos + FRAME_HDR + len;
			return SKIP_MARK_FIRST;
		}
		*to = st->marks[i].pos;
		*to_seq = st->marks[i].seq;
		break;
	}
	return SKIP_TO;
}

void
stream_make_room(struct stream *st, size_t len)
{
	struct ring *r = st->ring;
	uint64_t tail = ring_tail(r);

	/* A spool's file names the new tail before a byte is overwritten
	 * (and the new head once the frames are in, stream_append). */
	if (st->spool != NULL && spool_must_sync(st->spool, r, len))
		sync_stream(st);
	ring_make_room(r, len);
	if (st->spool != NULL && ring_tail(r) != tail)
		spool_note(st->spool, r);
}

uint64_t
stream_append(struct stream *st, const unsigned char *frames, size_t len)
{
	struct ring *r = st->ring;
	uint64_t n;
	size_t i;

	n = ring_append(r, frames, len);
	if (st->spool != NULL) {
		spool_note(st->spool, r);
		st->unsynced = 1;
	}
	st->frames_in += n;
	st->bytes_in += len;
	for (i = 0; i < st->marks_len && st->marks[i].pos < ring_tail(r); i++)
		;
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
stream_must_wait(const struct stream *st, size_t len)
{
	const struct client *c;
	uint64_t hold = hold_lag(st), head = ring_head(st->ring);

	/* One with nothing left to take can take any one append: sfd
	 * makes sure the ring holds two of the largest. */
	for (c = TAILQ_FIRST(&st->subs); c != NULL; c = TAILQ_NEXT(c, slink))
		if (subscriber_holds(c) && c->sub.pos < head &&
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
		if (subscriber_holds(c) && head - c->sub.pos > limit)
			return 0;
	return 1;
}

int
stream_caught_up(const struct stream *st, uint64_t pos)
{
	return ring_head(st->ring) - pos <= release_lag(st);
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

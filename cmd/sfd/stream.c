#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

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
	st->srv = s;
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

/*
 * Where a subscriber at c->pos can stop without cutting a frame, and the
 * seq of the first frame it will not have received.  -1 when its current
 * frame has already been overwritten.
 */
int
stream_stop_point(const struct client *c, uint64_t *stop, uint64_t *seq)
{
	struct ring *r = c->stream->ring;
	uint64_t start;
	uint32_t len;
	int control;

	if (ring_locate(r, c->pos, &start, seq) == -1)
		return -1;
	if (start == c->pos) {
		*stop = c->pos;
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

	if (c->cut != CUT_NONE || c->state == CS_DEPARTING ||
	    c->state == CS_CLOSED)
		return;   /* already on its way out */
	if (c->state == CS_FINISHING && why == CUT_LAG)
		return;   /* a skip is under way */
	if (c->state == CS_FINISHING) {
		/* stop is the end of the frame it is finishing */
	} else if (c->tail != NULL) {
		c->stop = c->pos;   /* its frame ends with the tail */
		c->stop_seq = ring_head_seq(r);
	} else if (stream_stop_point(c, &c->stop, &c->stop_seq) == -1) {
		why = CUT_TORN;
	}
	if (why == CUT_SHUTDOWN)
		c->stop = ring_head(r);
	c->cut = why;
	c->cut_lag = lag;
	if (why == CUT_LAG && c->skip_on_lag) {
		/* A skip is not a departure: on a frame boundary it jumps
		 * at once, else after the frame it is in. */
		c->cut = CUT_NONE;
		if (c->stop == c->pos)
			stream_jump(c, c->stop_seq);
		else
			c->state = CS_FINISHING;
	}
	client_schedule(c);
}

void
stream_jump(struct client *c, uint64_t seq)
{
	struct ring *r = c->stream->ring;
	uint64_t to, to_seq;

	c->state = CS_ACTIVE;
	if (ring_align(r, ring_head(r) - c->srv->cfg.max_lag / 2, &to,
	    &to_seq) == -1 || to <= c->pos)
		return;   /* caught up meanwhile: nothing to skip */
	if (c->skip_count == 0)
		c->skip_seq = seq;
	c->skip_count += to_seq - seq;
	/* The first skip is news; the rest of a long stall only with -v. */
	client_log(c, c->skipped == 0 ? LOG_INFO : LOG_DEBUG, "skipped ahead "
	    "on stream %s: %llu frames (seq %llu..%llu)", c->stream->name,
	    (unsigned long long)(to_seq - seq), (unsigned long long)seq,
	    (unsigned long long)to_seq - 1);
	c->skipped += to_seq - seq;
	c->pos = to;
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
stream_append(struct stream *st, const unsigned char *frames, size_t len)
{
	struct ring *r = st->ring;
	struct client *c;
	uint64_t lag;

	TAILQ_FOREACH(c, &st->subs, slink) {
		lag = ring_head(r) + len - c->pos;
		if (c->tail != NULL || c->cut == CUT_TORN) {
			continue;   /* needs nothing more from the ring */
		} else if (lag <= ring_size(r)) {
			if (lag > safe_lag(c->srv, r))
				stream_cut(c, CUT_LAG, lag);
		} else if (c->state == CS_ACTIVE || keep_tail(c) == -1) {
			c->cut = CUT_TORN;
			client_schedule(c);
		}
	}
	ring_append(r, frames, len);
	if (!st->dirty) {
		st->dirty = 1;
		TAILQ_INSERT_TAIL(&st->srv->dirty, st, dlink);
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
	struct client *c;
	struct stream *st;

	while ((st = TAILQ_FIRST(&s->dirty)) != NULL) {
		TAILQ_REMOVE(&s->dirty, st, dlink);
		st->dirty = 0;
		TAILQ_FOREACH(c, &st->subs, slink)
			client_schedule(c);
	}
}

/*
 * What the daemon sends a client: control lines, a subscriber's ring data
 * (with any skips), and a goodbye before the close.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "frame.h"
#include "log.h"
#include "output.h"

/* Queue a control line; it goes after ring data once the client leaves. */
static void queue_ctl(struct client *c, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
queue_ctl(struct client *c, const char *fmt, va_list ap)
{
	char line[FRAME_CTL_MAX + 1];
	int n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = ctl_frame(c->ctl + c->ctl_len, sizeof(c->ctl) - c->ctl_len,
	    "%s", line);
	if (n < 0) {
		/* Only our own short lines come here; never silently. */
		client_log(c, LOG_ERROR, "control line too long, not sent: %s",
		    line);
		return;
	}
	c->ctl_len += (uint16_t)n;
	if (!c->leaving)
		c->ctl_split = c->ctl_len;
}

void
client_reply(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	queue_ctl(c, fmt, ap);
	va_end(ap);
}

/*
 * Where a subscriber at c->pos can stop without cutting a frame, and the
 * seq of the first frame it will not have received.  -1 when its current
 * frame has already been overwritten.
 */
static int
departure_point(const struct client *c, uint64_t *stop, uint64_t *seq)
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
client_depart(struct client *c, enum depart how, const char *fmt, ...)
{
	struct server *s = c->srv;
	uint64_t seq;
	va_list ap;

	if (c->leaving || c->closed)
		return;
	if (c->role == ROLE_SUB) {
		c->skip_wanted = 0;
		if (c->skip_count > 0) {   /* still owed, before the goodbye */
			client_reply(c, "SKIP seq=%llu count=%llu",
			    (unsigned long long)c->skip_seq,
			    (unsigned long long)c->skip_count);
			c->skip_count = 0;
		}
		if (c->tail != NULL)
			c->stop = c->pos;   /* its frame ends with the tail */
		else if (how == DEPART_DRAIN)
			c->stop = ring_head(c->stream->ring);
		else if (departure_point(c, &c->stop, &seq) == -1) {
			client_log(c, LOG_INFO, "closed: its unsent frame "
			    "was already overwritten");
			client_close(c);
			return;
		}
	}
	c->leaving = 1;
	va_start(ap, fmt);
	queue_ctl(c, fmt, ap);
	va_end(ap);
	client_ready_clear(c);
	client_timer_set(c, &s->leaving, s->cfg.grace_ms);
	client_flush(c);
}

void
client_evict(struct client *c)
{
	struct ring *r = c->stream->ring;
	uint64_t lag = ring_head(r) - c->pos, stop, seq;

	if (departure_point(c, &stop, &seq) == -1)
		seq = ring_tail_seq(r);
	client_log(c, LOG_INFO, "evicted from stream %s: lag %llu bytes > "
	    "max-lag %llu; %llu frames not received (seq %llu..%llu)",
	    c->stream->name, (unsigned long long)lag,
	    (unsigned long long)c->srv->cfg.max_lag,
	    (unsigned long long)(ring_head_seq(r) - seq),
	    (unsigned long long)seq, (unsigned long long)ring_head_seq(r) - 1);
	client_depart(c, DEPART_NOW, "BYE reason=lag seq=%llu lag=%llu",
	    (unsigned long long)seq, (unsigned long long)lag);
}

void
client_error(struct client *c, const char *reason, const char *detail)
{
	client_log(c, LOG_INFO, "ERR reason=%s (%s)", reason, detail);
	client_depart(c, DEPART_NOW, "ERR reason=%s", reason);
}

/*
 * Write up to len bytes of buf to the client.  Returns how many were
 * written, or -1 when none could be: its socket is full (c->blocked) or
 * it is gone (closed).
 */
static ssize_t
client_write(struct client *c, const void *buf, size_t len)
{
	ssize_t n;

	while ((n = write(c->w.fd, buf, len)) == -1 && errno == EINTR)
		;
	if (n >= 0)
		return n;
	if (errno == EAGAIN)
		c->blocked = 1;
	else
		client_lost(c, errno);
	return -1;
}

/*
 * Write bytes c->ctl[c->ctl_off .. upto).  Returns 0 when all are out, -1
 * when the socket is full (c->blocked) or the client was closed.
 */
static int
send_ctl(struct client *c, uint16_t upto)
{
	ssize_t n;

	while (c->ctl_off < upto) {
		if ((n = client_write(c, c->ctl + c->ctl_off,
		    upto - c->ctl_off)) == -1)
			return -1;
		c->ctl_off += (uint16_t)n;
	}
	if (c->ctl_off == c->ctl_len)
		c->ctl_off = c->ctl_len = c->ctl_split = 0;   /* room again */
	return 0;
}

/*
 * Jump a subscriber standing on a frame boundary (the start of frame seq)
 * ahead to about half of --max-lag behind the newest frame; the frames
 * passed over are announced before the next data it gets.
 */
static void
jump(struct client *c, uint64_t seq)
{
	struct ring *r = c->stream->ring;
	uint64_t to, to_seq;

	c->skip_wanted = 0;
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

void
client_skip(struct client *c)
{
	if (c->skip_wanted || c->leaving)
		return;
	if (departure_point(c, &c->stop, &c->stop_seq) == -1) {
		client_log(c, LOG_INFO, "closed: its unsent frame was "
		    "already overwritten");
		client_close(c);
		return;
	}
	if (c->stop == c->pos)
		jump(c, c->stop_seq);
	else
		c->skip_wanted = 1;   /* after the frame it is in */
}

/* Write ring data up to where the subscriber may go now.  -1 when it
 * cannot take more (blocked) or was closed. */
static int
send_data(struct client *c)
{
	struct ring *r = c->stream->ring;
	uint64_t limit = c->leaving || c->skip_wanted ? c->stop : ring_head(r);
	ssize_t n;

	while (c->tail_off < c->tail_len) {
		if ((n = client_write(c, c->tail + c->tail_off,
		    c->tail_len - c->tail_off)) == -1)
			return -1;
		c->tail_off += (size_t)n;
	}
	if (c->tail != NULL) {
		free(c->tail);
		c->tail = NULL;
		c->tail_len = c->tail_off = 0;
	}
	while (c->pos < limit) {
		/* One write: the ring makes every run contiguous. */
		if ((n = client_write(c, ring_at(r, c->pos), limit - c->pos))
		    == -1)
			return -1;
		c->pos += (uint64_t)n;
	}
	return 0;
}

void
client_flush(struct client *c)
{
	if (c->closed || c->blocked)
		return;
	for (;;) {
		if (send_ctl(c, c->ctl_split) == -1)
			return;
		if (c->skip_count > 0) {
			client_reply(c, "SKIP seq=%llu count=%llu",
			    (unsigned long long)c->skip_seq,
			    (unsigned long long)c->skip_count);
			c->skip_count = 0;
			continue;
		}
		if (c->role != ROLE_SUB)
			break;
		if (send_data(c) == -1)
			return;
		if (!c->skip_wanted)
			break;
		jump(c, c->stop_seq);
		if (c->closed)
			return;
	}
	if (!c->leaving)
		return;
	if (send_ctl(c, c->ctl_len) == -1)
		return;
	client_log(c, LOG_DEBUG, "closed after goodbye");
	client_close(c);
}

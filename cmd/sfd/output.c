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
#include "queue.h"
#include "stream.h"

/* Queue a control line; it goes after ring data once the client leaves. */
static void queue_ctl(struct client *c, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
queue_ctl(struct client *c, const char *fmt, va_list ap)
{
	char line[FRAME_CTL_MAX + 1];
	int n;

	vsnprintf(line, sizeof(line), fmt, ap);
	if (c->plain) {
		/* Knows no control frame: its goodbye is the close. */
		client_log(c, LOG_DEBUG, "not sent (plain): %s", line);
		client_schedule(c);
		return;
	}
	n = ctl_frame(c->ctl + c->ctl_len, sizeof(c->ctl) - c->ctl_len,
	    "%s", line);
	if (n < 0) {
		/* Only our own short lines come here; never silently. */
		client_log(c, LOG_ERROR, "control line too long, not sent: %s",
		    line);
		return;
	}
	c->ctl_len += (uint16_t)n;
	if (c->state != CS_DEPARTING)
		c->ctl_split = c->ctl_len;
	client_schedule(c);
}

void
client_reply(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	queue_ctl(c, fmt, ap);
	va_end(ap);
}

/* The frames a subscriber skipped, announced before what comes next. */
static void
owe_skip(struct client *c)
{
	if (c->sub.skip_count > 0) {
		client_reply(c, "SKIP seq=%llu count=%llu",
		    (unsigned long long)c->sub.skip_seq,
		    (unsigned long long)c->sub.skip_count);
		c->sub.skip_count = 0;
	}
}

void
client_depart(struct client *c, const char *fmt, ...)
{
	struct server *s = c->srv;
	va_list ap;

	if (c->state == CS_DEPARTING || c->state == CS_CLOSED)
		return;
	if (c->role == ROLE_SUB)
		owe_skip(c);   /* still owed, before the goodbye */
	if (c->state == CS_HELD) {
		c->stream->nheld--;
		s->nheld--;
	}
	c->state = CS_DEPARTING;
	va_start(ap, fmt);
	queue_ctl(c, fmt, ap);
	va_end(ap);
	client_ready_clear(c);
	client_timer_set(c, &s->leaving, s->cfg.grace_ms);
}

void
client_error(struct client *c, const char *reason, const char *detail)
{
	client_log(c, LOG_INFO, "ERR reason=%s (%s)", reason, detail);
	if (c->role == ROLE_SUB && c->state == CS_ACTIVE && c->sub.tail == NULL &&
	    stream_stop_point(c, &c->sub.stop, &c->sub.stop_seq) == -1) {
		c->sub.cut = CUT_TORN;
		client_schedule(c);
		return;
	}
	client_depart(c, "ERR reason=%s", reason);
}

/*
 * Write up to len bytes of buf to the client.  Returns how many were
 * written, or -1 when none could be: its socket is full (c->blocked) or
 * the write failed (errno).
 */
static ssize_t
out_write(struct client *c, const void *buf, size_t len)
{
	ssize_t n;

	while ((n = write(c->w.fd, buf, len)) == -1 && errno == EINTR)
		;
	if (n == -1 && errno == EAGAIN)
		c->blocked = 1;
	return n;
}

/* Write bytes c->ctl[c->ctl_off .. upto).  0 when all are out, else -1. */
static int
send_ctl(struct client *c, uint16_t upto)
{
	ssize_t n;

	while (c->ctl_off < upto) {
		if ((n = out_write(c, c->ctl + c->ctl_off,
		    upto - c->ctl_off)) == -1)
			return -1;
		c->ctl_off += (uint16_t)n;
	}
	if (c->ctl_off == c->ctl_len)
		c->ctl_off = c->ctl_len = c->ctl_split = 0;   /* room again */
	return 0;
}

/* Write the kept tail, then ring data up to where the subscriber may go
 * now.  0 when all are out, else -1. */
static int
send_data(struct client *c)
{
	struct ring *r = c->stream->ring;
	uint64_t limit = c->state == CS_ACTIVE ? ring_head(r) : c->sub.stop;
	uint64_t end;
	ssize_t n;

	while (c->sub.tail_off < c->sub.tail_len) {
		if ((n = out_write(c, c->sub.tail + c->sub.tail_off,
		    c->sub.tail_len - c->sub.tail_off)) == -1)
			return -1;
		c->sub.tail_off += (size_t)n;
		c->sub.bytes_out += (uint64_t)n;
		c->sub.progress_ms = c->srv->now;
	}
	if (c->sub.tail != NULL) {
		free(c->sub.tail);
		c->sub.tail = NULL;
		c->sub.tail_len = c->sub.tail_off = 0;
	}
	while (c->sub.pos < limit) {
		end = limit;
		if (c->plain) {
			/* Data frames only: up to the next end mark, which
			 * is passed over unsent. */
			if ((end = stream_next_mark(c->stream, c->sub.pos)) ==
			    c->sub.pos) {
				c->sub.pos = stream_past_marks(c->stream, c->sub.pos);
				continue;
			}
			if (end > limit)
				end = limit;
		}
		/* One write: the ring makes every run contiguous. */
		if ((n = out_write(c, ring_at(r, c->sub.pos), end - c->sub.pos))
		    == -1)
			return -1;
		c->sub.pos += (uint64_t)n;
		c->sub.bytes_out += (uint64_t)n;
		c->sub.progress_ms = c->srv->now;
	}
	/* Nothing left to take is not a stall either. */
	c->sub.progress_ms = c->srv->now;
	return 0;
}

enum flush
client_flush(struct client *c, int *err)
{
	if (c->state == CS_CLOSED || c->blocked)
		return FLUSH_BLOCKED;
	for (;;) {
		if (send_ctl(c, c->ctl_split) == -1)
			goto failed;
		if (c->role == ROLE_SUB && c->sub.skip_count > 0) {
			owe_skip(c);
			continue;
		}
		if (c->role != ROLE_SUB)
			break;
		if (send_data(c) == -1)
			goto failed;
		if (c->state != CS_FINISHING)
			break;
		if (c->sub.mark_owed) {
			/* The end mark it skips to is no longer in the
			 * ring: announce the skip, then the mark itself. */
			c->sub.mark_owed = 0;
			stream_skip(c, c->sub.stop_seq, c->sub.mark_seq);
			owe_skip(c);
			client_reply(c, "EOS seq=%llu",
			    (unsigned long long)c->sub.mark_seq);
			c->sub.stop_seq = c->sub.mark_seq;
		}
		stream_jump(c, c->sub.stop_seq);
	}
	if (c->state != CS_DEPARTING)
		return FLUSH_OK;
	if (send_ctl(c, c->ctl_len) == -1)
		goto failed;
	return FLUSH_DONE;
failed:
	if (c->blocked)
		return FLUSH_BLOCKED;
	*err = errno;
	return FLUSH_GONE;
}

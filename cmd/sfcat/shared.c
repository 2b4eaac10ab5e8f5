#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cat.h"
#include "ctl.h"
#include "io.h"
#include "num.h"
#include "proto.h"
#include "session.h"
#include "shared.h"

/* Batches read while busy between two looks at the socket (a goodbye
 * while it keeps up is seen within this many). */
#define SOCKET_EVERY 16

/* Where this reader stands: every frame before it is handled. */
static uint64_t
consumed(const struct cat_state *c)
{
	return c->rpos - c->in_len;
}

int
shared_start(struct cat_state *c, const struct ctl *reply, const int *fds,
    int nfds)
{
	const char *v = ctl_get(reply, "shared"), *p = ctl_get(reply, "pos");
	uint64_t pos;

	c->shared = 0;
	if (strcmp(reply->verb, "OK") != 0 || v == NULL || strcmp(v, "1") != 0)
		return 0;
	if (nfds != 2 || p == NULL || num_parse(p, 0, UINT64_MAX, &pos) !=
	    NULL) {
		fprintf(stderr, "sfcat: sfd shared its ring without the "
		    "descriptors or the position to read it; reading from "
		    "the socket\n");
		return -1;
	}
	if (share_map(&c->view, fds[0], fds[1]) == -1) {
		fprintf(stderr, "sfcat: cannot map the ring sfd shared: %s; "
		    "reading from the socket\n", errno == EPROTO ?
		    "a layout this sfcat does not know" : strerror(errno));
		return -1;
	}
	c->shared = 1;
	c->rpos = c->reported = pos;
	c->reported_wait = c->overrun = 0;
	c->upto_seq = UINT64_MAX;
	c->sin_len = c->rep_len = c->rep_off = 0;
	return 1;
}

void
shared_end(struct cat_state *c)
{
	if (c->shared)
		share_unmap(&c->view);
	c->shared = 0;
}

int
shared_skip(struct cat_state *c, uint64_t pos)
{
	if (consumed(c) >= pos)
		return 0;
	c->in_len = 0;
	c->rpos = pos;
	c->overrun = 0;
	return 1;
}

/*
 * Send the report owed: where this reader stands, with wait=1 that it
 * sleeps until woken.  One not yet sent whole is finished first.
 * Returns -1 while the socket is full (wait for POLLOUT), else 0; a
 * failed send is left to the reads, which see the connection's end.
 */
static int
send_report(struct cat_state *c, int wait)
{
	uint64_t pos = consumed(c);
	ssize_t n;
	int k;

	if (c->rep_off == c->rep_len) {
		if (pos == c->reported && wait == c->reported_wait)
			return 0;
		if ((k = ctl_frame(c->rep, sizeof(c->rep), "AT pos=%llu%s",
		    (unsigned long long)pos, wait ? " wait=1" : "")) == -1)
			return 0;   /* cannot happen: the line is short */
		c->rep_len = (size_t)k;
		c->rep_off = 0;
		c->reported = pos;
		c->reported_wait = wait;
	}
	while (c->rep_off < c->rep_len) {
		n = send(c->sock, c->rep + c->rep_off, c->rep_len - c->rep_off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR && !io_stopped())
			continue;
		if (n == -1 && errno == EAGAIN)
			return -1;
		if (n == -1) {
			c->rep_off = c->rep_len;
			return 0;
		}
		c->rep_off += (size_t)n;
	}
	return 0;
}

/*
 * Copy what the ring holds from rpos to head into c->in, as much as
 * fits.  1 when copied whole, 0 when there is nothing to copy, -1 when
 * the ring passed rpos (c->overrun: what was copied is dropped).
 */
static int
copy_batch(struct cat_state *c, uint64_t head)
{
	size_t room = c->in_cap - c->in_len, n;

	/* With a --max-lag of its own, blocks of a quarter of it: the
	 * daemon measures the lag from the reports in between. */
	if (c->max_lag > 0 && room > c->max_lag / 4)
		room = (size_t)(c->max_lag / 4);
	if (head <= c->rpos || room == 0)
		return 0;
	if (head - c->rpos > c->view.size) {
		c->overrun = 1;
		return -1;
	}
	n = head - c->rpos < room ? (size_t)(head - c->rpos) : room;
	if (!share_copy(&c->view, c->rpos, c->in + c->in_len, n)) {
		c->overrun = 1;
		return -1;
	}
	c->in_len += n;
	c->rpos += n;
	return 1;
}

/*
 * A goodbye says where the daemon stopped for us (seq=): print what the
 * ring still holds before it, as the socket path would have been sent
 * it; then name the first frame not printed, which may be later than
 * the daemon knew (this reader is ahead of its reports).
 */
static int
goodbye(struct cat_state *c, const struct ctl *m, char *msg, size_t cap)
{
	char seq[24];
	uint64_t until;
	const char *v = ctl_get(m, "seq");
	struct ctl said;
	int i;

	if (v != NULL && num_parse(v, 0, UINT64_MAX, &until) == NULL &&
	    !c->overrun) {
		c->upto_seq = until;
		while (c->next_seq + c->out_records < until &&
		    copy_batch(c, share_head(&c->view)) == 1 &&
		    cat_consume(c, msg, cap) == SF_EXIT_OK)
			;
		c->upto_seq = UINT64_MAX;
	}
	cat_flush(c, NULL, 0);
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)c->next_seq);
	said = *m;
	for (i = 0; v != NULL && i < said.nargs; i++)
		if (said.args[i].key != NULL &&
		    strcmp(said.args[i].key, "seq") == 0)
			said.args[i].val = seq;
	return session_verdict(&said, msg, cap);
}

/* The ring file was cut short: what the daemon says when it finds that,
 * from the first frame not printed. */
static int
cut_short(struct cat_state *c, char *msg, size_t cap)
{
	char line[64];
	struct ctl m;
	int n;

	cat_flush(c, NULL, 0);
	n = snprintf(line, sizeof(line), "BYE reason=spool seq=%llu",
	    (unsigned long long)c->next_seq);
	if (ctl_parse(&m, (const unsigned char *)line, (size_t)n) == -1) {
		snprintf(msg, cap, "the ring file was cut short");
		return SF_EXIT_PROTOCOL;
	}
	return session_verdict(&m, msg, cap);
}

/* A control frame on the socket: WAKE, SKIP, EOS or a goodbye. */
static int
on_control(struct cat_state *c, const struct frame *f, char *msg, size_t cap)
{
	struct ctl m;

	if (ctl_parse(&m, f->data, f->len) == -1) {
		snprintf(msg, cap, "sfd sent a malformed control frame");
		return SF_EXIT_PROTOCOL;
	}
	if (strcmp(m.verb, "WAKE") == 0) {
		c->reported_wait = 0;   /* the next wait is news again */
		return SF_EXIT_OK;
	}
	if (strcmp(m.verb, "BYE") == 0 || strcmp(m.verb, "ERR") == 0)
		return goodbye(c, &m, msg, cap);
	return cat_control(c, f, msg, cap);
}

/*
 * What the daemon said on the socket.  Returns SF_EXIT_OK to go on,
 * else why the connection ended.
 */
static int
read_socket(struct cat_state *c, char *msg, size_t cap)
{
	size_t room, off;
	struct frame f;
	ssize_t n, k;
	int code;

	for (;;) {
		room = sizeof(c->sin) - c->sin_len;
		n = io_read(c->sock, c->sin + c->sin_len, room);
		if (n == -1 && errno == EAGAIN)
			return SF_EXIT_OK;
		if (n <= 0)
			return cat_read_end(c, n, msg, cap);
		c->sin_len += (size_t)n;
		off = 0;
		while ((k = frame_decode(c->sin + off, c->sin_len - off, 0,
		    &f)) > 0 && f.control) {
			off += (size_t)k;
			if ((code = on_control(c, &f, msg, cap)) != SF_EXIT_OK)
				return code;
		}
		if (k != 0) {
			snprintf(msg, cap, "sfd sent a data frame on the "
			    "socket of a shared reader");
			return SF_EXIT_PROTOCOL;
		}
		memmove(c->sin, c->sin + off, c->sin_len - off);
		c->sin_len -= off;
		if ((size_t)n < room)
			return SF_EXIT_OK;   /* it had no more for now */
	}
}

int
shared_pump(struct cat_state *c, char *msg, size_t cap)
{
	struct pollfd pfd = { .fd = c->sock, .events = POLLIN };
	unsigned batches = 0;
	int code, look = 1;

	c->in_len = 0;
	c->frame_ms = io_now_ms();
	for (;;) {
		if (io_stopped())
			cat_stop(c);
		if ((look || ++batches % SOCKET_EVERY == 0) &&
		    (code = read_socket(c, msg, cap)) != SF_EXIT_OK)
			return code;
		look = 0;
		if (!c->overrun &&
		    copy_batch(c, share_head(&c->view)) == 1) {
			c->frame_ms = io_now_ms();
			if ((code = cat_consume(c, msg, cap)) != SF_EXIT_OK)
				return code;
			/* Busy: where it is, so the daemon's limits see
			 * it; caught up, the wait below says as much. */
			if (share_head(&c->view) > c->rpos)
				(void)send_report(c, 0);
			continue;
		}
		/* A page of the ring file was missing: the file was cut
		 * short under the daemon, which may not know yet. */
		if (c->overrun && share_damaged(&c->view))
			return cut_short(c, msg, cap);
		/* Caught up, or passed by the ring and waiting for the
		 * daemon's word on it (a SKIP or a goodbye). */
		if ((code = cat_idle(c, msg, cap)) != SF_EXIT_OK)
			return code;
		pfd.events = POLLIN;
		if ((c->overrun ? c->rep_off < c->rep_len && send_report(c, 0)
		    == -1 : send_report(c, 1) == -1))
			pfd.events |= POLLOUT;
		/* Woken, or it came meanwhile: look again before sleeping. */
		if (!c->overrun && share_head(&c->view) > c->rpos)
			continue;
		cat_wait(c, &pfd);
		look = (pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
	}
}

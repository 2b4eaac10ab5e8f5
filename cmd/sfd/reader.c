/*
 * Shared readers: the ring handed over, position reports, wake-ups.
 *
 * A report is one control line, "AT pos=P" or "AT pos=P wait=1": the
 * reader has taken every frame before byte position P, and with wait=1
 * it is caught up and sleeps until told (WAKE).  A report is believed
 * only as far as it can hurt nobody but the reader: P must be the start
 * of a frame no later than the newest, and one behind where the reader
 * already stands (a skip moved it meanwhile) changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "ctl.h"
#include "input.h"
#include "log.h"
#include "num.h"
#include "reader.h"
#include "ring.h"
#include "server.h"

int
reader_offer(struct client *c, struct stream *st)
{
	int fds[2];

	if (c->tcp || c->plain) {
		log_client(c, LOG_DEBUG, "shared= asked over %s: reads from "
		    "the socket", c->tcp ? "TCP" : "a plain listener");
		return 0;
	}
	/* A ring file cut short already is found here, as a write from it
	 * would find it, rather than by the reader alone. */
	if (ring_probe(st->ring, ring_tail(st->ring), (size_t)(ring_head(
	    st->ring) - ring_tail(st->ring)))) {
		server_check_damage(c->srv);
		return 0;
	}
	if (ring_share(st->ring, fds) == -1) {
		log_client(c, LOG_INFO, "shared= refused, reads from the "
		    "socket: the ring of stream %s cannot be shared: %s",
		    st->name, strerror(errno));
		return 0;
	}
	/* Sent with the first byte of the OK (client_write). */
	c->pass_fd[0] = fds[0];
	c->pass_fd[1] = fds[1];
	c->npass = 2;
	c->sub.shared = 1;
	return 1;
}

int
reader_read(struct client *c, int *err)
{
	return input_frames(c, err);
}

/* One report, AT line m; -1 when it was refused (c departs). */
static int
report(struct client *c, const struct ctl *m)
{
	struct ring *r = c->stream->ring;
	const char *v = ctl_get(m, "pos"), *w = ctl_get(m, "wait");
	uint64_t pos, start, seq, wait = 0;

	if (strcmp(m->verb, "AT") != 0 || v == NULL ||
	    num_parse(v, 0, UINT64_MAX, &pos) != NULL ||
	    (w != NULL && num_parse(w, 0, 1, &wait) != NULL)) {
		client_error(c, "bad-report", "a shared reader says AT pos=P "
		    "[wait=1]");
		return -1;
	}
	if (pos > ring_head(r)) {
		client_error(c, "bad-position", "past the newest frame");
		return -1;
	}
	if (c->state != CS_ACTIVE || pos < c->sub.pos)
		return 0;   /* on its way out, or a skip moved it past */
	if (ring_locate(r, pos, &start, &seq) == -1 || start != pos) {
		client_error(c, "bad-position", "not the start of a frame");
		return -1;
	}
	if (pos > c->sub.pos) {
		c->sub.bytes_out += pos - c->sub.pos;
		c->sub.pos = pos;
		c->sub.progress_ms = c->srv->now;
	}
	c->sub.waiting = wait == 1;
	/* Its limits and its wake-up are looked at in its flush; held
	 * publishers after every flush (client_settle). */
	client_schedule(c);
	return 0;
}

int
reader_consume(struct client *c)
{
	size_t off = 0;
	struct frame f;
	struct ctl m;
	ssize_t k;

	while ((k = input_decode(c, off, &f)) > 0) {
		off += (size_t)k;
		if (!f.control) {
			client_error(c, "not-a-publisher", "a shared reader "
			    "sent a data frame");
			return -1;
		}
		if (ctl_parse(&m, f.data, f.len) == -1) {
			client_error(c, "bad-report", "not a control line");
			return -1;
		}
		if (report(c, &m) == -1)
			return -1;
	}
	if (k == -1) {
		input_too_large(c, &f);
		return -1;
	}
	input_keep(c, off);
	return 0;
}

int
reader_wake(struct client *c)
{
	struct subscriber *sub = &c->sub;

	if (c->state == CS_FINISHING) {
		/* Standing on an end mark a skip must not pass: it is said
		 * here, as the ring may no longer hold it when the reader
		 * gets there; the skip follows (cutoff_finish_skip). */
		client_reply(c, "EOS seq=%llu",
		    (unsigned long long)sub->stop_seq);
		sub->pos = sub->stop;
		return client_send_ctl(c, c->ctl_split);
	}
	if (sub->pos == ring_head(c->stream->ring)) {
		sub->progress_ms = c->srv->now;   /* nothing to take */
		return 0;
	}
	if (!sub->waiting || c->state != CS_ACTIVE)
		return 0;
	sub->waiting = 0;
	/* A line still owed (a SKIP) wakes it as well. */
	if (c->ctl_len == 0)
		client_reply(c, "WAKE");
	return client_send_ctl(c, c->ctl_split);
}

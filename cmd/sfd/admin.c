/*
 * Control clients (sf-protocol(7), Control).  A request is answered in
 * full before the next one is read.  A long answer (a line per stream
 * and per client) is made a buffer at a time, as the socket takes it,
 * from cursors into the server's lists: however many clients there are,
 * the answer never takes more than CTL_OUT_CAP bytes of memory, and the
 * loop never stops for longer than one buffer takes to fill.
 *
 * Everything reported is a counter bumped where its event happens, or a
 * position the daemon keeps anyway: nothing here walks a ring.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "client.h"
#include "ctl.h"
#include "frame.h"
#include "input.h"
#include "log.h"
#include "num.h"
#include "proto.h"
#include "stream.h"

#define CTL_OUT_CAP (32u << 10)
#define LINE_ROOM   (FRAME_HDR + FRAME_CTL_MAX)
#define NOTE_MAX    64       /* KICK reason=, as carried in the BYE */

enum job {
	JOB_NONE,
	JOB_STATS,    /* SERVER, STREAM per stream, CLIENT per client, END */
	JOB_STREAMS,  /* SERVER, STREAM per stream, END */
	JOB_REPLY     /* one line: read on once it is out */
};

/* Append a control line to c's answer.  The caller made sure of room. */
static void out_line(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_line(struct client *c, const char *fmt, ...)
{
	char line[FRAME_CTL_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = ctl_frame(c->admin.out + c->admin.out_len, CTL_OUT_CAP - c->admin.out_len, "%s",
	    line);
	if (n < 0) {
		log_client(c, LOG_ERROR, "control line not sent: %s", line);
		return;
	}
	c->admin.out_len += (size_t)n;
}

/* ms as seconds with three decimals, into buf. */
static const char *
seconds(long long ms, char *buf, size_t cap)
{
	if (ms < 0)
		ms = 0;
	snprintf(buf, cap, "%lld.%03lld", ms / 1000, ms % 1000);
	return buf;
}

/* Point c's client cursor at t (or nowhere). */
static void
cursor_set(struct client *c, struct client *t)
{
	if (c->admin.cursor != NULL)
		c->admin.cursor->cursors--;
	c->admin.cursor = t;
	if (t != NULL)
		t->cursors++;
}

void
admin_forget(struct client *gone)
{
	struct client *c;

	if (gone->cursors == 0)
		return;
	/* Rare (a client leaving while a STATS answer stands on it), so a
	 * walk is fine here: the cursor moves on to the next client. */
	TAILQ_FOREACH(c, &gone->srv->clients, link)
		if (c->role == ROLE_CTL && c->admin.cursor == gone)
			cursor_set(c, TAILQ_NEXT(gone, link));
}

/*
 * live, lagging (an eighth of the ring behind, or over sfd --max-lag),
 * paced-waiting (a held publisher), untethered (a stalled subscriber
 * that no longer holds paced publishers), closing; hello before it.
 */
static const char *
state_name(const struct client *c)
{
	switch (c->state) {
	case CS_HELLO:
		return "hello";
	case CS_HELD:
		return "paced-waiting";
	case CS_DEPARTING:
	case CS_CLOSED:
		return "closing";
	case CS_FINISHING:
		return "lagging";   /* finishing a frame, then skipping */
	case CS_ACTIVE:
		break;
	}
	return c->role == ROLE_SUB ? subscriber_standing(c) : "live";
}

static void
server_line(struct client *c)
{
	struct server *s = c->srv;
	char up[32];

	out_line(c, "SERVER pid=%ld version=%s clients=%llu streams=%llu "
	    "uptime_seconds=%s", (long)getpid(), SF_VERSION,
	    (unsigned long long)s->nclients, (unsigned long long)s->nstreams,
	    seconds(s->now - s->started_ms, up, sizeof(up)));
}

static void
stream_line(struct client *c, const struct stream *st)
{
	const struct ring *r = st->ring;
	char age[32];

	out_line(c, "STREAM name=%s epoch=%s head_seq=%llu ring_bytes=%zu "
	    "fill_bytes=%llu publishers=%u subscribers=%u records_in=%llu "
	    "bytes_in=%llu evicted_lag=%llu evicted_slow=%llu "
	    "evicted_kicked=%llu evicted_shutdown=%llu paced_waits=%llu "
	    "age_seconds=%s", st->name, st->epoch,
	    (unsigned long long)ring_head_seq(r), ring_size(r),
	    (unsigned long long)(ring_head(r) - ring_tail(r)), st->npubs,
	    st->nsubs, (unsigned long long)st->frames_in,
	    (unsigned long long)st->bytes_in,
	    (unsigned long long)st->evicted[EV_LAG],
	    (unsigned long long)st->evicted[EV_SLOW],
	    (unsigned long long)st->evicted[EV_KICKED],
	    (unsigned long long)st->evicted[EV_SHUTDOWN],
	    (unsigned long long)st->paced_waits,
	    seconds(c->srv->now - st->created_ms, age, sizeof(age)));
}

static void
client_line(struct client *c, const struct client *t)
{
	long long now = c->srv->now, last;
	char who[96], idle[32], up[32];

	if (t->tcp)
		snprintf(who, sizeof(who), "peer=%s", t->peer);
	else
		snprintf(who, sizeof(who), "pid=%ld uid=%lu peer=unix",
		    (long)t->pid, (unsigned long)t->uid);
	if (t->role == ROLE_SUB)
		last = t->sub.progress_ms;
	else if (t->role == ROLE_PUB && t->pub.last_append_ms != 0)
		last = t->pub.last_append_ms;
	else
		last = t->connected_ms;
	out_line(c, "CLIENT id=%llu role=%s %s stream=%s state=%s "
	    "lag_bytes=%llu ring_bytes=%zu frames_sent=%llu bytes_sent=%llu "
	    "frames_skipped=%llu frames_in=%llu bytes_in=%llu "
	    "idle_seconds=%s connected_seconds=%s shared=%d",
	    (unsigned long long)t->id, t->ops->name, who,
	    t->stream != NULL ? t->stream->name : "-", state_name(t),
	    (unsigned long long)subscriber_lag(t),
	    t->stream != NULL ? ring_size(t->stream->ring) : 0,
	    (unsigned long long)subscriber_frames_sent(t),
	    (unsigned long long)t->sub.bytes_out,
	    (unsigned long long)t->sub.skipped,
	    (unsigned long long)t->pub.frames_in,
	    (unsigned long long)t->pub.bytes_in,
	    seconds(now - last, idle, sizeof(idle)),
	    seconds(now - t->connected_ms, up, sizeof(up)),
	    t->role == ROLE_SUB && t->sub.shared);
}

/* Make more of c's answer while its buffer has room for a line. */
static void
fill(struct client *c)
{
	struct client *t;

	while ((c->admin.job == JOB_STATS || c->admin.job == JOB_STREAMS) &&
	    CTL_OUT_CAP - c->admin.out_len >= LINE_ROOM) {
		if (c->admin.scursor != NULL) {
			stream_line(c, c->admin.scursor);
			c->admin.scursor = TAILQ_NEXT(c->admin.scursor, link);
		} else if (c->admin.job == JOB_STATS && (t = c->admin.cursor) != NULL) {
			client_line(c, t);
			cursor_set(c, TAILQ_NEXT(t, link));
		} else {
			out_line(c, "END");
			c->admin.job = JOB_REPLY;
		}
	}
}

/* KICK id=N [reason=WORD]: cut client N off, saying who did and why. */
static void
kick(struct client *c, const struct ctl *m)
{
	struct server *s = c->srv;
	const char *v = ctl_get(m, "id"), *note = ctl_get(m, "reason");
	struct client *t;
	char who[ADDR_PEER_LEN + 16], by[sizeof(t->sub.kick)];
	uint64_t id;

	if (v == NULL || num_parse(v, 1, UINT64_MAX, &id) != NULL) {
		out_line(c, "ERR reason=bad-request detail=id=N");
		return;
	}
	if (note != NULL && strlen(note) > NOTE_MAX) {
		out_line(c, "ERR reason=bad-request detail=reason-too-long");
		return;
	}
	for (t = TAILQ_FIRST(&s->clients); t != NULL && t->id != id;
	    t = TAILQ_NEXT(t, link))
		;
	if (t == NULL) {
		out_line(c, "ERR reason=no-such-client id=%llu",
		    (unsigned long long)id);
		return;
	}
	if (t->state == CS_DEPARTING || t->sub.cut != CUT_NONE) {
		out_line(c, "ERR reason=closing id=%llu",
		    (unsigned long long)id);
		return;
	}
	if (c->tcp)
		snprintf(who, sizeof(who), "%s", c->peer);
	else
		snprintf(who, sizeof(who), "%lu", (unsigned long)c->uid);
	snprintf(by, sizeof(by), " by=%s%s%s", who,
	    note != NULL ? " note=" : "", note != NULL ? note : "");
	log_client(t, LOG_INFO, "kicked by #%llu (%s %s)%s%s",
	    (unsigned long long)c->id, c->tcp ? "peer" : "uid", who,
	    note != NULL ? ": " : "", note != NULL ? note : "");
	out_line(c, "OK id=%llu role=%s", (unsigned long long)id,
	    t->ops->name);
	if (t->stream != NULL)
		t->stream->evicted[EV_KICKED]++;
	t->ops->cut_off(t, CUT_KICKED, by);
}

/* A request line m: answered in order, one at a time; input is not read
 * while an answer is being written. */
static void
request(struct client *c, const struct ctl *m)
{
	struct server *s = c->srv;

	client_schedule(c);
	if (strcmp(m->verb, "STATS") == 0 || strcmp(m->verb, "STREAMS") == 0) {
		c->admin.job = strcmp(m->verb, "STATS") == 0 ? JOB_STATS :
		    JOB_STREAMS;
		server_line(c);
		c->admin.scursor = TAILQ_FIRST(&s->streams);
		cursor_set(c, c->admin.job == JOB_STATS ?
		    TAILQ_FIRST(&s->clients) : NULL);
		return;
	}
	c->admin.job = JOB_REPLY;
	if (strcmp(m->verb, "KICK") == 0)
		kick(c, m);
	else
		out_line(c, "ERR reason=unknown-verb verb=%s", m->verb);
}

/* Write what c is owed, making more of a long answer as the socket takes
 * it, then any goodbye. */
static enum flush
flush(struct client *c, int *err)
{
	ssize_t n;

	if (c->blocked)
		return FLUSH_BLOCKED;
	if (c->state == CS_DEPARTING && c->admin.job != JOB_NONE) {
		c->admin.job = JOB_NONE;   /* what is made goes, then the goodbye */
		cursor_set(c, NULL);
	}
	for (;;) {
		if (c->admin.out_off == c->admin.out_len) {
			c->admin.out_off = c->admin.out_len = 0;
			fill(c);
			if (c->admin.out_len == 0)
				break;
		}
		if ((n = client_write(c, c->admin.out + c->admin.out_off,
		    c->admin.out_len - c->admin.out_off)) == -1 && c->blocked)
			return FLUSH_BLOCKED;
		if (n == -1) {
			*err = errno;
			return FLUSH_GONE;
		}
		c->admin.out_off += (size_t)n;
	}
	if (c->admin.job == JOB_REPLY) {
		/* Answered: the next request, which may be waiting already. */
		c->admin.job = JOB_NONE;
		client_ready_set(c);
	}
	return client_flush(c, err);
}

/* A frame from an admin: a request line; anything else ends it. */
static void
frame(struct client *c, const struct frame *f)
{
	struct ctl m;

	if (!f->control)
		client_error(c, "bad-control", "a data frame from a control "
		    "client");
	else if (ctl_parse(&m, f->data, f->len) == -1)
		client_error(c, "bad-control", "not a control line");
	else
		request(c, &m);
}

/* The complete frames in c->in, while no answer is being written. */
static int
consume(struct client *c)
{
	size_t off = 0;
	struct frame f;
	ssize_t k;

	while (c->admin.job == JOB_NONE &&
	    (k = input_decode(c, off, &f)) != 0) {
		if (k == -1) {
			input_too_large(c, &f);
			return -1;
		}
		off += (size_t)k;
		frame(c, &f);
		if (c->state != CS_ACTIVE)
			return -1;
	}
	input_keep(c, off);
	/* One request at a time: the rest waits for the answer to be out,
	 * and is read again then (flush). */
	return c->admin.job == JOB_NONE ? 0 : -1;
}

static int
read_input(struct client *c, int *err)
{
	if (c->admin.job != JOB_NONE)
		return 0;   /* read again once answered */
	return input_frames(c, err);
}

static void
cut_off(struct client *c, enum cut why, const char *by)
{
	client_depart(c, "BYE reason=%s%s", why == CUT_SHUTDOWN ?
	    "shutdown" : "kicked", by);
}

static void
close_admin(struct client *c)
{
	cursor_set(c, NULL);
	free(c->admin.out);
	c->admin.out = NULL;
}

const struct role_ops admin_ops = {
	.name = "ctl",
	.read = read_input,
	.consume = consume,
	.flush = flush,
	.cut_off = cut_off,
	.close = close_admin,
};

int
admin_start(struct client *c)
{
	if ((c->admin.out = malloc(CTL_OUT_CAP)) == NULL)
		return -1;
	client_start(c, ROLE_CTL, &admin_ops);
	c->admin.job = JOB_REPLY;
	log_client(c, LOG_DEBUG, "control connection");
	out_line(c, "OK pid=%ld version=%s", (long)getpid(), SF_VERSION);
	client_schedule(c);
	return 0;
}

void
admin_log_stats(struct server *s)
{
	const struct stream *st;
	const struct client *c;
	uint64_t pubs = 0, subs = 0, lagging = 0, in = 0, out = 0, ev = 0;
	int i;

	for (st = TAILQ_FIRST(&s->streams); st != NULL;
	    st = TAILQ_NEXT(st, link)) {
		in += st->frames_in;
		for (i = 0; i < 4; i++)
			ev += st->evicted[i];
	}
	for (c = TAILQ_FIRST(&s->clients); c != NULL; c = TAILQ_NEXT(c, link)) {
		pubs += c->role == ROLE_PUB;
		subs += c->role == ROLE_SUB;
		lagging += c->role == ROLE_SUB &&
		    strcmp(state_name(c), "live") != 0;
		out += c->sub.bytes_out;
	}
	log_msg(LOG_INFO, "stats: %llu clients (%llu publishing, %llu "
	    "subscribed, %llu behind), %llu streams, %llu records in, %llu "
	    "bytes out to current subscribers, %llu cut off",
	    (unsigned long long)s->nclients, (unsigned long long)pubs,
	    (unsigned long long)subs, (unsigned long long)lagging,
	    (unsigned long long)s->nstreams, (unsigned long long)in,
	    (unsigned long long)out, (unsigned long long)ev);
}

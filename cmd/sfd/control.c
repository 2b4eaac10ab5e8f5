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

#include "client.h"
#include "access.h"
#include "control.h"
#include "frame.h"
#include "log.h"
#include "num.h"
#include "output.h"
#include "proto.h"
#include "queue.h"
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
		client_log(c, LOG_ERROR, "control line not sent: %s", line);
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

static int
may_control(const struct client *c)
{
	const struct access *a = c->srv->cfg.admins;

	if (c->tcp)
		return access_allows(a, 0, 0, (const struct sockaddr *)&c->sa,
		    0);
	if (c->uid == geteuid() || c->uid == 0)
		return 1;
	return access_has_users(a) &&
	    access_allows(a, c->uid, c->gid, NULL, 0);
}

void
control_hello(struct client *c, const struct ctl *m)
{
	const char *version = ctl_positional(m, 0);

	if (version == NULL || strcmp(version, PROTO_VERSION) != 0) {
		client_error(c, "bad-version", "this sfd speaks version "
		    PROTO_VERSION);
		return;
	}
	if (!may_control(c)) {
		client_error(c, "denied", c->tcp ? "control over TCP needs "
		    "--admins tcp:ADDR/PREFIX" : "control needs the daemon's "
		    "user, root or --admins");
		return;
	}
	if ((c->admin.out = malloc(CTL_OUT_CAP)) == NULL) {
		client_error(c, "no-memory", "control buffer");
		return;
	}
	client_timer_clear(c);
	c->role = ROLE_CTL;
	c->state = CS_ACTIVE;
	c->admin.job = JOB_REPLY;
	client_log(c, LOG_DEBUG, "control connection");
	out_line(c, "OK pid=%ld version=%s", (long)getpid(), SF_VERSION);
	client_schedule(c);
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
control_close(struct client *gone)
{
	struct client *c;

	if (gone->role == ROLE_CTL)
		cursor_set(gone, NULL);
	if (gone->cursors == 0)
		return;
	/* Rare (a client leaving while a STATS answer stands on it), so a
	 * walk is fine here: the cursor moves on to the next client. */
	TAILQ_FOREACH(c, &gone->srv->clients, link)
		if (c->role == ROLE_CTL && c->admin.cursor == gone)
			cursor_set(c, TAILQ_NEXT(gone, link));
}

static const char *
role_name(enum role r)
{
	switch (r) {
	case ROLE_PUB:
		return "pub";
	case ROLE_SUB:
		return "sub";
	case ROLE_CTL:
		return "ctl";
	case ROLE_HELLO:
		break;
	}
	return "hello";
}

/* How far behind a subscriber is; a departing one, how much it still has
 * to take before its goodbye. */
static uint64_t
lag_of(const struct client *c)
{
	uint64_t end;

	if (c->role != ROLE_SUB || c->stream == NULL)
		return 0;
	end = c->state == CS_DEPARTING ? c->sub.stop : ring_head(c->stream->ring);
	return (end > c->sub.pos ? end - c->sub.pos : 0) + (c->sub.tail_len - c->sub.tail_off);
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
	if (c->role == ROLE_SUB) {
		if (c->sub.untethered)
			return "untethered";
		if (c->sub.over_since != 0 || c->sub.cut != CUT_NONE ||
		    lag_of(c) > ring_size(c->stream->ring) / 8)
			return "lagging";
	}
	return "live";
}

/* Data frames c was sent whole or in part: from where it started to
 * where it is, less those it skipped.  One index lookup. */
static uint64_t
frames_sent(const struct client *c)
{
	uint64_t start, seq, n;

	if (c->role != ROLE_SUB || c->stream == NULL)
		return 0;
	if (ring_locate(c->stream->ring, c->sub.pos, &start, &seq) == -1)
		/* Gone from the ring: it is finishing the frame before its
		 * stop from what was kept aside. */
		seq = c->sub.stop_seq > 0 ? c->sub.stop_seq - 1 : 0;
	n = seq - c->sub.start_seq;
	return n > c->sub.skipped ? n - c->sub.skipped : 0;
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
	    "idle_seconds=%s connected_seconds=%s",
	    (unsigned long long)t->id, role_name(t->role), who,
	    t->stream != NULL ? t->stream->name : "-", state_name(t),
	    (unsigned long long)lag_of(t),
	    t->stream != NULL ? ring_size(t->stream->ring) : 0,
	    (unsigned long long)frames_sent(t),
	    (unsigned long long)t->sub.bytes_out,
	    (unsigned long long)t->sub.skipped,
	    (unsigned long long)t->pub.frames_in,
	    (unsigned long long)t->pub.bytes_in,
	    seconds(now - last, idle, sizeof(idle)),
	    seconds(now - t->connected_ms, up, sizeof(up)));
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
	client_log(t, LOG_INFO, "kicked by #%llu (%s %s)%s%s",
	    (unsigned long long)c->id, c->tcp ? "peer" : "uid", who,
	    note != NULL ? ": " : "", note != NULL ? note : "");
	out_line(c, "OK id=%llu role=%s", (unsigned long long)id,
	    role_name(t->role));
	if (t->stream != NULL)
		t->stream->evicted[EV_KICKED]++;
	if (t->role == ROLE_SUB) {
		snprintf(t->sub.kick, sizeof(t->sub.kick), "%s", by);
		stream_cut(t, CUT_KICKED, lag_of(t));
	} else if (t->role == ROLE_PUB && t->stream != NULL) {
		client_depart(t, "BYE reason=kicked seq=%llu%s",
		    (unsigned long long)ring_head_seq(t->stream->ring), by);
	} else {
		client_depart(t, "BYE reason=kicked%s", by);
	}
}

void
control_request(struct client *c, const struct ctl *m)
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

enum flush
control_flush(struct client *c, int *err)
{
	ssize_t n;

	if (c->state == CS_CLOSED || c->blocked)
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
		while ((n = write(c->w.fd, c->admin.out + c->admin.out_off,
		    c->admin.out_len - c->admin.out_off)) == -1 && errno == EINTR)
			;
		if (n == -1 && errno == EAGAIN) {
			c->blocked = 1;
			return FLUSH_BLOCKED;
		}
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

void
control_log_stats(struct server *s)
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

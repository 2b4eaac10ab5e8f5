/*
 * What a client's control frames do: its hello (SUB, PUB or CTL, checked
 * and answered OK or ERR), from a publisher the end of its stream, and
 * from a control client its requests.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client.h"
#include "access.h"
#include "control.h"
#include "ctl.h"
#include "frame.h"
#include "hello.h"
#include "log.h"
#include "num.h"
#include "output.h"
#include "proto.h"
#include "publisher.h"
#include "queue.h"
#include "stream.h"

struct hello_numbers {
	uint64_t max_lag;    /* SUB max-lag=, 0 for none */
	uint64_t resume;     /* SUB resume= */
	uint64_t min_subs;   /* PUB min-subscribers=, 0 for none */
	uint64_t pace;       /* PUB pace= */
};

/*
 * Where a new subscriber starts, from its hello's from=, epoch= and
 * resume=: "now" (default), "oldest", "-N" (the last N frames) or a
 * sequence number.  A sequence from another epoch of the stream means
 * nothing here, so that subscriber gets the oldest frames and sees the new
 * epoch in the answer.  An end mark right before the start is left out,
 * unless resume=1 and the start is the frame asked for: a client that had
 * frame SEQ - 1 but not the end that may follow it.
 * Returns -1 when from= is not one of these.
 */
static int
start_point(const struct stream *st, const char *from, const char *epoch,
    int resume, uint64_t *pos, uint64_t *seq)
{
	struct ring *r = st->ring;
	uint64_t oldest_pos, oldest, hard_pos, hard, n;
	int exact = 0;

	stream_oldest(st, 1, &oldest_pos, &oldest);
	stream_oldest(st, 0, &hard_pos, &hard);
	*pos = ring_head(r);
	*seq = ring_head_seq(r);
	if (from == NULL || strcmp(from, "now") == 0)
		return 0;
	if (strcmp(from, "oldest") == 0) {
		n = oldest;
	} else if (from[0] == '-') {
		if (num_parse(from + 1, 0, UINT64_MAX, &n) != NULL)
			return -1;
		n = n > *seq - oldest ? oldest : *seq - n;
	} else {
		if (num_parse(from, 0, UINT64_MAX, &n) != NULL)
			return -1;
		/* Gone from the ring, or from another epoch: the oldest;
		 * the answer's seq (or epoch) shows the gap.  A frame still
		 * held is given even without the headroom of "oldest". */
		if ((epoch != NULL && strcmp(epoch, st->epoch) != 0) ||
		    n < hard)
			n = oldest;
		else if (n > *seq)
			n = *seq;
		else
			exact = 1;
	}
	*seq = n;
	if (n == oldest)
		*pos = oldest_pos;
	else if (n == hard)
		*pos = hard_pos;
	else if (ring_find(r, n, pos) == -1)
		return -1;
	if (!(resume && exact))
		*pos = stream_past_marks(st, *pos);
	return 0;
}

/*
 * The numbers a hello may carry: max-lag= and resume= (SUB),
 * min-subscribers= and pace= (PUB).  Returns NULL, or what was wrong for
 * the ERR's detail.
 */
static const char *
hello_numbers(const struct ctl *m, enum role role, struct hello_numbers *h)
{
	const char *v;

	memset(h, 0, sizeof(*h));
	if ((v = ctl_get(m, "max-lag")) != NULL && (role != ROLE_SUB ||
	    num_parse(v, 1, UINT64_MAX, &h->max_lag) != NULL))
		return "max-lag= is a subscriber's limit in bytes, at least 1";
	if ((v = ctl_get(m, "resume")) != NULL && (role != ROLE_SUB ||
	    num_parse(v, 0, 1, &h->resume) != NULL))
		return "resume= is 0 or 1, for a subscriber";
	if ((v = ctl_get(m, "min-subscribers")) != NULL && (role != ROLE_PUB ||
	    num_parse(v, 1, UINT32_MAX, &h->min_subs) != NULL))
		return "min-subscribers= is a publisher's count, at least 1";
	if ((v = ctl_get(m, "pace")) != NULL && (role != ROLE_PUB ||
	    num_parse(v, 0, 1, &h->pace) != NULL))
		return "pace= is 0 or 1, for a publisher";
	return NULL;
}

/* 1 if list a lets c in: by its credentials, or over TCP by its address
 * (tcp_default when a names no network). */
static int
allowed(const struct client *c, const struct access *a, int tcp_default)
{
	return access_allows(a, c->uid, c->gid, c->tcp ?
	    (const struct sockaddr *)&c->sa : NULL, tcp_default);
}

/* No stream for c: --max-streams, descriptors or memory ran out. */
static void
refuse_stream(struct client *c)
{
	if (errno == ENOSPC)
		client_error(c, "too-many-streams", "--max-streams reached");
	else if (errno == EIO)
		client_error(c, "spool", "its ring file cannot be made");
	else if (errno == EMFILE || errno == ENFILE)
		client_error(c, "full", strerror(errno));
	else
		client_error(c, "no-memory", strerror(errno));
}

/* Make c a subscriber of st, its next frame at pos (seq). */
static void
subscribe(struct client *c, struct stream *st, uint64_t pos, uint64_t seq,
    int skip_on_lag, uint64_t max_lag)
{
	struct server *s = c->srv;
	struct ring *r = st->ring;
	int sndbuf;

	client_timer_clear(c);
	c->stream = st;
	c->role = ROLE_SUB;
	c->state = CS_ACTIVE;
	c->sub.pos = pos;
	c->sub.start_seq = seq;
	c->sub.skip_on_lag = skip_on_lag;
	c->sub.own_lag = max_lag;
	/* A replay may start further back than its max-lag; it must not
	 * fall further behind than that until it catches up. */
	c->sub.lag_limit = ring_head(r) - pos > max_lag ? ring_head(r) - pos :
	    max_lag;
	c->sub.progress_ms = s->now;
	/* A larger kernel buffer absorbs a network's jitter. */
	sndbuf = (int)s->cfg.sndbuf;
	if (sndbuf > 0 && setsockopt(c->w.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf)) == -1)
		client_log(c, LOG_INFO, "--sndbuf: %s", strerror(errno));
	TAILQ_INSERT_TAIL(&st->subs, c, slink);
	st->nsubs++;
	client_log(c, LOG_DEBUG, "subscribed to %s at seq %llu%s", st->name,
	    (unsigned long long)seq, c->plain ? ", plain" : "");
}

void
hello_plain(struct client *c, const char *name)
{
	struct server *s = c->srv;
	struct stream *st;

	c->plain = 1;
	if (!allowed(c, s->cfg.subscribers, 1)) {
		client_error(c, "denied", "not in --subscribers");
		return;
	}
	if ((st = stream_get(s, name)) == NULL) {
		refuse_stream(c);
		return;
	}
	subscribe(c, st, ring_head(st->ring), ring_head_seq(st->ring), 0, 0);
	publisher_subscribed(st);
}

static void
hello(struct client *c, const struct ctl *m, enum role role)
{
	struct server *s = c->srv;
	const char *version = ctl_positional(m, 0);
	const char *name = ctl_get(m, "stream");
	const char *on_lag = ctl_get(m, "on-lag");
	const char *e;
	struct stream *st;
	struct ring *r;
	struct hello_numbers h;
	uint64_t pos = 0, seq = 0;

	if (version == NULL || strcmp(version, PROTO_VERSION) != 0) {
		client_error(c, "bad-version", "this sfd speaks version "
		    PROTO_VERSION);
		return;
	}
	if (name == NULL) {
		client_error(c, "bad-hello", "no stream= in hello");
		return;
	}
	if (!proto_stream_valid(name)) {
		client_error(c, "bad-stream", "stream names are 1 to 64 of "
		    "A-Z a-z 0-9 . _ -");
		return;
	}
	if (on_lag != NULL && strcmp(on_lag, "skip") != 0 &&
	    strcmp(on_lag, "disconnect") != 0) {
		client_error(c, "bad-hello", "on-lag= is skip or disconnect");
		return;
	}
	if ((e = hello_numbers(m, role, &h)) != NULL) {
		client_error(c, "bad-hello", e);
		return;
	}
	if (role == ROLE_PUB && !allowed(c, s->cfg.publishers, 0)) {
		client_error(c, "denied", c->tcp ? "publishing over TCP needs "
		    "--publishers tcp or tcp:ADDR/PREFIX" :
		    "not in --publishers");
		return;
	}
	if (role == ROLE_SUB && !allowed(c, s->cfg.subscribers, 1)) {
		client_error(c, "denied", "not in --subscribers");
		return;
	}
	if ((st = stream_get(s, name)) == NULL) {
		refuse_stream(c);
		return;
	}
	r = st->ring;
	if (role == ROLE_SUB && start_point(st, ctl_get(m, "from"),
	    ctl_get(m, "epoch"), h.resume == 1, &pos, &seq) == -1) {
		client_error(c, "bad-hello", "from= is now, oldest, -N or a "
		    "sequence number");
		return;
	}
	if (role == ROLE_PUB && publisher_start(c, st) == -1) {
		client_error(c, "no-memory", "publisher buffer");
		return;
	}
	client_timer_clear(c);
	if (role == ROLE_SUB) {
		subscribe(c, st, pos, seq, on_lag != NULL &&
		    strcmp(on_lag, "skip") == 0, h.max_lag);
		client_reply(c, "OK stream=%s seq=%llu epoch=%s max-frame=%llu "
		    "ring=%zu", st->name, (unsigned long long)seq, st->epoch,
		    (unsigned long long)s->cfg.max_frame, ring_size(r));
		publisher_subscribed(st);
	} else {
		c->pub.paced = h.pace == 1;
		client_log(c, LOG_DEBUG, "publishing to %s at seq %llu%s",
		    st->name, (unsigned long long)ring_head_seq(r),
		    c->pub.paced ? ", paced" : "");
		client_reply(c, "OK stream=%s seq=%llu epoch=%s max-frame=%llu "
		    "ring=%zu", st->name, (unsigned long long)ring_head_seq(r),
		    st->epoch, (unsigned long long)s->cfg.max_frame,
		    ring_size(r));
		if (h.min_subs > 0) {
			c->pub.want_subs = h.min_subs;
			publisher_subscribed(st);
		}
	}
}

void
control_frame(struct client *c, const struct frame *f)
{
	struct ctl m;

	if (ctl_parse(&m, f->data, f->len) == -1)
		client_error(c, c->role == ROLE_HELLO ? "bad-hello" :
		    "bad-control", "not a control line");
	else if (c->role == ROLE_PUB && strcmp(m.verb, "EOS") == 0)
		publisher_eos(c);
	else if (c->role == ROLE_CTL)
		control_request(c, &m);
	else if (c->role != ROLE_HELLO)
		client_error(c, "unexpected-control", m.verb);
	else if (strcmp(m.verb, "SUB") == 0)
		hello(c, &m, ROLE_SUB);
	else if (strcmp(m.verb, "PUB") == 0)
		hello(c, &m, ROLE_PUB);
	else if (strcmp(m.verb, "CTL") == 0)
		control_hello(c, &m);
	else
		client_error(c, "unknown-verb", m.verb);
}


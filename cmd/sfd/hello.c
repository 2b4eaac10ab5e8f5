/*
 * A client's first frame: SUB, PUB or CTL.  Parsed, checked against the
 * access lists, then handed to the role's start (subscriber.c,
 * publisher.c, admin.c); anything wrong is refused with ERR.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "client.h"
#include "ctl.h"
#include "frame.h"
#include "hello.h"
#include "input.h"
#include "num.h"
#include "proto.h"
#include "stream.h"

/* The keys every SUB and PUB hello has: version, stream=, on-lag=. */
static int
check_common(struct client *c, const struct ctl *m)
{
	const char *version = ctl_positional(m, 0);
	const char *name = ctl_get(m, "stream");
	const char *on_lag = ctl_get(m, "on-lag");

	if (version == NULL || strcmp(version, PROTO_VERSION) != 0) {
		client_error(c, "bad-version", "this sfd speaks version "
		    PROTO_VERSION);
		return -1;
	}
	if (name == NULL) {
		client_error(c, "bad-hello", "no stream= in hello");
		return -1;
	}
	if (!proto_stream_valid(name)) {
		client_error(c, "bad-stream", "stream names are 1 to 64 of "
		    "A-Z a-z 0-9 . _ -");
		return -1;
	}
	if (on_lag != NULL && strcmp(on_lag, "skip") != 0 &&
	    strcmp(on_lag, "disconnect") != 0) {
		client_error(c, "bad-hello", "on-lag= is skip or disconnect");
		return -1;
	}
	return 0;
}

/*
 * The numbers a hello may carry: max-lag=, resume= and shared= (SUB),
 * min-subscribers= and pace= (PUB).  Returns NULL, or what was wrong for
 * the ERR's detail.
 */
static const char *
parse_numbers(const struct ctl *m, enum role role, struct sub_hello *sh,
    struct pub_hello *ph)
{
	const char *v;
	uint64_t n = 0;

	if ((v = ctl_get(m, "max-lag")) != NULL && (role != ROLE_SUB ||
	    num_parse(v, 1, UINT64_MAX, &sh->max_lag) != NULL))
		return "max-lag= is a subscriber's limit in bytes, at least 1";
	if ((v = ctl_get(m, "resume")) != NULL && (role != ROLE_SUB ||
	    num_parse(v, 0, 1, &n) != NULL))
		return "resume= is 0 or 1, for a subscriber";
	sh->resume = v != NULL && n == 1;
	if ((v = ctl_get(m, "min-subscribers")) != NULL && (role != ROLE_PUB ||
	    num_parse(v, 1, UINT32_MAX, &ph->min_subs) != NULL))
		return "min-subscribers= is a publisher's count, at least 1";
	if ((v = ctl_get(m, "pace")) != NULL && (role != ROLE_PUB ||
	    num_parse(v, 0, 1, &n) != NULL))
		return "pace= is 0 or 1, for a publisher";
	ph->paced = v != NULL && n == 1;
	n = 0;
	if ((v = ctl_get(m, "shared")) != NULL && (role != ROLE_SUB ||
	    num_parse(v, 0, 1, &n) != NULL))
		return "shared= is 0 or 1, for a subscriber";
	sh->shared = n == 1;
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

/* An admin: the daemon's own uid, root, or a peer in --admins (on TCP
 * only by address, never by default). */
static int
allowed_admin(const struct client *c)
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

/* The stream called name for c, or NULL when it was refused: --max-streams,
 * descriptors, memory or the spool ran out. */
static struct stream *
get_stream(struct client *c, const char *name)
{
	struct stream *st;

	if ((st = stream_get(c->srv, name)) != NULL && !st->damaged)
		return st;
	if (st != NULL) {
		client_error(c, "spool", "its ring file was cut short while "
		    "in use");
		return NULL;
	}
	if (errno == ENOSPC)
		client_error(c, "too-many-streams", "--max-streams reached");
	else if (errno == EIO)
		client_error(c, "spool", "its ring file cannot be made");
	else if (errno == EMFILE || errno == ENFILE)
		client_error(c, "full", strerror(errno));
	else
		client_error(c, "no-memory", strerror(errno));
	return NULL;
}

/* SUB or PUB hello m from c: checked, then the role starts. */
static void
hello_stream(struct client *c, const struct ctl *m, enum role role)
{
	struct server *s = c->srv;
	struct sub_hello sh;
	struct pub_hello ph;
	struct stream *st;
	const char *e, *on_lag = ctl_get(m, "on-lag");

	if (check_common(c, m) == -1)
		return;
	memset(&sh, 0, sizeof(sh));
	memset(&ph, 0, sizeof(ph));
	if ((e = parse_numbers(m, role, &sh, &ph)) != NULL) {
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
	if ((st = get_stream(c, ctl_get(m, "stream"))) == NULL)
		return;
	if (role == ROLE_PUB) {
		if (publisher_start(c, st, &ph) == -1)
			client_error(c, "no-memory", "publisher buffer");
		return;
	}
	sh.from = ctl_get(m, "from");
	sh.epoch = ctl_get(m, "epoch");
	sh.skip_on_lag = on_lag != NULL && strcmp(on_lag, "skip") == 0;
	if (subscriber_start(c, st, &sh) == -1)
		client_error(c, "bad-hello", "from= is now, oldest, -N or a "
		    "sequence number");
}

/* CTL hello m from c. */
static void
hello_admin(struct client *c, const struct ctl *m)
{
	const char *version = ctl_positional(m, 0);

	if (version == NULL || strcmp(version, PROTO_VERSION) != 0) {
		client_error(c, "bad-version", "this sfd speaks version "
		    PROTO_VERSION);
		return;
	}
	if (!allowed_admin(c)) {
		client_error(c, "denied", c->tcp ? "control over TCP needs "
		    "--admins tcp:ADDR/PREFIX" : "control needs the daemon's "
		    "user, root or --admins");
		return;
	}
	if (admin_start(c) == -1)
		client_error(c, "no-memory", "control buffer");
}

static void
hello_frame(struct client *c, const struct frame *f)
{
	struct ctl m;

	if (ctl_parse(&m, f->data, f->len) == -1)
		client_error(c, "bad-hello", "not a control line");
	else if (strcmp(m.verb, "SUB") == 0)
		hello_stream(c, &m, ROLE_SUB);
	else if (strcmp(m.verb, "PUB") == 0)
		hello_stream(c, &m, ROLE_PUB);
	else if (strcmp(m.verb, "CTL") == 0)
		hello_admin(c, &m);
	else
		client_error(c, "unknown-verb", m.verb);
}

/* The hello, once whole; what follows it is the new role's. */
static int
hello_consume(struct client *c)
{
	struct frame f;
	ssize_t k;

	/* Only a control frame may come first: say so at its header,
	 * before buffering any body. */
	if (c->in_len >= FRAME_HDR) {
		frame_get_header(c->in, &f.len, &f.control);
		if (!f.control) {
			client_error(c, "bad-hello", "data frame before the "
			    "hello");
			return -1;
		}
	}
	if ((k = input_decode(c, 0, &f)) == 0)
		return 0;
	if (k == -1) {
		input_too_large(c, &f);
		return -1;
	}
	hello_frame(c, &f);
	if (c->state != CS_ACTIVE)
		return -1;   /* refused */
	input_keep(c, (size_t)k);
	return c->ops->consume(c);
}

/* Waiting for its hello: a shutdown closes it, a kick says goodbye. */
static void
hello_cut_off(struct client *c, enum cut why, const char *by)
{
	if (why == CUT_SHUTDOWN)
		client_close(c);
	else
		client_depart(c, "BYE reason=kicked%s", by);
}

static void
hello_close(struct client *c)
{
	(void)c;   /* holds nothing of its own */
}

/* The hello is read as frames; it is only ever control lines out. */
const struct role_ops hello_ops = {
	.name = "hello",
	.read = input_frames,
	.consume = hello_consume,
	.flush = client_flush,
	.cut_off = hello_cut_off,
	.close = hello_close,
};

void
hello_plain(struct client *c, const char *name)
{
	struct server *s = c->srv;
	struct sub_hello sh;
	struct stream *st;

	c->plain = 1;
	if (!allowed(c, s->cfg.subscribers, 1)) {
		client_error(c, "denied", "not in --subscribers");
		return;
	}
	if ((st = get_stream(c, name)) == NULL)
		return;
	memset(&sh, 0, sizeof(sh));
	(void)subscriber_start(c, st, &sh);   /* from now: cannot fail */
}

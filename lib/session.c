#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"
#include "io.h"
#include "num.h"
#include "proto.h"
#include "session.h"

int
session_read_ctl(int fd, uint32_t len, int timeout_ms, struct ctl *c)
{
	unsigned char body[FRAME_CTL_MAX];

	if (len > FRAME_CTL_MAX) {
		errno = EPROTO;
		return -1;
	}
	if (io_read_full(fd, body, len, timeout_ms) == -1)
		return -1;
	if (ctl_parse(c, body, len) == -1) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/*
 * The first byte of the answer, read with recvmsg(2): descriptors the
 * daemon passes come with it.  Up to *nfds of them go into fds (*nfds
 * says how many came); any more, or any at all when fds is NULL, are
 * closed.  0, or -1 with errno as io_read_full().
 */
static int
read_first(int fd, unsigned char *byte, int timeout_ms, int *fds, int *nfds)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int) * SESSION_FDS)];
	} u;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct iovec iov = { .iov_base = byte, .iov_len = 1 };
	struct msghdr msg;
	struct cmsghdr *cm;
	int want = nfds != NULL ? *nfds : 0, got = 0, rc, *p;
	size_t i, n_in;
	ssize_t n;

	if ((rc = io_poll(&pfd, 1, timeout_ms)) == -1)
		return -1;
	if (rc == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.space;
	msg.msg_controllen = sizeof(u.space);
	while ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR && !io_stopped())
		;
	if (n == -1)
		return -1;
	if (n == 0) {
		errno = ECONNRESET;
		return -1;
	}
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		p = (int *)(void *)CMSG_DATA(cm);
		n_in = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n_in; i++) {
			if (fds != NULL && got < want)
				fds[got++] = p[i];
			else
				close(p[i]);
		}
	}
	if (nfds != NULL)
		*nfds = got;
	return 0;
}

int
session_open_fds(const struct addr *a, const char *hello, int timeout_ms,
    struct ctl *reply, int *fds, int *nfds)
{
	unsigned char out[FRAME_HDR + FRAME_CTL_MAX + 1], hdr[FRAME_HDR];
	long long start = io_now_ms();
	uint32_t len;
	int fd, n, control, saved, left, i;

	if (nfds != NULL && *nfds > SESSION_FDS)
		*nfds = SESSION_FDS;
	if ((n = ctl_frame(out, sizeof(out), "%s", hello)) == -1)
		return -1;
	if ((fd = addr_connect(a)) == -1)
		return -1;
	if (io_write_all(fd, out, (size_t)n) == -1 &&
	    errno != EPIPE && errno != ECONNRESET)
		goto fail;
	/* Even when the write failed, the daemon may have said why. */
	if (read_first(fd, hdr, timeout_ms, fds, nfds) == -1)
		goto fail;
	left = timeout_ms - (int)(io_now_ms() - start);
	if (io_read_full(fd, hdr + 1, sizeof(hdr) - 1, left < 0 ? 0 : left) ==
	    -1)
		goto fail_fds;
	frame_get_header(hdr, &len, &control);
	if (!control) {
		errno = EPROTO;
		goto fail_fds;
	}
	left = timeout_ms - (int)(io_now_ms() - start);
	if (session_read_ctl(fd, len, left < 0 ? 0 : left, reply) == -1)
		goto fail_fds;
	return fd;
fail_fds:
	saved = errno;
	if (nfds != NULL) {
		for (i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
	}
	errno = saved;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
session_open(const struct addr *a, const char *hello, int timeout_ms,
    struct ctl *reply)
{
	return session_open_fds(a, hello, timeout_ms, reply, NULL, NULL);
}

/*
 * v, a byte count from the daemon, for people: written with units when it
 * is a number, as it came when it is not, "?" when it is missing.  Returns
 * buf or v or a constant.
 */
static const char *
size_text(const char *v, char *buf, size_t cap)
{
	uint64_t n;

	if (v == NULL)
		return "?";
	if (num_parse(v, 0, UINT64_MAX, &n) != NULL)
		return v;
	return num_format_size(n, buf, cap);
}

/*
 * A goodbye for lagging: what happened, the first frame lost (every
 * message names it in the same words, for people and scripts alike to
 * find) and what would avoid it next time.
 */
static void
evicted(const struct ctl *c, const char *reason, const char *seq, char *msg,
    size_t cap)
{
	char lag[NUM_SIZE_LEN], max[NUM_SIZE_LEN];
	const char *l = size_text(ctl_get(c, "lag"), lag, sizeof(lag));
	const char *m = ctl_get(c, "max-lag"), *t;

	if (strcmp(reason, "slow") == 0) {
		/* The daemon's soft limit: behind by max-lag for lag-time. */
		if ((t = ctl_get(c, "lag-time")) == NULL)
			t = "?";
		snprintf(msg, cap, "evicted: stayed more than %s behind for "
		    "over %s s (sfd --max-lag, --lag-time); first frame not "
		    "received: seq %s; read faster or raise those limits",
		    size_text(m, max, sizeof(max)), t, seq);
	} else if (strcmp(reason, "kicked") == 0) {
		/* sfctl kick: by= the operator's uid (or TCP address), note=
		 * the --reason it gave, when the daemon says. */
		const char *by = ctl_get(c, "by"), *note = ctl_get(c, "note");
		uint64_t uid;
		char who[320];

		who[0] = '\0';
		if (by != NULL)
			snprintf(who, sizeof(who), " (%s %s%s%s)",
			    num_parse(by, 0, UINT64_MAX, &uid) == NULL ?
			    "uid" : "at", by, note != NULL ? ": " : "",
			    note != NULL ? note : "");
		else if (note != NULL)
			snprintf(who, sizeof(who), " (%s)", note);
		snprintf(msg, cap, "evicted: cut off by an operator%s; first "
		    "frame not received: seq %s", who, seq);
	} else if (m != NULL) {
		/* Its own limit: the subscriber asked for it (max-lag=). */
		snprintf(msg, cap, "evicted: fell %s behind, past its "
		    "--max-lag %s; first frame not received: seq %s; read "
		    "faster, raise --max-lag, or use --on-lag skip to skip "
		    "ahead instead", l, size_text(m, max, sizeof(max)), seq);
	} else {
		/* The hard limit: what it needed was about to be overwritten.
		 * A daemon that sends no ring= means the same by it. */
		snprintf(msg, cap, "evicted: fell %s behind (the ring is "
		    "full); first frame not received: seq %s; read faster, "
		    "raise sfd --ring, publish with sfpipe --pace, or use "
		    "--on-lag skip", l, seq);
	}
}

/*
 * 1 if an ERR with this reason is about the daemon's state at the moment
 * (it is short of connections, streams, disk or memory, or the hello came
 * too late), which may change without anyone touching it: asking again
 * later may succeed.  Every other reason is about who asks or what was
 * asked (denied, a bad hello, another version, or one this tool does not
 * know), and the same request would get the same answer.
 */
static int
refused_for_now(const char *reason)
{
	static const char *const now[] = {
		"full", "too-many-streams", "spool", "no-memory",
		"hello-timeout", NULL
	};
	size_t i;

	for (i = 0; now[i] != NULL; i++)
		if (strcmp(reason, now[i]) == 0)
			return 1;
	return 0;
}

int
session_verdict(const struct ctl *c, char *msg, size_t cap)
{
	const char *reason = ctl_get(c, "reason");
	const char *seq = ctl_get(c, "seq");

	if (reason == NULL)
		reason = "unknown";
	if (seq == NULL)
		seq = "?";
	if (strcmp(c->verb, "BYE") == 0 && (strcmp(reason, "lag") == 0 ||
	    strcmp(reason, "slow") == 0 || strcmp(reason, "kicked") == 0)) {
		evicted(c, reason, seq, msg, cap);
		return SF_EXIT_EVICTED;
	}
	if (strcmp(c->verb, "BYE") == 0 && strcmp(reason, "shutdown") == 0) {
		snprintf(msg, cap, "sfd shut down; next seq %s", seq);
		return SF_EXIT_GONE;
	}
	if (strcmp(c->verb, "BYE") == 0 && strcmp(reason, "spool") == 0) {
		/* Its ring file was cut short under sfd: the stream is gone
		 * until someone looks at the file, as a refusal for now. */
		snprintf(msg, cap, "sfd cut the stream off: its ring file was "
		    "cut short (see sfd's log); next seq %s", seq);
		return SF_EXIT_CONNECT;
	}
	if (strcmp(c->verb, "ERR") == 0) {
		snprintf(msg, cap, "sfd refused: reason=%s", reason);
		return refused_for_now(reason) ? SF_EXIT_CONNECT :
		    SF_EXIT_PROTOCOL;
	}
	snprintf(msg, cap, "unexpected message from sfd: %s", c->verb);
	return SF_EXIT_PROTOCOL;
}

int
session_open_failure(int err, const struct addr *a, char *msg, size_t cap)
{
	char why[160];

	switch (err) {
	case ETIMEDOUT:
		snprintf(msg, cap, "no answer from sfd at %s", a->text);
		return SF_EXIT_PROTOCOL;
	case ECONNRESET:
		snprintf(msg, cap, "sfd at %s closed the connection without "
		    "answering", a->text);
		return SF_EXIT_GONE;
	case EPROTO:
		snprintf(msg, cap, "%s does not speak the streamfan protocol",
		    a->text);
		return SF_EXIT_PROTOCOL;
	case EADDRNOTAVAIL:
		if (addr_unresolved(a, 0, why, sizeof(why))) {
			snprintf(msg, cap, "cannot connect to %s: cannot "
			    "resolve %s: %s", a->text, a->host, why);
			return SF_EXIT_CONNECT;
		}
		/* FALLTHROUGH */
	default:
		snprintf(msg, cap, "cannot connect to %s: %s (is sfd running? "
		    "start it with: sfd -l %s)", a->text, strerror(err),
		    a->text);
		return SF_EXIT_CONNECT;
	}
}

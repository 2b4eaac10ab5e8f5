#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "io.h"
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

int
session_open(const struct addr *a, const char *hello, int timeout_ms,
    struct ctl *reply)
{
	unsigned char out[FRAME_HDR + FRAME_CTL_MAX + 1], hdr[FRAME_HDR];
	long long start = io_now_ms();
	uint32_t len;
	int fd, n, control, saved, left;

	if ((n = ctl_frame(out, sizeof(out), "%s", hello)) == -1)
		return -1;
	if ((fd = addr_connect(a)) == -1)
		return -1;
	if (io_write_all(fd, out, (size_t)n) == -1 &&
	    errno != EPIPE && errno != ECONNRESET)
		goto fail;
	/* Even when the write failed, the daemon may have said why. */
	if (io_read_full(fd, hdr, sizeof(hdr), timeout_ms) == -1)
		goto fail;
	frame_get_header(hdr, &len, &control);
	if (!control) {
		errno = EPROTO;
		goto fail;
	}
	left = timeout_ms - (int)(io_now_ms() - start);
	if (session_read_ctl(fd, len, left < 0 ? 0 : left, reply) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
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
	if (strcmp(c->verb, "BYE") == 0 && strcmp(reason, "lag") == 0) {
		const char *lag = ctl_get(c, "lag");
		snprintf(msg, cap, "evicted for lagging %s bytes behind; "
		    "first frame not received: seq %s", lag ? lag : "?", seq);
		return SF_EXIT_EVICTED;
	}
	if (strcmp(c->verb, "BYE") == 0 && strcmp(reason, "shutdown") == 0) {
		snprintf(msg, cap, "sfd shut down; next seq %s", seq);
		return SF_EXIT_GONE;
	}
	if (strcmp(c->verb, "ERR") == 0) {
		snprintf(msg, cap, "sfd refused: reason=%s", reason);
		return strcmp(reason, "full") == 0 ||
		    strcmp(reason, "denied") == 0 ? SF_EXIT_CONNECT :
		    SF_EXIT_PROTOCOL;
	}
	snprintf(msg, cap, "unexpected message from sfd: %s", c->verb);
	return SF_EXIT_PROTOCOL;
}

int
session_open_failure(int err, const struct addr *a, char *msg, size_t cap)
{
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
	default:
		snprintf(msg, cap, "cannot connect to %s: %s (is sfd running? "
		    "start it with: sfd -l %s)", a->text, strerror(err),
		    a->text);
		return SF_EXIT_CONNECT;
	}
}

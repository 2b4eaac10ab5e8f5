/*
 * The client side of a connection to sfd, shared by sfpipe and sfcat:
 * the hello exchange, and what a control frame from the daemon means for
 * the tool that receives it.
 */
#ifndef SF_SESSION_H
#define SF_SESSION_H

#include "addr.h"
#include "ctl.h"

/*
 * Connect to a, send the control line hello (e.g. "SUB 1 stream=x") and
 * read the daemon's answer into reply, waiting at most timeout_ms for it.
 * Reads nothing past the answer.  Returns the connected fd (blocking), or
 * -1 with errno: connect(2)'s; ETIMEDOUT; ECONNRESET when the daemon closed
 * without answering; EPROTO when the answer is not a control line; EINTR
 * once a stop signal came (see io_catch_stop()).
 * An "ERR ..." answer is still returned: the caller inspects reply->verb.
 */
int session_open(const struct addr *a, const char *hello, int timeout_ms,
    struct ctl *reply);

/*
 * session_open(), also taking the descriptors the daemon passes with its
 * answer (a shared reader's ring, sf-protocol(7)): at most *nfds (up to
 * SESSION_FDS) go into fds, the rest are closed, and *nfds says how many
 * came.  They are the caller's, with close-on-exec set; on failure none
 * is left open.
 */
#define SESSION_FDS 2
int session_open_fds(const struct addr *a, const char *hello, int timeout_ms,
    struct ctl *reply, int *fds, int *nfds);

/*
 * Read the rest of a control frame whose header was already seen: len body
 * bytes from fd.  Returns 0 or -1 with errno (EPROTO if not a valid line).
 */
int session_read_ctl(int fd, uint32_t len, int timeout_ms, struct ctl *c);

/*
 * What a daemon's ERR or BYE line means to a tool: returns the sf_exit
 * code and writes a one-line explanation (no program name, no newline)
 * into msg, cut to cap (512 is ample).  A goodbye for lagging (reason
 * lag, slow or kicked: SF_EXIT_EVICTED) always says "first frame not
 * received: seq S"; keys it lacks are written "?".  A refusal is
 * SF_EXIT_CONNECT when asking again later may succeed (full,
 * too-many-streams, spool, no-memory, hello-timeout), else
 * SF_EXIT_PROTOCOL: the same request would be refused again (denied,
 * bad-hello and the other reasons, or one not known here).
 */
int session_verdict(const struct ctl *c, char *msg, size_t cap);

/*
 * Why session_open() failed with err, for a tool to print: returns the
 * sf_exit code and writes a one-line explanation naming the address.
 */
int session_open_failure(int err, const struct addr *a, char *msg, size_t cap);

#endif

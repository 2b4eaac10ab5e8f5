/*
 * Addresses of the daemon: the one place that turns an ADDR string into a
 * socket, for all three programs.
 *
 * ADDR is "unix:PATH" or PATH.  (Room is kept for other kinds.)
 * The default is one rule: $SF_SERVER if set and non-empty, else
 * $XDG_RUNTIME_DIR/streamfan.sock, else /tmp/streamfan-UID.sock.
 */
#ifndef SF_ADDR_H
#define SF_ADDR_H

#include <sys/types.h>
#include <sys/un.h>

enum addr_kind { ADDR_UNIX };

struct addr {
	enum addr_kind kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char text[sizeof(((struct sockaddr_un *)0)->sun_path) + 8]; /* for messages */
};

/*
 * Parse s into a.  Returns NULL on success, or a short reason ("empty",
 * "path too long") for the caller to print after the address.
 */
const char *addr_parse(const char *s, struct addr *a);

/* Fill a with the default address.  NULL on success, else a reason. */
const char *addr_default(struct addr *a);

/*
 * Connect a blocking, close-on-exec stream socket to a.  Returns the fd, or
 * -1 with errno from socket(2)/connect(2): EINTR once a stop signal came
 * (see io_catch_stop()).
 */
int addr_connect(const struct addr *a);

/*
 * Listen on a with a non-blocking, close-on-exec socket.  A Unix socket is
 * bound under a tight umask and then given mode.  A path left by a dead
 * daemon (nothing accepts on it) is removed first; a live one fails with
 * EADDRINUSE, anything there that is not a socket with EEXIST.
 * Returns the fd or -1 with errno set.
 */
int addr_listen(const struct addr *a, mode_t mode, int backlog);

/* Remove what addr_listen created (the socket file).  -1 with errno on error. */
int addr_unlink(const struct addr *a);

#endif

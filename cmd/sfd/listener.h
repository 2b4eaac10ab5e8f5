/* Listening sockets: bind, take connections, close and unlink. */
#ifndef SFD_LISTENER_H
#define SFD_LISTENER_H

#include <sys/types.h>

#include "addr.h"
#include "sfd.h"

struct listener {
	struct watch w;
	struct server *srv;
	struct addr addr;
	int paused;          /* out of descriptors, with no spare: not read */
	char plain[65];      /* --plain-listen: the stream its clients get,
	                        with no hello; "" for a protocol listener */
	int adopted;         /* passed by the service manager: open already,
	                        and its socket file is not ours to remove */
};

/* How long a listener rests when it cannot take a connection. */
#define ACCEPT_PAUSE_MS 100

/*
 * Listen on l for s, its epoll set included.  The socket is made
 * owner-only first and opened up to mode (and group, unless (gid_t)-1)
 * after, so it is never reachable by more than asked.  Returns NULL, or
 * a one-line reason naming the address (errno kept).
 */
const char *listener_open(struct server *s, struct listener *l, mode_t mode,
    gid_t group, char *msg, size_t cap);

/* Take connections on l again after a pause (a no-op when not paused). */
void listener_resume(struct listener *l);

/* Stop listening on l, remove its socket file; a no-op when closed. */
void listener_close(struct listener *l);

#endif

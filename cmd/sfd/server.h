/*
 * The daemon's event loop, apart from what starts it (listeners, signals,
 * options), so that tests can drive the very same loop one turn at a time.
 */
#ifndef SFD_SERVER_H
#define SFD_SERVER_H

#include "sfd.h"

/*
 * Set up s with cfg: empty lists, an epoll set, a spare descriptor.
 * Returns 0, or -1 with errno set.
 */
int server_init(struct server *s, const struct config *cfg);

/*
 * One turn of the loop: expire timers, act on what was decided and write
 * what is owed (client_settle), take up paused listeners again, write out
 * the log's backlog, wait for events (at most max_wait ms, -1 for as long
 * as no timer is due), handle them, read on from publishers cut short,
 * settle again, free what was closed.  Waits not at all once a
 * shutdown has closed every client.  Returns -1 on an epoll error.
 */
int server_turn(struct server *s, int max_wait);

/* Close every client and free every stream and descriptor of s. */
void server_free(struct server *s);

#endif

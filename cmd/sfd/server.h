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

/*
 * A ring file was cut short under sfd (guard.h noted a fault in its
 * mapping): log it naming the file, mark the file so the next start
 * refuses it, and cut that stream's clients off (BYE reason=spool); the
 * stream takes no new client.  Other streams go on.
 */
void server_check_damage(struct server *s);

/*
 * The shutdown policy: stop listening (stop_listening), then every client
 * is cut off its role's way (publishers told and closed, subscribers
 * first given what the ring holds for them, within --grace); the loop
 * ends once all are gone.  A second call closes everyone at once.
 */
void server_shutdown(struct server *s, void (*stop_listening)(void));

/* Close every client and free every stream and descriptor of s. */
void server_free(struct server *s);

/*
 * Ask for the periodic check of stalls and of sfd --max-lag (TICK_MS from
 * now, unless one is due sooner): needed while a publisher is held or a
 * subscriber is over --max-lag, whether or not anything else happens.
 */
#define TICK_MS 200
void server_tick_arm(struct server *s);

/*
 * The spare descriptor, held back for when descriptors run out: lend it
 * (close it, so the next open or accept gets its slot; 0 when there was
 * none to lend) and get it back (open it again unless held; -1 with errno
 * when that fails, and the spare stays missing until a later call).
 */
int server_spare_lend(struct server *s);
int server_spare_restore(struct server *s);

#endif

/*
 * Clients of the daemon: the life of one connection, and the pass before
 * the loop sleeps that acts on what was decided about each client.
 */
#ifndef SFD_CLIENT_H
#define SFD_CLIENT_H

#include "sfd.h"

/* Take a new connection: it must say hello within --hello-timeout.
 * Returns it, or NULL when it was refused. */
struct client *client_accept(struct server *s, int fd, int tcp);

/* Refuse a connection we cannot take: one try to say why, then close. */
void client_refuse(int fd, const char *reason);

/*
 * The one way a connection ends: leave every list, leave epoll, close.
 * The memory is freed by client_reap(), after the event batch that may
 * still point at it.
 */
void client_close(struct client *c);

/* Read more from publishers that were cut short to be fair to others. */
void client_read_ready(struct server *s);

/*
 * Before the loop sleeps: act on every decision and write every client
 * that is owed bytes, closing those that are done or gone.
 */
void client_settle(struct server *s);

/*
 * The periodic check of stalls and of sfd --max-lag, when it is due.
 * Returns the ms until it is due again, or -1 while none is needed.
 */
int client_tick(struct server *s);

/* Close clients whose hello or departure is overdue.  Returns the ms until
 * the next deadline, or -1 when there is none. */
int client_expire(struct server *s);

void client_reap(struct server *s);

#endif

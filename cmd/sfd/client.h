/* Clients of the daemon: the life of one connection. */
#ifndef SFD_CLIENT_H
#define SFD_CLIENT_H

#include "log.h"
#include "sfd.h"

/* Take a new connection: it must say hello within --hello-timeout. */
void client_accept(struct server *s, int fd);

/* Refuse a connection we cannot take: one try to say why, then close. */
void client_refuse(int fd, const char *reason);

/*
 * Tear a connection down: leave every list, leave epoll, close.  The
 * memory is freed by client_reap(), after the event batch that may still
 * point at it.
 */
void client_close(struct client *c);

/* Read more from publishers that were cut short to be fair to others. */
void client_read_ready(struct server *s);

/* Close clients whose hello or departure is overdue.  Returns the ms until
 * the next deadline, or -1 when there is none. */
int client_expire(struct server *s);

void client_reap(struct server *s);

/* Put c on a timer list (s->hello, s->leaving) due in ms, off any other.
 * Every list has one fixed delay, so appending keeps it sorted. */
void client_timer_set(struct client *c, struct client_list *list,
    uint64_t ms);

/* Take c off the timer list it is on (its hello was answered). */
void client_timer_clear(struct client *c);

/* Take c off the list of publishers with input still waiting. */
void client_ready_clear(struct client *c);

/* The peer is gone (EOF, or the socket error err): log it and close. */
void client_lost(struct client *c, int err);

/* Log a line about c, prefixed with "#ID pid=P uid=U: ". */
void client_log(const struct client *c, enum log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

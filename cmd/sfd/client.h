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
 * Write what the client is owed: pending control frames, ring data, and
 * for a departing client its goodbye, after which it is closed.
 */
void client_flush(struct client *c);

/*
 * Start a departure: a subscriber gets the rest of its current frame (or
 * with DEPART_DRAIN all it has not yet received), then every client gets
 * the control line fmt; all within --grace, then it is closed.  Further
 * input from it is ignored.
 */
enum depart {
	DEPART_NOW,     /* finish the frame being sent, then the goodbye */
	DEPART_DRAIN    /* send everything up to the newest frame first */
};
void client_depart(struct client *c, enum depart how, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Evict a subscriber lagging more than --max-lag, telling it why. */
void client_evict(struct client *c);

/* Move a subscriber that asked for on-lag=skip ahead instead of evicting
 * it; it is told how many frames it missed. */
void client_skip(struct client *c);

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

/* Queue a control line for c, sent before any more ring data. */
void client_reply(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Refuse what c sent: log it with detail, answer ERR reason=..., close
 * once said. */
void client_error(struct client *c, const char *reason, const char *detail);

/* Take c off the timer list it is on (its hello was answered). */
void client_timer_clear(struct client *c);

/* Log a line about c, prefixed with "#ID pid=P uid=U: ". */
void client_log(const struct client *c, enum log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

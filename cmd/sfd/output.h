/*
 * What the daemon sends a client: control lines, a subscriber's ring data
 * (with any skips), and a goodbye before the close.  Queuing only
 * schedules the client; bytes are written by client_flush(), in the pass
 * before the loop sleeps.
 */
#ifndef SFD_OUTPUT_H
#define SFD_OUTPUT_H

#include "sfd.h"

/* Queue a control line for c, sent before any more ring data. */
void client_reply(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Start c's departure: a subscriber first gets its data up to c->stop
 * (set by the caller), then every client gets the control line fmt; all
 * within --grace, then it is closed.  Further input from it is ignored.
 */
void client_depart(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Refuse what c sent: log it with detail, answer ERR reason=..., close
 * once said. */
void client_error(struct client *c, const char *reason, const char *detail);


/*
 * Write what c is owed: pending control lines, ring data (a skip under
 * way lands here), and for a departing client its goodbye.
 */
enum flush client_flush(struct client *c, int *err);

#endif

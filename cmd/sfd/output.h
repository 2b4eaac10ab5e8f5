/*
 * What the daemon sends a client: control lines, a subscriber's ring data
 * (with any skips), and a goodbye before the close.
 */
#ifndef SFD_OUTPUT_H
#define SFD_OUTPUT_H

#include "sfd.h"

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

/* Queue a control line for c, sent before any more ring data. */
void client_reply(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Refuse what c sent: log it with detail, answer ERR reason=..., close
 * once said. */
void client_error(struct client *c, const char *reason, const char *detail);

#endif

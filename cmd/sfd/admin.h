/*
 * The admin role (CTL), for sfctl(1): an operator's connection that asks
 * for the daemon's counters (STATS, STREAMS) or cuts a client off (KICK).
 * See sf-protocol(7), Control.
 */
#ifndef SFD_ADMIN_H
#define SFD_ADMIN_H

#include <stddef.h>

#include "sfd.h"

/* An admin client's part: the answer being written, and the request
 * being answered piecewise (admin.c). */
struct admin {
	unsigned char *out;
	size_t out_len, out_off;
	int job;                     /* what is being answered, or 0 */
	struct stream *scursor;      /* the next stream to report */
	struct client *cursor;       /* the next client to report */
};

extern const struct role_ops admin_ops;

/* Make c, whose CTL hello was accepted (hello.c checks who may), an admin
 * client, and answer OK.  -1 (nothing changed) when its answer buffer
 * cannot be had. */
int admin_start(struct client *c);

/* Client gone is closing: no admin's report may be left standing on it. */
void admin_forget(struct client *gone);

/* One summary line in the log: clients, streams, records in and out. */
void admin_log_stats(struct server *s);

#endif

/*
 * The CTL role, for sfctl(1): an operator's connection that asks for the
 * daemon's counters (STATS, STREAMS) or cuts a client off (KICK).  See
 * sf-protocol(7), Control.
 */
#ifndef SFD_CONTROL_H
#define SFD_CONTROL_H

#include "ctl.h"
#include "output.h"
#include "sfd.h"

/* An admin client's part: the answer being written, and the request
 * being answered piecewise (control.c). */
struct admin {
	unsigned char *out;
	size_t out_len, out_off;
	int job;                     /* what is being answered, or 0 */
	struct stream *scursor;      /* the next stream to report */
	struct client *cursor;       /* the next client to report */
};

/*
 * The hello "CTL 1" from c: the daemon's own uid, root, or a peer in
 * --admins becomes a control client (OK); anyone else gets ERR
 * reason=denied.
 */
void control_hello(struct client *c, const struct ctl *m);

/* A request line m from control client c: answered in order, one at a
 * time; input is not read while an answer is being written. */
void control_request(struct client *c, const struct ctl *m);

/*
 * Write what control client c is owed, making more of a long answer as
 * the socket takes it, then any goodbye; as client_flush().
 */
enum flush control_flush(struct client *c, int *err);

/* c is closing: its own cursor is let go, and no control client's cursor
 * may be left on it. */
void control_close(struct client *gone);

/* One summary line in the log: clients, streams, records in and out. */
void control_log_stats(struct server *s);

#endif

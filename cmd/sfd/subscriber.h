/*
 * A subscriber's cut-offs, as the loop acts on them: the goodbye and the
 * log line for each reason, and the limits checked once it has taken
 * what it could.
 */
#ifndef SFD_SUBSCRIBER_H
#define SFD_SUBSCRIBER_H

#include "sfd.h"

/*
 * Act on the cut-off decided for c (c->cut): queue its goodbye and say
 * why in the log.  Returns -1 when nothing more can be sent to it whole
 * and it must be closed at once.
 */
int subscriber_cut(struct client *c);

/*
 * After a write pass: decide whether c, still taking frames, is now past
 * a lag limit (returns 1: a cut-off was decided, act again), else 0.
 */
int subscriber_check(struct client *c);

#endif

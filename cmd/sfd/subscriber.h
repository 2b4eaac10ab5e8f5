/*
 * A subscriber's cut-offs, as the loop acts on them: the goodbye and the
 * log line for each reason; and the limits checked once it has taken what
 * it could, or on the periodic check: its own max-lag, sfd --max-lag and
 * --lag-time, and --stall.
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
 * a lag limit (returns 1: a cut-off was decided, act again), else 0.  A
 * stalled subscriber that reads again and is back within the ring holds
 * paced publishers again.
 */
int subscriber_check(struct client *c);

/*
 * The periodic check: a subscriber that took no byte for --stall while a
 * paced publisher waits for it stops holding that publisher back; one
 * over --max-lag for --lag-time is cut off even while nothing is
 * published.  Returns 1 while c still needs the check.
 */
int subscriber_tick(struct client *c);

#endif

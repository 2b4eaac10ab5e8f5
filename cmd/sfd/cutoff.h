/*
 * Inside the subscriber role: its cut-offs, limits and skips (cutoff.c),
 * as its writes (subscriber.c) use them.  Nothing outside the role
 * includes this.
 */
#ifndef SFD_CUTOFF_H
#define SFD_CUTOFF_H

#include "sfd.h"

/* The frames it skipped, announced (SKIP) before what comes next. */
void cutoff_owe_skip(struct client *c);

/*
 * Act on the cut-off decided for c: queue its goodbye and say why in the
 * log.  Returns -1 when nothing more can be sent to it whole and it must
 * be closed at once.
 */
int cutoff_act(struct client *c);

/*
 * After a write pass: decide whether c, still taking frames, is now past
 * a lag limit (returns 1: a cut-off was decided, act again), else 0.  A
 * stalled subscriber that reads again and is back within the ring holds
 * paced publishers again.
 */
int cutoff_check(struct client *c);

/* The frame c was finishing before a skip is out: the skip (and an end
 * mark it is owed), then c takes frames again. */
void cutoff_finish_skip(struct client *c);

/* From subscriber.c: write the kept tail, then ring data up to where c
 * may go now.  0 when all are out, else -1 as client_write(). */
int send_data(struct client *c);

/* Let go of the frame c kept aside (sent, or c is closing). */
void cutoff_drop_tail(struct client *c);

/* The role's tick and cut_off (struct role_ops). */
int cutoff_tick(struct client *c);
void cutoff_cut_off(struct client *c, enum cut why, const char *by);

#endif

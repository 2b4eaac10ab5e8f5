/*
 * A subscriber's cut-offs, as the loop acts on them: the goodbye and the
 * log line for each reason; and the limits checked once it has taken what
 * it could, or on the periodic check: its own max-lag, sfd --max-lag and
 * --lag-time, and --stall.
 */
#ifndef SFD_SUBSCRIBER_H
#define SFD_SUBSCRIBER_H

#include "sfd.h"

/* Why a subscriber is cut off (or, with on-lag=skip, moved ahead). */
enum cut {
	CUT_NONE,
	CUT_RING,       /* frames it needs were about to be overwritten */
	CUT_OWN,        /* past the max-lag it asked for in its hello */
	CUT_SLOW,       /* over sfd --max-lag for longer than --lag-time */
	CUT_SHUTDOWN,   /* the daemon is stopping */
	CUT_KICKED,     /* an operator said so (sfctl kick) */
	CUT_TORN        /* its unsent frame is gone (no memory to keep it
	                   aside): closed at once, nothing more can be sent */
};

/* A subscriber's part of its client: a cursor into its stream's ring. */
struct subscriber {
	/* Where it is: the next ring byte to send, and where a departure
	 * (or the frame finished before a skip) stops. */
	uint64_t pos, stop;
	uint64_t stop_seq;           /* seq of the first frame after stop */
	uint64_t start_seq;          /* where it started, for frames sent */
	/* The rest of the frame it was finishing, kept when the ring was
	 * about to overwrite it; sent before anything at pos. */
	unsigned char *tail;
	size_t tail_len, tail_off;
	/* Its limits and how it stands against them. */
	int skip_on_lag;             /* on-lag=skip: jump ahead, not cut off */
	uint64_t own_lag;            /* max-lag= of its hello, 0 for none */
	uint64_t lag_limit;          /* own_lag, or more while replaying */
	long long over_since;        /* ms it went over sfd --max-lag, or 0 */
	long long progress_ms;       /* last took a byte, or had none to take */
	int untethered;              /* stalled: holds no paced publisher back */
	/* Skips: an end mark it had not reached went out of the ring (it
	 * ends there still), and frames skipped, not yet announced. */
	uint64_t mark_seq;
	int mark_owed;
	uint64_t skip_seq;           /* skip_seq .. skip_seq + skip_count - 1 */
	uint64_t skip_count;
	uint64_t skipped;            /* frames skipped over its whole life */
	uint64_t bytes_out;          /* ring bytes written to it, all told */
	/* Its cut-off: decided, not yet acted on. */
	enum cut cut;
	uint64_t cut_lag;            /* its lag when the cut was decided */
	char kick[96];               /* " by=WHO[ note=TEXT]" of a kick */
};

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

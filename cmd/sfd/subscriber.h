/*
 * The subscriber role: a cursor into its stream's ring.  Where it starts,
 * its writes (ring data straight from the ring, a kept tail, SKIP
 * notices), the limits checked after each write pass and on the periodic
 * check (its own max-lag, sfd --max-lag and --lag-time, --stall), and its
 * cut-offs: who is cut off and why, the goodbye and the log line.  The
 * stream (stream.c) only says where things are; this file decides what
 * happens to the subscriber.
 */
#ifndef SFD_SUBSCRIBER_H
#define SFD_SUBSCRIBER_H

#include "sfd.h"


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
	uint64_t skip_pos;           /* where the last skip landed */
	uint64_t skipped;            /* frames skipped over its whole life */
	uint64_t bytes_out;          /* ring bytes written to it, all told
	                                (a shared reader: it said it took) */
	/* A shared reader (reader.h): reads the ring itself; pos is where
	 * it last said it was, and waiting that it sleeps until told. */
	int shared;
	int waiting;
	/* Its cut-off: decided, not yet acted on. */
	enum cut cut;
	uint64_t cut_lag;            /* its lag when the cut was decided */
	char kick[96];               /* " by=WHO[ note=TEXT]" of a kick */
};

/* What a SUB hello asked for (all zero: from now, no limit of its own). */
struct sub_hello {
	const char *from;            /* from=: now, oldest, -N or a seq */
	const char *epoch;           /* epoch= the seq belongs to */
	int resume;                  /* resume=1 */
	int skip_on_lag;             /* on-lag=skip */
	uint64_t max_lag;            /* max-lag=, 0 for none */
	int shared;                  /* shared=1: read the ring itself */
};

extern const struct role_ops subscriber_ops;
extern const struct role_ops shared_reader_ops;

/*
 * Make c, whose hello was accepted, a subscriber of st from where h says,
 * and answer OK (unless it is plain).  Returns -1, nothing changed, when
 * from= is not one of its forms.
 */
int subscriber_start(struct client *c, struct stream *st,
    const struct sub_hello *h);

/* Refuse what subscriber c sent (client_error): the rest of its frame,
 * then ERR reason=reason; or a close when that rest is gone. */
void subscriber_refuse(struct client *c, const char *reason);

/*
 * Before st takes the len bytes of whole frames at frames: every
 * subscriber whose unsent frames they would overwrite is cut off
 * (CUT_RING, or moved ahead with on-lag=skip), one finishing a frame
 * keeps its rest aside, and a blocked one they take past its own max-lag
 * is cut off at the frame that does (CUT_OWN).
 */
void subscribers_before_append(struct stream *st, const unsigned char *frames,
    size_t len);

/* The room for that append was made: a subscriber finishing a frame
 * before a skip is owed each end mark the room took (it ends there). */
void subscribers_marks_leaving(struct stream *st);

/* 1 if c, taking frames and not stalled, holds paced publishers back. */
int subscriber_holds(const struct client *c);

/* For sfctl stats: how far behind c is (a departing one: what it has
 * still to take), the data frames it was sent, and how it stands: live,
 * lagging or untethered. */
uint64_t subscriber_lag(const struct client *c);
uint64_t subscriber_frames_sent(const struct client *c);
const char *subscriber_standing(const struct client *c);

#endif

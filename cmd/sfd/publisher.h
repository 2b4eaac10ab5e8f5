/*
 * The publisher role: its frames into the stream's ring (whole runs of
 * them in one append), pacing (held, not read, while its next append
 * would overwrite what a subscriber still needs), the wait for
 * subscribers, and its end mark.
 */
#ifndef SFD_PUBLISHER_H
#define SFD_PUBLISHER_H

#include "sfd.h"

/* A publisher's part of its client (its frames are read into the
 * connection's input buffer). */
struct publisher {
	int paced;                   /* pace=1: held rather than overwrite */
	uint64_t want_subs;          /* min-subscribers=N, until READY */
	uint64_t frames_in, bytes_in;/* what it appended */
	long long last_append_ms;    /* when, or 0 before its first */
};

/* What a PUB hello asked for. */
struct pub_hello {
	int paced;                   /* pace=1 */
	uint64_t min_subs;           /* min-subscribers=, 0 for none */
};

extern const struct role_ops publisher_ops;

/* Make c, whose hello was accepted, a publisher to st, and answer OK.
 * Returns -1 (with errno, nothing changed) when its read buffer cannot
 * be had. */
int publisher_start(struct client *c, struct stream *st,
    const struct pub_hello *h);

/* Let st's held publishers go on once its subscribers have drained a
 * quarter of the ring (or left). */
void publisher_release(struct stream *st);

/* A subscriber joined st: tell publishers waiting for that many READY. */
void publisher_subscribed(struct stream *st);

#endif

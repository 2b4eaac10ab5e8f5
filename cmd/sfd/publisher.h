/*
 * Publishers: their frames into the stream's ring, pacing, the wait for
 * subscribers, and their end mark.
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

/* Make c, whose hello was accepted, a publisher to st.  Returns -1 (with
 * errno) when its read buffer cannot be had. */
int publisher_start(struct client *c, struct stream *st);

/*
 * Append len bytes of whole data frames from c to its stream.  Returns
 * -1 when c is paced and they would overwrite frames a subscriber still
 * needs: nothing is appended, c is held (not read) until
 * publisher_release() lets it go on.
 */
int publisher_append(struct client *c, const unsigned char *frames,
    size_t len);

/*
 * c's end of stream: a mark in the ring after its last frame, so each
 * subscriber gets it once it has every frame before it.
 */
void publisher_eos(struct client *c);

/* Let st's held publishers go on once its subscribers have drained a
 * quarter of the ring (or left). */
void publisher_release(struct stream *st);

/* A subscriber joined st: tell publishers waiting for that many READY. */
void publisher_subscribed(struct stream *st);

#endif

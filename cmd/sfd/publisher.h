/* Publishers: their frames into the stream's ring, and their end mark. */
#ifndef SFD_PUBLISHER_H
#define SFD_PUBLISHER_H

#include "sfd.h"

/* Make c, whose hello was accepted, a publisher to st.  Returns -1 (with
 * errno) when its read buffer cannot be had. */
int publisher_start(struct client *c, struct stream *st);

/* Append len bytes of whole data frames from c to its stream. */
void publisher_append(struct client *c, const unsigned char *frames,
    size_t len);

/*
 * c's end of stream: a mark in the ring after its last frame, so each
 * subscriber gets it once it has every frame before it.
 */
void publisher_eos(struct client *c);

#endif

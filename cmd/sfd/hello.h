/* A client's hello: SUB, PUB or CTL, checked and handed to its role. */
#ifndef SFD_HELLO_H
#define SFD_HELLO_H

#include "sfd.h"

/* The role of a client that has not said hello yet. */
extern const struct role_ops hello_ops;

/*
 * Subscribe c, from a --plain-listen listener, to stream name from now:
 * no hello, no answer, and never a control frame (client.h: plain).
 */
void hello_plain(struct client *c, const char *name);

#endif

/*
 * sfcat as a shared reader (sf-protocol(7), SHARED READERS): it maps the
 * daemon's ring read-only and copies frames out of it itself, reports
 * where it is, and sleeps on the socket until woken.  What it prints is
 * what the socket path prints, byte for byte.
 */
#ifndef SFCAT_SHARED_H
#define SFCAT_SHARED_H

#include "cat.h"
#include "ctl.h"

/*
 * The daemon answered the hello with reply and passed nfds descriptors
 * (the caller closes them).  Returns 1 when it handed over its ring and
 * it is mapped (c->shared), 0 when it did not (the socket path), -1
 * when it did but the ring cannot be mapped (said on stderr).
 */
int shared_start(struct cat_state *c, const struct ctl *reply,
    const int *fds, int nfds);

/* Print frames from the ring until the connection ends; returns why,
 * with its message in msg. */
int shared_pump(struct cat_state *c, char *msg, size_t cap);

/* A SKIP landing at ring position pos: 1 when this reader jumps there,
 * 0 when it had read that far already. */
int shared_skip(struct cat_state *c, uint64_t pos);

/* Let go of the mapping, if any. */
void shared_end(struct cat_state *c);

#endif

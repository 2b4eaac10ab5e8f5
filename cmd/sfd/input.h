/*
 * Reading a client's frames into its input buffer (c->in), for the roles
 * that read frames (hello, publisher, admin), and discarding a departing
 * client's input.
 */
#ifndef SFD_INPUT_H
#define SFD_INPUT_H

#include <sys/types.h>

#include "frame.h"

struct client;

/*
 * Read what c sent, a few reads at most (then it waits its turn on the
 * ready list), handing the buffer to its role's consume after each.  What
 * was already read goes first (a publisher let go after a hold).  Returns
 * 0, or -1 when the peer is gone (*err: the read error, 0 for EOF).
 */
int input_frames(struct client *c, int *err);

/*
 * The frame at c->in + off: its size once whole (f filled in), 0 while it
 * is not, -1 when it is over its limit (--max-frame, or the control line
 * limit): the caller refuses it with input_too_large().
 */
ssize_t input_decode(const struct client *c, size_t off, struct frame *f);
void input_too_large(struct client *c, const struct frame *f);

/* Discard input from a departing client; -1 once it hangs up. */
int input_drain(struct client *c, int *err);

/* Drop the first off bytes of c->in: they were acted on. */
void input_keep(struct client *c, size_t off);

#endif

/* Control frames from clients: the hello, a publisher's end of stream, a
 * control client's requests. */
#ifndef SFD_HELLO_H
#define SFD_HELLO_H

#include "frame.h"
#include "sfd.h"

/*
 * Act on control frame f from c: a hello makes it a subscriber or a
 * publisher or a control client (or is refused with ERR); a publisher's
 * EOS marks the end of its stream; a control client's line is a request;
 * anything else is refused.
 */
void control_frame(struct client *c, const struct frame *f);

/*
 * Subscribe c, from a --plain-listen listener, to stream name from now:
 * no hello, no answer, and never a control frame (sfd.h: plain).
 */
void hello_plain(struct client *c, const char *name);

#endif

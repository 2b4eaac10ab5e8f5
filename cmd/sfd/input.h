/* What a client sends: its hello, a publisher's frames, a hang-up. */
#ifndef SFD_INPUT_H
#define SFD_INPUT_H

#include "sfd.h"

/*
 * Read what c sent and act on it.  Returns 0, or -1 when the peer is gone
 * (EOF, or the read error in *err: 0 for EOF) and c must be closed.
 */
int client_input(struct client *c, int *err);

#endif

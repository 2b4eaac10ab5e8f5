/*
 * Inside the subscriber role: a shared reader (sf-protocol(7), SHARED
 * READERS), a subscriber that reads the ring itself from a read-only
 * mapping.  Its cursor (struct subscriber pos) is where it last said it
 * was, so every limit, skip, kick and statistic of a subscriber applies
 * to it unchanged; what differs is here: the hand-over of the ring, its
 * position reports, and its wake-ups in place of ring data.
 */
#ifndef SFD_READER_H
#define SFD_READER_H

#include "sfd.h"

/*
 * c, starting as a subscriber of st, asked to read the ring itself: hand
 * it over with the OK that follows, if c is on the Unix socket and the
 * ring can be shared.  Returns 1 when it is (c->sub.shared), 0 when c
 * stays on the socket path (logged with the reason).
 */
int reader_offer(struct client *c, struct stream *st);

/* The role's read and consume (struct role_ops): position reports. */
int reader_read(struct client *c, int *err);
int reader_consume(struct client *c);

/* In place of ring data: a WAKE for a reader that said it waits, once
 * there is more.  0 when written (or nothing is owed), else -1 as
 * client_write(). */
int reader_wake(struct client *c);

#endif

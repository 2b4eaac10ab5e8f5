#ifndef SFD_RESTORE_H
#define SFD_RESTORE_H

#include "sfd.h"

/*
 * With --spool: serve every stream the spool folder holds, as it was
 * (same epoch and sequence numbers).  -1 with why filled, naming the file
 * and what to do, when one cannot be used: the daemon must not start.
 */
int restore_spool(struct server *s, char *why, size_t cap);

#endif

/*
 * Who may publish (--publishers): a list of users and groups, resolved
 * once at start, checked against each publisher's peer credentials.
 */
#ifndef SFD_ACCESS_H
#define SFD_ACCESS_H

#include <sys/types.h>

struct access;

/*
 * Parse a comma-separated list of user ids, user names and @groups (by
 * name or id).  Returns NULL and sets *out, or a message naming the bad
 * entry (in a static buffer).
 */
const char *access_parse(const char *list, struct access **out);

/*
 * 1 if a peer with uid and gid may publish: its uid is listed, its gid is a
 * listed group, or it was a member of a listed group at start.  A NULL
 * list allows everyone.
 */
int access_allows(const struct access *a, uid_t uid, gid_t gid);

void access_free(struct access *a);

#endif

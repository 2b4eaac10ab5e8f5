/*
 * Who may publish (--publishers) or subscribe (--subscribers): users and
 * groups, resolved once at start and checked against a Unix peer's
 * credentials, and TCP networks checked against a TCP peer's address.
 */
#ifndef SFD_ACCESS_H
#define SFD_ACCESS_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct access;

/*
 * Parse a comma-separated list of user ids, user names, @groups (by name
 * or id), "tcp" (any TCP peer) and tcp:ADDR[/PREFIX] (IPv4 or IPv6).
 * opt names the option in messages.  Returns 0 and sets *out, or -1 with
 * a line naming the bad entry in msg (cap bytes).
 */
int access_parse(const char *opt, const char *list, struct access **out,
    char *msg, size_t cap);

/*
 * 1 if the peer may: a Unix peer (sa NULL) when its uid is listed, its
 * gid is a listed group, or it was a member of one at start; a TCP peer
 * when its address is in a listed network.  Users and networks are
 * separate: a list without users leaves Unix peers free, a list without
 * networks gives TCP peers tcp_default.  A NULL list is a list of
 * neither.
 */
int access_allows(const struct access *a, uid_t uid, gid_t gid,
    const struct sockaddr *sa, int tcp_default);

/* 1 if the list names users or groups (a NULL list names none). */
int access_has_users(const struct access *a);

void access_free(struct access *a);

#endif

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "num.h"

#define ACCESS_MAX 256   /* ids in one list, group members included */

struct net {
	int family;                  /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;             /* bits that must match */
};

struct access {
	size_t nuids, ngids, nnets;
	uid_t uids[ACCESS_MAX];
	gid_t gids[ACCESS_MAX];
	struct net nets[ACCESS_MAX];
};

static int
add_uid(struct access *a, uid_t uid)
{
	if (a->nuids == ACCESS_MAX)
		return -1;
	a->uids[a->nuids++] = uid;
	return 0;
}

/* "tcp" (every address) or "tcp:ADDR[/PREFIX]". */
static const char *
add_net(struct access *a, const char *entry)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	struct net *n;
	uint64_t bits;
	size_t len;

	if (a->nnets == ACCESS_MAX)
		return "too many entries";
	n = &a->nets[a->nnets];
	memset(n, 0, sizeof(*n));
	if (strcmp(entry, "tcp") == 0) {
		n->family = AF_INET6;   /* prefix 0: matches every peer */
		a->nnets++;
		return NULL;
	}
	len = strlen(entry + 4);
	if (len >= sizeof(buf))
		return "not an address";
	memcpy(buf, entry + 4, len + 1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, n->addr) == 1)
		n->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, n->addr) == 1)
		n->family = AF_INET6;
	else
		return "not an IPv4 or IPv6 address: use "
		    "tcp:ADDR/PREFIX";
	n->prefix = n->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (num_parse(slash, 0, n->prefix, &bits) != NULL)
			return n->family == AF_INET ?
			    "the prefix is 0 to 32" : "the prefix is 0 to 128";
		n->prefix = (unsigned)bits;
	}
	a->nnets++;
	return NULL;
}

/* A group: its id, and its listed members (whose primary group may differ). */
static const char *
add_group(struct access *a, const char *entry)
{
	const char *name = entry + 1;
	struct passwd *pw;
	struct group *gr;
	uint64_t id;
	char **m;

	if (num_parse(name, 0, (gid_t)-2, &id) == NULL)
		gr = getgrgid((gid_t)id);
	else
		gr = getgrnam(name);
	if (gr == NULL)
		return "no such group";
	if (a->ngids == ACCESS_MAX)
		return "too many entries";
	a->gids[a->ngids++] = gr->gr_gid;
	for (m = gr->gr_mem; *m != NULL; m++) {
		if ((pw = getpwnam(*m)) != NULL && add_uid(a, pw->pw_uid) == -1)
			return "too many members";
	}
	return NULL;
}

int
access_parse(const char *opt, const char *list, struct access **out,
    char *msg, size_t cap)
{
	char buf[4096], *entry, *save = NULL;
	struct access *a;
	struct passwd *pw;
	const char *e = NULL;
	uint64_t id;

	if (strlen(list) >= sizeof(buf)) {
		snprintf(msg, cap, "%s: list too long", opt);
		return -1;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(msg, cap, "%s: %s", opt, strerror(errno));
		return -1;
	}
	memcpy(buf, list, strlen(list) + 1);
	for (entry = strtok_r(buf, ",", &save); entry != NULL;
	    entry = strtok_r(NULL, ",", &save)) {
		if (strcmp(entry, "tcp") == 0 || strncmp(entry, "tcp:", 4) == 0)
			e = add_net(a, entry);
		else if (entry[0] == '@')
			e = add_group(a, entry);
		else if (num_parse(entry, 0, (uid_t)-2, &id) == NULL)
			e = add_uid(a, (uid_t)id) == -1 ?
			    "too many entries" : NULL;
		else if ((pw = getpwnam(entry)) == NULL)
			e = "no such user";
		else
			e = add_uid(a, pw->pw_uid) == -1 ?
			    "too many entries" : NULL;
		if (e != NULL)
			break;
	}
	if (e != NULL) {
		snprintf(msg, cap, "%s: %s", entry, e);
		free(a);
		return -1;
	}
	if (a->nuids == 0 && a->ngids == 0 && a->nnets == 0) {
		snprintf(msg, cap, "%s: empty list", list);
		free(a);
		return -1;
	}
	*out = a;
	return 0;
}

/* 1 if the first bits of x and y agree. */
static int
same_prefix(const unsigned char *x, const unsigned char *y, unsigned bits)
{
	unsigned char mask;

	for (; bits >= 8; bits -= 8, x++, y++)
		if (*x != *y)
			return 0;
	mask = (unsigned char)(0xff << (8 - bits));
	return bits == 0 || ((*x ^ *y) & mask) == 0;
}

static int
net_has(const struct net *n, const struct sockaddr *sa)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
	const unsigned char *p;
	int family = sa->sa_family;

	if (n->prefix == 0)
		return 1;
	if (family == AF_INET) {
		p = (const unsigned char *)&in4->sin_addr;
	} else {
		p = in6->sin6_addr.s6_addr;
		/* An IPv4 peer of a dual-stack socket: ::ffff:A.B.C.D. */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			p += 12;
			family = AF_INET;
		}
	}
	return n->family == family && same_prefix(p, n->addr, n->prefix);
}

int
access_allows(const struct access *a, uid_t uid, gid_t gid,
    const struct sockaddr *sa, int tcp_default)
{
	size_t i;

	if (sa != NULL) {
		if (a == NULL || a->nnets == 0)
			return tcp_default;
		for (i = 0; i < a->nnets; i++)
			if (net_has(&a->nets[i], sa))
				return 1;
		return 0;
	}
	if (a == NULL || (a->nuids == 0 && a->ngids == 0))
		return 1;
	for (i = 0; i < a->nuids; i++)
		if (a->uids[i] == uid)
			return 1;
	for (i = 0; i < a->ngids; i++)
		if (a->gids[i] == gid)
			return 1;
	return 0;
}

int
access_has_users(const struct access *a)
{
	return a != NULL && (a->nuids > 0 || a->ngids > 0);
}

void
access_free(struct access *a)
{
	free(a);
}

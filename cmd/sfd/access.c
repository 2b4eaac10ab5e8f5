#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "num.h"

#define ACCESS_MAX 256   /* ids in one list, group members included */

struct access {
	size_t nuids, ngids;
	uid_t uids[ACCESS_MAX];
	gid_t gids[ACCESS_MAX];
};

static char errbuf[160];

static const char *
fail(const char *entry, const char *why)
{
	snprintf(errbuf, sizeof(errbuf), "%s: %s", entry, why);
	return errbuf;
}

static int
add_uid(struct access *a, uid_t uid)
{
	if (a->nuids == ACCESS_MAX)
		return -1;
	a->uids[a->nuids++] = uid;
	return 0;
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
		return fail(entry, "no such group");
	if (a->ngids == ACCESS_MAX)
		return fail(entry, "too many entries");
	a->gids[a->ngids++] = gr->gr_gid;
	for (m = gr->gr_mem; *m != NULL; m++) {
		if ((pw = getpwnam(*m)) != NULL && add_uid(a, pw->pw_uid) == -1)
			return fail(entry, "too many members");
	}
	return NULL;
}

const char *
access_parse(const char *list, struct access **out)
{
	char buf[4096], *entry, *save = NULL;
	struct access *a;
	struct passwd *pw;
	const char *e = NULL;
	uint64_t id;

	if (strlen(list) >= sizeof(buf))
		return fail("--publishers", "list too long");
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return fail("--publishers", strerror(errno));
	memcpy(buf, list, strlen(list) + 1);
	for (entry = strtok_r(buf, ",", &save); entry != NULL && e == NULL;
	    entry = strtok_r(NULL, ",", &save)) {
		if (entry[0] == '@')
			e = add_group(a, entry);
		else if (num_parse(entry, 0, (uid_t)-2, &id) == NULL)
			e = add_uid(a, (uid_t)id) == -1 ?
			    fail(entry, "too many entries") : NULL;
		else if ((pw = getpwnam(entry)) == NULL)
			e = fail(entry, "no such user");
		else
			e = add_uid(a, pw->pw_uid) == -1 ?
			    fail(entry, "too many entries") : NULL;
	}
	if (e == NULL && a->nuids == 0 && a->ngids == 0)
		e = fail(list, "empty list");
	if (e != NULL) {
		free(a);
		return e;
	}
	*out = a;
	return NULL;
}

int
access_allows(const struct access *a, uid_t uid, gid_t gid)
{
	size_t i;

	if (a == NULL)
		return 1;
	for (i = 0; i < a->nuids; i++)
		if (a->uids[i] == uid)
			return 1;
	for (i = 0; i < a->ngids; i++)
		if (a->gids[i] == gid)
			return 1;
	return 0;
}

void
access_free(struct access *a)
{
	free(a);
}

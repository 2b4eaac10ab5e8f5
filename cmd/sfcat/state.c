#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "num.h"
#include "state.h"

enum state_result
state_load(const char *path, struct state_pos *pos)
{
	char line[128], *nl, *eos;
	uint64_t next;
	FILE *f;
	int ok;

	if ((f = fopen(path, "r")) == NULL)
		return errno == ENOENT ? STATE_NONE : STATE_FAILED;
	ok = fgets(line, sizeof(line), f) != NULL;
	if (ferror(f) || fclose(f) == EOF)
		return STATE_FAILED;
	if (!ok)
		return STATE_EMPTY;
	if ((nl = strchr(line, '\n')) != NULL)
		*nl = '\0';
	/* The sequence number ends at the space before eos=1, if any. */
	if ((eos = strlen(line) > 28 ? strchr(line + 28, ' ') : NULL) != NULL)
		*eos++ = '\0';
	if (strncmp(line, "epoch=", 6) != 0 ||
	    strspn(line + 6, "0123456789abcdef") != 16 ||
	    strncmp(line + 22, " next=", 6) != 0 ||
	    num_parse(line + 28, 0, UINT64_MAX, &next) != NULL ||
	    (eos != NULL && strcmp(eos, "eos=1") != 0))
		return STATE_INVALID;
	memcpy(pos->epoch, line + 6, 16);
	pos->epoch[16] = '\0';
	pos->next = next;
	pos->eos = eos != NULL;
	return STATE_OK;
}

/* Close fd after the failure in errno, keeping that errno. */
static enum state_result
close_failed(int fd)
{
	int saved = errno;

	(void)close(fd);
	errno = saved;
	return STATE_FAILED;
}

enum state_result
state_save(const char *path, const struct state_pos *pos)
{
	char tmp[4096], line[128];
	const char *slash;
	int fd, n, len;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return STATE_TOO_LONG;
	len = snprintf(line, sizeof(line), "epoch=%s next=%llu%s\n",
	    pos->epoch, (unsigned long long)pos->next,
	    pos->eos ? " eos=1" : "");
	/* A plain write(2): the stop signals do not cut a regular file's
	 * write short, and the state must be saved after one of them. */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0666)) == -1)
		return STATE_FAILED;
	if (write(fd, line, (size_t)len) != len || fsync(fd) == -1)
		return close_failed(fd);
	if (close(fd) == -1 || rename(tmp, path) == -1)
		return STATE_FAILED;
	/* The rename is only durable once the folder is. */
	if ((slash = strrchr(path, '/')) == NULL)
		snprintf(tmp, sizeof(tmp), ".");
	else
		snprintf(tmp, sizeof(tmp), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	if ((fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return STATE_FAILED;
	if (fsync(fd) == -1)
		return close_failed(fd);
	return close(fd) == -1 ? STATE_FAILED : STATE_OK;
}

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "io.h"

const char *
addr_parse(const char *s, struct addr *a)
{
	size_t n;

	if (strncmp(s, "unix:", 5) == 0)
		s += 5;
	n = strlen(s);
	if (n == 0)
		return "empty";
	if (n >= sizeof(a->path))
		return "path too long";
	memset(a, 0, sizeof(*a));
	a->kind = ADDR_UNIX;
	memcpy(a->path, s, n + 1);
	memcpy(a->text, s, n + 1);
	return NULL;
}

const char *
addr_default(struct addr *a)
{
	char buf[sizeof(a->path) + 32];
	const char *e;
	int n;

	if ((e = getenv("SF_SERVER")) != NULL && *e != '\0')
		return addr_parse(e, a);
	if ((e = getenv("XDG_RUNTIME_DIR")) != NULL && *e != '\0')
		n = snprintf(buf, sizeof(buf), "%s/streamfan.sock", e);
	else
		n = snprintf(buf, sizeof(buf), "/tmp/streamfan-%lu.sock",
		    (unsigned long)getuid());
	if (n < 0 || (size_t)n >= sizeof(buf))
		return "path too long";
	return addr_parse(buf, a);
}

static socklen_t
unix_sockaddr(const struct addr *a, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, a->path, strlen(a->path) + 1);
	return (socklen_t)sizeof(*sun);
}

int
addr_connect(const struct addr *a)
{
	struct sockaddr_un sun;
	socklen_t len = unix_sockaddr(a, &sun);
	int fd, rc, saved;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* connect(2) waits while the daemon's queue of connections is
	 * full; a Unix socket may simply be asked again after EINTR. */
	io_ticking(1);
	while ((rc = connect(fd, (struct sockaddr *)&sun, len)) == -1 &&
	    errno == EINTR && !io_stopped())
		;
	saved = errno;
	io_ticking(0);
	if (rc == -1) {
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * Make way for a new socket at a->path: a socket nobody accepts on is a
 * leftover and is removed; a live one or a non-socket is left alone.
 */
static int
reclaim_path(const struct addr *a)
{
	struct stat st;
	int fd;

	if (lstat(a->path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if ((fd = addr_connect(a)) != -1) {
		close(fd);
		errno = EADDRINUSE;
		return -1;
	}
	if (errno != ECONNREFUSED)
		return -1;
	if (unlink(a->path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

int
addr_listen(const struct addr *a, mode_t mode, int backlog)
{
	struct sockaddr_un sun;
	socklen_t len;
	char tmp[sizeof(sun.sun_path)];
	const char *at = a->path;
	mode_t old;
	int fd, n, rc, saved;

	if (reclaim_path(a) == -1)
		return -1;
	/*
	 * Bound under a name of its own and renamed into place once it
	 * listens: a client never finds the path naming a socket that
	 * refuses it (a daemon restarting under clients that reconnect).
	 * A path too long for that is bound where it is.
	 */
	n = snprintf(tmp, sizeof(tmp), "%s.%ld", a->path, (long)getpid());
	if (n > 0 && (size_t)n < sizeof(tmp))
		at = tmp;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, at, strlen(at) + 1);
	len = (socklen_t)sizeof(sun);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (at == tmp)
		(void)unlink(tmp);   /* left by one killed here with this pid */
	/* No moment where the socket exists with looser permissions. */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, len);
	umask(old);
	if (rc == -1)
		goto fail;
	if (chmod(at, mode) == -1 || listen(fd, backlog) == -1 ||
	    (at != a->path && rename(at, a->path) == -1)) {
		saved = errno;
		unlink(at);
		errno = saved;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
addr_unlink(const struct addr *a)
{
	return unlink(a->path);
}

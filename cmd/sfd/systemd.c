#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "num.h"
#include "proto.h"
#include "systemd.h"

#define LISTEN_FDS_START 3

/* The name of the i-th passed socket in LISTEN_FDNAMES, or "". */
static void
fd_name(const char *names, int i, char *buf, size_t cap)
{
	const char *p = names, *end;

	buf[0] = '\0';
	for (; p != NULL && i > 0; i--)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	if (p == NULL)
		return;
	end = strchr(p, ':');
	snprintf(buf, cap, "%.*s", (int)(end != NULL ? (size_t)(end - p) :
	    strlen(p)), p);
}

/* Fill l from the passed socket fd: its kind and address, for the log. */
static const char *
adopt_one(struct listener *l, int fd, const char *name)
{
	struct sockaddr_storage ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	socklen_t len = sizeof(ss);
	int type, flags;
	socklen_t tlen = sizeof(type);

	memset(l, 0, sizeof(*l));
	memset(&ss, 0, sizeof(ss));
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == -1 ||
	    type != SOCK_STREAM || getsockname(fd, (struct sockaddr *)&ss,
	    &len) == -1)
		return "not a stream socket";
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return strerror(errno);
	if (ss.ss_family == AF_UNIX) {
		l->addr.kind = ADDR_UNIX;
		/* sun_path may lack its NUL when full: bound it. */
		memcpy(l->addr.path, sun->sun_path, sizeof(l->addr.path) - 1);
		snprintf(l->addr.text, sizeof(l->addr.text), "%s",
		    l->addr.path[0] != '\0' ? l->addr.path : "(unnamed)");
	} else if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
		l->addr.kind = ADDR_TCP;
		strcpy(l->addr.text, "tcp:");
		addr_format((struct sockaddr *)&ss, l->addr.text + 4,
		    sizeof(l->addr.text) - 4);
	} else {
		return "neither a Unix nor a TCP socket";
	}
	if (strncmp(name, "plain-", 6) == 0) {
		if (!proto_stream_valid(name + 6))
			return "plain-NAME: not a valid stream name";
		memcpy(l->plain, name + 6, strlen(name + 6) + 1);  /* <= 64 */
	}
	l->adopted = 1;
	l->w.fd = fd;
	return NULL;
}

int
systemd_adopt(struct listener *ls, int cap, char *msg, size_t cap_msg)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES"), *e;
	char name[256];
	uint64_t p, n;
	int i;

	if (pid == NULL || fds == NULL ||
	    num_parse(pid, 1, INT32_MAX, &p) != NULL || (pid_t)p != getpid())
		return 0;   /* not for us */
	if (num_parse(fds, 0, (uint64_t)cap, &n) != NULL) {
		snprintf(msg, cap_msg, "LISTEN_FDS=%s: at most %d sockets",
		    fds, cap);
		return -1;
	}
	for (i = 0; i < (int)n; i++) {
		fd_name(names, i, name, sizeof(name));
		if ((e = adopt_one(&ls[i], LISTEN_FDS_START + i, name)) !=
		    NULL) {
			snprintf(msg, cap_msg, "passed socket %d (%s): %s",
			    LISTEN_FDS_START + i, name[0] != '\0' ? name :
			    "no name", e);
			return -1;
		}
	}
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	return (int)n;
}

void
systemd_notify(const char *fmt, ...)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	char msg[512];
	va_list ap;
	size_t n;
	int fd, k;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(sun.sun_path))
		return;
	va_start(ap, fmt);
	k = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';   /* an abstract address */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, (size_t)k < sizeof(msg) ? (size_t)k :
	    sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&sun, (socklen_t)(offsetof(struct sockaddr_un,
	    sun_path) + n)) == -1)
		log_msg(LOG_DEBUG, "NOTIFY_SOCKET %s: %s", path,
		    strerror(errno));
	close(fd);
}

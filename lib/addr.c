#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "io.h"
#include "num.h"


/* "HOST:PORT", "[V6]:PORT", ":PORT" or "*:PORT" after "tcp:". */
static const char *
parse_tcp(const char *s, struct addr *a)
{
	const char *colon, *end;
	size_t n;
	uint64_t port;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return "no closing ]: use tcp:[V6ADDR]:PORT";
		if (end[1] != ':')
			return "no port: use tcp:[V6ADDR]:PORT";
		colon = end + 1;
		s++;
		n = (size_t)(end - s);
		if (n == 0)
			return "empty address in []";
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return "no port: use tcp:HOST:PORT";
		n = (size_t)(colon - s);
		if (memchr(s, ':', n) != NULL)
			return "an IPv6 address goes in []: tcp:[V6ADDR]:PORT";
		if (n == 1 && *s == '*')
			n = 0;   /* every address */
	}
	if (n >= sizeof(a->host))
		return "host name too long";
	if (num_parse(colon + 1, 0, 65535, &port) != NULL)
		return "the port is a number from 0 to 65535";
	memcpy(a->host, s, n);
	a->host[n] = '\0';
	snprintf(a->port, sizeof(a->port), "%u", (unsigned)port);
	a->kind = ADDR_TCP;
	return NULL;
}

const char *
addr_parse(const char *s, struct addr *a)
{
	const char *e;
	size_t n;

	memset(a, 0, sizeof(*a));
	n = strlen(s);
	if (n >= sizeof(a->text))
		return "too long";
	memcpy(a->text, s, n + 1);
	if (strncmp(s, "tcp:", 4) == 0) {
		if (s[4] == '\0')
			return "no address: use tcp:HOST:PORT";
		if ((e = parse_tcp(s + 4, a)) != NULL)
			return e;
		/* The text names the port it got: ":0" is filled in later. */
		return NULL;
	}
	if (strncmp(s, "unix:", 5) == 0)
		s += 5;
	n = strlen(s);
	if (n == 0)
		return "empty";
	if (n >= sizeof(a->path))
		return "path too long";
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

/* The socket address of path (shorter than sun_path, as addr_parse
 * and its callers make sure). */
static socklen_t
unix_sockaddr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return (socklen_t)sizeof(*sun);
}

static int
unix_connect(const struct addr *a)
{
	struct sockaddr_un sun;
	socklen_t len = unix_sockaddr(a->path, &sun);
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

int
addr_tcp_tune(int fd)
{
	int on = 1, idle = 10, intvl = 5, cnt = 3;
	unsigned int user_ms = 30000;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle,
	    sizeof(idle)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_ms,
	    sizeof(user_ms)) == -1)
		return -1;
	return 0;
}

/* getaddrinfo(3) of a's host and port: 0, or its error code. */
static int
lookup(const struct addr *a, int passive, struct addrinfo **res)
{
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	return getaddrinfo(a->host[0] != '\0' ? a->host : NULL, a->port,
	    &hints, res);
}

/* Resolve a's host and port; NULL with errno EADDRNOTAVAIL when it does
 * not resolve (addr_unresolved() says why). */
static struct addrinfo *
resolve(const struct addr *a, int passive)
{
	struct addrinfo *res;

	if (lookup(a, passive, &res) != 0) {
		errno = EADDRNOTAVAIL;
		return NULL;
	}
	return res;
}

int
addr_unresolved(const struct addr *a, int passive, char *why, size_t cap)
{
	struct addrinfo *res;
	int rc;

	if (a->kind != ADDR_TCP)
		return 0;
	if ((rc = lookup(a, passive, &res)) == 0) {
		freeaddrinfo(res);
		return 0;
	}
	snprintf(why, cap, "%s", rc == EAI_SYSTEM ? strerror(errno) :
	    gai_strerror(rc));
	return 1;
}

/* One non-blocking connect, waited for at most ADDR_CONNECT_MS. */
static int
tcp_try(const struct addrinfo *ai)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0, rc, flags;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if ((rc = io_poll(&pfd, 1, ADDR_CONNECT_MS)) == -1)
			goto fail;
		if (rc == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			goto fail;
		if (err != 0) {
			errno = err;
			goto fail;
		}
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1 ||
	    addr_tcp_tune(fd) == -1)
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static int
tcp_connect(const struct addr *a)
{
	struct addrinfo *res, *ai;
	int fd = -1;

	if ((res = resolve(a, 0)) == NULL)
		return -1;
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		if ((fd = tcp_try(ai)) == -1 && errno == EINTR)
			break;   /* a stop signal: no further tries */
	freeaddrinfo(res);
	return fd;
}

int
addr_connect(const struct addr *a)
{
	return a->kind == ADDR_TCP ? tcp_connect(a) : unix_connect(a);
}

void
addr_format(const struct sockaddr *sa, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
	    inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host,
	    sizeof(host)) != NULL)
		/* An IPv4 peer of a dual-stack socket: shown as IPv4. */
		snprintf(buf, cap, "%s:%u", host, ntohs(in6->sin6_port));
	else if (sa->sa_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host)) != NULL)
		snprintf(buf, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
	else if (sa->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host)) != NULL)
		snprintf(buf, cap, "%s:%u", host, ntohs(in4->sin_port));
	else
		snprintf(buf, cap, "?");
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
	if ((fd = unix_connect(a)) != -1) {
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

static int
unix_listen(const struct addr *a, mode_t mode, int backlog)
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
	len = unix_sockaddr(at, &sun);
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

/* Listen on one address; dual: IPv4 too, on the IPv6 wildcard. */
static int
tcp_listen_on(const struct sockaddr *sa, socklen_t len, int dual,
    int backlog)
{
	int fd, on = 1, off = 0, saved;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (dual && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
	    sizeof(off)) == -1) ||
	    bind(fd, sa, len) == -1 || listen(fd, backlog) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int
tcp_listen(struct addr *a, int backlog)
{
	struct sockaddr_in6 any6;
	struct sockaddr_in any4;
	struct sockaddr_storage got;
	struct addrinfo *res;
	socklen_t len = sizeof(got);
	char peer[ADDR_PEER_LEN];
	uint64_t port;
	int fd, saved;

	(void)num_parse(a->port, 0, 65535, &port);   /* checked by parse */
	if (a->host[0] == '\0') {
		/* Every address: one IPv6 socket that takes IPv4 too, or
		 * IPv4 alone on a machine without IPv6. */
		memset(&any6, 0, sizeof(any6));
		any6.sin6_family = AF_INET6;
		any6.sin6_addr = in6addr_any;
		any6.sin6_port = htons((uint16_t)port);
		fd = tcp_listen_on((struct sockaddr *)&any6, sizeof(any6), 1,
		    backlog);
		if (fd == -1 && errno == EAFNOSUPPORT) {
			memset(&any4, 0, sizeof(any4));
			any4.sin_family = AF_INET;
			any4.sin_addr.s_addr = htonl(INADDR_ANY);
			any4.sin_port = htons((uint16_t)port);
			fd = tcp_listen_on((struct sockaddr *)&any4,
			    sizeof(any4), 0, backlog);
		}
	} else {
		if ((res = resolve(a, 1)) == NULL)
			return -1;
		fd = tcp_listen_on(res->ai_addr, res->ai_addrlen, 0, backlog);
		saved = errno;
		freeaddrinfo(res);
		errno = saved;
	}
	if (fd == -1)
		return -1;
	memset(&got, 0, sizeof(got));
	if (port == 0 &&
	    getsockname(fd, (struct sockaddr *)&got, &len) == 0) {
		/* The port it got, for the log and for clients. */
		addr_format((struct sockaddr *)&got, peer, sizeof(peer));
		snprintf(a->port, sizeof(a->port), "%s",
		    strrchr(peer, ':') + 1);
		if (a->host[0] == '\0' || strchr(a->host, ':') == NULL)
			snprintf(a->text, sizeof(a->text), "tcp:%s:%s",
			    a->host, a->port);
		else
			snprintf(a->text, sizeof(a->text), "tcp:[%s]:%s",
			    a->host, a->port);
	}
	return fd;
}

int
addr_listen(struct addr *a, mode_t mode, int backlog)
{
	return a->kind == ADDR_TCP ? tcp_listen(a, backlog) :
	    unix_listen(a, mode, backlog);
}

int
addr_unlink(const struct addr *a)
{
	return a->kind == ADDR_TCP ? 0 : unlink(a->path);
}

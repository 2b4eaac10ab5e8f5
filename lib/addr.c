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
#include <time.h>
#include <sys/file.h>
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

/* How long to wait for another starting daemon to let go of PATH.lock. */
#define LOCK_WAIT_MS 5000
#define LOCK_STEP_MS 10

/*
 * Open and flock(2) the lock file path, waiting at most LOCK_WAIT_MS for
 * another holder.  Returns its descriptor (closing it lets go), or -1
 * with errno set: EWOULDBLOCK if it stayed locked, ENOLCK if what is
 * there is not a regular file.
 */
static int
lock_take(const char *path)
{
	struct timespec step;
	struct stat st;
	int fd, waited = 0, saved;

	/* O_NONBLOCK: a FIFO planted there must not hang the open;
	 * O_NOFOLLOW: nor a symbolic link lead elsewhere.  Read-only is
	 * enough for flock(2), whatever the file's mode. */
	do
		fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC, 0600);
	while (fd == -1 && errno == EINTR);
	if (fd == -1) {
		if (errno == ELOOP)   /* a symbolic link */
			errno = ENOLCK;
		return -1;
	}
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = ENOLCK;
		goto fail;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || waited >= LOCK_WAIT_MS)
			goto fail;
		step.tv_sec = 0;
		step.tv_nsec = LOCK_STEP_MS * 1000000L;
		while (nanosleep(&step, &step) == -1 && errno == EINTR)
			;
		waited += LOCK_STEP_MS;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Make way for a new socket at a->path: a socket nobody listens on is a
 * leftover and is removed; a live one (it takes the probe, or its queue
 * is full) fails with EADDRINUSE, a non-socket with EEXIST.  The probe
 * never blocks.
 */
static int
reclaim_path(const struct addr *a)
{
	struct sockaddr_un sun;
	socklen_t len = unix_sockaddr(a->path, &sun);
	struct stat st;
	int fd, rc, saved;

	if (lstat(a->path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	while ((rc = connect(fd, (struct sockaddr *)&sun, len)) == -1 &&
	    errno == EINTR)
		;
	saved = errno;
	close(fd);
	if (rc == 0 || saved == EAGAIN) {
		errno = EADDRINUSE;
		return -1;
	}
	if (saved != ECONNREFUSED && saved != ENOENT) {
		errno = saved;
		return -1;
	}
	if (unlink(a->path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

/*
 * The socket is bound at its own path, not under another name renamed
 * into place: Linux keeps in a socket the name it was bound to, and
 * every connection accepted on it carries that name too, so a renamed
 * socket would show its first name in ss(8) and getsockname(2) for
 * good.  So the path has to be free when bound, and a leftover is
 * removed first.  The price, which a rename avoided: for the moment
 * between bind(2) and listen(2) the path names a socket that refuses
 * clients, as the leftover did a moment before; once it listens it
 * stays so, and a live daemon's socket is never removed.
 *
 * The check, the removal and the bind are done holding an flock(2) on
 * PATH.lock, so that of two daemons starting at once one waits for the
 * other: neither can take the other's new socket for a leftover and
 * remove it, and exactly one gets the path.  flock(2) locks end with
 * the process, so a lock file left behind never stands in the way; it
 * is never removed, as a daemon that had opened it but not yet locked
 * it would then hold a lock nobody else sees.
 */
static int
unix_listen(const struct addr *a, mode_t mode, int backlog)
{
	struct sockaddr_un sun;
	socklen_t len = unix_sockaddr(a->path, &sun);
	char lock[sizeof(a->path) + sizeof(".lock")];
	mode_t old;
	int fd = -1, lockfd, rc, saved;

	snprintf(lock, sizeof(lock), "%s.lock", a->path);
	if ((lockfd = lock_take(lock)) == -1)
		return -1;
	if (reclaim_path(a) == -1)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	/* No moment where the socket exists with looser permissions. */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, len);
	umask(old);
	if (rc == -1)
		goto fail;
	if (listen(fd, backlog) == -1 || chmod(a->path, mode) == -1) {
		saved = errno;
		unlink(a->path);
		errno = saved;
		goto fail;
	}
	close(lockfd);
	return fd;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	close(lockfd);
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

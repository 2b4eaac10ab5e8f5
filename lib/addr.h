/*
 * Addresses of the daemon: the one place that turns an ADDR string into a
 * socket, for all three programs.
 *
 * ADDR is "unix:PATH" or PATH (a Unix-domain socket), or TCP:
 * "tcp:HOST:PORT", "tcp:[V6ADDR]:PORT", "tcp:NAME:PORT", and for a
 * listener "tcp::PORT" or "tcp:*:PORT", every address, IPv4 and IPv6.
 * The default is one rule: $SF_SERVER if set and non-empty, else
 * $XDG_RUNTIME_DIR/streamfan.sock, else /tmp/streamfan-UID.sock.
 */
#ifndef SF_ADDR_H
#define SF_ADDR_H

#include <sys/types.h>
#include <sys/un.h>

enum addr_kind { ADDR_UNIX, ADDR_TCP };

struct addr {
	enum addr_kind kind;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];  /* unix */
	char host[256];          /* tcp: "" for every address */
	char port[6];            /* tcp: 0 to 65535; 0 picks a free one */
	char text[300];          /* as given, for messages */
};

/* How long addr_connect() waits for a TCP connection. */
#define ADDR_CONNECT_MS 5000

/*
 * Parse s into a.  Returns NULL on success, or a short reason ("empty",
 * "path too long", "no port: use tcp:HOST:PORT") for the caller to print
 * after the address.
 */
const char *addr_parse(const char *s, struct addr *a);

/* Fill a with the default address.  NULL on success, else a reason. */
const char *addr_default(struct addr *a);

/*
 * Connect a blocking, close-on-exec stream socket to a.  A TCP name is
 * resolved and each of its addresses tried in turn, each for at most
 * ADDR_CONNECT_MS; the connection gets TCP_NODELAY and keepalive
 * (addr_tcp_tune).  Returns the fd, or -1 with errno from
 * socket(2)/connect(2) (ETIMEDOUT for a TCP connect that took too long,
 * EADDRNOTAVAIL for a name that does not resolve: addr_unresolved() says
 * why):
 * EINTR once a stop signal came (see io_catch_stop()).
 */
int addr_connect(const struct addr *a);

/*
 * After EADDRNOTAVAIL from addr_connect (passive 0) or addr_listen
 * (passive 1): 1 if a's name does not resolve, with the resolver's own
 * words in why (from asking it again); 0 if it does, or a is no TCP name
 * (the error came from elsewhere: strerror(3) says it).
 */
int addr_unresolved(const struct addr *a, int passive, char *why,
    size_t cap);

/*
 * Tune a TCP connection for a stream: TCP_NODELAY (a lone record leaves at
 * once), keepalive probes and TCP_USER_TIMEOUT, so that a peer on a dead
 * machine is noticed in about 30 s, not hours.  -1 with errno on error.
 */
int addr_tcp_tune(int fd);

/*
 * "ADDR:PORT" or "[V6ADDR]:PORT" for a socket address, in buf (at least
 * ADDR_PEER_LEN bytes).
 */
#define ADDR_PEER_LEN 56
struct sockaddr;
void addr_format(const struct sockaddr *sa, char *buf, size_t cap);

/*
 * Listen on a with a non-blocking, close-on-exec socket.  TCP: every
 * address is one dual-stack IPv6 socket (IPv4 alone where there is no
 * IPv6); port 0 picks a free port, written back into a (port, text).
 * A name resolves to the address it listens on (the first).
 * A Unix socket is bound at its path under a tight umask, then given
 * mode; the check and the bind hold an flock(2) on PATH.lock (created,
 * left in place), so of daemons starting at once on one path exactly one
 * gets it.  A socket left by a dead daemon (nothing listens on it) is
 * removed first; a live one fails with EADDRINUSE, anything there that
 * is not a socket with EEXIST; a lock held for 5 s by another with
 * EWOULDBLOCK, a lock path that is not a regular file with ENOLCK.
 * Returns the fd or -1 with errno set.
 */
int addr_listen(struct addr *a, mode_t mode, int backlog);

/* Remove what addr_listen created (the socket file; nothing for TCP).
 * -1 with errno on error. */
int addr_unlink(const struct addr *a);

#endif

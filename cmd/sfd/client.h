/*
 * Clients of the daemon: the life of one connection, and the pass before
 * the loop sleeps that acts on what was decided about each client.
 */
#ifndef SFD_CLIENT_H
#define SFD_CLIENT_H

#include <sys/socket.h>

#include "addr.h"
#include "control.h"
#include "publisher.h"
#include "sfd.h"
#include "subscriber.h"

/* Where a client is in its life.  One at a time. */
enum client_state {
	CS_HELLO,       /* connected, waiting for its hello */
	CS_ACTIVE,      /* publishing, or taking frames */
	CS_HELD,        /* paced publisher not read: its next append would
	                   overwrite frames a subscriber still needs */
	CS_FINISHING,   /* subscriber sending the rest of its frame, then it
	                   skips ahead (on-lag=skip) */
	CS_DEPARTING,   /* up to its stop, then its goodbye, then closed */
	CS_CLOSED       /* off every list; freed after the event batch */
};

/* Room for an OK line followed by a goodbye line. */
#define CLIENT_CTL_BUF 320

/* A connection, and the part of it its role owns. */
struct client {
	struct watch w;              /* first: events carry a struct watch * */
	struct server *srv;
	uint64_t id;                 /* connection number, for the log */
	pid_t pid;                   /* peer credentials: log, access */
	uid_t uid;
	gid_t gid;
	int plain;                   /* --plain-listen: data frames only; no
	                                control frame is ever sent to it */
	int tcp;                     /* a TCP peer: no credentials, */
	struct sockaddr_storage sa;  /* its address instead */
	char peer[ADDR_PEER_LEN];    /* the same as text, for the log */
	long long connected_ms;      /* when it was accepted */
	enum role role;
	enum client_state state;
	struct stream *stream;       /* once subscribed or publishing */
	TAILQ_ENTRY(client) link;    /* all clients, or the graveyard */
	TAILQ_ENTRY(client) slink;   /* the stream's subscribers or publishers */
	TAILQ_ENTRY(client) tlink;   /* hello or departure timer list */
	TAILQ_ENTRY(client) rlink;   /* publishers with input left to read */
	TAILQ_ENTRY(client) plink;   /* to act on before the loop sleeps */
	long long deadline;          /* ms, on the timer list */
	struct client_list *timer;   /* the timer list it is on, or NULL */
	int ready;                   /* on the ready list */
	int pending;                 /* on the pending list */
	int blocked;                 /* socket full: wait for EPOLLOUT */
	unsigned cursors;            /* admin clients whose report is at it */

	/* Frames in: the hello, then a publisher's or an admin's. */
	unsigned char *in;
	size_t in_len, in_cap;
	/* Control frames out: [off, split) go before ring data, the rest
	 * after. */
	unsigned char ctl[CLIENT_CTL_BUF];
	uint16_t ctl_len, ctl_off, ctl_split;

	/* What its role holds: only the one of its role is used. */
	struct subscriber sub;
	struct publisher pub;
	struct admin admin;
};

/* Take a new connection: it must say hello within --hello-timeout.
 * Returns it, or NULL when it was refused. */
struct client *client_accept(struct server *s, int fd, int tcp);

/* Refuse a connection we cannot take: one try to say why, then close. */
void client_refuse(int fd, const char *reason);

/*
 * The one way a connection ends: leave every list, leave epoll, close.
 * The memory is freed by client_reap(), after the event batch that may
 * still point at it.
 */
void client_close(struct client *c);

/* Read more from publishers that were cut short to be fair to others. */
void client_read_ready(struct server *s);

/*
 * Before the loop sleeps: act on every decision and write every client
 * that is owed bytes, closing those that are done or gone.
 */
void client_settle(struct server *s);

/*
 * The periodic check of stalls and of sfd --max-lag, when it is due.
 * Returns the ms until it is due again, or -1 while none is needed.
 */
int client_tick(struct server *s);

/* Close clients whose hello or departure is overdue.  Returns the ms until
 * the next deadline, or -1 when there is none. */
int client_expire(struct server *s);

void client_reap(struct server *s);

#endif

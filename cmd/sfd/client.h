/*
 * The connection layer: the life of one client, from accept to the free
 * after its close.  It alone changes a client's state and keeps the counts
 * that depend on it; it reads, flushes and ticks each client through its
 * role's table (struct role_ops), and writes the control lines every role
 * sends.  What a role does with its part of the client is in its own file:
 * hello.c, subscriber.c, publisher.c, admin.c.
 */
#ifndef SFD_CLIENT_H
#define SFD_CLIENT_H

#include <sys/socket.h>

#include "addr.h"
#include "admin.h"
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

/*
 * What a role does for the connection layer.  read and flush are called
 * only while the client is neither closed nor departing-and-drained (see
 * client.c); every entry but consume and tick is set.
 */
struct role_ops {
	const char *name;    /* as sfctl(1) shows it: hello, pub, sub, ctl */
	/* Input is ready: read it and act on it.  0, or -1 when the peer
	 * is gone (*err: the read error, 0 for EOF) and c must be closed. */
	int (*read)(struct client *c, int *err);
	/* Act on the complete frames in c->in (input.c, input_frames);
	 * -1 once c stops reading input.  NULL for a role that reads none. */
	int (*consume)(struct client *c);
	/* Write what c is owed; see enum flush. */
	enum flush (*flush)(struct client *c, int *err);
	/* The periodic check (client_tick): 1 while c still needs it.
	 * NULL for a role that has none. */
	int (*tick)(struct client *c);
	/* Cut c off for why (CUT_SHUTDOWN, CUT_KICKED: by says who, as
	 * " by=WHO[ note=TEXT]", else ""): its goodbye, or a close. */
	void (*cut_off)(struct client *c, enum cut why, const char *by);
	/* c is closing: let go of what the role holds (lists, buffers). */
	void (*close)(struct client *c);
};

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
	const struct role_ops *ops;  /* role's table: hello_ops until it said */
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
	/* Descriptors to pass with the next byte written (SCM_RIGHTS): a
	 * shared reader's ring, with its OK.  Not ours to close. */
	int pass_fd[2];
	int npass;

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
 * The one place a client's state changes.  Keeps the counts that depend
 * on it (held publishers, per stream and in all).  Leaving CS_CLOSED, or
 * entering it or CS_DEPARTING, goes through client_close() and
 * client_depart() instead.
 */
void client_set_state(struct client *c, enum client_state to);

/* The hello was accepted: c takes role (its table ops) and is active;
 * its hello timer is cleared. */
void client_start(struct client *c, enum role role,
    const struct role_ops *ops);

/*
 * The one way a connection ends: leave every list, leave epoll, close.
 * The memory is freed by client_reap(), after the event batch that may
 * still point at it.
 */
void client_close(struct client *c);
void client_reap(struct server *s);

/* Read more from publishers that were cut short to be fair to others. */
void client_read_ready(struct server *s);

/*
 * Before the loop sleeps: schedule the subscribers of streams that got
 * frames, act on every decision and write every client that is owed
 * bytes, closing those that are done or gone.
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

/* Put c on a timer list (s->hello, s->leaving, s->lingering) due in ms,
 * off any other.
 * Every list has one fixed delay, so appending keeps it sorted. */
void client_timer_set(struct client *c, struct client_list *list,
    uint64_t ms);
void client_timer_clear(struct client *c);

/* Note that c has input the loop must read on its next turn. */
void client_ready_set(struct client *c);
void client_ready_clear(struct client *c);

/*
 * Put c on the list the loop acts on before it sleeps: its decisions
 * (a cut-off), its output.  Once only; never a closed client.
 */
void client_schedule(struct client *c);

/* Queue a control line for c, sent before any more ring data. */
void client_reply(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Start c's departure: a subscriber first gets its data up to its stop
 * (set by subscriber.c), then every client gets the control line fmt; all
 * within --grace, then it is closed.  Further input from it is ignored.
 */
void client_depart(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Refuse what c sent: log it with detail, answer ERR reason=..., close
 * once said (a subscriber gets the rest of its frame first). */
void client_error(struct client *c, const char *reason, const char *detail);

/*
 * Write up to len bytes of buf to c.  Returns how many were written, or
 * -1 when none could be: its socket is full (c->blocked) or the write
 * failed (errno).
 */
ssize_t client_write(struct client *c, const void *buf, size_t len);

/* Write c's control lines before ring data (upto c->ctl_split), or all
 * of them (c->ctl_len).  0 when all are out, else -1 as client_write. */
int client_send_ctl(struct client *c, uint16_t upto);

/*
 * The flush of a role that sends only control lines (hello, publisher,
 * and an admin once its answer is out): the lines, then a departing
 * client's goodbye.
 */
enum flush client_flush(struct client *c, int *err);

#endif

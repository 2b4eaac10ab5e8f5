/*
 * sfd's shared state: configuration, the server, its streams.  One thread
 * owns all of it.  A client (struct client) is in client.h.
 *
 * Which file to open
 * ------------------
 *   sfd.c        main: options, listeners, signals, the loop
 *   options.c    the command line, its defaults and checks
 *   server.c     the event loop, one turn at a time; timers; the
 *                shutdown policy
 *   listener.c   listening sockets, accept, pause when out of descriptors
 *   client.c     the connection layer: a client's whole life, its state
 *                (the only writer of it), the role table it is driven
 *                through, control lines out
 *   input.c      reading frames into a client's buffer
 *   hello.c      the first frame: parse, check access, hand to a role
 *   subscriber.c the subscriber role: where it starts, its writes
 *   cutoff.c     ... and who is cut off and why: lag limits, --stall,
 *                kicks, shutdown, skips (on-lag=skip), kept tails
 *   publisher.c  the publisher role: appends, pacing, end of stream
 *   admin.c      the admin role (sfctl): stats, stream list, kick
 *   stream.c     a stream's ring, marks and spool, and the lag
 *                arithmetic over it; answers, never acts on a client
 *   restore.c    the --spool folder's rings, taken up again on start
 *   access.c     --publishers, --subscribers, --admins
 *   log.c        one line per event on stderr, never blocking the loop
 *   systemd.c    socket activation and readiness
 *
 * The life of a connection
 * ------------------------
 * listener.c accepts it; client_accept() gives it the hello role and a
 * --hello-timeout.  Its hello (hello.c) is parsed and checked, and the
 * role's start (subscriber_start, publisher_start, admin_start) makes it
 * CS_ACTIVE with that role's table.  From then on the connection layer
 * reads it (ops->read), writes it in the pass before the loop sleeps
 * (ops->flush), checks it on the periodic tick (ops->tick), and on a
 * kick or shutdown asks its role for the goodbye (ops->cut_off).  A
 * departure (client_depart) sends what is still owed, then the goodbye,
 * within --grace; client_close() ends it, ops->close lets go of the
 * role's part, and the memory is freed after the event batch.
 *
 * The life of a frame
 * -------------------
 * A publisher's bytes are read into its buffer (input.c); whole runs of
 * data frames go to publisher.c, which holds a paced publisher if the run
 * would overwrite what a subscriber needs (stream_must_wait), else first
 * lets cutoff.c cut off or set aside the subscribers the append would
 * overrun (subscribers_before_append), then stream.c appends them to the
 * ring (and the spool) and marks the stream for fan-out.  Before the loop
 * sleeps, client_settle() schedules the stream's subscribers, and each
 * subscriber's flush (subscriber.c) writes straight from the ring, then
 * cutoff.c checks its lag limits and acts on any cut-off at once.
 */
#ifndef SFD_H
#define SFD_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "addr.h"
#include "ring.h"
#include "spool.h"

struct config {
	uint64_t ring;          /* --ring: bytes kept per stream */
	uint64_t max_lag;       /* --max-lag: the soft limit, 0 for none */
	uint64_t lag_ms;        /* --lag-time: how long it may be exceeded */
	uint64_t stall_ms;      /* --stall: this long without taking a byte,
	                           a subscriber stops holding publishers */
	uint64_t max_frame;     /* --max-frame: largest data body */
	uint64_t max_clients;   /* --max-clients */
	uint64_t max_streams;   /* --max-streams */
	uint64_t grace_ms;      /* --grace: a departing client's last moment */
	uint64_t goodbye_ms;    /* --goodbye-time: a cut-off subscriber's */
	uint64_t goodbye_mem;   /* --goodbye-memory: all kept-aside frames */
	uint64_t hello_ms;      /* --hello-timeout */
	struct access *publishers; /* --publishers, NULL: anyone on the Unix
	                              socket may publish, no TCP peer */
	struct access *subscribers; /* --subscribers, NULL: anyone */
	uint64_t sndbuf;        /* --sndbuf: SO_SNDBUF of subscribers, 0 for
	                           the system's */
	struct access *admins;  /* --admins, NULL: the daemon's own uid and
	                           root, on the Unix socket only */
	uint64_t stats_ms;      /* --stats-interval, 0 for none */
	const char *spool;      /* --spool: the rings' folder, NULL: memory */
	uint64_t sync_ms;       /* --sync: how often the spool is synced, 0
	                           after each turn of the loop that appended */
	mode_t spool_mode;      /* a ring file's mode, from --mode */
	gid_t spool_group;      /* and group, from --group (-1 for none) */
};

/* Something in the epoll set: its callback gets the ready events. */
struct watch;
struct listener;
typedef void watch_fn(struct watch *w, uint32_t events);
struct watch {
	int fd;
	watch_fn *fn;
};

/* What a client is, once its hello said so. */
enum role { ROLE_HELLO, ROLE_PUB, ROLE_SUB, ROLE_CTL };

struct client;
TAILQ_HEAD(client_list, client);

/*
 * The most one append adds to a ring: a publisher's read buffer (or one
 * frame when larger).
 */
#define APPEND_MAX (256u << 10)

/* What a role's flush did (client.h: struct role_ops). */
enum flush {
	FLUSH_OK,       /* everything owed is out */
	FLUSH_BLOCKED,  /* the socket is full: more once it drains */
	FLUSH_DONE,     /* the goodbye is out: close it */
	FLUSH_GONE,     /* a write failed (*err): the peer is gone */
	FLUSH_CUT       /* nothing more can be sent whole (the role logged
	                   why): close it now */
};

/* Why a client is cut off (a subscriber with on-lag=skip is moved ahead
 * instead when it lags: CUT_RING, CUT_OWN, CUT_SLOW). */
enum cut {
	CUT_NONE,
	CUT_RING,       /* frames it needs were about to be overwritten */
	CUT_OWN,        /* past the max-lag it asked for in its hello */
	CUT_SLOW,       /* over sfd --max-lag for longer than --lag-time */
	CUT_SHUTDOWN,   /* the daemon is stopping */
	CUT_KICKED,     /* an operator said so (sfctl kick) */
	CUT_DAMAGED,    /* the stream's ring file was cut short under it */
	CUT_TORN        /* its unsent frame is gone (no memory to keep it
	                   aside): closed at once, nothing more can be sent */
};

/* Why a client was cut off, as counted per stream. */
enum evict_reason { EV_LAG, EV_SLOW, EV_KICKED, EV_SHUTDOWN };

struct stream {
	struct server *srv;
	char name[65];
	char epoch[17];              /* random hex id, new with each stream */
	struct ring *ring;
	struct spool *spool;         /* the ring's file, NULL in memory */
	int unsynced;                /* appended since the spool's last sync */
	int sync_failed;             /* the last sync failed (logged once) */
	int damaged;                 /* its ring file was cut short while in
	                                use: it takes no client any more */
	int cut_short;               /* found so before an append, for
	                                server_check_damage() */
	struct client_list subs;
	struct client_list pubs;
	unsigned nsubs, npubs;
	unsigned nheld;              /* paced publishers being held */
	int dirty;                   /* new frames since the last fan-out */
	/* Counters for sfctl stats, each bumped where its event happens. */
	uint64_t frames_in, bytes_in;
	uint64_t evicted[4];         /* enum evict_reason */
	uint64_t paced_waits;        /* times a paced publisher was held */
	long long created_ms;
	/* The end-of-stream marks still in the ring, oldest first, so that a
	 * subscriber skipping ahead stops at one. */
	struct mark {
		uint64_t pos;        /* where its frame starts */
		uint64_t seq;        /* of the data frame after it */
	} *marks;
	size_t marks_len, marks_cap;
	TAILQ_ENTRY(stream) link;
	TAILQ_ENTRY(stream) dlink;   /* dirty list */
};

TAILQ_HEAD(stream_list, stream);

struct server {
	struct config cfg;
	int ep;                      /* epoll */
	long long now;               /* ms, refreshed once per loop turn */
	long long (*clock)(void);    /* where now comes from: io_now_ms */
	long long tick;              /* ms of the next stall and --max-lag
	                                check, 0 while none is needed */
	struct client_list clients;
	struct client_list hello;    /* waiting for a hello, oldest first */
	struct client_list leaving;  /* departing, oldest first */
	struct client_list lingering;/* cut off for lagging or kicked, given
	                                --goodbye-time, oldest first */
	uint64_t kept_bytes;         /* frames kept aside, all subscribers */
	struct client_list ready;    /* publishers with unread input */
	struct client_list pending;  /* to act on before the loop sleeps */
	struct client_list graveyard;/* closed; freed after the event batch */
	uint64_t nclients;
	uint64_t nready;
	uint64_t nheld;              /* paced publishers held, all streams */
	uint64_t next_id;
	struct stream_list streams;
	struct stream_list dirty;
	uint64_t nstreams;
	int stopping;                /* shutdown in progress */
	int spare_fd;                /* held back for when descriptors run out */
	int spare_lost;              /* logged that it could not be had */
	struct listener *listeners;  /* to take up again after a pause: */
	int nlisteners;
	long long accept_resume;     /* ms when paused ones listen again, or 0 */
	long long started_ms;
	long long stats_due;         /* ms of the next --stats-interval line */
	int spool_fd;                /* --spool folder (locked), or -1 */
	long long sync_due;          /* ms of the next --sync, 0 while none */
};

#endif

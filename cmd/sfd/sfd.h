/*
 * The daemon's shared state: configuration, the server, its clients and
 * streams.  One thread owns all of it.
 *
 * The modules, each including only those below it:
 *
 *   access     who may publish (--publishers)
 *   log        one line per event on stderr, never blocking the loop
 *   queue      the server's lists a client waits on: timers, ready
 *              publishers, clients to act on before the loop sleeps;
 *              the spare descriptor
 *   stream     a stream's ring and its subscribers' positions in it:
 *              decides who falls behind and whether a paced publisher
 *              must wait; does no I/O
 *   output     what a client is sent: control lines, ring data, goodbyes
 *   subscriber cut-offs, skips and the limits checked after each write
 *   publisher  appending, pacing, end of stream
 *   control    the CTL role: stats, stream list, kick, for sfctl(1)
 *   hello      the first frame: subscribe, publish or control
 *   input      reading a client's frames
 *   client     a connection's life: accept, events, the pass before the
 *              loop sleeps, close
 *   listener   listening sockets and accept
 *   restore    the --spool folder's rings, taken up again on start
 *   server     the event loop
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
	FLUSH_GONE      /* a write failed (*err): the peer is gone */
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

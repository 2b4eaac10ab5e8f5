/*
 * sfcat's state and the parts of it that both of its ways of reading use:
 * from the socket (sfcat.c) and from the shared ring (shared.c).
 */
#ifndef SFCAT_CAT_H
#define SFCAT_CAT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "cli.h"
#include "frame.h"
#include "share.h"

#define BLOCK        (1u << 20)
#define OUT_BLOCK    (256u << 10)
#define OUT_RECORDS  8192    /* records in the output buffer at most */
#define HELLO_WAIT   5000    /* ms for the daemon to answer the hello */
#define SAVE_EVERY   1000    /* ms between --state writes while busy */
#define BACKOFF_MIN  100     /* ms, --reconnect */
#define BACKOFF_MAX  5000

struct cat_state {
	/* Options. */
	enum record_mode mode;
	uint64_t count;          /* -n: records to print, 0 for no limit */
	const char *from;        /* --from, for the first connection */
	const char *stream;
	const char *on_lag;      /* --on-lag, NULL for the daemon's default */
	uint64_t max_lag;        /* --max-lag in bytes, 0 for the daemon's */
	const char *state_path;  /* --state */
	int reconnect;
	int print_seq;
	long long timeout_ms;    /* --timeout, -1 for none */
	const struct addr *addr;

	/* Where we are in the stream. */
	int sock;
	uint32_t max_frame;      /* as the daemon announced */
	int warned_ring;         /* said that --max-lag is past the ring */
	char epoch[17];          /* "" until known */
	uint64_t next_seq;       /* seq of the next data frame to print: the
	                            first not yet written whole to stdout */
	int have_seq;            /* next_seq means something: resume there */
	int after_eos;           /* ... after the end mark right before it */
	uint64_t printed;
	uint64_t saved_seq;      /* what the state file says */
	int saved_eos;
	long long saved_ms;
	long long frame_ms;      /* when the last frame came, for --timeout */

	unsigned char *in;
	size_t in_len, in_cap;
	unsigned char *out;      /* records from next_seq on, not written */
	size_t out_len, out_cap;
	/* Where in out each record ends that ends there, in order; the first
	 * one is record next_seq (out may begin with the end of one that did
	 * not fit, whose start was written before). */
	uint32_t out_end[OUT_RECORDS];
	size_t out_records;

	/* A shared reader (--shared, shared.c): the ring mapped, and where
	 * in it the next byte to copy into in is. */
	int want_shared;         /* ask for it: --shared */
	int shared;              /* this connection reads the ring */
	struct share_view view;
	uint64_t rpos;
	int overrun;             /* the ring passed us: wait for sfd's word */
	uint64_t upto_seq;       /* cat_consume stops before this data
	                            frame; UINT64_MAX: no stop */
	unsigned char sin[FRAME_HDR + FRAME_CTL_MAX];   /* from the socket */
	size_t sin_len;
	unsigned char rep[64];   /* a position report on its way out */
	size_t rep_len, rep_off;
	uint64_t reported;       /* the position last reported */
	int reported_wait;
};

/* A stop signal came: nothing more is written; --state, exit 128+N. */
void cat_stop(struct cat_state *c) __attribute__((noreturn));

/* Write out what is buffered, then extra; exits on a failure. */
void cat_flush(struct cat_state *c, const void *extra, size_t extra_len);

/* Flush, save --state, close stdout and exit with code. */
void cat_finish(struct cat_state *c, int code) __attribute__((noreturn));

/* Save --state, if the place moved since last time. */
void cat_save_state(struct cat_state *c);

/*
 * Print the complete frames in c->in, keep the partial one (and the
 * data frames from c->upto_seq on).  Returns SF_EXIT_OK to
 * go on, else why the connection ended (message in msg).
 */
int cat_consume(struct cat_state *c, char *msg, size_t cap);

/* A control frame from the daemon: SKIP reported, EOS the end, else the
 * end of the connection (its sf_exit code, message in msg). */
int cat_control(struct cat_state *c, const struct frame *f, char *msg,
    size_t cap);

/*
 * Nothing more to read right now: write out what is buffered, save
 * --state when it is due.  SF_EXIT_OK, or SF_EXIT_TIMEOUT (msg said)
 * once --timeout ran out.
 */
int cat_idle(struct cat_state *c, char *msg, size_t cap);

/* Sleep in poll(2) on pfd until it is ready, or --timeout or --state is
 * due, or a stop signal came; exits on a failure. */
void cat_wait(struct cat_state *c, struct pollfd *pfd);

/* A read of the daemon's socket gave n, -1 (not EAGAIN) or 0: why the
 * connection ended (SF_EXIT_GONE, msg said); exits on a stop signal or a
 * local error. */
int cat_read_end(struct cat_state *c, ssize_t n, char *msg, size_t cap);

/* The command line into c, the daemon's address into addr (options.c);
 * exits on a usage error, or after --help or --version. */
void cat_parse(int argc, char *argv[], struct cat_state *c,
    struct addr *addr);

#endif

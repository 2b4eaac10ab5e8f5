/*
 * sfcat: print the frames of a stream on stdout, one record each.
 *
 * The socket is read in large blocks and frames are parsed in place; each
 * payload and its terminator are copied into one output buffer that is
 * written whenever no more input is ready at once.  So a lone record shows
 * up immediately and a burst leaves in large writes: no stdio, and no
 * system call per record.
 *
 * sfcat counts the sequence numbers of what it printed, so it can resume
 * after an eviction, a restart of the daemon (--reconnect) or of itself
 * (--state) and say exactly what, if anything, was lost in between.  A
 * record counts as printed once it is written whole: the output buffer
 * remembers where each of its records ends.
 *
 * SIGINT, SIGTERM and SIGHUP stop it at once, whatever it waits for
 * (lib/io.c): nothing more is written, --state is saved, exit 128+N.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "cat.h"
#include "cli.h"
#include "ctl.h"
#include "frame.h"
#include "guard.h"
#include "io.h"
#include "num.h"
#include "proto.h"
#include "session.h"
#include "shared.h"
#include "state.h"

/*
 * The state file could not be read or written (errno): a local error, or
 * the end of the program when a stop signal interrupted it.
 */
static void __attribute__((noreturn))
state_failed(const struct cat_state *c)
{
	int sig = io_stopped();

	cli_die(errno == EINTR && sig != 0 ? 128 + sig : SF_EXIT_ERROR,
	    "--state %s: %s", c->state_path, strerror(errno));
}

/* Save where to go on in the state file, if it moved since last time. */
void
cat_save_state(struct cat_state *c)
{
	struct state_pos p;

	if (c->state_path == NULL || !c->have_seq ||
	    (c->saved_seq == c->next_seq && c->saved_eos == c->after_eos))
		return;
	c->saved_ms = io_now_ms();
	memcpy(p.epoch, c->epoch, sizeof(p.epoch));
	p.next = c->next_seq;
	p.eos = c->after_eos;
	switch (state_save(c->state_path, &p)) {
	case STATE_OK:
		break;
	case STATE_TOO_LONG:
		cli_die(SF_EXIT_ERROR,
		    "--state %s: path too long", c->state_path);
	default:
		state_failed(c);
	}
	c->saved_seq = c->next_seq;
	c->saved_eos = c->after_eos;
}

/* Resume from the state file, if there is one; see state_load(). */
static void
load_state(struct cat_state *c)
{
	struct state_pos p;

	switch (state_load(c->state_path, &p)) {
	case STATE_OK:
		break;
	case STATE_NONE:
		return;
	case STATE_EMPTY:
		cli_die(SF_EXIT_ERROR, "--state %s: empty file; remove it to "
		    "start again from --from", c->state_path);
	case STATE_INVALID:
		cli_die(SF_EXIT_ERROR, "--state %s: not a state file of sfcat",
		    c->state_path);
	default:
		state_failed(c);
	}
	memcpy(c->epoch, p.epoch, sizeof(c->epoch));
	c->next_seq = c->saved_seq = p.next;
	c->after_eos = c->saved_eos = p.eos;
	c->have_seq = 1;
}

/*
 * A stop signal came: write nothing more, save --state (what was written
 * whole) and exit 128+N.
 */
void __attribute__((noreturn))
cat_stop(struct cat_state *c)
{
	/* A state file that blocks (a FIFO, a file system that hangs) is
	 * given up on at the next tick, and the program goes all the same. */
	io_ticking(1);
	cat_save_state(c);
	io_ticking(0);
	exit(128 + io_stopped());
}

/* n more records were written whole: the next to print moves on, and
 * what was last handled is no longer an end mark. */
static void
printed_whole(struct cat_state *c, uint64_t n)
{
	if (n == 0)
		return;
	c->next_seq += n;
	c->after_eos = 0;
}

/*
 * Write out what is buffered, then extra (the body of a record too large
 * for the buffer, whose end follows in it).  A reader that went away
 * (EPIPE) is the normal end of `sfcat | head -1`: a quiet success.  Cut
 * short by a stop signal, it counts the records written whole, so the
 * one it was in the middle of is the next to print, and stops.
 */
void
cat_flush(struct cat_state *c, const void *extra, size_t extra_len)
{
	size_t done, more, i;
	int rc;

	rc = io_write_counted(STDOUT_FILENO, c->out, c->out_len, &done);
	if (rc == 0)
		rc = io_write_counted(STDOUT_FILENO, extra, extra_len, &more);
	for (i = 0; i < c->out_records && c->out_end[i] <= done; i++)
		;
	printed_whole(c, i);
	c->out_len = 0;
	c->out_records = 0;
	if (rc == -1) {
		if (io_stopped())
			cat_stop(c);
		if (errno == EPIPE)
			exit(SF_EXIT_OK);
		cli_die(SF_EXIT_ERROR, "stdout: %s", strerror(errno));
	}
	if (c->state_path != NULL && io_now_ms() - c->saved_ms >= SAVE_EVERY)
		cat_save_state(c);
}

void __attribute__((noreturn))
cat_finish(struct cat_state *c, int code)
{
	cat_flush(c, NULL, 0);
	cat_save_state(c);
	if (close(STDOUT_FILENO) == -1 && errno != EPIPE)
		cli_die(SF_EXIT_ERROR, "stdout: %s", strerror(errno));
	exit(code);
}

static void
print_record(struct cat_state *c, const unsigned char *frame, uint32_t len)
{
	static const unsigned char term[] = { '\n', '\0' };
	const unsigned char *p = frame + FRAME_HDR;
	size_t n = len;
	char seq[24];
	int k = 0;

	if (c->mode == MODE_RAW) {
		p = frame;
		n = FRAME_HDR + (size_t)len;
	}
	if (c->print_seq)
		k = snprintf(seq, sizeof(seq), "%llu\t",
		    (unsigned long long)c->next_seq + c->out_records);
	if (c->out_cap - c->out_len < (size_t)k + n + 1 ||
	    c->out_records == OUT_RECORDS)
		cat_flush(c, NULL, 0);
	memcpy(c->out + c->out_len, seq, (size_t)k);
	c->out_len += (size_t)k;
	if (c->out_cap - c->out_len < n + 1) {
		/* Larger than the whole buffer: straight out. */
		cat_flush(c, p, n);
	} else {
		memcpy(c->out + c->out_len, p, n);
		c->out_len += n;
	}
	if (c->mode != MODE_RAW)
		c->out[c->out_len++] = term[c->mode == MODE_NUL];
	/* Printed once out is written up to here; a raw record too large
	 * for out is printed already. */
	if (c->out_len > 0)
		c->out_end[c->out_records++] = (uint32_t)c->out_len;
	else
		printed_whole(c, 1);
	if (++c->printed == c->count)
		cat_finish(c, SF_EXIT_OK);
}

/*
 * A control frame from the daemon.  SKIP is reported and printing goes
 * on; anything else ends this connection: returns its sf_exit code with a
 * message in msg, or exits at once for an end of stream.
 */
int
cat_control(struct cat_state *c, const struct frame *f, char *msg, size_t cap)
{
	const char *a, *b, *p;
	uint64_t seq, count, pos;
	struct ctl m;

	cat_flush(c, NULL, 0);
	if (ctl_parse(&m, f->data, f->len) == -1) {
		snprintf(msg, cap, "sfd sent a malformed control frame");
		return SF_EXIT_PROTOCOL;
	}
	if (strcmp(m.verb, "EOS") == 0) {
		c->after_eos = 1;
		cat_finish(c, SF_EXIT_OK);
	}
	if (strcmp(m.verb, "SKIP") == 0) {
		if ((a = ctl_get(&m, "seq")) == NULL ||
		    (b = ctl_get(&m, "count")) == NULL ||
		    num_parse(a, 0, UINT64_MAX, &seq) != NULL ||
		    num_parse(b, 1, UINT64_MAX - seq, &count) != NULL) {
			snprintf(msg, cap, "sfd sent a malformed SKIP");
			return SF_EXIT_PROTOCOL;
		}
		if (c->shared) {
			/* Where the skip lands in the ring, and what this
			 * reader, ahead of its reports, passes over. */
			if ((p = ctl_get(&m, "pos")) == NULL ||
			    num_parse(p, 0, UINT64_MAX, &pos) != NULL) {
				snprintf(msg, cap, "sfd sent a malformed SKIP");
				return SF_EXIT_PROTOCOL;
			}
			if (!shared_skip(c, pos) || seq + count <= c->next_seq)
				return SF_EXIT_OK;
			count = seq + count - c->next_seq;
			seq = c->next_seq;
		}
		fprintf(stderr, "sfcat: skipped %llu frames (seq %llu..%llu)\n",
		    (unsigned long long)count, (unsigned long long)seq,
		    (unsigned long long)(seq + count - 1));
		c->next_seq = seq + count;
		c->after_eos = 0;
		return SF_EXIT_OK;
	}
	return session_verdict(&m, msg, cap);
}

int
cat_consume(struct cat_state *c, char *msg, size_t cap)
{
	size_t off = 0;
	struct frame f;
	ssize_t k;
	int code;

	while ((k = frame_decode(c->in + off, c->in_len - off, c->max_frame,
	    &f)) > 0) {
		off += (size_t)k;
		if (!f.control &&
		    c->next_seq + c->out_records >= c->upto_seq) {
			off -= (size_t)k;   /* not this one, nor what follows */
			break;
		}
		if (!f.control)
			print_record(c, f.data - FRAME_HDR, f.len);
		else if ((code = cat_control(c, &f, msg, cap)) != SF_EXIT_OK)
			return code;
	}
	if (k == -1) {
		snprintf(msg, cap, "sfd sent a frame of %lu bytes, over its "
		    "max-frame %lu", (unsigned long)f.len,
		    (unsigned long)c->max_frame);
		return SF_EXIT_PROTOCOL;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return SF_EXIT_OK;
}

/* How long poll(2) may sleep: until --timeout runs out or the state file
 * is due.  -1 for no limit. */
static int
poll_wait(const struct cat_state *c)
{
	long long now = io_now_ms(), t = -1, d;

	if (c->timeout_ms >= 0)
		t = c->frame_ms + c->timeout_ms - now;
	if (c->state_path != NULL && c->saved_seq != c->next_seq) {
		d = c->saved_ms + SAVE_EVERY - now;
		if (t == -1 || d < t)
			t = d;
	}
	if (t == -1)
		return -1;
	return t < 0 ? 0 : t > 0x7fffffff ? 0x7fffffff : (int)t;
}

int
cat_idle(struct cat_state *c, char *msg, size_t cap)
{
	/* Nothing more right now: the reader gets it all. */
	cat_flush(c, NULL, 0);
	if (c->timeout_ms >= 0 && io_now_ms() - c->frame_ms >= c->timeout_ms) {
		snprintf(msg, cap, "no frame within --timeout %lld s",
		    c->timeout_ms / 1000);
		return SF_EXIT_TIMEOUT;
	}
	if (c->state_path != NULL && io_now_ms() - c->saved_ms >= SAVE_EVERY)
		cat_save_state(c);
	return SF_EXIT_OK;
}

void
cat_wait(struct cat_state *c, struct pollfd *pfd)
{
	if (io_poll(pfd, 1, poll_wait(c)) == -1 && !io_stopped())
		cli_die(SF_EXIT_ERROR, "poll: %s", strerror(errno));
}

int
cat_read_end(struct cat_state *c, ssize_t n, char *msg, size_t cap)
{
	if (n == -1 && io_stopped())
		cat_stop(c);
	if (n == -1 && errno != ECONNRESET)
		cli_die(SF_EXIT_ERROR, "read from %s: %s", c->addr->text,
		    strerror(errno));
	snprintf(msg, cap, "lost connection to %s", c->addr->text);
	return SF_EXIT_GONE;
}

/* Print frames from the connection until it ends; returns why. */
static int
pump(struct cat_state *c, char *msg, size_t cap)
{
	struct pollfd pfd = { .fd = c->sock, .events = POLLIN };
	ssize_t n;
	int code;

	c->in_len = 0;
	c->frame_ms = io_now_ms();
	for (;;) {
		if (io_stopped())
			cat_stop(c);
		n = io_read(c->sock, c->in + c->in_len, c->in_cap - c->in_len);
		if (n == -1 && errno == EAGAIN) {
			if ((code = cat_idle(c, msg, cap)) != SF_EXIT_OK)
				return code;
			cat_wait(c, &pfd);
			continue;
		}
		if (n <= 0)
			return cat_read_end(c, n, msg, cap);
		c->frame_ms = io_now_ms();
		c->in_len += (size_t)n;
		if ((code = cat_consume(c, msg, cap)) != SF_EXIT_OK)
			return code;
	}
}

/*
 * The SUB line for the next connection, into hello: resuming after the
 * last printed record when there is one.
 */
static void
sub_hello(const struct cat_state *c, char *hello, size_t cap)
{
	char from[32];
	int n;

	if (c->have_seq)
		snprintf(from, sizeof(from), "%llu",
		    (unsigned long long)c->next_seq);
	else
		snprintf(from, sizeof(from), "%s", c->from);
	n = snprintf(hello, cap, "SUB " PROTO_VERSION " stream=%s from=%s",
	    c->stream, from);
	if (c->on_lag != NULL)
		n += snprintf(hello + n, cap - (size_t)n, " on-lag=%s",
		    c->on_lag);
	/* Only when asked for: without it the daemon's limits apply, as
	 * they do with a daemon that does not know the key. */
	if (c->max_lag > 0)
		n += snprintf(hello + n, cap - (size_t)n,
		    " max-lag=%llu", (unsigned long long)c->max_lag);
	if (c->have_seq && c->epoch[0] != '\0')
		n += snprintf(hello + n, cap - (size_t)n,
		    " epoch=%s", c->epoch);
	/* Going on after the last record it had: the end of stream that may
	 * follow it is still to come, unless it was what ended the run. */
	if (c->have_seq && !c->after_eos)
		n += snprintf(hello + n, cap - (size_t)n, " resume=1");
	/* A daemon without shared readers ignores it: the socket path. */
	if (c->want_shared)
		snprintf(hello + n, cap - (size_t)n, " shared=1");
}

/*
 * The daemon said OK, starting at seq of epoch: say what was lost since
 * the last record printed, if anything; and, once, that --max-lag is not
 * below the ring.
 */
static void
report_start(struct cat_state *c, const struct ctl *reply, const char *epoch,
    uint64_t seq)
{
	char lim[NUM_SIZE_LEN], ring_text[NUM_SIZE_LEN];
	const char *v;
	uint64_t ring;

	if (c->have_seq && c->epoch[0] != '\0' && strcmp(epoch, c->epoch) != 0)
		fprintf(stderr, "sfcat: stream %s was restarted (epoch %s, was "
		    "%s): an unknown number of frames after seq %llu were "
		    "lost; resuming at seq %llu of the new epoch\n", c->stream,
		    epoch, c->epoch, (unsigned long long)c->next_seq - 1,
		    (unsigned long long)seq);
	else if (c->have_seq && seq > c->next_seq)
		fprintf(stderr, "sfcat: lost %llu frames (seq %llu..%llu): no "
		    "longer in the ring\n",
		    (unsigned long long)(seq - c->next_seq),
		    (unsigned long long)c->next_seq,
		    (unsigned long long)seq - 1);
	/* ring= is advisory, and older daemons do not send it: a value that
	 * is missing or no number is ignored. */
	if (c->max_lag > 0 && !c->warned_ring &&
	    (v = ctl_get(reply, "ring")) != NULL &&
	    num_parse(v, 1, UINT64_MAX, &ring) == NULL && c->max_lag >= ring) {
		fprintf(stderr, "sfcat: --max-lag %s is not below the ring of "
		    "stream %s (%s): the ring fills first\n",
		    num_format_size(c->max_lag, lim, sizeof(lim)), c->stream,
		    num_format_size(ring, ring_text, sizeof(ring_text)));
		c->warned_ring = 1;
	}
}

/*
 * Subscribe, resuming after the last printed frame when there is one.
 * Returns SF_EXIT_OK with c->sock connected, else the failure's code with
 * its message in msg.
 */
static int
subscribe(struct cat_state *c, char *msg, size_t cap)
{
	char hello[256];
	const char *v, *e;
	struct ctl reply;
	uint64_t seq, max;
	int fds[SESSION_FDS], nfds, i, code;

	do {
		sub_hello(c, hello, sizeof(hello));
		nfds = SESSION_FDS;
		if ((c->sock = session_open_fds(c->addr, hello, HELLO_WAIT,
		    &reply, fds, &nfds)) == -1)
			return session_open_failure(errno, c->addr, msg, cap);
		code = shared_start(c, &reply, fds, nfds);
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		if (code == -1) {
			/* Handed a ring it cannot map: the socket path. */
			close(c->sock);
			c->want_shared = 0;
		}
	} while (code == -1);
	if (strcmp(reply.verb, "OK") != 0)
		goto refused;
	if ((v = ctl_get(&reply, "max-frame")) == NULL ||
	    num_parse(v, 0, FRAME_LEN_MASK - FRAME_HDR, &max) != NULL ||
	    (v = ctl_get(&reply, "seq")) == NULL ||
	    num_parse(v, 0, UINT64_MAX, &seq) != NULL ||
	    (e = ctl_get(&reply, "epoch")) == NULL || strlen(e) != 16) {
		snprintf(msg, cap, "sfd sent a malformed OK");
		goto refused;
	}
	report_start(c, &reply, e, seq);
	memcpy(c->epoch, e, sizeof(c->epoch));
	c->next_seq = seq;
	c->have_seq = 1;
	c->max_frame = (uint32_t)max;
	if (io_set_nonblock(c->sock) == -1)
		cli_die(SF_EXIT_ERROR, "fcntl: %s", strerror(errno));
	if (max + FRAME_HDR > c->in_cap) {
		free(c->in);
		c->in_cap = max + FRAME_HDR;
		if ((c->in = malloc(c->in_cap)) == NULL)
			cli_die(SF_EXIT_ERROR, "out of memory");
	}
	return SF_EXIT_OK;
refused:
	shared_end(c);
	close(c->sock);
	if (strcmp(reply.verb, "OK") == 0)
		return SF_EXIT_PROTOCOL;
	/* A refusal for good (a denial, say) is no status --reconnect
	 * retries: asking again would get the same answer. */
	return session_verdict(&reply, msg, cap);
}

/* Worth trying again with --reconnect: the daemon may come back. */
static int
retryable(int code)
{
	return code == SF_EXIT_CONNECT || code == SF_EXIT_EVICTED ||
	    code == SF_EXIT_GONE;
}

/*
 * Subscribe and print until the connection ends; with --reconnect, go on
 * after every end worth another attempt.  Exits with the status of the
 * end that is not.
 */
static void __attribute__((noreturn))
run(struct cat_state *c)
{
	long long wait_ms = BACKOFF_MIN;
	char msg[512];
	int code;

	for (;;) {
		if ((code = subscribe(c, msg, sizeof(msg))) == SF_EXIT_OK) {
			wait_ms = BACKOFF_MIN;
			code = c->shared ? shared_pump(c, msg, sizeof(msg)) :
			    pump(c, msg, sizeof(msg));
			shared_end(c);
			close(c->sock);
		}
		if (io_stopped())
			cat_stop(c);
		if (!c->reconnect || !retryable(code)) {
			cat_flush(c, NULL, 0);
			fprintf(stderr, "sfcat: %s\n", msg);
			cat_finish(c, code);
		}
		cat_flush(c, NULL, 0);
		cat_save_state(c);
		fprintf(stderr, "sfcat: %s; reconnecting\n", msg);
		io_backoff(&wait_ms, BACKOFF_MAX);
	}
}

int
main(int argc, char *argv[])
{
	struct cat_state st = { .mode = MODE_LINES, .from = "now",
	    .stream = STREAM_DEFAULT, .timeout_ms = -1,
	    .upto_seq = UINT64_MAX };
	struct cat_state *c = &st;
	struct addr addr;

	cat_parse(argc, argv, c, &addr);
	c->addr = &addr;
	if (cli_ignore_sigpipe() == -1)
		cli_die(SF_EXIT_ERROR, "sigaction: %s", strerror(errno));
	if (io_catch_stop() == -1)
		cli_die(SF_EXIT_ERROR, "sigaction: %s", strerror(errno));
	/* A shared spool file cut short under us is a damaged ring, not
	 * a SIGBUS (share.h). */
	if (c->want_shared && guard_install() == -1)
		cli_die(SF_EXIT_ERROR, "sigaction: %s", strerror(errno));
	if (c->state_path != NULL)
		load_state(c);

	c->in_cap = BLOCK;
	c->out_cap = OUT_BLOCK;
	if ((c->in = malloc(c->in_cap)) == NULL ||
	    (c->out = malloc(c->out_cap)) == NULL)
		cli_die(SF_EXIT_ERROR, "out of memory");
	run(c);
}

/*
 * sfpipe: publish each record read from stdin as one frame to a stream.
 *
 * Records are lines (default), NUL-terminated (-0) or frames already
 * (--raw).  Input is read in large blocks; the frames built from one block
 * leave in one write, so a burst costs few system calls while a lone line
 * is sent at once.
 *
 * Paced (--pace), the daemon holds the publisher back rather than
 * overwrite what a subscriber still needs: the socket simply stops taking
 * bytes for a while.  With --min-subscribers nothing is read or sent
 * before the daemon says that enough subscribers are there.
 *
 * SIGINT, SIGTERM and SIGHUP stop it at once, whatever it waits for
 * (lib/io.c): it reads and sends nothing more, and exits 128+N.  Waiting
 * to send what it holds could take as long as the daemon holds it back.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "ctl.h"
#include "frame.h"
#include "io.h"
#include "num.h"
#include "proto.h"
#include "session.h"

#define BLOCK       (256u << 10)
#define HELLO_WAIT  5000   /* ms for the daemon to answer the hello */
#define BACKOFF_MIN 100    /* ms, --retry */
#define BACKOFF_MAX 5000

struct pipe_state {
	enum record_mode mode;
	uint64_t max_frame;
	int strict;
	int sock;
	const struct addr *addr;

	unsigned char *in;       /* stdin bytes not yet made into frames */
	size_t in_len, in_cap;
	unsigned char *out;      /* frames ready for the socket */
	size_t out_len, out_cap;

	uint64_t records;        /* records seen, published or not */
	uint64_t skipped;
	uint64_t skip_bytes;     /* > 0: discarding an oversized record */
	uint64_t skip_left;      /* raw mode: body bytes still to discard */

	int eos;                 /* --eos: mark the end of the stream */
	int retry;               /* --retry: wait for and return to the daemon */
	int pace;                /* --pace: the daemon may hold us back */
	uint64_t min_subs;       /* --min-subscribers, 0 for none */
	long long timeout_ms;    /* --timeout for READY, -1 for none */
	const char *stream;
	int connected_once;
};

static const char *const unit_name[] = { "line", "record", "frame" };

/* A stop signal came: leave at once, whatever was not sent yet.  The
 * daemon drops a frame cut short, so no record is published in part. */
static void __attribute__((noreturn))
stop(void)
{
	exit(128 + io_stopped());
}

static const char usage_text[] =
    "usage: sfpipe [-s ADDR] [-0 | --raw] [--max-frame SIZE] [--strict] "
    "[--eos]\n"
    "              [--retry] [--pace | --no-pace] [--min-subscribers N]\n"
    "              [--timeout SECONDS] [STREAM]\n";

/* --help: each option with its default, then the exit statuses.  Lines
 * fit 80 columns; the option lines are what tests/bats/docs.bats reads. */
static void __attribute__((noreturn))
help(void)
{
	char frame[NUM_SIZE_LEN];

	num_format_size(DEFAULT_MAX_FRAME, frame, sizeof(frame));
	cli_help(
	    "Connection:\n"
	    "  -s ADDR                   the daemon's address [default: see "
	    "below]\n"
	    "  --retry                   wait for the daemon, reconnect when "
	    "it goes\n"
	    "\n"
	    "Records, from standard input [default: lines]:\n"
	    "  -0                        records end in a NUL byte\n"
	    "  --raw                     records are frames already: 4-byte "
	    "length, bytes\n"
	    "  --max-frame SIZE          skip larger records, or over sfd's "
	    "[default: %s]\n"
	    "  --strict                  stop at a larger record instead "
	    "(exit %d)\n"
	    "  --eos                     mark the end of the stream after "
	    "the input\n"
	    "\n"
	    "Flow:\n"
	    "  --pace                    let sfd hold sfpipe back "
	    "[default: for a file]\n"
	    "  --no-pace                 never be held back "
	    "[default: for a pipe]\n"
	    "  --min-subscribers N       first wait for N subscribers "
	    "[default: none]\n"
	    "  --timeout SECONDS         wait this long for them, exit %d "
	    "[default: no limit]\n"
	    "\n"
	    CLI_HELP_TOOL_END
	    "\n"
	    "Exit status:\n"
	    "  %-5d  the input ended and every record was published\n"
	    "  %-5d  local error: reading standard input, memory, a bad "
	    "--raw frame\n"
	    "  %-5d  usage error: bad option, value or stream name\n"
	    "  %-5d  cannot connect, or refused for now: sfd is full; try "
	    "again later\n"
	    "  %-5d  cut off by an operator (sfctl kick)\n"
	    "  %-5d  sfd shut down or the connection was lost\n"
	    "  %-5d  refused for good (denied, bad hello) or sfd said "
	    "something odd\n"
	    "  %-5d  the subscribers of --min-subscribers were not there in "
	    "time\n"
	    "  %-5d  records over --max-frame were skipped (or, with "
	    "--strict, one met)\n"
	    "  128+N  stopped by signal N: SIGINT, SIGTERM or SIGHUP\n",
	    frame, SF_EXIT_SKIPPED, SF_EXIT_TIMEOUT, STREAM_DEFAULT,
	    SF_EXIT_OK, SF_EXIT_ERROR, SF_EXIT_USAGE, SF_EXIT_CONNECT,
	    SF_EXIT_EVICTED, SF_EXIT_GONE, SF_EXIT_PROTOCOL, SF_EXIT_TIMEOUT, SF_EXIT_SKIPPED);
}

/*
 * Read the one control line the daemon sent on sock into c.  Returns
 * SF_EXIT_OK, or SF_EXIT_GONE with a message in msg when the connection
 * ended instead; exits when what came is no control line.
 */
static int
daemon_line(const struct pipe_state *p, int sock, struct ctl *c, char *msg,
    size_t cap)
{
	unsigned char hdr[FRAME_HDR];
	uint32_t len;
	int control;

	if (io_read_full(sock, hdr, sizeof(hdr), 1000) == -1) {
		if (io_stopped())
			stop();
		snprintf(msg, cap, "lost connection to %s", p->addr->text);
		return SF_EXIT_GONE;
	}
	frame_get_header(hdr, &len, &control);
	if (!control || session_read_ctl(sock, len, 1000, c) == -1) {
		if (io_stopped())
			stop();
		cli_die(SF_EXIT_PROTOCOL, "sfd sent something unexpected");
	}
	return SF_EXIT_OK;
}

/*
 * --min-subscribers: wait on sock for the daemon's READY, at most
 * --timeout.  Returns SF_EXIT_OK once it came, else the code of what came
 * instead (a goodbye, a refusal, a lost connection) with its message in
 * msg.  Exits when the time is up.
 */
static int
await_ready(const struct pipe_state *p, int sock, char *msg, size_t cap)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	long long deadline = io_now_ms() + p->timeout_ms, left;
	struct ctl c;
	int n, code;

	if (p->min_subs == 0)
		return SF_EXIT_OK;
	do {
		left = p->timeout_ms < 0 ? -1 : deadline - io_now_ms();
		if (p->timeout_ms >= 0 && left < 0)
			left = 0;
		n = io_poll(&pfd, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (n == -1 && io_stopped())
			stop();
		if (n == -1)
			cli_die(SF_EXIT_ERROR, "poll: %s", strerror(errno));
		if (n == 0 && left == 0)
			cli_die(SF_EXIT_TIMEOUT, "no %llu subscribers on "
			    "stream %s within %lld s",
			    (unsigned long long)p->min_subs, p->stream,
			    p->timeout_ms / 1000);
	} while (n == 0);
	if ((code = daemon_line(p, sock, &c, msg, cap)) != SF_EXIT_OK)
		return code;
	if (strcmp(c.verb, "READY") == 0)
		return SF_EXIT_OK;
	return session_verdict(&c, msg, cap);
}

/*
 * Connect and say hello, then with --min-subscribers wait for READY;
 * with --retry, wait for the daemon too, and ask again when it goes
 * away meanwhile.  Returns the socket; exits when the daemon cannot be
 * had.
 */
static int
publish_session(struct pipe_state *p)
{
	char hello[256], msg[512];
	struct ctl reply;
	long long wait_ms = BACKOFF_MIN;
	const char *v;
	uint64_t daemon_max;
	int sock, code, n;

	/* The new keys only when asked for: a daemon that does not know
	 * them takes this hello as it always did. */
	n = snprintf(hello, sizeof(hello), "PUB " PROTO_VERSION " stream=%s",
	    p->stream);
	if (p->pace)
		n += snprintf(hello + n, sizeof(hello) - (size_t)n, " pace=1");
	if (p->min_subs > 0)
		snprintf(hello + n, sizeof(hello) - (size_t)n,
		    " min-subscribers=%llu", (unsigned long long)p->min_subs);
	for (;;) {
		sock = session_open(p->addr, hello, HELLO_WAIT, &reply);
		if (sock == -1 && io_stopped())
			stop();
		if (sock == -1)
			code = session_open_failure(errno, p->addr, msg,
			    sizeof(msg));
		else if (strcmp(reply.verb, "OK") != 0) {
			code = session_verdict(&reply, msg, sizeof(msg));
			close(sock);
			if (p->addr->kind == ADDR_TCP &&
			    (v = ctl_get(&reply, "reason")) != NULL &&
			    strcmp(v, "denied") == 0)
				snprintf(msg + strlen(msg), sizeof(msg) -
				    strlen(msg), " (publishing over TCP needs "
				    "sfd --publishers to name this host: tcp "
				    "or tcp:ADDR/PREFIX)");
		} else if ((code = await_ready(p, sock, msg, sizeof(msg))) ==
		    SF_EXIT_OK)
			break;
		else
			close(sock);
		/* Worth another try: no daemon yet, one gone, or a refusal
		 * for now; a refusal for good would only come again. */
		if (!p->retry ||
		    (code != SF_EXIT_CONNECT && code != SF_EXIT_GONE))
			cli_die(code, "%s", msg);
		if (wait_ms == BACKOFF_MIN)
			fprintf(stderr, "sfpipe: %s; retrying\n", msg);
		io_backoff(&wait_ms, BACKOFF_MAX);
		if (io_stopped())
			stop();
	}
	/* Never send what the daemon would refuse: use the smaller limit.
	 * The first daemon's limit stays: frames already cut to it must
	 * still be valid after a reconnect. */
	if (!p->connected_once && (v = ctl_get(&reply, "max-frame")) != NULL &&
	    num_parse(v, 0, UINT32_MAX, &daemon_max) == NULL &&
	    daemon_max < p->max_frame)
		p->max_frame = daemon_max;
	/* Room for a whole block in flight: fewer wake-ups each way.  Best
	 * effort: the kernel's default works too, only slower. */
	(void)setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &(int){ BLOCK },
	    sizeof(int));
	if (p->connected_once)
		fprintf(stderr, "sfpipe: reconnected to %s\n", p->addr->text);
	p->connected_once = 1;
	return sock;
}

/*
 * The daemon spoke or hung up.  A publisher only hears from it when it is
 * leaving: with --retry, connect again; otherwise say why and exit.
 */
static void
daemon_ended(struct pipe_state *p)
{
	char msg[512];
	struct ctl c;
	int code;

	if ((code = daemon_line(p, p->sock, &c, msg, sizeof(msg))) ==
	    SF_EXIT_OK)
		code = session_verdict(&c, msg, sizeof(msg));
	if (!p->retry || code != SF_EXIT_GONE)
		cli_die(code, "%s", msg);
	fprintf(stderr, "sfpipe: %s; reconnecting\n", msg);
	close(p->sock);
	p->sock = publish_session(p);
}

/*
 * Send the frames in p->out.  If the daemon goes away part way, the frame
 * it was in the middle of is sent again whole after a reconnect (--retry);
 * frames it had taken into its socket but not read are lost with it.
 */
static void
flush_out(struct pipe_state *p)
{
	size_t off, start, next;
	uint32_t len;
	int control;

	while (io_write_counted(p->sock, p->out, p->out_len, &off) == -1) {
		if (io_stopped())
			stop();
		if (errno != EPIPE && errno != ECONNRESET)
			cli_die(SF_EXIT_ERROR, "write to %s: %s", p->addr->text,
			    strerror(errno));
		for (start = 0; ; start = next) {
			frame_get_header(p->out + start, &len, &control);
			next = start + FRAME_HDR + len;
			if (next > off)
				break;
		}
		memmove(p->out, p->out + start, p->out_len - start);
		p->out_len -= start;
		daemon_ended(p);
	}
	p->out_len = 0;
}

static void
add_frame(struct pipe_state *p, const unsigned char *body, size_t len)
{
	if (p->out_cap - p->out_len < FRAME_HDR + len)
		flush_out(p);
	frame_put_header(p->out + p->out_len, (uint32_t)len, 0);
	memcpy(p->out + p->out_len + FRAME_HDR, body, len);
	p->out_len += FRAME_HDR + len;
}

/* The oversized record that was being discarded has ended. */
static void
skip_done(struct pipe_state *p)
{
	p->skipped++;
	if (p->strict) {
		flush_out(p);
		cli_die(SF_EXIT_SKIPPED,
		    "%s %llu: %llu bytes exceeds --max-frame "
		    "%llu; stopping (--strict)", unit_name[p->mode],
		    (unsigned long long)p->records,
		    (unsigned long long)p->skip_bytes,
		    (unsigned long long)p->max_frame);
	}
	fprintf(stderr, "sfpipe: %s %llu: %llu bytes exceeds --max-frame %llu, "
	    "skipped\n", unit_name[p->mode], (unsigned long long)p->records,
	    (unsigned long long)p->skip_bytes, (unsigned long long)p->max_frame);
	p->skip_bytes = 0;
}

/* Make frames of the delimited records in p->in; keep the partial one. */
static void
split_records(struct pipe_state *p, int eof)
{
	int delim = p->mode == MODE_NUL ? '\0' : '\n';
	unsigned char *start = p->in, *end = p->in + p->in_len, *d;
	size_t len;

	while (start < end || (eof && p->skip_bytes > 0)) {
		d = memchr(start, delim, (size_t)(end - start));
		if (d == NULL && !eof)
			break;
		len = (size_t)((d != NULL ? d : end) - start);
		if (p->skip_bytes == 0)
			p->records++;
		if (p->skip_bytes > 0 || len > p->max_frame) {
			p->skip_bytes += len;
			skip_done(p);
		} else {
			add_frame(p, start, len);
		}
		start = d != NULL ? d + 1 : end;
	}
	len = (size_t)(end - start);
	if (p->skip_bytes > 0 || len > p->max_frame) {
		/* Too long already: count it and drop it as it comes. */
		if (p->skip_bytes == 0)
			p->records++;
		p->skip_bytes += len;
		len = 0;
	}
	memmove(p->in, end - len, len);
	p->in_len = len;
}

/* Make frames of the whole frames in p->in (--raw). */
static void
split_frames(struct pipe_state *p, int eof)
{
	size_t off = 0, n;
	uint32_t len;
	int control;

	for (;;) {
		if (p->skip_left > 0) {
			n = p->in_len - off < p->skip_left ?
			    p->in_len - off : (size_t)p->skip_left;
			off += n;
			p->skip_left -= n;
			if (p->skip_left > 0)
				break;
			skip_done(p);
		}
		if (p->in_len - off < FRAME_HDR)
			break;
		frame_get_header(p->in + off, &len, &control);
		if (control)
			cli_die(SF_EXIT_ERROR,
			    "stdin: frame %llu: control bit set "
			    "in its header; --raw takes data frames only",
			    (unsigned long long)p->records + 1);
		if (len > p->max_frame) {
			p->records++;
			p->skip_bytes = len;
			p->skip_left = len;
			off += FRAME_HDR;
			continue;
		}
		if (p->in_len - off < FRAME_HDR + len)
			break;
		p->records++;
		add_frame(p, p->in + off + FRAME_HDR, len);
		off += FRAME_HDR + len;
	}
	if (eof && (off < p->in_len || p->skip_left > 0))
		cli_die(SF_EXIT_ERROR,
		    "stdin: frame %llu cut off by end of input; "
		    "not published", (unsigned long long)p->records +
		    (p->skip_left > 0 ? 0 : 1));
	memmove(p->in, p->in + off, p->in_len - off);
	p->in_len -= off;
}

/* Read stdin until it ends, publishing as we go. */
static void
pump(struct pipe_state *p)
{
	struct pollfd pfd[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = p->sock, .events = POLLIN },
	};
	ssize_t n;
	int eof = 0;

	while (!eof) {
		if (io_poll(pfd, 2, -1) == -1) {
			if (io_stopped())
				stop();
			cli_die(SF_EXIT_ERROR, "poll: %s", strerror(errno));
		}
		/* The daemon never talks to a publisher unless it is leaving. */
		if (pfd[1].revents != 0)
			daemon_ended(p);
		if (pfd[0].revents == 0)
			continue;
		n = io_read(STDIN_FILENO, p->in + p->in_len, p->in_cap - p->in_len);
		if (n == -1) {
			if (io_stopped())
				stop();
			if (errno == EAGAIN)
				continue;
			cli_die(SF_EXIT_ERROR, "stdin: %s", strerror(errno));
		}
		eof = n == 0;
		p->in_len += (size_t)n;
		if (p->mode == MODE_RAW)
			split_frames(p, eof);
		else
			split_records(p, eof);
		flush_out(p);
	}
}

enum { O_RAW = 256, O_MAXFRAME, O_STRICT, O_VERSION, O_EOS, O_RETRY,
    O_PACE, O_NOPACE, O_MINSUBS, O_TIMEOUT };
static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_VERSION },
	{ "raw", no_argument, NULL, O_RAW },
	{ "max-frame", required_argument, NULL, O_MAXFRAME },
	{ "strict", no_argument, NULL, O_STRICT },
	{ "eos", no_argument, NULL, O_EOS },
	{ "retry", no_argument, NULL, O_RETRY },
	{ "pace", no_argument, NULL, O_PACE },
	{ "no-pace", no_argument, NULL, O_NOPACE },
	{ "min-subscribers", required_argument, NULL, O_MINSUBS },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ NULL, 0, NULL, 0 }
};

/*
 * Take the option getopt_long(3) returned as ch (its value in optarg)
 * into p, or -s into *addr; exits on a usage error.
 */
static void
option(struct pipe_state *p, int ch, char *argv[], struct addr *addr,
    int *have_addr)
{
	const char *e;
	char msg[128];
	uint64_t v;

	switch (ch) {
	case '0':
	case O_RAW:
		if ((e = cli_mode(&p->mode, ch == '0' ? MODE_NUL :
		    MODE_RAW)) != NULL)
			cli_die(SF_EXIT_USAGE, "%s", e);
		break;
	case 'h':
		help();
	case O_VERSION:
		printf("sfpipe %s\n", SF_VERSION);
		exit(SF_EXIT_OK);
	case 's':
		if ((e = addr_parse(optarg, addr)) != NULL)
			cli_die(SF_EXIT_USAGE, "-s %s: %s", optarg, e);
		*have_addr = 1;
		break;
	case O_MAXFRAME:
		if ((e = num_parse_size(optarg, 0, 1 << 30, &p->max_frame)) !=
		    NULL)
			cli_die(SF_EXIT_USAGE, "--max-frame %s: %s", optarg, e);
		break;
	case O_STRICT:
		p->strict = 1;
		break;
	case O_EOS:
		p->eos = 1;
		break;
	case O_RETRY:
		p->retry = 1;
		break;
	case O_PACE:
	case O_NOPACE:
		p->pace = ch == O_PACE;
		break;
	case O_MINSUBS:
		/* The bound of sfd --max-clients. */
		if ((e = num_parse(optarg, 1, 1000000, &p->min_subs)) != NULL)
			cli_die(SF_EXIT_USAGE,
			    "--min-subscribers %s: %s", optarg, e);
		break;
	case O_TIMEOUT:
		if ((e = num_parse(optarg, 1, (uint64_t)86400 * 365,
		    &v)) != NULL)
			cli_die(SF_EXIT_USAGE, "--timeout %s: %s", optarg, e);
		p->timeout_ms = (long long)v * 1000;
		break;
	default:
		cli_die(SF_EXIT_USAGE, "%s",
		    cli_bad_option(ch, argv, msg, sizeof(msg)));
	}
}

/*
 * The command line into p, the daemon's address into addr; exits on a
 * usage error.  Pacing left to the default is settled here: on when
 * standard input is a regular file.
 */
static void
parse(int argc, char *argv[], struct pipe_state *p, struct addr *addr)
{
	const char *e;
	struct stat sb;
	char msg[128];
	int ch, have_addr = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":0hs:", longopts, NULL)) != -1)
		option(p, ch, argv, addr, &have_addr);
	if ((e = cli_operands(argc, argv, &p->stream, addr, have_addr, msg,
	    sizeof(msg))) != NULL)
		cli_die(SF_EXIT_USAGE, "%s", e);
	if (p->timeout_ms >= 0 && p->min_subs == 0)
		cli_die(SF_EXIT_USAGE, "--timeout needs --min-subscribers: "
		    "it bounds the wait for subscribers");
	/* A file can wait for slow subscribers; a live pipe cannot: holding
	 * it back would stall whatever feeds it. */
	if (p->pace == -1)
		p->pace = fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode);
}

int
main(int argc, char *argv[])
{
	struct pipe_state st = { .mode = MODE_LINES, .stream = STREAM_DEFAULT,
	    .max_frame = DEFAULT_MAX_FRAME, .pace = -1, .timeout_ms = -1 };
	struct pipe_state *p = &st;
	struct addr addr;
	int n;

	cli_setup("sfpipe", usage_text);
	parse(argc, argv, p, &addr);
	p->addr = &addr;
	if (cli_ignore_sigpipe() == -1 || io_catch_stop() == -1)
		cli_die(SF_EXIT_ERROR, "sigaction: %s", strerror(errno));

	p->in_cap = p->max_frame + FRAME_HDR > BLOCK ? p->max_frame + FRAME_HDR :
	    BLOCK;
	p->out_cap = BLOCK + FRAME_HDR + p->max_frame;
	if ((p->in = malloc(p->in_cap)) == NULL ||
	    (p->out = malloc(p->out_cap)) == NULL)
		cli_die(SF_EXIT_ERROR, "out of memory");

	io_grow_pipe(STDIN_FILENO, BLOCK);
	p->sock = publish_session(p);
	pump(p);
	if (p->eos) {
		n = ctl_frame(p->out, p->out_cap, "EOS");
		p->out_len = n > 0 ? (size_t)n : 0;
		flush_out(p);
	}

	free(p->in);
	free(p->out);
	if (close(p->sock) == -1)
		cli_die(SF_EXIT_ERROR, "close: %s", strerror(errno));
	if (p->skipped > 0)
		cli_die(SF_EXIT_SKIPPED, "skipped %llu of %llu records (over "
		    "--max-frame %llu)", (unsigned long long)p->skipped,
		    (unsigned long long)p->records,
		    (unsigned long long)p->max_frame);
	return 0;
}

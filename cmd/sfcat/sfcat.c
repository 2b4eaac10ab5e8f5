/*
 * sfcat: print the frames of a stream on stdout, one record each.
 *
 * The socket is read in large blocks and frames are parsed in place; each
 * payload and its terminator are copied into one output buffer that is
 * written whenever no more input is ready at once.  So a lone record shows
 * up immediately and a burst leaves in large writes: no stdio, and no
 * system call per record.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "ctl.h"
#include "frame.h"
#include "io.h"
#include "num.h"
#include "proto.h"
#include "session.h"

#define BLOCK       (1u << 20)
#define OUT_BLOCK   (256u << 10)
#define HELLO_WAIT  5000   /* ms for the daemon to answer the hello */

enum mode { MODE_LINES, MODE_NUL, MODE_RAW };

struct cat_state {
	enum mode mode;
	uint64_t count;          /* -n: records to print, 0 for no limit */
	uint64_t printed;
	uint32_t max_frame;      /* as the daemon announced */
	int sock;
	const struct addr *addr;

	unsigned char *in;
	size_t in_len, in_cap;
	unsigned char *out;
	size_t out_len, out_cap;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: sfcat [-s ADDR] [-0 | --raw] [-n COUNT] [STREAM]\n");
}

static void __attribute__((noreturn))
die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("sfcat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (code == SF_EXIT_USAGE)
		usage(stderr);
	exit(code);
}

/* Write out what is buffered.  A reader that went away (EPIPE) is the
 * normal end of `sfcat | head -1`: a quiet success. */
static void
flush_out(struct cat_state *c, const void *extra, size_t extra_len)
{
	if ((c->out_len > 0 && io_write_all(STDOUT_FILENO, c->out,
	    c->out_len) == -1) || (extra_len > 0 &&
	    io_write_all(STDOUT_FILENO, extra, extra_len) == -1)) {
		if (errno == EPIPE)
			exit(SF_EXIT_OK);
		die(SF_EXIT_ERROR, "stdout: %s", strerror(errno));
	}
	c->out_len = 0;
}

static void __attribute__((noreturn))
finish(struct cat_state *c, int code)
{
	flush_out(c, NULL, 0);
	if (close(STDOUT_FILENO) == -1 && errno != EPIPE)
		die(SF_EXIT_ERROR, "stdout: %s", strerror(errno));
	exit(code);
}

static void
print_record(struct cat_state *c, const unsigned char *frame, uint32_t len)
{
	static const unsigned char term[] = { '\n', '\0' };
	const unsigned char *p = frame + FRAME_HDR;
	size_t n = len;

	if (c->mode == MODE_RAW) {
		p = frame;
		n = FRAME_HDR + (size_t)len;
	}
	if (c->out_cap - c->out_len < n + 1)
		flush_out(c, NULL, 0);
	if (c->out_cap - c->out_len < n + 1) {
		/* Larger than the whole buffer: straight out. */
		flush_out(c, p, n);
	} else {
		memcpy(c->out + c->out_len, p, n);
		c->out_len += n;
	}
	if (c->mode != MODE_RAW)
		c->out[c->out_len++] = term[c->mode == MODE_NUL];
	if (++c->printed == c->count)
		finish(c, SF_EXIT_OK);
}

/* A control frame from the daemon: it is leaving us, and says why. */
static void __attribute__((noreturn))
control(struct cat_state *c, const struct frame *f)
{
	char msg[256];
	struct ctl m;
	int code;

	flush_out(c, NULL, 0);
	if (ctl_parse(&m, f->data, f->len) == -1)
		die(SF_EXIT_PROTOCOL, "sfd sent a malformed control frame");
	code = session_verdict(&m, msg, sizeof(msg));
	fprintf(stderr, "sfcat: %s\n", msg);
	finish(c, code);
}

/* Print the complete frames in c->in, keep the partial one. */
static void
consume(struct cat_state *c)
{
	size_t off = 0;
	struct frame f;
	ssize_t k;

	while ((k = frame_decode(c->in + off, c->in_len - off, c->max_frame,
	    &f)) > 0) {
		if (f.control)
			control(c, &f);
		print_record(c, c->in + off, f.len);
		off += (size_t)k;
	}
	if (k == -1) {
		flush_out(c, NULL, 0);
		die(SF_EXIT_PROTOCOL, "sfd sent a frame of %lu bytes, over its "
		    "max-frame %lu", (unsigned long)f.len,
		    (unsigned long)c->max_frame);
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

static void
pump(struct cat_state *c)
{
	struct pollfd pfd = { .fd = c->sock, .events = POLLIN };
	ssize_t n;

	for (;;) {
		n = io_read(c->sock, c->in + c->in_len, c->in_cap - c->in_len);
		if (n == -1 && errno == EAGAIN) {
			/* Nothing more right now: the reader gets it all. */
			flush_out(c, NULL, 0);
			if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
				die(SF_EXIT_ERROR, "poll: %s", strerror(errno));
			continue;
		}
		if (n == -1 && errno != ECONNRESET)
			die(SF_EXIT_ERROR, "read from %s: %s", c->addr->text,
			    strerror(errno));
		if (n <= 0) {
			flush_out(c, NULL, 0);
			fprintf(stderr, "sfcat: lost connection to %s\n",
			    c->addr->text);
			finish(c, SF_EXIT_GONE);
		}
		c->in_len += (size_t)n;
		consume(c);
	}
}

int
main(int argc, char *argv[])
{
	enum { O_RAW = 256, O_VERSION };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ "raw", no_argument, NULL, O_RAW },
		{ NULL, 0, NULL, 0 }
	};
	struct cat_state st = { .mode = MODE_LINES };
	struct cat_state *c = &st;
	const char *stream = STREAM_DEFAULT, *e, *v;
	char hello[128], msg[512];
	struct sigaction sa;
	struct addr addr;
	struct ctl reply;
	uint64_t max;
	int ch, have_addr = 0, code;

	while ((ch = getopt_long(argc, argv, "0hn:s:", longopts, NULL)) != -1) {
		switch (ch) {
		case '0':
			if (c->mode == MODE_RAW)
				die(SF_EXIT_USAGE, "-0 and --raw exclude each other");
			c->mode = MODE_NUL;
			break;
		case O_RAW:
			if (c->mode == MODE_NUL)
				die(SF_EXIT_USAGE, "-0 and --raw exclude each other");
			c->mode = MODE_RAW;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case O_VERSION:
			printf("sfcat %s\n", SF_VERSION);
			return 0;
		case 'n':
			if ((e = num_parse(optarg, 1, UINT64_MAX, &c->count))
			    != NULL)
				die(SF_EXIT_USAGE, "-n %s: %s", optarg, e);
			break;
		case 's':
			if ((e = addr_parse(optarg, &addr)) != NULL)
				die(SF_EXIT_USAGE, "-s %s: %s", optarg, e);
			have_addr = 1;
			break;
		default:
			usage(stderr);
			return SF_EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		die(SF_EXIT_USAGE, "one STREAM at most");
	if (optind < argc)
		stream = argv[optind];
	if (!proto_stream_valid(stream))
		die(SF_EXIT_USAGE, "bad stream name \"%s\": use 1 to 64 of "
		    "A-Z a-z 0-9 . _ -", stream);
	if (!have_addr && (e = addr_default(&addr)) != NULL)
		die(SF_EXIT_USAGE, "default address: %s", e);
	c->addr = &addr;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		die(SF_EXIT_ERROR, "sigaction: %s", strerror(errno));

	snprintf(hello, sizeof(hello), "SUB " PROTO_VERSION " stream=%s", stream);
	if ((c->sock = session_open(&addr, hello, HELLO_WAIT, &reply)) == -1) {
		code = session_open_failure(errno, &addr, msg, sizeof(msg));
		die(code, "%s", msg);
	}
	if (strcmp(reply.verb, "OK") != 0) {
		code = session_verdict(&reply, msg, sizeof(msg));
		die(code, "%s", msg);
	}
	if ((v = ctl_get(&reply, "max-frame")) == NULL ||
	    num_parse(v, 0, FRAME_LEN_MASK - FRAME_HDR, &max) != NULL)
		die(SF_EXIT_PROTOCOL, "sfd announced no valid max-frame");
	c->max_frame = (uint32_t)max;
	if (io_set_nonblock(c->sock) == -1)
		die(SF_EXIT_ERROR, "fcntl: %s", strerror(errno));

	c->in_cap = max + FRAME_HDR > BLOCK ? max + FRAME_HDR : BLOCK;
	c->out_cap = OUT_BLOCK;
	if ((c->in = malloc(c->in_cap)) == NULL ||
	    (c->out = malloc(c->out_cap)) == NULL)
		die(SF_EXIT_ERROR, "out of memory");
	pump(c);
}

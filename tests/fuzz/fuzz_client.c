/*
 * The daemon's per-client state machine, whole: a server set up as
 * sfd.c's main() does (small ring), driven one loop turn at a time as
 * sfd.c's run() does, with three connections over socketpairs:
 *
 *   F  the fuzzed one: sends the input's stream bytes, in chunks
 *   B  a well-behaved publisher on "default" (bulk frames on request)
 *   S  a subscriber of "default" (joins, lags, rejoins on request)
 *
 * Input: [cfg] [L] [L schedule bytes] [F's stream bytes ...]
 *
 *   cfg bits 0-2  S's hello (see sub_hello[])
 *            3    --max-lag 1k instead of 256k (--lag-time 1)
 *            4    --max-frame 300k (more than a publisher's read buffer)
 *                 instead of 64k
 *            5    --max-streams 1 instead of 64
 *            6    a small send buffer for S, so it blocks and lags
 *            7    S does not read until told to
 *
 *   Each schedule byte is an operation followed by one loop turn; the
 *   schedule repeats while F has bytes left and it sends some:
 *     0x00 | n   F sends n + 1 more bytes of its stream
 *     0x20 | n   F sends (n + 1) * 64 more bytes
 *     0x40 | n   B sends a data frame of (n + 1) / 32 of --max-frame
 *     0x60 | n   B sends n + 1 small data frames (n == 31: an EOS)
 *     0x80 | n   n & 1: S stops or resumes reading; n & 2: S hangs up and
 *                a new S says hello (n >> 2 & 7)
 *     0xa0 | n   the clock jumps (n + 1) * 250 ms ahead
 *     0xc0 | n   n + 1 more loop turns
 *     0xe0 | n   n & 1: F stops or resumes reading; n & 2: F shuts down
 *                its sending side; n & 4: F hangs up
 *
 * What each connection receives must be a well-formed conversation: an
 * OK or ERR first, nothing after an ERR or BYE, whole frames of allowed
 * sizes, control lines that parse, sequence numbers that follow from OK,
 * SKIP and EOS (and match BYE), and every data frame identical to the
 * ring's frame of that number while the ring still holds it.  B must never
 * be refused or dropped.  The server's lists and counts must agree.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "frame.h"
#include "fuzz.h"
#include "io.h"
#include "log.h"
#include "num.h"
#include "proto.h"
#include "ring.h"
#include "server.h"
#include "sfd.h"
#include "stream.h"

#define MAX_STEPS    4096           /* loop turns per input */
#define MAX_BULK     (6u << 20)     /* bytes B may send per input */
#define QUIET_TURNS  64             /* turns to let things settle */

static const char *const sub_hello[8] = {
	"SUB 1 stream=default",
	"SUB 1 stream=default on-lag=skip",
	"SUB 1 stream=default from=oldest",
	"SUB 1 stream=default from=oldest on-lag=skip",
	"SUB 1 stream=default from=-3 max-lag=4096",
	"SUB 1 stream=default from=1 on-lag=skip max-lag=20000",
	"SUB 1 stream=default from=-100000 epoch=0000000000000000",
	"SUB 1 stream=default from=5 on-lag=disconnect",
};

/* Our end of one connection: what we still have to send, and what we
 * received and have not yet checked. */
struct conn {
	const char *name;
	int fd;                  /* -1 once closed */
	int wr_shut;             /* we stopped sending */
	int reading;             /* drain it after each turn */
	unsigned char *out;
	size_t out_len, out_cap;
	unsigned char *in;
	size_t in_len, in_cap;
	/* The conversation so far. */
	int answered;            /* got OK or ERR */
	int ok;                  /* got OK */
	int done;                /* got ERR or BYE: nothing may follow */
	int shared;              /* a shared reader: it reads the ring, we
	                            only see where sfd says it stands */
	uint64_t seq;            /* number of the next data frame */
	char stream[STREAM_NAME_MAX + 1];
	uint64_t frames, compared;  /* data frames got; checked in the ring */
};

struct harness {
	struct server s;
	long long skew;          /* ms the clock was moved ahead */
	struct conn f, b, sub;
	uint64_t bulk;           /* bytes B was asked to send */
	uint64_t bframes;        /* frames B sent, for their contents */
	unsigned steps;          /* loop turns so far */
	int progress;            /* bytes moved in the last step */
};

static void
grow(unsigned char **buf, size_t *cap, size_t need)
{
	unsigned char *p;
	size_t n = *cap > 0 ? *cap : 256;

	if (need <= *cap)
		return;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	FUZZ_CHECK(p != NULL);
	*buf = p;
	*cap = n;
}

static void
queue(struct conn *c, const void *p, size_t n)
{
	if (c->fd == -1 || c->wr_shut || n == 0)
		return;
	grow(&c->out, &c->out_cap, c->out_len + n);
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

static void
queue_ctl(struct conn *c, const char *line)
{
	unsigned char buf[FRAME_HDR + FRAME_CTL_MAX];
	int n;

	n = ctl_frame(buf, sizeof(buf), "%s", line);
	FUZZ_CHECK(n > 0);
	queue(c, buf, (size_t)n);
}

static void
conn_close(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->out_len = 0;
}

static void
conn_free(struct conn *c)
{
	if (c->name != NULL && getenv("FUZZ_SFD_LOG") != NULL)
		fprintf(stderr, "fuzz: %s: %s, %s, %llu data frames (%llu "
		    "checked against the ring), next seq %llu\n", c->name,
		    c->fd == -1 ? "closed" : "open", !c->answered ?
		    "no answer" : c->ok ? "answered OK" : "refused",
		    (unsigned long long)c->frames,
		    (unsigned long long)c->compared,
		    (unsigned long long)c->seq);
	conn_close(c);
	free(c->out);
	free(c->in);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* A new connection to the daemon; returns our end. */
static void
conn_open(struct harness *h, struct conn *c, const char *name, int small_buf)
{
	int sv[2], sz = 1;   /* the kernel makes it its minimum */

	conn_free(c);
	c->name = name;
	c->reading = 1;
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv) == 0);
	if (small_buf)
		(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz,
		    sizeof(sz));
	c->fd = sv[1];
	/* As in server_turn(): accepting happens in a turn, clock read. */
	h->s.now = h->s.clock();
	(void)client_accept(&h->s, sv[0], 0);
}

/* Send what is queued, as far as the socket takes it. */
static void
conn_write(struct harness *h, struct conn *c)
{
	ssize_t n;

	while (c->fd != -1 && !c->wr_shut && c->out_len > 0) {
		n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			/* The daemon closed it (EPIPE, ECONNRESET). */
			c->out_len = 0;
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
		h->progress = 1;
	}
}

static struct stream *
find_stream(struct server *s, const char *name)
{
	struct stream *st;

	TAILQ_FOREACH(st, &s->streams, link)
		if (strcmp(st->name, name) == 0)
			return st;
	return NULL;
}

static uint64_t
arg_num(const struct ctl *m, const char *key)
{
	const char *v = ctl_get(m, key);
	uint64_t n = 0;

	FUZZ_CHECK(v != NULL);
	FUZZ_CHECK(num_parse(v, 0, UINT64_MAX, &n) == NULL);
	return n;
}

/* A control line from the daemon, in the conversation so far. */
static void
got_control(struct harness *h, struct conn *c, const struct frame *f)
{
	const char *name;
	struct ctl m;

	FUZZ_CHECK(ctl_parse(&m, f->data, f->len) == 0);
	FUZZ_CHECK(!c->done);
	if (!c->answered) {
		c->answered = 1;
		if (strcmp(m.verb, "ERR") == 0) {
			FUZZ_CHECK(ctl_get(&m, "reason") != NULL);
			c->done = 1;
			return;
		}
		FUZZ_CHECK(strcmp(m.verb, "OK") == 0);
		name = ctl_get(&m, "stream");
		FUZZ_CHECK(name != NULL && proto_stream_valid(name));
		FUZZ_CHECK(find_stream(&h->s, name) != NULL);
		snprintf(c->stream, sizeof(c->stream), "%s", name);
		FUZZ_CHECK(ctl_get(&m, "epoch") != NULL);
		FUZZ_CHECK(strcmp(ctl_get(&m, "epoch"),
		    find_stream(&h->s, name)->epoch) == 0);
		FUZZ_CHECK(arg_num(&m, "max-frame") == h->s.cfg.max_frame);
		c->seq = arg_num(&m, "seq");
		c->ok = 1;
		if (ctl_get(&m, "shared") != NULL) {
			/* Only on a Unix socket here, with where it starts. */
			FUZZ_CHECK(arg_num(&m, "shared") == 1);
			FUZZ_CHECK(arg_num(&m, "pos") <=
			    ring_head(find_stream(&h->s, name)->ring));
			c->shared = 1;
		}
		return;
	}
	FUZZ_CHECK(c->ok);
	if (c->shared && strcmp(m.verb, "WAKE") == 0)
		return;
	/* Numbers follow on from what it was sent; a shared reader's also
	 * from its reports, which we do not follow: never backwards. */
	if (strcmp(m.verb, "SKIP") == 0) {
		FUZZ_CHECK(c->shared ? arg_num(&m, "seq") >= c->seq :
		    arg_num(&m, "seq") == c->seq);
		FUZZ_CHECK(arg_num(&m, "count") > 0);
		if (c->shared)
			FUZZ_CHECK(arg_num(&m, "pos") <= ring_head(
			    find_stream(&h->s, c->stream)->ring));
		c->seq = arg_num(&m, "seq") + arg_num(&m, "count");
	} else if (strcmp(m.verb, "EOS") == 0) {
		FUZZ_CHECK(c->shared ? arg_num(&m, "seq") >= c->seq :
		    arg_num(&m, "seq") == c->seq);
	} else if (strcmp(m.verb, "BYE") == 0) {
		FUZZ_CHECK(ctl_get(&m, "reason") != NULL);
		if (strcmp(ctl_get(&m, "reason"), "lag") == 0)
			FUZZ_CHECK(c->shared ? arg_num(&m, "seq") >= c->seq :
			    arg_num(&m, "seq") == c->seq);
		c->done = 1;
	} else {
		FUZZ_CHECK(strcmp(m.verb, "ERR") == 0);
		FUZZ_CHECK(ctl_get(&m, "reason") != NULL);
		c->done = 1;
	}
}

/* A data frame: the next one after OK, as the ring has it. */
static void
got_data(struct harness *h, struct conn *c, const unsigned char *p,
    const struct frame *f)
{
	struct stream *st;
	uint64_t pos;
	uint32_t len;
	int control;

	FUZZ_CHECK(c->ok && !c->done && !c->shared);
	st = find_stream(&h->s, c->stream);
	FUZZ_CHECK(st != NULL);
	FUZZ_CHECK(c->seq < ring_head_seq(st->ring));
	/* Where a reader from this seq starts, past any control frames:
	 * the data frame itself, unless the ring has let it go. */
	if (ring_find(st->ring, c->seq, &pos) == 0) {
		while (ring_at(st->ring, pos)[0] & 0x80) {
			frame_get_header(ring_at(st->ring, pos), &len, &control);
			pos += FRAME_HDR + len;
		}
		FUZZ_CHECK(pos < ring_head(st->ring));
		FUZZ_CHECK(memcmp(ring_at(st->ring, pos), p,
		    FRAME_HDR + f->len) == 0);
		c->compared++;
	}
	c->frames++;
	c->seq++;
}

/* Read what the daemon sent and check every whole frame. */
static void
conn_read(struct harness *h, struct conn *c)
{
	struct frame f;
	size_t off = 0;
	ssize_t n, k;

	while (c->fd != -1) {
		grow(&c->in, &c->in_cap, c->in_len + 65536);
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* Closed by the daemon.  Whatever came last, nothing
			 * may have followed a goodbye. */
			conn_close(c);
			break;
		}
		c->in_len += (size_t)n;
		h->progress = 1;
	}
	while (off < c->in_len) {
		k = frame_decode(c->in + off, c->in_len - off,
		    (uint32_t)h->s.cfg.max_frame, &f);
		FUZZ_CHECK(k != -1);
		if (k == 0)
			break;
		if (f.control)
			got_control(h, c, &f);
		else
			got_data(h, c, c->in + off, &f);
		off += (size_t)k;
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	FUZZ_CHECK(!c->done || c->in_len == 0);
}

/* The server's own bookkeeping agrees with itself. */
static void
check_server(struct server *s)
{
	struct client *c;
	struct stream *st;
	uint64_t n = 0;
	unsigned subs, pubs, held;
	uint64_t all_held = 0;

	TAILQ_FOREACH(c, &s->clients, link) {
		FUZZ_CHECK(c->state != CS_CLOSED && c->w.fd != -1);
		n++;
	}
	FUZZ_CHECK(n == s->nclients);
	n = 0;
	TAILQ_FOREACH(c, &s->ready, rlink)
		n++;
	FUZZ_CHECK(n == s->nready);
	/* Every decision was acted on before the turn ended. */
	FUZZ_CHECK(TAILQ_EMPTY(&s->pending));
	n = 0;
	TAILQ_FOREACH(st, &s->streams, link) {
		subs = pubs = 0;
		TAILQ_FOREACH(c, &st->subs, slink) {
			FUZZ_CHECK(c->role == ROLE_SUB && c->stream == st);
			FUZZ_CHECK(c->sub.pos <= ring_head(st->ring));
			/* Only one finishing a frame may fall further behind
			 * than the ring holds (it is closed, or keeps that
			 * frame's rest aside). */
			FUZZ_CHECK(c->state == CS_DEPARTING ||
			    c->state == CS_FINISHING || c->sub.cut == CUT_TORN ||
			    ring_head(st->ring) - c->sub.pos <=
			    ring_size(st->ring));
			subs++;
		}
		held = 0;
		TAILQ_FOREACH(c, &st->pubs, slink) {
			FUZZ_CHECK(c->role == ROLE_PUB && c->stream == st);
			pubs++;
			held += c->state == CS_HELD;
		}
		FUZZ_CHECK(subs == st->nsubs && pubs == st->npubs);
		/* The counts kept by client_set_state() match the states. */
		FUZZ_CHECK(held == st->nheld);
		all_held += held;
		n++;
	}
	FUZZ_CHECK(n == s->nstreams && n <= s->cfg.max_streams);
	FUZZ_CHECK(all_held == s->nheld);
}

/* The daemon's clock: the real one, moved ahead by the schedule. */
static struct harness *clocked;

static long long
skewed_clock(void)
{
	return io_now_ms() + clocked->skew;
}

/* One turn of the daemon's own loop, without waiting. */
static void
turn(struct harness *h)
{
	FUZZ_CHECK(server_turn(&h->s, 0) == 0);
}

/* Our sends, one turn, our reads, the checks. */
static void
step(struct harness *h)
{
	h->steps++;
	h->progress = 0;
	conn_write(h, &h->b);
	conn_write(h, &h->sub);
	conn_write(h, &h->f);
	turn(h);
	conn_read(h, &h->b);
	if (h->sub.reading)
		conn_read(h, &h->sub);
	if (h->f.reading)
		conn_read(h, &h->f);
	check_server(&h->s);
	/* B only publishes well-formed frames: it must stay welcome. */
	FUZZ_CHECK(h->b.fd != -1 && !h->b.done);
}

static void
b_data(struct harness *h, uint32_t len)
{
	unsigned char hdr[FRAME_HDR], *body;

	if (h->bulk + len > MAX_BULK)
		return;
	h->bulk += len;
	if ((body = malloc(len + 1)) == NULL)
		return;
	/* Frames differ from each other (a byte loop here would cost more
	 * than the daemon does, under coverage instrumentation). */
	memset(body, (int)(h->bframes % 251), len);
	if (len >= sizeof(h->bframes))
		memcpy(body, &h->bframes, sizeof(h->bframes));
	frame_put_header(hdr, len, 0);
	queue(&h->b, hdr, sizeof(hdr));
	queue(&h->b, body, len);
	free(body);
	h->bframes++;
}

static void
sub_join(struct harness *h, int variant, int small_buf, int reading)
{
	conn_open(h, &h->sub, "S", small_buf);
	h->sub.reading = reading;
	queue_ctl(&h->sub, sub_hello[variant & 7]);
}

/* Carry out one schedule byte; F's next bytes are at *fp. */
static void
operate(struct harness *h, uint8_t op, const uint8_t **fp, size_t *fleft,
    int small_buf)
{
	unsigned arg = op & 31;
	size_t n;
	unsigned i;

	switch (op >> 5) {
	case 0:
	case 1:
		n = op >> 5 == 0 ? arg + 1 : (arg + 1) * 64;
		if (n > *fleft)
			n = *fleft;
		queue(&h->f, *fp, n);
		*fp += n;
		*fleft -= n;
		break;
	case 2:
		b_data(h, (uint32_t)(h->s.cfg.max_frame * (arg + 1) / 32));
		break;
	case 3:
		if (arg == 31) {
			queue_ctl(&h->b, "EOS");
			break;
		}
		for (i = 0; i <= arg; i++)
			b_data(h, (uint32_t)((h->bframes * 37) % 200));
		break;
	case 4:
		if (arg & 1)
			h->sub.reading = !h->sub.reading;
		if (arg & 2)
			sub_join(h, (int)(arg >> 2), small_buf, h->sub.reading);
		break;
	case 5:
		h->skew += 250 * (long long)(arg + 1);
		break;
	case 6:
		for (i = 0; i < arg; i++)
			step(h);
		break;
	case 7:
		if (arg & 1)
			h->f.reading = !h->f.reading;
		if ((arg & 2) && h->f.fd != -1 && !h->f.wr_shut) {
			(void)shutdown(h->f.fd, SHUT_WR);
			h->f.wr_shut = 1;
			h->f.out_len = 0;
		}
		if (arg & 4)
			conn_close(&h->f);
		break;
	}
	step(h);
}

static void
setup(struct harness *h, uint8_t cfg)
{
	struct server *s = &h->s;

	struct config c = { 0 };

	memset(h, 0, sizeof(*h));
	h->f.fd = h->b.fd = h->sub.fd = -1;
	c.ring = 1u << 20;
	c.max_lag = cfg & 0x08 ? 1u << 10 : 256u << 10;
	c.max_frame = cfg & 0x10 ? 300u << 10 : 64u << 10;
	c.max_clients = 1024;
	c.max_streams = cfg & 0x20 ? 1 : 64;
	c.grace_ms = 2000;
	c.hello_ms = 5000;
	c.lag_ms = 1000;
	c.stall_ms = 1000;
	/* As sfd.c insists: a subscriber within --max-lag survives an
	 * append. */
	FUZZ_CHECK(c.max_lag + c.max_frame + APPEND_MAX <= c.ring);
	FUZZ_CHECK(server_init(s, &c) == 0);
	clocked = h;
	s->clock = skewed_clock;

	conn_open(h, &h->b, "B", 0);
	queue_ctl(&h->b, "PUB 1 stream=default");
	step(h);
	FUZZ_CHECK(h->b.ok);
	sub_join(h, cfg & 7, (cfg & 0x40) != 0, (cfg & 0x80) == 0);
	step(h);
	conn_open(h, &h->f, "F", 0);
}

/* As sfd.c's cleanup(): every client closed and freed, every stream. */
static void
teardown(struct harness *h)
{
	server_free(&h->s);
	conn_free(&h->f);
	conn_free(&h->b);
	conn_free(&h->sub);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *v = getenv("FUZZ_SFD_LOG");

	(void)argc;
	(void)argv;
	/* The daemon ignores SIGPIPE and so must we: it writes to peers
	 * that may be gone. */
	signal(SIGPIPE, SIG_IGN);
	/* Quiet unless asked (FUZZ_SFD_LOG=debug to follow a reproducer):
	 * only the daemon's own trouble is shown. */
	log_set_level(v != NULL && strcmp(v, "debug") == 0 ? LOG_DEBUG :
	    LOG_ERROR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct fuzz_in in = { data, size };
	const uint8_t *sched, *fp;
	size_t nsched, fleft, i;
	uint8_t cfg;
	int sends = 0;

	cfg = fuzz_byte(&in);
	nsched = fuzz_byte(&in);
	if (nsched > in.left)
		nsched = in.left;
	sched = in.p;
	fp = in.p + nsched;
	fleft = in.left - nsched;
	for (i = 0; i < nsched; i++)
		sends |= sched[i] >> 6 == 0;

	setup(&h, cfg);
	/* The schedule once, then again while it keeps F sending. */
	for (i = 0; i < nsched && h.steps < MAX_STEPS; i++) {
		operate(&h, sched[i], &fp, &fleft, (cfg & 0x40) != 0);
		if (i + 1 == nsched && sends && fleft > 0)
			i = (size_t)-1;
	}
	if (fleft > 0) {
		queue(&h.f, fp, fleft);
		step(&h);
	}
	for (i = 0; i < QUIET_TURNS; i++) {
		step(&h);
		if (!h.progress && h.s.nready == 0 && h.b.out_len == 0)
			break;
	}
	teardown(&h);
	return 0;
}

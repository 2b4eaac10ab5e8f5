/*
 * sfctl: see and steer a running sfd over its control role (CTL 1, see
 * sf-protocol(7), Control).
 *
 * Answers come as control lines, one per stream and one per client; each
 * is printed as it arrives (a table row, or a JSON object), so sfctl
 * holds one line at a time however many clients the daemon has.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "ctl.h"
#include "frame.h"
#include "io.h"
#include "num.h"
#include "proto.h"
#include "session.h"

#define REPLY_MS     10000   /* for each line of an answer */
#define NOTE_MAX     64      /* --reason */
#define WIDTH        80
#define INTERVAL     2       /* watch --interval by default, seconds */
#define INTERVAL_MAX 3600

static const char usage_text[] =
    "usage: sfctl [-s ADDR] [--json] stats | streams\n"
    "       sfctl [-s ADDR] watch [--interval SECONDS]\n"
    "       sfctl [-s ADDR] kick ID [--reason TEXT]\n";

/* --help: each option with its default, then the exit statuses.  Lines
 * fit 80 columns; the option lines are what tests/bats/docs.bats reads. */
static void __attribute__((noreturn))
help(void)
{
	cli_help(
	    "Commands:\n"
	    "  stats                     the daemon, its streams and clients, "
	    "as a table\n"
	    "  streams                   one line for each stream\n"
	    "  watch                     a line of totals every --interval, "
	    "until stopped\n"
	    "  kick ID                   cut client ID off (an ID from "
	    "sfctl stats)\n"
	    "\n"
	    "Connection:\n"
	    "  -s ADDR                   the daemon's address [default: see "
	    "below]\n"
	    "\n"
	    "Command options:\n"
	    "  --json                    stats, streams: one JSON document "
	    "[default: text]\n"
	    "  --interval SECONDS        watch: how often, 1 to %d "
	    "[default: %d]\n"
	    "  --reason TEXT             kick: why, in one word "
	    "[default: none]\n"
	    "\n"
	    "Other:\n"
	    "  -h, --help                print this help and exit\n"
	    "  --version                 print the version and exit\n"
	    "\n"
	    "ADDR is a socket path, unix:PATH, tcp:HOST:PORT or "
	    "tcp:[V6ADDR]:PORT; the\n"
	    "default is $SF_SERVER, else $XDG_RUNTIME_DIR/streamfan.sock, "
	    "else\n"
	    "/tmp/streamfan-UID.sock.\n"
	    "\n"
	    "Exit status:\n"
	    "  %-5d  done; or watch stopped by a signal, or stdout gone\n"
	    "  %-5d  local error (writing standard output); kick: no such "
	    "client\n"
	    "  %-5d  usage error\n"
	    "  %-5d  cannot connect, or refused for now: sfd is full; try "
	    "again later\n"
	    "  %-5d  sfd shut down or the connection was lost\n"
	    "  %-5d  refused for good (denied), no answer in time, or one "
	    "not understood\n",
	    INTERVAL_MAX, INTERVAL, SF_EXIT_OK, SF_EXIT_ERROR, SF_EXIT_USAGE,
	    SF_EXIT_CONNECT, SF_EXIT_GONE, SF_EXIT_PROTOCOL);
}

/*
 * The keys of each kind of line, in the order --json writes them.  These
 * are the documented names (sfctl(1)); a key the daemon did not send is
 * written null.  S: a string, N: a number.
 */
struct key {
	const char *name;
	char type;
};

static const struct key daemon_keys[] = {
	{ "pid", 'N' }, { "version", 'S' }, { "clients", 'N' },
	{ "streams", 'N' }, { "uptime_seconds", 'N' }, { NULL, 0 }
};
static const struct key stream_keys[] = {
	{ "name", 'S' }, { "epoch", 'S' }, { "head_seq", 'N' },
	{ "ring_bytes", 'N' }, { "fill_bytes", 'N' }, { "publishers", 'N' },
	{ "subscribers", 'N' }, { "records_in", 'N' }, { "bytes_in", 'N' },
	{ "evicted_lag", 'N' }, { "evicted_slow", 'N' },
	{ "evicted_kicked", 'N' }, { "evicted_shutdown", 'N' },
	{ "paced_waits", 'N' }, { "age_seconds", 'N' }, { NULL, 0 }
};
static const struct key client_keys[] = {
	{ "id", 'N' }, { "role", 'S' }, { "pid", 'N' }, { "uid", 'N' },
	{ "peer", 'S' }, { "stream", 'S' }, { "state", 'S' },
	{ "lag_bytes", 'N' }, { "lag_share", 'N' }, { "ring_bytes", 'N' },
	{ "frames_sent", 'N' }, { "bytes_sent", 'N' },
	{ "frames_skipped", 'N' }, { "frames_in", 'N' }, { "bytes_in", 'N' },
	{ "idle_seconds", 'N' }, { "connected_seconds", 'N' },
	{ "shared", 'N' }, { NULL, 0 }
};

enum cmd { CMD_STATS, CMD_STREAMS, CMD_WATCH, CMD_KICK };

struct opts {
	struct addr addr;
	enum cmd cmd;
	int json;
	uint64_t interval;       /* watch, seconds */
	uint64_t id;             /* kick */
	const char *reason;      /* kick --reason, NULL for none */
};

/* What a watch line sums up. */
struct totals {
	uint64_t clients, pubs, subs, behind, streams, records, evicted;
};

static int sock = -1;

/* A failed write to stdout: EPIPE is a reader gone away, a quiet end. */
static void
out_check(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			exit(SF_EXIT_OK);
		cli_die(SF_EXIT_ERROR, "stdout: %s", strerror(errno));
	}
}

/* 1 if v is a number as the daemon writes them: digits, maybe a point
 * and more digits. */
static int
numeric(const char *v)
{
	const char *p = v;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p == v)
		return 0;
	if (*p == '.') {
		if (!(p[1] >= '0' && p[1] <= '9'))
			return 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	return *p == '\0';
}

static void
json_string(const char *v)
{
	putchar('"');
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			putchar('\\');
		if ((unsigned char)*v < 0x20)
			printf("\\u%04x", (unsigned char)*v);
		else
			putchar(*v);
	}
	putchar('"');
}

/* The share of the ring a client's lag is, 0 to 1, as text. */
static void
lag_share(const struct ctl *c, char *buf, size_t cap)
{
	const char *l = ctl_get(c, "lag_bytes"), *r = ctl_get(c, "ring_bytes");
	uint64_t lag, ring;

	if (l == NULL || r == NULL || num_parse(l, 0, UINT64_MAX, &lag) !=
	    NULL || num_parse(r, 0, UINT64_MAX, &ring) != NULL || ring == 0)
		snprintf(buf, cap, "0");
	else
		snprintf(buf, cap, "%.4f", (double)lag / (double)ring);
}

static void
json_object(const struct ctl *c, const struct key *keys)
{
	char share[32];
	const char *v;
	int i;

	putchar('{');
	for (i = 0; keys[i].name != NULL; i++) {
		v = ctl_get(c, keys[i].name);
		if (strcmp(keys[i].name, "lag_share") == 0) {
			lag_share(c, share, sizeof(share));
			v = share;
		}
		printf("%s\"%s\":", i > 0 ? "," : "", keys[i].name);
		if (v == NULL || (keys[i].type == 'S' && strcmp(v, "-") == 0))
			fputs("null", stdout);
		else if (keys[i].type == 'N' && numeric(v))
			fputs(v, stdout);
		else
			json_string(v);
	}
	putchar('}');
}

static uint64_t
num_of(const struct ctl *c, const char *key)
{
	const char *v = ctl_get(c, key);
	uint64_t n;

	if (v == NULL || num_parse(v, 0, UINT64_MAX, &n) != NULL)
		return 0;
	return n;
}

/* Seconds (with decimals) as a short duration: 42s, 17m, 5h, 3d. */
static const char *
short_time(const struct ctl *c, const char *key, char *buf, size_t cap)
{
	const char *v = ctl_get(c, key);
	unsigned long long s = v != NULL ? strtoull(v, NULL, 10) : 0;

	if (s < 100)
		snprintf(buf, cap, "%llus", s);
	else if (s < 6000ULL)
		snprintf(buf, cap, "%llum", s / 60);
	else if (s < 360000ULL)
		snprintf(buf, cap, "%lluh", s / 3600);
	else
		snprintf(buf, cap, "%llud", s / 86400);
	return buf;
}

/* A count or a size in at most 5 columns: 999, 12.3k, 512K, 1.5M. */
static const char *
short_num(uint64_t n, int bytes, char *buf, size_t cap)
{
	static const char units[] = "kMGTPE", bunits[] = "KMGTPE";
	double base = bytes ? 1024 : 1000, v = (double)n / base;
	int u = 0;

	if (n < 1000) {
		snprintf(buf, cap, "%llu", (unsigned long long)n);
		return buf;
	}
	while (v >= 999.5 && u < 5) {
		v /= base;
		u++;
	}
	snprintf(buf, cap, v < 9.95 ? "%.1f%c" : "%.0f%c", v,
	    bytes ? bunits[u] : units[u]);
	return buf;
}

static void
table_daemon(const struct ctl *c)
{
	char up[24];

	printf("sfd pid %s, version %s, up %s: %s clients, %s streams\n",
	    ctl_get(c, "pid") ? ctl_get(c, "pid") : "?",
	    ctl_get(c, "version") ? ctl_get(c, "version") : "?",
	    short_time(c, "uptime_seconds", up, sizeof(up)),
	    ctl_get(c, "clients") ? ctl_get(c, "clients") : "?",
	    ctl_get(c, "streams") ? ctl_get(c, "streams") : "?");
}

/* A stream is a block of two lines: what it holds, then what it did. */
static void
table_stream(const struct ctl *c)
{
	char ring[16], fill[16], in[16], bytes[16];
	uint64_t r = num_of(c, "ring_bytes"), f = num_of(c, "fill_bytes");

	printf("stream %s  seq %s  epoch %s  ring %s, %s used (%llu%%)\n",
	    ctl_get(c, "name") ? ctl_get(c, "name") : "?",
	    ctl_get(c, "head_seq") ? ctl_get(c, "head_seq") : "?",
	    ctl_get(c, "epoch") ? ctl_get(c, "epoch") : "?",
	    short_num(r, 1, ring, sizeof(ring)),
	    short_num(f, 1, fill, sizeof(fill)),
	    r > 0 ? (unsigned long long)(f * 100 / r) : 0ULL);
	printf("  pub %llu sub %llu  in %s/%s  evicted lag %llu slow %llu "
	    "kicked %llu shutdown %llu  waits %llu\n",
	    (unsigned long long)num_of(c, "publishers"),
	    (unsigned long long)num_of(c, "subscribers"),
	    short_num(num_of(c, "records_in"), 0, in, sizeof(in)),
	    short_num(num_of(c, "bytes_in"), 1, bytes, sizeof(bytes)),
	    (unsigned long long)num_of(c, "evicted_lag"),
	    (unsigned long long)num_of(c, "evicted_slow"),
	    (unsigned long long)num_of(c, "evicted_kicked"),
	    (unsigned long long)num_of(c, "evicted_shutdown"),
	    (unsigned long long)num_of(c, "paced_waits"));
}

#define CLIENT_ROW "%5s %-3s %-8.8s %-13s %5s %4s %5s %5s %5s %4s %4s "

static void
table_client_header(void)
{
	int n = printf(CLIENT_ROW, "ID", "ROL", "STREAM", "STATE", "LAG",
	    "LAG%", "FRAME", "BYTES", "SKIP", "IDLE", "UP");

	printf("%.*s\n", WIDTH - n, "PEER");
}

static void
table_client(const struct ctl *c)
{
	char lag[16], share[16], fr[16], by[16], sk[16], idle[24], up[24];
	char peer[64];
	const char *p = ctl_get(c, "peer"), *role = ctl_get(c, "role");
	uint64_t r = num_of(c, "ring_bytes");
	int pub = role != NULL && strcmp(role, "pub") == 0, n;

	/* A shared reader is a subscriber that maps the ring itself. */
	if (num_of(c, "shared") == 1)
		role = "shm";

	if (p != NULL && strcmp(p, "unix") == 0)
		snprintf(peer, sizeof(peer), "%s/%s",
		    ctl_get(c, "pid") ? ctl_get(c, "pid") : "?",
		    ctl_get(c, "uid") ? ctl_get(c, "uid") : "?");
	else
		snprintf(peer, sizeof(peer), "%s", p != NULL ? p : "?");
	snprintf(share, sizeof(share), "%llu%%", r > 0 ?
	    (unsigned long long)(num_of(c, "lag_bytes") * 100 / r) : 0ULL);
	/* A publisher's frames and bytes are those it sent the daemon. */
	n = printf(CLIENT_ROW, ctl_get(c, "id") ? ctl_get(c, "id") : "?",
	    role != NULL ? role : "?",
	    ctl_get(c, "stream") ? ctl_get(c, "stream") : "?",
	    ctl_get(c, "state") ? ctl_get(c, "state") : "?",
	    short_num(num_of(c, "lag_bytes"), 1, lag, sizeof(lag)), share,
	    short_num(num_of(c, pub ? "frames_in" : "frames_sent"), 0, fr,
	    sizeof(fr)),
	    short_num(num_of(c, pub ? "bytes_in" : "bytes_sent"), 1, by,
	    sizeof(by)),
	    short_num(num_of(c, "frames_skipped"), 0, sk, sizeof(sk)),
	    short_time(c, "idle_seconds", idle, sizeof(idle)),
	    short_time(c, "connected_seconds", up, sizeof(up)));
	/* The peer fills the rest of the line; the JSON has it whole. */
	printf("%.*s\n", WIDTH - n, peer);
}

/* Why the connection failed in the middle of an answer: say it, exit. */
static void
lost(int err)
{
	if (err == EINTR && io_stopped())
		exit(SF_EXIT_OK);
	if (err == ECONNRESET)
		cli_die(SF_EXIT_GONE, "sfd closed the connection");
	if (err == ETIMEDOUT)
		cli_die(SF_EXIT_PROTOCOL, "sfd did not answer in time");
	if (err == EPROTO)
		cli_die(SF_EXIT_PROTOCOL, "sfd sent something that is not a "
		    "control line");
	cli_die(SF_EXIT_GONE, "connection to sfd: %s", strerror(err));
}

/* Read the next control line of an answer into c. */
static void
read_line(struct ctl *c)
{
	unsigned char hdr[FRAME_HDR];
	uint32_t len;
	int control;

	if (io_read_full(sock, hdr, sizeof(hdr), REPLY_MS) == -1)
		lost(errno);
	frame_get_header(hdr, &len, &control);
	if (!control)
		cli_die(SF_EXIT_PROTOCOL, "sfd sent a data frame to a "
		    "control client");
	if (session_read_ctl(sock, len, REPLY_MS, c) == -1)
		lost(errno);
}

/* A BYE or ERR where an answer was due: what it means, and exit. */
static void
verdict(const struct ctl *c)
{
	char msg[512];
	int code = session_verdict(c, msg, sizeof(msg));

	if (code == SF_EXIT_GONE && strcmp(c->verb, "BYE") == 0)
		cli_die(code, "sfd shut down");   /* no seq: it is not ours */
	cli_die(code, "%s", msg);
}

static void
request(const char *line)
{
	unsigned char buf[FRAME_HDR + FRAME_CTL_MAX];
	int n;

	if ((n = ctl_frame(buf, sizeof(buf), "%s", line)) == -1)
		cli_die(SF_EXIT_USAGE, "request too long");
	if (io_write_all(sock, buf, (size_t)n) == -1) {
		struct ctl c;

		if (errno == EINTR && io_stopped())
			exit(SF_EXIT_OK);
		/* The daemon may have said why before it closed. */
		read_line(&c);
		verdict(&c);
	}
}

enum out { OUT_TABLE, OUT_JSON, OUT_LINE, OUT_SUMMARY };

/* An answer to STATS or STREAMS as it is written out, line by line. */
struct answer {
	enum out out;
	struct totals *t;
	int nstreams, nclients;  /* lines of each kind so far */
};

/* A STREAM line of the answer. */
static void
stream_line(struct answer *a, const struct ctl *c)
{
	struct totals *t = a->t;

	t->streams++;
	t->records += num_of(c, "records_in");
	t->evicted += num_of(c, "evicted_lag") + num_of(c, "evicted_slow") +
	    num_of(c, "evicted_kicked") + num_of(c, "evicted_shutdown");
	if (a->out == OUT_JSON) {
		fputs(a->nstreams == 0 ? ",\"streams\":[" : ",", stdout);
		json_object(c, stream_keys);
	} else if (a->out == OUT_TABLE) {
		table_stream(c);
	} else if (a->out == OUT_LINE) {
		printf("%s seq=%s epoch=%s publishers=%s subscribers=%s "
		    "records_in=%s\n", ctl_get(c, "name"),
		    ctl_get(c, "head_seq"), ctl_get(c, "epoch"),
		    ctl_get(c, "publishers"), ctl_get(c, "subscribers"),
		    ctl_get(c, "records_in"));
	}
	a->nstreams++;
}

/* A CLIENT line of the answer. */
static void
client_line(struct answer *a, const struct ctl *c)
{
	struct totals *t = a->t;
	const char *role = ctl_get(c, "role");
	const char *state = ctl_get(c, "state");

	t->clients++;
	t->pubs += role != NULL && strcmp(role, "pub") == 0;
	if (role != NULL && strcmp(role, "sub") == 0) {
		t->subs++;
		t->behind += state != NULL && strcmp(state, "live") != 0;
	}
	if (a->out == OUT_JSON) {
		if (a->nclients == 0)
			fputs(a->nstreams == 0 ?
			    ",\"streams\":[],\"clients\":[" :
			    "],\"clients\":[", stdout);
		else
			putchar(',');
		json_object(c, client_keys);
	} else if (a->out == OUT_TABLE) {
		if (a->nclients == 0)
			table_client_header();
		table_client(c);
	}
	a->nclients++;
}

/*
 * Ask for STATS or STREAMS and write the answer as out says; for a watch
 * line, sum it up in t instead.
 */
static void
stats(const char *what, enum out out, struct totals *t)
{
	struct answer a = { .out = out, .t = t };
	struct ctl c;

	memset(t, 0, sizeof(*t));
	request(what);
	if (out == OUT_JSON)
		fputs("{\"daemon\":", stdout);
	for (;;) {
		read_line(&c);
		if (strcmp(c.verb, "END") == 0)
			break;
		if (strcmp(c.verb, "SERVER") == 0) {
			if (out == OUT_JSON)
				json_object(&c, daemon_keys);
			else if (out == OUT_TABLE)
				table_daemon(&c);
		} else if (strcmp(c.verb, "STREAM") == 0) {
			stream_line(&a, &c);
		} else if (strcmp(c.verb, "CLIENT") == 0) {
			client_line(&a, &c);
		} else if (strcmp(c.verb, "BYE") == 0 ||
		    strcmp(c.verb, "ERR") == 0) {
			verdict(&c);
		}
		/* Any other line is from a newer daemon: passed over. */
	}
	if (out == OUT_JSON) {
		if (a.nstreams == 0 && a.nclients == 0)
			fputs(",\"streams\":[", stdout);
		if (strcmp(what, "STATS") == 0 && a.nclients == 0)
			fputs("],\"clients\":[", stdout);
		/* Closes the clients list, or the streams list when there
		 * is none. */
		fputs("]}\n", stdout);
	}
}

static void
watch(const struct opts *o)
{
	struct totals t;
	char when[16];
	time_t now;
	int tty = isatty(STDOUT_FILENO);

	for (;;) {
		if (tty) {
			fputs("\033[H\033[2J", stdout);
			stats("STATS", OUT_TABLE, &t);
		} else {
			stats("STATS", OUT_SUMMARY, &t);
			now = time(NULL);
			(void)strftime(when, sizeof(when), "%H:%M:%S",
			    localtime(&now));
			printf("%s clients=%llu publishers=%llu "
			    "subscribers=%llu behind=%llu streams=%llu "
			    "records_in=%llu evicted=%llu\n", when,
			    (unsigned long long)t.clients,
			    (unsigned long long)t.pubs,
			    (unsigned long long)t.subs,
			    (unsigned long long)t.behind,
			    (unsigned long long)t.streams,
			    (unsigned long long)t.records,
			    (unsigned long long)t.evicted);
		}
		out_check();
		if (io_poll(NULL, 0, (int)(o->interval * 1000)) == -1 &&
		    io_stopped())
			return;
	}
}

static void
kick(const struct opts *o)
{
	char line[FRAME_CTL_MAX];
	struct ctl c;

	snprintf(line, sizeof(line), "KICK id=%llu%s%s",
	    (unsigned long long)o->id, o->reason != NULL ? " reason=" : "",
	    o->reason != NULL ? o->reason : "");
	request(line);
	read_line(&c);
	if (strcmp(c.verb, "OK") == 0) {
		printf("kicked client %llu (%s)\n", (unsigned long long)o->id,
		    ctl_get(&c, "role") ? ctl_get(&c, "role") : "?");
		return;
	}
	if (strcmp(c.verb, "ERR") == 0 && ctl_get(&c, "reason") != NULL) {
		if (strcmp(ctl_get(&c, "reason"), "no-such-client") == 0)
			cli_die(SF_EXIT_ERROR, "no client %llu",
			    (unsigned long long)o->id);
		if (strcmp(ctl_get(&c, "reason"), "closing") == 0)
			cli_die(SF_EXIT_ERROR, "client %llu is already "
			    "leaving", (unsigned long long)o->id);
	}
	verdict(&c);
}

/* The command after the options (optind on) and its operand into o;
 * exits on a usage error. */
static void
command(int argc, char *argv[], struct opts *o)
{
	const char *e, *cmd;

	if (optind == argc)
		cli_die(SF_EXIT_USAGE, "no command: stats, streams, watch or "
		    "kick");
	cmd = argv[optind++];
	if (strcmp(cmd, "stats") == 0)
		o->cmd = CMD_STATS;
	else if (strcmp(cmd, "streams") == 0)
		o->cmd = CMD_STREAMS;
	else if (strcmp(cmd, "watch") == 0)
		o->cmd = CMD_WATCH;
	else if (strcmp(cmd, "kick") == 0)
		o->cmd = CMD_KICK;
	else
		cli_die(SF_EXIT_USAGE, "unknown command: %s", cmd);
	if (o->cmd == CMD_KICK) {
		if (optind == argc)
			cli_die(SF_EXIT_USAGE, "kick: which client? (an ID "
			    "from sfctl stats)");
		if ((e = num_parse(argv[optind], 1, UINT64_MAX, &o->id)) !=
		    NULL)
			cli_die(SF_EXIT_USAGE, "kick %s: %s", argv[optind], e);
		optind++;
	}
	if (optind < argc)
		cli_die(SF_EXIT_USAGE, "unexpected argument: %s", argv[optind]);
}

static void
parse(int argc, char *argv[], struct opts *o)
{
	enum { O_JSON = 256, O_INTERVAL, O_REASON, O_VERSION };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ "json", no_argument, NULL, O_JSON },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "reason", required_argument, NULL, O_REASON },
		{ NULL, 0, NULL, 0 }
	};
	const char *e, *p;
	char msg[256];
	int ch, have_addr = 0, have_interval = 0;

	o->interval = INTERVAL;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			help();
		case O_VERSION:
			printf("sfctl %s\n", SF_VERSION);
			exit(SF_EXIT_OK);
		case 's':
			if ((e = addr_parse(optarg, &o->addr)) != NULL)
				cli_die(SF_EXIT_USAGE, "-s %s: %s", optarg, e);
			have_addr = 1;
			break;
		case O_JSON:
			o->json = 1;
			break;
		case O_INTERVAL:
			if ((e = num_parse(optarg, 1, INTERVAL_MAX,
			    &o->interval)) != NULL)
				cli_die(SF_EXIT_USAGE, "--interval %s: %s",
				    optarg, e);
			have_interval = 1;
			break;
		case O_REASON:
			for (p = optarg; *p > ' ' && *p <= '~'; p++)
				;
			if (*p != '\0' || p == optarg || p - optarg > NOTE_MAX)
				cli_die(SF_EXIT_USAGE, "--reason: one word of "
				    "printable ASCII, at most %d characters",
				    NOTE_MAX);
			o->reason = optarg;
			break;
		default:
			cli_die(SF_EXIT_USAGE, "%s",
			    cli_bad_option(ch, argv, msg, sizeof(msg)));
		}
	}
	command(argc, argv, o);
	if (o->json && o->cmd != CMD_STATS && o->cmd != CMD_STREAMS)
		cli_die(SF_EXIT_USAGE, "--json goes with stats or streams");
	if (have_interval && o->cmd != CMD_WATCH)
		cli_die(SF_EXIT_USAGE, "--interval goes with watch");
	if (o->reason != NULL && o->cmd != CMD_KICK)
		cli_die(SF_EXIT_USAGE, "--reason goes with kick");
	if (!have_addr && (e = addr_default(&o->addr)) != NULL)
		cli_die(SF_EXIT_USAGE, "default address: %s", e);
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct totals t;
	struct ctl reply;
	char msg[512];
	int code;

	memset(&o, 0, sizeof(o));
	cli_setup("sfctl", usage_text);
	parse(argc, argv, &o);
	if (cli_ignore_sigpipe() == -1 || io_catch_stop() == -1)
		cli_die(SF_EXIT_ERROR, "signals: %s", strerror(errno));
	if ((sock = session_open(&o.addr, "CTL " PROTO_VERSION, REPLY_MS,
	    &reply)) == -1) {
		if (errno == EINTR && io_stopped())
			return SF_EXIT_OK;
		code = session_open_failure(errno, &o.addr, msg, sizeof(msg));
		cli_die(code, "%s", msg);
	}
	if (strcmp(reply.verb, "OK") != 0)
		verdict(&reply);
	switch (o.cmd) {
	case CMD_STATS:
		stats("STATS", o.json ? OUT_JSON : OUT_TABLE, &t);
		break;
	case CMD_STREAMS:
		stats("STREAMS", o.json ? OUT_JSON : OUT_LINE, &t);
		break;
	case CMD_WATCH:
		watch(&o);
		break;
	case CMD_KICK:
		kick(&o);
		break;
	}
	out_check();
	close(sock);
	return SF_EXIT_OK;
}

/*
 * sfd's command line: every option with its default and its limits, the
 * checks between options, and the listeners they ask for.  A bad value
 * ends the program here with a one-line message and the usage status.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "addr.h"
#include "cli.h"
#include "frame.h"
#include "log.h"
#include "num.h"
#include "options.h"
#include "proto.h"
#include "systemd.h"

static const char usage_text[] =
    "usage: sfd [-v | -q] [-l ADDR]... [--ring SIZE] [--max-frame SIZE]\n"
    "           [--max-lag SIZE [--lag-time SECONDS]] [--stall SECONDS]\n"
    "           [--max-clients N] [--max-streams N]\n"
    "           [--mode OCTAL] [--group NAME] [--publishers LIST]\n"
    "           [--subscribers LIST] [--admins LIST] [--sndbuf SIZE]\n"
    "           [--plain-listen ADDR,stream=NAME]...\n"
    "           [--grace SECONDS] [--goodbye-time SECONDS]\n"
    "           [--goodbye-memory SIZE] [--hello-timeout SECONDS]\n"
    "           [--stats-interval SECONDS] [--spool DIR [--sync SECONDS]]\n";

/* Defaults of the options that have one, for main() and --help. */
#define DEF_LAG_TIME    10      /* --lag-time, seconds */
#define DEF_STALL       5       /* --stall, seconds */
#define DEF_CLIENTS     1024    /* --max-clients */
#define DEF_STREAMS     64      /* --max-streams */
#define DEF_MODE        0600    /* --mode */
#define DEF_GRACE       2       /* --grace, seconds */
#define DEF_GOODBYE     120     /* --goodbye-time, seconds */
#define DEF_GOODBYE_MEM (64u << 20)  /* --goodbye-memory, bytes */
#define DEF_HELLO       5       /* --hello-timeout, seconds */
#define DEF_SYNC        1       /* --sync, seconds */

/* --help: each option with its default, then the exit statuses.  Lines
 * fit 80 columns; the option lines are what tests/bats/docs.bats reads. */
static void __attribute__((noreturn))
help(void)
{
	char ring[NUM_SIZE_LEN], frame[NUM_SIZE_LEN], bye[NUM_SIZE_LEN];

	num_format_size(DEFAULT_RING, ring, sizeof(ring));
	num_format_size(DEFAULT_MAX_FRAME, frame, sizeof(frame));
	num_format_size(DEF_GOODBYE_MEM, bye, sizeof(bye));
	cli_help(
	    "Listening:\n"
	    "  -l ADDR                   listen on ADDR; repeatable "
	    "[default: see below]\n"
	    "  --plain-listen ADDR,stream=NAME\n"
	    "                            also send bare frames of stream NAME "
	    "on ADDR\n"
	    "  --mode OCTAL              permissions of the socket file "
	    "[default: %04o]\n"
	    "  --group NAME              group of the socket file "
	    "[default: sfd's own]\n"
	    "\n"
	    "Access, a LIST of users, uids, @groups, tcp and tcp:ADDR/PREFIX:\n"
	    "  --publishers LIST         only these may publish "
	    "[default: any Unix client]\n"
	    "  --subscribers LIST        only these may subscribe "
	    "[default: anyone]\n"
	    "  --admins LIST             these may use sfctl too "
	    "[default: sfd's uid, root]\n"
	    "\n"
	    "Buffers and limits, a SIZE in bytes or with k, M or G "
	    "(1k = 1024):\n"
	    "  --ring SIZE               records kept per stream "
	    "[default: %s]\n"
	    "  --max-frame SIZE          largest record accepted "
	    "[default: %s]\n"
	    "  --max-lag SIZE            evict who stays this far behind "
	    "[default: none]\n"
	    "  --lag-time SECONDS        how long one may stay past --max-lag "
	    "[default: %d]\n"
	    "  --stall SECONDS           stop pacing to a reader idle this long "
	    "[default: %d]\n"
	    "  --max-clients N           connections at once "
	    "[default: %d]\n"
	    "  --max-streams N           streams at most [default: %d]\n"
	    "  --sndbuf SIZE             SO_SNDBUF of each subscriber "
	    "[default: system's]\n"
	    "\n"
	    "Timers:\n"
	    "  --grace SECONDS           for a departing subscriber to drain "
	    "[default: %d]\n"
	    "  --goodbye-time SECONDS    for an evicted one to come back "
	    "[default: %d]\n"
	    "  --goodbye-memory SIZE     all that is kept aside for them "
	    "[default: %s]\n"
	    "  --hello-timeout SECONDS   for a client to send its hello "
	    "[default: %d]\n"
	    "  --stats-interval SECONDS  between summary lines in the log "
	    "[default: none]\n"
	    "\n"
	    "Spool, rings kept on disk across restarts:\n"
	    "  --spool DIR               keep each ring in DIR/NAME.ring "
	    "[default: memory]\n"
	    "  --sync SECONDS            between syncs to disk, 0: each turn "
	    "[default: %d]\n"
	    "\n"
	    "Log, on standard error [default: startup, connections, "
	    "cut-offs]:\n"
	    "  -v                        also each subscribe, publish, close; "
	    "time-stamped\n"
	    "  -q                        only errors and the \"listening on\" "
	    "lines\n"
	    "\n"
	    "Other:\n"
	    "  -h, --help                print this help and exit\n"
	    "  --version                 print the version and exit\n"
	    "\n"
	    "ADDR is a socket path, unix:PATH, tcp:HOST:PORT, "
	    "tcp:[V6ADDR]:PORT or\n"
	    "tcp::PORT (all addresses).  The default address is $SF_SERVER, "
	    "else\n"
	    "$XDG_RUNTIME_DIR/streamfan.sock, else /tmp/streamfan-UID.sock, "
	    "or the\n"
	    "sockets passed by a service manager.\n"
	    "\n"
	    "Exit status:\n"
	    "  %-5d  clean shutdown after SIGINT, SIGTERM or SIGHUP\n"
	    "  %-5d  runtime error: cannot listen, another sfd, a bad ring "
	    "file, the loop\n"
	    "         failed\n"
	    "  %-5d  usage error: bad option or value, sizes that do not "
	    "fit\n",
	    DEF_MODE, ring, frame, DEF_LAG_TIME, DEF_STALL, DEF_CLIENTS,
	    DEF_STREAMS, DEF_GRACE, DEF_GOODBYE, bye, DEF_HELLO, DEF_SYNC, SF_EXIT_OK, SF_EXIT_ERROR,
	    SF_EXIT_USAGE);
}

static uint64_t
opt_size(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	const char *e;
	uint64_t v;

	if ((e = num_parse_size(arg, min, max, &v)) != NULL)
		cli_die(SF_EXIT_USAGE, "%s %s: %s", opt, arg, e);
	return v;
}

static uint64_t
opt_num(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	const char *e;
	uint64_t v;

	if ((e = num_parse(arg, min, max, &v)) != NULL)
		cli_die(SF_EXIT_USAGE, "%s %s: %s", opt, arg, e);
	return v;
}

static mode_t
opt_mode(const char *arg)
{
	unsigned long v = 0;
	const char *p;

	for (p = arg; *p >= '0' && *p <= '7'; p++)
		v = v * 8 + (unsigned long)(*p - '0');
	if (p == arg || *p != '\0' || p - arg > 4 || v > 0777)
		cli_die(SF_EXIT_USAGE,
		    "--mode %s: not an octal mode like 0600", arg);
	return (mode_t)v;
}

static gid_t
opt_group(const char *arg)
{
	struct group *gr;
	uint64_t id;

	if (num_parse(arg, 0, (gid_t)-2, &id) == NULL)
		return (gid_t)id;
	if ((gr = getgrnam(arg)) == NULL)
		cli_die(SF_EXIT_USAGE, "--group %s: no such group", arg);
	return gr->gr_gid;
}

/* --plain-listen ADDR,stream=NAME: a listener whose clients send
 * nothing and get the bare frames of stream NAME. */
static void
plain_listener(const char *arg, struct listener *l)
{
	char addr[sizeof(l->addr.text)];
	const char *comma = strrchr(arg, ',');
	const char *e;

	if (comma == NULL || strncmp(comma, ",stream=", 8) != 0)
		cli_die(SF_EXIT_USAGE, "--plain-listen %s: use "
		    "ADDR,stream=NAME", arg);
	if (!proto_stream_valid(comma + 8))
		cli_die(SF_EXIT_USAGE, "--plain-listen %s: stream names are "
		    "1 to 64 of A-Z a-z 0-9 . _ -", arg);
	if ((size_t)(comma - arg) >= sizeof(addr))
		cli_die(SF_EXIT_USAGE, "--plain-listen %s: address too long",
		    arg);
	memcpy(addr, arg, (size_t)(comma - arg));
	addr[comma - arg] = '\0';
	if ((e = addr_parse(addr, &l->addr)) != NULL)
		cli_die(SF_EXIT_USAGE, "--plain-listen %s: %s", arg, e);
	snprintf(l->plain, sizeof(l->plain), "%s", comma + 8);
}


enum { O_RING = 256, O_LAG, O_LAGTIME, O_STALL, O_FRAME, O_CLIENTS,
    O_STREAMS, O_MODE, O_GROUP, O_PUBLISHERS, O_SUBSCRIBERS,
    O_SNDBUF, O_PLAIN, O_GRACE, O_HELLO, O_ADMINS, O_STATS,
    O_SPOOL, O_SYNC_S, O_GOODBYE, O_GOODBYE_MEM, O_VERSION };

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_VERSION },
	{ "ring", required_argument, NULL, O_RING },
	{ "max-lag", required_argument, NULL, O_LAG },
	{ "lag-time", required_argument, NULL, O_LAGTIME },
	{ "stall", required_argument, NULL, O_STALL },
	{ "max-frame", required_argument, NULL, O_FRAME },
	{ "max-clients", required_argument, NULL, O_CLIENTS },
	{ "max-streams", required_argument, NULL, O_STREAMS },
	{ "mode", required_argument, NULL, O_MODE },
	{ "group", required_argument, NULL, O_GROUP },
	{ "publishers", required_argument, NULL, O_PUBLISHERS },
	{ "subscribers", required_argument, NULL, O_SUBSCRIBERS },
	{ "sndbuf", required_argument, NULL, O_SNDBUF },
	{ "plain-listen", required_argument, NULL, O_PLAIN },
	{ "grace", required_argument, NULL, O_GRACE },
	{ "hello-timeout", required_argument, NULL, O_HELLO },
	{ "goodbye-time", required_argument, NULL, O_GOODBYE },
	{ "goodbye-memory", required_argument, NULL, O_GOODBYE_MEM },
	{ "admins", required_argument, NULL, O_ADMINS },
	{ "stats-interval", required_argument, NULL, O_STATS },
	{ "spool", required_argument, NULL, O_SPOOL },
	{ "sync", required_argument, NULL, O_SYNC_S },
	{ NULL, 0, NULL, 0 }
};

/* A limit: a size or a count, into o->cfg.  0 when ch is none of them. */
static int
set_limit(struct options *o, int ch, const char *arg)
{
	struct config *cfg = &o->cfg;

	switch (ch) {
	case O_RING:
		cfg->ring = opt_size("--ring", arg, 64 << 10,
		    (uint64_t)64 << 30);
		break;
	case O_LAG:
		cfg->max_lag = opt_size("--max-lag", arg, 1,
		    (uint64_t)64 << 30);
		break;
	case O_LAGTIME:
		cfg->lag_ms = 1000 * opt_num("--lag-time", arg, 0,
		    86400);
		o->lag_time = 1;
		break;
	case O_STALL:
		cfg->stall_ms = 1000 * opt_num("--stall", arg, 1,
		    3600);
		break;
	case O_FRAME:
		cfg->max_frame = opt_size("--max-frame", arg, 1,
		    1 << 30);
		break;
	case O_CLIENTS:
		cfg->max_clients = opt_num("--max-clients", arg, 1,
		    1000000);
		break;
	case O_STREAMS:
		cfg->max_streams = opt_num("--max-streams", arg, 1,
		    65536);
		break;
	case O_STATS:
		cfg->stats_ms = 1000 * opt_num("--stats-interval",
		    arg, 0, 86400);
		break;
	case O_SYNC_S:
		cfg->sync_ms = 1000 * opt_num("--sync", arg, 0,
		    3600);
		o->sync = 1;
		break;
	case O_SNDBUF:
		cfg->sndbuf = opt_size("--sndbuf", arg, 4 << 10,
		    1 << 30);
		break;
	case O_GRACE:
		cfg->grace_ms = 1000 * opt_num("--grace", arg, 0,
		    3600);
		break;
	case O_GOODBYE:
		cfg->goodbye_ms = 1000 * opt_num("--goodbye-time", arg, 0,
		    86400);
		break;
	case O_GOODBYE_MEM:
		cfg->goodbye_mem = opt_size("--goodbye-memory", arg, 0,
		    (uint64_t)64 << 30);
		break;
	case O_HELLO:
		cfg->hello_ms = 1000 * opt_num("--hello-timeout",
		    arg, 1, 3600);
		break;
	default:
		return 0;
	}
	return 1;
}

/* Who may do what, the socket's mode and group, and the spool.  0 when
 * ch is none of them. */
static int
set_access(struct options *o, int ch, const char *arg)
{
	struct config *cfg = &o->cfg;
	char msg[320];

	switch (ch) {
	case O_MODE:
		o->mode = opt_mode(arg);
		break;
	case O_GROUP:
		o->group = opt_group(arg);
		break;
	case O_PUBLISHERS:
		access_free(cfg->publishers);
		if (access_parse("--publishers", arg, &cfg->publishers, msg,
		    sizeof(msg)) == -1)
			cli_die(SF_EXIT_USAGE, "--publishers %s", msg);
		break;
	case O_SUBSCRIBERS:
		access_free(cfg->subscribers);
		if (access_parse("--subscribers", arg, &cfg->subscribers, msg,
		    sizeof(msg)) == -1)
			cli_die(SF_EXIT_USAGE, "--subscribers %s", msg);
		break;
	case O_ADMINS:
		access_free(cfg->admins);
		if (access_parse("--admins", arg, &cfg->admins, msg,
		    sizeof(msg)) == -1)
			cli_die(SF_EXIT_USAGE, "--admins %s", msg);
		break;
	case O_SPOOL:
		if (arg[0] == '\0')
			cli_die(SF_EXIT_USAGE, "--spool: empty folder "
			    "name");
		cfg->spool = arg;
		break;
	default:
		return 0;
	}
	return 1;
}

/* -l ADDR and --plain-listen ADDR,stream=NAME. */
static void
add_listener(struct options *o, int ch, const char *arg)
{
	const char *e;

	if (o->nlisteners == MAX_LISTENERS)
		cli_die(SF_EXIT_USAGE, "%s: at most %d listeners",
		    ch == 'l' ? "-l" : "--plain-listen", MAX_LISTENERS);
	if (ch == O_PLAIN) {
		plain_listener(arg, &o->listeners[o->nlisteners++]);
		return;
	}
	if ((e = addr_parse(arg, &o->listeners[o->nlisteners].addr)) !=
	    NULL)
		cli_die(SF_EXIT_USAGE, "-l %s: %s", arg, e);
	o->nlisteners++;
	o->nprotocol++;
}

/* What one option alone cannot check: options that need another, and
 * the ring that must hold what the other sizes ask. */
static void
check_options(struct options *o, int argc, char *argv[])
{
	struct config *cfg = &o->cfg;

	if (optind < argc)
		cli_die(SF_EXIT_USAGE, "unexpected argument: %s", argv[optind]);
	if (o->lag_time && cfg->max_lag == 0)
		cli_die(SF_EXIT_USAGE, "--lag-time needs --max-lag: it is how "
		    "long a subscriber may stay past that");
	if (o->sync && cfg->spool == NULL)
		cli_die(SF_EXIT_USAGE, "--sync needs --spool: it is how often "
		    "the spool reaches the disk");
	/* Ring files may hold private records: no more than the socket
	 * lets others do, and never written by anyone else. */
	cfg->spool_mode = o->mode & 0640;
	cfg->spool_group = o->group;
	/*
	 * The hard limit is the ring less one frame and one append; a
	 * subscriber with nothing left to take, or within --max-lag, must
	 * still be inside it after the largest append (one frame, or a
	 * read buffer of frames).
	 */
	if (cfg->max_lag + 2 * (cfg->max_frame + FRAME_HDR) + APPEND_MAX >
	    cfg->ring)
		cli_die(SF_EXIT_USAGE,
		    "--ring (%llu) must hold twice --max-frame (%llu) and its "
		    "header, plus 256k, plus --max-lag (%llu)",
		    (unsigned long long)cfg->ring,
		    (unsigned long long)cfg->max_frame,
		    (unsigned long long)cfg->max_lag);
}

/* Sockets passed by a service manager come first, and stand in for the
 * default address; no -l at all is the default address. */
static void
add_default_listeners(struct options *o)
{
	const char *e;
	char msg[256];
	int adopted;

	if ((adopted = systemd_adopt(o->listeners + o->nlisteners, MAX_LISTENERS -
	    o->nlisteners, msg, sizeof(msg))) == -1)
		cli_die(SF_EXIT_ERROR, "%s", msg);
	o->nlisteners += adopted;
	if (o->nprotocol == 0 && adopted == 0) {
		/* No -l: the default address, besides any plain ones. */
		if (o->nlisteners == MAX_LISTENERS)
			cli_die(SF_EXIT_USAGE, "--plain-listen: at most %d "
			    "listeners with the default one", MAX_LISTENERS - 1);
		if ((e = addr_default(&o->listeners[o->nlisteners].addr)) != NULL)
			cli_die(SF_EXIT_USAGE, "default address: %s", e);
		o->nlisteners++;
	}

}

void
options_parse(struct options *o, int argc, char *argv[])
{
	char msg[256];
	int ch;

	memset(o, 0, sizeof(*o));
	o->mode = DEF_MODE;
	o->group = (gid_t)-1;
	o->cfg.ring = DEFAULT_RING;
	o->cfg.max_lag = 0;        /* no soft limit: the ring is the buffer */
	o->cfg.lag_ms = (uint64_t)DEF_LAG_TIME * 1000;
	o->cfg.stall_ms = (uint64_t)DEF_STALL * 1000;
	o->cfg.max_frame = DEFAULT_MAX_FRAME;
	o->cfg.max_clients = DEF_CLIENTS;
	o->cfg.max_streams = DEF_STREAMS;
	o->cfg.grace_ms = (uint64_t)DEF_GRACE * 1000;
	o->cfg.goodbye_ms = (uint64_t)DEF_GOODBYE * 1000;
	o->cfg.goodbye_mem = DEF_GOODBYE_MEM;
	o->cfg.hello_ms = (uint64_t)DEF_HELLO * 1000;
	o->cfg.sync_ms = (uint64_t)DEF_SYNC * 1000;
	log_set_level(LOG_INFO);
	cli_setup("sfd", usage_text);

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hl:qv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			help();
		case O_VERSION:
			printf("sfd %s\n", SF_VERSION);
			exit(0);
		case 'l':
		case O_PLAIN:
			add_listener(o, ch, optarg);
			break;
		case 'q':
			log_set_level(LOG_NOTICE);
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		default:
			if (!set_limit(o, ch, optarg) &&
			    !set_access(o, ch, optarg))
				cli_die(SF_EXIT_USAGE, "%s", cli_bad_option(ch,
				    argv, msg, sizeof(msg)));
		}
	}
	check_options(o, argc, argv);
	add_default_listeners(o);
}

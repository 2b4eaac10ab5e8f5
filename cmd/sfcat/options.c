/*
 * sfcat's command line: its options, their checks and --help.  Every
 * usage error exits here, with status SF_EXIT_USAGE and one line that
 * names the option and what was wrong with it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cat.h"
#include "cli.h"
#include "num.h"
#include "proto.h"

static const char usage_text[] =
    "usage: sfcat [-s ADDR] [-0 | --raw] [-n COUNT] "
    "[--from WHERE] [--max-lag SIZE]\n"
    "             [--on-lag disconnect|skip] [--reconnect] [--state FILE]\n"
    "             [--timeout SECONDS] [--print-seq] [--shared] "
    "[STREAM]\n";

/* --help: each option with its default, then the exit statuses.  Lines
 * fit 80 columns; the option lines are what tests/bats/docs.bats reads. */
static void __attribute__((noreturn))
help(void)
{
	cli_help(
	    "Connection:\n"
	    "  -s ADDR                   the daemon's address [default: see "
	    "below]\n"
	    "  --reconnect               go on where it left off after a "
	    "cut-off or loss\n"
	    "  --state FILE              keep the place in FILE from run to "
	    "run\n"
	    "  --shared                  read sfd's ring itself (Unix socket) "
	    "[default: off]\n"
	    "\n"
	    "Replay and end:\n"
	    "  --from WHERE              now, oldest, -N or a sequence number "
	    "[default: now]\n"
	    "  -n COUNT                  exit %d after COUNT records "
	    "[default: no limit]\n"
	    "  --timeout SECONDS         exit %d after this long without one "
	    "[default: none]\n"
	    "\n"
	    "Format, on standard output [default: a line each]:\n"
	    "  -0                        end each record with a NUL byte\n"
	    "  --raw                     write frames: 4-byte length, then "
	    "the bytes\n"
	    "  --print-seq               start each record with its sequence "
	    "number, a tab\n"
	    "\n"
	    "Lag:\n"
	    "  --max-lag SIZE            be cut off this far behind "
	    "[default: sfd's limits]\n"
	    "  --on-lag disconnect|skip  be cut off there, or skip on "
	    "[default: disconnect]\n"
	    "\n"
	    CLI_HELP_TOOL_END
	    "\n"
	    "Exit status (with --reconnect, %d, %d and %d lead to a new "
	    "attempt):\n"
	    "  %-5d  COUNT records printed, the stream marked ended, or "
	    "stdout gone\n"
	    "  %-5d  local error: writing standard output or --state, "
	    "memory\n"
	    "  %-5d  usage error: bad option, value or stream name\n"
	    "  %-5d  cannot connect, or refused for now: sfd is full; try "
	    "again later\n"
	    "  %-5d  cut off for lagging, or by an operator\n"
	    "  %-5d  sfd shut down or the connection was lost\n"
	    "  %-5d  refused for good (denied, bad hello) or sfd said "
	    "something odd\n"
	    "  %-5d  no record for --timeout seconds\n"
	    "  128+N  stopped by signal N: SIGINT, SIGTERM or SIGHUP\n",
	    SF_EXIT_OK, SF_EXIT_TIMEOUT, STREAM_DEFAULT, SF_EXIT_CONNECT, SF_EXIT_EVICTED, SF_EXIT_GONE,
	    SF_EXIT_OK, SF_EXIT_ERROR, SF_EXIT_USAGE, SF_EXIT_CONNECT,
	    SF_EXIT_EVICTED, SF_EXIT_GONE, SF_EXIT_PROTOCOL, SF_EXIT_TIMEOUT);
}

static int
valid_from(const char *s)
{
	uint64_t v;

	if (strcmp(s, "now") == 0 || strcmp(s, "oldest") == 0)
		return 1;
	return num_parse(s[0] == '-' ? s + 1 : s, 0, UINT64_MAX, &v) == NULL;
}

enum { O_RAW = 256, O_VERSION, O_FROM, O_ONLAG, O_RECONNECT, O_STATE,
    O_TIMEOUT, O_PRINTSEQ, O_MAXLAG, O_SHARED };
static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_VERSION },
	{ "raw", no_argument, NULL, O_RAW },
	{ "from", required_argument, NULL, O_FROM },
	{ "max-lag", required_argument, NULL, O_MAXLAG },
	{ "on-lag", required_argument, NULL, O_ONLAG },
	{ "reconnect", no_argument, NULL, O_RECONNECT },
	{ "state", required_argument, NULL, O_STATE },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "print-seq", no_argument, NULL, O_PRINTSEQ },
	{ "shared", no_argument, NULL, O_SHARED },
	{ NULL, 0, NULL, 0 }
};

/*
 * Take the option getopt_long(3) returned as ch (its value in optarg)
 * into c, or -s into *addr; exits on a usage error.
 */
static void
option(struct cat_state *c, int ch, char *argv[], struct addr *addr,
    int *have_addr)
{
	char msg[512];
	const char *e;
	uint64_t v;

	switch (ch) {
	case '0':
	case O_RAW:
		if ((e = cli_mode(&c->mode, ch == '0' ? MODE_NUL :
		    MODE_RAW)) != NULL)
			cli_die(SF_EXIT_USAGE, "%s", e);
		break;
	case 'h':
		help();
	case O_VERSION:
		printf("sfcat %s\n", SF_VERSION);
		exit(SF_EXIT_OK);
	case 'n':
		if ((e = num_parse(optarg, 1, UINT64_MAX, &c->count)) != NULL)
			cli_die(SF_EXIT_USAGE, "-n %s: %s", optarg, e);
		break;
	case 's':
		if ((e = addr_parse(optarg, addr)) != NULL)
			cli_die(SF_EXIT_USAGE, "-s %s: %s", optarg, e);
		*have_addr = 1;
		break;
	case O_FROM:
		if (!valid_from(optarg))
			cli_die(SF_EXIT_USAGE, "--from %s: use now, oldest, "
			    "-N or a sequence number", optarg);
		c->from = optarg;
		break;
	case O_MAXLAG:
		/* The bounds of sfd --max-lag. */
		if ((e = num_parse_size(optarg, 1, (uint64_t)64 << 30,
		    &c->max_lag)) != NULL)
			cli_die(SF_EXIT_USAGE, "--max-lag %s: %s", optarg, e);
		break;
	case O_ONLAG:
		if (strcmp(optarg, "skip") != 0 &&
		    strcmp(optarg, "disconnect") != 0)
			cli_die(SF_EXIT_USAGE, "--on-lag %s: use disconnect "
			    "or skip", optarg);
		c->on_lag = optarg;
		break;
	case O_RECONNECT:
		c->reconnect = 1;
		break;
	case O_STATE:
		c->state_path = optarg;
		break;
	case O_TIMEOUT:
		if ((e = num_parse(optarg, 1, (uint64_t)86400 * 365,
		    &v)) != NULL)
			cli_die(SF_EXIT_USAGE, "--timeout %s: %s", optarg, e);
		c->timeout_ms = (long long)v * 1000;
		break;
	case O_PRINTSEQ:
		c->print_seq = 1;
		break;
	case O_SHARED:
		c->want_shared = 1;
		break;
	default:
		cli_die(SF_EXIT_USAGE, "%s",
		    cli_bad_option(ch, argv, msg, sizeof(msg)));
	}
}

void
cat_parse(int argc, char *argv[], struct cat_state *c, struct addr *addr)
{
	char msg[512];
	const char *e;
	int ch, have_addr = 0;

	cli_setup("sfcat", usage_text);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":0hn:s:", longopts, NULL)) != -1)
		option(c, ch, argv, addr, &have_addr);
	if ((e = cli_operands(argc, argv, &c->stream, addr, have_addr, msg,
	    sizeof(msg))) != NULL)
		cli_die(SF_EXIT_USAGE, "%s", e);
	if (c->print_seq && c->mode == MODE_RAW)
		cli_die(SF_EXIT_USAGE,
		    "--print-seq and --raw exclude each other: "
		    "raw output must stay frames");
}

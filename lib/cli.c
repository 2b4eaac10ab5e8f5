#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto.h"

static const char *cli_prog = "streamfan";
static const char *cli_usage_text = "";

const char *
cli_bad_option(int ch, char *const argv[], char *buf, size_t cap)
{
	/* A long option is only known by the word getopt just passed: its
	 * optopt is the option's value in longopts, no character. */
	const char *word = argv[optind - 1];
	int n = (int)strcspn(word, "=");

	if (strncmp(word, "--", 2) == 0) {
		if (ch == ':')
			snprintf(buf, cap, "option %.*s needs a value", n,
			    word);
		else if (optopt != 0 && word[n] == '=')
			snprintf(buf, cap, "option %.*s takes no value", n,
			    word);
		else
			snprintf(buf, cap, "unknown option %.*s", n, word);
	} else if (ch == ':')
		snprintf(buf, cap, "option -%c needs a value", optopt);
	else
		snprintf(buf, cap, "unknown option -%c", optopt);
	return buf;
}

const char *
cli_mode(enum record_mode *mode, enum record_mode want)
{
	if (*mode != MODE_LINES && *mode != want)
		return "-0 and --raw exclude each other";
	*mode = want;
	return NULL;
}

const char *
cli_operands(int argc, char *const argv[], const char **stream,
    struct addr *a, int have_addr, char *buf, size_t cap)
{
	const char *e;

	if (argc - optind > 1)
		return "one STREAM at most";
	if (optind < argc)
		*stream = argv[optind];
	if (!proto_stream_valid(*stream)) {
		snprintf(buf, cap, "bad stream name \"%s\": use 1 to 64 of "
		    "A-Z a-z 0-9 . _ -", *stream);
		return buf;
	}
	if (!have_addr && (e = addr_default(a)) != NULL) {
		snprintf(buf, cap, "default address: %s", e);
		return buf;
	}
	return NULL;
}

int
cli_ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

void
cli_setup(const char *prog, const char *usage)
{
	cli_prog = prog;
	cli_usage_text = usage;
}

void
cli_usage(FILE *f)
{
	fputs(cli_usage_text, f);
}

void
cli_help(const char *fmt, ...)
{
	va_list ap;

	cli_usage(stdout);
	putchar('\n');
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (fflush(stdout) == EOF || ferror(stdout))
		cli_die(SF_EXIT_ERROR, "stdout: %s", strerror(errno));
	exit(SF_EXIT_OK);
}

void
cli_die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (code == SF_EXIT_USAGE)
		cli_usage(stderr);
	exit(code);
}

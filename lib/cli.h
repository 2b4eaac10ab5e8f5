/* What the command-line tools share beyond the protocol. */
#ifndef SF_CLI_H
#define SF_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "addr.h"

/* How sfpipe reads and sfcat writes records. */
enum record_mode {
	MODE_LINES,   /* a line each, newline-terminated */
	MODE_NUL,     /* -0: NUL-terminated */
	MODE_RAW      /* --raw: frames as they are on the wire */
};

/*
 * Describe the option getopt_long(3) just refused, for a one-line usage
 * error: "unknown option --bogus", "option -s needs a value" or "option
 * --eos takes no value".  Call it
 * with getopt's return (':' or '?', with ':' leading the optstring) and
 * with opterr set to 0, so getopt prints nothing itself.  Returns buf.
 */
const char *cli_bad_option(int ch, char *const argv[], char *buf, size_t cap);

/*
 * Set *mode to want (-0 or --raw).  Returns NULL, or the usage error when
 * the other of the two was given already.
 */
const char *cli_mode(enum record_mode *mode, enum record_mode want);

/*
 * The operands both tools take after their options (optind on): at most
 * one STREAM, kept in *stream when given; then *stream must be a valid
 * name, and a gets the default address unless -s set it (have_addr).
 * Returns NULL, or a usage error written into buf.
 */
const char *cli_operands(int argc, char *const argv[], const char **stream,
    struct addr *a, int have_addr, char *buf, size_t cap);

/* Name the program and give its usage text (ending in a newline), for
 * cli_usage() and cli_die().  Both strings must outlive the program. */
void cli_setup(const char *prog, const char *usage);

/* Print the usage text to f. */
void cli_usage(FILE *f);

/*
 * --help: print the usage text, an empty line and then fmt (the options
 * by group, each with its default, and the exit statuses) on stdout, and
 * exit 0; or 1 when stdout does not take it all.
 */
void cli_help(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

/* Print "PROG: message" to stderr, then the usage text when code is
 * SF_EXIT_USAGE, and exit with code. */
void cli_die(int code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

/* Ignore SIGPIPE, so a reader gone away is an EPIPE to handle.  -1 with
 * errno on error. */
int cli_ignore_sigpipe(void);

/*
 * The end of sfcat's and sfpipe's --help options, and what their words
 * mean: part of a cli_help() format, taking STREAM_DEFAULT for its %s.
 */
#define CLI_HELP_TOOL_END \
	"Other:\n" \
	"  -h, --help                print this help and exit\n" \
	"  --version                 print the version and exit\n" \
	"\n" \
	"STREAM is 1 to 64 of A-Z a-z 0-9 . _ - [default: %s].  ADDR is a " \
	"socket\n" \
	"path, unix:PATH, tcp:HOST:PORT or tcp:[V6ADDR]:PORT; the default " \
	"is\n" \
	"$SF_SERVER, else $XDG_RUNTIME_DIR/streamfan.sock, else " \
	"/tmp/streamfan-UID.sock.\n" \
	"SIZE is in bytes, or with k, M or G (1k = 1024).\n"

#endif

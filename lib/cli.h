/* What the command-line tools share beyond the protocol. */
#ifndef SF_CLI_H
#define SF_CLI_H

#include <stddef.h>

/*
 * Describe the option getopt_long(3) just refused, for a one-line usage
 * error: "unknown option --bogus" or "option -s needs a value".  Call it
 * with getopt's return (':' or '?', with ':' leading the optstring) and
 * with opterr set to 0, so getopt prints nothing itself.  Returns buf.
 */
const char *cli_bad_option(int ch, char *const argv[], char *buf, size_t cap);

#endif

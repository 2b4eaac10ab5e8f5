#include <getopt.h>
#include <stdio.h>

#include "cli.h"

const char *
cli_bad_option(int ch, char *const argv[], char *buf, size_t cap)
{
	/* A long option is only known by the word getopt just passed. */
	const char *word = argv[optind - 1];

	if (ch == ':' && optopt != 0)
		snprintf(buf, cap, "option -%c needs a value", optopt);
	else if (ch == ':')
		snprintf(buf, cap, "option %s needs a value", word);
	else if (optopt != 0)
		snprintf(buf, cap, "unknown option -%c", optopt);
	else
		snprintf(buf, cap, "unknown option %s", word);
	return buf;
}

/* sfd's command line, parsed into a configuration and listeners. */
#ifndef SFD_OPTIONS_H
#define SFD_OPTIONS_H

#include <sys/types.h>

#include "listener.h"
#include "sfd.h"

#define MAX_LISTENERS   16

struct options {
	struct config cfg;
	struct listener listeners[MAX_LISTENERS];
	int nlisteners;
	int nprotocol;       /* -l listeners (not plain, not passed) */
	mode_t mode;         /* --mode of the socket files */
	gid_t group;         /* --group, (gid_t)-1 for none */
	int lag_time;        /* --lag-time was given */
	int sync;            /* --sync was given */
};

/*
 * Parse sfd's arguments into o: the defaults, each option checked, the
 * checks between them, and the listeners (passed by a service manager,
 * or the default address when no -l is given).  --help and --version
 * exit 0 here; anything wrong exits with a one-line message.
 */
void options_parse(struct options *o, int argc, char *argv[]);

#endif

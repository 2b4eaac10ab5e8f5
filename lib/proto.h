/*
 * Protocol version 1: what client and daemon agree on beyond frames.
 * The whole protocol is described in sf-protocol(7).
 */
#ifndef SF_PROTO_H
#define SF_PROTO_H

#define PROTO_VERSION      "1"
#define STREAM_NAME_MAX    64
#define STREAM_DEFAULT     "default"

/* Defaults shared by the daemon and the tools. */
#define DEFAULT_MAX_FRAME  (1u << 20)           /* 1 MiB */
#define DEFAULT_RING       (64u << 20)          /* 64 MiB */

/* Exit codes of the programs (sfd uses the first three); see EXIT STATUS
 * in their man pages. */
enum sf_exit {
	SF_EXIT_OK = 0,
	SF_EXIT_ERROR = 1,      /* local failure: stdin, stdout, memory */
	SF_EXIT_USAGE = 2,
	SF_EXIT_CONNECT = 3,    /* cannot connect, or refused for now: full,
	                           too-many-streams, spool, no-memory,
	                           hello-timeout; a later try may succeed */
	SF_EXIT_EVICTED = 4,    /* dropped for lagging, or kicked by sfctl */
	SF_EXIT_GONE = 5,       /* daemon shut down or connection lost */
	SF_EXIT_PROTOCOL = 6,   /* refused for good (denied, a bad hello, any
	                           other reason), or the daemon sent or said
	                           something wrong: trying again won't help */
	SF_EXIT_TIMEOUT = 7,    /* --timeout: sfcat got no frame, sfpipe too few
	                           subscribers, for that long */
	SF_EXIT_SKIPPED = 8     /* sfpipe: records over --max-frame were skipped */
};

/* 1 if name is a valid stream name: 1 to 64 of [A-Za-z0-9._-]. */
int proto_stream_valid(const char *name);

#endif

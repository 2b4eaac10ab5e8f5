/*
 * The daemon's log: one line per event on stderr, each starting "sfd: ";
 * with -v, and not on the journal, after the time it was logged.
 */
#ifndef SFD_LOG_H
#define SFD_LOG_H

enum log_level {
	LOG_ERROR,   /* the daemon itself is in trouble; shown even with -q */
	LOG_NOTICE,  /* what scripts wait for: "listening on"; also with -q */
	LOG_INFO,    /* evictions, refused clients, shutdown: the default */
	LOG_DEBUG    /* every connection and hello: -v */
};

/* Show messages up to and including this level.  At LOG_DEBUG (-v) each
 * line starts with its time, unless stderr is the journal's. */
void log_set_level(enum log_level max);
int log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Write out what the log holds back, and the count of lines dropped if
 * any, as far as stderr takes it now.  1 while something still waits:
 * the loop must come back soon (LOG_RETRY_MS).
 */
int log_flush(void);
#define LOG_RETRY_MS 100

/* Log a line about client c, prefixed with "#ID pid=P uid=U gid=G: ". */
struct client;
void log_client(const struct client *c, enum log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

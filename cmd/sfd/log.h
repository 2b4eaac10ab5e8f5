/* The daemon's log: one line per event on stderr, each starting "sfd: ". */
#ifndef SFD_LOG_H
#define SFD_LOG_H

enum log_level {
	LOG_ERROR,       /* the daemon itself is in trouble; shown even with -q */
	LOG_NOTICE = LOG_ERROR, /* what scripts wait for: "listening on" */
	LOG_INFO,    /* evictions, refused clients, shutdown: the default */
	LOG_DEBUG    /* every connection and hello: -v */
};

/* Show messages up to and including this level. */
void log_set_level(enum log_level max);
int log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif

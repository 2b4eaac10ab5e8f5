/*
 * Small I/O helpers for the command-line tools: loops over EINTR and short
 * transfers so callers see one result per call, and stop signals that end
 * any wait at once.
 */
#ifndef SF_IO_H
#define SF_IO_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

/* How often a blocked write(2) or connect(2) wakes to see a stop signal
 * that came just before it began (ms). */
#define IO_TICK_MS  100

/*
 * Catch SIGINT, SIGTERM and SIGHUP, the signals that ask a tool to stop,
 * with a handler that only notes the first one (no SA_RESTART: a blocked
 * call returns).  From then on every helper below, once one came, gives
 * up with -1 and errno EINTR instead of retrying or waiting, within
 * IO_TICK_MS, and io_stopped() names it.  Before, they retry on EINTR.
 * Returns 0, or -1 with errno.
 */
int io_catch_stop(void);

/* The stop signal that came, or 0. */
int io_stopped(void);

/*
 * While on, interrupt every blocking call each IO_TICK_MS (SIGALRM), so
 * that one which began just after a stop signal came returns in time.
 * For calls that cannot wait in io_poll(): write(2), connect(2), and a
 * tool's last steps after a stop.  Once off, at most one more tick may
 * come (it stops the timer), which the helpers here retry through.
 * Does nothing before io_catch_stop().
 */
void io_ticking(int on);

/*
 * poll(2) for at most timeout_ms (-1: no limit), through other signals.
 * Returns poll's result, or -1 with errno EINTR once a stop signal came:
 * one that comes just before the wait is not missed (ppoll(2) lets the
 * stop signals in only while waiting).  n may be 0, to sleep.
 */
int io_poll(struct pollfd *pfd, nfds_t n, int timeout_ms);

/*
 * Write all of buf[0..len) to a blocking fd.  Returns 0, or -1 with errno
 * (EPIPE when the reader went away; SIGPIPE must be ignored by the caller).
 */
int io_write_all(int fd, const void *buf, size_t len);

/* io_write_all(), saying in *done how much of buf was written: all of it
 * on success, what went before the error or the stop signal otherwise. */
int io_write_counted(int fd, const void *buf, size_t len, size_t *done);

/* read(2) retried on EINTR, as long as no stop signal came. */
ssize_t io_read(int fd, void *buf, size_t len);

/*
 * Read exactly len bytes from a blocking fd, waiting at most timeout_ms in
 * total (-1: no limit).  Returns 0, or -1 with errno: ETIMEDOUT, ECONNRESET
 * when the peer closed first, or read(2)'s.
 */
int io_read_full(int fd, void *buf, size_t len, int timeout_ms);

/* Set O_NONBLOCK on fd.  -1 with errno on error. */
int io_set_nonblock(int fd);

/*
 * Sleep about *ms milliseconds (with jitter, so a crowd of clients does
 * not come back all at once), then double *ms up to max.  A stop signal
 * ends the sleep at once.
 */
void io_backoff(long long *ms, long long max);

/*
 * Best effort: let a pipe at fd hold bytes (F_SETPIPE_SZ), so a fast peer
 * is woken less often.  Does nothing for other kinds of fd.
 */
void io_grow_pipe(int fd, int bytes);

/* Monotonic clock in milliseconds. */
long long io_now_ms(void);

#endif

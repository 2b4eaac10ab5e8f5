/* Small I/O helpers for the command-line tools: loops over EINTR and short
 * transfers so callers see one result per call. */
#ifndef SF_IO_H
#define SF_IO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Write all of buf[0..len) to a blocking fd.  Returns 0, or -1 with errno
 * (EPIPE when the reader went away; SIGPIPE must be ignored by the caller).
 */
int io_write_all(int fd, const void *buf, size_t len);

/* read(2) retried on EINTR. */
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
 * not come back all at once), then double *ms up to max.
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

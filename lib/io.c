#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

int
io_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t
io_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	while ((n = read(fd, buf, len)) == -1 && errno == EINTR)
		;
	return n;
}

long long
io_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
io_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	long long deadline = io_now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char *p = buf;
	long long left;
	ssize_t n;
	int rc;

	while (len > 0) {
		if (timeout_ms >= 0) {
			if ((left = deadline - io_now_ms()) < 0)
				left = 0;
			rc = poll(&pfd, 1, (int)left);
			if (rc == -1 && errno == EINTR)
				continue;
			if (rc == -1)
				return -1;
			if (rc == 0) {
				errno = ETIMEDOUT;
				return -1;
			}
		}
		if ((n = io_read(fd, p, len)) == -1) {
			if (errno == EAGAIN)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
io_set_nonblock(int fd)
{
	int flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1)
		return -1;
	return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void
io_backoff(long long *ms, long long max)
{
	unsigned int r = 0;
	struct timespec ts;
	long long t;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned int)getpid();
	t = *ms / 2 + (long long)(r % (unsigned int)(*ms / 2 + 1));
	ts.tv_sec = t / 1000;
	ts.tv_nsec = (t % 1000) * 1000000;
	(void)nanosleep(&ts, NULL);   /* a signal only shortens the wait */
	*ms = *ms * 2 > max ? max : *ms * 2;
}

void
io_grow_pipe(int fd, int bytes)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(fd, F_SETPIPE_SZ, bytes);   /* may exceed the limit */
}

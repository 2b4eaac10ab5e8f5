#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

static volatile sig_atomic_t io_stop_sig;   /* the first stop signal */
static sigset_t io_stop_set;                /* SIGINT, SIGTERM, SIGHUP */
static int io_catching;                     /* io_catch_stop() was called */
static volatile sig_atomic_t tick_wanted;   /* io_ticking(1) in force */
static volatile sig_atomic_t tick_armed;    /* the timer runs */

static void
on_stop(int sig)
{
	if (io_stop_sig == 0)
		io_stop_sig = sig;
}

/*
 * A tick only has to interrupt the call it came during.  The first one
 * that finds ticks no longer wanted stops the timer (alarm(2) is
 * async-signal-safe): so io_ticking(0) needs no system call, and a tool
 * that writes a record at a time arms the timer once, not twice a record.
 */
static void
on_tick(int sig)
{
	int saved = errno;

	(void)sig;
	if (!tick_wanted) {
		(void)alarm(0);
		tick_armed = 0;
	}
	errno = saved;
}

int
io_catch_stop(void)
{
	static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	if (sigemptyset(&io_stop_set) == -1)
		return -1;
	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		if (sigaddset(&io_stop_set, stops[i]) == -1)
			return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_mask = io_stop_set;   /* one at a time: the first one counts */
	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		if (sigaction(stops[i], &sa, NULL) == -1)
			return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		return -1;
	/* A parent may have left them blocked: they would never come. */
	if (sigprocmask(SIG_UNBLOCK, &io_stop_set, NULL) == -1)
		return -1;
	io_catching = 1;
	return 0;
}

int
io_stopped(void)
{
	return io_stop_sig;
}

void
io_ticking(int on)
{
	struct itimerval it;

	if (!io_catching)
		return;
	/* Wanted before armed is looked at: a tick in between keeps the
	 * timer, one before it stops it and we start it again. */
	tick_wanted = on;
	atomic_signal_fence(memory_order_seq_cst);
	if (!on || tick_armed)
		return;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = (suseconds_t)IO_TICK_MS * 1000;
	it.it_interval = it.it_value;
	/* Fails only for values out of range, which these are not. */
	(void)setitimer(ITIMER_REAL, &it, NULL);
	tick_armed = 1;
}

int
io_poll(struct pollfd *pfd, nfds_t n, int timeout_ms)
{
	long long deadline = io_now_ms() + timeout_ms, left;
	struct timespec ts, *tp = NULL;
	sigset_t wait_mask;
	int rc, saved;

	/* The stop signals stay out between the check and the wait, and
	 * ppoll(2) lets them in for the wait alone (wait_mask is the mask
	 * from before, which does not block them). */
	if (io_catching &&
	    sigprocmask(SIG_BLOCK, &io_stop_set, &wait_mask) == -1)
		return -1;
	for (;;) {
		if (io_stop_sig != 0) {
			errno = EINTR;
			rc = -1;
			break;
		}
		if (timeout_ms >= 0) {
			if ((left = deadline - io_now_ms()) < 0)
				left = 0;
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000;
			tp = &ts;
		}
		rc = ppoll(pfd, n, tp, io_catching ? &wait_mask : NULL);
		if (rc != -1 || errno != EINTR)
			break;
	}
	saved = errno;
	if (io_catching)
		(void)sigprocmask(SIG_SETMASK, &wait_mask, NULL);  /* as before */
	errno = saved;
	return rc;
}

int
io_write_all(int fd, const void *buf, size_t len)
{
	size_t done;

	return io_write_counted(fd, buf, len, &done);
}

int
io_write_counted(int fd, const void *buf, size_t len, size_t *done)
{
	const char *p = buf;
	ssize_t n;
	int rc = 0, saved;

	*done = 0;
	if (len == 0)
		return 0;
	if (io_stop_sig != 0) {
		errno = EINTR;
		return -1;
	}
	/* A stop signal that comes between the check and write(2) does not
	 * interrupt it, and the fd may stay full for ever: the next tick
	 * does. */
	io_ticking(1);
	while (*done < len) {
		if (io_stop_sig != 0) {
			errno = EINTR;
			rc = -1;
			break;
		}
		if ((n = write(fd, p + *done, len - *done)) == -1) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		*done += (size_t)n;
	}
	saved = errno;
	io_ticking(0);
	errno = saved;
	return rc;
}

ssize_t
io_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	while ((n = read(fd, buf, len)) == -1 && errno == EINTR &&
	    io_stop_sig == 0)
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
		if (timeout_ms < 0)
			left = -1;
		else if ((left = deadline - io_now_ms()) < 0)
			left = 0;
		if ((rc = io_poll(&pfd, 1, (int)left)) == -1)
			return -1;
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
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
	long long t;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned int)getpid();
	t = *ms / 2 + (long long)(r % (unsigned int)(*ms / 2 + 1));
	/* -1 only for a stop signal: the caller asks io_stopped(). */
	(void)io_poll(NULL, 0, (int)t);
	*ms = *ms * 2 > max ? max : *ms * 2;
}

void
io_grow_pipe(int fd, int bytes)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(fd, F_SETPIPE_SZ, bytes);   /* may exceed the limit */
}

/*
 * Fault injection for the stress tests, preloaded into sfd
 * (LD_PRELOAD=fault.so).  Each variable makes one call fail the way the
 * kernel could, so that the daemon's handling of it can be seen:
 *
 *   SF_FAULT_EPOLL_WAIT=N   the Nth epoll_wait(2) and later fail (EINVAL)
 *   SF_FAULT_DEVNULL=N      after N opens of /dev/null, open fails (EMFILE)
 *
 * Unset, every call goes through unchanged.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

static long
limit(const char *name)
{
	const char *v = getenv(name);

	return v == NULL ? -1 : strtol(v, NULL, 10);
}

int
epoll_wait(int ep, struct epoll_event *evs, int max, int timeout)
{
	static int (*real)(int, struct epoll_event *, int, int);
	static long calls;
	long n = limit("SF_FAULT_EPOLL_WAIT");

	if (n > 0 && ++calls >= n) {
		errno = EINVAL;
		return -1;
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "epoll_wait");
	return real(ep, evs, max, timeout);
}

static int
open_devnull(const char *path)
{
	static long opens;
	long n = limit("SF_FAULT_DEVNULL");

	return n >= 0 && strcmp(path, "/dev/null") == 0 && opens++ >= n;
}

int
open(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (open_devnull(path)) {
		errno = EMFILE;
		return -1;
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "open");
	return real(path, flags, mode);
}

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sfd.h"

static enum log_level shown = LOG_INFO;

void
log_set_level(enum log_level max)
{
	shown = max;
}

int
log_enabled(enum log_level level)
{
	return level <= shown;
}

/*
 * Build the whole line first and hand it to write(2) at once, so lines
 * never interleave and no stdio buffer is left half-flushed.  A log write
 * that fails is dropped: the daemon must not stop for its log.
 */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	size_t n = 5;
	va_list ap;
	int k;

	if (!log_enabled(level))
		return;
	memcpy(line, "sfd: ", n);
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	n += (size_t)k < sizeof(line) - n - 1 ? (size_t)k : sizeof(line) - n - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
client_log(const struct client *c, enum log_level level, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, "#%llu pid=%ld uid=%ld gid=%ld: %s",
	    (unsigned long long)c->id, (long)c->pid, (long)c->uid, (long)c->gid,
	    msg);
}

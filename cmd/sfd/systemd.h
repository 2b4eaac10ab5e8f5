/*
 * Running under a service manager, by its documented protocols and with
 * libc only: sockets passed at start (LISTEN_FDS), readiness and status
 * (NOTIFY_SOCKET).  Both are no-ops when the variables are not set.
 */
#ifndef SFD_SYSTEMD_H
#define SFD_SYSTEMD_H

#include "listener.h"

/*
 * Adopt the sockets passed to this process (LISTEN_PID is ours): fd 3 on,
 * LISTEN_FDS of them, each filled into the next of the cap listeners at
 * ls.  A socket named (LISTEN_FDNAMES) plain-NAME serves --plain-listen
 * clients of stream NAME.  Adopted sockets are never unlinked.  Returns
 * how many were adopted, or -1 with a reason in msg.  The variables are
 * removed, so that no child takes them for its own.
 */
int systemd_adopt(struct listener *ls, int cap, char *msg, size_t cap_msg);

/* Send "READY=1", "STATUS=...", "STOPPING=1" and the like to the service
 * manager, if it listens (NOTIFY_SOCKET).  Never blocks. */
void systemd_notify(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "hello.h"
#include "listener.h"
#include "log.h"
#include "server.h"

#define ACCEPTS_PER_TURN 64

/* Watch l for events (EPOLLIN, or 0 for none).  -1, logged, on error. */
static int
watch_listener(struct listener *l, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = &l->w;
	if (epoll_ctl(l->srv->ep, EPOLL_CTL_MOD, l->w.fd, &ev) == -1) {
		log_msg(LOG_ERROR, "epoll_ctl on %s: %s", l->addr.text,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Out of descriptors with no spare to refuse the waiting connection by:
 * it would make epoll report this listener at once, forever.  Stop
 * watching it for a moment instead; the connection waits in the backlog.
 */
static void
pause_listener(struct listener *l)
{
	struct server *s = l->srv;
	int err = errno;   /* why the spare could not be had */

	if (watch_listener(l, 0) == -1)
		return;
	if (!s->spare_lost)
		log_msg(LOG_ERROR, "out of file descriptors and none spare "
		    "(open /dev/null: %s): new connections wait until some "
		    "are free", strerror(err));
	s->spare_lost = 1;
	l->paused = 1;
	if (s->accept_resume == 0)
		s->accept_resume = s->now + ACCEPT_PAUSE_MS;
}

void
listener_resume(struct listener *l)
{
	if (!l->paused || l->w.fd == -1)
		return;
	if (watch_listener(l, EPOLLIN) == -1) {
		l->srv->accept_resume = l->srv->now + ACCEPT_PAUSE_MS;
		return;
	}
	l->paused = 0;
}

/* Accept what is waiting.  Level-triggered: what is left waits for the
 * next turn, so one busy listener cannot starve the clients. */
static void
on_accept(struct watch *w, uint32_t events)
{
	struct listener *l = (struct listener *)w;
	struct server *s = l->srv;
	struct client *c;
	int i, fd;

	(void)events;
	for (i = 0; i < ACCEPTS_PER_TURN; i++) {
		fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			c = client_accept(s, fd, l->addr.kind == ADDR_TCP);
			if (c != NULL && l->plain[0] != '\0')
				hello_plain(c, l->plain);
			continue;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
			continue;
		case EAGAIN:
			return;
		case EMFILE:
		case ENFILE:
			/*
			 * Out of descriptors: the pending connection would
			 * make epoll report this listener forever.  Spend the
			 * spare descriptor to take it, tell it, and close it.
			 */
			if (server_spare_restore(s) == -1) {
				pause_listener(l);
				return;
			}
			if (s->spare_lost)
				log_msg(LOG_INFO, "have a spare descriptor "
				    "again");
			s->spare_lost = 0;
			(void)server_spare_lend(s);
			fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd != -1) {
				log_msg(LOG_INFO, "refused a connection: out of "
				    "file descriptors");
				client_refuse(fd, "full");
			}
			if (server_spare_restore(s) == -1) {
				pause_listener(l);
				return;
			}
			if (fd == -1)
				return;
			continue;
		default:
			log_msg(LOG_ERROR, "accept on %s: %s", l->addr.text,
			    strerror(errno));
			return;
		}
	}
}

void
listener_close(struct listener *l)
{
	if (l->w.fd == -1)
		return;
	/* The name goes first: a client then finds no socket, never one
	 * that refuses it.  An adopted socket's file is the manager's. */
	if (!l->adopted && addr_unlink(&l->addr) == -1 && errno != ENOENT)
		log_msg(LOG_ERROR, "remove %s: %s", l->addr.text,
		    strerror(errno));
	(void)epoll_ctl(l->srv->ep, EPOLL_CTL_DEL, l->w.fd, NULL);
	close(l->w.fd);
	l->w.fd = -1;
}

const char *
listener_open(struct server *s, struct listener *l, mode_t mode, gid_t group,
    char *msg, size_t cap)
{
	struct epoll_event ev;
	char why[160];
	int err;

	l->srv = s;
	l->w.fn = on_accept;
	if (!l->adopted)
		l->w.fd = addr_listen(&l->addr, 0600, 128);
	if (l->w.fd != -1 && l->addr.kind == ADDR_UNIX && !l->adopted &&
	    ((group != (gid_t)-1 &&
	    chown(l->addr.path, (uid_t)-1, group) == -1) ||
	    chmod(l->addr.path, mode) == -1)) {
		err = errno;
		close(l->w.fd);
		(void)addr_unlink(&l->addr);
		l->w.fd = -1;
		errno = err;
	}
	if (l->w.fd == -1) {
		err = errno;
		if (err == EADDRINUSE && l->addr.kind == ADDR_UNIX)
			snprintf(msg, cap, "%s: another sfd is listening",
			    l->addr.text);
		else if (err == EEXIST)
			snprintf(msg, cap, "%s: exists and is not a socket; "
			    "not touching it", l->addr.text);
		else if (err == EWOULDBLOCK && l->addr.kind == ADDR_UNIX)
			snprintf(msg, cap, "%s: %s.lock stayed locked for 5 s: "
			    "is another sfd starting?", l->addr.text,
			    l->addr.path);
		else if (err == ENOLCK && l->addr.kind == ADDR_UNIX)
			snprintf(msg, cap, "%s: %s.lock exists and is not a "
			    "regular file; not touching it", l->addr.text,
			    l->addr.path);
		else if (err == EADDRNOTAVAIL &&
		    addr_unresolved(&l->addr, 1, why, sizeof(why)))
			snprintf(msg, cap, "cannot listen on %s: %s",
			    l->addr.text, why);
		else
			snprintf(msg, cap, "cannot listen on %s: %s",
			    l->addr.text, strerror(err));
		errno = err;
		return msg;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &l->w;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, l->w.fd, &ev) == -1) {
		err = errno;
		snprintf(msg, cap, "epoll_ctl: %s", strerror(err));
		close(l->w.fd);
		(void)addr_unlink(&l->addr);
		l->w.fd = -1;
		errno = err;
		return msg;
	}
	return NULL;
}

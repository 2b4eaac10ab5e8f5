/*
 * sfd: fan one live stream of frames out to any number of local consumers.
 *
 * One thread, one epoll loop, non-blocking sockets.  Each stream keeps its
 * recent frames in one ring; a subscriber is only a position in it.  A
 * subscriber that falls too far behind is evicted, so no consumer can slow
 * the publisher or the other consumers.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli.h"
#include "guard.h"
#include "listener.h"
#include "log.h"
#include "options.h"
#include "proto.h"
#include "restore.h"
#include "server.h"
#include "systemd.h"

static struct options options;
static struct watch sigwatch;
static struct server server;

static void
close_listeners(void)
{
	int i;

	for (i = 0; i < options.nlisteners; i++)
		listener_close(&options.listeners[i]);
}

static void
on_signal(struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;
	ssize_t n;

	(void)events;
	while ((n = read(w->fd, &si, sizeof(si))) == (ssize_t)sizeof(si))
		server_shutdown(&server, close_listeners);   /* all three mean "stop" */
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		log_msg(LOG_ERROR, "signalfd: %s", strerror(errno));
}

static int
watch_add(int ep, struct watch *w, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = w;
	return epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev);
}

static void
setup_signals(int ep)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	/* SIGXFSZ too: a ring file past ulimit -f is an error (EFBIG)
	 * when it is made, not the end of the daemon. */
	if (sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGXFSZ, &sa, NULL) == -1)
		cli_die(SF_EXIT_ERROR, "sigaction: %s", strerror(errno));
	sigemptyset(&set);
	/* SIGHUP too: the daemon has no file to reopen (its log is
	 * stderr), and a hang-up must not leave the socket file behind. */
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (sigwatch.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    watch_add(ep, &sigwatch, EPOLLIN) == -1)
		cli_die(SF_EXIT_ERROR, "signals: %s", strerror(errno));
	sigwatch.fn = on_signal;
}

static void
cleanup(struct server *s)
{
	close_listeners();
	server_free(s);
	close(sigwatch.fd);
}

/* The spool's folder, locked, and the rings it holds taken up again. */
static void
open_spool(struct server *s)
{
	char why[512];

	if ((s->spool_fd = spool_lock(s->cfg.spool, why, sizeof(why))) == -1)
		cli_die(SF_EXIT_ERROR, "--spool %s: %s", s->cfg.spool, why);
	if (restore_spool(s, why, sizeof(why)) == -1) {
		server_free(s);
		cli_die(SF_EXIT_ERROR, "%s", why);
	}
}

/* Listen on every address asked for, each said in the log. */
static void
open_listeners(struct server *s, struct options *o)
{
	struct listener *l;
	const char *e;
	char msg[256];
	int i;

	for (i = 0; i < o->nlisteners; i++)
		if (!o->listeners[i].adopted)
			o->listeners[i].w.fd = -1;
	s->listeners = o->listeners;
	s->nlisteners = o->nlisteners;
	setup_signals(s->ep);
	for (i = 0; i < o->nlisteners; i++) {
		if ((e = listener_open(s, &o->listeners[i], o->mode, o->group,
		    msg, sizeof(msg))) != NULL) {
			close_listeners();
			cli_die(SF_EXIT_ERROR, "%s", e);
		}
	}
	for (i = 0; i < o->nlisteners; i++) {
		l = &o->listeners[i];
		if (l->plain[0] != '\0')
			log_msg(LOG_NOTICE, "listening on %s (plain: frames of "
			    "stream %s)", l->addr.text, l->plain);
		else
			log_msg(LOG_NOTICE, "listening on %s%s", l->addr.text,
			    l->adopted ? " (passed by the service manager)" :
			    "");
	}
	systemd_notify("READY=1\nSTATUS=listening on %d address%s",
	    o->nlisteners, o->nlisteners == 1 ? "" : "es");
}

int
main(int argc, char *argv[])
{
	struct server *s = &server;
	int rc;

	options_parse(&options, argc, argv);
	/* A ring file cut short under sfd is its stream's loss, logged, not
	 * a SIGBUS that ends every stream (server_check_damage). */
	if (guard_install() == -1)
		cli_die(SF_EXIT_ERROR, "sigaction: %s", strerror(errno));
	if (server_init(s, &options.cfg) == -1)
		cli_die(SF_EXIT_ERROR, "%s", strerror(errno));
	if (s->cfg.spool != NULL)
		open_spool(s);
	open_listeners(s, &options);
	/* The loop, until a shutdown (server_shutdown) has closed every
	 * client. */
	while ((rc = server_turn(s, -1)) == 0 &&
	    !(s->stopping && s->nclients == 0))
		;
	/* A loop that cannot wait is an error, after the same clean-up:
	 * server_turn has said why. */
	if (rc == -1)
		log_msg(LOG_ERROR, "stopping on an error");
	cleanup(s);
	log_msg(LOG_INFO, "exit");
	return rc == -1 ? SF_EXIT_ERROR : SF_EXIT_OK;
}

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "access.h"
#include "admin.h"
#include "client.h"
#include "guard.h"
#include "io.h"
#include "listener.h"
#include "log.h"
#include "server.h"
#include "stream.h"
#include "systemd.h"

int
server_init(struct server *s, const struct config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->clock = io_now_ms;
	s->started_ms = s->clock();
	if (s->cfg.stats_ms > 0)
		s->stats_due = s->started_ms + (long long)s->cfg.stats_ms;
	TAILQ_INIT(&s->clients);
	TAILQ_INIT(&s->hello);
	TAILQ_INIT(&s->leaving);
	TAILQ_INIT(&s->lingering);
	TAILQ_INIT(&s->ready);
	TAILQ_INIT(&s->pending);
	TAILQ_INIT(&s->graveyard);
	TAILQ_INIT(&s->streams);
	TAILQ_INIT(&s->dirty);
	if ((s->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	/* Descriptors can still run out; the spare lets a connection be
	 * refused with a word, and without it the listener pauses rather
	 * than spins (see on_accept in listener.c). */
	s->spare_fd = -1;
	(void)server_spare_restore(s);
	s->spool_fd = -1;
	if (s->cfg.spool != NULL && s->cfg.sync_ms > 0)
		s->sync_due = s->started_ms + (long long)s->cfg.sync_ms;
	return 0;
}

/* Make *timeout (ms, -1 for none) no later than in ms from now. */
static void
sooner(int *timeout, long long in)
{
	if (in < 0)
		in = 0;
	if (in > 0x7fffffff)
		in = 0x7fffffff;
	if (*timeout == -1 || in < *timeout)
		*timeout = (int)in;
}

/*
 * What is due by the clock besides clients: paused listeners, the
 * --stats-interval line, the spool's --sync.  Brings *timeout forward to
 * the next of them.
 */
static void
run_timers(struct server *s, int *timeout)
{
	int i;

	if (s->accept_resume > 0 && s->now >= s->accept_resume) {
		s->accept_resume = 0;
		for (i = 0; i < s->nlisteners; i++)
			listener_resume(&s->listeners[i]);
	}
	if (s->accept_resume > 0)
		sooner(timeout, s->accept_resume - s->now);
	if (s->stats_due > 0 && s->now >= s->stats_due) {
		admin_log_stats(s);
		systemd_notify("STATUS=%llu clients, %llu streams",
		    (unsigned long long)s->nclients,
		    (unsigned long long)s->nstreams);
		s->stats_due = s->now + (long long)s->cfg.stats_ms;
	}
	if (s->stats_due > 0)
		sooner(timeout, s->stats_due - s->now);
	if (s->sync_due > 0 && s->now >= s->sync_due) {
		stream_sync_all(s);   /* --sync SECONDS */
		s->sync_due = s->now + (long long)s->cfg.sync_ms;
	}
	if (s->sync_due > 0)
		sooner(timeout, s->sync_due - s->now);
	else if (s->cfg.spool != NULL)
		stream_sync_all(s);   /* --sync 0: before each sleep */
}

int
server_turn(struct server *s, int max_wait)
{
	struct epoll_event evs[256];
	struct watch *w;
	int i, n, timeout, tick;

	s->now = s->clock();
	timeout = client_expire(s);
	if ((tick = client_tick(s)) != -1)
		sooner(&timeout, tick);
	client_settle(s);
	client_reap(s);
	if (s->stopping && s->nclients == 0)
		return 0;
	run_timers(s, &timeout);
	if (log_flush())
		sooner(&timeout, LOG_RETRY_MS);
	if (s->nready > 0)
		timeout = 0;
	if (max_wait >= 0)
		sooner(&timeout, max_wait);
	n = epoll_wait(s->ep, evs, (int)(sizeof(evs) / sizeof(evs[0])),
	    timeout);
	if (n == -1) {
		if (errno == EINTR)
			return 0;
		log_msg(LOG_ERROR, "epoll_wait: %s", strerror(errno));
		return -1;
	}
	s->now = s->clock();
	for (i = 0; i < n; i++) {
		w = evs[i].data.ptr;
		w->fn(w, evs[i].events);
	}
	client_read_ready(s);
	client_settle(s);
	client_reap(s);
	return 0;
}

void
server_check_damage(struct server *s)
{
	struct client *c, *next;
	struct stream *st;
	int marked;

	guard_clear();
	for (st = TAILQ_FIRST(&s->streams); st != NULL;
	    st = TAILQ_NEXT(st, link)) {
		if (st->spool == NULL || st->damaged || (!st->cut_short &&
		    !ring_damaged(st->ring) && !spool_damaged(st->spool)))
			continue;
		st->damaged = 1;
		st->unsynced = 0;   /* nothing more goes to that file */
		marked = spool_mark_damaged(st->spool) == 0;
		log_msg(LOG_ERROR, "stream %s: its ring file %s/%s%s was cut "
		    "short while in use (read or written past its end); its "
		    "clients are cut off, it takes no new ones, and %s",
		    st->name, s->cfg.spool, st->name, SPOOL_SUFFIX, marked ?
		    "the file is marked to be refused on the next start" :
		    "the file could not be marked damaged");
		/* A cut-off may close a client at once: walk with care. */
		for (c = TAILQ_FIRST(&st->subs); c != NULL; c = next) {
			next = TAILQ_NEXT(c, slink);
			c->ops->cut_off(c, CUT_DAMAGED, "");
		}
		for (c = TAILQ_FIRST(&st->pubs); c != NULL; c = next) {
			next = TAILQ_NEXT(c, slink);
			c->ops->cut_off(c, CUT_DAMAGED, "");
		}
	}
}

void
server_shutdown(struct server *s, void (*stop_listening)(void))
{
	struct client *c, *next;

	if (s->stopping) {
		log_msg(LOG_INFO, "second signal: closing all clients now");
		while ((c = TAILQ_FIRST(&s->clients)) != NULL)
			client_close(c);
		return;
	}
	s->stopping = 1;
	log_msg(LOG_INFO, "shutting down");
	systemd_notify("STOPPING=1\nSTATUS=shutting down");
	stop_listening();
	/* Cut off earlier, waiting for a reader to come back: --grace
	 * bounds them now, as everyone else. */
	while ((c = TAILQ_FIRST(&s->lingering)) != NULL)
		client_timer_set(c, &s->leaving, s->cfg.grace_ms);
	/* Each role says goodbye its own way: a subscriber first gets what
	 * the ring holds for it, a hello is simply closed. */
	for (c = TAILQ_FIRST(&s->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		c->ops->cut_off(c, CUT_SHUTDOWN, "");
	}
}

void
server_free(struct server *s)
{
	struct client *c;
	struct stream *st;

	while ((c = TAILQ_FIRST(&s->clients)) != NULL)
		client_close(c);
	client_reap(s);
	while ((st = TAILQ_FIRST(&s->streams)) != NULL) {
		TAILQ_REMOVE(&s->streams, st, link);
		stream_free(st);
	}
	(void)server_spare_lend(s);
	if (s->spool_fd != -1)
		close(s->spool_fd);
	access_free(s->cfg.publishers);
	access_free(s->cfg.subscribers);
	access_free(s->cfg.admins);
	close(s->ep);
}

void
server_tick_arm(struct server *s)
{
	if (s->tick == 0)
		s->tick = s->now + TICK_MS;
}

int
server_spare_lend(struct server *s)
{
	if (s->spare_fd == -1)
		return 0;
	close(s->spare_fd);
	s->spare_fd = -1;
	return 1;
}

int
server_spare_restore(struct server *s)
{
	if (s->spare_fd == -1 &&
	    (s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	return 0;
}

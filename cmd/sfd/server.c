#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "access.h"
#include "client.h"
#include "control.h"
#include "io.h"
#include "listener.h"
#include "log.h"
#include "queue.h"
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

int
server_turn(struct server *s, int max_wait)
{
	struct epoll_event evs[256];
	struct watch *w;
	int i, n, timeout, tick;

	s->now = s->clock();
	timeout = client_expire(s);
	tick = client_tick(s);
	if (tick != -1 && (timeout == -1 || tick < timeout))
		timeout = tick;
	client_settle(s);
	client_reap(s);
	if (s->stopping && s->nclients == 0)
		return 0;
	if (s->accept_resume > 0) {
		if (s->now >= s->accept_resume) {
			s->accept_resume = 0;
			for (i = 0; i < s->nlisteners; i++)
				listener_resume(&s->listeners[i]);
		} else if (timeout == -1 ||
		    s->accept_resume - s->now < timeout) {
			timeout = (int)(s->accept_resume - s->now);
		}
	}
	if (s->stats_due > 0) {
		/* --stats-interval: a line when due, then the next one. */
		if (s->now >= s->stats_due) {
			control_log_stats(s);
			systemd_notify("STATUS=%llu clients, %llu streams",
			    (unsigned long long)s->nclients,
			    (unsigned long long)s->nstreams);
			s->stats_due = s->now + (long long)s->cfg.stats_ms;
		}
		if (timeout == -1 || s->stats_due - s->now < timeout)
			timeout = (int)(s->stats_due - s->now);
	}
	if (s->sync_due > 0) {
		/* --sync SECONDS: what the rings took since the last one. */
		if (s->now >= s->sync_due) {
			stream_sync_all(s);
			s->sync_due = s->now + (long long)s->cfg.sync_ms;
		}
		if (timeout == -1 || s->sync_due - s->now < timeout)
			timeout = (int)(s->sync_due - s->now);
	} else if (s->cfg.spool != NULL) {
		stream_sync_all(s);   /* --sync 0: before each sleep */
	}
	if (log_flush() && (timeout == -1 || timeout > LOG_RETRY_MS))
		timeout = LOG_RETRY_MS;
	if (s->nready > 0)
		timeout = 0;
	if (max_wait >= 0 && (timeout == -1 || timeout > max_wait))
		timeout = max_wait;
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

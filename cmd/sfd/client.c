#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "control.h"
#include "ctl.h"
#include "frame.h"
#include "input.h"
#include "log.h"
#include "output.h"
#include "publisher.h"
#include "queue.h"
#include "stream.h"
#include "subscriber.h"

#define HELLO_BUF  (FRAME_HDR + FRAME_CTL_MAX)

static void on_event(struct watch *w, uint32_t events);

void
client_refuse(int fd, const char *reason)
{
	unsigned char buf[64];
	int n;

	n = ctl_frame(buf, sizeof(buf), "ERR reason=%s", reason);
	if (n > 0)
		/* One try: a client we refuse gets no more of our time. */
		(void)!send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

struct client *
client_accept(struct server *s, int fd, int tcp)
{
	struct epoll_event ev;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;

	if (s->nclients >= s->cfg.max_clients) {
		log_msg(LOG_INFO, "refused a connection: --max-clients %llu "
		    "reached", (unsigned long long)s->cfg.max_clients);
		client_refuse(fd, "full");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->in = malloc(HELLO_BUF)) == NULL) {
		log_msg(LOG_ERROR, "refused a connection: out of memory");
		if (c != NULL)
			free(c);
		client_refuse(fd, "no-memory");
		return NULL;
	}
	c->in_cap = HELLO_BUF;
	c->w.fd = fd;
	c->w.fn = on_event;
	c->srv = s;
	c->id = ++s->next_id;
	c->role = ROLE_HELLO;
	c->state = CS_HELLO;
	c->pid = -1;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	c->connected_ms = s->now;
	if (tcp) {
		/* No credentials on TCP: the address names the peer. */
		len = sizeof(c->sa);
		c->tcp = 1;
		if (getpeername(fd, (struct sockaddr *)&c->sa, &len) == -1)
			c->sa.ss_family = AF_UNSPEC;
		addr_format((struct sockaddr *)&c->sa, c->peer,
		    sizeof(c->peer));
		if (addr_tcp_tune(fd) == -1)
			client_log(c, LOG_DEBUG, "TCP options: %s",
			    strerror(errno));
	} else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->pid = cred.pid;
		c->uid = cred.uid;
		c->gid = cred.gid;
	}
	/*
	 * Edge-triggered with EPOLLOUT always on: a subscriber's socket
	 * turns writable again only after it filled up, which is exactly
	 * when there is something left to send, and no epoll_ctl(2) call is
	 * needed each time a subscriber blocks or drains.
	 */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = &c->w;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		log_msg(LOG_ERROR, "refused a connection: epoll_ctl: %s",
		    strerror(errno));
		free(c->in);
		free(c);
		client_refuse(fd, "no-memory");
		return NULL;
	}
	TAILQ_INSERT_TAIL(&s->clients, c, link);
	s->nclients++;
	client_timer_set(c, &s->hello, s->cfg.hello_ms);
	client_log(c, LOG_INFO, "connected");
	return c;
}

void
client_close(struct client *c)
{
	struct server *s = c->srv;
	struct stream *st = c->stream;

	if (c->state == CS_CLOSED)
		return;
	if (c->state == CS_HELD) {
		st->nheld--;
		s->nheld--;
	}
	c->state = CS_CLOSED;
	control_close(c);
	client_timer_clear(c);
	client_ready_clear(c);
	client_unschedule(c);
	if (st != NULL && c->role == ROLE_SUB) {
		TAILQ_REMOVE(&st->subs, c, slink);
		st->nsubs--;
	} else if (st != NULL && c->role == ROLE_PUB) {
		TAILQ_REMOVE(&st->pubs, c, slink);
		st->npubs--;
	}
	/* Cannot fail for a registered fd, and close() drops it anyway. */
	(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, c->w.fd, NULL);
	close(c->w.fd);
	c->w.fd = -1;
	free(c->in);
	c->in = NULL;
	free(c->sub.tail);
	c->sub.tail = NULL;
	free(c->admin.out);
	c->admin.out = NULL;
	TAILQ_REMOVE(&s->clients, c, link);
	s->nclients--;
	TAILQ_INSERT_TAIL(&s->graveyard, c, link);
}

void
client_reap(struct server *s)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&s->graveyard)) != NULL) {
		TAILQ_REMOVE(&s->graveyard, c, link);
		free(c);
	}
}

/* The peer is gone (EOF, or the socket error err): log it and close. */
static void
lost(struct client *c, int err)
{
	if (c->in_len > 0 && c->state != CS_DEPARTING)
		client_log(c, LOG_INFO, "disconnected in the middle of a frame; "
		    "%zu bytes discarded", c->in_len);
	else if (c->sub.skipped > 0)
		client_log(c, LOG_INFO, "disconnected; %llu frames skipped in "
		    "all (on-lag=skip)", (unsigned long long)c->sub.skipped);
	else if (err != 0)
		client_log(c, LOG_DEBUG, "disconnected: %s", strerror(err));
	else
		client_log(c, LOG_DEBUG, "disconnected");
	client_close(c);
}

static void
on_event(struct watch *w, uint32_t events)
{
	struct client *c = (struct client *)w;
	int err = 0;

	if (c->state == CS_CLOSED)
		return;
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
		c->blocked = 0;
		client_schedule(c);
	}
	if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
	    client_input(c, &err) == -1)
		lost(c, err);
}

void
client_read_ready(struct server *s)
{
	struct client *c;
	uint64_t n;
	int err = 0;

	/* Only those waiting now: ones cut short again wait for next turn. */
	for (n = s->nready; n > 0 && (c = TAILQ_FIRST(&s->ready)) != NULL;
	    n--) {
		client_ready_clear(c);
		if (client_input(c, &err) == -1)
			lost(c, err);
	}
}

/*
 * Act on c: its cut-off if one was decided, then write what it is owed,
 * then (a subscriber) the limits on what it could not take.  A limit
 * passed is acted on at once, once.
 */
static void
act(struct client *c)
{
	int round, err = 0;

	for (round = 0; round < 2; round++) {
		if (c->sub.cut != CUT_NONE && subscriber_cut(c) == -1) {
			client_close(c);
			return;
		}
		switch (c->role == ROLE_CTL ? control_flush(c, &err) :
		    client_flush(c, &err)) {
		case FLUSH_GONE:
			lost(c, err);
			return;
		case FLUSH_DONE:
			client_log(c, LOG_DEBUG, "closed after goodbye");
			client_close(c);
			return;
		case FLUSH_OK:
		case FLUSH_BLOCKED:
			break;
		}
		if (c->role != ROLE_SUB || !subscriber_check(c))
			return;
	}
}

void
client_settle(struct server *s)
{
	struct client *c;
	struct stream *st;

	stream_fanout(s);
	while ((c = TAILQ_FIRST(&s->pending)) != NULL) {
		client_unschedule(c);
		act(c);
	}
	/* Subscribers took what they could, or left: held publishers may
	 * go on (they are read on the next turn, without a wait). */
	if (s->nheld == 0)
		return;
	for (st = TAILQ_FIRST(&s->streams); st != NULL;
	    st = TAILQ_NEXT(st, link))
		publisher_release(st);
}

int
client_tick(struct server *s)
{
	struct client *c;
	struct stream *st;
	int again = 0;

	if (s->tick == 0)
		return -1;
	if (s->now < s->tick)
		return (int)(s->tick - s->now);
	s->tick = 0;
	TAILQ_FOREACH(st, &s->streams, link) {
		again |= st->nheld > 0;
		TAILQ_FOREACH(c, &st->subs, slink)
			again |= subscriber_tick(c);
	}
	if (again)
		server_tick_arm(s);
	return again ? TICK_MS : -1;
}

int
client_expire(struct server *s)
{
	struct client *c;
	long long next = -1, t;

	while ((c = TAILQ_FIRST(&s->hello)) != NULL &&
	    c->deadline <= s->now) {
		client_timer_clear(c);
		client_error(c, "hello-timeout", "no hello in time");
	}
	while ((c = TAILQ_FIRST(&s->leaving)) != NULL &&
	    c->deadline <= s->now) {
		client_log(c, LOG_DEBUG, "closed: goodbye not taken within "
		    "--grace");
		client_close(c);
	}
	if ((c = TAILQ_FIRST(&s->hello)) != NULL)
		next = c->deadline - s->now;
	if ((c = TAILQ_FIRST(&s->leaving)) != NULL) {
		t = c->deadline - s->now;
		if (next == -1 || t < next)
			next = t;
	}
	return next > 0x7fffffff ? 0x7fffffff : (int)next;
}

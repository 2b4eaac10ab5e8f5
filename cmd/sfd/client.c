#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "ctl.h"
#include "frame.h"
#include "guard.h"
#include "hello.h"
#include "input.h"
#include "log.h"
#include "server.h"
#include "stream.h"

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

/* Who is on the other end: credentials on the Unix socket, the address
 * on TCP. */
static void
identify(struct client *c, int fd, int tcp)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	c->pid = -1;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	if (tcp) {
		len = sizeof(c->sa);
		c->tcp = 1;
		if (getpeername(fd, (struct sockaddr *)&c->sa, &len) == -1)
			c->sa.ss_family = AF_UNSPEC;
		addr_format((struct sockaddr *)&c->sa, c->peer,
		    sizeof(c->peer));
		if (addr_tcp_tune(fd) == -1)
			log_client(c, LOG_DEBUG, "TCP options: %s",
			    strerror(errno));
	} else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->pid = cred.pid;
		c->uid = cred.uid;
		c->gid = cred.gid;
	}
}

struct client *
client_accept(struct server *s, int fd, int tcp)
{
	struct epoll_event ev;
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
	c->ops = &hello_ops;
	c->state = CS_HELLO;
	c->connected_ms = s->now;
	identify(c, fd, tcp);
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
	log_client(c, LOG_INFO, "connected");
	return c;
}

void
client_set_state(struct client *c, enum client_state to)
{
	struct server *s = c->srv;

	if (c->state == to)
		return;
	if (c->state == CS_HELD) {
		c->stream->nheld--;
		s->nheld--;
	}
	if (to == CS_HELD) {
		c->stream->nheld++;
		s->nheld++;
	}
	c->state = to;
}

void
client_start(struct client *c, enum role role, const struct role_ops *ops)
{
	client_timer_clear(c);
	c->role = role;
	c->ops = ops;
	client_set_state(c, CS_ACTIVE);
}

/* Take c off the pending list (the pass before the loop sleeps). */
static void
unschedule(struct client *c)
{
	if (c->pending) {
		TAILQ_REMOVE(&c->srv->pending, c, plink);
		c->pending = 0;
	}
}

void
client_close(struct client *c)
{
	struct server *s = c->srv;

	if (c->state == CS_CLOSED)
		return;
	client_set_state(c, CS_CLOSED);
	admin_forget(c);
	c->ops->close(c);
	client_timer_clear(c);
	client_ready_clear(c);
	unschedule(c);
	/* Cannot fail for a registered fd, and close() drops it anyway. */
	(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, c->w.fd, NULL);
	close(c->w.fd);
	c->w.fd = -1;
	free(c->in);
	c->in = NULL;
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
		log_client(c, LOG_INFO, "disconnected in the middle of a frame; "
		    "%zu bytes discarded", c->in_len);
	else if (c->role == ROLE_SUB && c->sub.skipped > 0)
		log_client(c, LOG_INFO, "disconnected; %llu frames skipped in "
		    "all (on-lag=skip)", (unsigned long long)c->sub.skipped);
	else if (err != 0)
		log_client(c, LOG_DEBUG, "disconnected: %s", strerror(err));
	else
		log_client(c, LOG_DEBUG, "disconnected");
	client_close(c);
}

/* Read what c sent, by its state and then its role: a departing client's
 * input is discarded, a held or closed one's is left in the socket. */
static void
read_input(struct client *c)
{
	int err = 0, rc;

	switch (c->state) {
	case CS_CLOSED:
	case CS_HELD:   /* its socket pushes back on it */
		return;
	case CS_DEPARTING:
		rc = input_drain(c, &err);
		break;
	default:
		rc = c->ops->read(c, &err);
		break;
	}
	if (rc == -1)
		lost(c, err);
}

static void
on_event(struct watch *w, uint32_t events)
{
	struct client *c = (struct client *)w;

	if (c->state == CS_CLOSED)
		return;
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
		c->blocked = 0;
		client_schedule(c);
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		read_input(c);
}

void
client_read_ready(struct server *s)
{
	struct client *c;
	uint64_t n;

	/* Only those waiting now: ones cut short again wait for next turn. */
	for (n = s->nready; n > 0 && (c = TAILQ_FIRST(&s->ready)) != NULL;
	    n--) {
		client_ready_clear(c);
		read_input(c);
	}
}

/*
 * Act on c: write what it is owed (a subscriber's flush first acts on a
 * cut-off decided for it, and after its writes decides whether it passed
 * a limit; see subscriber_flush).
 */
static void
act(struct client *c)
{
	int err = 0;

	switch (c->ops->flush(c, &err)) {
	case FLUSH_GONE:
		lost(c, err);
		break;
	case FLUSH_DONE:
		log_client(c, LOG_DEBUG, "closed after goodbye");
		client_close(c);
		break;
	case FLUSH_CUT:
		client_close(c);
		break;
	case FLUSH_OK:
	case FLUSH_BLOCKED:
		break;
	}
}

/* Schedule every subscriber of every stream that got frames. */
static void
fan_out(struct server *s)
{
	struct client *c;
	struct stream *st;

	while ((st = TAILQ_FIRST(&s->dirty)) != NULL) {
		TAILQ_REMOVE(&s->dirty, st, dlink);
		st->dirty = 0;
		for (c = TAILQ_FIRST(&st->subs); c != NULL;
		    c = TAILQ_NEXT(c, slink))
			client_schedule(c);
	}
}

void
client_settle(struct server *s)
{
	struct client *c;
	struct stream *st;

	/* No write from a ring whose file was cut short, and no more
	 * appends to it: its clients are cut off first. */
	if (guard_pending)
		server_check_damage(s);
	fan_out(s);
	while ((c = TAILQ_FIRST(&s->pending)) != NULL) {
		if (guard_pending)
			server_check_damage(s);
		unschedule(c);
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
			if (c->ops->tick != NULL)
				again |= c->ops->tick(c);
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
		log_client(c, LOG_DEBUG, "closed: goodbye not taken within "
		    "--grace");
		client_close(c);
	}
	while ((c = TAILQ_FIRST(&s->lingering)) != NULL &&
	    c->deadline <= s->now) {
		log_client(c, LOG_INFO, "closed: did not read its goodbye "
		    "within --goodbye-time (%llu s)",
		    (unsigned long long)s->cfg.goodbye_ms / 1000);
		client_close(c);
	}
	if ((c = TAILQ_FIRST(&s->hello)) != NULL)
		next = c->deadline - s->now;
	if ((c = TAILQ_FIRST(&s->leaving)) != NULL) {
		t = c->deadline - s->now;
		if (next == -1 || t < next)
			next = t;
	}
	if ((c = TAILQ_FIRST(&s->lingering)) != NULL) {
		t = c->deadline - s->now;
		if (next == -1 || t < next)
			next = t;
	}
	return next > 0x7fffffff ? 0x7fffffff : (int)next;
}

void
client_timer_clear(struct client *c)
{
	if (c->timer != NULL) {
		TAILQ_REMOVE(c->timer, c, tlink);
		c->timer = NULL;
	}
}

void
client_timer_set(struct client *c, struct client_list *list, uint64_t ms)
{
	client_timer_clear(c);
	c->deadline = c->srv->now + (long long)ms;
	c->timer = list;
	TAILQ_INSERT_TAIL(list, c, tlink);
}

void
client_ready_set(struct client *c)
{
	if (!c->ready && c->state != CS_CLOSED) {
		c->ready = 1;
		c->srv->nready++;
		TAILQ_INSERT_TAIL(&c->srv->ready, c, rlink);
	}
}

void
client_ready_clear(struct client *c)
{
	if (c->ready) {
		TAILQ_REMOVE(&c->srv->ready, c, rlink);
		c->srv->nready--;
		c->ready = 0;
	}
}

void
client_schedule(struct client *c)
{
	if (!c->pending && c->state != CS_CLOSED) {
		c->pending = 1;
		TAILQ_INSERT_TAIL(&c->srv->pending, c, plink);
	}
}

/* Queue a control line; it goes after ring data once the client leaves. */
static void queue_ctl(struct client *c, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
queue_ctl(struct client *c, const char *fmt, va_list ap)
{
	char line[FRAME_CTL_MAX + 1];
	int n;

	vsnprintf(line, sizeof(line), fmt, ap);
	if (c->plain) {
		/* Knows no control frame: its goodbye is the close. */
		log_client(c, LOG_DEBUG, "not sent (plain): %s", line);
		client_schedule(c);
		return;
	}
	n = ctl_frame(c->ctl + c->ctl_len, sizeof(c->ctl) - c->ctl_len,
	    "%s", line);
	if (n < 0) {
		/* Only our own short lines come here; never silently. */
		log_client(c, LOG_ERROR, "control line too long, not sent: %s",
		    line);
		return;
	}
	c->ctl_len += (uint16_t)n;
	if (c->state != CS_DEPARTING)
		c->ctl_split = c->ctl_len;
	client_schedule(c);
}

void
client_reply(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	queue_ctl(c, fmt, ap);
	va_end(ap);
}

void
client_depart(struct client *c, const char *fmt, ...)
{
	struct server *s = c->srv;
	va_list ap;

	if (c->state == CS_DEPARTING || c->state == CS_CLOSED)
		return;
	client_set_state(c, CS_DEPARTING);
	va_start(ap, fmt);
	queue_ctl(c, fmt, ap);
	va_end(ap);
	client_ready_clear(c);
	client_timer_set(c, &s->leaving, s->cfg.grace_ms);
}

void
client_error(struct client *c, const char *reason, const char *detail)
{
	log_client(c, LOG_INFO, "ERR reason=%s (%s)", reason, detail);
	if (c->role == ROLE_SUB)
		subscriber_refuse(c, reason);
	else
		client_depart(c, "ERR reason=%s", reason);
}

/* write(2), passing c->pass_fd with the first byte (they are given
 * once: the receiver gets its own copies). */
static ssize_t
write_passing(struct client *c, const void *buf, size_t len)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(c->pass_fd))];
	} u;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.space, .msg_controllen = sizeof(u.space) };
	struct cmsghdr *cm;
	ssize_t n;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)c->npass);
	memcpy(CMSG_DATA(cm), c->pass_fd, sizeof(int) * (size_t)c->npass);
	/* CMSG_FIRSTHDR needed the whole buffer; send only what is used. */
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)c->npass);
	while ((n = sendmsg(c->w.fd, &msg, MSG_NOSIGNAL)) == -1 &&
	    errno == EINTR)
		;
	if (n > 0)
		c->npass = 0;
	return n;
}

ssize_t
client_write(struct client *c, const void *buf, size_t len)
{
	ssize_t n;

	if (c->npass > 0)
		n = write_passing(c, buf, len);
	else
		while ((n = write(c->w.fd, buf, len)) == -1 && errno == EINTR)
			;
	if (n == -1 && errno == EAGAIN)
		c->blocked = 1;
	return n;
}

int
client_send_ctl(struct client *c, uint16_t upto)
{
	ssize_t n;

	while (c->ctl_off < upto) {
		if ((n = client_write(c, c->ctl + c->ctl_off,
		    upto - c->ctl_off)) == -1)
			return -1;
		c->ctl_off += (uint16_t)n;
	}
	if (c->ctl_off == c->ctl_len)
		c->ctl_off = c->ctl_len = c->ctl_split = 0;   /* room again */
	return 0;
}

enum flush
client_flush(struct client *c, int *err)
{
	if (c->state == CS_CLOSED || c->blocked)
		return FLUSH_BLOCKED;
	if (client_send_ctl(c, c->state == CS_DEPARTING ? c->ctl_len :
	    c->ctl_split) == -1) {
		if (c->blocked)
			return FLUSH_BLOCKED;
		*err = errno;
		return FLUSH_GONE;
	}
	return c->state == CS_DEPARTING ? FLUSH_DONE : FLUSH_OK;
}

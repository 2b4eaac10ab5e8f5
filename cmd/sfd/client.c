/*
 * A client connection's life: accepted, saying hello within its time,
 * reading a publisher's frames into the ring, noticing hang-ups, closed.
 * What is written to it is in output.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "control.h"
#include "ctl.h"
#include "frame.h"
#include "output.h"
#include "stream.h"

#define HELLO_BUF  (FRAME_HDR + FRAME_CTL_MAX)
#define PUB_READS  4              /* reads per turn before others get a go */

static void on_event(struct watch *w, uint32_t events);

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

void
client_timer_clear(struct client *c)
{
	if (c->timer != NULL) {
		TAILQ_REMOVE(c->timer, c, tlink);
		c->timer = NULL;
	}
}

/* Every list a timer goes on has one fixed delay, so appending keeps it
 * sorted by deadline. */
void
client_timer_set(struct client *c, struct client_list *list, uint64_t ms)
{
	client_timer_clear(c);
	c->deadline = c->srv->now + (long long)ms;
	c->timer = list;
	TAILQ_INSERT_TAIL(list, c, tlink);
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

void
client_accept(struct server *s, int fd)
{
	struct epoll_event ev;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;

	if (s->nclients >= s->cfg.max_clients) {
		log_msg(LOG_INFO, "refused a connection: --max-clients %llu "
		    "reached", (unsigned long long)s->cfg.max_clients);
		client_refuse(fd, "full");
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->in = malloc(HELLO_BUF)) == NULL) {
		log_msg(LOG_ERROR, "refused a connection: out of memory");
		if (c != NULL)
			free(c);
		client_refuse(fd, "no-memory");
		return;
	}
	c->in_cap = HELLO_BUF;
	c->w.fd = fd;
	c->w.fn = on_event;
	c->srv = s;
	c->id = ++s->next_id;
	c->role = ROLE_HELLO;
	c->pid = -1;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
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
		return;
	}
	TAILQ_INSERT_TAIL(&s->clients, c, link);
	s->nclients++;
	client_timer_set(c, &s->hello, s->cfg.hello_ms);
	client_log(c, LOG_INFO, "connected");
}

void
client_close(struct client *c)
{
	struct server *s = c->srv;
	struct stream *st = c->stream;

	if (c->closed)
		return;
	c->closed = 1;
	client_timer_clear(c);
	client_ready_clear(c);
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
	free(c->tail);
	c->tail = NULL;
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

void
client_lost(struct client *c, int err)
{
	if (c->in_len > 0 && !c->leaving)
		client_log(c, LOG_INFO, "disconnected in the middle of a frame; "
		    "%zu bytes discarded", c->in_len);
	else if (c->skipped > 0)
		client_log(c, LOG_INFO, "disconnected; %llu frames skipped in "
		    "all (on-lag=skip)", (unsigned long long)c->skipped);
	else if (err != 0)
		client_log(c, LOG_DEBUG, "disconnected: %s", strerror(err));
	else
		client_log(c, LOG_DEBUG, "disconnected");
	client_close(c);
}

/*
 * Handle the complete frames in c->in: the hello, then runs of data frames
 * that go to the ring in one piece.  Keeps a partial frame for later and
 * makes room for it.  Returns -1 once the client stops reading input.
 */
static int
consume(struct client *c)
{
	size_t off = 0, run = 0, need;
	struct frame f;
	ssize_t k;
	char detail[96];

	for (;;) {
		/* Before the hello only a control frame may come: say so at
		 * its header, before buffering any body. */
		if (c->role == ROLE_HELLO && c->in_len - off >= FRAME_HDR) {
			frame_get_header(c->in + off, &f.len, &f.control);
			if (!f.control) {
				client_error(c, "bad-hello",
				    "data frame before the hello");
				return -1;
			}
		}
		k = frame_decode(c->in + off, c->in_len - off,
		    (uint32_t)c->srv->cfg.max_frame, &f);
		if (k == 0)
			break;
		if (k == -1) {
			if (c->role == ROLE_PUB && off > run)
				stream_publish(c->srv, c->stream, c->in + run,
				    off - run);
			snprintf(detail, sizeof(detail), "%lu bytes > %s %llu",
			    (unsigned long)f.len, f.control ? "control limit" :
			    "max-frame", f.control ? (unsigned long long)
			    FRAME_CTL_MAX : (unsigned long long)
			    c->srv->cfg.max_frame);
			client_error(c, f.control ? "control-too-large" :
			    "frame-too-large", detail);
			return -1;
		}
		if (!f.control) {
			off += (size_t)k;
			continue;
		}
		if (off > run)
			stream_publish(c->srv, c->stream, c->in + run, off - run);
		off += (size_t)k;
		run = off;
		control_frame(c, &f);
		if (c->leaving || c->closed)
			return -1;
		if (c->role == ROLE_SUB) {
			if (off < c->in_len) {
				client_error(c, "not-a-publisher",
				    "a subscriber sent a frame");
				return -1;
			}
			free(c->in);   /* subscribers keep no input buffer */
			c->in = NULL;
			c->in_len = c->in_cap = 0;
			return -1;
		}
	}
	if (c->role == ROLE_PUB && off > run)
		stream_publish(c->srv, c->stream, c->in + run, off - run);
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;

	/* A frame bigger than the buffer: grow to fit it (already checked). */
	if (c->role == ROLE_PUB && c->in_len >= FRAME_HDR) {
		frame_get_header(c->in, &f.len, &f.control);
		need = FRAME_HDR + f.len;
		if (need > c->in_cap) {
			unsigned char *p = realloc(c->in, need);
			if (p == NULL) {
				client_error(c, "no-memory", "frame buffer");
				return -1;
			}
			c->in = p;
			c->in_cap = need;
		}
	}
	return 0;
}

/* Discard input from a departing client; notice when it hangs up. */
static void
drain_input(struct client *c)
{
	unsigned char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(c->w.fd, buf, sizeof(buf));
		if (n > 0 || (n == -1 && errno == EINTR))
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		client_log(c, LOG_DEBUG, "hung up before its goodbye");
		client_close(c);
		return;
	}
}

/* Input from a subscriber: only its hang-up is expected. */
static void
subscriber_input(struct client *c)
{
	unsigned char buf[256];
	ssize_t n;

	for (;;) {
		n = read(c->w.fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n > 0) {
			client_error(c, "not-a-publisher",
			    "a subscriber sent a frame");
			return;
		}
		client_lost(c, n == 0 ? 0 : errno);
		return;
	}
}

/* Input from a client saying hello or publishing. */
static void
frame_input(struct client *c)
{
	ssize_t n;
	int i;

	for (i = 0; i < PUB_READS; i++) {
		n = read(c->w.fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			client_lost(c, n == 0 ? 0 : errno);
			return;
		}
		c->in_len += (size_t)n;
		if (consume(c) == -1)
			return;
	}
	/* Edge-triggered: nobody will tell us again that more is waiting. */
	if (!c->ready) {
		c->ready = 1;
		c->srv->nready++;
		TAILQ_INSERT_TAIL(&c->srv->ready, c, rlink);
	}
}

static void
client_input(struct client *c)
{
	if (c->leaving)
		drain_input(c);
	else if (c->role == ROLE_SUB)
		subscriber_input(c);
	else
		frame_input(c);
}

static void
on_event(struct watch *w, uint32_t events)
{
	struct client *c = (struct client *)w;

	if (c->closed)
		return;
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
		c->blocked = 0;
		client_flush(c);
		if (c->closed)
			return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		client_input(c);
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
		frame_input(c);
	}
}

int
client_expire(struct server *s)
{
	struct client *c;
	long long next = -1, t;

	while ((c = TAILQ_FIRST(&s->hello)) != NULL &&
	    c->deadline <= s->now)
		client_error(c, "hello-timeout", "no hello in time");
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

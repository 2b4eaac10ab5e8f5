#include <fcntl.h>
#include <unistd.h>

#include "client.h"
#include "queue.h"

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

void
client_unschedule(struct client *c)
{
	if (c->pending) {
		TAILQ_REMOVE(&c->srv->pending, c, plink);
		c->pending = 0;
	}
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

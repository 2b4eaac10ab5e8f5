#include <stdlib.h>

#include "ctl.h"
#include "log.h"
#include "publisher.h"
#include "stream.h"

#define PUB_BUF    APPEND_MAX     /* a publisher's read buffer */

int
publisher_start(struct client *c, struct stream *st)
{
	unsigned char *buf;

	if ((buf = realloc(c->in, PUB_BUF)) == NULL)
		return -1;
	c->in = buf;
	c->in_cap = PUB_BUF;
	c->stream = st;
	c->role = ROLE_PUB;
	c->state = CS_ACTIVE;
	TAILQ_INSERT_TAIL(&st->pubs, c, slink);
	st->npubs++;
	return 0;
}

void
publisher_append(struct client *c, const unsigned char *frames, size_t len)
{
	stream_append(c->stream, frames, len);
}

void
publisher_eos(struct client *c)
{
	struct ring *r = c->stream->ring;
	unsigned char buf[64];
	int n;

	n = ctl_frame(buf, sizeof(buf), "EOS seq=%llu",
	    (unsigned long long)ring_head_seq(r));
	if (n > 0)
		stream_append(c->stream, buf, (size_t)n);
	client_log(c, LOG_DEBUG, "end of stream %s at seq %llu",
	    c->stream->name, (unsigned long long)ring_head_seq(r));
}

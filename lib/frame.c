#include <errno.h>

#include "frame.h"

void
frame_put_header(unsigned char *p, uint32_t len, int control)
{
	uint32_t h = (len & FRAME_LEN_MASK) | (control ? FRAME_CONTROL : 0);

	p[0] = (unsigned char)(h >> 24);
	p[1] = (unsigned char)(h >> 16);
	p[2] = (unsigned char)(h >> 8);
	p[3] = (unsigned char)h;
}

void
frame_get_header(const unsigned char *p, uint32_t *len, int *control)
{
	uint32_t h = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];

	*len = h & FRAME_LEN_MASK;
	*control = (h & FRAME_CONTROL) != 0;
}

ssize_t
frame_decode(const unsigned char *buf, size_t avail, uint32_t max_data,
    struct frame *f)
{
	if (avail < FRAME_HDR)
		return 0;
	frame_get_header(buf, &f->len, &f->control);
	if (f->len > (f->control ? FRAME_CTL_MAX : max_data)) {
		errno = EMSGSIZE;
		return -1;
	}
	if (avail - FRAME_HDR < f->len)
		return 0;
	f->data = buf + FRAME_HDR;
	return (ssize_t)(FRAME_HDR + f->len);
}

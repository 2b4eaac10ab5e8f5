/*
 * Wire frames: a 4-byte big-endian header, then the body.
 *
 * Header top bit clear: a data frame, body length = header.
 * Header top bit set:   a control frame, body length = low 31 bits, body a
 *                       short printable ASCII line (see ctl.h).
 * Data frames are stored in the ring and sent to subscribers in exactly this
 * encoding, so the daemon never re-encodes a frame.
 */
#ifndef SF_FRAME_H
#define SF_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FRAME_HDR       4u
#define FRAME_CONTROL   0x80000000u
#define FRAME_LEN_MASK  0x7fffffffu
/* Largest control body; a protocol constant, not a tunable. */
#define FRAME_CTL_MAX   4096u

struct frame {
	uint32_t len;               /* body length */
	int control;                /* 1 for a control frame */
	const unsigned char *data;  /* body, points into the caller's buffer */
};

/* Store the header of a frame with a body of len bytes at p[0..3]. */
void frame_put_header(unsigned char *p, uint32_t len, int control);

/* Read the header at p[0..3]. */
void frame_get_header(const unsigned char *p, uint32_t *len, int *control);

/*
 * Decode the frame at buf[0..avail).  The header is checked before anything
 * else: a data body longer than max_data or a control body longer than
 * FRAME_CTL_MAX fails with EMSGSIZE (f->len and f->control still say which).
 * Returns the whole frame's size (header + body) when it is complete, 0 when
 * more bytes are needed, -1 on error.
 */
ssize_t frame_decode(const unsigned char *buf, size_t avail, uint32_t max_data,
    struct frame *f);

#endif

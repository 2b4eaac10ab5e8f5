/*
 * A stream's ring shared with reader processes (sf-protocol(7), SHARED
 * READERS): the header page the daemon publishes, and a reader's view.
 *
 * The daemon hands a reader two descriptors: the header page and the
 * ring's bytes.  Neither can be written through them: a memory ring and
 * the header are memfds sealed against writes and resizing by anyone but
 * the mapping the daemon already holds; a spool's ring file is handed
 * over opened read-only.
 *
 * Ordering.  The daemon stores a new tail before any byte it gives up
 * changes (a release fence follows it), and head once the bytes up to it
 * are written (a release store).  So a reader that loaded head may copy
 * bytes from any pos up to it, then, after an acquire fence, load tail:
 * when tail <= pos nothing it copied changed under it; otherwise the copy
 * may be torn and must not be used.
 */
#ifndef SF_SHARE_H
#define SF_SHARE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHARE_MAGIC    "sfring\r\n"   /* 8 bytes, no NUL */
#define SHARE_VERSION  1u

/* The header page, as both sides see it.  Positions are those of
 * ring.h: byte offsets since the ring was made, never wrapping. */
struct share_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;        /* sizeof this, for later growth */
	uint64_t size;               /* ring bytes, mapped twice in a row */
	uint64_t offset;             /* where they start in the data fd */
	_Atomic uint64_t head;       /* end of the newest frame */
	_Atomic uint64_t tail;       /* start of the oldest: every byte
	                                before it may change at any time */
};

/* A reader's mapping of a shared ring. */
struct share_view {
	const struct share_header *hdr;
	const unsigned char *base;   /* size bytes, mapped twice */
	size_t size;
};

/*
 * Map the header at hdr_fd and the ring it describes at data_fd, both
 * read-only; the ring's pages are guarded (guard.h), so a spool file cut
 * short under the reader is noted, not a SIGBUS.  The descriptors may be
 * closed afterwards.  -1 with errno: EPROTO when the header is not one
 * this reader knows, else mmap(2)'s.
 */
int share_map(struct share_view *v, int hdr_fd, int data_fd);
void share_unmap(struct share_view *v);

/* The end of the newest frame (an acquire load). */
uint64_t share_head(const struct share_view *v);

/*
 * Copy the len bytes at pos (len at most the ring's size) to dst.
 * Returns 1 when they are whole: the tail had not passed pos once the
 * copy was done, and no page was missing; 0 when they may have changed
 * during the copy and must be discarded.
 */
int share_copy(const struct share_view *v, uint64_t pos, void *dst,
    size_t len);

/* 1 once a page of the ring was missing: its file was cut short. */
int share_damaged(const struct share_view *v);

#endif

/*
 * A stream's ring: its recent frames back to back, in wire encoding.
 *
 * Positions are byte offsets counted since the ring was created (they never
 * wrap); sequence numbers count data frames since then: the first has seq 0.
 * Control frames (an end-of-stream mark) travel in the ring between data
 * frames and take no number: their seq is that of the data frame after them.
 * The ring holds whole frames from tail to head; appending past its size
 * drops the oldest frames.  Memory is mapped twice back to back, so the
 * bytes from any held position up to head are one contiguous run: a reader
 * is just a position, and one write(2) can send many frames.
 */
#ifndef SF_RING_H
#define SF_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ring;

/*
 * A ring of at least size bytes (rounded up to whole pages).  NULL with
 * errno set on failure.
 */
struct ring *ring_new(size_t size);
void ring_free(struct ring *r);

/* size rounded up as the ring rounds it: to whole pages and index blocks. */
size_t ring_round(size_t size);

/*
 * An empty ring over size bytes of file fd from offset off (a multiple of
 * the page size), mapped shared, so what is appended is in the file.  size
 * must be as ring_round() gives it and the file at least off + size long.
 * Appends are written to fd, which must stay open until ring_free().
 * NULL with errno set on failure.
 */
struct ring *ring_map(int fd, off_t off, size_t size);

/*
 * Take up the frames left in a mapped file by an earlier ring over it,
 * from tail (data seq tail_seq) towards head: each is checked and
 * indexed, a control frame also by control(arg, body, len, pos, seq),
 * which returns -1 to reject it.  The walk stops at the first frame that
 * runs past head or is rejected, and the ring ends there: its new head
 * is returned (head when every frame was whole).  A head before tail, or
 * more than the ring's size after it, gives an empty ring at tail.
 */
typedef int ring_control_fn(void *arg, const unsigned char *body,
    uint32_t len, uint64_t pos, uint64_t seq);
uint64_t ring_adopt(struct ring *r, uint64_t tail, uint64_t tail_seq,
    uint64_t head, ring_control_fn *control, void *arg);

/* 1 if a file ring's mapping took a fault since it was mapped: the file
 * was cut short under it (guard.h). */
int ring_damaged(const struct ring *r);

/*
 * Touch the len bytes at pos of a file ring, a byte a page: a page the
 * file no longer has takes the fault here (and is noted, see guard.h)
 * rather than as EFAULT from a write(2) out of it.  Returns
 * ring_damaged().
 */
int ring_probe(const struct ring *r, uint64_t pos, size_t len);

size_t ring_size(const struct ring *r);
uint64_t ring_head(const struct ring *r);      /* end of the newest frame */
uint64_t ring_tail(const struct ring *r);      /* start of the oldest frame */
uint64_t ring_head_seq(const struct ring *r);  /* seq of the next frame */
uint64_t ring_tail_seq(const struct ring *r);  /* seq of the oldest frame */

/*
 * Drop the oldest frames that an append of len bytes would overwrite, so
 * that the new tail is known before any byte of the ring changes (a ring
 * file records it first).
 */
void ring_make_room(struct ring *r, size_t len);

/*
 * Append len bytes of whole frames (the caller has checked every header;
 * len at most ring_size).  Frames that no longer fit are dropped from the
 * tail first: a reader behind the new tail has lost data.
 * Returns the number of data frames appended.
 */
uint64_t ring_append(struct ring *r, const unsigned char *frames, size_t len);

/*
 * The bytes at pos, valid up to head when tail <= pos <= head.  The run is
 * contiguous even across the end of the buffer.
 */
const unsigned char *ring_at(const struct ring *r, uint64_t pos);

/*
 * Find the frame holding pos (tail <= pos < head): its start and its seq.
 * pos == head gives head and the next seq.  Returns -1 with errno ERANGE
 * when pos is outside the ring.
 */
int ring_locate(const struct ring *r, uint64_t pos, uint64_t *start,
    uint64_t *seq);

/*
 * The first frame boundary at or after pos (tail <= pos <= head) and the
 * seq there.  -1 with errno ERANGE when pos is outside the ring.
 */
int ring_align(const struct ring *r, uint64_t pos, uint64_t *start,
    uint64_t *seq);

/*
 * Where a reader wanting data frames from seq on starts: just after data
 * frame seq - 1, so a control frame between the two (an end of stream) is
 * included (tail_seq <= seq <= head_seq; tail_seq gives tail).  Returns -1
 * with errno ERANGE when the ring no longer (or not yet) holds it.
 */
int ring_find(const struct ring *r, uint64_t seq, uint64_t *pos);

/*
 * Map size bytes of fd from offset off twice in a row, with protection
 * prot: base[i] == base[i + size].  The caller keeps fd; the mapping does
 * not need it.  NULL with errno on failure.
 */
unsigned char *ring_map_twice(int fd, off_t off, size_t size, int prot);

/*
 * Share r with reader processes (share.h): from now on its head and tail
 * are published in a header page.  fds[0] is that page, fds[1] the ring's
 * bytes, neither writable by whoever receives them; both stay r's, open
 * until ring_free(), and are the same on every call.  -1 with errno when
 * the kernel cannot seal a memfd (before Linux 5.1) or out of
 * descriptors.
 */
int ring_share(struct ring *r, int fds[2]);

#endif

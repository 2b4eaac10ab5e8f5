#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frame.h"
#include "guard.h"
#include "ring.h"
#include "share.h"

/*
 * A sparse index maps positions to sequence numbers without a per-frame
 * table: for every INDEX_BLOCK bytes of the ring it keeps the first frame
 * that starts in that block.  A lookup walks frame headers from there, at
 * most a block's worth.  It costs 16 bytes per 4 KiB of ring.
 */
#define INDEX_BLOCK 4096u

struct mark {
	uint64_t pos;   /* UINT64_MAX: no frame recorded for this slot */
	uint64_t seq;
};

struct ring {
	unsigned char *base;   /* size bytes, mapped twice back to back */
	size_t size;
	uint64_t head, tail;
	uint64_t head_seq, tail_seq;
	struct mark *index;    /* size / INDEX_BLOCK slots */
	size_t nmarks;
	int fd;                /* ring_map's file, written with pwrite; or -1 */
	off_t off;             /* where the ring starts in it */
	size_t populated;      /* a memory ring's pages taken ahead so far */
	int memfd;             /* a memory ring's pages, kept for sharing */
	/* Once shared (ring_share): the header page readers map, and the
	 * two descriptors handed to each of them. */
	struct share_header *pub;
	int share_fd[2];
};

unsigned char *
ring_map_twice(int fd, off_t off, size_t size, int prot)
{
	unsigned char *base;
	int saved;

	base = mmap(NULL, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	if (mmap(base, size, prot, MAP_SHARED | MAP_FIXED, fd, off) ==
	    MAP_FAILED ||
	    mmap(base + size, size, prot, MAP_SHARED | MAP_FIXED, fd, off) ==
	    MAP_FAILED) {
		saved = errno;
		munmap(base, 2 * size);
		errno = saved;
		return NULL;
	}
	return base;
}

size_t
ring_round(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	size = (size + page - 1) / page * page;
	if (size % INDEX_BLOCK != 0)
		size = (size / INDEX_BLOCK + 1) * INDEX_BLOCK;
	return size;
}

/* An empty ring over base; NULL (base unmapped) when out of memory. */
static struct ring *
ring_over(unsigned char *base, size_t size)
{
	struct ring *r;
	size_t i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto fail;
	r->base = base;
	r->size = size;
	r->fd = r->memfd = -1;
	r->share_fd[0] = r->share_fd[1] = -1;
	r->nmarks = size / INDEX_BLOCK;
	if ((r->index = malloc(r->nmarks * sizeof(*r->index))) == NULL)
		goto fail;
	for (i = 0; i < r->nmarks; i++)
		r->index[i].pos = UINT64_MAX;
	return r;
fail:
	free(r);
	guard_remove(base);
	munmap(base, 2 * size);
	errno = ENOMEM;
	return NULL;
}

struct ring *
ring_new(size_t size)
{
	unsigned char *base;
	struct ring *r;
	int fd, saved;

	if (size == 0 || size > SIZE_MAX / 4) {
		errno = EINVAL;
		return NULL;
	}
	size = ring_round(size);
	if ((fd = memfd_create("streamfan-ring", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return NULL;
	/*
	 * Pages are taken as the ring first fills, so a stream that only
	 * ever carries a trickle costs a trickle; once it has gone round
	 * the whole ring is resident.  memfd pages are not bounded by a
	 * tmpfs size, so a page that cannot be had is the same out-of-memory
	 * condition as for any other memory, not a SIGBUS of its own.
	 */
	if (ftruncate(fd, (off_t)size) == -1 ||
	    (base = ring_map_twice(fd, 0, size, PROT_READ | PROT_WRITE)) ==
	    NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return NULL;
	}
	/* Kept: it is what a shared reader maps (ring_share). */
	if ((r = ring_over(base, size)) == NULL)
		close(fd);
	else
		r->memfd = fd;
	return r;
}

struct ring *
ring_map(int fd, off_t off, size_t size)
{
	unsigned char *base;

	if (size == 0 || size > SIZE_MAX / 4 || ring_round(size) != size) {
		errno = EINVAL;
		return NULL;
	}
	struct ring *r;

	if ((base = ring_map_twice(fd, off, size, PROT_READ | PROT_WRITE)) ==
	    NULL)
		return NULL;
	/* Another process may cut the file short: a read past its end is
	 * noted (guard.h), not the end of the process. */
	if (guard_add(base, 2 * size) == -1) {
		munmap(base, 2 * size);
		return NULL;
	}
	if ((r = ring_over(base, size)) != NULL) {
		r->fd = fd;
		r->off = off;
	}
	return r;
}

void
ring_free(struct ring *r)
{
	if (r == NULL)
		return;
	guard_remove(r->base);
	munmap(r->base, 2 * r->size);
	if (r->pub != NULL)
		munmap(r->pub, (size_t)sysconf(_SC_PAGESIZE));
	if (r->share_fd[0] != -1)
		close(r->share_fd[0]);
	if (r->share_fd[1] != -1 && r->share_fd[1] != r->memfd)
		close(r->share_fd[1]);
	if (r->memfd != -1)
		close(r->memfd);
	free(r->index);
	free(r);
}

int
ring_damaged(const struct ring *r)
{
	return guard_damaged(r->base);
}

int
ring_probe(const struct ring *r, uint64_t pos, size_t len)
{
	const volatile unsigned char *p = ring_at(r, pos);
	size_t off, page = (size_t)sysconf(_SC_PAGESIZE);

	if (r->fd == -1)
		return 0;   /* memory does not go away */
	for (off = 0; off < len; off += page)
		(void)p[off];
	if (len > 0)
		(void)p[len - 1];
	return ring_damaged(r);
}

size_t ring_size(const struct ring *r) { return r->size; }
uint64_t ring_head(const struct ring *r) { return r->head; }
uint64_t ring_tail(const struct ring *r) { return r->tail; }
uint64_t ring_head_seq(const struct ring *r) { return r->head_seq; }
uint64_t ring_tail_seq(const struct ring *r) { return r->tail_seq; }

const unsigned char *
ring_at(const struct ring *r, uint64_t pos)
{
	return r->base + pos % r->size;
}

/* Size of the whole frame (header + body) starting at p. */
static uint64_t
frame_size(const unsigned char *p)
{
	uint32_t len;
	int control;

	frame_get_header(p, &len, &control);
	return FRAME_HDR + (uint64_t)len;
}

/* 1 if the frame at p is a data frame (it takes a sequence number). */
static int
is_data(const unsigned char *p)
{
	return (p[0] & 0x80) == 0;
}

void
ring_make_room(struct ring *r, size_t len)
{
	uint64_t tail = r->tail;

	while (r->head + len - r->tail > r->size) {
		r->tail_seq += (uint64_t)is_data(ring_at(r, r->tail));
		r->tail += frame_size(ring_at(r, r->tail));
	}
	if (r->pub != NULL && r->tail != tail) {
		/* Readers learn of the new tail before a byte it gave up
		 * changes (share.h). */
		atomic_store_explicit(&r->pub->tail, r->tail,
		    memory_order_relaxed);
		atomic_thread_fence(memory_order_release);
	}
}

/* Record the frame at pos (seq) in the index, if it is the first of its
 * block. */
static void
index_frame(struct ring *r, uint64_t pos, uint64_t seq)
{
	struct mark *m = &r->index[pos / INDEX_BLOCK % r->nmarks];

	if (m->pos == UINT64_MAX || m->pos / INDEX_BLOCK != pos / INDEX_BLOCK) {
		m->pos = pos;
		m->seq = seq;
	}
}

/*
 * Copy len bytes to the ring at pos.  A file's ring is written with
 * pwrite(2): through the page cache, the mapping sees the same pages, and
 * the pages are dirtied without a page fault each (several times cheaper
 * than storing through a shared file mapping).  Should a write fail, the
 * rest is stored through the mapping: the same pages in the end.
 */
static void
copy_in(struct ring *r, uint64_t pos, const unsigned char *p, size_t len)
{
	size_t at = (size_t)(pos % r->size), n;
	ssize_t w;

	while (r->fd != -1 && len > 0) {
		n = len < r->size - at ? len : r->size - at;
		if ((w = pwrite(r->fd, p, n, r->off + (off_t)at)) == -1 &&
		    errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		len -= (size_t)w;
		at = (at + (size_t)w) % r->size;
	}
	if (len > 0)
		memcpy(r->base + at, p, len);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23   /* Linux 5.14 */
#endif
#define POPULATE_CHUNK ((size_t)128 * 1024)

/*
 * On a memory ring's first round, take its pages a chunk ahead of the
 * head with one madvise each instead of a page fault each.  One chunk
 * ahead at most, so an idle stream stays small.  A kernel without
 * MADV_POPULATE_WRITE leaves the pages to the faults, as before.
 */
static void
populate_ahead(struct ring *r, uint64_t end)
{
	size_t n;

	while (r->fd == -1 && r->populated < r->size &&
	    r->populated < end + POPULATE_CHUNK) {
		n = r->size - r->populated < POPULATE_CHUNK ?
		    r->size - r->populated : POPULATE_CHUNK;
		if (madvise(r->base + r->populated, n,
		    MADV_POPULATE_WRITE) == -1 && errno != EINTR) {
			r->populated = r->size;
			return;
		}
		r->populated += n;
	}
}

uint64_t
ring_append(struct ring *r, const unsigned char *frames, size_t len)
{
	uint64_t n = 0;
	size_t off;

	ring_make_room(r, len);
	populate_ahead(r, r->head + len);
	copy_in(r, r->head, frames, len);
	for (off = 0; off < len; off += frame_size(frames + off)) {
		index_frame(r, r->head + off, r->head_seq + n);
		n += (uint64_t)is_data(frames + off);
	}
	r->head += len;
	r->head_seq += n;
	if (r->pub != NULL)
		atomic_store_explicit(&r->pub->head, r->head,
		    memory_order_release);
	return n;
}

uint64_t
ring_adopt(struct ring *r, uint64_t tail, uint64_t tail_seq, uint64_t head,
    ring_control_fn *control, void *arg)
{
	uint64_t p = tail, seq = tail_seq, size;
	const unsigned char *f;
	uint32_t len;
	int is_control;

	r->head = r->tail = tail;
	r->head_seq = r->tail_seq = tail_seq;
	if (head < tail || head - tail > r->size)
		return tail;
	while (head - p >= FRAME_HDR) {
		f = ring_at(r, p);
		frame_get_header(f, &len, &is_control);
		size = FRAME_HDR + (uint64_t)len;
		if (size > head - p || (is_control && (len > FRAME_CTL_MAX ||
		    control(arg, f + FRAME_HDR, len, p, seq) == -1)))
			break;
		index_frame(r, p, seq);
		seq += (uint64_t)!is_control;
		p += size;
	}
	r->head = p;
	r->head_seq = seq;
	return p;
}

int
ring_locate(const struct ring *r, uint64_t pos, uint64_t *start, uint64_t *seq)
{
	uint64_t b, p, s, next;
	const struct mark *m;

	if (pos < r->tail || pos > r->head) {
		errno = ERANGE;
		return -1;
	}
	if (pos == r->head) {
		*start = r->head;
		*seq = r->head_seq;
		return 0;
	}
	/* The nearest recorded frame start at or before pos, else the tail. */
	p = r->tail;
	s = r->tail_seq;
	for (b = pos / INDEX_BLOCK; b >= r->tail / INDEX_BLOCK; b--) {
		m = &r->index[b % r->nmarks];
		if (m->pos != UINT64_MAX && m->pos / INDEX_BLOCK == b &&
		    m->pos <= pos) {
			if (m->pos > r->tail) {
				p = m->pos;
				s = m->seq;
			}
			break;
		}
		if (b == 0)
			break;
	}
	for (;;) {
		next = p + frame_size(ring_at(r, p));
		if (next > pos)
			break;
		s += (uint64_t)is_data(ring_at(r, p));
		p = next;
	}
	*start = p;
	*seq = s;
	return 0;
}

int
ring_align(const struct ring *r, uint64_t pos, uint64_t *start, uint64_t *seq)
{
	if (ring_locate(r, pos, start, seq) == -1)
		return -1;
	if (*start < pos) {
		*seq += (uint64_t)is_data(ring_at(r, *start));
		*start += frame_size(ring_at(r, *start));
	}
	return 0;
}

int
ring_find(const struct ring *r, uint64_t seq, uint64_t *pos)
{
	uint64_t b, p = r->tail, s = r->tail_seq;
	const struct mark *m;

	if (seq < r->tail_seq || seq > r->head_seq) {
		errno = ERANGE;
		return -1;
	}
	if (seq == r->tail_seq) {
		*pos = r->tail;
		return 0;
	}
	/* Find data frame seq - 1: the newest recorded frame at or before
	 * it, then walk. */
	for (b = r->head / INDEX_BLOCK; b >= r->tail / INDEX_BLOCK; b--) {
		m = &r->index[b % r->nmarks];
		if (m->pos != UINT64_MAX && m->pos / INDEX_BLOCK == b &&
		    m->pos >= r->tail && m->seq <= seq - 1) {
			p = m->pos;
			s = m->seq;
			break;
		}
		if (b == 0)
			break;
	}
	while (s < seq - 1 || !is_data(ring_at(r, p))) {
		s += (uint64_t)is_data(ring_at(r, p));
		p += frame_size(ring_at(r, p));
	}
	/* Just past it: a control frame after it (an end of stream) is part
	 * of what comes from seq on. */
	*pos = p + frame_size(ring_at(r, p));
	return 0;
}

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010   /* Linux 5.1 */
#endif
#define SEALS_FIXED (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE)

int
ring_share(struct ring *r, int fds[2])
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct share_header *h = MAP_FAILED;
	int hfd = -1, dfd = -1, saved;
	char path[64];

	if (r->pub != NULL)
		goto done;
	/* The ring's bytes, through a descriptor nobody can write with:
	 * a memfd sealed (the daemon's own mapping stays writable), or
	 * the ring file opened again read-only. */
	if (r->memfd != -1) {
		if (fcntl(r->memfd, F_ADD_SEALS, SEALS_FIXED) == -1)
			return -1;
		dfd = r->memfd;
	} else {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", r->fd);
		if ((dfd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			return -1;
	}
	if ((hfd = memfd_create("streamfan-ring-header", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1 || ftruncate(hfd, (off_t)page) == -1 ||
	    (h = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, hfd,
	    0)) == MAP_FAILED)
		goto fail;
	memcpy(h->magic, SHARE_MAGIC, sizeof(h->magic));
	h->version = SHARE_VERSION;
	h->header_size = (uint32_t)sizeof(*h);
	h->size = r->size;
	h->offset = (uint64_t)r->off;
	atomic_store_explicit(&h->tail, r->tail, memory_order_relaxed);
	atomic_store_explicit(&h->head, r->head, memory_order_release);
	if (fcntl(hfd, F_ADD_SEALS, SEALS_FIXED | F_SEAL_SEAL) == -1)
		goto fail;
	r->pub = h;
	r->share_fd[0] = hfd;
	r->share_fd[1] = dfd;
done:
	fds[0] = r->share_fd[0];
	fds[1] = r->share_fd[1];
	return 0;
fail:
	saved = errno;
	if (h != MAP_FAILED)
		munmap(h, page);
	if (hfd != -1)
		close(hfd);
	if (dfd != r->memfd)
		close(dfd);
	errno = saved;
	return -1;
}

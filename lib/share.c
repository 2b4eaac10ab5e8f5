#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"
#include "ring.h"
#include "share.h"

/* Positions are shared between processes as plain words: they must be
 * lock-free, so that they are address-free as well. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
    "shared ring positions need lock-free 64-bit atomics");

int
share_map(struct share_view *v, int hdr_fd, int data_fd)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	const struct share_header *h;
	unsigned char *base;
	int saved;

	h = mmap(NULL, page, PROT_READ, MAP_SHARED, hdr_fd, 0);
	if (h == MAP_FAILED)
		return -1;
	/* What the daemon wrote before it handed the page over. */
	if (memcmp(h->magic, SHARE_MAGIC, sizeof(h->magic)) != 0 ||
	    h->version != SHARE_VERSION ||
	    h->header_size < sizeof(*h) || h->header_size > page ||
	    h->size == 0 || h->size > SIZE_MAX / 4 ||
	    ring_round((size_t)h->size) != h->size ||
	    h->offset % page != 0 || h->offset > INT64_MAX - h->size) {
		errno = EPROTO;
		goto fail;
	}
	if ((base = ring_map_twice(data_fd, (off_t)h->offset, (size_t)h->size,
	    PROT_READ)) == NULL)
		goto fail;
	if (guard_add(base, 2 * (size_t)h->size) == -1) {
		munmap(base, 2 * (size_t)h->size);
		goto fail;
	}
	v->hdr = h;
	v->base = base;
	v->size = (size_t)h->size;
	return 0;
fail:
	saved = errno;
	munmap((void *)h, page);
	errno = saved;
	return -1;
}

void
share_unmap(struct share_view *v)
{
	if (v->hdr == NULL)
		return;
	guard_remove(v->base);
	munmap((void *)v->base, 2 * v->size);
	munmap((void *)v->hdr, (size_t)sysconf(_SC_PAGESIZE));
	v->hdr = NULL;
	v->base = NULL;
}

uint64_t
share_head(const struct share_view *v)
{
	return atomic_load_explicit(&((struct share_header *)v->hdr)->head,
	    memory_order_acquire);
}

int
share_damaged(const struct share_view *v)
{
	return guard_damaged(v->base);
}

int
share_copy(const struct share_view *v, uint64_t pos, void *dst, size_t len)
{
	struct share_header *h = (struct share_header *)v->hdr;

	memcpy(dst, v->base + pos % v->size, len);
	/* The copy's loads come before the tail's (see share.h). */
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&h->tail, memory_order_relaxed) <= pos &&
	    !guard_damaged(v->base);
}

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto.h"
#include "guard.h"
#include "spool.h"

/*
 * The header, at fixed offsets.  [0, OFF_CHECK) is written once, when the
 * file is created, and covered by the check at OFF_CHECK; the boot id and
 * the position records change while the daemon runs.
 */
#define MAGIC        "streamfan ring\n"   /* 16 bytes with its NUL */
#define MAGIC_LEN    16
/* Written over MAGIC by spool_mark_damaged(): the file was cut short
 * while in use, and is refused until someone looks at it. */
#define DAMAGED      "streamfan BAD!\n"
#define OFF_VERSION  16      /* u32 */
#define OFF_HDR_LEN  20      /* u32: the header's size, one page */
#define OFF_RING     24      /* u64: the ring's size */
#define OFF_EPOCH    32      /* 16 hex digits */
#define OFF_NAME     48      /* NUL-padded */
#define NAME_FIELD   72
#define OFF_CHECK    120     /* u64 */
#define OFF_BOOT     128     /* NUL-padded */
#define BOOT_FIELD   40
#define OFF_LIVE     192     /* two records */
#define OFF_SYNCED   288     /* two records */
#define HDR_USED     384

/* A record: gen, tail, tail_seq, head, head_seq, then the check of the
 * five.  Of the two copies the valid one with the larger gen counts. */
#define REC_CHECK    ((size_t)40)   /* the check, after five u64 */
#define REC_LEN      ((size_t)48)

/* The largest head a record may name: half the range, more than a
 * stream takes in decades at any rate a socket carries. */
#define POS_MAX      (UINT64_MAX >> 1)

struct spool {
	int fd;
	unsigned char *hdr;          /* the header page, mapped shared */
	size_t hdr_len;
	uint64_t ring_size;
	uint64_t live_gen, synced_gen;
	struct spool_pos synced;     /* what the synced record names */
	struct spool_header start;   /* as opened */
};

static void
put32(unsigned char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* FNV-1a: enough to tell a torn or damaged record from a whole one. */
static uint64_t
check(const unsigned char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (len-- > 0) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static int fail(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}

static size_t
page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

const char *
spool_boot_id(void)
{
	static char id[BOOT_FIELD];
	static int read_it;
	ssize_t n;
	int fd;

	if (read_it)
		return id;
	read_it = 1;
	if ((fd = open("/proc/sys/kernel/random/boot_id",
	    O_RDONLY | O_CLOEXEC)) == -1)
		return id;
	while ((n = read(fd, id, sizeof(id) - 1)) == -1 && errno == EINTR)
		;
	close(fd);
	if (n <= 0)
		n = 0;
	id[n] = '\0';
	id[strcspn(id, "\n")] = '\0';
	return id;
}

/* The valid copy of the record pair at p with the larger gen, or -1. */
static int
read_record(const unsigned char *p, uint64_t *gen, struct spool_pos *pos)
{
	const unsigned char *r, *best = NULL;
	size_t i;

	for (i = 0; i < 2; i++) {
		r = p + i * REC_LEN;
		if (get64(r + REC_CHECK) != check(r, REC_CHECK) ||
		    get64(r) == 0)
			continue;
		if (best == NULL || get64(r) > get64(best))
			best = r;
	}
	if (best == NULL)
		return -1;
	*gen = get64(best);
	pos->tail = get64(best + 8);
	pos->tail_seq = get64(best + 16);
	pos->head = get64(best + 24);
	pos->head_seq = get64(best + 32);
	return 0;
}

/*
 * Write record gen into its copy of the pair at p: the fields first, the
 * check last, so that a process stopped between two stores leaves a copy
 * that fails its check and the other one stands.
 */
static void
write_record(unsigned char *p, uint64_t gen, const struct spool_pos *pos)
{
	unsigned char *r = p + (size_t)(gen % 2) * REC_LEN;

	put64(r + REC_CHECK, 0);
	atomic_signal_fence(memory_order_seq_cst);
	put64(r, gen);
	put64(r + 8, pos->tail);
	put64(r + 16, pos->tail_seq);
	put64(r + 24, pos->head);
	put64(r + 32, pos->head_seq);
	atomic_signal_fence(memory_order_seq_cst);
	put64(r + REC_CHECK, check(r, REC_CHECK));
}

static void
ring_pos(const struct ring *r, struct spool_pos *pos)
{
	pos->tail = ring_tail(r);
	pos->tail_seq = ring_tail_seq(r);
	pos->head = ring_head(r);
	pos->head_seq = ring_head_seq(r);
}

int
spool_parse(const unsigned char *hdr, size_t len, uint64_t file_size,
    const char *boot_id, struct spool_header *h, char *why, size_t cap)
{
	const struct spool_pos *p = &h->pos;
	uint32_t version, hdr_len;
	uint64_t gen;
	size_t i;

	memset(h, 0, sizeof(*h));
	if (len < HDR_USED || memcmp(hdr, MAGIC, MAGIC_LEN) != 0)
		return fail(why, cap, "not a ring file");
	if ((version = get32(hdr + OFF_VERSION)) != SPOOL_VERSION)
		return fail(why, cap, "format version %u; this sfd reads "
		    "version %u", version, SPOOL_VERSION);
	if (get64(hdr + OFF_CHECK) != check(hdr, OFF_CHECK))
		return fail(why, cap, "damaged header (its check fails)");
	hdr_len = get32(hdr + OFF_HDR_LEN);
	if (hdr_len != len)
		return fail(why, cap, "header of %u bytes, not one page "
		    "(%zu)", hdr_len, len);
	h->ring_size = get64(hdr + OFF_RING);
	if (h->ring_size == 0 || h->ring_size > SIZE_MAX / 4 ||
	    ring_round((size_t)h->ring_size) != h->ring_size)
		return fail(why, cap, "damaged header (ring size %llu)",
		    (unsigned long long)h->ring_size);
	if (file_size != hdr_len + h->ring_size)
		return fail(why, cap, "the file is %llu bytes; its header "
		    "says %llu", (unsigned long long)file_size,
		    (unsigned long long)hdr_len + h->ring_size);
	for (i = 0; i < SPOOL_EPOCH_LEN; i++)
		if (strchr("0123456789abcdef", hdr[OFF_EPOCH + i]) == NULL ||
		    hdr[OFF_EPOCH + i] == '\0')
			return fail(why, cap, "damaged header (epoch)");
	memcpy(h->epoch, hdr + OFF_EPOCH, SPOOL_EPOCH_LEN);
	if (memchr(hdr + OFF_NAME, '\0', NAME_FIELD) == NULL ||
	    !proto_stream_valid((const char *)hdr + OFF_NAME))
		return fail(why, cap, "damaged header (stream name)");
	memcpy(h->name, hdr + OFF_NAME, strlen((const char *)hdr + OFF_NAME));
	h->same_boot = boot_id[0] != '\0' &&
	    memchr(hdr + OFF_BOOT, '\0', BOOT_FIELD) != NULL &&
	    strcmp((const char *)hdr + OFF_BOOT, boot_id) == 0;
	/* After a reboot the live record may name bytes that never reached
	 * the disk; the synced one does not. */
	if (!(h->same_boot && read_record(hdr + OFF_LIVE, &gen, &h->pos) == 0)
	    && read_record(hdr + OFF_SYNCED, &gen, &h->pos) == -1)
		return fail(why, cap, "no valid position record");
	/* Positions and seqs count from the ring's creation and never wrap
	 * (ring.h): a record that has them near the end of their range, or
	 * more data frames before a position than 4-byte frames fit, was
	 * not written by sfd, and appending after it would wrap them. */
	if (p->head < p->tail || p->head - p->tail > h->ring_size ||
	    p->head > POS_MAX || p->tail_seq > p->tail / 4 ||
	    p->head_seq < p->tail_seq ||
	    p->head_seq - p->tail_seq > (p->head - p->tail) / 4)
		return fail(why, cap, "damaged position record");
	return 0;
}

/* Map the header page of fd shared, or NULL. */
static unsigned char *
map_header(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (guard_add(p, len) == -1) {   /* the file may be cut short */
		munmap(p, len);
		return NULL;
	}
	return p;
}

/* 1 if spool_mark_damaged() marked the file of fd. */
static int
marked_damaged(int fd)
{
	char buf[MAGIC_LEN];
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), 0)) == -1 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(buf) &&
	    memcmp(buf, DAMAGED, MAGIC_LEN) == 0;
}

static void
unmap_header(unsigned char *hdr, size_t len)
{
	guard_remove(hdr);
	munmap(hdr, len);
}

static struct spool *
spool_new(int fd, unsigned char *hdr, size_t hdr_len, uint64_t ring_size)
{
	struct spool *sp;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	sp->fd = fd;
	sp->hdr = hdr;
	sp->hdr_len = hdr_len;
	sp->ring_size = ring_size;
	return sp;
}

struct spool *
spool_create(int dirfd, const char *name, size_t ring_size,
    const char *epoch, mode_t mode, gid_t group, struct ring **ring,
    char *why, size_t cap)
{
	char path[SPOOL_NAME_MAX + 16], tmp[SPOOL_NAME_MAX + 16];
	size_t hdr_len = page_size();
	unsigned char *buf = NULL, *hdr = NULL;
	struct spool_pos zero = { 0, 0, 0, 0 };
	struct spool *sp = NULL;
	int fd, rc;

	*ring = NULL;
	snprintf(path, sizeof(path), "%s%s", name, SPOOL_SUFFIX);
	snprintf(tmp, sizeof(tmp), "%s%s.new", name, SPOOL_SUFFIX);
	/* Made whole under another name, so a crash never leaves a file
	 * that is not a ring; the folder's lock keeps the name ours. */
	if ((fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, mode)) == -1) {
		fail(why, cap, "cannot create %s: %s", tmp, strerror(errno));
		return NULL;
	}
	if (fchmod(fd, mode) == -1 ||
	    (group != (gid_t)-1 && fchown(fd, (uid_t)-1, group) == -1)) {
		fail(why, cap, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if ((rc = posix_fallocate(fd, 0, (off_t)(hdr_len + ring_size))) != 0) {
		fail(why, cap, "cannot allocate %zu bytes for %s: %s",
		    hdr_len + ring_size, path, strerror(rc));
		goto fail;
	}
	if ((buf = calloc(1, hdr_len)) == NULL) {
		fail(why, cap, "%s", strerror(errno));
		goto fail;
	}
	memcpy(buf, MAGIC, MAGIC_LEN);
	put32(buf + OFF_VERSION, SPOOL_VERSION);
	put32(buf + OFF_HDR_LEN, (uint32_t)hdr_len);
	put64(buf + OFF_RING, ring_size);
	memcpy(buf + OFF_EPOCH, epoch, SPOOL_EPOCH_LEN);
	/* NUL-padded: buf is zeroed and the field longer than any name. */
	memcpy(buf + OFF_NAME, name, strnlen(name, SPOOL_NAME_MAX));
	put64(buf + OFF_CHECK, check(buf, OFF_CHECK));
	snprintf((char *)buf + OFF_BOOT, BOOT_FIELD, "%s", spool_boot_id());
	write_record(buf + OFF_LIVE, 1, &zero);
	write_record(buf + OFF_SYNCED, 1, &zero);
	if (pwrite(fd, buf, hdr_len, 0) != (ssize_t)hdr_len || fsync(fd) == -1 ||
	    renameat(dirfd, tmp, dirfd, path) == -1 || fsync(dirfd) == -1) {
		fail(why, cap, "cannot write %s: %s", path,
		    errno != 0 ? strerror(errno) : "short write");
		goto fail;
	}
	if ((hdr = map_header(fd, hdr_len)) == NULL ||
	    (*ring = ring_map(fd, (off_t)hdr_len, ring_size)) == NULL ||
	    (sp = spool_new(fd, hdr, hdr_len, ring_size)) == NULL) {
		fail(why, cap, "cannot map %s: %s", path, strerror(errno));
		(void)unlinkat(dirfd, path, 0);
		goto fail;
	}
	free(buf);
	sp->live_gen = sp->synced_gen = 1;
	memcpy(sp->start.epoch, epoch, SPOOL_EPOCH_LEN);
	snprintf(sp->start.name, sizeof(sp->start.name), "%s", name);
	sp->start.ring_size = ring_size;
	return sp;
fail:
	(void)unlinkat(dirfd, tmp, 0);
	ring_free(*ring);
	*ring = NULL;
	if (hdr != NULL)
		unmap_header(hdr, hdr_len);
	free(buf);
	close(fd);
	return NULL;
}

struct spool *
spool_open(int dirfd, const char *name, size_t ring_size,
    struct ring **ring, char *why, size_t cap)
{
	char path[SPOOL_NAME_MAX + 16];
	size_t hdr_len = page_size();
	struct spool_header h;
	unsigned char *hdr = NULL;
	struct spool *sp = NULL;
	struct stat sb;
	uint64_t gen;
	int fd;

	*ring = NULL;
	snprintf(path, sizeof(path), "%s%s", name, SPOOL_SUFFIX);
	if ((fd = openat(dirfd, path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		fail(why, cap, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1) {
		fail(why, cap, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		fail(why, cap, "not a regular file");
		goto fail;
	}
	if (marked_damaged(fd)) {
		fail(why, cap, "it was cut short while sfd used it, and sfd "
		    "marked it damaged");
		goto fail;
	}
	if ((uint64_t)sb.st_size < hdr_len) {
		fail(why, cap, "not a ring file (%lld bytes)",
		    (long long)sb.st_size);
		goto fail;
	}
	if ((hdr = map_header(fd, hdr_len)) == NULL) {
		fail(why, cap, "cannot map it: %s", strerror(errno));
		goto fail;
	}
	if (spool_parse(hdr, hdr_len, (uint64_t)sb.st_size, spool_boot_id(),
	    &h, why, cap) == -1)
		goto fail;
	if (strcmp(h.name, name) != 0) {
		fail(why, cap, "it holds stream %s", h.name);
		goto fail;
	}
	if (h.ring_size != ring_size) {
		fail(why, cap, "it holds a ring of %llu bytes, not --ring %zu",
		    (unsigned long long)h.ring_size, ring_size);
		goto fail;
	}
	if ((*ring = ring_map(fd, (off_t)hdr_len, ring_size)) == NULL ||
	    (sp = spool_new(fd, hdr, hdr_len, ring_size)) == NULL) {
		fail(why, cap, "cannot map it: %s", strerror(errno));
		goto fail;
	}
	sp->start = h;
	sp->live_gen = sp->synced_gen = 0;
	if (read_record(hdr + OFF_LIVE, &gen, &h.pos) == 0)
		sp->live_gen = gen;
	if (read_record(hdr + OFF_SYNCED, &gen, &h.pos) == 0)
		sp->synced_gen = gen;
	return sp;
fail:
	ring_free(*ring);
	*ring = NULL;
	if (hdr != NULL)
		unmap_header(hdr, hdr_len);
	close(fd);
	return NULL;
}

const struct spool_header *
spool_start(const struct spool *sp)
{
	return &sp->start;
}

int
spool_adopted(struct spool *sp, const struct ring *r, char *why, size_t cap)
{
	struct spool_pos pos;

	/* Durable first: on the same boot the frames may be in the page
	 * cache only, and the synced record is about to name them. */
	if (fdatasync(sp->fd) == -1)
		return fail(why, cap, "cannot sync it: %s", strerror(errno));
	ring_pos(r, &pos);
	write_record(sp->hdr + OFF_LIVE, ++sp->live_gen, &pos);
	write_record(sp->hdr + OFF_SYNCED, ++sp->synced_gen, &pos);
	sp->synced = pos;
	if (msync(sp->hdr, sp->hdr_len, MS_SYNC) == -1)
		return fail(why, cap, "cannot sync it: %s", strerror(errno));
	/* Only now: until the records are on disk, a reboot must still
	 * take the synced record it had. */
	memset(sp->hdr + OFF_BOOT, 0, BOOT_FIELD);
	memcpy(sp->hdr + OFF_BOOT, spool_boot_id(), strlen(spool_boot_id()));
	return 0;
}

void
spool_note(struct spool *sp, const struct ring *r)
{
	struct spool_pos pos;

	ring_pos(r, &pos);
	write_record(sp->hdr + OFF_LIVE, ++sp->live_gen, &pos);
}

int
spool_must_sync(const struct spool *sp, const struct ring *r, size_t len)
{
	return ring_head(r) + len > sp->synced.tail + sp->ring_size;
}

int
spool_sync(struct spool *sp, const struct ring *r, size_t room)
{
	struct spool_pos pos;
	uint64_t from;

	if (fdatasync(sp->fd) == -1)
		return -1;
	ring_pos(r, &pos);
	/* The oldest frames are left out, so the ring has room to append
	 * before it would overwrite what this record names. */
	from = pos.head + room > pos.tail + sp->ring_size ?
	    pos.head + room - sp->ring_size : pos.tail;
	if (from > pos.head)
		from = pos.head;
	if (ring_align(r, from, &pos.tail, &pos.tail_seq) == -1)
		return -1;
	write_record(sp->hdr + OFF_SYNCED, ++sp->synced_gen, &pos);
	sp->synced = pos;
	return msync(sp->hdr, sp->hdr_len, MS_SYNC);
}

void
spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	unmap_header(sp->hdr, sp->hdr_len);
	close(sp->fd);
	free(sp);
}

int
spool_lock(const char *dir, char *why, size_t cap)
{
	char pid[32];
	ssize_t n;
	int dirfd, fd;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return fail(why, cap, "cannot create it: %s", strerror(errno));
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return fail(why, cap, "%s", strerror(errno));
	if ((fd = openat(dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1) {
		fail(why, cap, "lock: %s", strerror(errno));
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			fail(why, cap, "lock: %s", strerror(errno));
			goto fail;
		}
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (pid[0] != '\0')
			fail(why, cap, "in use by another sfd (pid %s)", pid);
		else
			fail(why, cap, "in use by another sfd");
		goto fail;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n) {
		fail(why, cap, "lock: %s", strerror(errno));
		goto fail;
	}
	/* fd stays open, unreferenced: the lock lasts as long as the
	 * process, and is released however it ends. */
	return dirfd;
fail:
	if (fd != -1)
		close(fd);
	close(dirfd);
	return -1;
}

int
spool_damaged(const struct spool *sp)
{
	return guard_damaged(sp->hdr);
}

int
spool_mark_damaged(struct spool *sp)
{
	ssize_t n;

	while ((n = pwrite(sp->fd, DAMAGED, MAGIC_LEN, 0)) == -1 &&
	    errno == EINTR)
		;
	return n == MAGIC_LEN ? 0 : -1;
}

int
spool_cut_short(const struct spool *sp)
{
	struct stat sb;

	return fstat(sp->fd, &sb) == 0 &&
	    (uint64_t)sb.st_size < sp->hdr_len + sp->ring_size;
}

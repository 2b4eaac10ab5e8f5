/*
 * A spool: each stream's ring kept in a file, DIR/NAME.ring, so that it
 * outlives the daemon and may be larger than memory.
 *
 * The file is a header of one page, then the ring's bytes, allocated in
 * full when it is created (a full disk is an error then, never a SIGBUS
 * while appending).  The header names the stream, its epoch and ring size,
 * and records where the frames are in two ways:
 *
 *   live    where they are now: written before the ring overwrites a byte
 *           (the new tail) and after it appends (the new head).  What the
 *           process wrote to the mapping is in the page cache, which
 *           outlives the process, so after a crash or SIGKILL on the same
 *           boot the live positions name exactly what was appended.
 *   synced  where they were at the last spool_sync(), when every byte up
 *           to them had reached the disk; after a reboot (a power cut)
 *           only those are trusted.  The ring does not overwrite what they
 *           name until the next sync (spool_must_sync()).
 *
 * Each is kept twice, alternately, with a check value, so a torn write of
 * one leaves the other.  The header also holds the boot id it was last
 * opened under, to tell the two cases apart.  Numbers are little-endian.
 */
#ifndef SF_SPOOL_H
#define SF_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ring.h"

#define SPOOL_SUFFIX     ".ring"
#define SPOOL_VERSION    1u
#define SPOOL_EPOCH_LEN  16          /* hex digits */
#define SPOOL_NAME_MAX   64

struct spool;

/* Where a ring's frames are: a position record of the header. */
struct spool_pos {
	uint64_t tail, tail_seq;
	uint64_t head, head_seq;
};

/* What spool_parse() found in a header. */
struct spool_header {
	uint64_t ring_size;
	char epoch[SPOOL_EPOCH_LEN + 1];
	char name[SPOOL_NAME_MAX + 1];
	int same_boot;               /* the live positions are trusted */
	struct spool_pos pos;        /* the positions to start from */
};

/*
 * Lock spool folder dir (created, mode 0700, if missing) for this process
 * with flock(2), and write its pid into dir/lock.  Returns a descriptor of
 * the folder (held open: the lock lasts while the process does), or -1
 * with why filled: the holder's pid when another process has it.
 */
int spool_lock(const char *dir, char *why, size_t cap);

/*
 * Check a header of len bytes, from a file of file_size bytes, against
 * the boot it is read under (boot_id, "" when unknown: never the same),
 * and fill h.  Returns -1 with why filled when it does not validate.
 * Reads nothing beyond len.
 */
int spool_parse(const unsigned char *hdr, size_t len, uint64_t file_size,
    const char *boot_id, struct spool_header *h, char *why, size_t cap);

/*
 * Create dirfd's NAME.ring for a ring of ring_size bytes (as ring_round()
 * gives it) with the stream's epoch, mode and group (-1: the process's),
 * allocated in full and synced, and return it with an empty ring over it
 * in *ring.  NULL with why filled on failure; nothing is left behind.
 */
struct spool *spool_create(int dirfd, const char *name, size_t ring_size,
    const char *epoch, mode_t mode, gid_t group, struct ring **ring,
    char *why, size_t cap);

/*
 * Open dirfd's NAME.ring, check its header (and that it holds a ring of
 * ring_size bytes), and return it with a ring over it in *ring, holding
 * no frames yet: the caller takes them up with ring_adopt() from
 * spool_start(), then records the result with spool_adopted().  NULL
 * with why filled when the file cannot be used.
 */
struct spool *spool_open(int dirfd, const char *name, size_t ring_size,
    struct ring **ring, char *why, size_t cap);

/* The positions and epoch an opened spool starts from. */
const struct spool_header *spool_start(const struct spool *sp);

/*
 * After ring_adopt(): make the file durable as it now stands, both
 * records say where the ring is, and the header names this boot.  -1
 * with why filled when the file cannot be synced.
 */
int spool_adopted(struct spool *sp, const struct ring *r, char *why,
    size_t cap);

/* Record where r's frames are now (the live record); no I/O. */
void spool_note(struct spool *sp, const struct ring *r);

/*
 * 1 if appending len bytes to r would overwrite frames the synced record
 * names: spool_sync() first.
 */
int spool_must_sync(const struct spool *sp, const struct ring *r,
    size_t len);

/*
 * Make what r holds durable: the file's data, then the synced record,
 * which names r's frames from tail, less its oldest ones so that at
 * least room bytes may be appended before the next sync.  Returns -1
 * with errno on failure (the ring is still served from memory).
 */
int spool_sync(struct spool *sp, const struct ring *r, size_t room);

/* Close the file (after spool_sync() for a clean stop). */
void spool_close(struct spool *sp);

/* This boot's id (/proc/sys/kernel/random/boot_id), "" if unknown. */
const char *spool_boot_id(void);

/*
 * 1 if the header's mapping took a fault since it was opened: the file
 * was cut short under it (guard.h).  The ring's own mapping answers the
 * same through ring_damaged().
 */
int spool_damaged(const struct spool *sp);

/*
 * 1 if the file is shorter than its header and ring: another process cut
 * it short.  Checked before each append, so that the daemon's own writes
 * never extend it again over the hole (which would read back as zeros,
 * with no fault to tell).
 */
int spool_cut_short(const struct spool *sp);

/*
 * Mark the file damaged, so that spool_open() refuses it from then on
 * with a reason that says so.  -1 with errno when it cannot be written.
 */
int spool_mark_damaged(struct spool *sp);

#endif

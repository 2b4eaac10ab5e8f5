/*
 * Restoring the spool on start: each ring file the --spool folder holds
 * becomes its stream again, with the frames that validate.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "restore.h"
#include "stream.h"

/* ring_adopt's check of a control frame: the only ones a ring holds are
 * end marks, "EOS seq=N" with N the seq where it stands. */
static int
adopt_mark(void *arg, const unsigned char *body, uint32_t len, uint64_t pos,
    uint64_t seq)
{
	char want[64];
	int n;

	n = snprintf(want, sizeof(want), "EOS seq=%llu",
	    (unsigned long long)seq);
	if (n < 0 || (uint32_t)n != len || memcmp(body, want, len) != 0)
		return -1;
	return stream_remember_mark(arg, pos, seq);
}

/*
 * Serve the stream kept in the spool as file NAME.ring again: take up its
 * frames from the recorded positions, dropping a torn or damaged end.
 * -1 with why filled when the file cannot be used.
 */
static int
restore(struct server *s, const char *name, char *why, size_t cap)
{
	const struct spool_header *h;
	struct stream *st;
	struct spool *sp;
	struct ring *r;
	uint64_t head, lost;

	if ((sp = spool_open(s->spool_fd, name, ring_round(s->cfg.ring), &r,
	    why, cap)) == NULL)
		return -1;
	h = spool_start(sp);
	if ((st = stream_new(s, name, h->epoch, r, sp)) == NULL) {
		snprintf(why, cap, "%s", strerror(errno));
		ring_free(r);
		spool_close(sp);
		return -1;
	}
	head = ring_adopt(r, h->pos.tail, h->pos.tail_seq, h->pos.head,
	    adopt_mark, st);
	if (head == h->pos.head && ring_head_seq(r) != h->pos.head_seq) {
		snprintf(why, cap, "its frames do not match its position "
		    "record (%llu data frames, the record says %llu)",
		    (unsigned long long)(ring_head_seq(r) - h->pos.tail_seq),
		    (unsigned long long)(h->pos.head_seq - h->pos.tail_seq));
		return -1;
	}
	if (head < h->pos.head) {
		lost = h->pos.head_seq > ring_head_seq(r) ?
		    h->pos.head_seq - ring_head_seq(r) : 0;
		log_msg(LOG_NOTICE, "stream %s: dropped the last %llu bytes of "
		    "%s/%s%s, %llu frames from seq %llu on: they do not "
		    "validate", name, (unsigned long long)(h->pos.head - head),
		    s->cfg.spool, name, SPOOL_SUFFIX, (unsigned long long)lost,
		    (unsigned long long)ring_head_seq(r));
	}
	if (spool_adopted(sp, r, why, cap) == -1)
		return -1;
	log_msg(LOG_INFO, "stream %s restored from the spool%s: epoch %s, "
	    "seq %llu..%llu, %llu bytes", name, h->same_boot ? "" :
	    " as last synced (a reboot)", st->epoch,
	    (unsigned long long)ring_tail_seq(r),
	    (unsigned long long)ring_head_seq(r),
	    (unsigned long long)(ring_head(r) - ring_tail(r)));
	return 0;
}

int
restore_spool(struct server *s, char *why, size_t cap)
{
	char name[STREAM_NAME_MAX + 1], what[200];
	struct dirent *d;
	size_t len, sfx = strlen(SPOOL_SUFFIX);
	DIR *dir;
	int fd;

	if ((fd = dup(s->spool_fd)) == -1 || (dir = fdopendir(fd)) == NULL) {
		snprintf(why, cap, "--spool %s: %s", s->cfg.spool,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	errno = 0;
	while ((d = readdir(dir)) != NULL) {
		len = strlen(d->d_name);
		if (len <= sfx || strcmp(d->d_name + len - sfx,
		    SPOOL_SUFFIX) != 0)
			continue;   /* the lock, a file being made, others */
		snprintf(name, sizeof(name), "%.*s", (int)(len - sfx),
		    d->d_name);
		if (len - sfx > STREAM_NAME_MAX || !proto_stream_valid(name)) {
			snprintf(why, cap, "spool %s/%s: not a stream's ring "
			    "file name; move it out of the folder",
			    s->cfg.spool, d->d_name);
			goto fail;
		}
		if (s->nstreams >= s->cfg.max_streams) {
			snprintf(why, cap, "spool %s holds more streams than "
			    "--max-streams %llu", s->cfg.spool,
			    (unsigned long long)s->cfg.max_streams);
			goto fail;
		}
		if (restore(s, name, what, sizeof(what)) == -1) {
			snprintf(why, cap, "spool %s/%s: %s; move it aside to "
			    "start stream %s afresh", s->cfg.spool, d->d_name,
			    what, name);
			goto fail;
		}
		errno = 0;
	}
	if (errno != 0) {
		snprintf(why, cap, "--spool %s: %s", s->cfg.spool,
		    strerror(errno));
		goto fail;
	}
	closedir(dir);
	return 0;
fail:
	closedir(dir);
	return -1;
}

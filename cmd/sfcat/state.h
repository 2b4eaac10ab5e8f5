/*
 * sfcat's --state file: where the next run goes on.  One line,
 * "epoch=E next=N", with " eos=1" when the end mark right before record N
 * was handled; read at start, replaced atomically and durably as records
 * are printed.  These functions never print and never exit: sfcat
 * decides what a failure means.
 */
#ifndef SFCAT_STATE_H
#define SFCAT_STATE_H

#include <stdint.h>

/* A place in a stream, as the file keeps it. */
struct state_pos {
	char epoch[17];          /* 16 lower-case hex digits */
	uint64_t next;           /* seq of the next record to print */
	int eos;                 /* the end mark before it was handled */
};

enum state_result {
	STATE_OK,                /* done: loaded, or saved */
	STATE_NONE,              /* state_load(): there is no file */
	STATE_EMPTY,             /* state_load(): the file is empty */
	STATE_INVALID,           /* state_load(): not a state file of sfcat */
	STATE_TOO_LONG,          /* state_save(): no room for the path's
	                            temporary name */
	STATE_FAILED             /* a system call failed: see errno */
};

/*
 * Read the state file at path into *pos.  A file that exists but is empty
 * or not of this form is STATE_EMPTY or STATE_INVALID, never STATE_NONE:
 * a silent fresh start would print from --from again, or skip what came
 * meanwhile.
 */
enum state_result state_load(const char *path, struct state_pos *pos);

/*
 * Replace the state file at path with *pos: through path.tmp, fsync(2) and
 * rename(2), then fsync(2) of the folder, so a reader never sees half a
 * file and a power cut leaves the old state or the new.  Returns STATE_OK,
 * STATE_TOO_LONG or STATE_FAILED (errno; EINTR once a stop signal cut a
 * blocking step short).
 */
enum state_result state_save(const char *path, const struct state_pos *pos);

#endif

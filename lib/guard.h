/*
 * Guarded mappings of files another process may cut short.
 *
 * A page of a shared file mapping past the file's end raises SIGBUS when
 * it is touched: a ring file truncated under the daemon would kill it.
 * With guard_install(), a fault inside a guarded mapping instead gets a
 * page of zeros in place of the missing one (so the access completes),
 * and the mapping is noted as damaged for the program to act on at its
 * next check.  A fault anywhere else still ends the process with SIGBUS.
 */
#ifndef SF_GUARD_H
#define SF_GUARD_H

#include <signal.h>
#include <stddef.h>

/* Set by the handler: some guarded mapping was damaged since the last
 * guard_clear().  A program that finds damage another way may set it
 * too, to have it looked at in the same place. */
extern volatile sig_atomic_t guard_pending;

/* Install the SIGBUS handler.  -1 with errno on failure. */
int guard_install(void);

/* Guard len bytes at addr.  -1 (ENOMEM) when that cannot be noted. */
int guard_add(const void *addr, size_t len);

/* Stop guarding the mapping at addr (before it is unmapped). */
void guard_remove(const void *addr);

/* 1 if the mapping at addr took a fault since it was guarded. */
int guard_damaged(const void *addr);

/* The program has looked at every damaged mapping. */
void guard_clear(void);

#endif

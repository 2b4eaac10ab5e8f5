/*
 * The server's lists a client waits on: a timer (its hello or its
 * departure is due), the publishers with input still to read, and the
 * clients to act on in the pass before the loop sleeps.
 */
#ifndef SFD_QUEUE_H
#define SFD_QUEUE_H

#include "sfd.h"

/* Put c on a timer list (s->hello, s->leaving) due in ms, off any other.
 * Every list has one fixed delay, so appending keeps it sorted. */
void client_timer_set(struct client *c, struct client_list *list,
    uint64_t ms);

/* Take c off the timer list it is on (its hello was answered). */
void client_timer_clear(struct client *c);

/* Note that c has input the loop must read on its next turn. */
void client_ready_set(struct client *c);
void client_ready_clear(struct client *c);

/*
 * Put c on the list the loop acts on before it sleeps: its decisions
 * (a cut-off), its output.  Once only; never a closed client.
 */
void client_schedule(struct client *c);
void client_unschedule(struct client *c);

/*
 * Ask for the periodic check of stalls and of sfd --max-lag (TICK_MS from
 * now, unless one is due sooner): needed while a publisher is held or a
 * subscriber is over --max-lag, whether or not anything else happens.
 */
#define TICK_MS 200
void server_tick_arm(struct server *s);

/*
 * The spare descriptor, held back for when descriptors run out: lend it
 * (close it, so the next open or accept gets its slot; 0 when there was
 * none to lend) and get it back (open it again unless held; -1 with errno
 * when that fails, and the spare stays missing until a later call).
 */
int server_spare_lend(struct server *s);
int server_spare_restore(struct server *s);

#endif

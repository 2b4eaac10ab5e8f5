#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"

/*
 * The guarded mappings.  SIGBUS is synchronous: it is raised by the very
 * access that touches a guarded page, never while this table is being
 * changed, so the handler may read it as it stands.
 */
struct guarded {
	uintptr_t start, end;
	volatile sig_atomic_t damaged;
};

static struct guarded *table;
static size_t used, cap;
static uintptr_t page_size;

volatile sig_atomic_t guard_pending;

static void
on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	char *page = (char *)si->si_addr - (a & (page_size - 1));
	struct sigaction dfl;
	size_t i;

	(void)ctx;
	for (i = 0; i < used; i++) {
		if (a < table[i].start || a >= table[i].end)
			continue;
		/* mmap(2) is a plain system call here: a page of zeros
		 * where the file has none, and the access goes on. */
		if (mmap(page, (size_t)page_size,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		table[i].damaged = 1;
		guard_pending = 1;
		return;
	}
	/* Not ours, or no page to be had: what SIGBUS would have done. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	(void)sigaction(sig, &dfl, NULL);
}

int
guard_install(void)
{
	struct sigaction sa;
	long n = sysconf(_SC_PAGESIZE);

	page_size = n > 0 ? (uintptr_t)n : 4096;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL);
}

int
guard_add(const void *addr, size_t len)
{
	struct guarded *p;
	size_t n;

	if (used == cap) {
		n = cap == 0 ? 16 : cap * 2;
		if ((p = realloc(table, n * sizeof(*p))) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		table = p;
		cap = n;
	}
	table[used].start = (uintptr_t)addr;
	table[used].end = (uintptr_t)addr + len;
	table[used].damaged = 0;
	used++;
	return 0;
}

void
guard_remove(const void *addr)
{
	size_t i;

	for (i = 0; i < used; i++) {
		if (table[i].start != (uintptr_t)addr)
			continue;
		table[i] = table[--used];
		break;
	}
	if (used == 0) {
		free(table);
		table = NULL;
		cap = 0;
	}
}

int
guard_damaged(const void *addr)
{
	size_t i;

	for (i = 0; i < used; i++)
		if (table[i].start == (uintptr_t)addr)
			return table[i].damaged != 0;
	return 0;
}

void
guard_clear(void)
{
	guard_pending = 0;
}

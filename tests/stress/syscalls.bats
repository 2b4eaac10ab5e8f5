#!/usr/bin/env bats
# System calls that fail under sfd, made to fail on purpose (fault.so,
# preloaded): a failing event loop, a spare descriptor that cannot be had.

load ../bats/helpers
load stress_helpers

FAULT=$BUILD/tests/stress/fault.so

setup_file() {
	[ -f "$BUILD/tests/stress/fault.so" ] ||
		{ echo "not built: $BUILD/tests/stress/fault.so" >&2; return 1; }
}

@test "a failing epoll_wait ends sfd with status 1 and the reason, after the clean-up of a shutdown" {
	spawn sfd env LD_PRELOAD="$FAULT" SF_FAULT_EPOLL_WAIT=1 \
	    "$SFD" -v -l "$SOCK"
	assert_exit sfd 1
	unstamp "$T/sfd.err" | grep -qx 'sfd: epoll_wait: Invalid argument'
	unstamp "$T/sfd.err" | grep -qx 'sfd: stopping on an error'
	[ ! -e "$SOCK" ]
}

@test "out of descriptors with no spare to be had: sfd does not spin, waiting connections are served once descriptors are free" {
	# The spare is opened once at start; every later open of it fails.
	printf '#!/bin/sh\nulimit -n 64 || exit 99\nLD_PRELOAD="%s" SF_FAULT_DEVNULL=1 exec "%s" "$@"\n' \
	    "$FAULT" "$SFD" >"$T/sfd64"
	chmod +x "$T/sfd64"
	SFD=$T/sfd64 start_sfd
	publish flood </dev/null
	# 100 connections: the first get in, the spare is spent on the first
	# refusal and cannot be had again, the rest wait in the backlog.
	spawn flood python3 "$STRESSPY" flood "$SOCK" 100 "$T/flood.ready" \
	    "$T/flood.release" "$(secs 120)"
	wait_until 20 "grep -q 'spare' '$LOG'"
	# Holding them all with connections waiting, the daemon sleeps.
	c0=$(cpu_ticks "$SFD_PID")
	sleep 3   # time passing, to show that the CPU is not used
	c1=$(cpu_ticks "$SFD_PID")
	report "sfd used $(ticks_ms $((c1 - c0))) ms of CPU in 3 s with connections waiting and no spare descriptor"
	[ $((c1 - c0)) -lt $((CLK_TCK / 2)) ]
	# Said once, not at every retry.
	assert_eq 1 "$(grep -c 'none spare' "$LOG")"
	wait_until 40 "[ -s '$T/flood.ready' ]"
	report "flood: $(cat "$T/flood.ready")"
	# The flood leaves; what waited in the backlog is served.
	touch "$T/flood.release"
	assert_exit flood 0 60
	spawn probe "$SFCAT" -n 3 after
	wait_until 20 "grep -q 'subscribed to after' '$LOG'"
	printf 'a\nb\nc\n' | publish after
	assert_exit probe 0
	assert_eq "$(printf 'a\nb\nc')" "$(cat "$T/probe.out")"
	stop_sfd
}

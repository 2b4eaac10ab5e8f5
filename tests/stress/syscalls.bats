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
	grep -qx 'sfd: epoll_wait: Invalid argument' "$T/sfd.err"
	grep -qx 'sfd: stopping on an error' "$T/sfd.err"
	[ ! -e "$SOCK" ]
}

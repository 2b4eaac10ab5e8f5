#!/usr/bin/env bats
# The daemon against its surroundings: a hang-up, a log nobody reads.

load helpers

@test "SIGHUP shuts down like SIGTERM: subscribers get the goodbye, sfd exits 0 and removes its socket" {
	start_sfd
	spawn cat "$SFCAT"
	wait_subscribers 1
	printf 'a\nb\nc\n' | publish
	wait_until 10 "[ \$(wc -l <'$T/cat.out') -eq 3 ]"
	kill -HUP "$SFD_PID"
	assert_exit sfd 0
	assert_exit cat 5
	assert_eq "sfcat: sfd shut down; next seq 3" "$(cat "$T/cat.err")"
	assert_eq "$(printf 'a\nb\nc')" "$(cat "$T/cat.out")"
	grep -qx 'sfd: shutting down' "$LOG"
	grep -qx 'sfd: exit' "$LOG"
	[ ! -e "$SOCK" ]
}

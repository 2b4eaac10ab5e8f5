#!/usr/bin/env bats
# A subscriber that stops reading is dropped once the ring is about to
# overwrite what it has not taken; nobody else waits for it.

load helpers

@test "a stopped subscriber is evicted while the others get every frame" {
	start_sfd --ring 2M --max-frame 64k --grace 60
	# About 2.5 MB, fed at a gentle pace so only the stopped one lags.
	sfraw lines data 1 40000 >"$T/in"
	n=$(wc -l <"$T/in")
	spawn ok1 "$SFCAT" -n "$n"
	spawn ok2 "$SFCAT" -n "$n"
	spawn slow "$SFCAT"
	wait_subscribers 3
	kill -STOP "$slow_pid"
	spawn -i "$T/in" pub sh -c 'python3 "$1" pace 16384 0.01 | "$2"' sh "$RAWPY" "$SFPIPE"
	assert_exit pub 0 60
	[ ! -s "$T/pub.err" ]
	assert_exit ok1 0 30
	assert_exit ok2 0 30
	assert_file_eq "$T/in" "$T/ok1.out"
	assert_file_eq "$T/in" "$T/ok2.out"
	# Exactly one eviction, of the stopped one.
	wait_until 10 "grep -q evicted '$LOG'"
	assert_eq 1 "$(grep -c evicted "$LOG")"
	grep "pid=$slow_pid " "$LOG" | grep -q evicted
	# Its goodbye waits behind what its socket holds, within --grace.
	kill -CONT "$slow_pid"
	# What it did print is exactly the stream up to that frame.
	assert_cut_at_ring slow "$T/in"
	stop_sfd
}

@test "the eviction message names the first frame not received" {
	start_sfd --ring 2M --max-frame 64k --grace 10
	# About 3 MB: the ring wraps over what it has not taken.
	sfraw lines data 1 48000 >"$T/in"
	spawn slow "$SFCAT"
	wait_subscribers 1
	kill -STOP "$slow_pid"
	# From a pipe: unpaced, nobody waits for the stopped one.
	sfrun sh -c 'cat "$1" | "$2"' sh "$T/in" "$SFPIPE"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	wait_until 10 "grep -q evicted '$LOG'"
	# With a long grace it gets its goodbye once it reads again.
	kill -CONT "$slow_pid"
	# It received exactly the frames before that seq.
	assert_cut_at_ring slow "$T/in"
	stop_sfd
}

# stop_then_burst: spawn a subscriber "slow", stop it, and publish
# $T/in to it from a pipe (unpaced: nobody waits for it).
stop_then_burst() {
	spawn slow "$SFCAT"
	wait_subscribers 1
	kill -STOP "$slow_pid"
	sfrun sh -c 'cat "$1" | "$2"' sh "$T/in" "$SFPIPE"
	[ "$status" -eq 0 ]
}

# resumed_lost: "slow" is let go, finds the connection closed without a
# goodbye (exit 5), and printed only whole records of the input.
resumed_lost() {
	kill -CONT "$slow_pid"
	assert_exit slow 5 30
	assert_eq "sfcat: lost connection to $SOCK" "$(cat "$T/slow.err")"
	head -c "$(wc -c <"$T/slow.out")" "$T/in" | cmp - "$T/slow.out"
}

# paused_goodbye SECONDS: a subscriber stopped, evicted for lagging while
# stopped, and left stopped SECONDS after its eviction, still gets its
# goodbye (the reason and the first frame it did not receive, exit 4) once
# it reads again: the goodbye waits --goodbye-time (default 120 s), not
# --grace (2 s).
paused_goodbye() {
	local until
	start_sfd --max-lag 1M --lag-time 2
	# About 4 MB, from a pipe: it falls past --max-lag at once.
	sfraw lines data 1 64000 >"$T/in"
	stop_then_burst
	wait_until 30 "grep -q 'evicted from stream default, reason=slow' '$LOG'"
	# The pause under test: a clock to wait for, not a state.
	until=$(($(now_ms) + $1 * 1000))
	wait_until $(($1 + 30)) "[ \$(now_ms) -ge $until ]"
	assert_no_match 'did not read its goodbye' "$LOG"
	kill -CONT "$slow_pid"
	assert_exit slow 4 30
	err=$(cat "$T/slow.err")
	[[ $err =~ ^sfcat:\ evicted:\ stayed\ more\ than\ 1\ MiB\ behind\ for\ over\ 2\ s\ \(sfd\ --max-lag,\ --lag-time\)\;\ first\ frame\ not\ received:\ seq\ ([0-9]+)\;\ read\ faster\ or\ raise\ those\ limits$ ]]
	head -n "${BASH_REMATCH[1]}" "$T/in" | cmp - "$T/slow.out"
	stop_sfd
}

@test "a subscriber paused 1 s past its eviction gets its goodbye when it reads again" {
	paused_goodbye 1
}

@test "a subscriber paused 10 s past its eviction gets its goodbye when it reads again" {
	paused_goodbye 10
}

@test "a subscriber paused 60 s past its eviction gets its goodbye when it reads again" {
	paused_goodbye 60
}

@test "past --goodbye-time an evicted subscriber is closed without its goodbye, and the log says so" {
	start_sfd --max-lag 1M --lag-time 2 --goodbye-time 1
	sfraw lines data 1 64000 >"$T/in"
	stop_then_burst
	wait_until 30 "grep -q 'did not read its goodbye within --goodbye-time (1 s)' '$LOG'"
	grep "pid=$slow_pid " "$LOG" | grep -q 'closed: did not read its goodbye'
	resumed_lost
	stop_sfd
}

@test "with no --goodbye-memory left, a subscriber whose record the ring overwrites is closed at once, logged" {
	start_sfd --ring 2M --max-frame 64k --goodbye-memory 0
	# Records of 50 kB: a stopped reader's socket fills up in the middle
	# of one, so its rest must be kept aside when the ring wraps.
	python3 -c 'for i in range(100): print("%06d %s" % (i, "x" * 50000))' >"$T/in"
	stop_then_burst
	wait_until 10 "grep -q 'its rest could not be kept aside' '$LOG'"
	grep "pid=$slow_pid " "$LOG" | grep -q 'closed: the ring wrapped over the frame it was in the middle of'
	resumed_lost
	stop_sfd
}

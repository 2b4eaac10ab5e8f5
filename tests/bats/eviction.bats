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

#!/usr/bin/env bats
# A subscriber that stops reading is dropped; nobody else waits for it.

load helpers

@test "a stopped subscriber is evicted while the others get every frame" {
	start_sfd --ring 2M --max-lag 256k --max-frame 64k
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
	assert_exit ok1 0 30
	assert_exit ok2 0 30
	assert_file_eq "$T/in" "$T/ok1.out"
	assert_file_eq "$T/in" "$T/ok2.out"
	# Exactly one eviction, of the stopped one.
	wait_until 10 "grep -q evicted '$LOG'"
	assert_eq 1 "$(grep -c evicted "$LOG")"
	grep "pid=$slow_pid " "$LOG" | grep -q evicted
	kill -CONT "$slow_pid"
	wait_exit slow 30
	rc=$(cat "$T/slow.rc")
	err=$(cat "$T/slow.err")
	echo "slow: exit $rc: $err"
	case $rc in
	4) evicted_seq "$err" ;;
	5) assert_eq "sfcat: lost connection to $SOCK" "$err" ;;
	*) fail "evicted sfcat exited $rc" ;;
	esac
	# What it did print is a prefix of the stream: whole lines, in order.
	head -c "$(wc -c <"$T/slow.out")" "$T/in" | cmp - "$T/slow.out"
	[ "$(tail -c 1 "$T/slow.out" | od -An -c | tr -d ' ')" = '\n' ] ||
		[ ! -s "$T/slow.out" ]
	stop_sfd
}

@test "the eviction message names the first frame not received" {
	start_sfd --ring 2M --max-lag 256k --max-frame 64k --grace 10
	# About 1 MB: enough to be evicted, not enough to wrap the ring (which
	# would drop the rest of its current frame, and with it the goodbye).
	sfraw lines data 1 16000 >"$T/in"
	spawn slow "$SFCAT"
	wait_subscribers 1
	kill -STOP "$slow_pid"
	sfrun "$SFPIPE" <"$T/in"
	[ "$status" -eq 0 ]
	wait_until 10 "grep -q evicted '$LOG'"
	# With a long grace it gets its goodbye once it reads again.
	kill -CONT "$slow_pid"
	assert_exit slow 4 30
	err=$(cat "$T/slow.err")
	seq=$(evicted_seq "$err")
	# It received exactly the frames before that seq.
	assert_eq "$seq" "$(wc -l <"$T/slow.out")"
	head -n "$seq" "$T/in" | cmp - "$T/slow.out"
	stop_sfd
}

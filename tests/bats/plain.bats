#!/usr/bin/env bats
# --plain-listen: clients of the origin design, which send nothing and
# read bare frames, get data frames only.

load helpers

# plain_port: the port of the plain TCP listener, from the log.
plain_port() {
	unstamp | sed -n 's/^sfd: listening on tcp:127\.0\.0\.1:\([0-9]*\) (plain: frames of stream s)$/\1/p'
}

@test "an origin-style client on --plain-listen gets exactly the data frames, over TCP and a Unix socket; no mark, no control frame" {
	start_sfd --plain-listen tcp:127.0.0.1:0,stream=s \
	    --plain-listen "$T/plain.sock,stream=s"
	port=$(plain_port)
	[ -n "$port" ] || fail "no plain listener in the log"
	spawn tcp python3 "$BATS_TEST_DIRNAME/streamclient.py" "127.0.0.1:$port"
	spawn unix python3 "$BATS_TEST_DIRNAME/streamclient.py" "$T/plain.sock"
	wait_until 10 "[ \$(grep -c 'subscribed to s at seq 0, plain' '$LOG') -eq 2 ]"
	sfraw lines one 1 500 >"$T/a"
	sfraw lines two 1 500 >"$T/b"
	# An end of stream between the two: not for these clients.
	publish --eos s <"$T/a"
	publish s <"$T/b"
	cat "$T/a" "$T/b" >"$T/in"
	wait_until 20 "[ \$(wc -l <'$T/tcp.out') -eq 1000 ] && [ \$(wc -l <'$T/unix.out') -eq 1000 ]"
	assert_file_eq "$T/in" "$T/tcp.out"
	assert_file_eq "$T/in" "$T/unix.out"
	# Shutdown is a close between frames: both exit 0.
	stop_sfd
	assert_exit tcp 0
	assert_exit unix 0
	assert_file_eq "$T/in" "$T/tcp.out"
}

@test "a stalled origin-style client is cut off by a close at a frame boundary; the healthy ones get all" {
	start_sfd --ring 4M --max-frame 64k --stall 1 \
	    --plain-listen tcp:127.0.0.1:0,stream=s
	port=$(plain_port)
	spawn slow python3 "$BATS_TEST_DIRNAME/streamclient.py" "127.0.0.1:$port"
	spawn good python3 "$BATS_TEST_DIRNAME/streamclient.py" "127.0.0.1:$port"
	spawn cat "$SFCAT" -n 100000 s
	wait_until 10 "[ \$(grep -c 'subscribed to s at seq 0' '$LOG') -eq 3 ]"
	kill -STOP "$slow_pid"
	python3 -c 'import sys
for i in range(100000): sys.stdout.write("%06d %s\n" % (i, "p" * 392))' >"$T/in"
	publish --pace s <"$T/in"
	assert_exit cat 0 60
	assert_file_eq "$T/in" "$T/cat.out"
	wait_until 30 "[ \$(wc -l <'$T/good.out') -eq 100000 ]"
	assert_file_eq "$T/in" "$T/good.out"
	wait_until 20 "grep -q 'evicted from stream s' '$LOG'"
	kill -CONT "$slow_pid"
	# Closed between two frames: what it printed is the input up to there.
	assert_exit slow 0 30
	n=$(wc -l <"$T/slow.out")
	echo "the stalled one got $n of 100000"
	[ "$n" -lt 100000 ]
	head -n "$n" "$T/in" | cmp - "$T/slow.out"
	stop_sfd
}

@test "--plain-listen needs ADDR,stream=NAME with a valid name" {
	usage_error "sfd: --plain-listen tcp:127.0.0.1:0: use ADDR,stream=NAME" \
	    "$SFD" --plain-listen tcp:127.0.0.1:0
	usage_error "sfd: --plain-listen tcp:127.0.0.1:0,stream=a b: stream names are 1 to 64 of A-Z a-z 0-9 . _ -" \
	    "$SFD" --plain-listen "tcp:127.0.0.1:0,stream=a b"
	usage_error "sfd: --plain-listen tcp:x,stream=s: no port: use tcp:HOST:PORT" \
	    "$SFD" --plain-listen "tcp:x,stream=s"
}

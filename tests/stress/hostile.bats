#!/usr/bin/env bats
# Hundreds of misbehaving clients beside a real publisher and two real
# subscribers: the stream goes through untouched and the daemon stays up.

load ../bats/helpers
load stress_helpers

@test "500 clients sending garbage, half hellos, impossible headers and abrupt closes leave a live stream untouched" {
	start_sfd --max-frame 256k --hello-timeout 1
	spawn good1 "$SFCAT" good
	spawn good2 "$SFCAT" good
	wait_subscribers 2
	# A steady publisher for as long as the junk goes on; --eos ends the
	# subscribers once it is done.
	spawn pub sh -c 'python3 "$1" feed good 3000 "$2" "$3" | "$4" --eos good' \
	    sh "$STRESSPY" "$T/feed.stop" "$T/good.in" "$SFPIPE"
	wait_until 10 "[ -s '$T/good1.out' ] && [ -s '$T/good2.out' ]"
	seed=$RANDOM
	report "seed $seed"
	sfrun python3 "$STRESSPY" junk "$SOCK" 500 "$seed" $((256 * 1024)) good "$(secs 120)"
	printf '%s\n' "$output" >&3
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; fail "junk clients saw something wrong"; }
	# Still up, still listening, the real clients still there.
	kill -0 "$SFD_PID"
	[ ! -s "$T/sfd.rc" ]
	[ ! -s "$T/good1.rc" ]
	[ ! -s "$T/good2.rc" ]
	touch "$T/feed.stop"
	assert_exit pub 0 30
	assert_exit good1 0 30
	assert_exit good2 0 30
	report "$(wc -l <"$T/good.in") records ($(wc -c <"$T/good.in") bytes) published during the junk"
	assert_file_eq "$T/good.in" "$T/good1.out"
	assert_file_eq "$T/good.in" "$T/good2.out"
	[ ! -s "$T/good1.err" ]
	[ ! -s "$T/good2.err" ]
	# Each kind of refusal was seen and logged.
	for w in reason=control-too-large reason=frame-too-large \
	    reason=hello-timeout reason=bad-hello reason=not-a-publisher \
	    reason=unexpected-control reason=unknown-verb reason=bad-version \
	    discarded; do
		grep -q -- "$w" "$LOG" || fail "sfd logged no $w"
		report "$(grep -c -- "$w" "$LOG") x $w"
	done
	stop_sfd
}

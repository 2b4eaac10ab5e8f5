#!/usr/bin/env bats
# The programs under valgrind memcheck: no invalid access, no use of
# uninitialised memory, no definite or indirect leak.  Each wrapper exits 99
# on any of these, and runs memcheck with -q so its log holds only them.

load ../bats/helpers
load stress_helpers

need_valgrind() {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	[ "${SF_SANITIZED:-0}" != 1 ] || skip "sanitizer builds do not run under valgrind"
}

@test "sfd under memcheck: publish, subscribe, replay, skip, evict, bad input, limits, end of stream, SIGTERM" {
	need_valgrind
	# Everything is slower under valgrind: stretch every bound.
	SCALE=6
	valgrind_wrapper "$T/vg-sfd" "$SFD" "$T/vg-sfd.log"
	SFD=$T/vg-sfd start_sfd --ring 2M --max-lag 256k --lag-time 1 --max-frame 64k \
	    --hello-timeout 1 --grace 1 --goodbye-time 1 --max-clients 8 \
	    --max-streams 4
	sfraw lines data 1 40000 >"$T/in"
	n=$(wc -l <"$T/in")
	spawn ok "$SFCAT" -n "$n"
	spawn slow "$SFCAT"
	spawn skipper "$SFCAT" --on-lag skip
	spawn survivor "$SFCAT"
	wait_subscribers 4
	kill -STOP "$slow_pid" "$skipper_pid"
	# About 2.5 MB at a gentle pace: the stopped ones fall behind.
	sfrun sh -c 'python3 "$1" pace 16384 0.02 <"$2" | "$3"' sh "$RAWPY" "$T/in" "$SFPIPE"
	[ "$status" -eq 0 ]
	assert_exit ok 0 60
	assert_file_eq "$T/in" "$T/ok.out"
	wait_until 20 "grep -q evicted '$LOG' && grep -q 'skipped ahead' '$LOG'"
	# Its socket full, the stopped one cannot take its goodbye:
	# --goodbye-time closes it, and once it reads again it gets what it
	# had, then the end.
	wait_until 20 "logged_by $slow_pid 'closed: did not read its goodbye within --goodbye-time'"
	kill -CONT "$slow_pid" "$skipper_pid"
	assert_exit slow 5 30
	assert_eq "sfcat: lost connection to $SOCK" "$(cat "$T/slow.err")"
	head -c "$(wc -c <"$T/slow.out")" "$T/in" | cmp - "$T/slow.out"
	# Replay of what the ring still holds.
	sfrun "$SFCAT" --from -5 -n 5
	[ "$status" -eq 0 ]
	assert_eq "$(tail -n 5 "$T/in")" "$output"

	# Bad input of every kind, each answered and closed.
	OK_X="CTL OK stream=x seq=0 epoch=E max-frame=65536 ring=2097152"
	client 10 "ctl:HELLO 1 stream=x" eof
	assert_eq "$(printf 'CTL ERR reason=unknown-verb\nEOF')" "$output"
	client 10 "ctl:SUB 2 stream=x" eof
	assert_eq "$(printf 'CTL ERR reason=bad-version\nEOF')" "$output"
	client 10 "ctl:SUB 1 stream=a/b" eof
	assert_eq "$(printf 'CTL ERR reason=bad-stream\nEOF')" "$output"
	client 10 "ctl:SUB 1 stream=x from=never" eof
	assert_eq "$(printf 'CTL ERR reason=bad-hello\nEOF')" "$output"
	client 10 hdr:0x80001001 eof
	assert_eq "$(printf 'CTL ERR reason=control-too-large\nEOF')" "$output"
	client 10 data:early eof
	assert_eq "$(printf 'CTL ERR reason=bad-hello\nEOF')" "$output"
	client 10 "ctl:PUB 1 stream=x" read hdr:65537 eof
	assert_eq "$(printf '%s\n' "$OK_X" 'CTL ERR reason=frame-too-large' EOF)" "$output"
	client 10 "ctl:PUB 1 stream=x" read "ctl:SUB 1 stream=x" eof
	assert_eq "$(printf '%s\n' "$OK_X" 'CTL ERR reason=unexpected-control' EOF)" "$output"
	client 10 "ctl:SUB 1 stream=x" read data:hello eof
	assert_eq "$(printf '%s\n' "$OK_X" 'CTL ERR reason=not-a-publisher' EOF)" "$output"
	client 10 eof
	assert_eq "$(printf 'CTL ERR reason=hello-timeout\nEOF')" "$output"
	client 10 "ctl:PUB 1 stream=x" read data:whole hdr:100 bytes:half
	[ "$status" -eq 0 ]
	assert_eq "$OK_X" "$output"
	wait_until 10 "grep -q discarded '$LOG'"

	# End of stream on a second stream.
	spawn eos "$SFCAT" -n 100 other
	wait_subscribers 5
	printf 'x\ny\n' | publish --eos other
	assert_exit eos 0 30
	assert_eq "$(printf 'x\ny')" "$(cat "$T/eos.out")"

	# Over --max-clients (the survivor holds one slot): refused; then over
	# --max-streams (default, x, other, flood).
	spawn flood python3 "$STRESSPY" flood "$SOCK" 10 "$T/flood.ready" \
	    "$T/flood.release" 60
	wait_until 30 "[ -s '$T/flood.ready' ]"
	# The survivor holds one slot, a client just gone may still hold one.
	tally=$(cat "$T/flood.ready")
	ok=$(tally_count ok "$tally")
	full=$(tally_count err-full "$tally")
	[ "$ok" -ge 1 ] && [ "$full" -ge 3 ] || fail "flood: $tally"
	assert_eq 10 $((ok + full + $(tally_count closed "$tally")))
	touch "$T/flood.release"
	assert_exit flood 0 30
	wait_until 10 "python3 '$RAWPY' client '$SOCK' 5 'ctl:SUB 1 stream=fifth' eof | grep -q 'reason=too-many-streams'"

	# Shutdown with a subscriber still there.
	kill -TERM "$SFD_PID"
	assert_exit sfd 0 60
	assert_exit survivor 5 30
	assert_valgrind_clean "$T/vg-sfd.log"
	report "sfd under memcheck: exit 0, log empty"
}

@test "sfpipe and sfcat under memcheck: round trips in every mode, reconnect, state file, shutdown" {
	need_valgrind
	SCALE=6
	valgrind_wrapper "$T/vg-sfpipe" "$SFPIPE" "$T/vg-sfpipe.%p.log"
	valgrind_wrapper "$T/vg-sfcat" "$SFCAT" "$T/vg-sfcat.%p.log"
	start_sfd --max-frame 256k
	seed=$RANDOM
	report "seed $seed"
	# Text (with a record over --max-frame: skipped, exit 8), -0, --raw.
	sfraw gen text "$seed" 500 >"$T/text"
	sfraw gen nul "$seed" 500 >"$T/nul"
	sfraw gen raw "$seed" 500 >"$T/raw"
	python3 -c 'import sys; sys.stdout.write("z" * 300000 + "\n")' >"$T/big"
	cat "$T/text" "$T/big" >"$T/text+big"
	spawn c_text "$T/vg-sfcat" -n 500 text
	spawn c_nul "$T/vg-sfcat" -0 -n 500 nul
	spawn c_raw "$T/vg-sfcat" --raw -n 500 raw
	wait_subscribers 3
	spawn -i "$T/text+big" p_text "$T/vg-sfpipe" text
	spawn -i "$T/nul" p_nul "$T/vg-sfpipe" -0 nul
	spawn -i "$T/raw" p_raw "$T/vg-sfpipe" --raw raw
	assert_exit p_text 8 60
	assert_exit p_nul 0 60
	assert_exit p_raw 0 60
	assert_exit c_text 0 60
	assert_exit c_nul 0 60
	assert_exit c_raw 0 60
	assert_file_eq "$T/text" "$T/c_text.out"
	assert_file_eq "$T/nul" "$T/c_nul.out"
	assert_file_eq "$T/raw" "$T/c_raw.out"

	# --reconnect and --state through a daemon restart, --print-seq,
	# --timeout; then SIGTERM (exit 143, state saved).
	spawn resume "$T/vg-sfcat" --reconnect --print-seq --state "$T/state" res
	spawn timeout_cat "$T/vg-sfcat" --timeout 1 quiet
	wait_subscribers 5
	printf 'a\nb\n' | publish res
	wait_until 30 "[ \$(wc -l <'$T/resume.out') -eq 2 ]"
	assert_exit timeout_cat 7 30
	kill -TERM "$SFD_PID"
	assert_exit sfd 0 30
	wait_until 30 "grep -q reconnecting '$T/resume.err'"
	start_sfd --max-frame 256k
	wait_until 30 "grep -q subscribed '$LOG'"
	printf 'c\n' | publish res
	wait_until 30 "[ \$(wc -l <'$T/resume.out') -eq 3 ]"
	kill -TERM "$resume_pid"
	assert_exit resume 143 30
	assert_eq "$(printf '0\ta\n1\tb\n0\tc')" "$(cat "$T/resume.out")"
	grep -q '^epoch=[0-9a-f]\{16\} next=1$' "$T/state"

	# Shutdown under a plain subscriber and an idle publisher: exit 5.
	spawn gone "$T/vg-sfcat" x
	mkfifo "$T/fifo"
	spawn -i "$T/fifo" pub_gone "$T/vg-sfpipe" x
	exec 8>"$T/fifo"
	wait_until 30 "logged_by $pub_gone_pid publishing"
	wait_subscribers 2
	kill -TERM "$SFD_PID"
	assert_exit sfd 0 30
	assert_exit gone 5 30
	assert_exit pub_gone 5 30
	exec 8>&-
	for f in "$T"/vg-sfpipe.*.log "$T"/vg-sfcat.*.log; do
		assert_valgrind_clean "$f"
	done
	report "$(ls "$T"/vg-sf*.log | wc -l) sfpipe and sfcat runs under memcheck, every log empty"
}

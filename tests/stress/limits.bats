#!/usr/bin/env bats
# Many clients: thousands of subscribers on one stream, and a flood of
# connections against a daemon short of file descriptors.

load ../bats/helpers
load stress_helpers

@test "2,000 subscribers on one stream each receive all 1,000 frames; sfd grows by under 2 KiB a subscriber" {
	ulimit -n 8192 || skip "cannot raise the descriptor limit to 8192 (hard limit $(ulimit -Hn))"
	n=2000
	start_sfd --max-clients 4096
	sfraw lines fan 1 1000 >"$T/in"
	# The stream (its ring and index) exists before the first measurement:
	# it is not part of what a subscriber costs.
	publish fan </dev/null
	wait_until 10 "grep -q ': disconnected' '$LOG'"
	rss0=$(rss_kb "$SFD_PID")
	spawn subs timeout "$(secs 120)" python3 "$STRESSPY" subs "$SOCK" fan "$n" \
	    "$T/in" "$T/subs.ready" "$(secs 100)"
	wait_until 60 "[ -s '$T/subs.ready' ] || [ -s '$T/subs.rc' ]" || {
		cat "$T/subs.out" "$T/subs.err" >&2
		false
	}
	[ -s "$T/subs.ready" ] || { cat "$T/subs.out" "$T/subs.err" >&2; false; }
	wait_subscribers "$n"
	rss1=$(rss_kb "$SFD_PID")
	publish fan <"$T/in"
	wait_exit subs 100
	cat "$T/subs.out" >&3
	[ "$(cat "$T/subs.rc")" = 0 ] || { cat "$T/subs.err" >&2; fail "subscribers failed"; }
	rss2=$(rss_kb "$SFD_PID")
	per=$(((rss1 - rss0) * 1024 / n))
	report "sfd VmRSS: $rss0 KiB before, $rss1 KiB with $n subscribers, $rss2 KiB after 1,000 frames to each"
	report "RSS growth: $((rss1 - rss0)) KiB for $n subscribers = $per bytes a subscriber"
	if [ "${SF_SANITIZED:-0}" = 1 ]; then
		report "not checked: resident memory means little under AddressSanitizer"
	else
		[ "$per" -lt 2048 ]
	fi
	stop_sfd
}

@test "sfd under ulimit -n 64 flooded with 300 connections refuses the rest cleanly, does not spin, and serves again" {
	limited_sfd "$T/sfd64" 64
	SFD=$T/sfd64 start_sfd
	assert_eq 64 "$(awk '$1 == "Max" && $2 == "open" { print $4 }' "/proc/$SFD_PID/limits")"
	# The stream exists first: making one takes a descriptor of its own
	# (see the next test).
	publish flood </dev/null
	c0=$(cpu_ticks "$SFD_PID")
	t0=$(now_ms)
	spawn flood python3 "$STRESSPY" flood "$SOCK" 300 "$T/flood.ready" \
	    "$T/flood.release" "$(secs 120)"
	wait_until 40 "[ -s '$T/flood.ready' ] || [ -s '$T/flood.rc' ]"
	[ -s "$T/flood.ready" ] || { cat "$T/flood.out" "$T/flood.err" >&2; false; }
	t1=$(now_ms)
	c1=$(cpu_ticks "$SFD_PID")
	cat "$T/flood.out" >&3
	tally=$(cat "$T/flood.ready")
	ok=$(tally_count ok "$tally")
	full=$(tally_count err-full "$tally")
	closed=$(tally_count closed "$tally")
	report "300 connections: $ok accepted, $full refused with ERR reason=full, $closed closed without a word"
	report "sfd used $(ticks_ms $((c1 - c0))) ms of CPU taking the flood ($((t1 - t0)) ms)"
	# Every connection got an answer: none hangs, none got anything else.
	assert_eq 300 $((ok + full + closed))
	[ "$ok" -ge 1 ]
	[ "$full" -ge 1 ]
	[ "$(tally_count noanswer "$tally")" = 0 ]

	# Holding them all, the daemon sleeps.  There is no state to wait
	# for: the test lets 3 s pass on purpose and counts the CPU used.
	c0=$(cpu_ticks "$SFD_PID")
	sleep 3
	c1=$(cpu_ticks "$SFD_PID")
	report "sfd used $(ticks_ms $((c1 - c0))) ms of CPU in 3 s while the flood was held"
	[ $((c1 - c0)) -lt $((CLK_TCK / 2)) ]

	# A newcomer meanwhile is turned away at once, and says so.
	t0=$(now_ms)
	sfrun "$SFCAT" flood
	t1=$(now_ms)
	report "sfcat refused after $((t1 - t0)) ms: exit $status: $stderr"
	[ "$status" -eq 3 ]
	assert_eq "sfcat: sfd refused: reason=full" "$stderr"

	# The flood leaves; the daemon serves as before.
	touch "$T/flood.release"
	assert_exit flood 0 30
	tail -n 1 "$T/flood.out" >&3
	before=$(subscribed)
	wait_until 10 "python3 '$RAWPY' client '$SOCK' 5 'ctl:SUB 1 stream=flood' read | grep -q '^CTL OK '"
	spawn probe "$SFCAT" -n 3 after
	wait_subscribers $((before + 2))
	printf 'a\nb\nc\n' | publish after
	assert_exit probe 0
	assert_eq "$(printf 'a\nb\nc')" "$(cat "$T/probe.out")"
	report "after the flood: $(grep -c 'out of file descriptors' "$LOG") refusals logged as out of file descriptors"
	stop_sfd
}

@test "with every descriptor taken by connections, a hello that creates a stream is still served" {
	limited_sfd "$T/sfd64" 64
	SFD=$T/sfd64 start_sfd --hello-timeout 30
	# 70 silent connections: sfd takes what its descriptors allow, refuses
	# the rest; then one it took asks for a stream that does not exist yet.
	sfrun python3 "$STRESSPY" exhaust "$SOCK" 70 "SUB 1 stream=fresh"
	[ "$status" -eq 0 ] || fail "exhaust: $output $stderr"
	report "$(echo "$output" | head -n 1); the hello was answered: $(echo "$output" | sed -n 's/^ANSWER //p')"
	answer=$(echo "$output" | sed -n 's/^ANSWER //p')
	grep 'ERR reason=' "$LOG" | grep -v 'reason=full' | while read -r line; do report "$line"; done
	# Served, as sfd gives up its spare descriptor to make the ring:
	# neither "full" nor "no-memory" (a protocol error to the tools, exit
	# 6, never retried, and memory is not what ran out).
	assert_eq "OK stream=fresh seq=0 epoch=E max-frame=1048576 ring=67108864" "$answer"
	stop_sfd
}

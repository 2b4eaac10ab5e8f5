#!/usr/bin/env bats
# Sudden death: of the daemon under its clients, of a publisher in the
# middle of a frame.

load ../bats/helpers
load stress_helpers

# kill_round N: start sfd (on the stale socket the previous round left),
# three subscribers and two publishers (one busy, one idle), SIGKILL the
# daemon mid-stream, and check every client: exit 5 within the bound, with
# "lost connection to ADDR".
kill_round() {
	local r=$1 c t0 t1 clients
	t0=$(now_ms)
	start_sfd
	t1=$(now_ms)
	report "round $r: sfd listening $((t1 - t0)) ms after it was started$([ "$r" -gt 1 ] && echo ' on the stale socket')"
	[ $((t1 - t0)) -le $(($(secs 2) * 1000)) ]
	spawn "cat_live$r" "$SFCAT" live
	spawn "cat_raw$r" "$SFCAT" --raw live
	spawn "cat_quiet$r" "$SFCAT" quiet
	wait_subscribers 3
	# One publisher busy (a steady 2,000 records a second), one idle.
	mkfifo "$T/live$r.fifo" "$T/quiet$r.fifo"
	spawn "feed$r" sh -c 'exec python3 "$1" feed live 2000 "$2" "$3" >"$4"' \
	    sh "$STRESSPY" "$T/feed$r.stop" "$T/feed$r.copy" "$T/live$r.fifo"
	spawn -i "$T/live$r.fifo" "pub_live$r" "$SFPIPE" live
	spawn -i "$T/quiet$r.fifo" "pub_quiet$r" "$SFPIPE" quiet
	exec 8>"$T/quiet$r.fifo"
	local pl="pub_live${r}_pid" pq="pub_quiet${r}_pid"
	wait_until 10 "logged_by ${!pl} publishing && logged_by ${!pq} publishing"
	# Mid-stream: the busy subscribers are receiving.
	wait_until 10 "[ \$(wc -l <'$T/cat_live$r.out') -ge 500 ] && [ -s '$T/cat_raw$r.out' ]"
	# Not a wait for a state: a random moment within the next second, so
	# that the rounds kill the daemon at different points of the stream.
	sleep "0.$((RANDOM % 10))"

	t0=$(now_ms)
	kill -KILL "$SFD_PID"
	clients="cat_live$r cat_raw$r cat_quiet$r pub_live$r pub_quiet$r"
	# shellcheck disable=SC2086
	wait_exits $(($(secs 3) * 1000)) "$t0" $clients
	exec 8>&-
	touch "$T/feed$r.stop"
	local line=
	for c in $clients; do
		line="$line, ${c%"$r"} $(cat "$T/$c.rc")/${EXIT_MS[$c]} ms"
		[ "${EXIT_MS[$c]}" -le "$MAX_EXIT_MS" ] || MAX_EXIT_MS=${EXIT_MS[$c]}
	done
	report "round $r: exit status/time after the kill:${line#,}"
	for c in $clients; do
		assert_exit "$c" 5
		case $c in
		cat_*) assert_eq "sfcat: lost connection to $SOCK" "$(cat "$T/$c.err")" ;;
		pub_*) assert_eq "sfpipe: lost connection to $SOCK" "$(cat "$T/$c.err")" ;;
		esac
	done
	# What the busy subscriber printed is whole records, in order.
	head -c "$(wc -c <"$T/cat_live$r.out")" "$T/feed$r.copy" | cmp - "$T/cat_live$r.out"
	assert_eq '\n' "$(tail -c 1 "$T/cat_live$r.out" | od -An -c | tr -d ' ')"
	# The dead daemon left its socket file behind.
	[ -S "$SOCK" ]
	cp "$T/sfd.err" "$T/sfd$r.log"
}

@test "sfd SIGKILLed mid-stream, 5 times: every client exits 5 within a second, a new sfd reclaims the socket at once" {
	MAX_EXIT_MS=0
	for r in 1 2 3 4 5; do
		kill_round "$r"
	done
	report "slowest exit after a kill: $MAX_EXIT_MS ms"
	# A last one on the stale socket serves as usual.
	start_sfd
	spawn probe "$SFCAT" -n 1 live
	wait_subscribers 1
	echo back | publish live
	assert_exit probe 0
	assert_eq back "$(cat "$T/probe.out")"
	stop_sfd
}

@test "a publisher SIGKILLed in the middle of a frame: subscribers get exactly the complete frames, sfd logs the discard" {
	start_sfd
	spawn txt "$SFCAT" part
	spawn raw "$SFCAT" --raw part
	wait_subscribers 2
	: >"$T/want"
	n=0
	# NAME BODY CUT: five complete frames "NAME-1".."NAME-5", then CUT
	# bytes of a frame of BODY bytes: part of a header; a header and half
	# of a small body; a header and half of a body larger than the
	# daemon's read buffer.
	for v in "hdr 100 2" "small 100 54" "big 600000 300004"; do
		# shellcheck disable=SC2086
		set -- $v
		sfrun python3 "$STRESSPY" halfpub "$SOCK" part "$1" 5 "$2" "$3"
		[ "$status" -eq 137 ] || fail "halfpub $1 exited $status: $stderr"
		n=$((n + 1))
		wait_until 10 "[ \$(grep -c discarded '$LOG') -ge $n ]"
		printf '%s\n' "$1-1" "$1-2" "$1-3" "$1-4" "$1-5" >>"$T/want"
	done
	grep discarded "$LOG" | while read -r line; do report "$line"; done
	assert_eq 3 "$(grep -c discarded "$LOG")"
	# A publisher after them: its frame follows the complete ones.
	echo after >>"$T/want"
	echo after | publish --eos part
	assert_exit txt 0
	assert_exit raw 0
	assert_file_eq "$T/want" "$T/txt.out"
	stress frames "$T/want" >"$T/want.raw"
	assert_file_eq "$T/want.raw" "$T/raw.out"
	stop_sfd
}

#!/usr/bin/env bats
# What sfpipe and sfcat say to the daemon and how they take its answers,
# against a scripted daemon (fakesfd.py): the hello keys each option
# sends, the wait for READY, and the message of every goodbye.

load helpers

# The OK a daemon gives a publisher and a subscriber of stream default.
OK_PUB="ctl:OK stream=default seq=0 epoch=0123456789abcdef max-frame=1048576 ring=33554432"
OK_SUB="ctl:OK stream=default seq=1232 epoch=0123456789abcdef max-frame=1048576 ring=33554432"

# sent: the data frames the clients sent, one body a line.
sent() {
	sed -n 's/^< DATA //p' "$T/fake.log"
}

# sfpipe_hello WANT [SFPIPE-ARGS]: sfpipe publishing two lines from a
# file says WANT as its hello and publishes both.
sfpipe_hello() {
	local want=$1
	shift
	fake accept "$OK_PUB" drain
	printf 'one\ntwo\n' >"$T/in"
	sfrun "$SFPIPE" "$@" <"$T/in"
	[ "$status" -eq 0 ] || fail "sfpipe exit $status: $stderr"
	[ -z "$stderr" ]
	assert_exit fake 0
	assert_eq "$want" "$(hello 1)"
	assert_eq "$(printf 'one\ntwo')" "$(sent)"
}

@test "sfpipe asks to be paced when stdin is a regular file" {
	sfpipe_hello "PUB 1 stream=default pace=1"
}

@test "sfpipe from a pipe sends no pace key" {
	fake accept "$OK_PUB" drain
	sfrun sh -c 'printf "one\ntwo\n" | "$0"' "$SFPIPE"
	[ "$status" -eq 0 ] || fail "sfpipe exit $status: $stderr"
	[ -z "$stderr" ]
	assert_exit fake 0
	assert_eq "PUB 1 stream=default" "$(hello 1)"
	assert_eq "$(printf 'one\ntwo')" "$(sent)"
}

@test "sfpipe --pace from a pipe sends pace=1; the last of --pace and --no-pace wins" {
	fake accept "$OK_PUB" drain
	sfrun sh -c 'printf "one\n" | "$0" --no-pace --pace' "$SFPIPE"
	[ "$status" -eq 0 ] || fail "sfpipe exit $status: $stderr"
	[ -z "$stderr" ]
	assert_exit fake 0
	assert_eq "PUB 1 stream=default pace=1" "$(hello 1)"
	assert_eq one "$(sent)"
}

@test "sfpipe --no-pace from a file sends no pace key; --no-pace after --pace wins" {
	sfpipe_hello "PUB 1 stream=default" --pace --no-pace
}

@test "sfpipe --min-subscribers N sends min-subscribers=N with the stream named" {
	fake accept "$OK_PUB" "ctl:READY subscribers=3" drain
	printf 'one\n' >"$T/in"
	sfrun "$SFPIPE" --no-pace --min-subscribers 3 jobs <"$T/in"
	[ "$status" -eq 0 ] || fail "sfpipe exit $status: $stderr"
	[ -z "$stderr" ]
	assert_exit fake 0
	assert_eq "PUB 1 stream=jobs min-subscribers=3" "$(hello 1)"
	assert_eq one "$(sent)"
}

@test "sfpipe --min-subscribers sends no record before READY, and every record after" {
	# The daemon holds READY back a while: anything sent early would be
	# logged before it.
	fake accept "$OK_PUB" idle:0.5 "ctl:READY subscribers=2" drain
	sfraw lines rec 1 3 >"$T/in"
	sfrun "$SFPIPE" --min-subscribers 2 <"$T/in"
	[ "$status" -eq 0 ] || fail "sfpipe exit $status: $stderr"
	[ -z "$stderr" ]
	assert_exit fake 0
	assert_eq "$(printf '%s\n' 'accept 1' \
	    '< CTL PUB 1 stream=default pace=1 min-subscribers=2' \
	    "> CTL ${OK_PUB#ctl:}" '> CTL READY subscribers=2')" \
	    "$(head -n 4 "$T/fake.log")"
	assert_eq "$(sed 's/^/< DATA /' "$T/in")" \
	    "$(tail -n +5 "$T/fake.log" | sed '$d')"
	assert_eq EOF "$(tail -n 1 "$T/fake.log")"
}

@test "sfpipe --timeout: no READY in time is exit 7 with the message, nothing sent" {
	fake accept "$OK_PUB" drain
	sfraw lines rec 1 3 >"$T/in"
	local start=$(now_ms)
	sfrun "$SFPIPE" --min-subscribers 2 --timeout 1 <"$T/in"
	[ "$status" -eq 7 ] || fail "sfpipe exit $status: $stderr"
	assert_eq "sfpipe: no 2 subscribers on stream default within 1 s" \
	    "$stderr"
	[ $(($(now_ms) - start)) -ge 1000 ]
	assert_exit fake 0
	assert_eq "" "$(sent)"
	assert_eq EOF "$(tail -n 1 "$T/fake.log")"
}

@test "sfpipe waiting for READY: a goodbye, a refusal or a hang-up ends it as always" {
	fake accept "$OK_PUB" "ctl:BYE reason=shutdown seq=0" close
	sfrun "$SFPIPE" --min-subscribers 1 <<<"x"
	[ "$status" -eq 5 ]
	assert_eq "sfpipe: sfd shut down; next seq 0" "$stderr"
	assert_exit fake 0
	assert_eq "" "$(sent)"

	rm -f "$SOCK" "$T/fake.log" "$T/hello.1"
	fake accept "$OK_PUB" "ctl:ERR reason=full" close
	sfrun "$SFPIPE" --min-subscribers 1 --timeout 10 <<<"x"
	[ "$status" -eq 3 ]
	assert_eq "sfpipe: sfd refused: reason=full" "$stderr"
	assert_exit fake 0
	assert_eq "" "$(sent)"

	rm -f "$SOCK" "$T/fake.log" "$T/hello.1"
	fake accept "$OK_PUB" close
	sfrun "$SFPIPE" --min-subscribers 1 <<<"x"
	[ "$status" -eq 5 ]
	assert_eq "sfpipe: lost connection to $SOCK" "$stderr"
	assert_exit fake 0
}

@test "sfpipe --retry: a daemon gone while waiting is asked again, and waited for again" {
	fake accept "$OK_PUB" "ctl:BYE reason=shutdown seq=0" close \
	    accept "$OK_PUB" idle:0.3 "ctl:READY subscribers=1" drain
	printf 'one\ntwo\n' >"$T/in"
	sfrun "$SFPIPE" --retry --min-subscribers 1 <"$T/in"
	[ "$status" -eq 0 ] || fail "sfpipe exit $status: $stderr"
	assert_eq "sfpipe: sfd shut down; next seq 0; retrying" "$stderr"
	assert_exit fake 0
	assert_eq "PUB 1 stream=default pace=1 min-subscribers=1" "$(hello 1)"
	assert_eq "$(hello 1)" "$(hello 2)"
	# Nothing before the second READY, everything after it.
	assert_eq "$(printf '%s\n' '> CTL READY subscribers=1' \
	    '< DATA one' '< DATA two' EOF)" "$(tail -n 4 "$T/fake.log")"
	assert_eq "$(printf 'one\ntwo')" "$(sent)"
}

@test "sfpipe waiting for READY still dies of SIGTERM at once" {
	fake accept "$OK_PUB" drain
	printf 'one\n' >"$T/in"
	spawn -i "$T/in" pub "$SFPIPE" --min-subscribers 1
	wait_until 5 "grep -q '^> CTL OK' '$T/fake.log'"
	kill -TERM "$pub_pid"
	assert_exit pub 143 5
	[ ! -s "$T/pub.err" ]
	assert_exit fake 0
	assert_eq "" "$(sent)"
}

@test "sfpipe usage errors: --min-subscribers, --timeout, and --timeout alone" {
	usage_error "sfpipe: --timeout needs --min-subscribers: it bounds the wait for subscribers" \
	    "$SFPIPE" --timeout 5
	usage_error "sfpipe: --min-subscribers 0: too small" \
	    "$SFPIPE" --min-subscribers 0
	usage_error "sfpipe: --min-subscribers 1000001: too large" \
	    "$SFPIPE" --min-subscribers 1000001
	usage_error "sfpipe: --min-subscribers two: invalid" \
	    "$SFPIPE" --min-subscribers two
	usage_error "sfpipe: --timeout 0: too small" \
	    "$SFPIPE" --min-subscribers 1 --timeout 0
	usage_error "sfpipe: --timeout 1.5: invalid" \
	    "$SFPIPE" --min-subscribers 1 --timeout 1.5
	usage_error "sfpipe: option --timeout needs a value" \
	    "$SFPIPE" --min-subscribers 1 --timeout
	usage_error "sfpipe: option --pace takes no value" "$SFPIPE" --pace=1
}

@test "sfcat sends max-lag=BYTES only with --max-lag, after on-lag" {
	fake accept "$OK_SUB" "ctl:EOS" close \
	    accept "$OK_SUB" "ctl:EOS" close \
	    accept "$OK_SUB" "ctl:EOS" close
	sfrun "$SFCAT"
	[ "$status" -eq 0 ] || fail "sfcat exit $status: $stderr"
	[ -z "$output" ]
	[ -z "$stderr" ]
	assert_eq "SUB 1 stream=default from=now" "$(hello 1)"
	sfrun "$SFCAT" --max-lag 1M
	[ "$status" -eq 0 ] || fail "sfcat exit $status: $stderr"
	[ -z "$stderr" ]
	assert_eq "SUB 1 stream=default from=now max-lag=1048576" "$(hello 2)"
	sfrun "$SFCAT" --max-lag 1500 --on-lag skip --from oldest
	[ "$status" -eq 0 ] || fail "sfcat exit $status: $stderr"
	[ -z "$stderr" ]
	assert_eq "SUB 1 stream=default from=oldest on-lag=skip max-lag=1500" \
	    "$(hello 3)"
	assert_exit fake 0
}

@test "sfcat --max-lag not below the ring says so once; a daemon without ring= is fine" {
	local ok="ctl:OK stream=default epoch=0123456789abcdef max-frame=1048576"
	fake accept "$ok seq=1232 ring=1048576" data:a \
	    "ctl:BYE reason=lag seq=1233 lag=1048576 ring=1048576" close \
	    accept "$ok seq=1233 ring=1048576" data:b "ctl:EOS" close \
	    accept "$ok seq=0" "ctl:EOS" close
	sfrun "$SFCAT" --max-lag 2M --reconnect
	[ "$status" -eq 0 ] || fail "sfcat exit $status: $stderr"
	assert_eq "$(printf 'a\nb')" "$output"
	assert_eq "$(printf '%s\n' \
	    'sfcat: --max-lag 2 MiB is not below the ring of stream default (1 MiB): the ring fills first' \
	    'sfcat: evicted: fell 1 MiB behind (the ring is full); first frame not received: seq 1233; read faster, raise sfd --ring, publish with sfpipe --pace, or use --on-lag skip; reconnecting')" \
	    "$stderr"
	# The next hello resumes where it stopped (with the end of stream
	# that may follow) and asks for its limit again.
	assert_eq "SUB 1 stream=default from=1233 max-lag=2097152 epoch=0123456789abcdef resume=1" \
	    "$(hello 2)"
	sfrun "$SFCAT" --max-lag 2M
	[ "$status" -eq 0 ] || fail "sfcat exit $status: $stderr"
	[ -z "$stderr" ]
	assert_exit fake 0
}

# goodbye BYE-LINE STATUS MESSAGE: sfcat, sent two records then BYE-LINE,
# prints both, then exactly MESSAGE on stderr, and exits with STATUS.
goodbye() {
	fake accept "$OK_SUB" data:a data:b "ctl:$1" close
	sfrun "$SFCAT" --max-lag 1M
	[ "$status" -eq "$2" ] || fail "sfcat exit $status, not $2: $stderr"
	assert_eq "$(printf 'a\nb')" "$output"
	assert_eq "$3" "$stderr"
	assert_exit fake 0
}

@test "BYE reason=lag with ring=: the ring is full, exit 4" {
	goodbye "BYE reason=lag seq=1234 lag=67108864 ring=67108864" 4 \
	    "sfcat: evicted: fell 64 MiB behind (the ring is full); first frame not received: seq 1234; read faster, raise sfd --ring, publish with sfpipe --pace, or use --on-lag skip"
}

@test "BYE reason=lag with max-lag=: past its own --max-lag, exit 4" {
	goodbye "BYE reason=lag seq=1234 lag=1258291 max-lag=1048576" 4 \
	    "sfcat: evicted: fell 1.2 MiB behind, past its --max-lag 1 MiB; first frame not received: seq 1234; read faster, raise --max-lag, or use --on-lag skip to skip ahead instead"
}

@test "BYE reason=slow: past sfd --max-lag for --lag-time, exit 4" {
	goodbye "BYE reason=slow seq=1234 lag=9437184 max-lag=8388608 lag-time=10" 4 \
	    "sfcat: evicted: stayed more than 8 MiB behind for over 10 s (sfd --max-lag, --lag-time); first frame not received: seq 1234; read faster or raise those limits"
}

@test "BYE reason=kicked: cut off by an operator, exit 4" {
	goodbye "BYE reason=kicked seq=1234" 4 \
	    "sfcat: evicted: cut off by an operator; first frame not received: seq 1234"
}

@test "BYE reason=kicked names who kicked it and why, when the daemon says" {
	goodbye "BYE reason=kicked seq=1234 by=1000 note=maintenance" 4 \
	    "sfcat: evicted: cut off by an operator (uid 1000: maintenance); first frame not received: seq 1234"
	rm -f "$SOCK" "$T/fake.log" "$T/hello.1"
	goodbye "BYE reason=kicked seq=7 by=[::1]:4242" 4 \
	    "sfcat: evicted: cut off by an operator (at [::1]:4242); first frame not received: seq 7"
}

@test "BYE reason=shutdown: exit 5 as before" {
	goodbye "BYE reason=shutdown seq=1234" 5 \
	    "sfcat: sfd shut down; next seq 1234"
}

@test "a goodbye missing its numbers, or with words for them, is still told" {
	goodbye "BYE reason=lag" 4 \
	    "sfcat: evicted: fell ? behind (the ring is full); first frame not received: seq ?; read faster, raise sfd --ring, publish with sfpipe --pace, or use --on-lag skip"
	rm -f "$SOCK" "$T/fake.log" "$T/hello.1"
	goodbye "BYE reason=slow seq=1234 lag=lots max-lag=12q" 4 \
	    "sfcat: evicted: stayed more than 12q behind for over ? s (sfd --max-lag, --lag-time); first frame not received: seq 1234; read faster or raise those limits"
	rm -f "$SOCK" "$T/fake.log" "$T/hello.1"
	goodbye "BYE reason=lag seq=1234 max-lag=100" 4 \
	    "sfcat: evicted: fell ? behind, past its --max-lag 100 bytes; first frame not received: seq 1234; read faster, raise --max-lag, or use --on-lag skip to skip ahead instead"
}

@test "the eviction messages match what the end-to-end tests accept" {
	# evicted_seq (helpers.bash) is what the tests against the real
	# daemon use: it must take the daemon-limit messages, and only them.
	assert_eq 1234 "$(evicted_seq "sfcat: evicted: fell 64 MiB behind (the ring is full); first frame not received: seq 1234; read faster, raise sfd --ring, publish with sfpipe --pace, or use --on-lag skip")"
	assert_eq 99 "$(evicted_seq "sfcat: evicted: stayed more than 256 KiB behind for over 10 s (sfd --max-lag, --lag-time); first frame not received: seq 99; read faster or raise those limits")"
	run -1 evicted_seq "sfcat: evicted for lagging 300 bytes behind; first frame not received: seq 5"
	run -1 evicted_seq "sfcat: evicted: cut off by an operator; first frame not received: seq 5"
}

@test "sfcat --max-lag usage errors" {
	usage_error "sfcat: --max-lag 0: too small" "$SFCAT" --max-lag 0
	usage_error "sfcat: --max-lag 1x: invalid" "$SFCAT" --max-lag 1x
	usage_error "sfcat: --max-lag 65G: too large" "$SFCAT" --max-lag 65G
	usage_error "sfcat: option --max-lag needs a value" "$SFCAT" --max-lag
}

@test "every refusal exits 3 when a later attempt may succeed, 6 when it would be refused again" {
	local reasons r want steps=()
	# Every reason sfd(1) can give a hello (sf-protocol(7), Errors), and
	# one from a newer daemon.
	reasons="full too-many-streams spool no-memory hello-timeout denied
	    bad-version bad-stream bad-hello bad-control unknown-verb
	    unexpected-control not-a-publisher frame-too-large
	    control-too-large from-the-future"
	for r in $reasons; do
		steps+=(accept "ctl:ERR reason=$r" close accept "ctl:ERR reason=$r" close)
	done
	fake "${steps[@]}"
	for r in $reasons; do
		case $r in
		full | too-many-streams | spool | no-memory | hello-timeout)
			want=3 ;;
		*)	want=6 ;;
		esac
		sfrun "$SFCAT"
		[ "$status" -eq "$want" ] ||
		    fail "sfcat, reason=$r: exit $status, not $want: $stderr"
		assert_eq "sfcat: sfd refused: reason=$r" "$stderr"
		sfrun "$SFPIPE" </dev/null
		[ "$status" -eq "$want" ] ||
		    fail "sfpipe, reason=$r: exit $status, not $want: $stderr"
		assert_eq "sfpipe: sfd refused: reason=$r" "$stderr"
	done
	assert_exit fake 0
}

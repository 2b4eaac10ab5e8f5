#!/usr/bin/env bats
# sfpipe and sfcat on their own: limits, errors, usage.

load helpers

@test "sfpipe --max-frame 10 skips a longer line, delivers the rest, exits 8" {
	start_sfd
	spawn cat "$SFCAT" -n 3
	wait_subscribers 1
	printf 'short\n0123456789abc\nok\n0123456789\n' >"$T/in"
	sfrun "$SFPIPE" --max-frame 10 <"$T/in"
	[ "$status" -eq 8 ]
	assert_eq "$(printf '%s\n' \
	    'sfpipe: line 2: 13 bytes exceeds --max-frame 10, skipped' \
	    'sfpipe: skipped 1 of 4 records (over --max-frame 10)')" "$stderr"
	assert_exit cat 0
	assert_eq "$(printf 'short\nok\n0123456789')" "$(cat "$T/cat.out")"
	stop_sfd
}

@test "sfpipe -0 and --raw count skipped records and frames from 1" {
	start_sfd
	spawn cat "$SFCAT" -n 4
	wait_subscribers 1
	printf 'aaaaaaaaaaaa\0b\0cccccccccccc\0' >"$T/in0"
	sfrun "$SFPIPE" -0 --max-frame 10 <"$T/in0"
	[ "$status" -eq 8 ]
	assert_eq "$(printf '%s\n' \
	    'sfpipe: record 1: 12 bytes exceeds --max-frame 10, skipped' \
	    'sfpipe: record 3: 12 bytes exceeds --max-frame 10, skipped' \
	    'sfpipe: skipped 2 of 3 records (over --max-frame 10)')" "$stderr"
	printf '\0\0\0\1d\0\0\0\13eeeeeeeeeee\0\0\0\0' >"$T/inraw"
	sfrun "$SFPIPE" --raw --max-frame 10 <"$T/inraw"
	[ "$status" -eq 8 ]
	assert_eq "$(printf '%s\n' \
	    'sfpipe: frame 2: 11 bytes exceeds --max-frame 10, skipped' \
	    'sfpipe: skipped 1 of 3 records (over --max-frame 10)')" "$stderr"
	printf 'last\n' | publish
	assert_exit cat 0
	assert_eq "$(printf 'b\nd\n\nlast')" "$(cat "$T/cat.out")"
	stop_sfd
}

@test "sfpipe --strict stops at the first record over --max-frame with exit 8" {
	start_sfd
	spawn cat "$SFCAT" -n 2
	wait_subscribers 1
	printf 'short\n0123456789abc\nok\n' >"$T/in"
	sfrun "$SFPIPE" --strict --max-frame 10 <"$T/in"
	[ "$status" -eq 8 ]
	assert_eq "sfpipe: line 2: 13 bytes exceeds --max-frame 10; stopping (--strict)" "$stderr"
	# "ok" was never sent: the next record the subscriber gets is this one.
	printf 'after\n' | publish
	assert_exit cat 0
	assert_eq "$(printf 'short\nafter')" "$(cat "$T/cat.out")"
	stop_sfd
}

@test "sfpipe uses the daemon's --max-frame when it is smaller than its own" {
	start_sfd --max-frame 8
	spawn cat "$SFCAT" -n 2
	wait_subscribers 1
	printf '12345678\n123456789\nend\n' >"$T/in"
	sfrun "$SFPIPE" <"$T/in"
	[ "$status" -eq 8 ]
	assert_eq "$(printf '%s\n' \
	    'sfpipe: line 2: 9 bytes exceeds --max-frame 8, skipped' \
	    'sfpipe: skipped 1 of 3 records (over --max-frame 8)')" "$stderr"
	assert_exit cat 0
	assert_eq "$(printf '12345678\nend')" "$(cat "$T/cat.out")"
	stop_sfd
}

@test "sfpipe --raw: a control header on stdin is an error, exit 1, naming the frame" {
	start_sfd
	printf '\0\0\0\1a\200\0\0\1b' >"$T/in"
	sfrun "$SFPIPE" --raw <"$T/in"
	[ "$status" -eq 1 ]
	assert_eq "sfpipe: stdin: frame 2: control bit set in its header; --raw takes data frames only" "$stderr"
	stop_sfd
}

@test "sfpipe --raw: a truncated last frame is not published, exit 1" {
	start_sfd
	spawn cat "$SFCAT" -n 2
	wait_subscribers 1
	printf '\0\0\0\1a\0\0\0\11abc' >"$T/in"
	sfrun "$SFPIPE" --raw <"$T/in"
	[ "$status" -eq 1 ]
	assert_eq "sfpipe: stdin: frame 2 cut off by end of input; not published" "$stderr"
	printf 'after\n' | publish
	assert_exit cat 0
	assert_eq "$(printf 'a\nafter')" "$(cat "$T/cat.out")"
	stop_sfd
}

@test "sfcat cannot connect: exit 3, names the address, suggests sfd" {
	sfrun "$SFCAT" -s "$T/missing.sock"
	[ "$status" -eq 3 ]
	[ -z "$output" ]
	assert_eq "sfcat: cannot connect to $T/missing.sock: No such file or directory (is sfd running? start it with: sfd -l $T/missing.sock)" "$stderr"
}

@test "sfpipe cannot connect: exit 3, names the address, suggests sfd" {
	sfrun "$SFPIPE" -s "$T/missing.sock" <<<"x"
	[ "$status" -eq 3 ]
	assert_eq "sfpipe: cannot connect to $T/missing.sock: No such file or directory (is sfd running? start it with: sfd -l $T/missing.sock)" "$stderr"
}

@test "sfcat cannot connect to \$SF_SERVER: the message names it" {
	export SF_SERVER=$T/gone.sock
	sfrun "$SFCAT"
	[ "$status" -eq 3 ]
	assert_eq "sfcat: cannot connect to $T/gone.sock: No such file or directory (is sfd running? start it with: sfd -l $T/gone.sock)" "$stderr"
}

@test "a socket path over 107 bytes is a usage error" {
	long=$T/$(printf 'a%.0s' $(seq 1 110)).sock
	usage_error "sfd: -l $long: path too long" "$SFD" -l "$long"
	usage_error "sfcat: -s $long: path too long" "$SFCAT" -s "$long"
	usage_error "sfpipe: -s unix:$long: path too long" "$SFPIPE" -s "unix:$long"
	[ ! -e "$long" ]
}

@test "bad option: exit 2, one-line error then usage on stderr" {
	for prog in sfd sfpipe sfcat; do
		usage_error "$prog: unknown option --bogus" "$BUILD/cmd/$prog/$prog" --bogus
	done
}

@test "a long option is named as written: missing value, value not taken" {
	usage_error "sfpipe: option --max-frame needs a value" "$SFPIPE" --max-frame
	usage_error "sfpipe: option --eos takes no value" "$SFPIPE" --eos=1
	usage_error "sfcat: unknown option --bogus" "$SFCAT" --bogus=1
	usage_error "sfcat: option -n needs a value" "$SFCAT" -n
}

@test "bad numbers: exit 2 with '--opt value: invalid'" {
	usage_error "sfd: --ring 12x: invalid" "$SFD" --ring 12x
	usage_error "sfd: --max-clients abc: invalid" "$SFD" --max-clients abc
	usage_error "sfcat: -n 5z: invalid" "$SFCAT" -n 5z
	usage_error "sfpipe: --max-frame 1q: invalid" "$SFPIPE" --max-frame 1q
}

@test "sfd rejects a ring too small for two frames + 256k + max-lag" {
	usage_error "sfd: --ring (1048576) must hold twice --max-frame (1048576) and its header, plus 256k, plus --max-lag (1048576)" \
	    "$SFD" -l "$SOCK" --ring 1M --max-lag 1M
	[ ! -e "$SOCK" ]
	# Exactly enough is enough: 2 * (1M + 4) + 256k + 1 = 2359305.
	usage_error "sfd: --ring (2359305) must hold twice --max-frame (1048576) and its header, plus 256k, plus --max-lag (2)" \
	    "$SFD" -l "$SOCK" --ring 2359305 --max-frame 1M --max-lag 2
	[ ! -e "$SOCK" ]
	start_sfd --ring 2359305 --max-frame 1M --max-lag 1
	stop_sfd
	usage_error "sfd: --max-frame 2G: too large" "$SFD" -l "$SOCK" --max-frame 2G
}

@test "sfd's size check at its largest values does not wrap, and a daemon at the exact edge delivers full-size frames whole" {
	# 64G of lag plus two frames of 1G overflow nothing: refused.
	usage_error "sfd: --ring (68719476736) must hold twice --max-frame (1073741824) and its header, plus 256k, plus --max-lag (68719476736)" \
	    "$SFD" -l "$SOCK" --ring 64G --max-frame 1G --max-lag 64G
	usage_error "sfd: --ring (68719476736) must hold twice --max-frame (1073741824) and its header, plus 256k, plus --max-lag (66571993088)" \
	    "$SFD" -l "$SOCK" --ring 64G --max-frame 1G --max-lag 62G
	usage_error "sfd: --ring (65536) must hold twice --max-frame (1) and its header, plus 256k, plus --max-lag (0)" \
	    "$SFD" -l "$SOCK" --ring 64k --max-frame 1
	# 2 * (2044 + 4) + 256k = 266240, a whole number of pages: the ring
	# is exactly that, and the hard limit is one frame.  A paced
	# publisher and a reading subscriber still lose nothing.
	usage_error "sfd: --ring (266239) must hold twice --max-frame (2044) and its header, plus 256k, plus --max-lag (0)" \
	    "$SFD" -l "$SOCK" --ring 266239 --max-frame 2044
	start_sfd --ring 266240 --max-frame 2044
	python3 -c 'import sys
for i in range(500): sys.stdout.write("%04d%s\n" % (i, "z" * 2040))' >"$T/in"
	spawn cat "$SFCAT" -n 500 edge
	wait_subscribers 1
	publish --pace edge <"$T/in"
	assert_exit cat 0 30
	assert_file_eq "$T/in" "$T/cat.out"
	stop_sfd
}

@test "bad stream name: exit 2 with the rule" {
	usage_error 'sfcat: bad stream name "a b": use 1 to 64 of A-Z a-z 0-9 . _ -' "$SFCAT" "a b"
	long=$(printf 'x%.0s' $(seq 1 65))
	usage_error "sfpipe: bad stream name \"$long\": use 1 to 64 of A-Z a-z 0-9 . _ -" "$SFPIPE" "$long"
}

@test "--help prints the usage and then the options on stdout and exits 0" {
	for prog in sfd sfpipe sfcat sfctl; do
		for opt in --help -h; do
			sfrun "$BUILD/cmd/$prog/$prog" "$opt"
			[ "$status" -eq 0 ]
			[ -z "$stderr" ]
			[[ $output == "usage: $prog "* ]]
			# Up to the empty line, the same text as after a
			# usage error; then the options.
			"$BUILD/cmd/$prog/$prog" --bogus 2>&1 | tail -n +2 |
			    cmp - <(printf '%s\n' "${output%%$'\n\n'*}")
			grep -qx '  -h, --help                print this help and exit' <<<"$output"
		done
	done
}

@test "--version prints the program name and 0.1.0" {
	for prog in sfd sfpipe sfcat; do
		sfrun "$BUILD/cmd/$prog/$prog" --version
		[ "$status" -eq 0 ]
		assert_eq "$prog 0.1.0" "$output"
		[ -z "$stderr" ]
	done
}

# refused_as STATUS REASON PROGRAM [ARGS]: the program, with nothing on
# stdin, is refused with REASON and exits STATUS, printing nothing else.
refused_as() {
	local want=$1 reason=$2 prog=$3
	shift 3
	sfrun "$prog" "$@" </dev/null
	[ "$status" -eq "$want" ] ||
	    fail "$(basename "$prog") exit $status, not $want: $stderr"
	[ -z "$output" ]
	assert_eq "$(basename "$prog"): sfd refused: reason=$reason" "$stderr"
}

@test "too-many-streams refusal exits with the same status as full: 3, retried by --reconnect" {
	start_sfd --max-streams 1
	spawn cat "$SFCAT" -n 1 one
	wait_subscribers 1
	refused_as 3 too-many-streams "$SFCAT" two
	refused_as 3 too-many-streams "$SFPIPE" two
	# A refusal for now: --reconnect goes on asking.
	spawn again "$SFCAT" --reconnect two
	wait_until 10 "grep -q . '$T/again.err'"
	assert_eq "sfcat: sfd refused: reason=too-many-streams; reconnecting" \
	    "$(head -n 1 "$T/again.err")"
	[ ! -e "$T/again.rc" ]
	kill -TERM "$again_pid"
	assert_exit again 143
	stop_sfd

	start_sfd --max-clients 1
	spawn cat "$SFCAT"
	wait_subscribers 1
	refused_as 3 full "$SFCAT"
	refused_as 3 full "$SFPIPE"
	stop_sfd
}

@test "a denied client exits 6, as for a bad hello, and --reconnect or --retry does not ask again" {
	start_sfd --publishers 4242 --subscribers 4242
	refused_as 6 denied "$SFCAT"
	refused_as 6 denied "$SFPIPE"
	refused_as 6 denied "$SFCAT" --reconnect
	refused_as 6 denied "$SFPIPE" --retry
	[ "$(grep -c 'ERR reason=denied' "$LOG")" -eq 4 ]
	stop_sfd
}

@test "a lone record is delivered at once while both tools keep running" {
	start_sfd
	spawn cat "$SFCAT"
	wait_subscribers 1
	mkfifo "$T/fifo"
	spawn -i "$T/fifo" pub "$SFPIPE"
	exec 8>"$T/fifo"
	echo first >&8
	wait_until 5 "grep -qx first '$T/cat.out'"
	echo second >&8
	wait_until 5 "grep -qx second '$T/cat.out'"
	exec 8>&-
	assert_exit pub 0
	[ ! -s "$T/pub.err" ]
	[ ! -s "$T/cat.rc" ]
	stop_sfd
	assert_exit cat 5
	assert_eq "$(printf 'first\nsecond')" "$(cat "$T/cat.out")"
	assert_eq "sfcat: sfd shut down; next seq 2" "$(cat "$T/cat.err")"
}

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
	[[ ${stderr%%$'\n'*} == "sfpipe: line 2: 13 bytes exceeds --max-frame 10"* ]]
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
	[[ $stderr == "sfpipe: line 2: 9 bytes exceeds --max-frame 8, skipped"* ]]
	assert_exit cat 0
	assert_eq "$(printf '12345678\nend')" "$(cat "$T/cat.out")"
	stop_sfd
}

@test "sfpipe --raw: a control header on stdin is an error, exit 1, naming the frame" {
	start_sfd
	printf '\0\0\0\1a\200\0\0\1b' >"$T/in"
	sfrun "$SFPIPE" --raw <"$T/in"
	[ "$status" -eq 1 ]
	[[ $stderr == sfpipe:*"frame 2"* ]]
	[ "$(printf '%s' "$stderr" | wc -l)" -le 1 ]
	stop_sfd
}

@test "sfpipe --raw: a truncated last frame is not published, exit 1" {
	start_sfd
	spawn cat "$SFCAT" -n 2
	wait_subscribers 1
	printf '\0\0\0\1a\0\0\0\11abc' >"$T/in"
	sfrun "$SFPIPE" --raw <"$T/in"
	[ "$status" -eq 1 ]
	[[ $stderr == sfpipe:* ]]
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
	sfrun "$SFD" -l "$long"
	[ "$status" -eq 2 ]
	[[ ${stderr%%$'\n'*} == "sfd: "*"path too long" ]]
	sfrun "$SFCAT" -s "$long"
	[ "$status" -eq 2 ]
	[[ ${stderr%%$'\n'*} == "sfcat: "*"path too long" ]]
	sfrun "$SFPIPE" -s "unix:$long" </dev/null
	[ "$status" -eq 2 ]
	[[ ${stderr%%$'\n'*} == "sfpipe: "*"path too long" ]]
}

@test "bad option: exit 2, one-line error then usage on stderr" {
	for prog in sfd sfpipe sfcat; do
		bin=$BUILD/cmd/$prog/$prog
		sfrun "$bin" --bogus </dev/null
		echo "$prog: $stderr"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		# getopt names the program as invoked (argv[0]).
		[[ ${stderr%%$'\n'*} == *"$prog: "*bogus* ]]
		[[ $stderr == *usage* ]]
	done
}

@test "a long option is named as written: missing value, value not taken" {
	sfrun "$SFPIPE" --max-frame </dev/null
	[ "$status" -eq 2 ]
	assert_eq "sfpipe: option --max-frame needs a value" "${stderr%%$'\n'*}"
	sfrun "$SFPIPE" --eos=1 </dev/null
	[ "$status" -eq 2 ]
	assert_eq "sfpipe: option --eos takes no value" "${stderr%%$'\n'*}"
	sfrun "$SFCAT" --bogus=1
	[ "$status" -eq 2 ]
	assert_eq "sfcat: unknown option --bogus" "${stderr%%$'\n'*}"
	sfrun "$SFCAT" -n
	[ "$status" -eq 2 ]
	assert_eq "sfcat: option -n needs a value" "${stderr%%$'\n'*}"
}

@test "bad numbers: exit 2 with '--opt value: invalid'" {
	sfrun "$SFD" --ring 12x
	[ "$status" -eq 2 ]
	assert_eq "sfd: --ring 12x: invalid" "${stderr%%$'\n'*}"
	sfrun "$SFD" --max-clients abc
	[ "$status" -eq 2 ]
	assert_eq "sfd: --max-clients abc: invalid" "${stderr%%$'\n'*}"
	sfrun "$SFCAT" -n 5z
	[ "$status" -eq 2 ]
	assert_eq "sfcat: -n 5z: invalid" "${stderr%%$'\n'*}"
	sfrun "$SFPIPE" --max-frame 1q </dev/null
	[ "$status" -eq 2 ]
	assert_eq "sfpipe: --max-frame 1q: invalid" "${stderr%%$'\n'*}"
}

@test "sfd rejects a ring too small for two frames + 256k + max-lag" {
	sfrun "$SFD" -l "$SOCK" --ring 1M --max-lag 1M
	[ "$status" -eq 2 ]
	assert_eq "sfd: --ring (1048576) must hold twice --max-frame (1048576) and its header, plus 256k, plus --max-lag (1048576)" "${stderr%%$'\n'*}"
	[ ! -e "$SOCK" ]
	# Exactly enough is enough: 2 * (1M + 4) + 256k + 1 = 2359305.
	sfrun "$SFD" -l "$SOCK" --ring 2359305 --max-frame 1M --max-lag 2
	[ "$status" -eq 2 ]
	[ ! -e "$SOCK" ]
	start_sfd --ring 2359305 --max-frame 1M --max-lag 1
	stop_sfd
	sfrun "$SFD" -l "$SOCK" --max-frame 2G
	[ "$status" -eq 2 ]
	[[ ${stderr%%$'\n'*} == "sfd: --max-frame 2G: too large" ]]
}

@test "bad stream name: exit 2 with the rule" {
	sfrun "$SFCAT" "a b"
	[ "$status" -eq 2 ]
	assert_eq 'sfcat: bad stream name "a b": use 1 to 64 of A-Z a-z 0-9 . _ -' "${stderr%%$'\n'*}"
	long=$(printf 'x%.0s' $(seq 1 65))
	sfrun "$SFPIPE" "$long" </dev/null
	[ "$status" -eq 2 ]
	assert_eq "sfpipe: bad stream name \"$long\": use 1 to 64 of A-Z a-z 0-9 . _ -" "${stderr%%$'\n'*}"
}

@test "--help prints usage on stdout and exits 0" {
	for prog in sfd sfpipe sfcat; do
		for opt in --help -h; do
			sfrun "$BUILD/cmd/$prog/$prog" "$opt"
			[ "$status" -eq 0 ]
			[ -z "$stderr" ]
			[[ $output == *usage*"$prog"* ]]
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

@test "sfcat refused with another ERR exits 6" {
	start_sfd --max-streams 1
	spawn cat "$SFCAT" -n 1 one
	wait_subscribers 1
	sfrun "$SFCAT" two
	[ "$status" -eq 6 ]
	[ -z "$output" ]
	[[ $stderr == sfcat:* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	sfrun "$SFPIPE" two <<<"x"
	[ "$status" -eq 6 ]
	[[ $stderr == sfpipe:* ]]
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
	[ ! -s "$T/cat.rc" ]
	stop_sfd
	assert_exit cat 5
	assert_eq "$(printf 'first\nsecond')" "$(cat "$T/cat.out")"
}

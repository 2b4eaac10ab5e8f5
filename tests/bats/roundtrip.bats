#!/usr/bin/env bats
# sfpipe -> sfd -> sfcat gives back exactly what went in, in every mode.

load helpers

# roundtrip MODE-OPTION INPUT COUNT: publish INPUT to a subscriber started
# first that stops after COUNT records; its output must equal INPUT.
roundtrip() {
	local opt=$1 in=$2 count=$3
	start_sfd
	spawn cat "$SFCAT" $opt -n "$count"
	wait_subscribers 1
	sfrun "$SFPIPE" $opt <"$in"
	[ "$status" -eq 0 ] || fail "sfpipe exited $status: $stderr"
	[ -z "$stderr" ]
	assert_exit cat 0 30
	assert_file_eq "$in" "$T/cat.out"
	[ ! -s "$T/cat.err" ]
	stop_sfd
}

@test "text mode round trip of random lines, empty ones included, is exact" {
	seed=$RANDOM
	echo "seed $seed"
	sfraw gen text "$seed" 3000 >"$T/in"
	[ "$(grep -c '^$' "$T/in")" -gt 0 ]
	roundtrip "" "$T/in" "$(wc -l <"$T/in")"
}

@test "-0 round trip of random NUL-separated records with every other byte is exact" {
	seed=$RANDOM
	echo "seed $seed"
	sfraw gen nul "$seed" 3000 >"$T/in"
	[ "$(tr -cd '\n' <"$T/in" | wc -c)" -gt 0 ]
	roundtrip -0 "$T/in" "$(tr -cd '\0' <"$T/in" | wc -c)"
}

@test "--raw round trip of random frames, zero-length ones included, is exact" {
	seed=$RANDOM
	echo "seed $seed"
	sfraw gen raw "$seed" 3000 >"$T/in"
	roundtrip --raw "$T/in" 3000
}

@test "a last line without a newline is published and comes back with one" {
	start_sfd
	spawn cat "$SFCAT" -n 3
	wait_subscribers 1
	printf 'one\n\nthree' >"$T/in"
	sfrun "$SFPIPE" <"$T/in"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_exit cat 0
	printf 'one\n\nthree\n' >"$T/want"
	assert_file_eq "$T/want" "$T/cat.out"
	stop_sfd
}

@test "a last -0 record without a NUL is published and comes back with one" {
	start_sfd
	spawn cat "$SFCAT" -0 -n 2
	wait_subscribers 1
	printf 'a\nb\0c' >"$T/in"
	sfrun "$SFPIPE" -0 <"$T/in"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_exit cat 0
	printf 'a\nb\0c\0' >"$T/want"
	assert_file_eq "$T/want" "$T/cat.out"
	stop_sfd
}

@test "sfcat --raw | sfpipe --raw relays frames unchanged to another stream" {
	start_sfd
	sfraw gen raw 7 500 >"$T/in"
	spawn out "$SFCAT" --raw -n 500 copy
	spawn relay sh -c '"$1" --raw -n 500 orig | "$2" --raw copy' sh "$SFCAT" "$SFPIPE"
	wait_subscribers 2
	sfrun "$SFPIPE" --raw orig <"$T/in"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_exit relay 0 30
	assert_exit out 0 30
	assert_file_eq "$T/in" "$T/out.out"
	[ ! -s "$T/relay.err" ]
	[ ! -s "$T/out.err" ]
	stop_sfd
}

@test "streams are separate: a subscriber sees only its own stream" {
	start_sfd
	spawn a "$SFCAT" -n 2 alpha
	spawn b "$SFCAT" -n 1 beta
	wait_subscribers 2
	printf 'a1\n' | publish alpha
	printf 'b1\n' | publish beta
	printf 'a2\n' | publish alpha
	assert_exit a 0
	assert_exit b 0
	assert_eq "$(printf 'a1\na2')" "$(cat "$T/a.out")"
	assert_eq b1 "$(cat "$T/b.out")"
	stop_sfd
}

@test "stream names may use 1 to 64 of A-Z a-z 0-9 . _ -" {
	start_sfd
	long=$(printf 'Z%.0s' $(seq 1 64))
	for s in a.b_c-D9 "$long" -; do
		spawn cat "$SFCAT" -n 1 -- "$s"
		wait_subscribers 1
		echo "to $s" | publish -- "$s"
		assert_exit cat 0
		assert_eq "to $s" "$(cat "$T/cat.out")"
		stop_sfd
		start_sfd
	done
	stop_sfd
}

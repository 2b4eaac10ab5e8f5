#!/usr/bin/env bats
# One stream, many subscribers, several publishers.

load helpers

@test "20 subscribers each receive the identical stream" {
	start_sfd
	seed=$RANDOM
	echo "seed $seed"
	sfraw gen text "$seed" 1000 >"$T/in"
	n=$(wc -l <"$T/in")
	for i in $(seq 1 20); do
		spawn "cat$i" "$SFCAT" -n "$n"
	done
	wait_subscribers 20
	sfrun "$SFPIPE" <"$T/in"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	for i in $(seq 1 20); do
		assert_exit "cat$i" 0 30
		assert_file_eq "$T/in" "$T/cat$i.out"
		[ ! -s "$T/cat$i.err" ]
	done
	stop_sfd
}

@test "a late subscriber gets only the frames published after it joined" {
	start_sfd
	sfraw lines early 1 500 >"$T/early"
	sfraw lines late 1 500 >"$T/late"
	spawn first "$SFCAT" -n 1000
	wait_subscribers 1
	sfrun "$SFPIPE" <"$T/early"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# The first subscriber has them all: the daemon has taken them in.
	wait_until 10 "[ \$(wc -l <'$T/first.out') -eq 500 ]"
	spawn second "$SFCAT" -n 500
	wait_subscribers 2
	sfrun "$SFPIPE" <"$T/late"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_exit second 0
	assert_exit first 0
	assert_file_eq "$T/late" "$T/second.out"
	cat "$T/early" "$T/late" >"$T/all"
	assert_file_eq "$T/all" "$T/first.out"
	stop_sfd
}

@test "two publishers at once interleave whole lines, each in its own order" {
	start_sfd
	sfraw lines A 1 20000 >"$T/a"
	sfraw lines B 1 20000 >"$T/b"
	spawn cat "$SFCAT" -n 40000
	wait_subscribers 1
	spawn -i "$T/a" pa "$SFPIPE"
	spawn -i "$T/b" pb "$SFPIPE"
	assert_exit pa 0 30
	assert_exit pb 0 30
	assert_exit cat 0 30
	# Every line intact: the lines of each publisher, in its order...
	grep '^A ' "$T/cat.out" >"$T/got.a" || true
	grep '^B ' "$T/cat.out" >"$T/got.b" || true
	assert_file_eq "$T/a" "$T/got.a"
	assert_file_eq "$T/b" "$T/got.b"
	# ...and nothing else.
	sort "$T/a" "$T/b" >"$T/want.sorted"
	sort "$T/cat.out" >"$T/got.sorted"
	assert_file_eq "$T/want.sorted" "$T/got.sorted"
	stop_sfd
}

@test "a publisher restart leaves subscribers connected and they get both runs" {
	start_sfd
	sfraw lines run1 1 300 >"$T/r1"
	sfraw lines run2 1 300 >"$T/r2"
	spawn c1 "$SFCAT" -n 600
	spawn c2 "$SFCAT" -n 600
	wait_subscribers 2
	sfrun "$SFPIPE" <"$T/r1"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	wait_until 10 "[ \$(wc -l <'$T/c1.out') -eq 300 ]"
	[ ! -s "$T/c1.rc" ]
	[ ! -s "$T/c2.rc" ]
	sfrun "$SFPIPE" <"$T/r2"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_exit c1 0
	assert_exit c2 0
	cat "$T/r1" "$T/r2" >"$T/all"
	assert_file_eq "$T/all" "$T/c1.out"
	assert_file_eq "$T/all" "$T/c2.out"
	stop_sfd
}

@test "sfcat -n COUNT exits 0 after exactly COUNT records" {
	start_sfd
	spawn cat "$SFCAT" -n 4
	wait_subscribers 1
	seq 1 10 >"$T/in"
	sfrun "$SFPIPE" <"$T/in"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_exit cat 0
	assert_eq "$(seq 1 4)" "$(cat "$T/cat.out")"
	[ ! -s "$T/cat.err" ]
	stop_sfd
}

@test "sfcat | head -1 exits 0 quietly while a publisher keeps sending" {
	start_sfd
	spawn pipe bash -c '"$1" | head -n 1 >"$2"; echo "${PIPESTATUS[*]}" >"$3"' \
	    bash "$SFCAT" "$T/head.out" "$T/pipestatus"
	wait_subscribers 1
	seq 1 200000 >"$T/in"
	spawn -i "$T/in" pub "$SFPIPE"
	wait_exit pipe 30
	assert_eq "0 0" "$(cat "$T/pipestatus")"
	assert_eq 1 "$(cat "$T/head.out")"
	[ ! -s "$T/pipe.err" ]
	assert_exit pub 0 30
	stop_sfd
}

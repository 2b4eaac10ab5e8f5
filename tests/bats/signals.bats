#!/usr/bin/env bats
# SIGINT, SIGTERM and SIGHUP stop sfcat and sfpipe within a fraction of a
# second whatever they are blocked on: standard output, standard input,
# the socket, connect(2), the daemon's answer, the wait before trying
# again, the wait for subscribers, the state file.  sfcat saves --state on
# the way out, naming the first record it did not write whole.
#
# "Within a fraction of a second" is checked generously, as gone within
# 2 s (stretched for slow builds): a hang fails, a slow machine does not.

load helpers

# stdout_to_fifo NAME COMMAND...: spawn NAME with its standard output into
# the FIFO T/NAME.fifo, which the test holds open on fd 9 and does not
# read: once the pipe is full, writing to it blocks.
stdout_to_fifo() {
	local name=$1
	shift
	mkfifo "$T/$name.fifo"
	# Read and write, so that opening it waits for nobody.
	exec 9<>"$T/$name.fifo"
	spawn "$name" sh -c 'fifo=$1; shift; exec "$@" >"$fifo" 9>&-' \
	    sh "$T/$name.fifo" "$@"
}

# pipe_full: the pipe on fd 9 holds all it can.
pipe_full() {
	local n cap
	read -r n cap < <(sfraw queued <&9)
	[ "$n" -ge "$cap" ]
}

# whole_lines FILE: how many lines of FILE are whole (end in a newline).
whole_lines() {
	tr -cd '\n' <"$1" | wc -c | tr -d ' '
}

# is_prefix FILE OF: FILE is the start of OF, byte for byte.
is_prefix() {
	head -c "$(wc -c <"$1")" "$2" | cmp - "$1"
}

# sleeping PID: the process waits in the kernel (state S), as a program
# blocked in a system call does.
sleeping() {
	[[ $(cat "/proc/$1/stat") =~ \)\ S\  ]]
}

# stops NAME SIG CODE: SIG to the spawned program NAME; it must be gone
# within 2 s (stretched for slow builds) with exit status CODE.
stops() {
	local pid_var=${1}_pid
	kill -"$2" "${!pid_var}"
	assert_exit "$1" "$3" 2
}

# Each stop signal with the status it ends a program with.
STOPS="INT:130 TERM:143 HUP:129"

# stuck: a daemon socket T/stuck.sock whose queue of connections is full,
# so that connect(2) to it waits.
stuck() {
	spawn stuck sfraw stuck "$T/stuck.sock" "$(secs 30)"
	wait_until 5 "[ -S '$T/stuck.sock' ]"
}

@test "sfcat blocked on a full stdout exits 143 on SIGTERM within a second and saves --state: the first record not written whole" {
	start_sfd
	n=40000
	sfraw lines data 1 $n >"$T/in"
	stdout_to_fifo cat "$SFCAT" --state "$T/state"
	wait_subscribers 1
	publish <"$T/in"
	wait_until 10 pipe_full
	kill -TERM "$cat_pid"
	assert_exit cat 143 2
	[ ! -s "$T/cat.err" ]
	sfraw drain <&9 >"$T/got"
	# What it wrote is the input up to some point: whole records, then
	# perhaps the start of one more.
	is_prefix "$T/got" "$T/in"
	whole=$(whole_lines "$T/got")
	echo "wrote $(wc -c <"$T/got") bytes, $whole records whole"
	state_is "$T/state" "$whole"
	# Going on from there prints the rest, the record cut short whole.
	spawn again "$SFCAT" --state "$T/state" -n $((n - whole))
	assert_exit again 0
	[ ! -s "$T/again.err" ]
	{ head -n "$whole" "$T/got"; cat "$T/again.out"; } | cmp - "$T/in"
	state_is "$T/state" $n
	stop_sfd
}

@test "sfcat blocked on a full stdout exits 130 on SIGINT and 129 on SIGHUP within a second" {
	start_sfd
	sfraw lines data 1 40000 >"$T/in"
	publish <"$T/in"
	for s in INT:130 HUP:129; do
		sig=${s%:*}
		stdout_to_fifo "cat$sig" "$SFCAT" --from oldest
		wait_until 10 pipe_full
		stops "cat$sig" "$sig" "${s#*:}"
		[ ! -s "$T/cat$sig.err" ]
		sfraw drain <&9 >"$T/got$sig"
		is_prefix "$T/got$sig" "$T/in"
	done
	stop_sfd
}

@test "sfcat blocked in connect on a daemon that accepts nobody exits 143 on SIGTERM within a second" {
	stuck
	spawn cat "$SFCAT" -s "$T/stuck.sock"
	wait_until 5 "sleeping $cat_pid"
	stops cat TERM 143
	[ ! -s "$T/cat.err" ]
}

@test "sfcat waiting for the daemon's answer to its hello exits 143 on SIGTERM within a second" {
	fake accept idle:20
	spawn cat "$SFCAT" --state "$T/state"
	hello 1
	stops cat TERM 143
	[ ! -s "$T/cat.err" ]
	[ ! -e "$T/state" ]
}

@test "sfcat waiting for frames exits 128+N on SIGINT, SIGTERM and SIGHUP and saves --state" {
	start_sfd
	i=0
	for s in $STOPS; do
		i=$((i + 1))
		spawn "cat$i" "$SFCAT" --state "$T/state"
		wait_subscribers $i
		echo "line $i" | publish
		wait_until 10 "[ -s '$T/cat$i.out' ]"
		stops "cat$i" "${s%:*}" "${s#*:}"
		[ ! -s "$T/cat$i.err" ]
		assert_eq "line $i" "$(cat "$T/cat$i.out")"
		state_is "$T/state" $i
	done
	stop_sfd
}

@test "sfcat --reconnect waiting to connect again exits 143 on SIGTERM within a second and saves --state" {
	start_sfd
	spawn cat "$SFCAT" --reconnect --state "$T/state"
	wait_subscribers 1
	printf 'a\nb\n' | publish
	wait_until 10 "[ \$(wc -l <'$T/cat.out') -eq 2 ]"
	stop_sfd
	# Five attempts: it now waits 0.8 to 1.6 s between two.
	wait_until 20 "[ \$(grep -c 'reconnecting$' '$T/cat.err') -ge 5 ]"
	stops cat TERM 143
	state_is "$T/state" 2
	printf 'a\nb\n' | cmp - "$T/cat.out"
}

@test "sfcat blocked on its --state file, reading or writing it, exits 143 on SIGTERM within a second" {
	# Reading: the file is a FIFO nobody writes to.
	mkfifo "$T/fifo"
	spawn load "$SFCAT" --state "$T/fifo"
	wait_until 5 "sleeping $load_pid"
	stops load TERM 143
	assert_eq "sfcat: --state $T/fifo: Interrupted system call" "$(cat "$T/load.err")"
	# Writing: the file it writes first, to rename it then, is a FIFO
	# nobody reads from.
	start_sfd
	mkfifo "$T/state.tmp"
	spawn save "$SFCAT" --state "$T/state"
	wait_subscribers 1
	echo one | publish
	wait_until 10 "[ -s '$T/save.out' ]"
	wait_until 5 "sleeping $save_pid"
	stops save TERM 143
	assert_eq "sfcat: --state $T/state: Interrupted system call" "$(cat "$T/save.err")"
	[ ! -e "$T/state" ]
	assert_eq one "$(cat "$T/save.out")"
	stop_sfd
}

@test "sfcat stopped on a full stdout does not wait for a blocked --state file: exits 143 within a second" {
	start_sfd
	sfraw lines data 1 40000 >"$T/in"
	publish <"$T/in"
	stdout_to_fifo cat "$SFCAT" --from oldest --state "$T/state"
	wait_until 10 pipe_full
	# Saving on the way out now blocks; the file stays as it was (none,
	# or what was saved before the writes blocked).
	before=$(cat "$T/state" 2>/dev/null || echo none)
	mkfifo "$T/state.tmp"
	stops cat TERM 143
	assert_eq "sfcat: --state $T/state: Interrupted system call" "$(cat "$T/cat.err")"
	assert_eq "$before" "$(cat "$T/state" 2>/dev/null || echo none)"
	stop_sfd
}

@test "sfpipe waiting for input exits 128+N on SIGINT, SIGTERM and SIGHUP within a second, all it read published" {
	start_sfd
	spawn cat "$SFCAT"
	wait_subscribers 1
	i=0
	for s in $STOPS; do
		i=$((i + 1))
		mkfifo "$T/in$i"
		spawn -i "$T/in$i" "pub$i" "$SFPIPE"
		exec 8>"$T/in$i"
		echo "line $i" >&8
		wait_until 10 "[ \$(wc -l <'$T/cat.out') -eq $i ]"
		stops "pub$i" "${s%:*}" "${s#*:}"
		exec 8>&-
		[ ! -s "$T/pub$i.err" ]
	done
	printf 'line 1\nline 2\nline 3\n' | cmp - "$T/cat.out"
	stop_sfd
}

@test "sfpipe held back by a paced stream exits 128+N on SIGINT, SIGTERM and SIGHUP within a second" {
	start_sfd --ring 2M --max-frame 64k --stall 60
	sfraw lines data 1 100000 >"$T/in"
	spawn slow "$SFCAT"
	wait_subscribers 1
	kill -STOP "$slow_pid"
	i=0
	for s in $STOPS; do
		i=$((i + 1))
		spawn -i "$T/in" "pub$i" "$SFPIPE" --pace
		wait_until 10 "[ \$(grep -c 'held: its next frames would overwrite' '$LOG') -ge $i ]"
		stops "pub$i" "${s%:*}" "${s#*:}"
		[ ! -s "$T/pub$i.err" ]
	done
	stop_sfd
}

@test "sfpipe blocked in connect on a daemon that accepts nobody exits 128+N on SIGINT, SIGTERM and SIGHUP within a second" {
	stuck
	for s in $STOPS; do
		sig=${s%:*}
		spawn "pub$sig" "$SFPIPE" -s "$T/stuck.sock"
		wait_until 5 "sleeping $(cat "$T/pub$sig.pid")"
		stops "pub$sig" "$sig" "${s#*:}"
		[ ! -s "$T/pub$sig.err" ]
	done
}

@test "sfpipe waiting for the daemon's answer to its hello exits 128+N on SIGINT, SIGTERM and SIGHUP within a second" {
	fake accept idle:10 accept idle:10 accept idle:10
	i=0
	for s in $STOPS; do
		i=$((i + 1))
		spawn "pub$i" "$SFPIPE"
		hello $i
		stops "pub$i" "${s%:*}" "${s#*:}"
		[ ! -s "$T/pub$i.err" ]
	done
	assert_exit fake 0
}

@test "sfpipe --retry waiting to connect again exits 128+N on SIGINT, SIGTERM and SIGHUP within a second" {
	export SF_SERVER=$T/none.sock
	for s in $STOPS; do
		sig=${s%:*}
		spawn "pub$sig" "$SFPIPE" --retry
		wait_until 10 "[ -s '$T/pub$sig.err' ]"
		stops "pub$sig" "$sig" "${s#*:}"
		assert_eq "sfpipe: cannot connect to $SF_SERVER: No such file or directory (is sfd running? start it with: sfd -l $SF_SERVER); retrying" "$(cat "$T/pub$sig.err")"
	done
}

@test "sfpipe --min-subscribers waiting for READY exits 128+N on SIGINT, SIGTERM and SIGHUP within a second" {
	start_sfd
	i=0
	for s in $STOPS; do
		i=$((i + 1))
		spawn "pub$i" "$SFPIPE" --min-subscribers 1
		wait_until 10 "[ \$(grep -c 'publishing to default' '$LOG') -ge $i ]"
		stops "pub$i" "${s%:*}" "${s#*:}"
		[ ! -s "$T/pub$i.err" ]
	done
	stop_sfd
}

#!/usr/bin/env bats
# The daemon's life: its socket, its limits, its log, its shutdown.

load helpers

# one_line STREAM TEXT: publish TEXT to a fresh subscriber and see it back.
one_line() {
	local before
	before=$(subscribed)
	spawn probe "$SFCAT" -n 1 "$1"
	wait_subscribers $((before + 1))
	printf '%s\n' "$2" | publish "$1"
	assert_exit probe 0
	assert_eq "$2" "$(cat "$T/probe.out")"
}

@test "--max-clients 3: a 4th connection gets ERR reason=full at once; a freed slot is reused" {
	start_sfd --max-clients 3
	spawn c1 "$SFCAT"
	spawn c2 "$SFCAT"
	spawn c3 "$SFCAT"
	wait_subscribers 3
	t0=$(now_ms)
	client 10 eof
	t1=$(now_ms)
	[ "$status" -eq 0 ]
	assert_eq "$(printf 'CTL ERR reason=full\nEOF')" "$output"
	echo "refused after $((t1 - t0)) ms"
	[ $((t1 - t0)) -le $(($(secs 2) * 1000)) ]
	# sfcat turned away: exit 3.
	sfrun "$SFCAT"
	[ "$status" -eq 3 ]
	[ -z "$output" ]
	assert_eq "sfcat: sfd refused: reason=full" "$stderr"
	kill -TERM "$c3_pid"
	wait_exit c3
	wait_until 10 "python3 '$RAWPY' client '$SOCK' 5 'ctl:SUB 1 stream=default' read | grep -q '^CTL OK '"
	stop_sfd
	assert_exit c1 5
	assert_exit c2 5
	assert_eq "sfcat: sfd shut down; next seq 0" "$(cat "$T/c1.err")"
	assert_eq "sfcat: sfd shut down; next seq 0" "$(cat "$T/c2.err")"
}

@test "a stale socket file is reclaimed" {
	sfraw stale "$SOCK"
	[ -S "$SOCK" ]
	start_sfd
	one_line default hello
	stop_sfd
	[ ! -e "$SOCK" ]
}

@test "a live socket is never stolen: a second sfd exits 1" {
	start_sfd
	sfrun "$SFD" -l "$SOCK"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	assert_eq "sfd: $SOCK: another sfd is listening" "$stderr"
	[ -S "$SOCK" ]
	one_line default "still here"
	stop_sfd
}

@test "a file that is not a socket is left alone: sfd exits 1" {
	echo precious >"$SOCK"
	sfrun "$SFD" -l "$SOCK"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	assert_eq "sfd: $SOCK: exists and is not a socket; not touching it" "$stderr"
	assert_eq precious "$(cat "$SOCK")"
}

# unix_names: the Unix sockets bound under T, one line each, from
# /proc/net/unix: flags (00010000 for a listening socket), state (03 for
# a connected one) and name.  The folder is the test's own, so each one
# is the daemon's; a client's own end has no name.
unix_names() {
	python3 -c '
import sys
for line in open("/proc/net/unix").read().splitlines()[1:]:
    f = line.split(None, 7)
    if len(f) == 8 and f[7].startswith(sys.argv[1]):
        print(f[3], f[5], f[7])' "$T/"
}

@test "accepted sockets carry the public socket path" {
	start_sfd
	spawn cat "$SFCAT"
	wait_subscribers 1
	unix_names >"$T/names"
	cat "$T/names"
	# The listening socket and the one accepted for sfcat, both by the
	# path clients connect to, and no other name (such as PATH.PID).
	grep -Fqx "00010000 01 $SOCK" "$T/names"
	grep -Eq "^00000000 03 " "$T/names"
	assert_eq "$SOCK" "$(cut -d ' ' -f 3- "$T/names" | sort -u)"
	# What a client is told it is connected to.
	sfrun python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
print(s.getpeername())' "$SOCK"
	[ "$status" -eq 0 ] || fail "$stderr"
	assert_eq "$SOCK" "$output"
	stop_sfd
	assert_exit cat 5
}

@test "sfds started at once on one path: one listens, the others exit 1 saying so" {
	# Each waits to open the FIFO until it has a writer: all go at once.
	mkfifo "$T/go"
	for i in 1 2 3 4 5 6 7 8; do
		spawn -i "$T/go" "d$i" "$SFD" -v -l "$SOCK"
	done
	exec 8>"$T/go"
	exec 8>&-
	wait_until 10 "[ \$(cat '$T'/d?.rc 2>/dev/null | wc -l) -eq 7 ]"
	winner=
	for i in 1 2 3 4 5 6 7 8; do
		if [ -s "$T/d$i.rc" ]; then
			assert_exit "d$i" 1
			assert_eq "sfd: $SOCK: another sfd is listening" \
			    "$(unstamp "$T/d$i.err")"
		else
			winner=$i
		fi
	done
	[ -n "$winner" ]
	export SF_SERVER=$SOCK
	LOG=$T/d$winner.err
	one_line default "one of eight"
	pid_var=d${winner}_pid
	kill -TERM "${!pid_var}"
	assert_exit "d$winner" 0
	[ ! -e "$SOCK" ]
}

@test "a killed sfd leaves its socket and lock file; the next one takes the path" {
	start_sfd
	kill -KILL "$SFD_PID"
	wait_exit sfd
	[ -S "$SOCK" ]
	[ -f "$SOCK.lock" ]
	start_sfd
	one_line default "after a kill"
	stop_sfd
	[ ! -e "$SOCK" ]
}

@test "a lock file that is not a regular file is left alone: sfd exits 1" {
	mkfifo "$SOCK.lock"
	sfrun "$SFD" -l "$SOCK"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	assert_eq "sfd: $SOCK: $SOCK.lock exists and is not a regular file; not touching it" "$stderr"
	[ -p "$SOCK.lock" ]
	[ ! -e "$SOCK" ]
}

@test "the socket file has mode 0600 and is removed at exit" {
	start_sfd
	assert_eq 600 "$(stat -c %a "$SOCK")"
	stop_sfd
	[ ! -e "$SOCK" ]
}

@test "--mode sets the socket file's permissions" {
	start_sfd --mode 0660
	assert_eq 660 "$(stat -c %a "$SOCK")"
	stop_sfd
}

@test "SIGTERM: subscribers get the shutdown goodbye, sfd exits 0 and removes its socket" {
	start_sfd
	spawn cat "$SFCAT"
	wait_subscribers 1
	printf 'a\nb\nc\n' | publish
	wait_until 10 "[ \$(wc -l <'$T/cat.out') -eq 3 ]"
	stop_sfd
	assert_exit cat 5
	assert_eq "sfcat: sfd shut down; next seq 3" "$(cat "$T/cat.err")"
	assert_eq "$(printf 'a\nb\nc')" "$(cat "$T/cat.out")"
	unstamp | grep -qx 'sfd: shutting down'
	[ ! -e "$SOCK" ]
}

@test "SIGINT shuts down like SIGTERM" {
	start_sfd
	kill -INT "$SFD_PID"
	assert_exit sfd 0
	[ ! -e "$SOCK" ]
}

@test "a publisher whose daemon shuts down exits 5" {
	start_sfd
	spawn cat "$SFCAT" -n 1
	wait_subscribers 1
	mkfifo "$T/fifo"
	spawn -i "$T/fifo" pub "$SFPIPE"
	exec 8>"$T/fifo"
	echo first >&8
	# Published, so the goodbye names the seq after it.
	assert_exit cat 0
	assert_eq first "$(cat "$T/cat.out")"
	stop_sfd
	# Idle on its input, it hears the goodbye all the same.
	assert_exit pub 5
	exec 8>&-
	assert_eq "sfpipe: sfd shut down; next seq 1" "$(cat "$T/pub.err")"
}

@test "-v logs each connection with the peer's pid and uid" {
	start_sfd
	spawn cat "$SFCAT" -n 1
	wait_subscribers 1
	echo x | publish
	assert_exit cat 0
	unstamp | grep -E "^sfd: #[0-9]+ pid=$cat_pid uid=$(id -u)[: ]"
	unstamp | grep -E "^sfd: #[0-9]+ pid=$cat_pid uid=$(id -u) gid=$(id -g): .*\<subscribed\>"
	stop_sfd
	# Every log line starts with the time, then "sfd: ".
	assert_eq "" "$(grep -Ev "^${STAMP_RE}sfd: " "$LOG" || true)"
}

# stamped_now FILE: every line of FILE starts with the time as sfd -v
# writes it, to the millisecond, within a minute before now; prints FILE
# without the times.
stamped_now() {
	local line t now
	now=$(date -u +%s)
	while IFS= read -r line; do
		[[ $line =~ ^([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2}:[0-9]{2})\.[0-9]{3}Z\ (sfd:\ .+)$ ]] ||
			fail "no time at the start: $line" || return
		t=$(date -u -d "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}" +%s) ||
			fail "not a time: $line" || return
		[ "$t" -le "$now" ] && [ "$t" -ge $((now - 60)) ] ||
			fail "not within a minute before $(date -u +%FT%TZ -d "@$now"): $line" ||
			return
		printf '%s\n' "${BASH_REMATCH[3]}"
	done <"$1"
}

@test "-v starts each log line with the time in UTC; without -v no line has one" {
	start_sfd
	spawn cat "$SFCAT" -n 1
	wait_subscribers 1
	echo x | publish
	assert_exit cat 0
	stop_sfd
	stamped_now "$LOG" >"$T/plain.log"
	assert_eq "$(wc -l <"$LOG")" "$(wc -l <"$T/plain.log")"
	assert_eq "sfd: listening on $SOCK" "$(head -n 1 "$T/plain.log")"
	assert_eq "sfd: exit" "$(tail -n 1 "$T/plain.log")"
	grep -qx "sfd: #1 pid=$cat_pid uid=$(id -u) gid=$(id -g): subscribed to default at seq 0" "$T/plain.log"
	# A JOURNAL_STREAM that is not stderr is no journal: times all the same.
	spawn k env JOURNAL_STREAM=1:1 "$SFD" -v -l "$T/k.sock"
	wait_until 10 "grep -q 'listening on' '$T/k.err'"
	kill -TERM "$k_pid"
	assert_exit k 0
	assert_eq "$(printf 'sfd: listening on %s\nsfd: shutting down\nsfd: exit' "$T/k.sock")" \
	    "$(stamped_now "$T/k.err")"
	# Without -v: "sfd: " first on every line, nothing before it.
	spawn q "$SFD" -l "$T/q.sock"
	wait_until 10 "grep -q 'listening on' '$T/q.err'"
	echo x | publish -s "$T/q.sock"
	kill -TERM "$q_pid"
	assert_exit q 0
	assert_eq "sfd: listening on $T/q.sock" "$(head -n 1 "$T/q.err")"
	grep -q ': connected$' "$T/q.err"
	assert_eq "" "$(grep -v '^sfd: ' "$T/q.err" || true)"
}

@test "-q logs only the listening line during ordinary use" {
	SFD_QUIET=1 start_sfd -q
	spawn cat "$SFCAT" -n 1
	# No subscribe log with -q: retry the publish until it is received.
	wait_until 10 "echo x | timeout $(secs 5) '$SFPIPE'; [ -s '$T/cat.rc' ]"
	assert_exit cat 0
	assert_eq x "$(cat "$T/cat.out")"
	kill -TERM "$SFD_PID"
	assert_exit sfd 0
	assert_eq "sfd: listening on $SOCK" "$(cat "$LOG")"
}

@test "the default address is \$XDG_RUNTIME_DIR/streamfan.sock for all three" {
	export XDG_RUNTIME_DIR=$T/run
	export SF_SERVER=
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	spawn sfd "$SFD" -v
	SFD_PID=$sfd_pid
	ln -sf sfd.err "$LOG"
	wait_until 10 "unstamp | grep -q '^sfd: listening on'"
	assert_eq "sfd: listening on $XDG_RUNTIME_DIR/streamfan.sock" "$(unstamp | grep 'listening on')"
	[ -S "$XDG_RUNTIME_DIR/streamfan.sock" ]
	spawn cat "$SFCAT" -n 1
	wait_subscribers 1
	echo hi | publish
	assert_exit cat 0
	assert_eq hi "$(cat "$T/cat.out")"
	stop_sfd
}

@test "-l unix:PATH listens on PATH" {
	spawn sfd "$SFD" -v -l "unix:$SOCK"
	SFD_PID=$sfd_pid
	ln -sf sfd.err "$LOG"
	wait_until 10 "unstamp | grep -q '^sfd: listening on'"
	[ -S "$SOCK" ]
	spawn cat "$SFCAT" -s "unix:$SOCK" -n 1
	wait_subscribers 1
	echo hi | publish -s "$SOCK"
	assert_exit cat 0
	assert_eq hi "$(cat "$T/cat.out")"
	stop_sfd
	[ ! -e "$SOCK" ]
}

@test "\$SF_SERVER is the default address of all three, and wins over XDG_RUNTIME_DIR" {
	export XDG_RUNTIME_DIR=$T/run
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	export SF_SERVER=$SOCK
	spawn sfd "$SFD" -v
	SFD_PID=$sfd_pid
	ln -sf sfd.err "$LOG"
	wait_until 10 "unstamp | grep -q '^sfd: listening on'"
	assert_eq "sfd: listening on $SOCK" "$(unstamp | grep 'listening on')"
	[ ! -e "$XDG_RUNTIME_DIR/streamfan.sock" ]
	spawn cat "$SFCAT" -n 1
	wait_subscribers 1
	echo hi | publish
	assert_exit cat 0
	assert_eq hi "$(cat "$T/cat.out")"
	stop_sfd
}

@test "several -l: one listening line each, one set of streams" {
	spawn sfd "$SFD" -v -l "$T/a.sock" -l "$T/b.sock"
	SFD_PID=$sfd_pid
	ln -sf sfd.err "$LOG"
	wait_until 10 "[ \$(unstamp | grep -c '^sfd: listening on') -eq 2 ]"
	unstamp | grep -qx "sfd: listening on $T/a.sock"
	unstamp | grep -qx "sfd: listening on $T/b.sock"
	spawn cat "$SFCAT" -s "$T/a.sock" -n 1
	wait_subscribers 1
	echo across | publish -s "$T/b.sock"
	assert_exit cat 0
	assert_eq across "$(cat "$T/cat.out")"
	stop_sfd
	[ ! -e "$T/a.sock" ]
	[ ! -e "$T/b.sock" ]
}

@test "shutdown is bounded by --grace even with a stopped subscriber" {
	start_sfd --grace 1
	spawn slow "$SFCAT"
	spawn ok "$SFCAT"
	wait_subscribers 2
	kill -STOP "$slow_pid"
	# About 1.2 MB, more than the stopped one's socket takes: its
	# goodbye cannot get through.
	sfraw lines data 1 20000 >"$T/in"
	publish <"$T/in"
	wait_until 10 "[ \$(wc -l <'$T/ok.out') -eq 20000 ]"
	t0=$(now_ms)
	kill -TERM "$SFD_PID"
	assert_exit sfd 0 10
	t1=$(now_ms)
	echo "sfd took $((t1 - t0)) ms"
	[ $((t1 - t0)) -le $(($(secs 4) * 1000)) ]
	[ ! -e "$SOCK" ]
	grep "pid=$slow_pid " "$LOG" | grep -q 'closed: goodbye not taken within --grace'
	assert_exit ok 5
	assert_eq "sfcat: sfd shut down; next seq 20000" "$(cat "$T/ok.err")"
	# Closed without its goodbye, it reads what it had, then the end.
	kill -CONT "$slow_pid"
	assert_exit slow 5
	assert_eq "sfcat: lost connection to $SOCK" "$(cat "$T/slow.err")"
	head -c "$(wc -c <"$T/slow.out")" "$T/in" | cmp - "$T/slow.out"
}

# rss_kb PID: the resident set of PID, in KiB.
rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

@test "a stream that holds one record costs under 1 MiB of resident memory" {
	start_sfd
	echo warm | publish w
	before=$(rss_kb "$SFD_PID")
	echo one | publish idle
	after=$(rss_kb "$SFD_PID")
	echo "# $((after - before)) KiB for a stream of one record" >&3
	[ $((after - before)) -lt 1024 ] ||
	    fail "the stream took $((after - before)) KiB"
}

@test "a subscriber killed mid-stream disturbs neither the daemon nor the others" {
	start_sfd
	sfraw lines data 1 20000 >"$T/in"
	spawn ok "$SFCAT" -n 20000
	spawn victim "$SFCAT"
	wait_subscribers 2
	spawn -i "$T/in" pub sh -c 'python3 "$1" pace 16384 0.01 | "$2"' sh "$RAWPY" "$SFPIPE"
	wait_until 10 "[ -s '$T/victim.out' ]"
	kill -KILL "$victim_pid"
	assert_exit pub 0 30
	assert_exit ok 0 30
	assert_file_eq "$T/in" "$T/ok.out"
	stop_sfd
}

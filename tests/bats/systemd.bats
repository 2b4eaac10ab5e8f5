#!/usr/bin/env bats
# Under a service manager: sockets passed at start, readiness
# notifications, and log levels for the journal.

load helpers

ACTIVATE=$BATS_TEST_DIRNAME/activate.py

# activated RUNS: sfd -v run RUNS times by the test's activator on T/sf.sock
# (and a plain TCP socket for stream s); waits for the first to listen.
activated() {
	spawn act python3 "$ACTIVATE" "$SOCK" "$1" "$SFD" -v
	ln -sf act.err "$LOG"
	wait_until 10 "[ \$(unstamp | grep -c '^sfd: listening on') -ge 2 ]"
	export SF_SERVER=$SOCK
}

# sfd_run_pid: the pid of the activator's current run of sfd.
sfd_run_pid() {
	cat "$SOCK.pid"
}

@test "passed sockets are adopted: the Unix one speaks the protocol, the one named plain-s serves bare frames; the socket file stays" {
	activated 1
	unstamp | grep -qx "sfd: listening on $SOCK (passed by the service manager)"
	port=$(cat "$SOCK.port")
	unstamp | grep -qx "sfd: listening on tcp:127.0.0.1:$port (plain: frames of stream s)"
	spawn cat "$SFCAT" -n 2 s
	spawn plain python3 "$BATS_TEST_DIRNAME/streamclient.py" "127.0.0.1:$port"
	wait_subscribers 2
	printf 'a\nb\n' | publish s
	assert_exit cat 0
	wait_until 10 "[ \$(wc -l <'$T/plain.out') -eq 2 ]"
	assert_eq "$(printf 'a\nb')" "$(cat "$T/cat.out")"
	assert_eq "$(printf 'a\nb')" "$(cat "$T/plain.out")"
	kill -TERM "$(sfd_run_pid)"
	assert_exit act 0
	# Not ours to remove: the manager's socket file is left in place.
	[ -S "$SOCK" ]
}

@test "the passed socket outlives a restart of sfd: a client connecting meanwhile is served by the next run" {
	activated 2
	first=$(sfd_run_pid)
	kill -TERM "$first"
	# Whether or not the next run is up yet, the connection waits in the
	# activator's socket: never refused.
	spawn cat "$SFCAT" -n 1 s
	wait_until 10 "[ -s '$SOCK.pid' ] && [ \$(cat '$SOCK.pid') != $first ]"
	wait_until 10 "grep -q 'subscribed to s' '$LOG'"
	printf 'x\n' | publish s
	assert_exit cat 0
	assert_eq x "$(cat "$T/cat.out")"
	[ ! -s "$T/cat.err" ] || fail "sfcat: $(cat "$T/cat.err")"
	kill -TERM "$(sfd_run_pid)"
	assert_exit act 0
}

@test "under systemd-socket-activate: sfd starts on the first connection, serves it on the passed socket and leaves the socket file" {
	command -v systemd-socket-activate >/dev/null ||
	    skip "systemd-socket-activate is not installed (it comes with systemd)"
	# It listens, then on the first connection execs sfd in its place:
	# the same pid, the socket as fd 3, LISTEN_FDNAMES=main.
	spawn act systemd-socket-activate -l "$SOCK" --fdname=main "$SFD" -v
	ln -sf act.err "$LOG"
	wait_until 10 "grep -qF 'Listening on $SOCK' '$LOG'"
	assert_no_match 'sfd: ' "$LOG"
	spawn cat "$SFCAT" -s "$SOCK" -n 1 s
	wait_subscribers 1
	unstamp | grep -qx "sfd: listening on $SOCK (passed by the service manager)"
	printf 'x\n' | publish -s "$SOCK" s
	assert_exit cat 0
	assert_eq x "$(cat "$T/cat.out")"
	assert_eq "" "$(cat "$T/cat.err")"
	kill -TERM "$act_pid"
	assert_exit act 0
	unstamp | grep -qx 'sfd: exit'
	# Not ours to remove: the activator's socket file is left in place.
	[ -S "$SOCK" ]
}

@test "readiness: READY=1 once listening, a STATUS= each --stats-interval, then STOPPING=1 at shutdown, on NOTIFY_SOCKET" {
	spawn notify python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[1] + ".up", "w").close()
while True:
    m = s.recv(4096).decode()
    with open(sys.argv[2], "a") as f:
        f.write(m + "\n--\n")' "$T/notify.sock" "$T/notes"
	wait_until 10 "[ -e '$T/notify.sock.up' ]"
	NOTIFY_SOCKET=$T/notify.sock start_sfd --stats-interval 1
	wait_until 10 "grep -q 'STATUS=0 clients, 0 streams' '$T/notes'"
	stop_sfd
	wait_until 10 "grep -q STOPPING=1 '$T/notes'"
	# Between the first and the last, only status lines, however many.
	sed -n '4,$p' "$T/notes" | head -n -3 | sort -u | tr '\n' '|' >"$T/mid"
	assert_eq "--|STATUS=0 clients, 0 streams|" "$(cat "$T/mid")"
	head -n 3 "$T/notes" | cmp - <(printf '%s\n' READY=1 "STATUS=listening on 1 address" --)
	tail -n 3 "$T/notes" | cmp - <(printf '%s\n' STOPPING=1 "STATUS=shutting down" --)
}

@test "with stderr on the journal, each log line carries its level; a redirected stderr gets none" {
	: >"$T/journal.log"
	stream=$(stat -c '%d:%i' "$T/journal.log")
	# JOURNAL_STREAM names the file that stderr is.
	spawn j env JOURNAL_STREAM="$stream" sh -c 'exec "$1" -v -l "$2" 2>>"$3"' \
	    sh "$SFD" "$SOCK" "$T/journal.log"
	wait_until 10 "grep -q 'listening on' '$T/journal.log'"
	printf 'x\n' | SF_SERVER=$SOCK publish
	wait_until 10 "grep -q disconnected '$T/journal.log'"
	kill -TERM "$j_pid"
	assert_exit j 0
	grep -qx "<5>sfd: listening on $SOCK" "$T/journal.log"
	grep -Eqx '<7>sfd: #1 pid=[0-9]+ uid=[0-9]+ gid=[0-9]+: publishing to default at seq 0' "$T/journal.log"
	grep -qx '<6>sfd: shutting down' "$T/journal.log"
	# Every line has a level.
	assert_no_match '^[^<]' "$T/journal.log"
	# JOURNAL_STREAM naming another file: plain lines.
	spawn k env JOURNAL_STREAM=1:1 "$SFD" -l "$T/k.sock"
	wait_until 10 "grep -q 'listening on' '$T/k.err'"
	kill -TERM "$k_pid"
	assert_exit k 0
	assert_eq "sfd: listening on $T/k.sock" "$(head -n 1 "$T/k.err")"
}

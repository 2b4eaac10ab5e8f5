#!/usr/bin/env bats
# The daemon against its surroundings: a hang-up, a log nobody reads.

load helpers

@test "SIGHUP shuts down like SIGTERM: subscribers get the goodbye, sfd exits 0 and removes its socket" {
	start_sfd
	spawn cat "$SFCAT"
	wait_subscribers 1
	printf 'a\nb\nc\n' | publish
	wait_until 10 "[ \$(wc -l <'$T/cat.out') -eq 3 ]"
	kill -HUP "$SFD_PID"
	assert_exit sfd 0
	assert_exit cat 5
	assert_eq "sfcat: sfd shut down; next seq 3" "$(cat "$T/cat.err")"
	assert_eq "$(printf 'a\nb\nc')" "$(cat "$T/cat.out")"
	unstamp | grep -qx 'sfd: shutting down'
	unstamp | grep -qx 'sfd: exit'
	[ ! -e "$SOCK" ]
}

@test "a log pipe nobody reads never stops the daemon; the lines dropped are counted once it drains" {
	mkfifo "$T/log.fifo"
	# Holds the pipe open for reading, and never reads.
	spawn hold sh -c 'exec sleep 600 <"$1"' sh "$T/log.fifo"
	spawn sfd sh -c 'exec "$1" -v -l "$2" 2>"$3"' sh "$SFD" "$SOCK" \
	    "$T/log.fifo"
	SFD_PID=$sfd_pid
	wait_until 10 "[ -S '$SOCK' ]"
	# 3,000 clients, each logged three times by -v: far more than the
	# 64 KiB the pipe and the daemon's own backlog hold.  Each must be
	# answered at once.
	sfrun python3 -c '
import socket, struct, sys
hello = b"SUB 1 stream=s"
for i in range(3000):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    s.sendall(struct.pack(">I", len(hello) | 0x80000000) + hello)
    if not s.recv(4).startswith(b"\x80"):
        sys.exit("no answer")
    s.close()
print("answered")' "$SOCK"
	[ "$status" -eq 0 ] || fail "$output $stderr"
	assert_eq answered "$output"
	# It still serves, with its log still unread.
	printf 'a\nb\nc\n' | publish -s "$SOCK" s2
	spawn cat "$SFCAT" -s "$SOCK" --from oldest -n 3 s2
	assert_exit cat 0
	assert_eq "$(printf 'a\nb\nc')" "$(cat "$T/cat.out")"
	# Read the log now: after the lines that fitted, the count of those
	# that did not.
	spawn drain cat "$T/log.fifo"
	kill -TERM "$hold_pid"
	wait_until 10 "grep -q 'log lines dropped' '$T/drain.out'"
	line=$(grep 'log lines dropped' "$T/drain.out")
	# Time-stamped like every line of -v.
	[[ $line =~ ^${STAMP_RE}sfd:\ ([0-9]+)\ log\ lines\ dropped:\ standard\ error\ was\ not\ being\ read$ ]] ||
		fail "$line"
	[ "${BASH_REMATCH[1]}" -gt 1000 ]
	kill -TERM "$SFD_PID"
	assert_exit sfd 0
}

@test "a client connecting while sfd stops finds a listening socket or none, never one that refuses it" {
	# At shutdown the name goes before the socket.  (At start there is
	# a moment, between bind(2) and listen(2), where the path names a
	# socket that refuses clients: it is bound at the path clients use,
	# see unix_listen() in lib/addr.c, and the test below.)
	for i in $(seq 20); do
		start_sfd
		rm -f "$T/probe.ready"
		# Connects as fast as it can, from the first connection taken
		# to the first finding no socket, and counts refusals.
		spawn probe python3 -c '
import errno, socket, sys
refused = 0
seen = False
while True:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sys.argv[1])
        if not seen:
            open(sys.argv[2], "w").write("1")
        seen = True
    except OSError as e:
        if e.errno == errno.ECONNREFUSED and seen:
            refused += 1
        elif e.errno == errno.ENOENT and seen:
            break
    s.close()
print("refused", refused)' "$SOCK" "$T/probe.ready"
		wait_until 10 "[ -s '$T/probe.ready' ]"
		stop_sfd
		assert_exit probe 0
		assert_eq "refused 0" "$(cat "$T/probe.out")"
	done
}

@test "a client connecting while sfd replaces a leftover socket is refused until it listens, never after" {
	# The leftover refuses; so, for an instant, does the new socket
	# between bind(2) and listen(2).  Once a client has connected, the
	# path names a listening socket for good: the probe counts what
	# fails after its first connection, for 200 connections.
	for i in $(seq 20); do
		start_sfd
		kill -KILL "$SFD_PID"
		wait_exit sfd
		[ -S "$SOCK" ]
		spawn probe python3 -c '
import socket, sys
connected = failed = 0
while connected < 200:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sys.argv[1])
        connected += 1
    except OSError:
        if connected:
            failed += 1
    s.close()
print("failed after connecting", failed)' "$SOCK"
		start_sfd
		assert_exit probe 0
		assert_eq "failed after connecting 0" "$(cat "$T/probe.out")"
		stop_sfd
	done
}

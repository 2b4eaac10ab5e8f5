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

@test "a client connecting while sfd starts finds no socket or a listening one, never one that refuses it" {
	# Connects as fast as it can until told to stop, and counts refusals.
	spawn probe python3 -c '
import errno, os, socket, sys
refused = 0
while not os.path.exists(sys.argv[2]):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sys.argv[1])
    except OSError as e:
        if e.errno == errno.ECONNREFUSED:
            refused += 1
    s.close()
print("refused", refused)' "$SOCK" "$T/stop"
	for i in $(seq 20); do
		start_sfd
		stop_sfd
	done
	touch "$T/stop"
	assert_exit probe 0
	assert_eq "refused 0" "$(cat "$T/probe.out")"
}

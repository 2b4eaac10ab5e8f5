#!/bin/sh
# examples/private-daemon.sh - run one command with a daemon of its own.
#
#     sh examples/private-daemon.sh COMMAND [ARG]...
#
# Starts sfd on a socket in a new temporary folder, waits (at most 5 s)
# until it prints "listening on", runs COMMAND with SF_SERVER pointing at
# that socket, then stops the daemon with SIGTERM and removes the folder.
# Exits with COMMAND's status.  The daemon's log is shown on standard
# error if it did not start.  For example:
#
#     sh examples/private-daemon.sh sh -c '
#         sfcat -n 3 & sleep 1
#         printf "a\nb\nc\n" | sfpipe
#         wait'
#
# This is the pattern for scripts and tests that must not touch a daemon
# that may already run at the default address.  Programs are taken from
# the source tree when built there, else from PATH.

set -u

if [ $# -lt 1 ]; then
	echo "usage: sh examples/private-daemon.sh COMMAND [ARG]..." >&2
	exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$root/cmd/sfcat/sfcat" ] &&
    PATH=$root/cmd/sfd:$root/cmd/sfpipe:$root/cmd/sfcat:$PATH
export PATH

tmp=$(mktemp -d) || exit 1
SF_SERVER=$tmp/sf.sock
export SF_SERVER
sfd_pid=
cmd_pid=
# shellcheck disable=SC2317 # called by the traps
cleanup() {
	[ -z "$cmd_pid" ] || kill -TERM "$cmd_pid" 2>/dev/null
	if [ -n "$sfd_pid" ]; then
		kill -TERM "$sfd_pid" 2>/dev/null
		wait "$sfd_pid"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sfd -q 2>"$tmp/sfd.log" &
sfd_pid=$!

# Wait for the daemon's readiness line, 5 s at most.
n=50
until grep -q 'listening on' "$tmp/sfd.log" 2>/dev/null; do
	n=$((n - 1))
	if [ "$n" -le 0 ] || ! kill -0 "$sfd_pid" 2>/dev/null; then
		echo "private-daemon: sfd did not start:" >&2
		cat "$tmp/sfd.log" >&2
		exit 1
	fi
	sleep 0.1
done

# COMMAND is waited for rather than run in the foreground, so that a
# signal to this script stops it and the daemon at once.  Its standard
# input is handed over through fd 3: a background command would otherwise
# read /dev/null.
exec 3<&0
"$@" <&3 3<&- &
cmd_pid=$!
wait "$cmd_pid"
rc=$?
cmd_pid=
exit "$rc"

#!/bin/sh
# examples/tail-to-many.sh - one growing log file, several consumers.
#
#     sh examples/tail-to-many.sh FILE [STREAM]
#
# Publishes every line appended to FILE (tail -F, so rotation is followed)
# to STREAM (default "logs") on the daemon at the default address
# ($SF_SERVER, else $XDG_RUNTIME_DIR/streamfan.sock, else
# /tmp/streamfan-UID.sock), and starts three independent consumers:
#
#   errors   lines that mention "error" (any case), appended to errors.log
#   copy     every line, appended to copy.log; if it is ever evicted for
#            lagging it notes the gap and joins again
#   live     every line on the terminal
#
# The files are written in the current folder.  Start a daemon first
# (`sfd &`).  Ctrl-C stops everything this script started.  Programs are
# taken from the source tree when built there, else from PATH.

set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: sh examples/tail-to-many.sh FILE [STREAM]" >&2
	exit 2
fi
file=$1
stream=${2:-logs}

root=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$root/cmd/sfcat/sfcat" ] &&
    PATH=$root/cmd/sfd:$root/cmd/sfpipe:$root/cmd/sfcat:$PATH

# Every process started here is remembered in pids and stopped at exit.
# Pipelines go through named pipes so that each side has a known pid.
tmp=$(mktemp -d) || exit 1
mkfifo "$tmp/tail" "$tmp/errors" || exit 1
pids=
cleanup() {
	# shellcheck disable=SC2086 # one word per pid
	kill $pids 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The publisher: only lines written from now on (-n 0).
tail -n 0 -F "$file" >"$tmp/tail" &
pids="$pids $!"
sfpipe "$stream" <"$tmp/tail" &
pids="$pids $!"

# errors: grep flushes each line, so errors.log is always current.
sfcat "$stream" >"$tmp/errors" &
pids="$pids $!"
grep -i --line-buffered error <"$tmp/errors" >>errors.log &
pids="$pids $!"

# copy: exit status 4 means evicted; sfcat has already said which record
# was the first it missed, so the copy has a known gap.  Join again.
(
	cpid=
	trap 'kill $cpid 2>/dev/null; exit 143' TERM
	while :; do
		sfcat "$stream" >>copy.log &
		cpid=$!
		wait "$cpid"
		st=$?
		[ "$st" -eq 4 ] || exit "$st"
		echo "copy: evicted; rejoining (copy.log has a gap)" >&2
		sleep 1
	done
) &
pids="$pids $!"

# live: on the terminal, until Ctrl-C or until the daemon goes away.
# (Waited for rather than run in the foreground, so that a signal to
# this script stops everything at once.)
sfcat "$stream" &
live=$!
pids="$pids $live"
wait "$live"

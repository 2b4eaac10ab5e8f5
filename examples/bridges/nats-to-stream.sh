#!/bin/sh
# examples/bridges/nats-to-stream.sh - publish each message on a NATS
# subject as one record of a streamfan stream.
#
#     sh examples/bridges/nats-to-stream.sh SUBJECT STREAM
#
# Environment:
#   NATS_HOST   NATS server host (default 127.0.0.1)
#   NATS_PORT   NATS server port (default 4222)
#   SF_SERVER   the daemon's address, as for sfpipe
#
#     python3 nats-frames.py sub SUBJECT | sfpipe --raw --retry STREAM
#
# nats-frames.py is beside this script (Python 3, standard library).
#
# Records: any bytes.  Each message becomes one record byte for byte,
# newlines and NUL bytes included (frames, not lines, cross the pipe).
#
# Guarantee: at most once, as core NATS gives.  While subscribed nothing
# is lost or repeated; sfpipe --retry waits for a daemon that is away.
# The server keeps nothing for a subscriber: what is published while the
# bridge is not subscribed (not started yet, or the server away; it tries
# again every second, and says on stderr when the server went away and
# when it is subscribed again) is lost, and so is what the server drops
# for a subscriber too slow for it (a slow consumer, in the server's log).
# Programs are taken from the source tree when built there, else from PATH.

set -u
if [ $# -ne 2 ]; then
	echo "usage: sh examples/bridges/nats-to-stream.sh SUBJECT STREAM" >&2
	exit 2
fi
subject=$1 stream=$2

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -x "$root/cmd/sfpipe/sfpipe" ] && PATH=$root/cmd/sfpipe:$PATH

# Stopped, end the subscription: what came before it still reaches the
# stream, then sfpipe ends its session and all ends.
sub_pid=
stop() {
	trap - TERM INT
	[ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null
	wait
	exit "$1"
}
trap 'stop 143' TERM
trap 'stop 130' INT

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkfifo "$tmp/frames" || exit 1
python3 "$here/nats-frames.py" sub "$subject" >"$tmp/frames" &
sub_pid=$!
sfpipe --raw --retry "$stream" <"$tmp/frames" &
wait $!

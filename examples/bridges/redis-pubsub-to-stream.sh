#!/bin/sh
# examples/bridges/redis-pubsub-to-stream.sh - publish each message of a
# Redis pub/sub channel as one record of a streamfan stream.
#
#     sh examples/bridges/redis-pubsub-to-stream.sh CHANNEL STREAM
#
# Environment:
#   REDIS_HOST  Redis host (default 127.0.0.1)
#   REDIS_PORT  Redis port (default 6379)
#   SF_SERVER   the daemon's address, as for sfpipe
#
#     redis-cli --raw SUBSCRIBE CHANNEL | awk (one message, one line) |
#         sfpipe --retry STREAM
#
# Records: lines.  Each message becomes one record, its bytes unchanged,
# binary ones too, as long as it holds no newline; an empty message is an
# empty record.  A message holding a newline cannot be told from several
# in what redis-cli prints, and would garble the ones after it: do not
# bridge such a channel.
#
# Guarantee: at most once, as Redis pub/sub gives.  While the bridge is
# subscribed nothing is lost or repeated; sfpipe --retry waits for a
# daemon that is away, holding what came meanwhile.  Redis keeps nothing
# for a subscriber: what is published while the bridge is not subscribed
# (not started yet, restarting, or reconnecting to a Redis that went away,
# which it does every second, saying so on stderr) is lost, and so is
# what Redis drops when the bridge reads too slowly (Redis then closes
# the connection: client-output-buffer-limit pubsub, 32 MB at its
# defaults); each such loss is reported on stderr as the connection
# ending.  For a feed that must not lose records, use Redis Streams and
# redis-streams-to-stream.sh.
# Programs are taken from the source tree when built there, else from PATH.

set -u
if [ $# -ne 2 ]; then
	echo "usage: sh examples/bridges/redis-pubsub-to-stream.sh CHANNEL STREAM" >&2
	exit 2
fi
channel=$1 stream=$2
host=${REDIS_HOST:-127.0.0.1} port=${REDIS_PORT:-6379}
me=redis-pubsub-to-stream

root=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$root/cmd/sfpipe/sfpipe" ] && PATH=$root/cmd/sfpipe:$PATH
# mawk reads a pipe a buffer at a time unless told it is interactive.
AWK_LIVE=
awk -W version 2>/dev/null | grep -q mawk && AWK_LIVE="-W interactive"

export LC_ALL=C     # bytes, not characters

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# Stopped, end the subscription: what came before it still reaches the
# stream, then sfpipe ends its session and all ends.
stop() {
	trap - TERM INT
	: >"$tmp/stop"
	[ -s "$tmp/cli.pid" ] && kill "$(cat "$tmp/cli.pid")" 2>/dev/null
	wait
	exit "$1"
}
trap 'stop 143' TERM
trap 'stop 130' INT

subscribe() {
	while [ ! -e "$tmp/stop" ]; do
		redis-cli -h "$host" -p "$port" --raw SUBSCRIBE "$channel" &
		echo $! >"$tmp/cli.pid"
		wait $!
		[ -e "$tmp/stop" ] && break
		echo "$me: redis $host:$port: subscription to $channel" \
		    "ended; what is published until it is back is lost;" \
		    "retrying" >&2
		sleep 1
	done
}

# redis-cli --raw prints each reply as three lines: its kind, the
# channel, then the message (or the count of channels subscribed).
# shellcheck disable=SC2086
subscribe | awk $AWK_LIVE '
	{ kind = $0; getline; getline }
	kind == "message" { print; fflush() }' |
    sfpipe --retry "$stream" &
wait $!

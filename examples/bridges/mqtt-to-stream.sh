#!/bin/sh
# examples/bridges/mqtt-to-stream.sh - publish the messages of an MQTT
# topic to a streamfan stream, through a persistent QoS 1 session.
#
#     sh examples/bridges/mqtt-to-stream.sh TOPIC STREAM
#
# Environment:
#   MQTT_HOST   broker host (default 127.0.0.1)
#   MQTT_PORT   broker port (default 1883)
#   CLIENT_ID   the session's client id, the same on every start (default
#               sf-STREAM)
#   SF_SERVER   the daemon's address, as for sfpipe
#
#     mosquitto_sub -c -i CLIENT_ID -q 1 -t TOPIC -F '%l %p' |
#         awk (check each message whole) | sfpipe --retry STREAM
#
# The broker keeps the session (-c) while the bridge is away, so messages
# published meanwhile are delivered when it comes back, as far as the
# broker queues them: mosquitto's max_queued_messages is 1000 by default,
# and beyond it messages are dropped; set it (0: no limit) for a bridge
# that may be away for long.
#
# Records: lines.  Each message is one record, bytes unchanged; a message
# holding a newline is refused (a line on standard error gives its
# length; it is not published), and a message cut short by the end of
# mosquitto_sub is dropped, never published in part.  NUL bytes are not
# supported.
#
# Guarantee: at least once for what the broker delivered, except one
# window.  mosquitto_sub acknowledges each message (PUBACK) before it
# prints it, and sfpipe says nothing of what it handed on, so what the
# bridge held when it ended is the broker's no more: stopped with SIGTERM
# or SIGINT, the bridge stops mosquitto_sub and lets the rest drain into
# the stream, losing at most the one message mosquitto_sub was printing;
# killed with SIGKILL, it loses what was in its pipes (up to about 64 KiB
# each, and what sfpipe held).  Repeats: messages the broker sent again
# after a reconnection because their PUBACK had not reached it, at most
# its max_inflight_messages (20 by default).  A broker killed with SIGKILL
# loses what it queued since its last save (see stream-to-mqtt.sh).
# Known problem: in tests/bats/bridges.bats, after the bridge is stopped
# and started again, or the broker restarted, records can stop reaching
# the stream before the end; not yet diagnosed, so that test is skipped.
# Programs are taken from the source tree when built there, else from PATH.

set -u
if [ $# -ne 2 ]; then
	echo "usage: sh examples/bridges/mqtt-to-stream.sh TOPIC STREAM" >&2
	exit 2
fi
topic=$1 stream=$2
host=${MQTT_HOST:-127.0.0.1} port=${MQTT_PORT:-1883}
id=${CLIENT_ID:-sf-$stream}
me=mqtt-to-stream

root=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$root/cmd/sfpipe/sfpipe" ] && PATH=$root/cmd/sfpipe:$PATH
export LC_ALL=C     # awk counts bytes, not characters
# mawk reads a pipe a buffer at a time unless told it is interactive.
AWK_LIVE=
awk -W version 2>/dev/null | grep -q mawk && AWK_LIVE="-W interactive"

tmp=$(mktemp -d) || exit 1
sub_pid=
stopping=
# Stopped: end mosquitto_sub; what it printed drains into the stream.
stop() {
	stopping=$1
	[ -n "$sub_pid" ] && kill "$sub_pid" 2>/dev/null
}
trap 'rm -rf "$tmp"' EXIT
trap 'stop 143' TERM
trap 'stop 130' INT

mkfifo "$tmp/p1" "$tmp/p2" || exit 1
sfpipe --retry "$stream" <"$tmp/p2" &
pipe_pid=$!
# shellcheck disable=SC2086
awk $AWK_LIVE -v me="$me" '
{
	# "LEN PAYLOAD": a payload shorter than LEN went on over newlines.
	sp = index($0, " ")
	len = substr($0, 1, sp - 1) + 0
	p = substr($0, sp + 1)
	if (length(p) == len) {
		print p
		fflush()
		next
	}
	while (length(p) < len && (getline more) > 0)
		p = p "\n" more
	if (length(p) == len)
		printf "%s: a message of %d bytes holds a newline; not published\n", me, len >"/dev/stderr"
	else
		printf "%s: a message of %d bytes was cut short; not published\n", me, len >"/dev/stderr"
}' <"$tmp/p1" >"$tmp/p2" &
exec 3>"$tmp/p1"
while [ -z "$stopping" ]; do
	mosquitto_sub -h "$host" -p "$port" -t "$topic" -q 1 -c -i "$id" \
	    -F '%l %p' >&3 &
	sub_pid=$!
	wait "$sub_pid"
	# wait returns early for a trap; the signal was passed on.
	[ -n "$stopping" ] && break
	echo "$me: mosquitto_sub ended; connecting again" >&2
	sleep 1
done
wait "$sub_pid" 2>/dev/null
exec 3>&-
wait "$pipe_pid"
rc=$?
wait
[ "$rc" -eq 0 ] || exit "$rc"
exit "$stopping"

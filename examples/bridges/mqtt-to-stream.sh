#!/bin/sh
# examples/bridges/mqtt-to-stream.sh - publish each message of an MQTT
# topic as one record of a streamfan stream, kept by the broker for the
# bridge while it is away.
#
#     sh examples/bridges/mqtt-to-stream.sh TOPIC STREAM
#
# Environment:
#   MQTT_HOST   broker host (default 127.0.0.1)
#   MQTT_PORT   broker port (default 1883)
#   MQTT_QOS    1 or 2 (default 1)
#   CLIENT_ID   the MQTT client id, which names the broker's session for
#               the bridge: keep it the same across restarts (default
#               streamfan-STREAM)
#   RECORDS     lines (default) or frames: see Records
#   SF_SERVER   the daemon's address, as for sfpipe
#
#     mosquitto_sub -t TOPIC -q 1 -c -i CLIENT_ID -F %p | sfpipe --retry STREAM
#
# -c asks for a persistent session: the broker keeps the subscription and
# queues the topic's messages for the bridge while it is not connected
# (stopped, restarting, or the broker itself restarting), and hands them
# over when it is back.  mosquitto_sub reconnects by itself; when it
# cannot connect at all it ends, and the bridge says so on stderr and
# tries again every second.
#
# Records: with RECORDS=lines each message becomes one line: its bytes
# unchanged, NUL bytes included, and an empty message an empty record.  A
# message holding a newline becomes one record per line.  With
# RECORDS=frames each message becomes one frame, byte for byte, newlines
# included (mosquitto_sub prints each message's length, and a converter
# in Python 3 makes frames of them for sfpipe --raw).  A message longer
# than sfpipe's --max-frame (1 MiB) is skipped, and sfpipe says so on
# stderr.
#
# Guarantee: no gap while both sides keep their state.  The broker queues
# for the session what is published while the bridge is away, and
# mosquitto_sub acknowledges a message as it takes it.  Stopped with
# SIGTERM or SIGINT, the bridge ends the subscription and sfpipe publishes
# every record it had taken before ending: nothing is lost or repeated
# but, when the signal lands between the acknowledgement and the write,
# the one message in hand.  Killed with SIGKILL, what mosquitto_sub had
# acknowledged but sfpipe had not yet published (the pipe between them,
# at most 64 KiB, and what sfpipe held) is lost: the broker will not send
# it again.  Nothing is repeated.  The broker's part: it must keep the
# session (its persistent_client_expiration must not pass while the
# bridge is away) and queue enough (max_queued_messages is 1000 at
# mosquitto's defaults: past it, mosquitto drops messages for the
# session, and counts them in $SYS/broker/publish/messages/dropped); it
# writes sessions and queues to disk only at exit and each
# autosave_interval, so a broker killed with SIGKILL loses what it had not
# saved.  sfpipe --retry waits for a daemon that is away, holding what
# came meanwhile.  If sfpipe ends on its own (the daemon refused the
# stream), the bridge stops the subscription and exits with sfpipe's
# status, so that what is unacknowledged stays with the broker.
# Programs are taken from the source tree when built there, else from PATH.

set -u
if [ $# -ne 2 ]; then
	echo "usage: sh examples/bridges/mqtt-to-stream.sh TOPIC STREAM" >&2
	exit 2
fi
topic=$1 stream=$2
host=${MQTT_HOST:-127.0.0.1} port=${MQTT_PORT:-1883} qos=${MQTT_QOS:-1}
id=${CLIENT_ID:-streamfan-$stream} records=${RECORDS:-lines}
me=mqtt-to-stream
case $records in
lines | frames) ;;
*)
	echo "$me: RECORDS must be lines or frames, not '$records'" >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$root/cmd/sfpipe/sfpipe" ] && PATH=$root/cmd/sfpipe:$PATH

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# Stopped: end the subscription; what mosquitto_sub printed before still
# reaches the stream, then sfpipe ends its session and all ends.
stop() {
	trap - TERM INT
	: >"$tmp/stop"
	[ -s "$tmp/sub.pid" ] && kill "$(cat "$tmp/sub.pid")" 2>/dev/null
	wait
	exit "$1"
}
trap 'stop 143' TERM
trap 'stop 130' INT

subscribe() {
	set -- -h "$host" -p "$port" -t "$topic" -q "$qos" -c -i "$id"
	# -F: mosquitto_sub's default format leaves empty messages out.
	if [ "$records" = frames ]; then
		set -- "$@" -N -F '%l %p'
	else
		set -- "$@" -F '%p'
	fi
	while [ ! -e "$tmp/stop" ]; do
		mosquitto_sub "$@" &
		echo $! >"$tmp/sub.pid"
		wait $!
		status=$?
		[ -e "$tmp/stop" ] && break
		echo "$me: mqtt $host:$port: mosquitto_sub ended (status" \
		    "$status); the session keeps what is published meanwhile;" \
		    "retrying" >&2
		sleep 1
	done
}

# frames: "LENGTH PAYLOAD" as mosquitto_sub -N -F '%l %p' prints each
# message, made a 4-byte big-endian length and the payload.
frames() {
	python3 -c 'import os, struct, sys
out, buf = sys.stdout.buffer, b""
while True:
    chunk = os.read(0, 1 << 16)
    if not chunk:
        break
    buf += chunk
    at, done = 0, []
    while True:
        sp = buf.find(b" ", at)
        if sp < 0:
            break
        end = sp + 1 + int(buf[at:sp])
        if end > len(buf):
            break
        done.append(struct.pack(">I", end - sp - 1) + buf[sp + 1:end])
        at = end
    buf = buf[at:]
    out.write(b"".join(done))
    out.flush()'
}

mkfifo "$tmp/messages" || exit 1
subscribe >"$tmp/messages" &
if [ "$records" = frames ]; then
	frames <"$tmp/messages" | sfpipe --raw --retry "$stream" &
else
	sfpipe --retry "$stream" <"$tmp/messages" &
fi
pipe_pid=$!
wait $pipe_pid
status=$?
# sfpipe ended on its own: take nothing more from the broker.
echo "$me: sfpipe ended (status $status); unsubscribing" >&2
stop "$status"

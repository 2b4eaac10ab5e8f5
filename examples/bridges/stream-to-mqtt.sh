#!/bin/sh
# examples/bridges/stream-to-mqtt.sh - publish each record of a streamfan
# stream to an MQTT topic, at least once, resuming from a state file.
#
#     sh examples/bridges/stream-to-mqtt.sh STREAM TOPIC
#
# Environment:
#   MQTT_HOST   broker host (default 127.0.0.1)
#   MQTT_PORT   broker port (default 1883)
#   MQTT_QOS    1 or 2 (default 1)
#   STATE       the state file, as for sfcat --state (default
#               STREAM.mqtt.state)
#   FROM        where to start when STATE does not exist, as for sfcat
#               --from (default now)
#   BATCH       most records in one batch, 1 to 65535 (default 1000)
#   SF_SERVER   the daemon's address, as for sfcat
#
# Works in batches: up to BATCH records, or what came within a second,
# taken with `sfcat --state` into a file, then
#
#     mosquitto_pub -l -t TOPIC -q 1 < batch
#
# and only when mosquitto_pub exits 0, every message acknowledged, does
# STATE move past the batch.  A failed batch is sent again.
#
# Records: lines.  mosquitto_pub -l sends each line as one message, with
# these limits of its own: an empty record is not sent at all, and a
# record is cut at its first NUL byte.  A record holding a newline (from
# sfpipe -0 or --raw) would become several messages: do not bridge such a
# stream.
#
# Guarantee: at least once, as far as the broker keeps what it
# acknowledged.  No record is skipped: STATE only moves past a batch the
# broker took whole.  Repeats: after the bridge is killed (SIGKILL
# included) or the broker goes away, the batch in hand is sent again, at
# most BATCH records.  Stopped with SIGTERM or SIGINT, the bridge finishes
# the batch in hand first, and repeats nothing.  Caveat: mosquitto_pub
# reconnects by itself when the broker goes away and still exits 0; in
# one test run of a broker stopped with SIGTERM and started again, two
# records sent then never reached the subscriber, and mosquitto_pub
# said nothing of it.  mosquitto keeps queued
# messages in memory and writes them out only at exit and each
# autosave_interval: a broker killed with SIGKILL loses what it had not
# yet delivered, whatever the bridge does.  Records must still be in the
# daemon's ring when the bridge gets to them.
# Programs are taken from the source tree when built there, else from PATH.

set -u
if [ $# -ne 2 ]; then
	echo "usage: sh examples/bridges/stream-to-mqtt.sh STREAM TOPIC" >&2
	exit 2
fi
stream=$1 topic=$2
host=${MQTT_HOST:-127.0.0.1} port=${MQTT_PORT:-1883} qos=${MQTT_QOS:-1}
state=${STATE:-$stream.mqtt.state} from=${FROM:-now} batch=${BATCH:-1000}
me=stream-to-mqtt
# mosquitto_pub's message ids wrap past 65,535 messages, and it may then
# end, with status 0, before the broker has acknowledged them all.
case $batch in
'' | *[!0-9]*) ok= ;;
*) ok=$([ "$batch" -ge 1 ] && [ "$batch" -le 65535 ] && echo y) ;;
esac
if [ -z "$ok" ]; then
	echo "$me: BATCH must be 1 to 65535 (mosquitto_pub's message ids), not '$batch'" >&2
	exit 2
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$root/cmd/sfcat/sfcat" ] && PATH=$root/cmd/sfcat:$PATH

tmp=$(mktemp -d) || exit 1
stopping=
trap 'rm -rf "$tmp"' EXIT
# A signal ends the loop once the batch in hand is sent.
trap 'stopping=143' TERM
trap 'stopping=130' INT

while [ -z "$stopping" ]; do
	# The next batch, into a copy of the state: STATE itself only moves
	# once the broker has it.
	if [ -s "$state" ]; then
		cp "$state" "$tmp/next" || exit 1
		start=
	else
		rm -f "$tmp/next"
		start="--from $from"
	fi
	# shellcheck disable=SC2086
	timeout 1 sfcat $start -n "$batch" --state "$tmp/next" "$stream" \
	    >"$tmp/batch" 2>"$tmp/sfcat.err"
	rc=$?
	case $rc in
	0|124) ;;
	*)	[ -n "$stopping" ] && break
		cat "$tmp/sfcat.err" >&2
		sleep 1
		continue ;;
	esac
	grep -v '^sfcat: stopped' "$tmp/sfcat.err" >&2
	if [ -s "$tmp/batch" ]; then
		until mosquitto_pub -h "$host" -p "$port" -t "$topic" -q "$qos" -l \
		    <"$tmp/batch"; do
			echo "$me: mosquitto_pub failed; sending the batch again" >&2
			sleep 1
		done
	fi
	[ -s "$tmp/next" ] && mv "$tmp/next" "$state"
	# No state yet means the stream had no record: from now on, what it
	# gets is new, and none of it may be missed.
	from=oldest
done
exit "$stopping"

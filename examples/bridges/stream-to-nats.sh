#!/bin/sh
# examples/bridges/stream-to-nats.sh - publish each record of a streamfan
# stream on a NATS subject, resuming from a state file.
#
#     sh examples/bridges/stream-to-nats.sh STREAM SUBJECT
#
# Environment:
#   NATS_HOST   NATS server host (default 127.0.0.1)
#   NATS_PORT   NATS server port (default 4222)
#   STATE       the state file, as for sfcat --state (default
#               STREAM.nats.state)
#   FROM        where to start when STATE does not exist, as for sfcat
#               --from (default now)
#   BATCH       most records in one batch (default 1000)
#   SF_SERVER   the daemon's address, as for sfcat
#
# Works in batches: up to BATCH records, or what came within a second,
# taken with `sfcat --raw --state` into a file, then published with
# nats-frames.py (beside this script; Python 3, standard library), which
# ends with a PING: only when the server has answered it, every message
# taken, does STATE move past the batch.  A failed batch is sent again.
#
# Records: any bytes.  Frames carry each record whole, newlines and NUL
# bytes included, and each becomes one message.  A record over the
# server's max_payload (1 MB at its defaults) stops the bridge with exit
# status 65 and a message saying so; STATE stays before it.
#
# Guarantee: the bridge publishes every record at least once: a bridge
# killed in any way (SIGKILL included), or a server that went away,
# sends the batch in hand again, at most BATCH records; stopped with
# SIGTERM or SIGINT it finishes the batch in hand and repeats nothing.
# Core NATS keeps nothing: a message reaches only the subscribers there
# when it is published.
# Programs are taken from the source tree when built there, else from PATH.

set -u
if [ $# -ne 2 ]; then
	echo "usage: sh examples/bridges/stream-to-nats.sh STREAM SUBJECT" >&2
	exit 2
fi
stream=$1 subject=$2
state=${STATE:-$stream.nats.state} from=${FROM:-now} batch=${BATCH:-1000}
me=stream-to-nats

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -x "$root/cmd/sfcat/sfcat" ] && PATH=$root/cmd/sfcat:$PATH

tmp=$(mktemp -d) || exit 1
stopping=
trap 'rm -rf "$tmp"' EXIT
# A signal ends the loop once the batch in hand is sent.
trap 'stopping=143' TERM
trap 'stopping=130' INT

while [ -z "$stopping" ]; do
	# The next batch, into a copy of the state: STATE itself only moves
	# once the server has it.
	if [ -s "$state" ]; then
		cp "$state" "$tmp/next" || exit 1
		start=
	else
		rm -f "$tmp/next"
		start="--from $from"
	fi
	# shellcheck disable=SC2086
	timeout 1 sfcat --raw $start -n "$batch" --state "$tmp/next" \
	    "$stream" >"$tmp/batch" 2>"$tmp/sfcat.err"
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
		until python3 "$here/nats-frames.py" pub "$subject" \
		    <"$tmp/batch"; do
			[ $? -eq 65 ] && exit 65
			echo "$me: sending the batch again" >&2
			sleep 1
		done
	fi
	[ -s "$tmp/next" ] && mv "$tmp/next" "$state"
	# No state yet means the stream had no record: from now on, what it
	# gets is new, and none of it may be missed.
	from=oldest
done
exit "$stopping"

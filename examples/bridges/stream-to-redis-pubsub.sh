#!/bin/sh
# examples/bridges/stream-to-redis-pubsub.sh - PUBLISH each record of a
# streamfan stream on a Redis pub/sub channel, resuming from a state file.
#
#     sh examples/bridges/stream-to-redis-pubsub.sh STREAM CHANNEL
#
# Environment:
#   REDIS_HOST  Redis host (default 127.0.0.1)
#   REDIS_PORT  Redis port (default 6379)
#   STATE       the state file, as for sfcat --state (default
#               STREAM.pubsub.state)
#   FROM        where to start when STATE does not exist, as for sfcat
#               --from (default now)
#   BATCH       most records in one batch (default 1000)
#   SF_SERVER   the daemon's address, as for sfcat
#
# Works in batches: up to BATCH records, or what came within a second,
# taken with `sfcat --state` into a file, then sent as PUBLISH commands
# with `redis-cli --pipe`; only when Redis has answered every one does
# STATE move past the batch.  A failed batch is sent again.
#
# Records: lines.  Each record's bytes go to Redis unchanged, binary ones
# too (NUL bytes included), as long as it holds no newline: true of every
# record that sfpipe publishes in its default text mode.  A record that
# holds one (published with sfpipe -0 or --raw) reaches a line-reading
# subscriber as several, so do not bridge such a stream.
#
# Guarantee: the bridge PUBLISHes every record at least once: a bridge
# killed in any way (SIGKILL included), or a Redis that went away, sends
# the batch in hand again, at most BATCH records; stopped with SIGTERM or
# SIGINT it finishes the batch in hand and repeats nothing.  But Redis
# pub/sub keeps nothing: a message reaches only the subscribers connected
# when it is published.  The bridge asks Redis how many subscribers the
# channel has before each batch, and says so on stderr when it has none
# (those records reach nobody) and when it has some again.  For a
# consumer that may be away, use stream-to-redis-streams.sh.
# Programs are taken from the source tree when built there, else from PATH.

set -u
if [ $# -ne 2 ]; then
	echo "usage: sh examples/bridges/stream-to-redis-pubsub.sh STREAM CHANNEL" >&2
	exit 2
fi
stream=$1 channel=$2
host=${REDIS_HOST:-127.0.0.1} port=${REDIS_PORT:-6379}
state=${STATE:-$stream.pubsub.state} from=${FROM:-now} batch=${BATCH:-1000}
me=stream-to-redis-pubsub

root=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$root/cmd/sfcat/sfcat" ] && PATH=$root/cmd/sfcat:$PATH
export LC_ALL=C     # awk counts bytes, not characters

tmp=$(mktemp -d) || exit 1
stopping=
trap 'rm -rf "$tmp"' EXIT
# A signal ends the loop once the batch in hand is sent.
trap 'stopping=143' TERM
trap 'stopping=130' INT

rcli() { redis-cli -h "$host" -p "$port" "$@"; }

# Send the batch; succeeds when Redis answered each command, no error.
send() {
	awk -v ch="$channel" '
	function bulk(s) { return "$" length(s) "\r\n" s "\r\n" }
	BEGIN { head = "*3\r\n" bulk("PUBLISH") bulk(ch) }
	{ printf "%s", head bulk($0) }' <"$tmp/batch" |
	    rcli --pipe >"$tmp/pipe.out" 2>&1
	grep -q "^errors: 0, replies: $(wc -l <"$tmp/batch" | tr -d ' ')\$" \
	    "$tmp/pipe.out"
}

heard=unknown    # whether the channel had a subscriber at the last batch
while [ -z "$stopping" ]; do
	# The next batch, into a copy of the state: STATE itself only moves
	# once Redis has it.
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
		n=$(rcli --raw PUBSUB NUMSUB "$channel" 2>/dev/null | sed -n 2p)
		case $n in
		0)	[ "$heard" = no ] || echo "$me: channel $channel has no" \
			    "subscriber on redis $host:$port: its records reach" \
			    "nobody" >&2
			heard=no ;;
		[1-9]*)	[ "$heard" = no ] && echo "$me: channel $channel has" \
			    "subscribers again ($n)" >&2
			heard=yes ;;
		esac
		until send; do
			echo "$me: redis $host:$port: $(grep -v '^All data\|^Waiting\|^Last reply' \
			    "$tmp/pipe.out" | head -n 1); sending the batch again" >&2
			sleep 1
		done
	fi
	[ -s "$tmp/next" ] && mv "$tmp/next" "$state"
	# No state yet means the stream had no record: from now on, what it
	# gets is new, and none of it may be missed.
	from=oldest
done
exit "$stopping"

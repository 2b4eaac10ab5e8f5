#!/bin/sh
# examples/bridges/stream-to-redis-streams.sh - append each record of a
# streamfan stream to a Redis stream (XADD), exactly once.
#
#     sh examples/bridges/stream-to-redis-streams.sh STREAM KEY
#
# Environment:
#   REDIS_HOST    Redis host (default 127.0.0.1)
#   REDIS_PORT    Redis port (default 6379)
#   REDIS_MAXLEN  trim KEY to about this many entries, XADD MAXLEN ~
#                 (default 1000000)
#   FROM          where to start when KEY holds no entry from this bridge:
#                 now or oldest, as for sfcat --from (default now; a
#                 stream with no record yet is taken from its first)
#   SF_SERVER     the daemon's address, as for sfcat
#
# Each record becomes one entry with three fields: r (the record), sfseq
# (its sequence number) and sfepoch (the stream's epoch):
#
#     sfcat --print-seq --state S STREAM | awk (the protocol) |
#         redis-cli --pipe
#
# Records: lines.  Each record's bytes go to Redis unchanged, binary ones
# too (NUL bytes included), as long as it holds no newline: true of every
# record that sfpipe publishes in its default text mode.  A record that
# holds one (published with sfpipe -0 or --raw) would arrive as several
# entries, so do not bridge such a stream.
#
# Guarantee: exactly once, within one epoch of the stream.  The position
# is kept in Redis itself, in the same XADD as the record, so it cannot be
# saved without the record or the record without it: on every start the
# bridge reads the last entry of KEY and subscribes from the record after
# it.  So a bridge killed in any way (SIGKILL included) and started again,
# or a Redis restarted, goes on with the first record Redis does not hold,
# as long as the daemon's ring still holds it.  This takes Redis to keep
# what it acknowledged: run it with appendonly yes (an RDB snapshot alone
# loses the writes since it was taken, and the bridge then sends them
# again: no gap, but repeats of that window).  After sfd restarts without
# --spool, the stream has a new epoch: the bridge goes on from its oldest
# record, as sfcat does.  The bridge must be the only writer of KEY.
# It runs until stopped; it waits for Redis and sfd when either is away.
# Programs are taken from the source tree when built there, else from PATH.

set -u
if [ $# -ne 2 ]; then
	echo "usage: sh examples/bridges/stream-to-redis-streams.sh STREAM KEY" >&2
	exit 2
fi
stream=$1 key=$2
host=${REDIS_HOST:-127.0.0.1} port=${REDIS_PORT:-6379}
maxlen=${REDIS_MAXLEN:-1000000} from=${FROM:-now}
me=stream-to-redis-streams

root=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$root/cmd/sfcat/sfcat" ] &&
    PATH=$root/cmd/sfpipe:$root/cmd/sfcat:$PATH
export LC_ALL=C     # awk counts bytes, not characters
# mawk reads a pipe a buffer at a time unless told it is interactive.
AWK_LIVE=
awk -W version 2>/dev/null | grep -q mawk && AWK_LIVE="-W interactive"

tmp=$(mktemp -d) || exit 1
cat_pid=
# Stopped, end sfcat: what it wrote still reaches Redis, then all ends.
stop() {
	trap - TERM INT
	[ -n "$cat_pid" ] && kill "$cat_pid" 2>/dev/null
	wait
	exit "$1"
}
trap 'rm -rf "$tmp"' EXIT
trap 'stop 143' TERM
trap 'stop 130' INT

rcli() { redis-cli -h "$host" -p "$port" "$@"; }

# The sfepoch and sfseq of KEY's last entry, or nothing.
LAST='local e = redis.call("XREVRANGE", KEYS[1], "+", "-", "COUNT", 1)[1]
if not e then return {} end
local f, ep, sq = e[2]
for i = 1, #f, 2 do
  if f[i] == "sfepoch" then ep = f[i + 1] elseif f[i] == "sfseq" then sq = f[i + 1] end
end
if ep and sq then return {ep, sq} end
return {}'

# epoch: the stream's epoch (needs a record in it), or fails.
epoch() {
	rm -f "$tmp/probe"
	sfcat --from -1 -n 1 --timeout 1 --state "$tmp/probe" "$stream" \
	    >/dev/null 2>&1 || return 1
	sed -n 's/^epoch=\([0-9a-f]*\) .*/\1/p' "$tmp/probe"
}

while :; do
	if ! pos=$(rcli --raw EVAL "$LAST" 1 "$key" 2>&1) ||
	    case $pos in ERR*|*rror*) true ;; *) false ;; esac; then
		echo "$me: redis $host:$port: $pos; retrying" >&2
		sleep 1
		continue
	fi
	# An empty stream: wait for its first record, and take it too.
	if ! ep=$(epoch); then
		from=oldest
		sleep 1
		continue
	fi
	set -- $pos
	if [ $# -eq 2 ]; then
		printf 'epoch=%s next=%s\n' "$1" $(($2 + 1)) >"$tmp/state"
		start=
	else
		rm -f "$tmp/state"
		start="--from $from"
	fi
	# Each stage in the background, joined by named pipes, so that a
	# signal can stop sfcat first and let the rest drain.
	rm -f "$tmp/p1" "$tmp/p2"
	mkfifo "$tmp/p1" "$tmp/p2"
	# shellcheck disable=SC2086
	sfcat --print-seq $start --state "$tmp/state" "$stream" >"$tmp/p1" &
	cat_pid=$!
	# shellcheck disable=SC2086
	awk $AWK_LIVE -v key="$key" -v maxlen="$maxlen" -v ep="$ep" '
	function bulk(s) { return "$" length(s) "\r\n" s "\r\n" }
	BEGIN {
		head = bulk("XADD") bulk(key) bulk("MAXLEN") bulk("~") bulk(maxlen) \
		    bulk("*") bulk("r")
	}
	{
		t = index($0, "\t")
		# One string, one write: -W interactive writes each printf
		# piece by piece.
		printf "%s", "*12\r\n" head bulk(substr($0, t + 1)) \
		    bulk("sfseq") bulk(substr($0, 1, t - 1)) bulk("sfepoch") bulk(ep)
		fflush()
	}' <"$tmp/p1" >"$tmp/p2" &
	rcli --pipe <"$tmp/p2" >"$tmp/pipe.out" 2>&1 &
	pipe_pid=$!
	wait "$pipe_pid"
	kill "$cat_pid" 2>/dev/null
	wait
	cat_pid=
	grep -v '^All data transferred\|^Waiting for\|^Last reply\|^errors: 0' \
	    "$tmp/pipe.out" >&2
	sleep 1
done

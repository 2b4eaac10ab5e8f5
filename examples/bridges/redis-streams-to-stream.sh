#!/bin/sh
# examples/bridges/redis-streams-to-stream.sh - publish the entries of a
# Redis stream to a streamfan stream, exactly once, resuming by entry id.
#
#     sh examples/bridges/redis-streams-to-stream.sh KEY STREAM
#
# Environment:
#   REDIS_HOST   Redis host (default 127.0.0.1)
#   REDIS_PORT   Redis port (default 6379)
#   FIELD        the field of each entry that holds the record (default r,
#                as stream-to-redis-streams.sh writes it)
#   START        the id after which to start when STATE does not exist:
#                0 for every entry, $ for new ones only (default $)
#   STATE        the state file (default KEY.redis-streams.state)
#   BATCH        entries read at a time (default 5000)
#   SF_SERVER    the daemon's address, as for sfpipe
#
# Reads with XREAD BLOCK from the last id it passed on and publishes the
# value of FIELD of each entry as one record, through `sfpipe --retry`.
#
# Records: an entry's value goes to the stream unchanged, binary bytes too,
# but a record is a line: a value holding a newline, or an entry without
# FIELD, is refused (a line on standard error names its id) and skipped.
#
# Guarantee: exactly once, while the daemon keeps the stream's epoch (it
# runs, or restarts with --spool).  sfpipe says nothing of what it has
# handed on, so the position is not saved at delivery: the stream itself
# tells.  STATE holds a checkpoint "epoch=E seq=S id=X": the record S of
# the stream is the entry X.  On every start, and about once a second, the
# bridge asks the daemon for the stream's last seq L, and the entry that
# record is is the (L - S)-th publishable one after X: that is where it
# goes on.  So a bridge killed in any way (SIGKILL included) goes on with
# the first entry the stream does not hold, whatever sfpipe had in hand;
# a Redis restarted (with appendonly yes, so it keeps its entries) is
# waited for.  It must be the only publisher of STREAM.  After sfd
# restarts without --spool (a new epoch), the bridge cannot tell what the
# old daemon took: it publishes again what came after its last checkpoint,
# at most about a second of entries.  Entries trimmed (MAXLEN) before the
# bridge read them are lost, and reported.
# Programs are taken from the source tree when built there, else from PATH.

set -u
if [ $# -ne 2 ]; then
	echo "usage: sh examples/bridges/redis-streams-to-stream.sh KEY STREAM" >&2
	exit 2
fi
key=$1 stream=$2
host=${REDIS_HOST:-127.0.0.1} port=${REDIS_PORT:-6379}
field=${FIELD:-r} start=${START:-\$} batch=${BATCH:-5000}
state=${STATE:-$key.redis-streams.state}
me=redis-streams-to-stream

root=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$root/cmd/sfcat/sfcat" ] &&
    PATH=$root/cmd/sfpipe:$root/cmd/sfcat:$PATH

tmp=$(mktemp -d) || exit 1
pipe_pid=
# Stopped: feed no more; sfpipe publishes what it holds, then ends.
stop() {
	trap - TERM INT
	exec >/dev/null
	wait
	exit "$1"
}
trap 'rm -rf "$tmp"' EXIT
trap 'stop 143' TERM
trap 'stop 130' INT

rcli() { redis-cli -h "$host" -p "$port" "$@"; }

# One script, two uses.  ARGV: mode, after-id, count, field.
#   read: up to count entries after after-id; returns the last id read,
#         a report (refused ids, or "gap"), then the publishable values.
#   skip: the id of the count-th publishable entry after after-id.
# An entry is publishable when it has the field and its value no newline.
LUA='local key, mode, after, n, field = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local function value(e)
  local f = e[2]
  for i = 1, #f, 2 do
    if f[i] == field then
      if string.find(f[i + 1], "\n", 1, true) then return nil end
      return f[i + 1]
    end
  end
  return nil
end
if mode == "skip" then
  local at, left = after, n
  while left > 0 do
    local es = redis.call("XRANGE", key, "(" .. at, "+", "COUNT", left)
    if #es == 0 then return redis.error_reply("ERR fewer entries after " .. after .. " than the stream holds") end
    for _, e in ipairs(es) do
      at = e[1]
      if value(e) then left = left - 1 end
      if left == 0 then break end
    end
  end
  return at
end
local report = {}
if after ~= "0" and after ~= "0-0" and redis.call("EXISTS", key) == 1 then
  local info = redis.call("XINFO", "STREAM", key)
  for i = 1, #info, 2 do
    if info[i] == "max-deleted-entry-id" then
      local a1, a2 = string.match(after, "^(%d+)-(%d+)$")
      local d1, d2 = string.match(info[i + 1], "^(%d+)-(%d+)$")
      if a1 and d1 and (tonumber(d1) > tonumber(a1) or (d1 == a1 and tonumber(d2) > tonumber(a2))) then
        report[#report + 1] = "gap"
      end
    end
  end
end
local es = redis.call("XRANGE", key, "(" .. after, "+", "COUNT", n)
if #es == 0 then return {} end
local out = {es[#es][1], ""}
for _, e in ipairs(es) do
  local v = value(e)
  if v then out[#out + 1] = v else report[#report + 1] = e[1] end
end
out[2] = table.concat(report, " ")
return out'

# probe: the stream's epoch and last seq into P_EPOCH, P_LAST (-1 and ""
# when it holds no record yet); fails when the daemon cannot be asked.
probe() {
	rm -f "$tmp/probe"
	sfcat --from -1 -n 1 --print-seq --timeout 1 --state "$tmp/probe" \
	    "$stream" >"$tmp/last" 2>/dev/null
	case $? in
	0)	P_LAST=$(head -n 1 "$tmp/last" | cut -f 1)
		P_EPOCH=$(sed -n 's/^epoch=\([0-9a-f]*\) .*/\1/p' "$tmp/probe") ;;
	7)	P_LAST=-1 P_EPOCH= ;;
	*)	return 1 ;;
	esac
	case $P_LAST in ''|*[!0-9-]*) return 1 ;; esac
}

# is_id S: S is a stream entry id.
is_id() {
	case $1 in ''|*[!0-9-]*|-*|*-|*-*-*) return 1 ;; *-*) return 0 ;; esac
	return 1
}

# checkpoint: from the daemon's last seq, the entry it stands for: moves
# the checkpoint (E, S, C) there and saves it atomically.  Fails if it
# cannot tell.  (X, the id read up to, runs ahead of C by what is in
# flight: read, not yet in the stream.)
checkpoint() {
	probe || return 1
	if [ "$E" = "$P_EPOCH" ] || [ -z "$E" ]; then
		k=$((P_LAST - S))
		if [ "$k" -gt 0 ]; then
			id=$(rcli --raw EVAL "$LUA" 1 "$key" skip "$C" "$k" "$field") ||
			    return 1
			is_id "$id" || { echo "$me: $id" >&2; return 1; }
			C=$id
		fi
	else
		echo "$me: stream $stream has a new epoch ($P_EPOCH, was $E): resuming after $C" >&2
	fi
	E=$P_EPOCH S=$P_LAST
	printf 'epoch=%s seq=%s id=%s\n' "$E" "$S" "$C" >"$state.tmp" &&
	    mv "$state.tmp" "$state"
}

# feed: read entries after X, write the records to standard output,
# move the checkpoint about once a second.
feed() {
	last=$(date +%s)
	while :; do
		if ! rcli --raw EVAL "$LUA" 1 "$key" read "$X" "$batch" "$field" \
		    >"$tmp/batch" 2>&1; then
			echo "$me: redis $host:$port: $(head -n 1 "$tmp/batch"); retrying" >&2
			sleep 1
			continue
		fi
		id=$(head -n 1 "$tmp/batch")
		if [ -n "$id" ]; then
			case $id in
			*-*) ;;
			*)	echo "$me: redis $host:$port: $id; retrying" >&2
				sleep 1
				continue ;;
			esac
			report=$(sed -n 2p "$tmp/batch")
			tail -n +3 "$tmp/batch" || return
			X=$id
			for r in $report; do
				if [ "$r" = gap ]; then
					echo "$me: entries of $key were trimmed before they were read: lost" >&2
				else
					echo "$me: entry $r: no field $field, or it holds a newline; skipped" >&2
				fi
			done
		else
			# Nothing new: wait for an entry after X, at most a second.
			rcli XREAD BLOCK 1000 COUNT 1 STREAMS "$key" "$X" >/dev/null 2>&1 ||
			    sleep 1
		fi
		now=$(date +%s)
		if [ "$now" -ne "$last" ]; then
			last=$now
			checkpoint || true
		fi
	done
}

if [ -s "$state" ]; then
	read -r line <"$state"
	E=$(echo "$line" | sed -n 's/^epoch=\([0-9a-f]*\) .*/\1/p')
	S=$(echo "$line" | sed -n 's/.* seq=\(-*[0-9]*\) .*/\1/p')
	C=$(echo "$line" | sed -n 's/.* id=\([0-9-]*\)$/\1/p')
	[ -n "$S" ] && is_id "$C" || { echo "$me: $state: not a state file: $line" >&2; exit 1; }
else
	E= S=
	case $start in 0) C=0-0 ;; *) C=$start ;; esac
fi

while :; do
	# At start nothing is in flight: where the stream ends is where to go on.
	if [ -z "$S" ]; then
		if [ "$C" = '$' ]; then
			C=$(rcli --raw XREVRANGE "$key" + - COUNT 1 | head -n 1)
			is_id "$C" || C=0-0
		fi
		probe && E=$P_EPOCH S=$P_LAST &&
		    printf 'epoch=%s seq=%s id=%s\n' "$E" "$S" "$C" >"$state.tmp" &&
		    mv "$state.tmp" "$state"
	fi
	if [ -z "$S" ] || ! checkpoint; then
		sleep 1
		continue
	fi
	X=$C
	rm -f "$tmp/p"
	mkfifo "$tmp/p"
	sfpipe --retry "$stream" <"$tmp/p" &
	pipe_pid=$!
	feed >"$tmp/p"
	kill "$pipe_pid" 2>/dev/null
	wait
	pipe_pid=
	sleep 1
done

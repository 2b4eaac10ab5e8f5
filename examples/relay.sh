#!/bin/sh
# examples/relay.sh - carry a stream from one daemon to another, unchanged.
#
#     sh examples/relay.sh FROM TO [STREAM [TO-STREAM]]
#
# FROM and TO are daemon addresses (socket paths, optionally unix:PATH).
# Subscribes to STREAM (default "default") at FROM and publishes it to
# TO-STREAM (default: the same name) at TO:
#
#     sfcat -s FROM --raw STREAM | sfpipe -s TO --raw TO-STREAM
#
# With --raw both sides pass length-prefixed frames, so records arrive
# byte for byte, whatever they contain: newlines, NUL bytes, binary data.
# If the relay itself falls too far behind and is evicted (sfcat exit
# status 4), it reports the gap and joins again; any other end is final,
# and the script exits with the status of the side that ended first.
# Programs are taken from the source tree when built there, else from PATH.

set -u

if [ $# -lt 2 ] || [ $# -gt 4 ]; then
	echo "usage: sh examples/relay.sh FROM TO [STREAM [TO-STREAM]]" >&2
	exit 2
fi
from=$1
to=$2
stream=${3:-default}
to_stream=${4:-$stream}

root=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$root/cmd/sfcat/sfcat" ] &&
    PATH=$root/cmd/sfd:$root/cmd/sfpipe:$root/cmd/sfcat:$PATH

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

while :; do
	# POSIX sh reports only the last command of a pipeline, so sfcat's
	# status goes through a file.
	rm -f "$tmp/sfcat.rc"
	{ sfcat -s "$from" --raw "$stream"; echo $? >"$tmp/sfcat.rc"; } |
	    sfpipe -s "$to" --raw "$to_stream"
	pipe_rc=$?
	cat_rc=$(cat "$tmp/sfcat.rc" 2>/dev/null || echo 1)

	if [ "$cat_rc" -eq 4 ] && [ "$pipe_rc" -eq 0 ]; then
		echo "relay: evicted from $from; rejoining (records were missed)" >&2
		sleep 1
		continue
	fi
	# sfcat exits 0 quietly when sfpipe has gone: then sfpipe's status
	# says why.  Otherwise sfcat ended first and sfpipe saw end of input.
	if [ "$cat_rc" -eq 0 ]; then
		exit "$pipe_rc"
	fi
	exit "$cat_rc"
done

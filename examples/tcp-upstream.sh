#!/bin/sh
# examples/tcp-upstream.sh - publish the frames a TCP source sends.
#
#     sh examples/tcp-upstream.sh HOST:PORT [STREAM]
#
# Connects once to HOST:PORT, a source that writes length-prefixed frames
# (each a 4-byte big-endian length, then that many bytes: what
# `sfcat --raw` writes), and publishes each frame unchanged to STREAM
# (default "default") on the daemon at the default address ($SF_SERVER,
# else $XDG_RUNTIME_DIR/streamfan.sock, else /tmp/streamfan-UID.sock):
#
#     socat -u TCP:HOST:PORT - | sfpipe --raw STREAM
#
# Frames may hold any bytes at all.  A frame cut off by the end of the
# connection is not published (sfpipe exits 1 saying so).  Exits when the
# source closes: 0 if socat and sfpipe both succeeded, else the status of
# the one that failed.  Needs socat.  Programs are taken from SF_BUILD (a
# build folder) or the source tree when built there, else from PATH.

set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: sh examples/tcp-upstream.sh HOST:PORT [STREAM]" >&2
	exit 2
fi
source=$1
stream=${2:-default}

root=$(cd "$(dirname "$0")/.." && pwd)
build=${SF_BUILD:-$root}
[ -x "$build/cmd/sfpipe/sfpipe" ] &&
    PATH=$build/cmd/sfd:$build/cmd/sfpipe:$build/cmd/sfcat:$PATH
command -v socat >/dev/null 2>&1 || {
	echo "tcp-upstream: socat is not installed" >&2
	exit 1
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

{ socat -u "TCP:$source" -; echo $? >"$tmp/socat.rc"; } | sfpipe --raw "$stream"
pipe_rc=$?
socat_rc=$(cat "$tmp/socat.rc" 2>/dev/null || echo 1)
if [ "$socat_rc" -ne 0 ]; then
	echo "tcp-upstream: socat exited $socat_rc" >&2
	exit "$socat_rc"
fi
exit "$pipe_rc"

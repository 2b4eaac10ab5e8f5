#!/bin/sh
# examples/http-upstream.sh - publish a streaming HTTP response, one
# record per line.
#
#     sh examples/http-upstream.sh URL [STREAM]
#
# Connects once to URL (a firehose API, a server-sent log, anything that
# streams lines, chunked or not) and publishes each line to STREAM
# (default "default") on the daemon at the default address ($SF_SERVER,
# else $XDG_RUNTIME_DIR/streamfan.sock, else /tmp/streamfan-UID.sock):
#
#     curl -sN URL | sfpipe STREAM
#
# -N turns off curl's output buffer, so each line is published as it
# arrives; any number of `sfcat STREAM` then share the one connection.
# For a source that sends sfcat --raw frames over plain TCP, the same
# shape is
#
#     socat -u TCP:HOST:PORT - | sfpipe --raw STREAM
#
# Exits when the response ends: 0 if curl and sfpipe both succeeded,
# else the status of curl (its own exit codes, e.g. 7 cannot connect,
# 22 an HTTP error with -f) or of sfpipe.  Needs curl.  Programs are
# taken from SF_BUILD (a build folder) or the source tree when built
# there, else from PATH.

set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: sh examples/http-upstream.sh URL [STREAM]" >&2
	exit 2
fi
url=$1
stream=${2:-default}

root=$(cd "$(dirname "$0")/.." && pwd)
build=${SF_BUILD:-$root}
[ -x "$build/cmd/sfpipe/sfpipe" ] &&
    PATH=$build/cmd/sfd:$build/cmd/sfpipe:$build/cmd/sfcat:$PATH
command -v curl >/dev/null 2>&1 || {
	echo "http-upstream: curl is not installed" >&2
	exit 1
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# POSIX sh reports only the last command of a pipeline, so curl's status
# goes through a file.  -f: an HTTP error is an error, not records.
{ curl -fsSN "$url"; echo $? >"$tmp/curl.rc"; } | sfpipe "$stream"
pipe_rc=$?
curl_rc=$(cat "$tmp/curl.rc" 2>/dev/null || echo 1)
if [ "$curl_rc" -ne 0 ]; then
	echo "http-upstream: curl exited $curl_rc" >&2
	exit "$curl_rc"
fi
exit "$pipe_rc"

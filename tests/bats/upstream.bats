#!/usr/bin/env bats
# Upstreams: the examples that publish what an outside source streams,
# an HTTP response through curl and raw frames over TCP through socat,
# each against a local stand-in for the source (chunked_server.py).

load helpers

SERVERPY=$BATS_TEST_DIRNAME/chunked_server.py

# serve MODE FILE: the stand-in source serving FILE once; sets PORT.
serve() {
	spawn server python3 "$SERVERPY" "$1" "$2" "$T/port" "$(secs 20)"
	wait_until 10 "[ -s '$T/port' ] || [ -s '$T/server.rc' ]"
	[ -s "$T/port" ] || fail "the source did not start: $(cat "$T/server.err")"
	PORT=$(cat "$T/port")
}

@test "examples/http-upstream.sh: curl -sN URL | sfpipe publishes each line of a chunked response exactly" {
	command -v curl >/dev/null || skip "curl is missing (apt-get install curl)"
	start_sfd
	python3 -c 'import json
for i in range(1, 2001):
    print(json.dumps({"id": i, "text": "tweet %d" % i, "lang": "en" if i % 3 else "fr"}))' >"$T/in"
	serve http "$T/in"
	spawn cat "$SFCAT" -n 2000 s
	wait_subscribers 1
	sfrun sh "$ROOT/examples/http-upstream.sh" "http://127.0.0.1:$PORT/" s
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	assert_eq "" "$output"
	assert_eq "" "$stderr"
	assert_exit server 0
	assert_exit cat 0
	assert_file_eq "$T/in" "$T/cat.out"
	stop_sfd
}

@test "examples/http-upstream.sh: a URL nobody serves is curl's status 7, named, with nothing published" {
	command -v curl >/dev/null || skip "curl is missing (apt-get install curl)"
	start_sfd
	# A port just freed: nothing listens on it.
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	sfrun sh "$ROOT/examples/http-upstream.sh" "http://127.0.0.1:$port/" s
	[ "$status" -eq 7 ] || fail "exit $status: $stderr"
	assert_eq "" "$output"
	[[ $stderr =~ ^curl:\ \(7\)\ [^$'\n']+$'\n'http-upstream:\ curl\ exited\ 7$ ]] || fail "$stderr"
	# Nothing was published: the next publisher starts at seq 0 too.
	printf 'x\n' | publish s
	assert_eq 2 "$(unstamp | grep -Ec '^sfd: #[0-9]+ pid=[0-9]+ uid=[0-9]+ gid=[0-9]+: publishing to s at seq 0$')"
	stop_sfd
}

@test "examples/tcp-upstream.sh: socat -u TCP:HOST:PORT - | sfpipe --raw publishes binary frames exactly" {
	command -v socat >/dev/null || skip "socat is missing (apt-get install socat)"
	start_sfd
	sfraw gen raw 5 2000 >"$T/in"
	serve frames "$T/in"
	spawn cat "$SFCAT" --raw -n 2000 s
	wait_subscribers 1
	sfrun sh "$ROOT/examples/tcp-upstream.sh" "127.0.0.1:$PORT" s
	[ "$status" -eq 0 ] || fail "exit $status: $stderr"
	assert_eq "" "$output"
	assert_eq "" "$stderr"
	assert_exit server 0
	assert_exit cat 0
	assert_file_eq "$T/in" "$T/cat.out"
	stop_sfd
}

#!/usr/bin/env bats
# Relay trees: a primary daemon feeding secondaries over TCP through
# "sfcat --reconnect --state --raw | sfpipe --raw", exact at every leaf,
# resuming after a broken link, and examples/relay-tree.sh itself.

load helpers

N=3000   # frames of the binary input, empty ones included

# tcp_port TEXT: the port of the primary's listener whose log line starts
# with "listening on TEXT" (TEXT ends before the port), e.g. tcp:127.0.0.1:
tcp_port() {
	unstamp | sed -n "s/^sfd: listening on $(printf '%s' "$1" | sed 's/[][]/\\&/g')\([0-9]*\)$/\1/p" | head -n 1
}

# has_ipv6: this machine has an IPv6 loopback to listen on.
has_ipv6() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

# start_secondary NAME: a daemon on T/NAME.sock, its log T/NAME.err.
start_secondary() {
	spawn "$1" "$SFD" -v -l "$T/$1.sock"
	wait_until 10 "unstamp '$T/$1.err' | grep -q '^sfd: listening on'"
}

# start_relay NAME FROM TO: the relay sfcat (NAMEcat: --reconnect, state
# in T/NAME.state) and sfpipe (NAMEpipe) of stream s, joined by a named
# pipe, so that each has its own pid and exit status.
start_relay() {
	[ -p "$T/$1.fifo" ] || mkfifo "$T/$1.fifo"
	ln -sf "$1.fifo" "$T/$1cat.out"
	spawn -i "$T/$1.fifo" "$1pipe" "$SFPIPE" -s "$3" --raw s
	spawn "$1cat" "$SFCAT" -s "$2" --reconnect --state "$T/$1.state" --raw s
}

# frames FILE: how many whole frames the raw FILE holds.
frames() {
	python3 -c 'import struct, sys
b = open(sys.argv[1], "rb").read()
i = n = 0
while i + 4 <= len(b):
    (k,) = struct.unpack(">I", b[i:i + 4])
    if i + 4 + k > len(b):
        break
    i += 4 + k
    n += 1
print(n)' "$1"
}

# resumed_at INPUT OUTPUT B: OUTPUT (raw) is the frames of INPUT up to
# some A >= B, then those from B on: every frame, in order, those from B
# to A twice.  Prints A; fails, naming the first difference, otherwise.
resumed_at() {
	python3 -c 'import struct, sys
def frames(path):
    b = open(path, "rb").read()
    out, i = [], 0
    while i < len(b):
        (k,) = struct.unpack(">I", b[i:i + 4])
        out.append(b[i + 4:i + 4 + k])
        i += 4 + k
    return out
inp, got, b = frames(sys.argv[1]), frames(sys.argv[2]), int(sys.argv[3])
a = len(got) - (len(inp) - b)
want = inp[:a] + inp[b:]
if a < b or got != want:
    n = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y),
             min(len(got), len(want)))
    sys.exit("%d frames, not %d..%d then %d.. of %d: first difference at "
             "frame %d" % (len(got), 0, a, b, len(inp), n))
print(a)' "$1" "$2" "$3"
}

# The leaf's end: once the relay has passed everything on and stopped, an
# end-of-stream mark published on the secondary ends the leaf there, so its
# output is all it will ever get.
end_leaf() {
	publish -s "$T/$1.sock" --eos s </dev/null
}

# relay_pipe_ended NAME: the relay's sfpipe saw its input end: exit 0, or,
# if the end of sfcat cut a frame short, exit 1 saying so and publishing
# none of it.
relay_pipe_ended() {
	wait_exit "$1pipe"
	case $(cat "$T/$1pipe.rc") in
	0)	[ ! -s "$T/$1pipe.err" ] || fail "$1pipe: $(cat "$T/$1pipe.err")" ;;
	1)	[[ $(cat "$T/$1pipe.err") =~ ^sfpipe:\ stdin:\ frame\ [0-9]+\ cut\ off\ by\ end\ of\ input\;\ not\ published$ ]] ||
		    fail "$1pipe exited 1: $(cat "$T/$1pipe.err")" ;;
	*)	fail "$1pipe exited $(cat "$T/$1pipe.rc"): $(cat "$T/$1pipe.err")" ;;
	esac
}

# stop_relay NAME: SIGTERM to the relay's sfcat (143), its sfpipe then
# ends with its input.
stop_relay() {
	kill -TERM "$(cat "$T/$1cat.pid")"
	assert_exit "$1cat" 143
	relay_pipe_ended "$1"
}

@test "a relay tree over IPv4 and IPv6 loopback: binary frames, empty ones included, reach both leaves byte for byte" {
	local b_port
	if has_ipv6; then
		start_sfd -l tcp:127.0.0.1:0 -l "tcp:[::1]:0"
		b_port="tcp:[::1]:$(tcp_port "tcp:[::1]:")"
	else
		echo "# no IPv6 loopback on this machine: both relays over IPv4" >&3
		start_sfd -l tcp:127.0.0.1:0
		b_port="tcp:127.0.0.1:$(tcp_port tcp:127.0.0.1:)"
	fi
	a_port="tcp:127.0.0.1:$(tcp_port tcp:127.0.0.1:)"
	sfraw gen raw 7 "$N" >"$T/in"
	[ "$(frames "$T/in")" -eq "$N" ]
	for s in a b; do
		start_secondary $s
		spawn leaf$s "$SFCAT" -s "$T/$s.sock" --raw -n "$N" s
		wait_until 10 "grep -q 'subscribed to s' '$T/$s.err'"
	done
	start_relay a "$a_port" "$T/a.sock"
	start_relay b "$b_port" "$T/b.sock"
	wait_subscribers 2
	publish --raw s <"$T/in"
	for s in a b; do
		assert_exit leaf$s 0 30
		assert_file_eq "$T/in" "$T/leaf$s.out"
		[ ! -s "$T/leaf$s.err" ] || fail "leaf$s: $(cat "$T/leaf$s.err")"
	done
	unstamp | grep -Eq '^sfd: #[0-9]+ addr=127\.0\.0\.1:[0-9]+: subscribed to s at seq 0$'
	if has_ipv6; then
		unstamp | grep -Eq '^sfd: #[0-9]+ addr=\[::1\]:[0-9]+: subscribed to s at seq 0$'
	fi
	for s in a b; do
		stop_relay $s
		[ ! -s "$T/${s}cat.err" ] || fail "${s}cat: $(cat "$T/${s}cat.err")"
		state_is "$T/$s.state" "$N"
		kill -TERM "$(cat "$T/$s.pid")"
		assert_exit $s 0
	done
	stop_sfd
}

# relay_kill SIGNAL: the relay of stream s from the primary (over IPv4)
# to secondary a, its sfcat killed with SIGNAL while a slow publisher is
# half way, then started again with the same --state while the primary's
# ring still holds what it missed.  Sets B, the state's next frame after
# the kill, and leaves the leaf's output complete in T/leaf.out.
relay_kill() {
	local rc
	start_sfd -l tcp:127.0.0.1:0
	port=$(tcp_port tcp:127.0.0.1:)
	sfraw gen raw 11 "$N" >"$T/in"
	start_secondary a
	spawn leaf "$SFCAT" -s "$T/a.sock" --raw s
	wait_until 10 "grep -q 'subscribed to s' '$T/a.err'"
	start_relay a "tcp:127.0.0.1:$port" "$T/a.sock"
	wait_subscribers 1
	# About 6 MB in 16k pieces every 10 ms: a few seconds of stream, all of
	# it well inside the primary's 64M ring.
	spawn source sh -c 'python3 "$1" pace 16384 0.01 <"$2" | exec "$3" --raw s' sh \
	    "$RAWPY" "$T/in" "$SFPIPE"
	# Mid-stream: a quarter through, and the state saved once.
	wait_until 30 "[ \$(stat -c %s '$T/leaf.out') -ge $(($(stat -c %s "$T/in") / 4)) ] && [ -s '$T/a.state' ]"
	kill "-$1" "$acat_pid"
	wait_exit acat
	rc=$(cat "$T/acat.rc")
	[ "$rc" -eq $((128 + $(kill -l "$1"))) ] || fail "acat exited $rc"
	relay_pipe_ended a
	if [ -s "$T/source.rc" ]; then
		fail "the source ended before the kill: make it slower"
	fi
	[[ $(cat "$T/a.state") =~ ^epoch=[0-9a-f]{16}\ next=([0-9]+)$ ]] ||
	    fail "state: $(cat "$T/a.state")"
	B=${BASH_REMATCH[1]}
	[ "$B" -gt 0 ] && [ "$B" -lt "$N" ] || fail "killed at $B of $N: not mid-stream"
	mv "$T/acat.err" "$T/acat1.err"
	# Started again with the same --state: it resumes at frame B.
	start_relay a "tcp:127.0.0.1:$port" "$T/a.sock"
	assert_exit source 0 60
	wait_until 30 "grep -qx 'epoch=[0-9a-f]* next=$N' '$T/a.state'"
	stop_relay a
	[ ! -s "$T/acat.err" ] || fail "the resumed relay said: $(cat "$T/acat.err")"
	state_is "$T/a.state" "$N"
	end_leaf a
	assert_exit leaf 0 30
	[ ! -s "$T/leaf.err" ] || fail "leaf: $(cat "$T/leaf.err")"
	kill -TERM "$a_pid"
	assert_exit a 0
	stop_sfd
}

@test "a relay whose sfcat gets SIGTERM mid-stream and is started again with its --state: the leaf gets every frame exactly once" {
	relay_kill TERM
	[ ! -s "$T/acat1.err" ] || fail "acat: $(cat "$T/acat1.err")"
	# SIGTERM saves an exact state: the next frame is the first not passed
	# on whole, so nothing is repeated and nothing is missing.
	a=$(resumed_at "$T/in" "$T/leaf.out" "$B")
	assert_eq "$B" "$a"
	assert_file_eq "$T/in" "$T/leaf.out"
}

@test "a relay whose sfcat gets SIGKILL mid-stream and is started again with its --state: no frame is missing; only those after the last saved state come twice" {
	relay_kill KILL
	# SIGKILL leaves the state of up to a second before: the frames from
	# there to the kill were passed on, and are passed on again.  At least
	# once, in order, with one repeated run starting exactly at the state's
	# frame B; a frame the kill cut short is published by neither relay.
	a=$(resumed_at "$T/in" "$T/leaf.out" "$B")
	[ "$a" -ge "$B" ]
	echo "# resumed at $B, $((a - B)) frames twice" >&3
}

@test "examples/relay-tree.sh builds its tree, resumes a stopped relay, and finds every leaf exact" {
	run --separate-stderr timeout "$(secs 120)" sh "$ROOT/examples/relay-tree.sh"
	[ "$status" -eq 0 ] || fail "relay-tree exit $status: $output$stderr"
	assert_eq "" "$stderr"
	assert_eq "every leaf got all 40000 records, exactly as published" "${lines[${#lines[@]} - 1]}"
	for leaf in a1 a2 b1 b2; do
		grep -qxF "leaf $leaf-batch1: 20000 records, 766694 bytes, identical to the input" <<<"$output" ||
		    fail "no batch 1 check of $leaf: $output"
		grep -qxF "leaf $leaf: 40000 records, 1544494 bytes, identical to the input" <<<"$output" ||
		    fail "no final check of $leaf: $output"
	done
	[[ $output =~ $'\n'a\.state:\ epoch=[0-9a-f]{16}\ next=20000$'\n' ]] || fail "no state: $output"
	if has_ipv6; then
		grep -Eqx "${STAMP_RE}sfd: listening on tcp:\[::1\]:[0-9]+" <<<"$output" || fail "$output"
	else
		grep -qF 'no IPv6 loopback on this machine' <<<"$output" || fail "$output"
	fi
}

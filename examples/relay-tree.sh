#!/bin/sh
# examples/relay-tree.sh - one primary daemon feeding two others over TCP.
#
#     sh examples/relay-tree.sh
#
# Builds a small relay tree on this machine and checks that it is exact:
#
#                         primary sfd  <- sfpipe tree < input
#              tcp:127.0.0.1:PORT |  | tcp:[::1]:PORT
#           relay a (sfcat | sfpipe)  relay b (sfcat | sfpipe)
#                   secondary sfd a    secondary sfd b
#               subscribers a1, a2      subscribers b1, b2
#
# Each relay is
#
#     sfcat -s tcp:PRIMARY:PORT --reconnect --state FILE --raw tree |
#         sfpipe -s SECONDARY --raw tree
#
# relay a over IPv4 loopback, relay b over IPv6 loopback (over IPv4 too,
# with a message, on a machine without IPv6).  The primary listens on
# port 0 of each, so it picks free ports, read from its log.
#
#   1. A batch of records published on the primary reaches all four
#      leaf subscribers byte for byte.
#   2. Relay a is stopped (SIGTERM: sfcat saves its --state) while a second
#      batch is published, then started again with the same --state: it
#      resumes at the first record it had not passed on, which the
#      primary's ring still holds, so its leaves miss nothing and get
#      nothing twice.
#
# Exits 0 when every leaf received exactly what was published, 1
# otherwise.  Everything happens in a temporary folder (sockets, logs,
# state files, what each subscriber received), removed at exit with every
# process started here.  Every wait is bounded.  Needs only sh, awk, cmp
# and the usual file tools.  Programs are taken from SF_BUILD (a build
# folder holding cmd/<prog>/<prog>) or the source tree when built there,
# else from PATH.

set -u

root=$(cd "$(dirname "$0")/.." && pwd)
build=${SF_BUILD:-$root}
[ -x "$build/cmd/sfcat/sfcat" ] &&
    PATH=$build/cmd/sfd:$build/cmd/sfpipe:$build/cmd/sfcat:$PATH
export PATH

N=20000             # records in each batch
stream=tree

tmp=$(mktemp -d) || exit 1

# Stop whatever is still running, wait for it, then remove the folder.
# shellcheck disable=SC2317 # called by the traps
cleanup() {
	for f in "$tmp"/*.pid; do
		[ -f "$f" ] || continue
		[ -f "${f%.pid}.rc" ] || kill -TERM "$(cat "$f")" 2>/dev/null
	done
	wait
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "relay-tree: $*" >&2
	for f in "$tmp"/*.log; do
		[ -s "$f" ] || continue
		echo "--- $(basename "$f")" >&2
		cat "$f" >&2
	done
	exit 1
}

# spawn NAME IN OUT ERR COMMAND...: run COMMAND in the background, its
# standard input, output and error from and to the files IN, OUT and ERR
# (opened in the background, as a named pipe blocks until its other end
# is open too); its pid is kept in NAME.pid and, once it ends, its exit
# status in NAME.rc.
spawn() {
	spawn_name=$1
	spawn_in=$2
	spawn_out=$3
	spawn_err=$4
	shift 4
	rm -f "$tmp/$spawn_name.pid" "$tmp/$spawn_name.rc"
	(
		"$@" <"$spawn_in" >"$spawn_out" 2>>"$spawn_err" &
		echo $! >"$tmp/$spawn_name.pid"
		wait $!
		{ echo $? >"$tmp/$spawn_name.rc"; } 2>/dev/null
	) &
	wait_for 5 has "$spawn_name.pid" || fail "$spawn_name did not start"
}

# wait_for SECONDS COMMAND...: retry COMMAND every 0.1 s until it
# succeeds; give up (status 1) after SECONDS.
wait_for() {
	wait_n=$(($1 * 10))
	shift
	until "$@"; do
		wait_n=$((wait_n - 1))
		[ "$wait_n" -gt 0 ] || return 1
		sleep 0.1
	done
}

has() { [ -s "$tmp/$1" ]; }
logged() { grep -q "$2" "$tmp/$1.log" 2>/dev/null; }
subscribed() { [ "$(grep -c "subscribed to $stream" "$tmp/$1.log")" -ge "$2" ]; }
lines() { [ "$(wc -l <"$tmp/$1.out")" -ge "$2" ]; }
rc_is() { [ "$(cat "$tmp/$1.rc" 2>/dev/null)" = "$2" ]; }

# start_sfd NAME ARGS...: a daemon logging to NAME.log; waits until it
# listens, or ends.  -v logs each subscribe, so we know who is in.
start_sfd() {
	start_name=$1
	shift
	spawn "$start_name" /dev/null /dev/null "$tmp/$start_name.log" sfd -v "$@"
	wait_for 5 eval "logged $start_name 'listening on' || has $start_name.rc" ||
	    fail "$start_name did not start within 5 s"
	! has "$start_name.rc"
}

# port NAME PREFIX: the port of NAME's listener "listening on PREFIXPORT"
# (after the time that -v puts first).
port() {
	sed -n "s/^[0-9T:.-]*Z sfd: listening on $2\([0-9][0-9]*\)\$/\1/p" \
	    "$tmp/$1.log"
}

# start_relay NAME PRIMARY-ADDR SECONDARY-SOCKET: sfcat and sfpipe
# joined by a named pipe, so that each has its own pid (NAME-cat,
# NAME-pipe) and exit status.
start_relay() {
	[ -p "$tmp/$1.fifo" ] || mkfifo "$tmp/$1.fifo" || fail "mkfifo"
	spawn "$1-pipe" "$tmp/$1.fifo" /dev/null "$tmp/$1-pipe.log" \
	    sfpipe -s "$3" --raw "$stream"
	spawn "$1-cat" /dev/null "$tmp/$1.fifo" "$tmp/$1-cat.log" \
	    sfcat -s "$2" --reconnect --state "$tmp/$1.state" --raw "$stream"
}

# check LEAF INPUT: the leaf's output is the input, byte for byte.
check() {
	if cmp -s "$tmp/$2" "$tmp/$1.out"; then
		echo "leaf $1: $(wc -l <"$tmp/$1.out" | tr -d ' ') records," \
		    "$(wc -c <"$tmp/$1.out" | tr -d ' ') bytes, identical to the input"
	else
		fail "leaf $1 differs from the input: $(cmp "$tmp/$2" "$tmp/$1.out" 2>&1)"
	fi
}

# batch FIRST LAST: known records, one per line.
batch() {
	awk -v first="$1" -v last="$2" 'BEGIN {
		for (i = first; i <= last; i++)
			printf "{\"id\":%d,\"sensor\":\"s%d\",\"value\":%d}\n",
			    i, i % 7, (i * 7919) % 1000
	}'
}

echo "== the primary: a Unix socket for its publisher, TCP on IPv4 and IPv6 loopback, port 0"
if ! start_sfd primary -l "$tmp/primary.sock" -l tcp:127.0.0.1:0 -l 'tcp:[::1]:0'; then
	if logged primary 'cannot listen on tcp:\[::1\]'; then
		echo "relay-tree: no IPv6 loopback on this machine ($(sed -n 's/^sfd: cannot listen on tcp:\[::1\]:0: //p' "$tmp/primary.log")); relay b goes over IPv4 as well"
		rm -f "$tmp/primary.log"
		start_sfd primary -l "$tmp/primary.sock" -l tcp:127.0.0.1:0 ||
		    fail "the primary exited $(cat "$tmp/primary.rc")"
	else
		fail "the primary exited $(cat "$tmp/primary.rc")"
	fi
fi
grep 'listening on tcp' "$tmp/primary.log"
p4=$(port primary 'tcp:127\.0\.0\.1:')
[ -n "$p4" ] || fail "no IPv4 port in the primary's log"
a_addr=tcp:127.0.0.1:$p4
p6=$(port primary 'tcp:\[::1\]:')
if [ -n "$p6" ]; then b_addr="tcp:[::1]:$p6"; else b_addr=$a_addr; fi

echo "== two secondaries, each on its own Unix socket, two subscribers on each"
for s in a b; do
	start_sfd "$s" -l "$tmp/$s.sock" || fail "secondary $s exited $(cat "$tmp/$s.rc")"
	for leaf in "${s}1" "${s}2"; do
		spawn "$leaf" /dev/null "$tmp/$leaf.out" "$tmp/$leaf.log" \
		    sfcat -s "$tmp/$s.sock" -n $((2 * N)) "$stream"
	done
	wait_for 5 subscribed "$s" 2 || fail "the subscribers of $s did not join within 5 s"
done

echo "== the relays: sfcat -s $a_addr ... | sfpipe -s a.sock ..."
echo "==             sfcat -s $b_addr ... | sfpipe -s b.sock ..."
start_relay a "$a_addr" "$tmp/a.sock"
start_relay b "$b_addr" "$tmp/b.sock"

echo "== 1. publishing $N records on the primary, once both relays are in"
batch 1 "$N" >"$tmp/input1"
spawn pub1 "$tmp/input1" /dev/null "$tmp/pub1.log" \
    sfpipe -s "$tmp/primary.sock" --min-subscribers 2 --timeout 10 "$stream"
wait_for 30 has pub1.rc || fail "the publisher did not finish within 30 s"
rc_is pub1 0 || fail "the publisher exited $(cat "$tmp/pub1.rc")"
for leaf in a1 a2 b1 b2; do
	wait_for 30 lines "$leaf" "$N" || fail "leaf $leaf did not get $N records within 30 s"
done
for leaf in a1 a2 b1 b2; do
	head -n "$N" "$tmp/$leaf.out" >"$tmp/$leaf-batch1.out"
	check "$leaf-batch1" input1
done

echo "== 2. relay a stopped with SIGTERM; its sfcat saves where it stopped:"
kill -TERM "$(cat "$tmp/a-cat.pid")"
wait_for 10 has a-cat.rc || fail "relay a's sfcat did not stop within 10 s"
wait_for 10 has a-pipe.rc || fail "relay a's sfpipe did not stop within 10 s"
rc_is a-cat 143 || fail "relay a's sfcat exited $(cat "$tmp/a-cat.rc"), not 143"
rc_is a-pipe 0 || fail "relay a's sfpipe exited $(cat "$tmp/a-pipe.rc"), not 0"
echo "a.state: $(cat "$tmp/a.state")"
echo "== publishing $N more while it is down: relay b carries them, the primary's ring keeps them for a"
batch $((N + 1)) $((2 * N)) >"$tmp/input2"
spawn pub2 "$tmp/input2" /dev/null "$tmp/pub2.log" \
    sfpipe -s "$tmp/primary.sock" "$stream"
wait_for 30 has pub2.rc || fail "the second publisher did not finish within 30 s"
rc_is pub2 0 || fail "the second publisher exited $(cat "$tmp/pub2.rc")"
echo "== relay a started again with the same --state"
start_relay a "$a_addr" "$tmp/a.sock"
cat "$tmp/input1" "$tmp/input2" >"$tmp/input"
for leaf in a1 a2 b1 b2; do
	wait_for 30 has "$leaf.rc" || fail "leaf $leaf did not get $((2 * N)) records within 30 s"
	rc_is "$leaf" 0 || fail "leaf $leaf exited $(cat "$tmp/$leaf.rc")"
done
for leaf in a1 a2 b1 b2; do
	check "$leaf" input
done
if grep -q 'lost\|restarted' "$tmp/a-cat.log"; then
	fail "relay a reported a gap: $(cat "$tmp/a-cat.log")"
fi

echo "== stopping the relays, then the daemons, with SIGTERM"
for name in a-cat b-cat a b primary; do
	kill -TERM "$(cat "$tmp/$name.pid")"
	wait_for 15 has "$name.rc" || fail "$name did not stop within 15 s"
done
for name in a-pipe b-pipe; do
	wait_for 10 has "$name.rc" || fail "$name did not stop within 10 s"
	rc_is "$name" 0 || fail "$name exited $(cat "$tmp/$name.rc")"
done
for name in a b primary; do
	rc_is "$name" 0 || fail "$name exited $(cat "$tmp/$name.rc")"
done
echo "every leaf got all $((2 * N)) records, exactly as published"

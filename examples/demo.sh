#!/bin/sh
# examples/demo.sh - streamfan in one run: one producer, three consumers,
# one of which stalls and is cut off without slowing the others, then
# comes back for what it missed from the ring.
#
# Run by `make demo` after `make`, or from the repository root:
#
#     sh examples/demo.sh
#
# Everything happens in a temporary folder (the daemon's socket, its log,
# what each consumer received), removed at exit.  Every wait is bounded.
# Needs: awk, and jq if installed (else grep does the filtering).
# SF_BUILD may name another build folder holding cmd/<prog>/<prog>.

set -u

root=$(cd "$(dirname "$0")/.." && pwd)
build=${SF_BUILD:-$root}
SFD=$build/cmd/sfd/sfd
SFPIPE=$build/cmd/sfpipe/sfpipe
SFCAT=$build/cmd/sfcat/sfcat

for p in "$SFD" "$SFPIPE" "$SFCAT"; do
	if [ ! -x "$p" ]; then
		echo "demo: $p is not built; run make first" >&2
		exit 1
	fi
done

BATCHES=20          # the producer sends this many bursts ...
PER=500             # ... of this many records, 50 ms apart
N=$((BATCHES * PER))

tmp=$(mktemp -d) || exit 1
sock=$tmp/sf.sock

# Stop whatever is still running (a stopped process is continued so that
# it can die), then remove the folder.
cleanup() {
	for f in "$tmp"/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill -TERM "$pid" 2>/dev/null && kill -CONT "$pid" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# spawn NAME COMMAND...: run COMMAND in the background.  Its pid is kept
# in NAME.pid and, once it ends, its exit status in NAME.rc.  COMMAND
# reads nothing: its standard input is /dev/null.
spawn() {
	spawn_name=$1
	shift
	(
		"$@" &
		echo $! >"$tmp/$spawn_name.pid"
		wait $!
		{ echo $? >"$tmp/$spawn_name.rc"; } 2>/dev/null
	) &
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

fail() {
	echo "demo: $*" >&2
	if [ -s "$tmp/sfd.log" ]; then
		echo "demo: the daemon's log:" >&2
		sed 's/^/    /' "$tmp/sfd.log" >&2
	fi
	exit 1
}

has() { [ -f "$tmp/$1" ]; }
subscribed() { [ "$(grep -c 'subscribed to demo' "$tmp/sfd.log" 2>/dev/null)" -ge 3 ]; }
logged() { grep -q "$1" "$tmp/sfd.log" 2>/dev/null; }

# The consumers.  Each is an ordinary pipeline on sfcat's output.
errors_only() {
	if command -v jq >/dev/null 2>&1; then
		"$SFCAT" -s "$sock" -n "$N" demo | jq -c 'select(.level=="error")'
	else
		"$SFCAT" -s "$sock" -n "$N" demo | grep '"level":"error"'
	fi
}
statistics() {
	"$SFCAT" -s "$sock" -n "$N" demo | awk '
	{
		n++
		if (match($0, /"level":"[a-z]+"/))
			lv[substr($0, RSTART + 9, RLENGTH - 10)]++
		if (match($0, /"ms":[0-9]+/))
			ms += substr($0, RSTART + 5, RLENGTH - 5)
	}
	END {
		printf "%d records: %d info, %d warn, %d error; mean latency %.1f ms\n",
		    n, lv["info"], lv["warn"], lv["error"], n ? ms / n : 0
	}'
}

# The producer: bursts of JSON log records, as a live source would send.
produce() {
	b=0
	while [ "$b" -lt "$BATCHES" ]; do
		awk -v first=$((b * PER + 1)) -v last=$(((b + 1) * PER)) 'BEGIN {
			for (i = first; i <= last; i++) {
				if (i % 97 == 0)      { lv = "error"; m = "upstream timeout" }
				else if (i % 13 == 0) { lv = "warn";  m = "slow query" }
				else                  { lv = "info";  m = "request served" }
				printf "{\"id\":%d,\"level\":\"%s\",\"path\":\"/api/items/%d\",\"ms\":%d,\"msg\":\"%s\"}\n",
				    i, lv, i % 500, (i * 7919) % 250 + 1, m
			}
		}'
		sleep 0.05
		b=$((b + 1))
	done
}

# -v makes sfd log each subscribe, so the demo knows when all three
# consumers are in.  --grace 10 gives the frozen consumer time to be
# continued and still receive its goodbye.
echo "== starting sfd on a temporary socket (ring 2M, max-lag 256k)"
spawn sfd "$SFD" -v -l "$sock" --ring 2M --max-lag 256k --max-frame 64k \
    --grace 10 2>"$tmp/sfd.log"
wait_for 5 logged 'listening on' || fail "sfd did not start within 5 s"
grep 'listening on' "$tmp/sfd.log"

if command -v jq >/dev/null 2>&1; then filter="jq"; else filter="grep"; fi
echo "== three subscribers to stream \"demo\": an error filter ($filter), a statistics counter (awk), and a slow one"
spawn errors errors_only >"$tmp/errors.out" 2>"$tmp/errors.err"
spawn stats statistics >"$tmp/stats.out" 2>"$tmp/stats.err"
spawn slow "$SFCAT" -s "$sock" demo >"$tmp/slow.out" 2>"$tmp/slow.err"
wait_for 5 subscribed || fail "the subscribers did not connect within 5 s"
wait_for 5 has slow.pid || fail "no pid for the slow subscriber"
slow=$(cat "$tmp/slow.pid")

echo "== freezing the slow one with kill -STOP: from now on it reads nothing"
kill -STOP "$slow"

echo "== publishing $N JSON records in $BATCHES bursts: producer | sfpipe demo"
publish() { produce | tee "$tmp/input" | "$SFPIPE" -s "$sock" demo; }
spawn pipe publish 2>"$tmp/pipe.err"
wait_for 30 has pipe.rc || fail "sfpipe did not finish within 30 s"
printf 'sfpipe exited %s after %s records, %s bytes\n' "$(cat "$tmp/pipe.rc")" \
    "$(wc -l <"$tmp/input" | tr -d ' ')" "$(wc -c <"$tmp/input" | tr -d ' ')"

wait_for 10 has errors.rc || fail "the error filter did not finish"
wait_for 10 has stats.rc || fail "the statistics counter did not finish"
echo "== error filter: kept $(wc -l <"$tmp/errors.out" | tr -d ' ') records; the first three:"
head -n 3 "$tmp/errors.out"
echo "== statistics counter:"
cat "$tmp/stats.out"

echo "== meanwhile sfd cut the slow one off rather than wait for it:"
wait_for 5 logged evicted || fail "the slow subscriber was not evicted"
grep evicted "$tmp/sfd.log"

echo "== kill -CONT: the slow one prints what it had been sent, then learns why it stopped"
kill -CONT "$slow"
wait_for 15 has slow.rc || fail "the slow subscriber did not finish"
echo "it printed $(wc -l <"$tmp/slow.out" | tr -d ' ') of $N records; exit status $(cat "$tmp/slow.rc"):"
cat "$tmp/slow.err"

seq=$(sed -n 's/.*first frame not received: seq \([0-9]*\).*/\1/p' "$tmp/slow.err")
[ -n "$seq" ] || fail "no seq in the eviction message"
echo "== it comes back for the rest from the ring: sfcat --from $seq (what --reconnect does by itself)"
timeout 15 "$SFCAT" -s "$sock" --from "$seq" -n $((N - seq)) demo >"$tmp/rest.out" ||
    fail "the slow subscriber could not replay from seq $seq"
if cat "$tmp/slow.out" "$tmp/rest.out" | cmp -s - "$tmp/input"; then
	echo "before and after its eviction together: all $N records, none twice, none missing"
else
	fail "the replay did not complete the slow subscriber's records"
fi

echo "== a late consumer asks for the last 3 records, with their sequence numbers"
timeout 15 "$SFCAT" -s "$sock" --from -3 --print-seq -n 3 demo ||
    fail "the late consumer got nothing"

echo "== stopping sfd with kill -TERM"
kill -TERM "$(cat "$tmp/sfd.pid")"
wait_for 15 has sfd.rc || fail "sfd did not stop within 15 s"
grep 'shutting down' "$tmp/sfd.log"
echo "sfd exit status $(cat "$tmp/sfd.rc")"
if [ -e "$sock" ]; then
	echo "(its socket was left behind)"
fi

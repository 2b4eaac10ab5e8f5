#!/bin/sh
# examples/demo.sh - streamfan in one run.
#
#   1. At the daemon's defaults, a burst of 200,000 records reaches three
#      consumers whole, even one frozen with kill -STOP while it passes:
#      the ring is the buffer.
#   2. A file larger than the ring (a small ring here, to keep it quick)
#      is published paced: the daemon holds the publisher back instead of
#      overwriting; a frozen consumer holds it only --stall seconds, is
#      then cut off, and is told exactly where to resume.
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

N=200000            # records in the burst
F=100000            # records in the file of part 2

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
subscribed() { [ "$(grep -c "subscribed to $1" "$tmp/sfd.log" 2>/dev/null)" -ge "$2" ]; }
logged() { grep -q "$1" "$tmp/sfd.log" 2>/dev/null; }
count() { wc -l <"$1" | tr -d ' '; }

# The consumers.  Each is an ordinary pipeline on sfcat's output.
errors_only() {
	if command -v jq >/dev/null 2>&1; then
		"$SFCAT" -s "$sock" "$@" | jq -c 'select(.level=="error")'
	else
		"$SFCAT" -s "$sock" "$@" | grep '"level":"error"'
	fi
}
statistics() {
	"$SFCAT" -s "$sock" "$@" | awk '
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

# produce FIRST LAST: JSON log records, as a live source would send them.
produce() {
	awk -v first="$1" -v last="$2" 'BEGIN {
		for (i = first; i <= last; i++) {
			if (i % 97 == 0)      { lv = "error"; m = "upstream timeout" }
			else if (i % 13 == 0) { lv = "warn";  m = "slow query" }
			else                  { lv = "info";  m = "request served" }
			printf "{\"id\":%d,\"level\":\"%s\",\"path\":\"/api/items/%d\",\"ms\":%d,\"msg\":\"%s\"}\n",
			    i, lv, i % 500, (i * 7919) % 250 + 1, m
		}
	}'
}

# start_sfd ARGS...: a daemon on the temporary socket; -v makes it log
# each subscribe, so the demo knows when all consumers are in.
start_sfd() {
	spawn sfd "$SFD" -v -l "$sock" "$@" 2>"$tmp/sfd.log"
	wait_for 5 logged 'listening on' || fail "sfd did not start within 5 s"
	grep 'listening on' "$tmp/sfd.log"
}

stop_sfd() {
	kill -TERM "$(cat "$tmp/sfd.pid")"
	wait_for 15 has sfd.rc || fail "sfd did not stop within 15 s"
	grep 'shutting down' "$tmp/sfd.log"
	echo "sfd exit status $(cat "$tmp/sfd.rc")"
	[ ! -e "$sock" ] || echo "(its socket was left behind)"
	rm -f "$tmp/sfd.rc"
}

if command -v jq >/dev/null 2>&1; then filter="jq"; else filter="grep"; fi

echo "== 1. a burst at the defaults: sfd with no options"
start_sfd
echo "== three subscribers to stream \"burst\": an error filter ($filter), a statistics counter (awk), and one we freeze"
spawn errors errors_only -n "$N" burst >"$tmp/errors.out" 2>"$tmp/errors.err"
spawn stats statistics -n "$N" burst >"$tmp/stats.out" 2>"$tmp/stats.err"
spawn frozen "$SFCAT" -s "$sock" -n "$N" burst >"$tmp/frozen.out" 2>"$tmp/frozen.err"
wait_for 5 subscribed burst 3 || fail "the subscribers did not connect within 5 s"
wait_for 5 has frozen.pid || fail "no pid for the frozen subscriber"
kill -STOP "$(cat "$tmp/frozen.pid")"
echo "== kill -STOP: the frozen one reads nothing while the burst passes"

echo "== publishing $N JSON records at once: producer | sfpipe burst"
produce 1 "$N" >"$tmp/input"
publish() { cat "$tmp/input" | "$SFPIPE" -s "$sock" burst; }
spawn pipe publish 2>"$tmp/pipe.err"
wait_for 30 has pipe.rc || fail "sfpipe did not finish within 30 s"
printf 'sfpipe exited %s after %s records, %s bytes\n' "$(cat "$tmp/pipe.rc")" \
    "$(count "$tmp/input")" "$(wc -c <"$tmp/input" | tr -d ' ')"
wait_for 60 has errors.rc || fail "the error filter did not finish"
wait_for 60 has stats.rc || fail "the statistics counter did not finish"
echo "== error filter: kept $(count "$tmp/errors.out") records; the first three:"
head -n 3 "$tmp/errors.out"
echo "== statistics counter:"
cat "$tmp/stats.out"
echo "== kill -CONT: the frozen one takes the burst from the ring"
kill -CONT "$(cat "$tmp/frozen.pid")"
wait_for 30 has frozen.rc || fail "the frozen subscriber did not finish"
if cmp -s "$tmp/frozen.out" "$tmp/input" && ! logged evicted; then
	echo "it printed all $N records, exactly as published: nobody was cut off"
else
	fail "the burst did not reach the frozen subscriber whole"
fi
stop_sfd

echo
echo "== 2. a file larger than the ring, paced: sfd --ring 4M --max-frame 64k --stall 1"
start_sfd --ring 4M --max-frame 64k --stall 1 --grace 10
produce 1 "$F" >"$tmp/file"
echo "== an error filter ($filter) and a subscriber we freeze, on stream \"file\""
spawn errors2 errors_only file >"$tmp/errors2.out" 2>"$tmp/errors2.err"
spawn slow "$SFCAT" -s "$sock" file >"$tmp/slow.out" 2>"$tmp/slow.err"
wait_for 5 subscribed file 2 || fail "the subscribers did not connect within 5 s"
wait_for 5 has slow.pid || fail "no pid for the frozen subscriber"
slow=$(cat "$tmp/slow.pid")
kill -STOP "$slow"
echo "== sfpipe --eos file < file ($(wc -c <"$tmp/file" | tr -d ' ') bytes): from a file, sfpipe asks to be paced"
publish_file() { "$SFPIPE" -s "$sock" --eos file <"$tmp/file"; }
spawn file publish_file 2>"$tmp/file.err"
wait_for 60 has file.rc || fail "sfpipe did not finish within 60 s"
echo "sfpipe exited $(cat "$tmp/file.rc"); the daemon held it back $(grep -c 'held:' "$tmp/sfd.log") times instead of overwriting"
wait_for 60 has errors2.rc || fail "the error filter did not finish"
echo "== error filter: kept $(count "$tmp/errors2.out") records, all there are"
echo "== the frozen one held the publisher only --stall long, then was cut off:"
wait_for 10 logged 'evicted from stream file' || fail "the frozen subscriber was not evicted"
grep -E 'stalled on stream|evicted from' "$tmp/sfd.log" | sed 's/^[0-9T:.-]*Z sfd: #[0-9]* pid=[0-9]* uid=[0-9]* gid=[0-9]*: /sfd: /'
echo "== kill -CONT: it prints what it had been sent, then learns why it stopped"
kill -CONT "$slow"
wait_for 15 has slow.rc || fail "the frozen subscriber did not finish"
echo "it printed $(count "$tmp/slow.out") of $F records; exit status $(cat "$tmp/slow.rc"):"
cat "$tmp/slow.err"
seq=$(sed -n 's/.*first frame not received: seq \([0-9]*\).*/\1/p' "$tmp/slow.err")
[ -n "$seq" ] || fail "no seq in the eviction message"
echo "== it knows where to resume: record $((seq + 1)) of the file on (seq $seq)"
if tail -n +$((seq + 1)) "$tmp/file" | cat "$tmp/slow.out" - | cmp -s - "$tmp/file"; then
	echo "what it printed and the file from there: all $F records, none twice, none missing"
else
	fail "the eviction message named the wrong place to resume"
fi

echo "== a late consumer asks for the last 3 records, with their sequence numbers"
timeout 15 "$SFCAT" -s "$sock" --from -3 --print-seq -n 3 file ||
    fail "the late consumer got nothing"
echo "== stopping sfd with kill -TERM"
stop_sfd

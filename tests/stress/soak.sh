#!/bin/sh
# tests/stress/soak.sh - a long run of random subscribers against one steady
# publisher.  Not part of CI.  Run by `make soak SOAK_SECONDS=N` (after
# `make`), or directly:
#
#     SOAK_SECONDS=60 sh tests/stress/soak.sh
#
# POSIX sh; needs python3 and a Linux /proc.  One sfd (-v, a small ring so
# that stalls lead to evictions, skips and frames lost from the ring) and
# one publisher: numbered records "r SEQ xxx..." at SOAK_RATE a second,
# each also written to DIR/published.  For SOAK_SECONDS, subscribers join,
# leave, stall (SIGSTOP/SIGCONT), die (SIGKILL) and resume at random
# (tests/stress/soak.py chaos: plain sfcat --print-seq, and --reconnect,
# --on-lag skip and --state ones).  Then the stopped are continued, the
# publisher ends with EOS, every subscriber still there must print the rest
# and exit 0, and sfd must exit 0 on SIGTERM.
#
# Verdict (tests/stress/soak.py check): for every subscriber, the frames it
# printed plus the frames it reported dropped (skipped; lost: no longer in
# the ring) equal the frames published during its life, with every record
# the one published under its seq; and sfd's VmRSS, sampled every 5 s, is
# stable: the last quarter's largest sample exceeds the first quarter's by
# at most SOAK_RSS_SLACK_KIB.  A summary is printed either way.
#
# Environment:
#   SOAK_SECONDS  length of the random phase in seconds (default 600)
#   SOAK_SEED     seed of the random choices (default: random; printed)
#   SOAK_RATE     records a second (default 1000)
#   SOAK_RSS_SLACK_KIB  allowed RSS growth (default 10240)
#   SOAK_DIR      work folder (default: a new one under ${TMPDIR:-/tmp});
#                 removed after a pass unless SOAK_KEEP=1, kept after a fail
#   SF_BUILD      directory holding cmd/<prog>/<prog> (default: repo root)
#
# Exit status: 0 pass, 1 fail, 2 setup error.

# shellcheck disable=SC2317 # cleanup() runs from a trap

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${SF_BUILD:-$root}
SFD=$build/cmd/sfd/sfd
SFPIPE=$build/cmd/sfpipe/sfpipe
SFCAT=$build/cmd/sfcat/sfcat
seconds=${SOAK_SECONDS:-600}
rate=${SOAK_RATE:-1000}
seed=${SOAK_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}

say() {
	echo "soak: $*"
}

die() {
	echo "soak: $*" >&2
	exit 2
}

for p in "$SFD" "$SFPIPE" "$SFCAT"; do
	[ -x "$p" ] || die "not built: $p (run make first)"
done
command -v python3 >/dev/null || die "python3 is needed"
[ -r /proc/self/status ] || die "/proc is needed"
case $seconds in
'' | *[!0-9]*) die "SOAK_SECONDS=$seconds: not a number of seconds" ;;
esac

dir=${SOAK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sf-soak.XXXXXX")} ||
	die "cannot make a work folder"
mkdir -p "$dir" || die "cannot make $dir"
sock=$dir/sf.sock
sfd_pid=
pub_pid=
chaos_pid=

cleanup() {
	[ -n "$chaos_pid" ] && kill "$chaos_pid" 2>/dev/null
	[ -n "$pub_pid" ] && kill "$pub_pid" 2>/dev/null
	[ -n "$sfd_pid" ] && kill -KILL "$sfd_pid" 2>/dev/null
	touch "$dir/feed.stop" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_gone PID SECONDS: wait for PID to exit, at most SECONDS.
wait_gone() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

# wait_for SECONDS COMMAND: poll COMMAND until it succeeds, at most SECONDS.
wait_for() {
	i=0
	until eval "$2" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -gt $(($1 * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

say "$seconds s, seed $seed, $rate records/s, work folder $dir"

# A small ring: a subscriber stopped for about 20 s is past --max-lag, one
# gone for about 30 s finds its next frame no longer in the ring.
"$SFD" -v -l "$sock" --ring 1M --max-lag 256k --max-frame 16k --grace 1 \
    2>"$dir/sfd.log" &
sfd_pid=$!
wait_for 10 "grep -q '^[0-9T:.-]*Z sfd: listening on' '$dir/sfd.log'" ||
	die "sfd did not start: $(cat "$dir/sfd.log")"

python3 "$here/sfstress.py" feed r "$rate" "$dir/feed.stop" "$dir/published" \
    0 40 | "$SFPIPE" -s "$sock" --eos soak 2>"$dir/sfpipe.err" &
pub_pid=$!
wait_for 10 "grep -q 'publishing to soak' '$dir/sfd.log'" ||
	die "the publisher did not connect: $(cat "$dir/sfpipe.err")"

fail=0
# In the background, so that a signal to this script reaches the trap at
# once and the driver takes its subscribers along.
python3 "$here/soak.py" chaos "$dir" "$seconds" "$seed" "$SFCAT" "$sock" \
    "$sfd_pid" "$dir/feed.stop" &
chaos_pid=$!
wait "$chaos_pid" || {
	say "FAIL: the random clients' driver failed"
	fail=1
}
chaos_pid=

# The publisher ends with EOS once the driver has created feed.stop.
touch "$dir/feed.stop"
if wait_gone "$pub_pid" 30; then
	wait "$pub_pid"
	rc=$?
	pub_pid=
	[ "$rc" -eq 0 ] || {
		say "FAIL: sfpipe exited $rc: $(cat "$dir/sfpipe.err")"
		fail=1
	}
else
	say "FAIL: sfpipe still running 30 s after the end of its input"
	fail=1
fi

kill -TERM "$sfd_pid"
if wait_gone "$sfd_pid" 10; then
	wait "$sfd_pid"
	rc=$?
	sfd_pid=
	[ "$rc" -eq 0 ] || { say "FAIL: sfd exited $rc on SIGTERM"; fail=1; }
	[ ! -e "$sock" ] || { say "FAIL: sfd left its socket behind"; fail=1; }
else
	say "FAIL: sfd still running 10 s after SIGTERM"
	fail=1
fi
grep -v '^[0-9T:.-]*Z sfd: ' "$dir/sfd.log" | head -n 5 | sed 's/^/soak: sfd log: /'

python3 "$here/soak.py" check "$dir" || fail=1

if [ "$fail" -eq 0 ]; then
	say "PASS"
	[ "${SOAK_KEEP:-0}" = 1 ] || [ -n "${SOAK_DIR:-}" ] || rm -rf "$dir"
	exit 0
fi
say "FAIL (seed $seed); everything is in $dir"
exit 1

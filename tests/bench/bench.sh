#!/bin/sh
# tests/bench/bench.sh - fan-out throughput of streamfan against socat and
# ncat --broker.  Run by `make bench` (after `make`), or directly:
#
#     sh tests/bench/bench.sh
#
# POSIX sh.  Needs: awk, GNU coreutils (date +%N, timeout, sleep with a
# fraction), setsid (util-linux, optional), and for the peers socat and ncat.
# Nothing is installed by this script; a missing peer is reported as missing.
#
# Workload: one publisher sends BENCH_RECORDS records of 100 bytes (99
# characters and '\n') to K subscribers, for each K in BENCH_K.  Every
# subscriber counts what it got with `wc -lc`; a run in which any subscriber
# got anything but exactly BENCH_RECORDS records (and RECORDS*100 bytes) is
# a failed run, shown as FAILED or LOSS, never as a number.
#
#   streamfan  sfd on a Unix socket, ring and max-lag sized so that nothing
#              is evicted during the burst; K `sfcat -n RECORDS` subscribers
#              (all confirmed subscribed in sfd's -v log before the clock
#              starts), then `sfpipe < input`.
#   socat      the floor: a plain relay, one publisher connection to one
#              consumer over a Unix socket.  socat cannot fan out, so for K > 1
#              it runs K independent publisher/consumer pairs at once, each
#              relaying the full stream (K publishers instead of one: the same
#              number of deliveries, none of the fan-out work).
#   ncat       `ncat --broker` on 127.0.0.1 TCP (ncat refuses --broker with
#              Unix sockets); K `ncat --recv-only` consumers, then one
#              `ncat --send-only < input`.  A broker consumer never sees end of
#              input, so it counts through `head -n RECORDS`; if records are
#              lost the run is ended once the broker has gone idle and is
#              reported as LOSS with the records received.
#
# Time: from just before the publisher(s) start until the last subscriber
# has its full count (each subscriber stamps its own end time).
#
# Environment:
#   BENCH_RECORDS  records per run (default 200000)
#   BENCH_RUNS     runs per case; the median is reported (default 3)
#   BENCH_K        subscriber counts (default "1 10 50")
#   BENCH_TOOLS    which tools to run (default "streamfan socat ncat")
#   BENCH_TIMEOUT  seconds one run may take before it is failed (default 60)
#   BENCH_RING, BENCH_MAX_LAG  sfd --ring and --max-lag (default: sized so
#                  the whole burst fits, at least 64M and 48M)
#   BENCH_SOCAT_BLOCK  socat -b transfer block size (default 65536)
#   BENCH_SUBSCRIBED_RE  ERE for sfd -v's subscribe log line
#                  (default 'subscribed to bench ')
#   SF_BUILD       directory holding cmd/<prog>/<prog> (default: repo root)
#
# Exit status: 0 if every streamfan run was clean, 1 if any streamfan run
# failed, 2 on a setup error.  Peer failures or loss are reported, not fatal.

# shellcheck disable=SC2016,SC2046,SC2317
# (SC2016: job scripts expand later, in their own sh; SC2046: splitting
# $(...) into set -- is intended; SC2317: functions called from traps.)

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${SF_BUILD:-$root}

N=${BENCH_RECORDS:-200000}
RUNS=${BENCH_RUNS:-3}
KS=${BENCH_K:-"1 10 50"}
TOOLS=${BENCH_TOOLS:-"streamfan socat ncat"}
TMO=${BENCH_TIMEOUT:-60}
RECLEN=100

SFD=$build/cmd/sfd/sfd
SFPIPE=$build/cmd/sfpipe/sfpipe
SFCAT=$build/cmd/sfcat/sfcat

die() { echo "bench: $*" >&2; exit 2; }

case $N in ''|*[!0-9]*) die "BENCH_RECORDS=$N: not a number" ;; esac
case $RUNS in ''|*[!0-9]*|0) die "BENCH_RUNS=$RUNS: not a positive number" ;; esac
case $TMO in ''|*[!0-9]*|0) die "BENCH_TIMEOUT=$TMO: not a positive number" ;; esac
[ "$N" -gt 0 ] || die "BENCH_RECORDS must be at least 1"
for k in $KS; do
	case $k in ''|*[!0-9]*|0) die "BENCH_K: $k: not a positive number" ;; esac
done
for t in $TOOLS; do
	case $t in streamfan|socat|ncat) ;; *) die "BENCH_TOOLS: unknown tool $t" ;; esac
done
for c in awk date timeout sleep wc head; do
	command -v "$c" >/dev/null 2>&1 || die "$c: not found"
done
case $(date +%N) in *N*|'') die "date +%N unsupported (GNU coreutils needed)" ;; esac

# Every background job runs in its own session (setsid) so that cleanup can
# signal the whole pipeline, not only the shell that started it.
if command -v setsid >/dev/null 2>&1; then SETSID=setsid; else SETSID=; fi

# Temp dir: short enough for a Unix socket path (at most 107 bytes).
T=$(mktemp -d "${TMPDIR:-/tmp}/sfbench.XXXXXX" 2>/dev/null) || T=
if [ -z "$T" ] || [ ${#T} -gt 80 ]; then
	[ -n "$T" ] && rmdir "$T"
	T=$(mktemp -d /tmp/sfbench.XXXXXX) || die "cannot create a temp dir"
fi
: >"$T/pids"
# pidexec FILE CMD...: note its own pid in FILE, then become CMD.
printf '%s\n' 'f=$1; shift; echo $$ >"$f"; exec "$@"' >"$T/pidexec"

# Signal every job of the current run (whole process groups when setsid is
# there).  The list only ever holds the current run's jobs: end_run reaps
# them and empties it, so no stale pid is ever signalled.
signal_jobs() {
	[ -s "$T/pids" ] || return 0
	while read -r p; do stop "$1" "$p"; done <"$T/pids"
}
end_run() {
	signal_jobs KILL
	wait
	: >"$T/pids"
}
cleanup() {
	trap - EXIT INT TERM HUP
	signal_jobs TERM
	sleep 0.2
	signal_jobs KILL
	rm -rf "$T"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM HUP

export SFD SFPIPE SFCAT N TMO T

# spawn SCRIPT [ARG...]: run `sh -c SCRIPT sh ARG...` in the background in a
# session of its own; the pid (= process group id) is left in $spawned.
spawn() {
	_s=$1
	shift
	$SETSID sh -c "$_s" sh "$@" </dev/null >/dev/null 2>&1 &
	spawned=$!
	echo "$spawned" >>"$T/pids"
}

# Signal one spawned job (whole group if possible) and forget about it.
stop() {
	if [ -n "$SETSID" ]; then
		kill -"$1" "-$2" 2>/dev/null
	else
		kill -"$1" "$2" 2>/dev/null
	fi
	return 0
}

now() { date +%s.%N; }

add_note() { note="${note:+$note; }$1"; }

# CPU ticks (user+system) a process has used so far; empty if unknown.
cpu_ticks() {
	[ -r "/proc/$1/stat" ] || return 0
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null
}
HZ=$(getconf CLK_TCK 2>/dev/null) || HZ=100
[ -n "$HZ" ] || HZ=100

# System-wide "busy idle" jiffies, to show how saturated the CPUs were.
sys_cpu() {
	[ -r /proc/stat ] || { echo "0 0"; return 0; }
	awk '/^cpu /{ t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6; exit }' /proc/stat
}

# Read the pid a job wrote to FILE (bounded wait).
read_pidfile() {
	_i=0
	while [ ! -s "$1" ] && [ $_i -lt 100 ]; do sleep 0.02; _i=$((_i + 1)); done
	cat "$1" 2>/dev/null
}

# wait_count FILE ERE COUNT SECONDS: wait until FILE has COUNT lines matching.
wait_count() {
	_end=$(($(date +%s) + $4))
	while :; do
		_c=$(grep -Ec "$2" "$1" 2>/dev/null) || _c=0
		[ "$_c" -ge "$3" ] && return 0
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.02
	done
}

# all_done DIR K: true when K consumers left their end stamp.
all_done() {
	_n=0
	for _f in "$1"/c*.end; do [ -e "$_f" ] && _n=$((_n + 1)); done
	[ "$_n" -ge "$2" ]
}

# wait_done: poll (cheaply: no fork but sleep) until all K consumers of
# run directory $d are done, at most TMO seconds.
wait_done() {
	_n=0
	while ! all_done "$d" "$k" && [ $_n -lt $((TMO * 50)) ]; do
		sleep 0.02
		_n=$((_n + 1))
	done
}

# Summarise the K consumers of one run in directory $d: sets ok (1/0),
# recmin (fewest records at one consumer), recsum, bad, tend (last end stamp).
judge() {
	recmin='' recsum=0 bad=0
	_i=1
	while [ $_i -le "$1" ]; do
		set -- "$1" $(cat "$d/c$_i.cnt" 2>/dev/null)
		_l=${2:-0} _y=${3:-0}
		recsum=$((recsum + _l))
		{ [ -z "$recmin" ] || [ "$_l" -lt "$recmin" ]; } && recmin=$_l
		{ [ "$_l" -eq "$N" ] && [ "$_y" -eq $((N * RECLEN)) ]; } || bad=$((bad + 1))
		_i=$((_i + 1))
	done
	tend=$(cat "$d"/c*.end 2>/dev/null | awk '$1 > m { m = $1 } END { printf "%.6f\n", m }')
	if [ "$bad" -eq 0 ]; then ok=1; else ok=0; fi
}

# Data: N lines of 99 characters and '\n', generated once.
INPUT=$T/input
awk -v n="$N" 'BEGIN {
	f = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	f = f f; f = substr(f, 1, 89)
	for (i = 0; i < n; i++) printf "%09d %s\n", i, f
}' >"$INPUT" || die "cannot write the input"
[ "$(wc -c <"$INPUT" | tr -d ' ')" -eq $((N * RECLEN)) ] || die "input has the wrong size"
export INPUT

# Results: one line per run: K tool run status seconds recmin recsum daemoncpu busy% note
RES=$T/results
: >"$RES"

record() { # K tool run status secs recmin recsum dcpu busy note...
	echo "$*" >>"$RES"
}

busy_pct() { # before-total before-idle after-total after-idle
	awk -v t0="$1" -v i0="$2" -v t1="$3" -v i1="$4" 'BEGIN {
		d = t1 - t0; if (d <= 0) { print "-"; exit }
		printf "%.0f\n", 100 * (1 - (i1 - i0) / d) }'
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", b - a }'; }

# ---------------------------------------------------------------- streamfan

# Ring sizing: the whole burst may sit in the ring (frame = 4 + 99 bytes),
# so no subscriber can be evicted however far it falls behind.
burst_m=$(( (N * (RECLEN + 4)) / 1048576 + 1 ))
lag_m=$(( burst_m * 5 / 4 + 1 ))
[ $lag_m -lt 48 ] && lag_m=48
ring_m=$(( lag_m + 16 ))
RING=${BENCH_RING:-${ring_m}M}
MAX_LAG=${BENCH_MAX_LAG:-${lag_m}M}
export RING MAX_LAG

run_streamfan() { # K run
	k=$1 r=$2 d=$T/sf.$k.$r
	mkdir -p "$d"
	SOCK=$d/sfd.sock
	export SOCK d
	spawn 'timeout --foreground -k 2 $((TMO * 3)) sh "$T/pidexec" "$d/sfd.pid" "$SFD" -v -l "$SOCK" --ring "$RING" --max-lag "$MAX_LAG" 2>"$d/sfd.log"; echo $? >"$d/sfd.rc"'
	sfd_job=$spawned
	sfd_pid=$(read_pidfile "$d/sfd.pid")
	if ! wait_count "$d/sfd.log" 'listening on' 1 10; then
		record "$k" streamfan "$r" FAILED - 0 0 - - "sfd did not start: $(tail -n 3 "$d/sfd.log" | tr '\n' ' ')"
		stop TERM "$sfd_job"
		return
	fi
	i=1
	while [ $i -le "$k" ]; do
		spawn '{ timeout --foreground -k 2 "$TMO" "$SFCAT" -s "$SOCK" -n "$N" bench 2>"$d/c$1.err"; echo $? >"$d/c$1.rc"; } | wc -lc >"$d/c$1.cnt"; date +%s.%N >"$d/c$1.end"' "$i"
		i=$((i + 1))
	done
	# sfd -v logs every subscribe; all K must be in before the clock starts.
	if ! wait_count "$d/sfd.log" "$SUBSCRIBED_RE" "$k" 20; then
		got=$(grep -Ec "$SUBSCRIBED_RE" "$d/sfd.log")
		record "$k" streamfan "$r" FAILED - 0 0 - - "only $got of $k subscribers confirmed in sfd log within 20 s"
		stop TERM "$sfd_job"
		return
	fi
	set -- $(sys_cpu); c0t=$1 c0i=$2
	t0=$(now)
	spawn 'timeout --foreground -k 2 "$TMO" "$SFPIPE" -s "$SOCK" bench <"$INPUT" 2>"$d/pub.err"; echo $? >"$d/pub.rc"'
	pub=$spawned
	wait_done
	set -- $(sys_cpu); c1t=$1 c1i=$2
	dcpu=$(cpu_ticks "$sfd_pid")
	[ -n "$dcpu" ] && dcpu=$(awk -v t="$dcpu" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }') || dcpu=-
	timed_out=0
	all_done "$d" "$k" || timed_out=1
	# Stop sfd cleanly (it drains, says goodbye and removes its socket).
	# Signal sfd alone (not its job) so that its exit status gets recorded.
	[ -n "$sfd_pid" ] && kill -TERM "$sfd_pid" 2>/dev/null
	j=0
	while [ ! -e "$d/sfd.rc" ] && [ $j -lt 250 ]; do sleep 0.02; j=$((j + 1)); done
	stop KILL "$sfd_job"
	j=0
	while ! all_done "$d" "$k" && [ $j -lt 250 ]; do sleep 0.02; j=$((j + 1)); done
	stop KILL "$pub"
	judge "$k"
	note=
	[ $timed_out -eq 1 ] && add_note "timed out after ${TMO}s"
	prc=$(cat "$d/pub.rc" 2>/dev/null) || prc=
	[ "$prc" = 0 ] || add_note "sfpipe exit ${prc:-none}: $(head -c 200 "$d/pub.err" 2>/dev/null | tr '\n' ' ')"
	src=$(cat "$d/sfd.rc" 2>/dev/null) || src=
	[ "$src" = 0 ] || add_note "sfd exit ${src:-none (killed)}"
	rcs=$(cat "$d"/c*.rc 2>/dev/null | sort | uniq -c | awk '$2 != 0 { printf "%s%s sfcat exited %s", sep, $1, $2; sep = ", " }')
	[ -n "$rcs" ] && add_note "$rcs"
	ev=$(grep -c evicted "$d/sfd.log" 2>/dev/null) || ev=0
	[ "$ev" -gt 0 ] && add_note "$ev evicted, first: $(grep -m1 evicted "$d/sfd.log")"
	if [ $ok -eq 1 ] && [ -z "$note" ]; then
		record "$k" streamfan "$r" ok "$(elapsed "$t0" "$tend")" "$recmin" "$recsum" "$dcpu" "$(busy_pct $c0t $c0i $c1t $c1i)"
	else
		err=$(cat "$d"/c*.err 2>/dev/null | sort | uniq -c | head -n 3 | awk '{ $1 = $1 "x"; printf "%s%s", sep, $0; sep = "; " }')
		[ -n "$err" ] && add_note "sfcat said: $err"
		record "$k" streamfan "$r" FAILED - "$recmin" "$recsum" "$dcpu" - "$note"
	fi
}

# Pattern for sfd's -v "subscribed" log line.
SUBSCRIBED_RE=${BENCH_SUBSCRIBED_RE:-'subscribed to bench '}

# ---------------------------------------------------------------- socat

# socat's default 8 KiB transfer block makes it a slow floor; 64 KiB is
# closer to what a plain relay can do.
SOCAT_BLOCK=${BENCH_SOCAT_BLOCK:-65536}
export SOCAT_BLOCK

run_socat() { # K run
	k=$1 r=$2 d=$T/socat.$k.$r
	mkdir -p "$d"
	export d
	i=1
	while [ $i -le "$k" ]; do
		spawn '{ timeout --foreground -k 2 "$TMO" socat -b "$SOCAT_BLOCK" -u UNIX-LISTEN:"$d/s$1.sock" STDOUT 2>"$d/c$1.err"; echo $? >"$d/c$1.rc"; } | wc -lc >"$d/c$1.cnt"; date +%s.%N >"$d/c$1.end"' "$i"
		i=$((i + 1))
	done
	i=1 j=0
	while [ $i -le "$k" ] && [ $j -lt 500 ]; do
		if [ -S "$d/s$i.sock" ]; then i=$((i + 1)); else sleep 0.02; j=$((j + 1)); fi
	done
	if [ $i -le "$k" ]; then
		record "$k" socat "$r" FAILED - 0 0 - - "listeners did not come up"
		return
	fi
	set -- $(sys_cpu); c0t=$1 c0i=$2
	t0=$(now)
	i=1
	while [ $i -le "$k" ]; do
		spawn 'timeout --foreground -k 2 "$TMO" socat -b "$SOCAT_BLOCK" -u STDIN UNIX-CONNECT:"$d/s$1.sock" <"$INPUT" 2>"$d/p$1.err"' "$i"
		i=$((i + 1))
	done
	wait_done
	set -- $(sys_cpu); c1t=$1 c1i=$2
	judge "$k"
	if [ $ok -eq 1 ]; then
		record "$k" socat "$r" ok "$(elapsed "$t0" "$tend")" "$recmin" "$recsum" - "$(busy_pct $c0t $c0i $c1t $c1i)"
	else
		record "$k" socat "$r" FAILED - "$recmin" "$recsum" - - "$(cat "$d"/*.err 2>/dev/null | head -n 2 | tr '\n' ' ')"
	fi
}

# ---------------------------------------------------------------- ncat

# ncat --broker will not use a Unix socket, so it gets a loopback TCP port:
# try ports from a pid-derived base until the broker stays up.
NCAT_BASE=$(( 20000 + $$ % 20000 ))

run_ncat() { # K run
	k=$1 r=$2 d=$T/ncat.$k.$r
	mkdir -p "$d"
	export d
	port=
	tries=0
	while [ -z "$port" ] && [ $tries -lt 20 ]; do
		p=$(( NCAT_BASE + tries ))
		tries=$((tries + 1))
		rm -f "$d/broker.log" "$d/broker.pid"
		PORT=$p
		export PORT
		spawn 'exec timeout --foreground -k 2 $((TMO * 3)) sh "$T/pidexec" "$d/broker.pid" ncat -v --broker -l 127.0.0.1 "$PORT" 2>"$d/broker.log"'
		job=$spawned
		bpid=$(read_pidfile "$d/broker.pid")
		if wait_count "$d/broker.log" 'Listening on' 1 5 && kill -0 "$job" 2>/dev/null; then
			port=$p
		else
			stop KILL "$job"
		fi
	done
	NCAT_BASE=$(( NCAT_BASE + tries ))
	if [ -z "$port" ]; then
		record "$k" ncat "$r" FAILED - 0 0 - - "broker did not start: $(tail -n 2 "$d/broker.log" | tr '\n' ' ')"
		return
	fi
	i=1
	while [ $i -le "$k" ]; do
		spawn 'timeout --foreground -k 2 "$TMO" ncat --recv-only 127.0.0.1 "$PORT" 2>"$d/c$1.err" | { head -n "$N" | wc -lc >"$d/c$1.cnt"; date +%s.%N >"$d/c$1.end"; }' "$i"
		i=$((i + 1))
	done
	# ncat -v logs each connection twice; count the lines that carry a port.
	if ! wait_count "$d/broker.log" 'Connection from [0-9.]+:[0-9]' "$k" 20; then
		record "$k" ncat "$r" FAILED - 0 0 - - "consumers did not all connect"
		stop TERM "$job"
		return
	fi
	set -- $(sys_cpu); c0t=$1 c0i=$2
	t0=$(now)
	spawn 'timeout --foreground -k 2 "$TMO" ncat --send-only 127.0.0.1 "$PORT" <"$INPUT" 2>"$d/pub.err"; echo $? >"$d/pub.rc"'
	last='' idle=0 drained=0 polls=0
	while ! all_done "$d" "$k" && [ $polls -lt $((TMO * 50)) ]; do
		polls=$((polls + 1))
		if [ $((polls % 10)) -eq 0 ] && [ -e "$d/pub.rc" ]; then
			# Publisher gone, consumers not complete: once the broker has
			# used no CPU for a second, nothing more is coming.
			cur=$(cpu_ticks "$bpid")
			if [ -n "$cur" ] && [ "$cur" = "$last" ]; then
				idle=$((idle + 1))
			else
				idle=0
			fi
			last=$cur
			if [ $idle -ge 5 ]; then drained=1; break; fi
		fi
		sleep 0.02
	done
	set -- $(sys_cpu); c1t=$1 c1i=$2
	dcpu=$(cpu_ticks "$bpid")
	[ -n "$dcpu" ] && dcpu=$(awk -v t="$dcpu" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }') || dcpu=-
	# Closing the broker ends the consumers still waiting for records.
	stop TERM "$job"
	j=0
	while ! all_done "$d" "$k" && [ $j -lt 250 ]; do sleep 0.02; j=$((j + 1)); done
	judge "$k"
	if [ $ok -eq 1 ]; then
		record "$k" ncat "$r" ok "$(elapsed "$t0" "$tend")" "$recmin" "$recsum" "$dcpu" "$(busy_pct $c0t $c0i $c1t $c1i)"
	else
		why="broker idle, records missing"
		[ $drained -eq 0 ] && why="timed out after ${TMO}s"
		record "$k" ncat "$r" LOSS - "$recmin" "$recsum" "$dcpu" - "$why"
	fi
}

# ---------------------------------------------------------------- main

missing=
have_tool() {
	case $1 in
	streamfan)
		for p in "$SFD" "$SFPIPE" "$SFCAT"; do
			[ -x "$p" ] || { missing="$missing|streamfan: $p not built (run make)"; return 1; }
		done ;;
	socat)
		command -v socat >/dev/null 2>&1 || { missing="$missing|socat: not installed (apt-get install socat)"; return 1; } ;;
	ncat)
		command -v ncat >/dev/null 2>&1 || { missing="$missing|ncat: not installed (apt-get install ncat)"; return 1; } ;;
	esac
}
run_tools=
for t in $TOOLS; do have_tool "$t" && run_tools="$run_tools $t"; done

ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null) || ncpu='?'
echo "streamfan bench: 1 publisher, $N records of $RECLEN bytes ($(awk -v b=$((N * RECLEN)) 'BEGIN { printf "%.1f", b / 1048576 }') MiB), K = $KS; $RUNS runs per case, median shown; $ncpu CPUs"
socat_v=$(socat -V 2>/dev/null | awk '/socat version/ { print $3; exit }')
ncat_v=$(ncat --version 2>&1 | awk '/^Ncat: Version/ { print $3; exit }')
echo "sfd --ring $RING --max-lag $MAX_LAG; socat ${socat_v:-(missing)} -b $SOCAT_BLOCK; ncat ${ncat_v:-(missing)}"

for k in $KS; do
	r=1
	while [ $r -le "$RUNS" ]; do
		for t in $run_tools; do
			printf 'bench: K=%s run %s/%s %s ...' "$k" "$r" "$RUNS" "$t" >&2
			"run_$t" "$k" "$r"
			end_run
			tail -n 1 "$RES" | awk '{ printf " %s %s\n", $4, $5 }' >&2
			rm -rf "$T/sf.$k.$r" "$T/$t.$k.$r"
		done
		r=$((r + 1))
	done
done

echo
awk -v n="$N" -v runs="$RUNS" -v ks="$KS" -v tools="$run_tools" -v missing="$missing" '
function median(s,   a, c, i, j, t) {
	c = split(s, a, " ")
	for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++)
		if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	if (c % 2) return a[(c + 1) / 2]
	return (a[c / 2] + a[c / 2 + 1]) / 2
}
{
	key = $1 SUBSEP $2
	runs_[key]++
	if ($4 == "ok") {
		secs[key] = secs[key] " " $5
		cpu[key] = cpu[key] " " $8
		busy[key] = busy[key] " " $9
	} else {
		fail[key]++
		st[key] = $4
		note = ""
		for (i = 10; i <= NF; i++) note = note " " $i
		why[key] = why[key] sprintf("\n      run %s: %s, fewest records at one subscriber %d of %d, all deliveries %d of %d;%s",
			$3, $4, $6, n, $7, n * $1, note)
	}
}
END {
	nk = split(ks, K, " ")
	nt = split(tools, TL, " ")
	label["streamfan"] = "streamfan (sfd)"
	label["ncat"] = "ncat --broker"
	printf "%-4s %-20s %9s %14s %14s %10s %8s %6s  %s\n", "K", "tool", "seconds", "deliveries/s", "rec/s per sub", "sf speedup", "srv cpu", "busy", "notes"
	for (x = 1; x <= nk; x++) {
		k = K[x]
		sfkey = k SUBSEP "streamfan"
		sfmed = (sfkey in fail || !(sfkey in secs)) ? "" : median(secs[sfkey])
		for (y = 1; y <= nt; y++) {
			t = TL[y]; key = k SUBSEP t
			name = label[t]
			if (t == "socat") name = (k == 1) ? "socat (relay)" : sprintf("socat (%d pairs)", k)
			if (!(key in runs_)) continue
			if (key in fail) {
				printf "%-4s %-20s %9s %14s %14s %10s %8s %6s  %s in %d of %d runs%s\n", k, name, st[key], "-", "-", "-", "-", "-",
					st[key], fail[key], runs_[key], why[key]
				continue
			}
			m = median(secs[key])
			tot = (m > 0) ? n * k / m : 0
			ratio = (sfmed != "" && sfmed > 0) ? sprintf("%.2fx", m / sfmed) : "-"
			c = median(cpu[key]); if (cpu[key] ~ /-/) c = "-"; else c = sprintf("%.2fs", c)
			b = median(busy[key]); b = (busy[key] ~ /-/) ? "-" : sprintf("%d%%", b)
			printf "%-4s %-20s %9.3f %14.0f %14.0f %10s %8s %6s  %s\n", k, name, m, tot, tot / k, ratio, c, b,
				"complete: " n " records at each of " k
		}
	}
	nm = split(missing, M, "|")
	for (i = 2; i <= nm; i++) printf "%-4s %s\n", "-", M[i]
	print ""
	print "seconds: median wall time from publisher start to the last subscriber holding all records."
	print "deliveries/s = K * records / seconds; rec/s per sub = records / seconds."
	print "sf speedup = tool seconds / streamfan seconds (above 1: streamfan faster)."
	print "srv cpu: CPU time of the relay process (sfd or the ncat broker) over the run."
	print "busy: share of all CPUs busy during the timed part (whole machine)."
	print "socat cannot fan out: for K > 1 it runs K independent publisher/consumer pairs."
}' "$RES"

# Exit 1 if any streamfan run failed (a benchmark of a broken build is no result).
if awk '$2 == "streamfan" && $4 != "ok" { bad = 1 } END { exit !bad }' "$RES"; then
	exit 1
fi
exit 0

#!/bin/sh
# tests/bench/bench.sh - fan-out throughput of streamfan against socat and
# ncat --broker, with every record counted.  Run by `make bench` (after
# `make`), or directly:
#
#     sh tests/bench/bench.sh
#
# POSIX sh.  Needs: awk, GNU coreutils (date +%N, timeout, sleep with a
# fraction), setsid (util-linux, optional), and for the peers socat and ncat,
# for the slow-consumer case jq.  Nothing is installed by this script; a
# missing peer is reported as missing.
#
# Workload: one publisher sends RECORDS records to K subscribers.  A record
# is a JSON line of exactly 100 bytes with its newline,
# {"seq":N,"pad":"xxx..."}, so that a subscriber may run it through jq.
# Every subscriber counts what it got with `wc -lc`.  A subscriber that got
# fewer than RECORDS records lost the rest; a run in which any subscriber
# lost a record is a LOSS, shown with the records lost and never with a
# rate.  A run that went wrong in any other way is FAILED.
#
# Cases, in this order, each run by every tool below, side by side:
#   RECORDS records to K subscribers, for each K in BENCH_K;
#   RECORDS records to 2 subscribers, one `sfcat | jq -c . | wc -lc` and one
#     `sfcat | wc -lc` (a first try with a slow consumer; jq -c . gives the
#     compact line back byte for byte, so both are counted alike);
#   BIG records to K subscribers, for each K in BENCH_BIG_K.
#
# Tools:
#   streamfan  sfd at its defaults (no --ring, no --max-lag) on a Unix
#              socket; K `sfcat -n RECORDS` subscribers, all confirmed in
#              sfd's -v log before the clock starts; then
#              `cat input | sfpipe`: a pipe, the way a producer feeds it.
#   paced      the same with `sfpipe --pace < input`.  When the sfpipe under
#              test does not list --pace in its --help, the row says n/a.
#   sized      NOT the defaults: `cat input | sfpipe` to an sfd whose
#              --ring and --max-lag hold the whole burst, so nobody can be
#              evicted: the cost of the fan-out alone.  Only in the
#              RECORDS cases with `wc -lc` subscribers.
#   tcp-sub    sfd at its defaults listening on the Unix socket and on
#              tcp:127.0.0.1:0 (the port it reports); K `sfcat -s
#              tcp:127.0.0.1:PORT -n RECORDS` subscribers over TCP loopback,
#              then `cat input | sfpipe` on the Unix socket.
#   tcp-all    the same with the publisher over TCP too: sfd also has
#              --publishers tcp (an access rule, needed to publish over TCP;
#              still no --ring, no --max-lag), and `cat input | sfpipe -s
#              tcp:127.0.0.1:PORT`: like for like with ncat --broker.
#              Both TCP rows run only in the RECORDS cases with `wc -lc`
#              subscribers whose K is in BENCH_TCP_K.
#   warm       the same as streamfan on a ring filled once first: before
#              the subscribers connect, the input is published to nobody
#              until it has gone round the ring, so the timed run pays no
#              first touch of the ring's pages (streamfan's row is cold).
#   shared, shared-warm  streamfan and warm with `sfcat --shared`
#              subscribers: each reads sfd's ring itself from a read-only
#              mapping (sf-protocol(7), SHARED READERS).
#   base, base-warm  streamfan and warm with the programs of another build
#              (BENCH_BASE, e.g. a checkout of the code before a change,
#              built), in the same run: like for like.
#   spool      sfd --spool DIR (a folder under the bench's temp folder;
#              the filesystem is named in the header line), otherwise at
#              its defaults, --sync 1 among them; `cat input | sfpipe`.
#   spool-sync0  the same with --sync 0: a sync after every turn of the
#              loop that appended.  Both spool rows run in the cases with
#              `wc -lc` subscribers whose K is in BENCH_SPOOL_K, the large
#              ones too: those go round the ring, so syncs are forced.
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
#   BENCH_JQ       1 to run the K=2 case with a jq subscriber, 0 not to
#                  (default 1)
#   BENCH_BIG      records per run of the large cases, 0 for none
#                  (default 1000000)
#   BENCH_BIG_K    subscriber counts of the large cases (default "1 10")
#   BENCH_TCP_K    subscriber counts of the TCP rows, among BENCH_K
#                  (default "1 10")
#   BENCH_SPOOL_K  subscriber counts of the spool rows, among BENCH_K
#                  (default "1 10")
#   BENCH_RESTART_MB  ring size in MiB of the restart measurement: a spool
#                  filled past its ring, then stopped and started again,
#                  clean and after SIGKILL; 0 for none (default 256)
#   BENCH_TOOLS    which tools to run (default "streamfan paced sized
#                  tcp-sub tcp-all spool spool-sync0 socat ncat")
#   BENCH_TIMEOUT  seconds one run may take before it is failed (default 60)
#   BENCH_SOCAT_BLOCK  socat -b transfer block size (default 65536)
#   BENCH_SUBSCRIBED_RE  ERE for sfd -v's subscribe log line
#                  (default 'subscribed to bench ')
#   SF_BUILD       directory holding cmd/<prog>/<prog> (default: repo root)
#   BENCH_BASE     another such directory: adds the base and base-warm rows
#
# Exit status: 0 if every streamfan run (streamfan, warm, shared, paced, sized, tcp-sub,
# tcp-all, spool, spool-sync0, the restart) delivered every record, 1 if any lost records or failed, 2 on a
# setup error.  Peer failures or loss are reported, not fatal; paced rows
# that are n/a are not failures.

# shellcheck disable=SC2016,SC2046,SC2086,SC2317
# (SC2016: job scripts expand later, in their own sh; SC2046, SC2086:
# splitting $(...) into set -- and $SFD_ARGS into words is intended; SC2317:
# functions called from traps.)

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${SF_BUILD:-$root}

NMAIN=${BENCH_RECORDS:-200000}
RUNS=${BENCH_RUNS:-3}
KS=${BENCH_K:-"1 10 50"}
JQCASE=${BENCH_JQ:-1}
NBIG=${BENCH_BIG:-1000000}
BIGKS=${BENCH_BIG_K:-"1 10"}
TCPKS=${BENCH_TCP_K:-"1 10"}
SPOOLKS=${BENCH_SPOOL_K:-"1 10"}
RESTART_MB=${BENCH_RESTART_MB:-256}
BASE=${BENCH_BASE:-}
TOOLS=${BENCH_TOOLS:-"streamfan warm shared shared-warm${BASE:+ base base-warm} paced sized tcp-sub tcp-all spool spool-sync0 socat ncat"}
TMO=${BENCH_TIMEOUT:-60}
RECLEN=100

SFD=$build/cmd/sfd/sfd
SFPIPE=$build/cmd/sfpipe/sfpipe
SFCAT=$build/cmd/sfcat/sfcat

die() { echo "bench: $*" >&2; exit 2; }

case $NMAIN in ''|*[!0-9]*) die "BENCH_RECORDS=$NMAIN: not a number" ;; esac
case $NBIG in ''|*[!0-9]*) die "BENCH_BIG=$NBIG: not a number" ;; esac
case $RUNS in ''|*[!0-9]*|0) die "BENCH_RUNS=$RUNS: not a positive number" ;; esac
case $TMO in ''|*[!0-9]*|0) die "BENCH_TIMEOUT=$TMO: not a positive number" ;; esac
case $JQCASE in 0|1) ;; *) die "BENCH_JQ=$JQCASE: not 0 or 1" ;; esac
case $RESTART_MB in ''|*[!0-9]*) die "BENCH_RESTART_MB=$RESTART_MB: not a number" ;; esac
[ "$NMAIN" -gt 0 ] || die "BENCH_RECORDS must be at least 1"
# Seven digits of seq leave 75 bytes of padding; more would not fit.
[ "$NMAIN" -le 10000000 ] || die "BENCH_RECORDS: at most 10000000"
[ "$NBIG" -le 10000000 ] || die "BENCH_BIG: at most 10000000"
for k in $KS $BIGKS $TCPKS $SPOOLKS; do
	case $k in ''|*[!0-9]*|0) die "BENCH_K, BENCH_BIG_K, BENCH_TCP_K, BENCH_SPOOL_K: $k: not a positive number" ;; esac
done
for t in $TOOLS; do
	case $t in streamfan|warm|shared|shared-warm|base|base-warm|paced|sized|tcp-sub|tcp-all|spool|spool-sync0|socat|ncat) ;; *) die "BENCH_TOOLS: unknown tool $t" ;; esac
	case $t in base*) [ -n "$BASE" ] || die "BENCH_TOOLS: $t needs BENCH_BASE" ;; esac
done
for c in awk date timeout sleep wc head cat; do
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

# consume I KIND CMD...: subscriber I of the run in $d.  Runs CMD (its
# stderr to cI.err, its status to cI.rc), through `head -n $N` when KIND
# has "head", through `jq -c .` when KIND has "jq" (its stderr and status to
# cI.jqerr and cI.jqrc), counts the result with `wc -lc` into cI.cnt and
# stamps cI.end.  No stage is added that KIND does not ask for, so the plain
# `wc -lc` subscriber is the same pipeline whatever the tool.  The stamp is
# taken in the last stage, as soon as wc has its count: the shell would
# wait for CMD too, and an ncat consumer past `head` only ends when the
# broker does.
cat >"$T/consume" <<'EOF'
i=$1 kind=$2
shift 2
src() { "$@" 2>"$d/c$i.err"; echo $? >"$d/c$i.rc"; }
jqf() { jq -c . 2>"$d/c$i.jqerr"; echo $? >"$d/c$i.jqrc"; }
count() { wc -lc >"$d/c$i.cnt"; date +%s.%N >"$d/c$i.end"; }
case $kind in
wc) src "$@" | count ;;
jq) src "$@" | jqf | count ;;
head-wc) src "$@" | head -n "$N" | count ;;
head-jq) src "$@" | head -n "$N" | jqf | count ;;
esac
EOF

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

export SFD SFPIPE SFCAT TMO T

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

# wait_done [SECONDS]: poll (cheaply: no fork but sleep) until all K
# consumers of run directory $d are done, at most SECONDS (default TMO).
wait_done() {
	_n=0
	_max=$(( ${1:-$TMO} * 50 ))
	while ! all_done "$d" "$k" && [ $_n -lt $_max ]; do
		sleep 0.02
		_n=$((_n + 1))
	done
}

# kind_of I: the consume KIND of subscriber I in this case: in the jq case
# the first subscriber runs jq, every other one only counts.
kind_of() {
	if [ "$MIX" = jq ] && [ "$1" -eq 1 ]; then echo jq; else echo wc; fi
}

# Summarise the K consumers of one run in directory $d: sets ok (1/0),
# lostmin, lostmax, lostsum (records not received, per subscriber and in
# all), bad (subscribers without exactly N records of RECLEN bytes), tend
# (last end stamp), and adds a note for a jq that failed or output that has
# every record but the wrong size.
judge() {
	lostmin='' lostmax=0 lostsum=0 bad=0
	_i=1
	while [ $_i -le "$1" ]; do
		set -- "$1" $(cat "$d/c$_i.cnt" 2>/dev/null)
		_l=${2:-0} _y=${3:-0}
		_lost=$((N - _l))
		[ $_lost -lt 0 ] && _lost=0
		lostsum=$((lostsum + _lost))
		{ [ -z "$lostmin" ] || [ "$_lost" -lt "$lostmin" ]; } && lostmin=$_lost
		[ "$_lost" -gt "$lostmax" ] && lostmax=$_lost
		if [ "$_l" -ne "$N" ] || [ "$_y" -ne $((N * RECLEN)) ]; then
			bad=$((bad + 1))
			[ "$_l" -ge "$N" ] && add_note "subscriber $_i: $_l records in $_y bytes, expected $N in $((N * RECLEN))"
		fi
		if [ -e "$d/c$_i.jqrc" ] && [ "$(cat "$d/c$_i.jqrc")" != 0 ]; then
			add_note "jq exit $(cat "$d/c$_i.jqrc"): $(head -c 120 "$d/c$_i.jqerr" | tr '\n' ' ')"
		fi
		_i=$((_i + 1))
	done
	tend=$(cat "$d"/c*.end 2>/dev/null | awk '$1 > m { m = $1 } END { printf "%.6f\n", m }')
	if [ "$bad" -eq 0 ]; then ok=1; else ok=0; fi
}

# verdict: the status of a finished run: ok, LOSS (records lost), or
# FAILED (everything arrived, but something else went wrong).
verdict() {
	if [ "$lostsum" -gt 0 ]; then echo LOSS
	elif [ $ok -eq 1 ] && [ -z "$note" ]; then echo ok
	else echo FAILED
	fi
}

# Data: NMAX JSON lines of exactly RECLEN bytes, generated once; the
# smaller cases read the first N lines of the same file.
NMAX=$NMAIN
[ "$NBIG" -gt "$NMAX" ] && NMAX=$NBIG
awk -v n="$NMAX" -v len="$RECLEN" 'BEGIN {
	f = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	f = f f
	for (i = 0; i < n; i++) {
		s = sprintf("%d", i)
		# {"seq": , "pad":" "} and the newline are 18 bytes.
		printf "{\"seq\":%s,\"pad\":\"%s\"}\n", s, substr(f, 1, len - 18 - length(s))
	}
}' >"$T/input.$NMAX" || die "cannot write the input"
[ "$(wc -c <"$T/input.$NMAX" | tr -d ' ')" -eq $((NMAX * RECLEN)) ] || die "input has the wrong size"
if [ "$NMAIN" -ne "$NMAX" ]; then
	head -n "$NMAIN" "$T/input.$NMAX" >"$T/input.$NMAIN" || die "cannot write the input"
fi

# Cases: N:K:MIX, in the order they are run and reported, each once.
CASES=
add_case() {
	case " $CASES " in *" $1 "*) ;; *) CASES="$CASES $1" ;; esac
}
for k in $KS; do add_case "$NMAIN:$k:wc"; done
[ "$JQCASE" -eq 1 ] && add_case "$NMAIN:2:jq"
if [ "$NBIG" -gt 0 ]; then
	for k in $BIGKS; do add_case "$NBIG:$k:wc"; done
fi

# Results: one line per run:
#   case tool run status seconds lostmin lostmax lostsum srvcpu busy% note...
# with the lost counts "-" when a run failed before anything was counted.
RES=$T/results
: >"$RES"

record() {
	echo "$*" >>"$RES"
}

busy_pct() { # before-total before-idle after-total after-idle
	awk -v t0="$1" -v i0="$2" -v t1="$3" -v i1="$4" 'BEGIN {
		d = t1 - t0; if (d <= 0) { print "-"; exit }
		printf "%.0f\n", 100 * (1 - (i1 - i0) / d) }'
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", b - a }'; }

# ---------------------------------------------------------------- streamfan

# sized_args N: sfd options under which a burst of N records (frame = 4 +
# 99 bytes) fits in the ring, so no subscriber can be evicted however far
# it falls behind.
sized_args() {
	_b=$(( ($1 * (RECLEN + 4)) / 1048576 + 1 ))
	_lag=$(( _b * 5 / 4 + 1 ))
	[ $_lag -lt 48 ] && _lag=48
	echo "--ring $((_lag + 16))M --max-lag ${_lag}M"
}

# Does the sfpipe under test know --pace?  Its --help prints the synopsis.
if "$SFPIPE" --help 2>&1 | grep -Eq -- '--pace([^a-z-]|$)'; then
	HAVE_PACE=1
else
	HAVE_PACE=0
fi

# run_streamfan K run TOOL: one run of a streamfan row.  The base rows are
# the default and warm rows with BENCH_BASE's programs.
run_streamfan() {
	case $3 in
	base|base-warm)
		_sfd=$SFD _pipe=$SFPIPE _cat=$SFCAT
		SFD=$BASE/cmd/sfd/sfd SFPIPE=$BASE/cmd/sfpipe/sfpipe
		SFCAT=$BASE/cmd/sfcat/sfcat
		export SFD SFPIPE SFCAT
		run_sf "$1" "$2" "$3"
		SFD=$_sfd SFPIPE=$_pipe SFCAT=$_cat
		export SFD SFPIPE SFCAT ;;
	*)
		run_sf "$1" "$2" "$3" ;;
	esac
}

# How many times the input goes to nobody before a warm run: enough to
# go round sfd's default ring once.
warm_fills() {
	echo $(( 64 * 1048576 / ($1 * RECLEN) + 1 ))
}

run_sf() { # K run MODE (default, warm, shared, shared-warm, base, base-warm, paced, sized, tcp-sub, tcp-all, spool, spool-sync0)
	k=$1 r=$2 mode=$3 d=$T/sf.$mode.$k.$r
	tool=streamfan
	[ "$mode" = default ] || tool=$mode
	if [ "$mode" = paced ] && [ $HAVE_PACE -eq 0 ]; then
		record "$CASE" "$tool" "$r" n/a - 0 0 0 - - "sfpipe has no --pace"
		return
	fi
	mkdir -p "$d"
	# sfd always listens on the Unix socket; the TCP rows add a loopback
	# listener on a free port, and tcp-all lets TCP peers publish.
	SOCK=$d/sfd.sock
	SFD_ARGS=
	case $mode in
	sized) SFD_ARGS=$(sized_args "$N") ;;
	tcp-sub) SFD_ARGS="-l tcp:127.0.0.1:0" ;;
	tcp-all) SFD_ARGS="-l tcp:127.0.0.1:0 --publishers tcp" ;;
	spool) SFD_ARGS="--spool $d/spool" ;;
	spool-sync0) SFD_ARGS="--spool $d/spool --sync 0" ;;
	esac
	CAT_ARGS=
	case $mode in shared*) CAT_ARGS=--shared ;; esac
	export SOCK d SFD_ARGS CAT_ARGS
	spawn 'timeout --foreground -k 2 $((TMO * 3)) sh "$T/pidexec" "$d/sfd.pid" "$SFD" -v -l "$SOCK" $SFD_ARGS 2>"$d/sfd.log"; echo $? >"$d/sfd.rc"'
	sfd_job=$spawned
	sfd_pid=$(read_pidfile "$d/sfd.pid")
	case $mode in tcp-*) up='listening on tcp:127\.0\.0\.1:[0-9]' ;; *) up='listening on' ;; esac
	if ! wait_count "$d/sfd.log" "$up" 1 10; then
		record "$CASE" "$tool" "$r" FAILED - - - - - - "sfd did not start: $(tail -n 3 "$d/sfd.log" | tr '\n' ' ')"
		stop TERM "$sfd_job"
		return
	fi
	# SUB, PUB: where the subscribers and the publisher connect; the TCP
	# port is the one sfd logged.
	SUB=$SOCK PUB=$SOCK
	case $mode in
	tcp-*)
		SUB=tcp:127.0.0.1:$(sed -n 's/^\([0-9T:.-]*Z \)\{0,1\}sfd: listening on tcp:127\.0\.0\.1:\([0-9][0-9]*\)$/\2/p' "$d/sfd.log" | head -n 1)
		[ "$mode" = tcp-all ] && PUB=$SUB ;;
	esac
	export SUB PUB
	case $mode in
	warm|base-warm|shared-warm)
		j=$(warm_fills "$N")
		while [ "$j" -gt 0 ]; do
			if ! timeout -k 2 "$TMO" "$SFPIPE" -s "$PUB" bench <"$INPUT" 2>"$d/fill.err"; then
				record "$CASE" "$tool" "$r" FAILED - - - - - - "filling the ring: $(head -n 1 "$d/fill.err")"
				stop TERM "$sfd_job"
				return
			fi
			j=$((j - 1))
		done ;;
	esac
	i=1
	while [ $i -le "$k" ]; do
		spawn 'sh "$T/consume" "$1" "$2" timeout --foreground -k 2 "$TMO" "$SFCAT" -s "$SUB" $CAT_ARGS -n "$N" bench' "$i" "$(kind_of "$i")"
		i=$((i + 1))
	done
	# sfd -v logs every subscribe; all K must be in before the clock starts.
	if ! wait_count "$d/sfd.log" "$SUBSCRIBED_RE" "$k" 20; then
		got=$(grep -Ec "$SUBSCRIBED_RE" "$d/sfd.log")
		record "$CASE" "$tool" "$r" FAILED - - - - - - "only $got of $k subscribers confirmed in sfd log within 20 s"
		stop TERM "$sfd_job"
		return
	fi
	set -- $(sys_cpu); c0t=$1 c0i=$2
	t0=$(now)
	if [ "$mode" = paced ]; then
		spawn 'timeout --foreground -k 2 "$TMO" "$SFPIPE" --pace -s "$PUB" bench <"$INPUT" 2>"$d/pub.err"; echo $? >"$d/pub.rc"'
	else
		spawn 'cat "$INPUT" | timeout --foreground -k 2 "$TMO" "$SFPIPE" -s "$PUB" bench 2>"$d/pub.err"; echo $? >"$d/pub.rc"'
	fi
	pub=$spawned
	wait_done
	set -- $(sys_cpu); c1t=$1 c1i=$2
	dcpu=$(cpu_ticks "$sfd_pid")
	[ -n "$dcpu" ] && dcpu=$(awk -v t="$dcpu" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }') || dcpu=-
	timed_out=0
	all_done "$d" "$k" || timed_out=1
	# Every subscriber may have been evicted while sfpipe still writes: let
	# it finish (bounded) so that its exit status is its own, not the
	# shutdown's.
	j=0
	while [ ! -e "$d/pub.rc" ] && [ $j -lt 500 ]; do sleep 0.02; j=$((j + 1)); done
	# Stop sfd cleanly (it drains, says goodbye and removes its socket).
	# Signal sfd alone (not its job) so that its exit status gets recorded.
	[ -n "$sfd_pid" ] && kill -TERM "$sfd_pid" 2>/dev/null
	j=0
	while [ ! -e "$d/sfd.rc" ] && [ $j -lt 250 ]; do sleep 0.02; j=$((j + 1)); done
	stop KILL "$sfd_job"
	j=0
	while ! all_done "$d" "$k" && [ $j -lt 250 ]; do sleep 0.02; j=$((j + 1)); done
	stop KILL "$pub"
	note=
	judge "$k"
	[ $timed_out -eq 1 ] && add_note "timed out after ${TMO}s"
	prc=$(cat "$d/pub.rc" 2>/dev/null) || prc=
	[ "$prc" = 0 ] || add_note "sfpipe exit ${prc:-none}: $(head -c 200 "$d/pub.err" 2>/dev/null | tr '\n' ' ')"
	src=$(cat "$d/sfd.rc" 2>/dev/null) || src=
	[ "$src" = 0 ] || add_note "sfd exit ${src:-none (killed)}"
	rcs=$(cat "$d"/c*.rc 2>/dev/null | sort | uniq -c | awk '$2 != 0 { printf "%s%s sfcat exited %s", sep, $1, $2; sep = ", " }')
	[ -n "$rcs" ] && add_note "$rcs"
	ev=$(grep -c evicted "$d/sfd.log" 2>/dev/null) || ev=0
	[ "$ev" -gt 0 ] && add_note "$ev of $k evicted, first: $(grep -m1 evicted "$d/sfd.log" | sed -e 's/^\([0-9T:.-]*Z \)\{0,1\}sfd: #[0-9]* pid=[0-9]* uid=[0-9]* gid=[0-9]*: //' -e 's/^\([0-9T:.-]*Z \)\{0,1\}sfd: #[0-9]* addr=[^ ]*: //')"
	st=$(verdict)
	if [ "$st" = ok ]; then
		record "$CASE" "$tool" "$r" ok "$(elapsed "$t0" "$tend")" 0 0 0 "$dcpu" "$(busy_pct $c0t $c0i $c1t $c1i)"
	else
		# sfd's eviction line says it all; otherwise sfcat may know why.
		if [ "$ev" -eq 0 ]; then
			err=$(cat "$d"/c*.err 2>/dev/null | sort | uniq -c | sort -rn | head -n 1 | awk '{ $1 = $1 "x"; print }')
			[ -n "$err" ] && add_note "sfcat said: $err"
		fi
		record "$CASE" "$tool" "$r" "$st" - "$lostmin" "$lostmax" "$lostsum" "$dcpu" - "$note"
	fi
}

# ---------------------------------------------------------------- restart

# sfd_up LOG: wait (bounded) for sfd's "listening on" line in LOG.
sfd_up() {
	wait_count "$1" 'listening on' 1 "$TMO"
}

# restart_bench: fill a spool of RESTART_MB MiB past its ring, then time a
# clean stop, a start on it (every frame validated), a start after
# SIGKILL, and, where the page cache can be dropped, a cold start.  Each
# start must serve exactly the records published: the newest is the last
# one sent, and the restored seqs end at the count sent.
RESTART_BAD=0
restart_bench() {
	[ "$RESTART_MB" -gt 0 ] || return 0
	d=$T/restart
	mkdir -p "$d"
	nrec=$(( RESTART_MB * 1048576 / (RECLEN + 3) * 5 / 4 ))
	awk -v n="$nrec" -v len="$RECLEN" 'BEGIN {
		f = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
		f = f f
		for (i = 0; i < n; i++) {
			s = sprintf("%d", i)
			printf "{\"seq\":%s,\"pad\":\"%s\"}\n", s, substr(f, 1, len - 18 - length(s))
		}
	}' >"$d/input"
	last=$(tail -n 1 "$d/input")
	SOCK=$d/sfd.sock
	export SOCK d
	start_spooled() { # LOG
		spawn 'sh "$T/pidexec" "$d/sfd.pid" "$SFD" -l "$SOCK" --spool "$d/spool" --ring "$1"M 2>"$2"; echo $? >"$d/sfd.rc"' "$RESTART_MB" "$1"
		rm -f "$d/sfd.rc"
		sfd_up "$1" || { echo "restart: sfd did not start: $(tail -n 2 "$1")"; RESTART_BAD=1; return 1; }
		sfd_pid=$(read_pidfile "$d/sfd.pid")
	}
	stop_spooled() { # SIGNAL
		kill -"$1" "$sfd_pid"
		_j=0
		while [ ! -e "$d/sfd.rc" ] && [ $_j -lt $((TMO * 50)) ]; do sleep 0.02; _j=$((_j + 1)); done
		rm -f "$d/sfd.pid"
	}
	# served LOG WHAT: the restore line says seqs end at nrec and the
	# newest record is the last one sent.
	served() {
		_end=$(sed -n 's/.*restored from the spool.*seq [0-9]*\.\.\([0-9]*\),.*/\1/p' "$1")
		_got=$(timeout "$TMO" "$SFCAT" -s "$SOCK" --from -1 -n 1 bench 2>/dev/null)
		if [ "$_end" != "$nrec" ] || [ "$_got" != "$last" ]; then
			echo "restart: LOSS after $2: seqs end at ${_end:-?}, not $nrec; newest ${_got:-none}"
			RESTART_BAD=1
		fi
	}
	start_spooled "$d/fill.log" || return
	timeout "$TMO" "$SFPIPE" -s "$SOCK" --pace bench <"$d/input" 2>"$d/pub.err" ||
	    { echo "restart: sfpipe failed: $(head -c 200 "$d/pub.err")"; RESTART_BAD=1; }
	t0=$(now); stop_spooled TERM; tstop=$(elapsed "$t0" "$(now)")
	t0=$(now); start_spooled "$d/warm.log" || return; twarm=$(elapsed "$t0" "$(now)")
	served "$d/warm.log" "a clean stop"
	stop_spooled KILL
	t0=$(now); start_spooled "$d/kill.log" || return; tkill=$(elapsed "$t0" "$(now)")
	served "$d/kill.log" "SIGKILL"
	stop_spooled TERM
	tcold=n/a
	if sync && (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
		t0=$(now); start_spooled "$d/cold.log" || return; tcold=$(elapsed "$t0" "$(now)")s
		served "$d/cold.log" "dropping the page cache"
		stop_spooled TERM
	fi
	frames=$(sed -n 's/.*restored from the spool.*seq \([0-9]*\)\.\.\([0-9]*\),.*/\2 - \1/p' "$d/warm.log")
	echo "restart on a full ${RESTART_MB} MiB spool ($SPOOLFS; $(( $frames )) frames validated, $nrec records sent):"
	echo "  clean stop ${tstop}s; start after it ${twarm}s; start after SIGKILL ${tkill}s; cold start (page cache dropped) $tcold"
	echo "  loss: $([ $RESTART_BAD -eq 0 ] && echo none || echo 'LOSS (see above)')"
	echo
	end_run
	rm -rf "$d"
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
		spawn 'sh "$T/consume" "$1" "$2" timeout --foreground -k 2 "$TMO" socat -b "$SOCAT_BLOCK" -u UNIX-LISTEN:"$d/s$1.sock" STDOUT' "$i" "$(kind_of "$i")"
		i=$((i + 1))
	done
	i=1 j=0
	while [ $i -le "$k" ] && [ $j -lt 500 ]; do
		if [ -S "$d/s$i.sock" ]; then i=$((i + 1)); else sleep 0.02; j=$((j + 1)); fi
	done
	if [ $i -le "$k" ]; then
		record "$CASE" socat "$r" FAILED - - - - - - "listeners did not come up"
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
	note=
	judge "$k"
	st=$(verdict)
	if [ "$st" = ok ]; then
		record "$CASE" socat "$r" ok "$(elapsed "$t0" "$tend")" 0 0 0 - "$(busy_pct $c0t $c0i $c1t $c1i)"
	else
		add_note "$(cat "$d"/*.err 2>/dev/null | head -n 2 | tr '\n' ' ')"
		record "$CASE" socat "$r" "$st" - "$lostmin" "$lostmax" "$lostsum" - - "$note"
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
		record "$CASE" ncat "$r" FAILED - - - - - - "broker did not start: $(tail -n 2 "$d/broker.log" | tr '\n' ' ')"
		return
	fi
	i=1
	while [ $i -le "$k" ]; do
		spawn 'sh "$T/consume" "$1" "head-$2" timeout --foreground -k 2 "$TMO" ncat --recv-only 127.0.0.1 "$PORT"' "$i" "$(kind_of "$i")"
		i=$((i + 1))
	done
	# ncat -v logs each connection twice; count the lines that carry a port.
	if ! wait_count "$d/broker.log" 'Connection from [0-9.]+:[0-9]' "$k" 20; then
		record "$CASE" ncat "$r" FAILED - - - - - - "consumers did not all connect"
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
	# Closing the broker ends the consumers still waiting for records; a
	# jq subscriber may still be working through what it was sent.
	stop TERM "$job"
	wait_done 10
	note=
	judge "$k"
	st=$(verdict)
	if [ "$st" = ok ]; then
		record "$CASE" ncat "$r" ok "$(elapsed "$t0" "$tend")" 0 0 0 "$dcpu" "$(busy_pct $c0t $c0i $c1t $c1i)"
	else
		why="broker idle, records missing"
		[ $drained -eq 0 ] && why="timed out after ${TMO}s"
		[ "$st" = LOSS ] || why=$note
		record "$CASE" ncat "$r" "$st" - "$lostmin" "$lostmax" "$lostsum" "$dcpu" - "$why"
	fi
}

# ---------------------------------------------------------------- main

missing=
have_tool() {
	case $1 in
	base|base-warm)
		for p in "$BASE/cmd/sfd/sfd" "$BASE/cmd/sfpipe/sfpipe" "$BASE/cmd/sfcat/sfcat"; do
			[ -x "$p" ] || { missing="$missing|$1: $p not built"; return 1; }
		done ;;
	streamfan|warm|shared*|paced|sized|tcp-*)
		for p in "$SFD" "$SFPIPE" "$SFCAT"; do
			[ -x "$p" ] || { missing="$missing|$1: $p not built (run make)"; return 1; }
		done ;;
	socat)
		command -v socat >/dev/null 2>&1 || { missing="$missing|socat: not installed (apt-get install socat)"; return 1; } ;;
	ncat)
		command -v ncat >/dev/null 2>&1 || { missing="$missing|ncat: not installed (apt-get install ncat)"; return 1; } ;;
	esac
}
run_tools=
for t in $TOOLS; do have_tool "$t" && run_tools="$run_tools $t"; done
if [ "$JQCASE" -eq 1 ] && ! command -v jq >/dev/null 2>&1; then
	missing="$missing|jq: not installed (apt-get install jq); the K=2 jq case was not run"
	CASES=$(echo "$CASES" | tr ' ' '\n' | grep -v ':jq$' | tr '\n' ' ')
fi

# Write down what each case is, for the report: case N K MIX sized-args.
: >"$T/cases"
for c in $CASES; do
	IFS=: read -r cn ck cm <<EOF
$c
EOF
	echo "$c $cn $ck $cm $(sized_args "$cn")" >>"$T/cases"
done

ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null) || ncpu='?'
big=
[ "$NBIG" -gt 0 ] && big="; $NBIG records to K = $BIGKS"
echo "streamfan bench: 1 publisher, records of $RECLEN bytes (JSON lines); $NMAIN records to K = $KS$big; $RUNS runs per case, median shown; $ncpu CPUs"
socat_v=$(socat -V 2>/dev/null | awk '/socat version/ { print $3; exit }')
ncat_v=$(ncat --version 2>&1 | awk '/^Ncat: Version/ { print $3; exit }')
jq_v=$(jq --version 2>/dev/null)
pace_v="sfpipe has --pace"
[ $HAVE_PACE -eq 1 ] || pace_v="sfpipe has no --pace"
SPOOLFS=$(df -PT "$T" 2>/dev/null | awk 'NR == 2 { print $2 }')
SPOOLFS=${SPOOLFS:-unknown filesystem}
echo "sfd at its defaults unless a row says otherwise; spool on $SPOOLFS; $pace_v; socat ${socat_v:-(missing)} -b $SOCAT_BLOCK; ncat ${ncat_v:-(missing)}; ${jq_v:-jq (missing)}"

for CASE in $CASES; do
	IFS=: read -r N k MIX <<EOF
$CASE
EOF
	INPUT=$T/input.$N
	export N INPUT
	r=1
	while [ $r -le "$RUNS" ]; do
		for t in $run_tools; do
			# The sized row belongs to the plain cases at BENCH_RECORDS.
			if [ "$t" = sized ] && { [ "$MIX" != wc ] || [ "$N" -ne "$NMAIN" ]; }; then
				continue
			fi
			# So do the TCP rows, for the K in BENCH_TCP_K.
			case $t in
			tcp-*)
				{ [ "$MIX" = wc ] && [ "$N" -eq "$NMAIN" ]; } || continue
				case " $TCPKS " in *" $k "*) ;; *) continue ;; esac ;;
			spool*)
				[ "$MIX" = wc ] || continue
				case " $SPOOLKS " in *" $k "*) ;; *) continue ;; esac ;;
			esac
			printf 'bench: %s records K=%s%s run %s/%s %s ...' "$N" "$k" "$([ "$MIX" = jq ] && echo ' (jq)')" "$r" "$RUNS" "$t" >&2
			case $t in
			streamfan) run_streamfan "$k" "$r" default ;;
			warm|shared*|base*|paced|sized|tcp-*|spool*) run_streamfan "$k" "$r" "$t" ;;
			*) "run_$t" "$k" "$r" ;;
			esac
			end_run
			tail -n 1 "$RES" | awk '{ s = $5; if ($4 == "LOSS") s = "lost " $8; printf " %s %s\n", $4, s }' >&2
			rm -rf "$T"/sf.*."$k"."$r" "$T/$t.$k.$r"
		done
		r=$((r + 1))
	done
done

echo
awk -v runs="$RUNS" -v tools="$run_tools" -v missing="$missing" -v spoolfs="$SPOOLFS" '
function median(s,   a, c, i, j, t) {
	c = split(s, a, " ")
	for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++)
		if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	if (c % 2) return a[(c + 1) / 2]
	return (a[c / 2] + a[c / 2 + 1]) / 2
}
# For each pair of tools "X Y" in pairs (labelled in turn by labels):
# median seconds of Y / those of X, where both ran without a failure.
function versus(c, pairs, labels, fmt,   P, L, n, b, ka, kb, vs) {
	n = split(pairs, P, " "); split(labels, L, " ")
	vs = ""
	for (b = 1; b < n; b += 2) {
		ka = c SUBSEP P[b]; kb = c SUBSEP P[b + 1]
		if (!(ka in secs) || !(kb in secs) || (ka in fail) || (kb in fail)) continue
		vs = vs sprintf("%s %s " fmt, vs == "" ? "" : ",", L[(b + 1) / 2],
		    median(secs[kb]) / median(secs[ka]))
	}
	return vs
}
FILENAME ~ /cases$/ {
	ncase++
	C[ncase] = $1; CN[$1] = $2; CK[$1] = $3; CM[$1] = $4
	sized[$1] = $5 " " $6 " " $7 " " $8
	next
}
{
	key = $1 SUBSEP $2
	runs_[key]++
	if ($4 == "ok") {
		secs[key] = secs[key] " " $5
		cpu[key] = cpu[key] " " $9
		busy[key] = busy[key] " " $10
		next
	}
	note = ""
	for (i = 11; i <= NF; i++) note = note " " $i
	if ($4 == "n/a") { na[key] = note; next }
	fail[key]++
	# A LOSS anywhere makes the row a LOSS; the run that lost most is shown.
	if ($4 == "LOSS" && (st[key] != "LOSS" || $8 + 0 > worst[key])) {
		worst[key] = $8 + 0; wmax[key] = $7; wmin[key] = $6
	}
	if (st[key] != "LOSS") st[key] = $4
	n = CN[$1]; k = CK[$1]
	if ($6 == "-") {
		uncounted[key] = 1
		why[key] = why[key] sprintf("\n%6s run %d: %s, nothing counted;%s", "", $3, $4, note)
	} else
		why[key] = why[key] sprintf("\n%6s run %d: %s, lost per subscriber min %d max %d of %d, in all %d of %d;%s",
			"", $3, $4, $6, $7, n, $8, n * k, note)
}
END {
	nt = split(tools, TL, " ")
	hdr = "%-42s %9s %13s %13s %15s %17s %7s %8s %7s %8s %5s\n"
	row = "%-42s %9.3f %13.0f %13.0f %15s %17s %7s %8s %7s %8s %5s\n"
	for (x = 1; x <= ncase; x++) {
		c = C[x]; n = CN[c]; k = CK[c]
		if (CM[c] == "jq")
			printf "%d records to K=%d: subscriber 1 `sfcat | jq -c . | wc -lc`, subscriber 2 `sfcat | wc -lc`\n", n, k
		else
			printf "%d records to K=%d, each subscriber `| wc -lc`\n", n, k
		printf hdr, "  tool", "seconds", "deliveries/s", "rec/s per sub", "lost/sub (max)", "lost (all subs)", "vs sf", "vs paced", "vs tcp", "srv cpu", "busy"
		base[1] = "streamfan"; base[2] = "paced"; base[3] = "tcp-all"
		for (b = 1; b <= 3; b++) {
			bk = c SUBSEP base[b]
			bmed[b] = (bk in secs && !(bk in fail)) ? median(secs[bk]) : ""
		}
		for (y = 1; y <= nt; y++) {
			t = TL[y]; key = c SUBSEP t
			if (!(key in runs_)) continue
			if (t == "streamfan") name = "streamfan: cat | sfpipe"
			else if (t == "warm") name = "streamfan: warm ring, cat | sfpipe"
			else if (t == "shared") name = "streamfan: sfcat --shared"
			else if (t == "shared-warm") name = "streamfan: warm ring, sfcat --shared"
			else if (t == "base") name = "base: cat | sfpipe"
			else if (t == "base-warm") name = "base: warm ring, cat | sfpipe"
			else if (t == "paced") name = "streamfan: sfpipe --pace"
			else if (t == "sized") name = "streamfan: sfd " sized[c]
			else if (t == "tcp-sub") name = "streamfan: TCP subs, cat | sfpipe Unix"
			else if (t == "tcp-all") name = "streamfan: TCP subs, cat | sfpipe TCP"
			else if (t == "spool") name = "streamfan: sfd --spool (--sync 1)"
			else if (t == "spool-sync0") name = "streamfan: sfd --spool --sync 0"
			else if (t == "socat") name = (k == 1) ? "socat (relay)" : sprintf("socat (%d pairs)", k)
			else if (t == "ncat") name = "ncat --broker"
			name = "  " name
			if (key in na) {
				printf "%-42s n/a:%s\n", name, na[key]
				continue
			}
			if (key in fail) {
				if (st[key] == "LOSS")
					printf "%-42s %9s %13s %13s %15s %17s %7s %8s %7s %8s %5s  in %d of %d runs%s\n", name,
						"LOSS", "-", "-", wmax[key] "/" n, worst[key] "/" n * k, "-", "-", "-", "-", "-",
						fail[key], runs_[key], why[key]
				else
					printf "%-42s %9s %13s %13s %15s %17s %7s %8s %7s %8s %5s  in %d of %d runs%s\n", name,
						st[key], "-", "-", (key in uncounted) ? "?" : "0/" n,
						(key in uncounted) ? "?" : "0/" n * k, "-", "-", "-", "-", "-",
						fail[key], runs_[key], why[key]
				continue
			}
			m = median(secs[key])
			tot = (m > 0) ? n * k / m : 0
			for (b = 1; b <= 3; b++)
				ratio[b] = (bmed[b] != "" && bmed[b] > 0) ? sprintf("%.2fx", m / bmed[b]) : "-"
			cc = median(cpu[key]); if (cpu[key] ~ /-/) cc = "-"; else cc = sprintf("%.2fs", cc)
			bb = median(busy[key]); bb = (busy[key] ~ /-/) ? "-" : sprintf("%d%%", bb)
			printf row, name, m, tot, tot / k, "0/" n, "0/" n * k, ratio[1], ratio[2], ratio[3], cc, bb
		}
		# This build against BENCH_BASE, cold and warm: base seconds /
		# these seconds (above 1: this build is faster).  Shared readers
		# against the socket path; a cold ring against a warm one.
		vs = versus(c, "streamfan base warm base-warm", "cold warm", "%.3fx")
		if (vs != "") print "  this build vs base (base seconds / these):" vs
		vs = versus(c, "shared streamfan shared-warm warm", "cold warm", "%.2fx")
		if (vs != "") print "  shared readers vs the socket (socket seconds / shared):" vs
		vs = versus(c, "streamfan warm shared shared-warm", "socket shared", "%.2fx")
		if (vs != "") print "  cold ring vs warm (warm seconds / cold):" vs
		print ""
	}
	nm = split(missing, M, "|")
	for (i = 2; i <= nm; i++) printf "missing: %s\n", M[i]
	if (nm > 1) print ""
	print "seconds: median wall time from publisher start to the last subscriber holding all records."
	print "deliveries/s = K * records / seconds; rec/s per sub = records / seconds."
	print "lost/sub (max): most records one subscriber did not get, of those sent; lost (all subs):"
	print "  records not delivered, summed over the subscribers, of records * K.  A run that lost"
	print "  any is a LOSS and has no rate; the run that lost most is shown, every run below it."
	print "vs sf, vs paced, vs tcp = tool seconds / streamfan seconds (cat | sfpipe, sfpipe --pace,"
	print "  and TCP subs with sfpipe over TCP, the like of ncat; above 1: streamfan faster); - when"
	print "  that streamfan row lost records or did not run."
	print "sfd runs at its defaults (no --ring, no --max-lag) in every row but \"streamfan: sfd --ring\","
	print "  which is sized so the whole burst fits and no one can be evicted: not the defaults."
	print "TCP rows: subscribers `sfcat -s tcp:127.0.0.1:PORT`; the publisher on the Unix socket, or over"
	print "  TCP with --publishers tcp (access only).  Only at BENCH_RECORDS, K in BENCH_TCP_K."
	print "spool rows: sfd --spool on " spoolfs ", at its defaults otherwise; vs sf compares with memory."
	print "srv cpu: CPU time of the relay process (sfd or the ncat broker) over the run."
	print "busy: share of all CPUs busy during the timed part (whole machine)."
	print "socat cannot fan out: for K > 1 it runs K independent publisher/consumer pairs."
	print "ncat consumers never see the end of the input: they count through head -n records."
}' "$T/cases" "$RES"

# Exit 1 if any streamfan run lost records or failed (a benchmark of a
# broken build is no result).
restart_bench

if [ $RESTART_BAD -eq 1 ] ||
    awk '$2 ~ /^(streamfan|warm|shared|shared-warm|base|base-warm|paced|sized|tcp-sub|tcp-all|spool|spool-sync0)$/ && $4 != "ok" && $4 != "n/a" { bad = 1 } END { exit !bad }' "$RES"; then
	echo "bench: streamfan lost records or failed in at least one run" >&2
	exit 1
fi
exit 0

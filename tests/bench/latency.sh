#!/bin/sh
# tests/bench/latency.sh - how long a record takes from its publisher to
# its readers, through streamfan and through the peers that are installed,
# side by side in one run.  Run by `make bench`, or after `make
# tests/bench/latency`:
#
#     SF_BUILD=$PWD sh tests/bench/latency.sh
#
# Workload: `latency stamp RATE COUNT` (tests/bench/latency.c) writes
# 1000 warm-up lines, then COUNT lines of 100 bytes at RATE a second, each
# holding the time just before its write(2); K readers each run the line
# through a tool and `latency read`, which takes the time its read(2)
# returned.  Percentiles are over every measured line of every reader, in
# microseconds.  A row where a reader missed a line is a LOSS, with the
# lines missed, never a figure.  `pipe` is the floor: the stamper straight
# into one reader, no daemon at all.
#
#   streamfan   sfd at its defaults on a Unix socket; `stamp | sfpipe S`,
#               K `sfcat S | latency read`, each confirmed in sfd's log
#   shared      the same with `sfcat --shared`: readers of the ring itself
#   redis       redis-server; `stamp PUBLISH | redis-cli`, K `redis-cli
#               --raw SUBSCRIBE` (each command waits for its answer)
#   mosquitto   mosquitto at QoS 0; `stamp | mosquitto_pub -l`, K
#               `mosquitto_sub`
#   ncat        ncat --broker; `stamp | ncat --send-only`, K `ncat
#               --recv-only` (every client gets every other's lines)
#
# Environment: BENCH_LAT_RATES (default "10000 100000"), BENCH_LAT_K
# (default "1 10 100"), BENCH_LAT_SECONDS (measured seconds a row,
# default 2).  A missing peer is reported as missing; nothing is
# installed.
set -u
B=${SF_BUILD:-$(pwd)}
LAT=$B/tests/bench/latency
PATH=$B/cmd/sfd:$B/cmd/sfpipe:$B/cmd/sfcat:$PATH
RATES=${BENCH_LAT_RATES:-10000 100000}
KS=${BENCH_LAT_K:-1 10 100}
SECS=${BENCH_LAT_SECONDS:-2}
[ -x "$LAT" ] || { echo "latency.sh: build $LAT first (make tests/bench/latency)" >&2; exit 2; }

failed=0
. "$(dirname "$0")/common.sh"
stop_bg() {  # stop_bg PID...: end these groups and wait for them
	for p in "$@"; do
		env kill -TERM -- "-$p" 2>/dev/null
	done
	for p in "$@"; do
		wait "$p" 2>/dev/null
	done
}

# publish CMD: `latency stamp RATE COUNT ARGS | CMD`, cut off after five
# times the row's seconds and 10 more: a peer that falls that far behind
# shows as a LOSS, rather than holding the bench for minutes.
publish() {
	_cmd=$1
	shift
	timeout -k 2 $((SECS * 5 + 10)) sh -c \
	    "'$LAT' stamp $rate $count $* 2>/dev/null | $_cmd"
}

# readers K CMD: K background `CMD | latency read` pipelines, writing
# T/r.1 to T/r.K; their pids in rpids.
readers() {
	rpids=
	rm -f "$T"/r.*
	_i=1
	while [ "$_i" -le "$1" ]; do
		start_bg sh -c "$2 | '$LAT' read $count '$T/r.$_i'"
		rpids="$rpids $bg_pid"
		_i=$((_i + 1))
	done
}
# finish: wait for the readers (each ends when it has all, or after 5 s
# of silence), stop their tools, and print the row NAME K.
finish() {
	wait_for $((SECS + 30)) "[ \$(ls '$T' | grep -c '^r\.[0-9]*\$') -ge $2 ]"
	# shellcheck disable=SC2086
	stop_bg $rpids
	_files=
	_i=1
	while [ "$_i" -le "$2" ]; do
		_files="$_files $T/r.$_i"
		_i=$((_i + 1))
	done
	# shellcheck disable=SC2086
	set -- "$1" "$2" $("$LAT" report "$count" $_files)
	if [ "$#" -lt 7 ] || [ "$7" != 0 ]; then
		printf '  %-12s %5s %9s %9s %9s %9s %12s\n' "$1" "$2" LOSS - - - "${7:-?}/$(($2 * count))"
		failed=1
	else
		printf '  %-12s %5s %9s %9s %9s %9s %12s\n' "$1" "$2" "$3" "$4" "$5" "$6" "0/$(($2 * count))"
	fi
}

echo "latency (us) from a line's write(2) to its reader's read(2); 100-byte lines"
echo "machine: $(nproc) CPUs, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for rate in $RATES; do
	count=$((rate * SECS))
	echo "$rate lines/s, $count measured a row:"
	printf '  %-12s %5s %9s %9s %9s %9s %12s\n' path K p50 p99 p99.9 max lost

	rpids=
	rm -f "$T"/r.*
	"$LAT" stamp "$rate" "$count" 2>/dev/null | "$LAT" read "$count" "$T/r.1"
	finish pipe 1

	for path in streamfan shared; do
		flag=
		[ "$path" = shared ] && flag=--shared
		for k in $KS; do
			start_bg sfd -v -l "$T/sf.sock" 2>"$T/sfd.log"
			sfd_pid=$bg_pid
			wait_for 10 "grep -q 'listening on' '$T/sfd.log'"
			readers "$k" "SF_SERVER='$T/sf.sock' sfcat $flag lat"
			wait_for 30 "[ \$(grep -c 'subscribed to lat ' '$T/sfd.log') -ge $k ]"
			publish "SF_SERVER='$T/sf.sock' sfpipe lat"
			finish "$path" "$k"
			stop_bg "$sfd_pid"
		done
	done

	if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
		for k in $KS; do
			rp=$(free_port)
			start_bg redis-server --port "$rp" --bind 127.0.0.1 --save '' \
			    --appendonly no --dir "$T" >/dev/null
			redis_pid=$bg_pid
			wait_for 10 "redis-cli -p $rp ping 2>/dev/null | grep -q PONG"
			readers "$k" "redis-cli -p $rp --raw SUBSCRIBE lat"
			wait_for 30 "[ \"\$(redis-cli -p $rp --raw PUBSUB NUMSUB lat | sed -n 2p)\" -ge $k ]"
			publish "redis-cli -p $rp >/dev/null" 100 "'PUBLISH lat '"
			finish redis "$k"
			stop_bg "$redis_pid"
		done
	else
		echo "  redis: missing (apt-get install redis-server redis-tools)"
	fi

	if command -v mosquitto >/dev/null && command -v mosquitto_sub >/dev/null; then
		for k in $KS; do
			mp=$(free_port)
			printf 'listener %s 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nlog_type subscribe\nmax_queued_messages 0\n' "$mp" >"$T/m.conf"
			start_bg mosquitto -c "$T/m.conf" 2>"$T/m.log"
			m_pid=$bg_pid
			wait_for 10 "mosquitto_pub -p $mp -t probe -m x 2>/dev/null"
			readers "$k" "mosquitto_sub -p $mp -t lat"
			wait_for 30 "[ \$(grep -c ' lat\$' '$T/m.log') -ge $k ]"
			publish "mosquitto_pub -p $mp -t lat -l"
			finish mosquitto "$k"
			stop_bg "$m_pid"
		done
	else
		echo "  mosquitto: missing (apt-get install mosquitto mosquitto-clients)"
	fi

	if command -v ncat >/dev/null; then
		for k in $KS; do
			np=$(free_port)
			start_bg ncat -l --broker --max-conns $((k + 10)) 127.0.0.1 "$np" \
			    2>"$T/ncat.log"
			n_pid=$bg_pid
			wait_for 10 "ss -Htln 'sport = :$np' | grep -q ."
			readers "$k" "ncat --recv-only 127.0.0.1 $np"
			wait_for 30 "[ \$(ss -Htn state established 'sport = :$np' | wc -l) -ge $k ]"
			publish "ncat --send-only 127.0.0.1 $np"
			finish ncat "$k"
			stop_bg "$n_pid"
		done
	else
		echo "  ncat: missing (apt-get install ncat)"
	fi
done
echo "lost: lines a reader missed, of K x measured; a row with any is LOSS."
exit "$failed"

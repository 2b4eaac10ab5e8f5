#!/bin/sh
# tests/bench/bridges.sh - throughput of each bridge in examples/bridges/
# beside its broker's own client alone, with every record counted.  Run
# by `make bench` after bench.sh, or directly:
#
#     sh tests/bench/bridges.sh
#
# POSIX sh.  Needs the brokers (redis-server, mosquitto, nats-server) and
# their clients (redis-cli, mosquitto_pub/_sub) and python3; an engine
# that is not installed is reported as missing.
#
# Workload: BENCH_BRIDGE_RECORDS (default 100000) JSON lines of 100 bytes
# with the newline, as in bench.sh.  Each row is timed once, from the
# start of the sending side to the last record counted at the receiving
# side (a wait bounded by BENCH_BRIDGE_WAIT seconds, default 120).
#   out rows: the records are in a stream already; the bridge is started
#     (from the oldest record) and the broker's own subscriber counts
#     them.  Beside it, "alone": the broker's own client sends the same
#     records from a file to the same subscriber, with no streamfan.
#   in rows: the bridge runs, `sfcat -n N` reads the stream; the broker's
#     client sends the records.  Beside it, "alone": the same sending
#     into the broker's own subscriber, no bridge.
# A row whose receiver got fewer than N records is a LOSS, shown with
# the records lost and never with a rate, and the bench exits 1.  bridge/alone = alone's rate
# and "alone s / bridge s" beside them: below 1, the bridge is slower.

set -u
failed=0   # 1 once a row lost records: the bench then exits 1
N=${BENCH_BRIDGE_RECORDS:-100000}
WAIT=${BENCH_BRIDGE_WAIT:-120}
root=$(cd "$(dirname "$0")/../.." && pwd)
BR=$root/examples/bridges
PATH=$root/cmd/sfd:$root/cmd/sfpipe:$root/cmd/sfcat:$PATH:/usr/sbin
export LC_ALL=C
# mawk reads a pipe a buffer at a time unless told it is interactive.
AWK_LIVE=
awk -W version 2>/dev/null | grep -q mawk && AWK_LIVE="-W interactive"

KILL_SIG=KILL
. "$(dirname "$0")/common.sh"
now() { date +%s.%N; }
lines() { wc -l <"$1" | tr -d ' '; }
# subscribed STREAM: how many subscribers STREAM has, as sfd counts them.
subscribed() {
	sfctl stats 2>/dev/null | awk -v s="$1" '$2 == "sub" && $3 == s' | wc -l
}
# nframes FILE: how many frames FILE holds.
nframes() {
	python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
i = k = 0
while i + 4 <= len(d):
    n = struct.unpack(">I", d[i:i + 4])[0]
    if i + 4 + n > len(d):
        break
    i += 4 + n
    k += 1
print(k)' "$1"
}

row() {  # row NAME SECONDS-OR-LOSS GOT
	if [ "$3" -eq "$N" ]; then
		printf '  %-44s %8.3f %12.0f %10s\n' "$1" "$2" \
		    "$(echo "$N $2" | awk '{ print $1 / $2 }')" "0/$N"
	else
		printf '  %-44s %8s %12s %10s\n' "$1" LOSS - "$(($N - $3))/$N"
		failed=1
	fi
}
ratio() {  # ratio BRIDGE-S ALONE-S BRIDGE-GOT ALONE-GOT
	if [ "$3" -eq "$N" ] && [ "$4" -eq "$N" ]; then
		echo "$1 $2" | awk '{ printf "  alone s / bridge s: %.2fx\n", $2 / $1 }'
	else
		echo "  alone s / bridge s: - (a row lost records)"
	fi
}

# timed SECONDS-VAR COND: wait for COND, setting the seconds since t0.
timed() {
	if wait_for "$WAIT" "$2"; then
		eval "$1=\$(echo \"\$(now) \$t0\" | awk '{ printf \"%.3f\", \$1 - \$2 }')"
	else
		eval "$1=LOSS"
	fi
}

awk -v n="$N" 'BEGIN {
	pad = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	for (i = 0; i < n; i++) {
		s = "{\"seq\":" i ",\"pad\":\""
		print s substr(pad, 1, 100 - length(s) - 3) "\"}"
	}
}' >"$T/in"

SOCK=$T/sf.sock
export SF_SERVER=$SOCK
start_bg sfd -q -l "$SOCK" --ring 256M 2>"$T/sfd.log"
wait_for 10 "[ -S '$SOCK' ]" || { echo "bench: sfd did not start" >&2; exit 1; }
echo "bridges: $N records of 100 bytes; $(nproc) CPUs; $(uname -sr)"
echo "  row                                          seconds    records/s       lost"

# ---------------------------------------------------------------- Redis
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	RP=$(free_port)
	export REDIS_PORT=$RP
	mkdir -p "$T/redis"
	start_bg redis-server --port "$RP" --bind 127.0.0.1 --dir "$T/redis" \
	    --appendonly yes --save '' --daemonize no >"$T/redis.log"
	wait_for 10 "redis-cli -p $RP ping 2>/dev/null | grep -q PONG"
	rc() { redis-cli -p "$RP" "$@"; }
	proto() {  # proto CMD KEY...: the RESP for CMD KEY... RECORD, per line
		awk -v pre="$*" 'function bulk(s) { return "$" length(s) "\r\n" s "\r\n" }
		BEGIN { k = split(pre, w, " "); for (i = 1; i <= k; i++) h = h bulk(w[i]) }
		{ printf "*%d\r\n%s%s", k + 1, h, bulk($0) }'
	}
	sfpipe ra <"$T/in"

	echo "Redis Streams, out (XADD):"
	t0=$(now)
	start_bg env FROM=oldest sh "$BR/stream-to-redis-streams.sh" ra kb
	timed s1 "[ \"\$(rc XLEN kb)\" -ge $N ]"
	g1=$(rc XLEN kb)
	env kill -TERM -- "-$bg_pid"
	proto XADD ka '*' r <"$T/in" >"$T/xadd"
	t0=$(now)
	rc --pipe <"$T/xadd" >/dev/null
	timed s2 "[ \"\$(rc XLEN ka)\" -ge $N ]"
	g2=$(rc XLEN ka)
	row "stream-to-redis-streams.sh" "$s1" "$g1"
	row "redis-cli --pipe XADD alone" "$s2" "$g2"
	ratio "$s1" "$s2" "$g1" "$g2"

	echo "Redis Streams, in (XREAD BLOCK):"
	: >"$T/c.out"
	start_bg sh -c "sfcat -n $N rb > '$T/c.out'"
	wait_for 10 "[ \$(subscribed rb) -ge 1 ]"
	t0=$(now)
	start_bg env START=0 STATE=$T/rb.state sh "$BR/redis-streams-to-stream.sh" ka rb
	timed s1 "[ \$(lines '$T/c.out') -ge $N ]"
	g1=$(lines "$T/c.out")
	env kill -TERM -- "-$bg_pid"
	t0=$(now)
	rc --raw XRANGE ka - + >"$T/xr.out"
	timed s2 true
	g2=$(grep -c '^{"seq"' "$T/xr.out")
	row "redis-streams-to-stream.sh" "$s1" "$g1"
	row "redis-cli XRANGE alone" "$s2" "$g2"
	ratio "$s1" "$s2" "$g1" "$g2"

	# The subscriber: one line per message, counted.
	psub() {  # psub CHANNEL FILE
		start_bg sh -c "redis-cli -p $RP --raw SUBSCRIBE $1 | awk $AWK_LIVE '{ k = \$0; getline; getline } k == \"message\" { print; fflush() }' > '$2'"
		wait_for 10 "[ \"\$(rc --raw PUBSUB NUMSUB $1 | sed -n 2p)\" = 1 ]"
	}
	echo "Redis pub/sub, out (PUBLISH):"
	psub cb "$T/p1.out"
	t0=$(now)
	start_bg env FROM=oldest STATE=$T/pb.state sh "$BR/stream-to-redis-pubsub.sh" ra cb
	timed s1 "[ \$(lines '$T/p1.out') -ge $N ]"
	g1=$(lines "$T/p1.out")
	env kill -TERM -- "-$bg_pid"
	psub ca "$T/p2.out"
	proto PUBLISH ca <"$T/in" >"$T/pub"
	t0=$(now)
	rc --pipe <"$T/pub" >/dev/null
	timed s2 "[ \$(lines '$T/p2.out') -ge $N ]"
	g2=$(lines "$T/p2.out")
	row "stream-to-redis-pubsub.sh" "$s1" "$g1"
	row "redis-cli --pipe PUBLISH alone" "$s2" "$g2"
	ratio "$s1" "$s2" "$g1" "$g2"

	echo "Redis pub/sub, in (SUBSCRIBE):"
	: >"$T/c2.out"
	start_bg sh -c "sfcat -n $N rc2 > '$T/c2.out'"
	start_bg sh "$BR/redis-pubsub-to-stream.sh" cc rc2
	wait_for 10 "[ \"\$(rc --raw PUBSUB NUMSUB cc | sed -n 2p)\" = 1 ]"
	wait_for 10 "[ \$(subscribed rc2) -ge 1 ]"
	proto PUBLISH cc <"$T/in" >"$T/pubc"
	t0=$(now)
	rc --pipe <"$T/pubc" >/dev/null
	timed s1 "[ \$(lines '$T/c2.out') -ge $N ]"
	g1=$(lines "$T/c2.out")
	psub cd "$T/p3.out"
	proto PUBLISH cd <"$T/in" >"$T/pubd"
	t0=$(now)
	rc --pipe <"$T/pubd" >/dev/null
	timed s2 "[ \$(lines '$T/p3.out') -ge $N ]"
	g2=$(lines "$T/p3.out")
	row "redis-pubsub-to-stream.sh" "$s1" "$g1"
	row "redis-cli SUBSCRIBE alone" "$s2" "$g2"
	ratio "$s1" "$s2" "$g1" "$g2"
else
	echo "Redis: missing (apt-get install redis-server redis-tools)"
fi

# ---------------------------------------------------------------- MQTT
if command -v mosquitto >/dev/null && command -v mosquitto_sub >/dev/null; then
	MP=$(free_port)
	export MQTT_PORT=$MP
	printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nsys_interval 1\n' \
	    "$MP" >"$T/mosquitto.conf"
	start_bg mosquitto -c "$T/mosquitto.conf" 2>"$T/mosquitto.log"
	wait_for 10 "mosquitto_pub -p $MP -t probe -m x 2>/dev/null"
	sfpipe ma <"$T/in"
	# The broker's count of subscriptions, updated each second.
	msubs() {
		mosquitto_sub -p "$MP" -t '$SYS/broker/subscriptions/count' -C 1 -W 2
	}
	mwant=0
	msub() {  # msub TOPIC FILE
		start_bg sh -c "mosquitto_sub -p $MP -q 1 -t $1 > '$2'"
		mwant=$((mwant + 1))
		wait_for 10 "[ \"\$(msubs)\" -ge $mwant ]"
	}
	# mpub TOPIC: the records to TOPIC at QoS 1, by mosquitto_pub -l in
	# parts of 50,000: past 65,535 messages its message ids wrap, and it
	# may end (status 0) before the broker has them all.
	split -l 50000 "$T/in" "$T/mq."
	mpub() {
		for f in "$T"/mq.*; do
			mosquitto_pub -p "$MP" -q 1 -t "$1" -l <"$f"
		done
	}
	echo "MQTT, out (QoS 1):"
	msub mb "$T/m1.out"
	t0=$(now)
	start_bg env FROM=oldest STATE=$T/mb.state sh "$BR/stream-to-mqtt.sh" ma mb
	timed s1 "[ \$(lines '$T/m1.out') -ge $N ]"
	g1=$(lines "$T/m1.out")
	env kill -TERM -- "-$bg_pid"
	msub mc "$T/m2.out"
	t0=$(now)
	mpub mc
	timed s2 "[ \$(lines '$T/m2.out') -ge $N ]"
	g2=$(lines "$T/m2.out")
	row "stream-to-mqtt.sh" "$s1" "$g1"
	row "mosquitto_pub -l alone" "$s2" "$g2"
	ratio "$s1" "$s2" "$g1" "$g2"

	echo "MQTT, in (QoS 1, persistent session):"
	: >"$T/m3.out"
	start_bg sh -c "sfcat -n $N mi > '$T/m3.out'"
	start_bg python3 "$BR/mqtt-to-stream.py" md mi
	mwant=$((mwant + 1))
	wait_for 10 "[ \"\$(msubs)\" -ge $mwant ]"
	wait_for 10 "[ \$(subscribed mi) -ge 1 ]"
	t0=$(now)
	mpub md
	timed s1 "[ \$(lines '$T/m3.out') -ge $N ]"
	g1=$(lines "$T/m3.out")
	msub me "$T/m4.out"
	t0=$(now)
	mpub me
	timed s2 "[ \$(lines '$T/m4.out') -ge $N ]"
	g2=$(lines "$T/m4.out")
	row "mqtt-to-stream.py" "$s1" "$g1"
	row "mosquitto_sub alone" "$s2" "$g2"
	ratio "$s1" "$s2" "$g1" "$g2"
else
	echo "MQTT: missing (apt-get install mosquitto mosquitto-clients)"
fi

# ---------------------------------------------------------------- NATS
if command -v nats-server >/dev/null; then
	NP=$(free_port)
	export NATS_PORT=$NP
	NM=$(free_port)
	start_bg nats-server -a 127.0.0.1 -p "$NP" -m "$NM" -js -sd "$T/js" \
	    2>"$T/nats.log"
	# The server's count of subscriptions, from its monitoring port.
	nsubs() {
		python3 -c 'import json, sys, urllib.request
print(json.load(urllib.request.urlopen("http://127.0.0.1:%s/subsz" % sys.argv[1]))["num_subscriptions"])' "$NM" 2>/dev/null
	}
	wait_for 10 "nsubs >/dev/null"
	nwant=$(nsubs)
	sfpipe na <"$T/in"
	sfcat --raw --from oldest -n "$N" na >"$T/frames"
	nsub() {  # nsub SUBJECT FILE
		start_bg sh -c "python3 '$BR/nats-frames.py' sub $1 > '$2'"
		nwant=$((nwant + 1))
		wait_for 10 "[ \"\$(nsubs)\" -ge $nwant ]"
	}
	nsize=$(wc -c <"$T/frames")
	echo "NATS, out (core NATS):"
	nsub nb "$T/n1.out"
	t0=$(now)
	start_bg env FROM=oldest STATE=$T/nb.state sh "$BR/stream-to-nats.sh" na nb
	timed s1 "[ \$(wc -c <'$T/n1.out') -ge $nsize ]"
	g1=$(nframes "$T/n1.out")
	env kill -TERM -- "-$bg_pid"
	nsub nc "$T/n2.out"
	t0=$(now)
	python3 "$BR/nats-frames.py" pub nc <"$T/frames"
	timed s2 "[ \$(wc -c <'$T/n2.out') -ge $nsize ]"
	g2=$(nframes "$T/n2.out")
	row "stream-to-nats.sh" "$s1" "$g1"
	row "nats-frames.py pub alone" "$s2" "$g2"
	ratio "$s1" "$s2" "$g1" "$g2"

	echo "NATS, in (core NATS):"
	: >"$T/c3.out"
	start_bg sh -c "sfcat -n $N nd > '$T/c3.out'"
	start_bg sh "$BR/nats-to-stream.sh" nd nd
	nwant=$((nwant + 1))
	wait_for 10 "[ \"\$(nsubs)\" -ge $nwant ] && [ \$(subscribed nd) -ge 1 ]"
	t0=$(now)
	python3 "$BR/nats-frames.py" pub nd <"$T/frames"
	timed s1 "[ \$(lines '$T/c3.out') -ge $N ]"
	g1=$(lines "$T/c3.out")
	nsub ne "$T/n3.out"
	t0=$(now)
	python3 "$BR/nats-frames.py" pub ne <"$T/frames"
	timed s2 "[ \$(wc -c <'$T/n3.out') -ge $nsize ]"
	g2=$(nframes "$T/n3.out")
	row "nats-to-stream.sh" "$s1" "$g1"
	row "nats-frames.py sub alone" "$s2" "$g2"
	ratio "$s1" "$s2" "$g1" "$g2"

	# No JetStream client is packaged here: beside the bridge, the core
	# subscriber alone, from the row above.
	echo "NATS JetStream, in (pull consumer, file storage, records already stored):"
	js_api() {  # js_api SUBJECT [JSON]: the API's answer
		python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
f = s.makefile("rb")
f.readline()
body = sys.argv[3].encode()
s.sendall(b"CONNECT {\"verbose\":false}\r\nSUB _INBOX.b 1\r\nPUB %s _INBOX.b %d\r\n%s\r\n" % (sys.argv[2].encode(), len(body), body))
while not f.readline().startswith(b"MSG"):
    pass
print(f.readline().decode().strip())' "$NP" "$1" "${2:-}"
	}
	js_api '$JS.API.STREAM.CREATE.jf' \
	    '{"name":"jf","subjects":["jf"],"storage":"file"}' >/dev/null
	python3 "$BR/nats-frames.py" pub jf <"$T/frames"
	wait_for 30 "js_api '\$JS.API.STREAM.INFO.jf' | grep -q '\"messages\":$N,'"
	: >"$T/j1.out"
	start_bg sh -c "sfcat -n $N jd > '$T/j1.out'"
	wait_for 10 "[ \$(subscribed jd) -ge 1 ]"
	t0=$(now)
	start_bg python3 "$BR/jetstream-to-stream.py" jf jd
	timed s1 "[ \$(lines '$T/j1.out') -ge $N ]"
	g1=$(lines "$T/j1.out")
	row "jetstream-to-stream.py" "$s1" "$g1"
	row "nats-frames.py sub alone (core NATS)" "$s2" "$g2"
	ratio "$s1" "$s2" "$g1" "$g2"
else
	echo "NATS: missing (apt-get install nats-server)"
fi
echo "seconds: from the start of the sending side to the last record counted at the"
echo "  receiving side.  alone: the broker's own client, no streamfan; an out row's"
echo "  bridge reads records already in a stream, an in row's feeds sfcat -n N."
exit "$failed"

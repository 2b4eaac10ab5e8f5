#!/usr/bin/env bats
# The bridges of examples/bridges/ against the real servers, each started
# on a free port in the test's folder: 100,000 records of mixed sizes each
# way, compared byte for byte, with the bridge and the broker killed
# mid-stream and started again.  A server that is not installed skips its
# tests, naming the package.

load helpers

BR=$ROOT/examples/bridges
N=${SF_BRIDGE_RECORDS:-100000}

setup() {
	# Shell over the tools and the brokers: the sanitizer pass covers
	# the programs themselves in the other files.
	[ "${SF_SANITIZED:-0}" != 1 ] ||
	    skip "the bridges run once, against the plain build"
	T=$BATS_TEST_TMPDIR
	SOCK=$T/sf.sock
	LOG=$T/sfd.log
	unset SF_SERVER XDG_RUNTIME_DIR
	: >"$T/.pids"
	: >"$T/.wrappers"
	: >"$T/.groups"
	export SF_BUILD=$BUILD
	# The bridges take the programs from PATH unless built in the tree;
	# the servers live in /usr/sbin.
	PATH=$BUILD/cmd/sfd:$BUILD/cmd/sfpipe:$BUILD/cmd/sfcat:$PATH:/usr/sbin
}

teardown() {
	local g
	while read -r g; do
		kill -KILL -- "-$g" 2>/dev/null || true
	done <"$T/.groups"
	sf_teardown
}

# need COMMAND PACKAGE: skip unless COMMAND is installed.
need() {
	command -v "$1" >/dev/null 2>&1 ||
	    skip "$1 is not installed (apt-get install $2)"
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bridge NAME SCRIPT ARGS...: a bridge in a session of its own, so that
# all of it can be killed at once.
bridge() {
	local name=$1
	shift
	case $1 in
	*.py) spawn "$name" setsid python3 "$BR/$@" ;;
	*) spawn "$name" setsid sh "$BR/$@" ;;
	esac
	local pid_var=${name}_pid
	echo "${!pid_var}" >>"$T/.groups"
}

# kill_bridge NAME SIGNAL: SIGKILL to the whole bridge, or SIGTERM to its
# shell (which stops it cleanly), and wait for it to end.
kill_bridge() {
	local pid_var=${1}_pid
	if [ "$2" = KILL ]; then
		kill -KILL -- "-${!pid_var}"
	else
		kill -TERM "${!pid_var}"
	fi
	wait_exit "$1" 30
	wait_until 10 "! kill -0 -- -${!pid_var}"
}

# records FILE: N lines of mixed sizes (1 to 300 bytes, some of 1k to
# 8k), each starting with its number, then any bytes but newline and NUL.
records() {
	python3 -c 'import random, sys
rnd = random.Random(21)
out = sys.stdout.buffer
for i in range(int(sys.argv[1])):
    n = rnd.randint(1000, 8000) if rnd.random() < 0.02 else rnd.randint(0, 300)
    b = bytes(rnd.getrandbits(8) for _ in range(n)) if n < 50 else rnd.randbytes(n)
    out.write(b"%06d " % i + b.replace(b"\n", b"\r").replace(b"\0", b"0") + b"\n")' "$N" >"$1"
}

# bad_setting MESSAGE COMMAND...: COMMAND is a usage error: exit 2,
# nothing on stdout, MESSAGE alone on stderr; a bridge that runs instead
# is ended by sfrun's bound.
bad_setting() {
	local want=$1
	shift
	sfrun "$@"
	assert_eq 2 "$status"
	[ -z "$output" ] || fail "stdout: $output"
	assert_eq "$want" "$stderr"
}

# lines FILE: how many lines FILE has.
lines() {
	wc -l <"$1" | tr -d ' '
}

# resumed INPUT OUTPUT MAXREP MAXLOST: OUTPUT is the lines of INPUT in
# order, but for runs of at most MAXREP lines given again after a
# restart and at most MAXLOST lines missing in all; prints "repeated R
# lost L".  Fails naming the first line out of place otherwise.
resumed() {
	python3 -c 'import sys
inp = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
out = open(sys.argv[2], "rb").read().split(b"\n")[:-1]
maxrep, maxlost = int(sys.argv[3]), int(sys.argv[4])
num = lambda l: int(l[:6])
i = rep = lost = 0
for k, l in enumerate(out):
    j = num(l)
    if inp[j] != l:
        sys.exit("output line %d is not input line %d" % (k + 1, j + 1))
    if j < i:
        if i - j > maxrep:
            sys.exit("output line %d: %d lines given again, more than %d" % (k + 1, i - j, maxrep))
        rep += 1
    elif j > i:
        lost += j - i
    i = max(i, j + 1)
lost += len(inp) - i
if lost > maxlost:
    sys.exit("%d lines lost, more than %d" % (lost, maxlost))
print("repeated %d lost %d" % (rep, lost))' "$@"
}

# ---------------------------------------------------------------- Redis

start_redis() {
	mkdir -p "$T/redis"
	spawn redis redis-server --port "$RPORT" --bind 127.0.0.1 \
	    --dir "$T/redis" --appendonly yes --save '' --daemonize no
	wait_until 10 "redis-cli -p $RPORT ping | grep -q PONG"
}

@test "Redis Streams both ways: 100,000 records exactly once, across SIGKILL of each bridge and of redis-server" {
	need redis-server redis-server
	need redis-cli redis-tools
	RPORT=$(free_port)
	export REDIS_PORT=$RPORT
	start_redis
	start_sfd
	records "$T/in"
	# The stream "a" gets the input; "b" gets it back from Redis.
	spawn cat "$SFCAT" -n "$N" b
	FROM=oldest bridge out stream-to-redis-streams.sh a k
	STATE=$T/in.state START=0 bridge in redis-streams-to-stream.sh k b
	wait_subscribers 3
	publish a <"$T/in"
	wait_until 60 "[ \$(redis-cli -p $RPORT XLEN k) -ge $((N / 4)) ]"
	kill_bridge out KILL
	bridge out stream-to-redis-streams.sh a k
	wait_until 60 "[ \$(lines '$T/cat.out') -ge $((N / 2)) ]"
	kill_bridge in KILL
	STATE=$T/in.state bridge in redis-streams-to-stream.sh k b
	wait_until 60 "[ \$(redis-cli -p $RPORT XLEN k) -ge $((N * 3 / 4)) ]"
	kill -KILL "$redis_pid"
	wait_exit redis
	start_redis
	assert_exit cat 0 120
	assert_file_eq "$T/in" "$T/cat.out"
	# Redis holds each record once, with its seq.
	assert_eq "$N" "$(redis-cli -p $RPORT XLEN k)"
	assert_eq "$((N - 1))" "$(redis-cli --raw -p $RPORT XREVRANGE k + - COUNT 1 | sed -n 5p)"
	state_line=$(cat "$T/in.state")
	[[ $state_line =~ ^epoch=[0-9a-f]{16}\ seq=[0-9]+\ id=[0-9]+-[0-9]+$ ]] ||
	    fail "state: $state_line"
}

@test "stream-to-redis-streams.sh: a stopped bridge starts again after Redis's last entry, and waits for a Redis that is away" {
	need redis-server redis-server
	need redis-cli redis-tools
	RPORT=$(free_port)
	export REDIS_PORT=$RPORT
	start_sfd
	printf 'one\n' | publish a
	bridge out stream-to-redis-streams.sh a k
	wait_until 10 "grep -q 'retrying' '$T/out.err'"
	start_redis
	wait_until 10 "[ -s '$T/redis/appendonlydir/appendonly.aof.1.incr.aof' ] || redis-cli -p $RPORT ping | grep -q PONG"
	sleep 1.5   # the bridge subscribes from now: let it
	printf 'two\nthree\n' | publish a
	wait_until 10 "[ \$(redis-cli -p $RPORT XLEN k) -eq 2 ]"
	kill_bridge out TERM
	printf 'four\n' | publish a
	bridge out stream-to-redis-streams.sh a k
	wait_until 10 "[ \$(redis-cli -p $RPORT XLEN k) -eq 3 ]"
	assert_eq "two three four" "$(redis-cli --raw -p $RPORT XRANGE k - + | sed -n '3p;10p;17p' | tr '\n' ' ' | sed 's/ $//')"
	assert_eq "1 2 3" "$(redis-cli --raw -p $RPORT XRANGE k - + | sed -n '5p;12p;19p' | tr '\n' ' ' | sed 's/ $//')"
}

# numsub CHANNEL: how many subscribers CHANNEL has.
numsub() {
	redis-cli --raw -p "$RPORT" PUBSUB NUMSUB "$1" | sed -n 2p
}

@test "Redis pub/sub both ways: 100,000 records, SIGKILL of the outbound bridge repeats at most a batch and skips none" {
	need redis-server redis-server
	need redis-cli redis-tools
	RPORT=$(free_port)
	export REDIS_PORT=$RPORT
	start_redis
	start_sfd
	records "$T/in"
	# a -> channel ch -> b; cat reads b.
	spawn cat "$SFCAT" b
	wait_subscribers 1
	bridge in redis-pubsub-to-stream.sh ch b
	wait_until 10 "[ \"\$(numsub ch)\" = 1 ]"
	printf 'first\n' | publish a
	STATE=$T/p.state FROM=oldest bridge out stream-to-redis-pubsub.sh a ch
	wait_until 10 "[ -s '$T/p.state' ]"
	publish a <"$T/in"
	wait_until 60 "[ \$(lines '$T/cat.out') -ge $((N / 3)) ]"
	kill_bridge out KILL
	STATE=$T/p.state bridge out stream-to-redis-pubsub.sh a ch
	wait_until 120 "[ \"\$(tail -c 8 '$T/cat.out' | od -An -c | tr -d ' ')\" = \"\$(tail -c 8 '$T/in' | od -An -c | tr -d ' ')\" ]"
	kill_bridge out TERM
	kill_bridge in TERM
	assert_exit in 143
	kill -TERM "$cat_pid"
	wait_exit cat
	assert_eq first "$(head -n 1 "$T/cat.out")"
	tail -n +2 "$T/cat.out" >"$T/got"
	run resumed "$T/in" "$T/got" 1000 0
	echo "# $output" >&3
	[ "$status" -eq 0 ] || fail "$output"
	# Nothing was published to a channel without a subscriber.
	run grep -c 'no subscriber' "$T/out.err"
	assert_eq 0 "$output"
}

@test "Redis pub/sub both ways: redis-server killed between two halves, both bridges reconnect, the result is exact" {
	need redis-server redis-server
	need redis-cli redis-tools
	RPORT=$(free_port)
	export REDIS_PORT=$RPORT
	start_redis
	start_sfd
	records "$T/in"
	head -n $((N / 2)) "$T/in" >"$T/in.1"
	tail -n +$((N / 2 + 1)) "$T/in" >"$T/in.2"
	spawn cat "$SFCAT" -n "$N" b
	wait_subscribers 1
	bridge in redis-pubsub-to-stream.sh ch b
	wait_until 10 "[ \"\$(numsub ch)\" = 1 ]"
	STATE=$T/p.state FROM=oldest bridge out stream-to-redis-pubsub.sh a ch
	publish a <"$T/in.1"
	wait_until 60 "[ \$(lines '$T/cat.out') -eq $((N / 2)) ]"
	kill -KILL "$redis_pid"
	wait_exit redis
	wait_until 10 "grep -q 'subscription to ch ended' '$T/in.err'"
	start_redis
	# The inbound bridge subscribes again within its second of waiting.
	wait_until 10 "[ \"\$(numsub ch)\" = 1 ]"
	publish a <"$T/in.2"
	assert_exit cat 0 120
	assert_file_eq "$T/in" "$T/cat.out"
	assert_eq "redis-pubsub-to-stream: redis 127.0.0.1:$RPORT: subscription to ch ended; what is published until it is back is lost; retrying" \
	    "$(grep -m 1 'subscription to ch ended' "$T/in.err")"
}

@test "stream-to-redis-pubsub.sh: says when the channel has no subscriber, and when it has one again" {
	need redis-server redis-server
	need redis-cli redis-tools
	RPORT=$(free_port)
	export REDIS_PORT=$RPORT
	start_redis
	start_sfd
	STATE=$T/p.state FROM=oldest bridge out stream-to-redis-pubsub.sh a ch
	printf 'lost\n' | publish a
	wait_until 10 "[ -s '$T/p.state' ]"
	assert_eq "stream-to-redis-pubsub: channel ch has no subscriber on redis 127.0.0.1:$RPORT: its records reach nobody" \
	    "$(cat "$T/out.err")"
	spawn sub redis-cli -p "$RPORT" --raw SUBSCRIBE ch
	wait_until 10 "[ \"\$(numsub ch)\" = 1 ]"
	printf 'heard\n' | publish a
	wait_until 10 "grep -qx heard '$T/sub.out'"
	assert_eq "stream-to-redis-pubsub: channel ch has subscribers again (1)" \
	    "$(tail -n 1 "$T/out.err")"
	assert_eq 2 "$(lines "$T/out.err")"
}

# ---------------------------------------------------------------- MQTT

# mqtt_port: skip unless mosquitto is installed; else a free port for it,
# in MPORT and in the bridges' MQTT_PORT.
mqtt_port() {
	need mosquitto mosquitto
	need mosquitto_sub mosquitto-clients
	MPORT=$(free_port)
	export MQTT_PORT=$MPORT
}

start_mosquitto() {
	[ -f "$T/mosquitto.conf" ] || cat >"$T/mosquitto.conf" <<CONF
listener $MPORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $T/
max_queued_messages 0
max_inflight_messages 20
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe
CONF
	spawn mosquitto mosquitto -c "$T/mosquitto.conf"
	wait_until 10 "mosquitto_pub -p $MPORT -t probe -m x"
}

# mqtt_subscribed ID: the broker started last has logged that client ID
# subscribed.
mqtt_subscribed() {
	grep -Eq ": $1 [0-2] " "$T/mosquitto.err"
}

# mqtt_publish FILE: each line of FILE as one message to topic in, QoS 1.
# FILE holds fewer than 65,535 lines: past that mosquitto_pub's message
# ids wrap, and it may end (with status 0) before the broker has them all.
mqtt_publish() {
	spawn -i "$1" pub mosquitto_pub -p "$MPORT" -t in -q 1 -l
}

@test "stream-to-mqtt.sh: 100,000 records, at least once: SIGKILL of the bridge repeats at most a batch and skips none" {
	mqtt_port
	start_mosquitto
	start_sfd
	records "$T/in"
	# The final consumer: a persistent session, kept across the broker
	# restart.
	spawn sub mosquitto_sub -p "$MPORT" -t out -q 1 -c -i final
	wait_until 10 "grep -q 'final' '$T/mosquitto.err' || true; [ -s '$T/sub.pid' ]"
	printf 'first\n' | publish a
	STATE=$T/m.state FROM=oldest bridge out stream-to-mqtt.sh a out
	wait_until 10 "[ -s '$T/m.state' ]"
	publish a <"$T/in"
	wait_until 60 "[ \$(lines '$T/sub.out') -ge $((N / 3)) ]"
	kill_bridge out KILL
	STATE=$T/m.state bridge out stream-to-mqtt.sh a out
	wait_until 120 "[ \"\$(tail -c 8 '$T/sub.out' | od -An -c | tr -d ' ')\" = \"\$(tail -c 8 '$T/in' | od -An -c | tr -d ' ')\" ]"
	kill_bridge out TERM
	tail -n +2 "$T/sub.out" >"$T/got"
	run resumed "$T/in" "$T/got" 1000 0
	echo "# $output" >&3
	[ "$status" -eq 0 ] || fail "$output"
}

@test "mqtt-to-stream.py: 100,000 records, no gap across a stop and a SIGKILL of the bridge and a SIGKILL of the broker; repeats within a batch" {
	mqtt_port
	start_mosquitto
	start_sfd
	records "$T/in"
	split -l $((N / 4)) -a 1 "$T/in" "$T/in."
	spawn cat "$SFCAT" b
	wait_subscribers 1
	bridge in mqtt-to-stream.py in b
	wait_until 10 "mqtt_subscribed streamfan-b"
	# A stop mid-stream: the broker keeps the rest for the session.
	mqtt_publish "$T/in.a"
	wait_until 60 "[ \$(lines '$T/cat.out') -ge $((N / 8)) ]"
	kill_bridge in TERM
	assert_exit in 143
	bridge in mqtt-to-stream.py in b
	assert_exit pub 0 60
	# A SIGKILL mid-stream.
	mqtt_publish "$T/in.b"
	wait_until 60 "[ \$(lines '$T/cat.out') -ge $((N * 3 / 8)) ]"
	kill_bridge in KILL
	bridge in mqtt-to-stream.py in b
	assert_exit pub 0 60
	# The broker killed once it has handed everything over: the bridge
	# connects again by itself.
	wait_until 60 "tail -n 1 '$T/cat.out' | cmp -s - <(tail -n 1 '$T/in.b')"
	kill -KILL "$mosquitto_pid"
	wait_exit mosquitto
	start_mosquitto
	wait_until 30 "mqtt_subscribed streamfan-b"
	mqtt_publish "$T/in.c"
	assert_exit pub 0 60
	mqtt_publish "$T/in.d"
	assert_exit pub 0 60
	wait_until 60 "tail -n 1 '$T/cat.out' | cmp -s - <(tail -n 1 '$T/in')"
	kill_bridge in TERM
	assert_exit in 143
	# At most a batch (BATCH, 100) written and not yet acknowledged, even
	# from a broker that sends past its max_inflight_messages.
	run resumed "$T/in" "$T/cat.out" 100 0
	echo "# $output" >&3
	[ "$status" -eq 0 ] || fail "$output"
}

@test "mqtt-to-stream.py: RECORDS=frames carries newlines, NUL bytes, empty and large messages whole; lines splits at newlines" {
	mqtt_port
	start_mosquitto
	start_sfd
	RECORDS=frames bridge fr mqtt-to-stream.py in f
	bridge ln mqtt-to-stream.py in l
	wait_until 10 "mqtt_subscribed streamfan-f && mqtt_subscribed streamfan-l"
	spawn fcat "$SFCAT" --raw -n 4 f
	spawn lcat "$SFCAT" -n 4 l
	wait_subscribers 2
	printf 'two\nlines' >"$T/m.1"
	printf 'nul\0byte' >"$T/m.2"
	: >"$T/m.3"
	head -c 300000 /dev/urandom >"$T/m.4"
	for i in 1 2 3 4; do
		mosquitto_pub -p "$MPORT" -t in -q 1 -f "$T/m.$i"
		python3 -c 'import struct, sys
b = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(struct.pack(">I", len(b)) + b)' "$T/m.$i" >>"$T/frames"
	done
	assert_exit fcat 0 30
	assert_file_eq "$T/frames" "$T/fcat.out"
	# Lines: the first message becomes two records.
	assert_exit lcat 0 30
	printf 'two\nlines\nnul\0byte\n\n' >"$T/lines"
	assert_file_eq "$T/lines" "$T/lcat.out"
}

@test "mqtt-to-stream.py: a broker that is away is named and waited for; bad settings are usage errors" {
	mqtt_port
	start_sfd
	bridge in mqtt-to-stream.py in b
	wait_until 10 "grep -q 'Connection refused' '$T/in.err'"
	assert_eq "mqtt-to-stream: mqtt 127.0.0.1:$MPORT: Connection refused; the session keeps what is published meanwhile; retrying" \
	    "$(cat "$T/in.err")"
	start_mosquitto
	wait_until 10 "mqtt_subscribed streamfan-b"
	wait_until 10 "grep -q 'again' '$T/in.err'"
	assert_eq "mqtt-to-stream: mqtt 127.0.0.1:$MPORT: subscribed to in again" \
	    "$(sed -n 2p "$T/in.err")"
	spawn cat "$SFCAT" -n 1 b
	wait_subscribers 1
	mosquitto_pub -p "$MPORT" -t in -q 1 -m arrived
	assert_exit cat 0 30
	assert_eq arrived "$(cat "$T/cat.out")"
	kill_bridge in TERM
	assert_exit in 143
	for b in 0 65536 +5 1_000 ' 7' ''; do
		bad_setting "mqtt-to-stream: BATCH must be a number from 1 to 65535, not '$b'" \
		    env BATCH="$b" python3 "$BR/mqtt-to-stream.py" in b
	done
	bad_setting "mqtt-to-stream: RECORDS must be lines or frames, not 'words'" \
	    env RECORDS=words python3 "$BR/mqtt-to-stream.py" in b
	for b in 0 65536 1k; do
		bad_setting "stream-to-mqtt: BATCH must be 1 to 65535 (mosquitto_pub's message ids), not '$b'" \
		    env BATCH=$b sh "$BR/stream-to-mqtt.sh" a out
	done
}

# fake_mqtt SIZE STEP...: tests/bats/fakemqtt.py, the scripted broker, in
# MPORT and the bridges' MQTT_PORT; its events in $T/broker.log.
fake_mqtt() {
	spawn broker python3 "$BATS_TEST_DIRNAME/fakemqtt.py" "$T/broker.port" \
	    "$T/broker.log" "$@"
	wait_until 10 "[ -s '$T/broker.port' ]"
	MPORT=$(cat "$T/broker.port")
	export MQTT_PORT=$MPORT
}

# numbered FIRST LAST: the fake broker's payloads FIRST to LAST, at its
# SIZE of 6, one per line.
numbered() {
	seq -f '%06g' "$1" "$2"
}

@test "mqtt-to-stream.py: against a broker that holds back its PINGRESP, exactly a batch is written; a SIGKILL then repeats that batch and no more, a SIGTERM repeats nothing" {
	start_sfd
	# 1: the PUBACKs read but lost with the connection; 2: all handled;
	# 3: the PUBACKs kept, the PINGREQ not answered; 4: all handled.
	fake_mqtt 6 lossy:1000 serve:0 mute:500 serve:0
	spawn cat "$SFCAT" b
	wait_subscribers 1
	bridge in mqtt-to-stream.py in b
	wait_until 10 "grep -qx 'ping 1' '$T/broker.log'"
	wait_until 10 "[ \$(lines '$T/cat.out') -ge 100 ]"
	kill_bridge in KILL
	numbered 1 100 >"$T/want"
	assert_file_eq "$T/want" "$T/cat.out"
	# The broker sends the 1,000 again: the 100 written are repeated.
	bridge in mqtt-to-stream.py in b
	wait_until 30 "[ \$(lines '$T/cat.out') -ge 1100 ]"
	kill_bridge in TERM
	assert_exit in 143
	bridge in mqtt-to-stream.py in b
	wait_until 10 "grep -qx 'ping 3' '$T/broker.log'"
	kill_bridge in TERM
	assert_exit in 143
	grep -qx 'end 3 acked 1100' "$T/broker.log" ||
	    fail "$(cat "$T/broker.log")"
	bridge in mqtt-to-stream.py in b
	wait_until 30 "[ \$(lines '$T/cat.out') -ge 1600 ]"
	kill_bridge in TERM
	assert_exit in 143
	{ numbered 1 100; numbered 1 1500; } >"$T/want"
	assert_file_eq "$T/want" "$T/cat.out"
	[ ! -s "$T/in.err" ] || fail "$(cat "$T/in.err")"
}

@test "mqtt-to-stream.py: a broker that sends far ahead of its acknowledgements: PENDING_KB bounds what is held, and the rest comes on the next connection, nothing lost or repeated" {
	start_sfd
	# 80 MB at once on the first connection, then a broker that keeps
	# to a window.
	fake_mqtt 4096 serve:20000 keep:0
	spawn cat "$SFCAT" -n 20000 b
	wait_subscribers 1
	PENDING_KB=1024 bridge in mqtt-to-stream.py in b
	wait_until 60 "grep -qx 'end 1 acked [0-9]*' '$T/broker.log'"
	assert_exit cat 0 120
	held=$(awk '/^VmHWM/ { print $2 }' "/proc/$in_pid/status")
	kill_bridge in TERM
	assert_exit in 143
	numbered 1 20000 | sed 's/$/'"$(printf 'x%.0s' $(seq 4090))"'/' >"$T/want"
	assert_file_eq "$T/want" "$T/cat.out"
	# The first connection's 80 MB never all in memory (Python itself
	# takes about 10 MB).
	echo "# peak RSS $held kB" >&3
	[ "$held" -lt 40000 ] || fail "the bridge's peak RSS: $held kB"
	grep -Eqx 'mqtt-to-stream: mqtt 127\.0\.0\.1:[0-9]+: sent more than PENDING_KB \(1024 KiB\) ahead of its acknowledgements; [0-9]+ messages left with it, connecting again for them' \
	    "$T/in.err" || fail "$(cat "$T/in.err")"
	assert_eq 1 "$(lines "$T/in.err")"
}

@test "mqtt-to-stream.py: a PINGREQ not answered in KEEPALIVE seconds is a lost connection, named, and the bridge connects again" {
	start_sfd
	fake_mqtt 6 mute:10 serve:5
	spawn cat "$SFCAT" -n 15 b
	wait_subscribers 1
	KEEPALIVE=2 bridge in mqtt-to-stream.py in b
	assert_exit cat 0 30
	numbered 1 15 >"$T/want"
	assert_file_eq "$T/want" "$T/cat.out"
	kill_bridge in TERM
	assert_exit in 143
	assert_eq "mqtt-to-stream: mqtt 127.0.0.1:$MPORT: no PINGRESP in 2 s; the session keeps what is published meanwhile; retrying" \
	    "$(cat "$T/in.err")"
	for k in 0 65536 x; do
		bad_setting "mqtt-to-stream: KEEPALIVE must be a number from 1 to 65535, not '$k'" \
		    env KEEPALIVE=$k python3 "$BR/mqtt-to-stream.py" in b
	done
	bad_setting "mqtt-to-stream: PENDING_KB must be a number from 1 to 4194304, not '4194305'" \
	    env PENDING_KB=4194305 python3 "$BR/mqtt-to-stream.py" in b
}

@test "mqtt-to-stream.py: while the daemon is away nothing is taken from the broker; once it is back every message arrives" {
	mqtt_port
	start_mosquitto
	start_sfd
	# The session exists from the bridge's first subscription.
	bridge in mqtt-to-stream.py in b
	wait_until 10 "mqtt_subscribed streamfan-b"
	kill_bridge in TERM
	assert_exit in 143
	stop_sfd
	bridge in mqtt-to-stream.py in b
	wait_until 10 "grep -q 'retrying' '$T/in.err'"
	assert_eq "mqtt-to-stream: cannot connect to $SOCK: No such file or directory; retrying" \
	    "$(cat "$T/in.err")"
	seq 1000 >"$T/want"
	mqtt_publish "$T/want"
	assert_exit pub 0 60
	start_sfd
	spawn cat "$SFCAT" --from oldest -n 1000 b
	assert_exit cat 0 30
	assert_file_eq "$T/want" "$T/cat.out"
	assert_eq "mqtt-to-stream: reconnected to $SOCK" "$(sed -n 2p "$T/in.err")"
	kill_bridge in TERM
	assert_exit in 143
}

# ---------------------------------------------------------------- NATS

# frames FILE: N frames of mixed sizes, each payload starting with its
# number, then any bytes: newlines and NUL bytes included.
frames() {
	python3 -c 'import random, struct, sys
rnd = random.Random(22)
out = sys.stdout.buffer
for i in range(int(sys.argv[1])):
    n = rnd.randint(1000, 8000) if rnd.random() < 0.02 else rnd.randint(0, 300)
    b = b"%06d " % i + rnd.randbytes(n)
    out.write(struct.pack(">I", len(b)) + b)' "$N" >"$1"
}

# as_lines FRAMES: the frames' payloads, each made one line (newlines as
# \n, backslashes doubled), for resumed to compare.
as_lines() {
	python3 -c 'import struct, sys
data = open(sys.argv[1], "rb").read()
out = sys.stdout.buffer
i = 0
while i < len(data):
    n = struct.unpack(">I", data[i:i + 4])[0]
    out.write(data[i + 4:i + 4 + n].replace(b"\\", b"\\\\").replace(b"\n", b"\\n") + b"\n")
    i += 4 + n' "$1"
}

# nats_port: skip without nats-server, else a free port for it, exported.
nats_port() {
	need nats-server nats-server
	NPORT=$(free_port)
	export NATS_PORT=$NPORT
}

start_nats() {
	spawn nats nats-server -a 127.0.0.1 -p "$NPORT"
	wait_until 10 "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $NPORT))' 2>/dev/null"
}

@test "NATS both ways: 100,000 binary records, SIGKILL of the outbound bridge repeats at most a batch and skips none" {
	nats_port
	start_nats
	start_sfd
	frames "$T/in"
	spawn cat "$SFCAT" --raw b
	wait_subscribers 1
	bridge in nats-to-stream.sh s b
	wait_until 10 "grep -q 'publishing to b' '$LOG'"
	printf '\0\0\0\5first' | publish --raw a
	STATE=$T/n.state FROM=oldest bridge out stream-to-nats.sh a s
	wait_until 10 "[ -s '$T/cat.out' ]"
	publish --raw a <"$T/in"
	wait_until 60 "[ \$(stat -c %s '$T/cat.out') -ge $(($(stat -c %s "$T/in") / 3)) ]"
	kill_bridge out KILL
	STATE=$T/n.state bridge out stream-to-nats.sh a s
	wait_until 120 "[ \"\$(tail -c 8 '$T/cat.out' | od -An -c | tr -d ' ')\" = \"\$(tail -c 8 '$T/in' | od -An -c | tr -d ' ')\" ]"
	kill_bridge out TERM
	kill_bridge in TERM
	assert_exit in 143
	kill -TERM "$cat_pid"
	wait_exit cat
	assert_eq first "$(head -c 9 "$T/cat.out" | tail -c 5)"
	tail -c +10 "$T/cat.out" >"$T/got"
	as_lines "$T/in" >"$T/in.lines"
	as_lines "$T/got" >"$T/got.lines"
	run resumed "$T/in.lines" "$T/got.lines" 1000 0
	echo "# $output" >&3
	[ "$status" -eq 0 ] || fail "$output"
}

@test "NATS both ways: nats-server killed between two halves, both bridges reconnect, the result is exact" {
	nats_port
	start_nats
	start_sfd
	N=20000 frames "$T/in.1"
	python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
i = k = 0
while k < 10000:
    i += 4 + struct.unpack(">I", d[i:i + 4])[0]
    k += 1
open(sys.argv[2], "wb").write(d[:i])
open(sys.argv[3], "wb").write(d[i:])' "$T/in.1" "$T/h.1" "$T/h.2"
	spawn cat "$SFCAT" --raw -n 20000 b
	wait_subscribers 1
	bridge in nats-to-stream.sh s b
	wait_until 10 "grep -q 'publishing to b' '$LOG'"
	STATE=$T/n.state FROM=oldest bridge out stream-to-nats.sh a s
	publish --raw a <"$T/h.1"
	wait_until 60 "[ \$(stat -c %s '$T/cat.out') -eq $(stat -c %s "$T/h.1") ]"
	kill -KILL "$nats_pid"
	wait_exit nats
	wait_until 10 "grep -q 'retrying every second' '$T/in.err'"
	start_nats
	wait_until 10 "grep -q 'subscribed to s again' '$T/in.err'"
	publish --raw a <"$T/h.2"
	assert_exit cat 0 120
	assert_file_eq "$T/in.1" "$T/cat.out"
	assert_eq "nats-frames: nats 127.0.0.1:$NPORT: the server closed the connection; what is published on s until it is back is lost; retrying every second
nats-frames: nats 127.0.0.1:$NPORT: subscribed to s again" "$(cat "$T/in.err")"
}

# ------------------------------------------------------- NATS JetStream

# js_api SUBJECT [JSON]: one JetStream API request; prints the answer.
js_api() {
	python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
f = s.makefile("rb")
f.readline()
body = sys.argv[3].encode()
s.sendall(b"CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\nSUB _INBOX.t 1\r\nPUB %s _INBOX.t %d\r\n%s\r\n" % (sys.argv[2].encode(), len(body), body))
while True:
    l = f.readline()
    if l.startswith((b"MSG", b"HMSG")):
        sys.stdout.buffer.write(f.read(int(l.split()[-1])) + b"\n")
        break' "$NPORT" "$1" "${2:-}"
}

# start_js: nats-server with JetStream, its store in T/js.
start_js() {
	spawn nats nats-server -js -sd "$T/js" -a 127.0.0.1 -p "$NPORT"
	wait_until 10 "js_api '\$JS.API.INFO' | grep -q account_info_response"
}

# js_stream NAME [JSON]: a JetStream stream NAME on subject NAME, on disk.
js_stream() {
	js_api "\$JS.API.STREAM.CREATE.$1" \
	    "{\"name\":\"$1\",\"subjects\":[\"$1\"],\"storage\":\"file\"${2:-}}" |
	    grep -q stream_create_response || fail "no JetStream stream $1"
}

# js_acked STREAM CONSUMER SEQ: the server holds the consumer's
# acknowledgements up to stream sequence SEQ.
js_acked() {
	js_api "\$JS.API.CONSUMER.INFO.$1.$2" |
	    python3 -c 'import json, sys
sys.exit(json.load(sys.stdin).get("ack_floor", {}).get("stream_seq", 0) < int(sys.argv[1]))' "$3"
}

# js_pub SUBJECT < FRAMES: each frame one message, taken by the server.
js_pub() {
	python3 "$BR/nats-frames.py" pub "$1"
}

# ends_like A B: file A ends with the last 8 bytes of file B.
ends_like() {
	[ "$(tail -c 8 "$1" | od -An -c | tr -d ' ')" = "$(tail -c 8 "$2" | od -An -c | tr -d ' ')" ]
}

@test "jetstream-to-stream.py: 100,000 binary records, no gap across a SIGKILL of the bridge and of nats-server; repeats within a batch" {
	nats_port
	start_js
	js_stream ev
	start_sfd
	frames "$T/in"
	python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
i = k = 0
while k < int(sys.argv[4]):
    i += 4 + struct.unpack(">I", d[i:i + 4])[0]
    k += 1
open(sys.argv[2], "wb").write(d[:i])
open(sys.argv[3], "wb").write(d[i:])' "$T/in" "$T/h.1" "$T/h.2" $((N / 2))
	spawn cat "$SFCAT" --raw b
	wait_subscribers 1
	js_pub ev <"$T/h.1"
	RECORDS=frames bridge in jetstream-to-stream.py ev b
	wait_until 60 "[ \$(stat -c %s '$T/cat.out') -ge $(($(stat -c %s "$T/h.1") / 2)) ]"
	kill_bridge in KILL
	RECORDS=frames bridge in jetstream-to-stream.py ev b
	wait_until 60 "ends_like '$T/cat.out' '$T/h.1'"
	# The bridge acknowledges after the daemon has the records; a server
	# killed before those acknowledgements reach it sends again what it
	# never heard of (at least once, rightly).  What is under test is the
	# bridge's kill, so the server dies once it holds them all.
	wait_until 30 "js_acked ev streamfan-b $((N / 2))"
	kill -KILL "$nats_pid"
	wait_exit nats
	wait_until 10 "grep -q 'retrying every second' '$T/in.err'"
	start_js
	wait_until 10 "grep -q 'consuming again' '$T/in.err'"
	js_pub ev <"$T/h.2"
	wait_until 120 "ends_like '$T/cat.out' '$T/in'"
	kill_bridge in TERM
	assert_exit in 143
	kill -TERM "$cat_pid"
	wait_exit cat
	as_lines "$T/in" >"$T/in.lines"
	as_lines "$T/cat.out" >"$T/got.lines"
	run resumed "$T/in.lines" "$T/got.lines" 1000 0
	echo "# $output" >&3
	[ "$status" -eq 0 ] || fail "$output"
	assert_eq "jetstream-to-stream: nats 127.0.0.1:$NPORT, stream ev: the server closed the connection; retrying every second
jetstream-to-stream: nats 127.0.0.1:$NPORT, stream ev: consuming again" "$(cat "$T/in.err")"
}

# frames_of WORD...: each WORD as one frame, printf escapes taken.
frames_of() {
	local w
	for w in "$@"; do
		printf "$w" >"$T/.word"
		python3 -c 'import struct, sys
b = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(struct.pack(">I", len(b)) + b)' "$T/.word"
	done
}

@test "jetstream-to-stream.py: a stop loses and repeats nothing, lines split at newlines, and messages the stream dropped unread are named" {
	nats_port
	start_js
	js_stream lim ',"max_msgs":5'
	start_sfd
	spawn cat "$SFCAT" -n 8 b
	wait_subscribers 1
	bridge in jetstream-to-stream.py lim b
	frames_of one 'two\nlines' | js_pub lim
	wait_until 30 "[ \$(lines '$T/cat.out') -eq 3 ]"
	kill_bridge in TERM
	assert_exit in 143
	# The stream keeps the last 5 of these: m1 to m3 (seq 3 to 5) go.
	frames_of m1 m2 m3 m4 m5 m6 m7 m8 | js_pub lim
	bridge in jetstream-to-stream.py lim b
	assert_exit cat 0 30
	assert_eq "one two lines m4 m5 m6 m7 m8" "$(tr '\n' ' ' <"$T/cat.out" | sed 's/ $//')"
	wait_until 10 "[ -s '$T/in.err' ]"
	assert_eq "jetstream-to-stream: stream lim: messages 3 to 5 were gone before the bridge read them (its limits, or a purge): lost" \
	    "$(cat "$T/in.err")"
	kill_bridge in TERM
	assert_exit in 143
}

@test "jetstream-to-stream.py: a stream that does not exist is named and waited for; bad settings are usage errors" {
	nats_port
	start_js
	start_sfd
	bridge in jetstream-to-stream.py later b
	wait_until 10 "[ -s '$T/in.err' ]"
	assert_eq "jetstream-to-stream: nats 127.0.0.1:$NPORT, stream later: stream later, consumer streamfan-b: stream not found; retrying every second" \
	    "$(cat "$T/in.err")"
	js_stream later
	wait_until 10 "grep -q 'consuming again' '$T/in.err'"
	spawn cat "$SFCAT" -n 1 b
	wait_subscribers 1
	frames_of arrived | js_pub later
	assert_exit cat 0 30
	assert_eq arrived "$(cat "$T/cat.out")"
	kill_bridge in TERM
	assert_exit in 143
	bad_setting "jetstream-to-stream: BATCH must be a number from 1 to 100000, not '0'" \
	    env BATCH=0 python3 "$BR/jetstream-to-stream.py" later b
	bad_setting "jetstream-to-stream: START must be all or new, not 'first'" \
	    env START=first python3 "$BR/jetstream-to-stream.py" later b
	bad_setting "jetstream-to-stream: 'a.b' is not a JetStream stream name" \
	    python3 "$BR/jetstream-to-stream.py" 'a.b' b
}

@test "jetstream-to-stream.py: a daemon that stops is waited for, and what came meanwhile arrives first and in order" {
	nats_port
	start_js
	js_stream ev
	start_sfd
	bridge in jetstream-to-stream.py ev b
	wait_until 10 "grep -q 'publishing to b' '$LOG'"
	stop_sfd
	frames_of one two three | js_pub ev
	wait_until 10 "grep -q 'retrying' '$T/in.err'"
	start_sfd
	# Well within the consumer's ack wait (30 s): they come again because
	# the bridge made the consumer again at the first of them.
	spawn cat "$SFCAT" --from oldest -n 3 b
	assert_exit cat 0 10
	assert_eq "one two three" "$(tr '\n' ' ' <"$T/cat.out" | sed 's/ $//')"
	assert_eq "jetstream-to-stream: $SOCK: BYE reason=shutdown seq=0; reconnecting
jetstream-to-stream: cannot connect to $SOCK: No such file or directory; retrying
jetstream-to-stream: reconnected to $SOCK" "$(cat "$T/in.err")"
	kill_bridge in TERM
	assert_exit in 143
}

@test "mqtt-to-stream.py, jetstream-to-stream.py: a daemon that denies publishing ends the bridge with status 6, before it asks the broker for anything" {
	start_sfd --publishers nobody
	# Ports nothing listens on: a bridge that went on to the broker
	# would say so, and keep trying.
	export MQTT_PORT=$(free_port) NATS_PORT=$(free_port)
	run timeout "$(secs 30)" python3 "$BR/mqtt-to-stream.py" in b
	assert_eq 6 "$status"
	assert_eq "mqtt-to-stream: the daemon at $SOCK refuses: ERR reason=denied" "$output"
	run timeout "$(secs 30)" python3 "$BR/jetstream-to-stream.py" js b
	assert_eq 6 "$status"
	assert_eq "jetstream-to-stream: the daemon at $SOCK refuses: ERR reason=denied" "$output"
}

#!/usr/bin/env bats
# sfctl against a real daemon: the counters while a burst goes through,
# the JSON document, kick, who may control, errors and watch.

load helpers

# ctl_json: sfctl --json stats, which must succeed and parse.
ctl_json() {
	"$SFCTL" --json stats >"$T/stats.json" || return
	jq -e . "$T/stats.json" >/dev/null
}

# client_of PID: the id sfd gave the client with that pid.
client_of() {
	"$SFCTL" --json stats | jq -e ".clients[] | select(.pid == $1) | .id"
}

# records N: N records "r000000" .. of 7 bytes each, a frame of 11.
records() {
	seq -f 'r%06g' 0 $(($1 - 1))
}

@test "stats during a burst: a stopped subscriber's lag grows and it turns lagging; the numbers agree" {
	start_sfd --ring 4M --max-frame 64k
	spawn live "$SFCAT" -n 200000 x
	spawn frozen "$SFCAT" x
	wait_subscribers 2
	kill -STOP "$frozen_pid"
	records 100000 | publish x
	wait_until 10 "[ \$(wc -l <'$T/live.out') -eq 100000 ]"
	ctl_json
	lag1=$(jq ".clients[] | select(.pid == $frozen_pid) | .lag_bytes" "$T/stats.json")
	records 200000 | tail -n 100000 | publish x
	assert_exit live 0 30
	records 200000 | cmp - "$T/live.out"
	ctl_json
	j=$T/stats.json
	lag2=$(jq ".clients[] | select(.pid == $frozen_pid) | .lag_bytes" "$j")
	[ "$lag2" -gt "$lag1" ] || fail "lag did not grow: $lag1 then $lag2"
	# The frozen one: behind by more than its socket buffers hold.
	assert_eq lagging "$(jq -r ".clients[] | select(.pid == $frozen_pid) | .state" "$j")"
	assert_eq "$frozen_pid" "$(jq '.clients[] | select(.lag_bytes > 1e6) | .pid' "$j")"
	assert_eq 1 "$(jq '[.clients[] | select(.role == "sub")] | length' "$j")"
	# The stream: every record in, as frames of 11 bytes.
	assert_eq '"x" 200000 200000 2200000 1 0 0 4194304' \
	    "$(jq -r '.streams[0] | [(.name|tojson), .head_seq, .records_in, .bytes_in, .subscribers, .publishers, .evicted_lag, .ring_bytes] | join(" ")' "$j")"
	assert_eq 1 "$(jq '.daemon.streams' "$j")"
	# Every documented key, and only those.
	assert_eq "age_seconds bytes_in epoch evicted_kicked evicted_lag evicted_shutdown evicted_slow fill_bytes head_seq name paced_waits publishers records_in ring_bytes subscribers" \
	    "$(jq -r '.streams[0] | keys | join(" ")' "$j")"
	assert_eq "bytes_in bytes_sent connected_seconds frames_in frames_sent frames_skipped id idle_seconds lag_bytes lag_share peer pid ring_bytes role shared state stream uid" \
	    "$(jq -r '.clients[0] | keys | join(" ")' "$j")"
	assert_eq "clients pid streams uptime_seconds version" \
	    "$(jq -r '.daemon | keys | join(" ")' "$j")"
	# Numbers are numbers, the peer of a Unix client its pid and uid.
	assert_eq "number number string number" \
	    "$(jq -r ".clients[] | select(.pid == $frozen_pid) | [(.lag_bytes|type), (.lag_share|type), (.state|type), (.uid|type)] | join(\" \")" "$j")"
	assert_eq "$(id -u)" "$(jq ".clients[] | select(.pid == $frozen_pid) | .uid" "$j")"
	# The table: one row per client, none wider than 80 columns.
	sfrun "$SFCTL" stats
	[ "$status" -eq 0 ] || fail "sfctl stats: $status $stderr"
	grep -qE "^ +[0-9]+ sub x +lagging " <<<"$output" || fail "no lagging row: $output"
	grep -qE "^stream x  seq 200000  epoch [0-9a-f]{16}  ring 4.0M" <<<"$output" ||
	    fail "no stream block: $output"
	assert_eq "" "$(awk 'length > 80' <<<"$output")"
	sfrun "$SFCTL" streams
	[[ $output =~ ^x\ seq=200000\ epoch=[0-9a-f]{16}\ publishers=0\ subscribers=1\ records_in=200000$ ]] ||
	    fail "streams: $output"
	assert_eq 200000 "$("$SFCTL" --json streams | jq '.streams[0].records_in')"
}

@test "kick: the kicked sfcat exits 4 naming who and why, the others go on" {
	start_sfd
	spawn victim "$SFCAT" x
	spawn other "$SFCAT" -n 3 x
	wait_subscribers 2
	id=$(client_of "$victim_pid")
	sfrun "$SFCTL" kick "$id" --reason maintenance
	[ "$status" -eq 0 ] || fail "kick: $status $stderr"
	assert_eq "kicked client $id (sub)" "$output"
	assert_exit victim 4
	assert_eq "sfcat: evicted: cut off by an operator (uid $(id -u): maintenance); first frame not received: seq 0" \
	    "$(cat "$T/victim.err")"
	wait_until 5 "unstamp | grep -q '^sfd: #$id .*: kicked by #[0-9]* (uid $(id -u)): maintenance$'"
	printf 'a\nb\nc\n' | publish x
	assert_exit other 0
	assert_eq "a b c" "$(echo $(cat "$T/other.out"))"
	assert_eq 1 "$("$SFCTL" --json stats | jq '.streams[0].evicted_kicked')"
	# A publisher is cut off the same way.
	mkfifo "$T/pub.fifo"
	spawn -i "$T/pub.fifo" pub "$SFPIPE" x
	exec 8>"$T/pub.fifo"
	wait_until 10 "client_of $pub_pid"
	sfrun "$SFCTL" kick "$(client_of "$pub_pid")"
	[ "$status" -eq 0 ] || fail "kick: $status $stderr"
	assert_exit pub 4
	grep -q "^sfpipe: evicted: cut off by an operator (uid $(id -u))" "$T/pub.err" ||
	    fail "sfpipe said: $(cat "$T/pub.err")"
	exec 8>&-
}

@test "sfctl errors: no daemon, a bad address, an unknown id, a bad command" {
	sfrun "$SFCTL" -s "$T/none.sock" stats
	assert_eq 3 "$status"
	assert_eq "sfctl: cannot connect to $T/none.sock: No such file or directory (is sfd running? start it with: sfd -l $T/none.sock)" "$stderr"
	usage_error "sfctl: -s tcp:host: no port: use tcp:HOST:PORT" "$SFCTL" -s tcp:host stats
	usage_error "sfctl: no command: stats, streams, watch or kick" "$SFCTL"
	usage_error "sfctl: unknown command: frob" "$SFCTL" frob
	usage_error "sfctl: kick x: invalid" "$SFCTL" kick x
	usage_error "sfctl: --reason: one word of printable ASCII, at most 64 characters" \
	    "$SFCTL" kick 1 --reason "two words"
	start_sfd
	sfrun "$SFCTL" kick 999
	assert_eq 1 "$status"
	assert_eq "sfctl: no client 999" "$stderr"
	assert_eq "" "$output"
	# The daemon going away while watched: a clear line, exit 5.
	spawn watcher "$SFCTL" watch --interval 1
	wait_until 10 "[ -s '$T/watcher.out' ]"
	stop_sfd
	assert_exit watcher 5
	assert_eq "sfctl: sfd shut down" "$(cat "$T/watcher.err")"
}

@test "a user who is not the daemon's, root or in --admins is refused" {
	[ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null ||
	    skip "needs root and setpriv to act as a second user"
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	local dir
	dir=$(mktemp -d /tmp/sfctl.XXXXXX)
	chmod 0755 "$dir"
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$SFCTL" ||
	    skip "the build folder is not reachable by nobody"
	SOCK=$dir/sf.sock
	start_sfd --mode 0666
	sfrun setpriv --reuid=nobody --regid=nogroup --clear-groups "$SFCTL" -s "$SOCK" stats
	assert_eq 6 "$status"
	assert_eq "sfctl: sfd refused: reason=denied" "$stderr"
	wait_until 5 "grep -q 'ERR reason=denied (control needs the daemon.s user, root or --admins)' '$LOG'"
	stop_sfd
	start_sfd --mode 0666 --admins nobody
	sfrun setpriv --reuid=nobody --regid=nogroup --clear-groups "$SFCTL" -s "$SOCK" --json stats
	assert_eq 0 "$status"
	assert_eq 65534 "$(jq '.clients[] | select(.role == "ctl") | .uid' <<<"$output")"
	stop_sfd
	rm -rf "$dir"
}

@test "over TCP, control is refused unless --admins lists the address" {
	start_sfd -l tcp:127.0.0.1:0
	local port
	port=$(unstamp | sed -n 's/^sfd: listening on tcp:127.0.0.1:\([0-9]*\)$/\1/p')
	sfrun "$SFCTL" -s "tcp:127.0.0.1:$port" stats
	assert_eq 6 "$status"
	assert_eq "sfctl: sfd refused: reason=denied" "$stderr"
	stop_sfd
	start_sfd -l tcp:127.0.0.1:0 --admins tcp:127.0.0.1
	port=$(unstamp | sed -n 's/^sfd: listening on tcp:127.0.0.1:\([0-9]*\)$/\1/p')
	sfrun "$SFCTL" -s "tcp:127.0.0.1:$port" --json stats
	assert_eq 0 "$status"
	[[ $(jq -r '.clients[] | select(.role == "ctl") | .peer' <<<"$output") =~ ^127\.0\.0\.1:[0-9]+$ ]] ||
	    fail "peer: $output"
}

@test "sfctl watch, not on a terminal: one summary line per interval" {
	start_sfd
	spawn sub "$SFCAT" x
	wait_subscribers 1
	sfrun timeout --preserve-status -s TERM 3.5 "$SFCTL" watch --interval 1
	assert_eq 0 "$status"
	local n
	n=$(grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2} clients=2 publishers=0 subscribers=1 behind=0 streams=1 records_in=0 evicted=0$' <<<"$output")
	[ "$n" -ge 3 ] && [ "$n" -le 4 ] || fail "$n lines: $output"
	assert_eq "$n" "$(wc -l <<<"$output")"
}

@test "sfd --stats-interval logs a summary line per interval" {
	start_sfd --stats-interval 1
	spawn sub "$SFCAT" x
	wait_subscribers 1
	wait_until 10 "[ \$(unstamp | grep -c '^sfd: stats: 1 clients (0 publishing, 1 subscribed, 0 behind), 1 streams, 0 records in, 0 bytes out to current subscribers, 0 cut off$') -ge 2 ]"
}

@test "an answer longer than the daemon's buffer comes whole: 400 clients" {
	start_sfd
	# 400 subscribers held open by one helper until T/go exists.
	spawn many python3 -c '
import os, socket, struct, sys, time
socks = []
for i in range(400):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    b = b"SUB 1 stream=many"
    s.sendall(struct.pack(">I", len(b) | 0x80000000) + b)
    socks.append(s)
end = time.time() + 60
while not os.path.exists(sys.argv[2]) and time.time() < end:
    time.sleep(0.05)
' "$SOCK" "$T/go"
	wait_subscribers 400
	"$SFCTL" --json stats >"$T/many.json"
	assert_eq "400 1 400" "$(jq '[(.clients | map(select(.role == "sub")) | length), (.clients | map(select(.role == "ctl")) | length), .streams[0].subscribers] | join(" ")' -r "$T/many.json")"
	# Every client once.
	assert_eq "$(jq '[.clients[].id] | sort | unique | length' "$T/many.json")" 401
	assert_eq 401 "$("$SFCTL" stats | grep -cE '^ +[0-9]+ (sub|ctl) ')"
	touch "$T/go"
	assert_exit many 0
}

#!/usr/bin/env bats
# Shared readers (sfcat --shared): the ring mapped read-only by the reader,
# every promise of the socket path kept: exact output, eviction, skips,
# kicks, shutdown, statistics, and a hostile reader hurting only itself.

load helpers

SHPY=$BATS_TEST_DIRNAME/sfshared.py

# shared_of PID: 1 when the daemon logged that client PID subscribed as a
# shared reader.
shared_of() {
	grep "pid=$1 " "$LOG" | grep -q 'subscribed to .*, shared$'
}

# side_by_side SUFFIX ARGS...: sfcat ARGS twice, a shared reader named
# shmSUFFIX and a socket reader named sockSUFFIX.
side_by_side() {
	local suffix=$1
	shift
	spawn "shm$suffix" "$SFCAT" --shared "$@"
	spawn "sock$suffix" "$SFCAT" "$@"
}

# assert_prefix FILE PART: PART is FILE's first bytes, whole lines.
assert_prefix() {
	head -c "$(wc -c <"$2")" "$1" | cmp - "$2"
	[ ! -s "$2" ] || [ "$(tail -c 1 "$2" | od -An -c | tr -d ' ')" = '\n' ]
}

# binary_frames SEED COUNT: COUNT frames (4-byte length, then the bytes)
# of random bytes, 0 to 300 long, one in a thousand up to 60 KiB.
binary_frames() {
	python3 - "$@" <<'PY'
import random, struct, sys
rnd = random.Random(int(sys.argv[1]))
out = sys.stdout.buffer
for i in range(int(sys.argv[2])):
    n = rnd.randint(0, 61440 if rnd.random() < 0.001 else 300)
    out.write(struct.pack(">I", n) + rnd.randbytes(n))
PY
}

@test "a shared reader prints exactly what a socket reader prints: 120,000 binary frames and end marks" {
	start_sfd
	binary_frames 7 120000 >"$T/in"
	binary_frames 8 3000 >"$T/in2"
	side_by_side "" --raw
	wait_subscribers 2
	shared_of "$shm_pid"
	assert_no_match "pid=$sock_pid .*shared" "$LOG"
	# From a pipe, unpaced: both keep up with the daemon's defaults.
	sfrun sh -c 'cat "$1" | "$2" --raw --eos' sh "$T/in" "$SFPIPE"
	[ "$status" -eq 0 ] || fail "sfpipe: $status $stderr"
	for k in shm sock; do
		assert_exit $k 0 30
		assert_file_eq "$T/in" "$T/$k.out"
		[ ! -s "$T/$k.err" ] || fail "$k: $(cat "$T/$k.err")"
	done
	cmp "$T/shm.out" "$T/sock.out"
	# From the oldest frame, across the mark: the same again, then the
	# part after the mark with --from.
	publish --raw --eos <"$T/in2"
	spawn old "$SFCAT" --shared --raw --from oldest
	assert_exit old 0 30
	[ ! -s "$T/old.err" ] || fail "old: $(cat "$T/old.err")"
	spawn after "$SFCAT" --shared --raw --from 120000
	assert_exit after 0 30
	assert_file_eq "$T/in2" "$T/after.out"
	# The oldest still held, up to the first mark: the end of $T/in.
	assert_eq 0 "$(cat "$T/old.rc")"
	tail -c "$(wc -c <"$T/old.out")" "$T/in" | cmp - "$T/old.out"
	stop_sfd
}

@test "shared readers and socket readers side by side, lines, -0 and --print-seq: byte for byte the same" {
	start_sfd
	sfraw gen text 3 20000 >"$T/text"
	sfraw gen nul 4 20000 >"$T/nul"
	publish t <"$T/text"
	publish -0 z <"$T/nul"
	side_by_side _t --from oldest -n 20000 t
	side_by_side _z --from oldest -n 20000 -0 z
	side_by_side _q --from -500 -n 500 --print-seq t
	for k in shm sock; do
		for x in t z q; do
			assert_exit ${k}_$x 0 30
			[ ! -s "$T/${k}_$x.err" ] || fail "${k}_$x: $(cat "$T/${k}_$x.err")"
		done
	done
	assert_file_eq "$T/text" "$T/shm_t.out"
	assert_file_eq "$T/nul" "$T/shm_z.out"
	cmp "$T/sock_q.out" "$T/shm_q.out"
	assert_eq "19500" "$(head -n 1 "$T/shm_q.out" | cut -f 1)"
	stop_sfd
}

@test "a shared reader that falls behind is cut off: exit 4, the message of the socket path, and what it printed is exact" {
	start_sfd --ring 2M --max-frame 64k --grace 10
	sfraw lines data 1 48000 >"$T/in"
	spawn ok "$SFCAT" --shared -n 48000
	spawn slow "$SFCAT" --shared
	wait_subscribers 2
	kill -STOP "$slow_pid"
	# Fed at a gentle pace, so that only the stopped one lags.
	sfrun sh -c 'python3 "$1" pace 16384 0.01 <"$2" | "$3"' sh "$RAWPY" "$T/in" "$SFPIPE"
	[ "$status" -eq 0 ]
	wait_until 10 "grep 'pid=$slow_pid ' '$LOG' | grep -q evicted"
	assert_exit ok 0 30
	assert_file_eq "$T/in" "$T/ok.out"
	kill -CONT "$slow_pid"
	assert_cut_at_ring slow "$T/in"
	stop_sfd
}

@test "a shared reader with --reconnect: cut off at its own --max-lag, it goes on with no gap" {
	start_sfd --ring 8M --grace 30
	n=35000
	sfraw lines data 1 $n >"$T/in"
	spawn slow "$SFCAT" --shared --reconnect --max-lag 128k -n $n
	wait_subscribers 1
	kill -STOP "$slow_pid"
	sfrun sh -c 'cat "$1" | "$2"' sh "$T/in" "$SFPIPE"
	[ "$status" -eq 0 ]
	wait_until 10 "grep 'pid=$slow_pid ' '$LOG' | grep -q evicted"
	kill -CONT "$slow_pid"
	assert_exit slow 0 30
	assert_file_eq "$T/in" "$T/slow.out"
	assert_eq 1 "$(wc -l <"$T/slow.err")"
	[[ $(cat "$T/slow.err") =~ ^sfcat:\ evicted:\ fell\ $SIZE_RE\ behind,\ past\ its\ --max-lag\ 128\ KiB\;\ first\ frame\ not\ received:\ seq\ 0\;\ read\ faster,\ raise\ --max-lag,\ or\ use\ --on-lag\ skip\ to\ skip\ ahead\ instead\;\ reconnecting$ ]] ||
	    fail "slow said: $(cat "$T/slow.err")"
	# Both connections read the ring themselves.
	assert_eq 2 "$(grep "pid=$slow_pid " "$LOG" | grep -c 'subscribed to .*, shared$')"
	stop_sfd
}

@test "a shared reader with --reconnect after the ring moved on: the frames lost are named, the rest printed" {
	start_sfd --ring 1M --max-frame 16k --grace 30
	n=40000
	sfraw lines data 1 $n >"$T/in"
	spawn slow "$SFCAT" --shared --reconnect
	wait_subscribers 1
	kill -STOP "$slow_pid"
	sfrun sh -c 'cat "$1" | "$2" --eos' sh "$T/in" "$SFPIPE"
	[ "$status" -eq 0 ]
	wait_until 10 "grep 'pid=$slow_pid ' '$LOG' | grep -q evicted"
	kill -CONT "$slow_pid"
	assert_exit slow 0 30
	# Two lines: the eviction, then what the new connection could not
	# have; everything else printed, in order.
	assert_eq 2 "$(wc -l <"$T/slow.err")"
	first=$(head -n 1 "$T/slow.err")
	[[ $first =~ ^sfcat:\ evicted:\ fell\ $SIZE_RE\ behind\ \(the\ ring\ is\ full\)\;\ first\ frame\ not\ received:\ seq\ 0\;\ .*\;\ reconnecting$ ]] ||
	    fail "first: $first"
	second=$(tail -n 1 "$T/slow.err")
	[[ $second =~ ^sfcat:\ lost\ ([0-9]+)\ frames\ \(seq\ 0\.\.([0-9]+)\):\ no\ longer\ in\ the\ ring$ ]] ||
	    fail "second: $second"
	lost=${BASH_REMATCH[1]}
	assert_eq "$((lost - 1))" "${BASH_REMATCH[2]}"
	tail -n +"$((lost + 1))" "$T/in" | cmp - "$T/slow.out"
	stop_sfd
}

@test "a shared reader with --on-lag skip: each frame printed or reported skipped, and it stops at an end mark" {
	start_sfd --ring 1M --max-frame 16k
	sfraw lines first 1 6000 >"$T/a"     # about 330 kB, then its mark
	sfraw lines second 1 60000 >"$T/b"   # about 3.5 MB: the ring wraps
	spawn skip "$SFCAT" --shared --on-lag skip
	wait_subscribers 1
	kill -STOP "$skip_pid"
	cat "$T/a" | publish --eos
	cat "$T/b" | publish
	wait_until 10 "grep 'pid=$skip_pid ' '$LOG' | grep -q 'skipped ahead'"
	kill -CONT "$skip_pid"
	assert_exit skip 0 30
	assert_no_match second "$T/skip.out"
	skipped=$(skipped_total "$T/skip.err")
	[ "$skipped" -gt 0 ]
	assert_eq 6000 $(($(wc -l <"$T/skip.out") + skipped))
	assert_prefix "$T/a" "$T/skip.out"
	stop_sfd
}

@test "a shared reader on --on-lag skip while the publisher goes on: printed and skipped add up, in order" {
	start_sfd --ring 1M --max-frame 16k
	sfraw lines data 1 60000 >"$T/in"
	spawn skip "$SFCAT" --shared --on-lag skip --print-seq
	wait_subscribers 1
	kill -STOP "$skip_pid"
	head -n 50000 "$T/in" | publish
	wait_until 10 "grep 'pid=$skip_pid ' '$LOG' | grep -q 'skipped ahead'"
	kill -CONT "$skip_pid"
	tail -n +50001 "$T/in" | publish --eos
	assert_exit skip 0 30
	python3 - "$T/skip.out" "$T/skip.err" "$T/in" <<'PY'
import re, sys
lines = open(sys.argv[3]).read().split("\n")
seen = []
for line in open(sys.argv[1]).read().split("\n")[:-1]:
    seq, body = line.split("\t", 1)
    assert body == lines[int(seq)], line[:40]
    seen.append(int(seq))
assert seen == sorted(seen)
skipped = set()
for m in re.finditer(r"skipped (\d+) frames \(seq (\d+)\.\.(\d+)\)",
                     open(sys.argv[2]).read()):
    n, a, b = map(int, m.groups())
    assert n == b - a + 1
    skipped |= set(range(a, b + 1))
assert not skipped & set(seen)
assert skipped | set(seen) == set(range(60000)), "gap"
PY
	stop_sfd
}

@test "a shared reader is kicked like any subscriber, and says the first frame it did not print" {
	start_sfd
	sfraw lines data 1 1000 >"$T/in"
	spawn victim "$SFCAT" --shared x
	wait_subscribers 1
	publish x <"$T/in"
	wait_until 10 "[ \$(wc -l <'$T/victim.out') -eq 1000 ]"
	id=$("$SFCTL" --json stats | jq -e ".clients[] | select(.pid == $victim_pid) | .id")
	sfrun "$SFCTL" kick "$id" --reason test
	[ "$status" -eq 0 ] || fail "kick: $status $stderr"
	assert_exit victim 4
	assert_eq "sfcat: evicted: cut off by an operator (uid $(id -u): test); first frame not received: seq 1000" \
	    "$(cat "$T/victim.err")"
	assert_file_eq "$T/in" "$T/victim.out"
	stop_sfd
}

@test "sfd shutting down: a stopped shared reader still prints all the ring holds, then exits 5" {
	start_sfd --grace 2
	sfraw lines data 1 5000 >"$T/in"
	spawn r "$SFCAT" --shared
	wait_subscribers 1
	kill -STOP "$r_pid"
	publish <"$T/in"
	kill -TERM "$SFD_PID"
	assert_exit sfd 0 10
	kill -CONT "$r_pid"
	assert_exit r 5 10
	assert_eq "sfcat: sfd shut down; next seq 5000" "$(cat "$T/r.err")"
	assert_file_eq "$T/in" "$T/r.out"
}

@test "sfctl stats: a shared reader is a subscriber with shared=1 and the lag it reported; the table says shm" {
	start_sfd
	spawn r "$SFCAT" --shared x
	spawn s "$SFCAT" x
	wait_subscribers 2
	kill -STOP "$r_pid"
	# 100 frames of 4 + 7 bytes: 1100 bytes the stopped one has not taken.
	seq -f 'r%06g' 0 99 | publish x
	wait_until 10 "[ \$(wc -l <'$T/s.out') -eq 100 ]"
	json=$("$SFCTL" --json stats)
	assert_eq "1 1100" "$(jq -r ".clients[] | select(.pid == $r_pid) | \"\(.shared) \(.lag_bytes)\"" <<<"$json")"
	assert_eq "0 0" "$(jq -r ".clients[] | select(.pid == $s_pid) | \"\(.shared) \(.lag_bytes)\"" <<<"$json")"
	assert_eq sub "$(jq -r ".clients[] | select(.pid == $r_pid) | .role" <<<"$json")"
	sfrun "$SFCTL" stats
	grep -qE "^ +[0-9]+ shm x +live +1.1K " <<<"$output" || fail "no shm row: $output"
	kill -CONT "$r_pid"
	wait_until 10 "[ \$(wc -l <'$T/r.out') -eq 100 ]"
	wait_until 10 "[ \$('$SFCTL' --json stats | jq '.clients[] | select(.pid == $r_pid) | .lag_bytes') -eq 0 ]"
	stop_sfd
}

@test "a hostile shared reader can neither write the ring nor hurt anyone by reading past it" {
	start_sfd
	sfraw lines data 1 2000 >"$T/in"
	side_by_side "" -n 4000
	wait_subscribers 2
	publish <"$T/in"
	sfrun python3 "$SHPY" "$SOCK" default write
	[ "$status" -eq 0 ] || fail "$status: $stderr"
	assert_eq "$(printf 'refused %s: EPERM\n' "header mapping" "header write" \
	    "header truncate" "ring mapping" "ring write" "ring truncate")" "$output"
	# Its own mapping past the end of the ring is its own SIGBUS.
	sfrun python3 "$SHPY" "$SOCK" default past
	assert_eq 135 "$status"
	publish <"$T/in"
	cat "$T/in" "$T/in" >"$T/both"
	for k in shm sock; do
		assert_exit $k 0 30
		assert_file_eq "$T/both" "$T/$k.out"
	done
	kill -0 "$SFD_PID"
	stop_sfd
}

@test "false position reports are refused, hurt only their sender, and the others get every frame" {
	start_sfd
	sfraw lines data 1 2000 >"$T/in"
	publish <"$T/in"
	side_by_side "" --from oldest -n 4000
	wait_subscribers 2
	# Where the ring's head is: each line a frame, 4 bytes of header for
	# its newline.
	end=$(($(wc -c <"$T/in") + 3 * 2000))
	report() {
		sfrun python3 "$SHPY" "$SOCK" default report: "$@"
		[ "$status" -eq 0 ] || fail "$status: $stderr"
	}
	report "AT pos=$((end + 1))"
	assert_eq "$(printf 'CTL ERR reason=bad-position\nEOF')" "$output"
	report "AT pos=3"
	assert_eq "$(printf 'CTL ERR reason=bad-position\nEOF')" "$output"
	report "AT pos=18446744073709551615 wait=1"
	assert_eq "$(printf 'CTL ERR reason=bad-position\nEOF')" "$output"
	report "AT pos=-1"
	assert_eq "$(printf 'CTL ERR reason=bad-report\nEOF')" "$output"
	report "AT pos=0 wait=2"
	assert_eq "$(printf 'CTL ERR reason=bad-report\nEOF')" "$output"
	report "AT"
	assert_eq "$(printf 'CTL ERR reason=bad-report\nEOF')" "$output"
	report "SUB 1 stream=default"
	assert_eq "$(printf 'CTL ERR reason=bad-report\nEOF')" "$output"
	sfrun python3 "$RAWPY" client "$SOCK" "$(secs 10)" "ctl:SUB 1 stream=default shared=1" "data:x" eof
	[ "$status" -eq 0 ]
	[[ $output == *"CTL ERR reason=not-a-publisher"*EOF ]] || fail "$output"
	# Backwards after forwards: believed no further than it can hurt.
	report "AT pos=$end wait=1" "AT pos=0"
	assert_eq open "$output"
	# Asking to be woken over and over, never reading: its socket fills,
	# and that is all.
	sfrun python3 "$SHPY" "$SOCK" default flood:40000
	[ "$status" -eq 0 ] || fail "$status: $stderr"
	assert_eq open "$output"
	assert_no_match "too long" "$LOG"
	unstamp | grep -q "ERR reason=bad-position (past the newest frame)$"
	unstamp | grep -q "ERR reason=bad-position (not the start of a frame)$"
	publish <"$T/in"
	cat "$T/in" "$T/in" >"$T/both"
	for k in shm sock; do
		assert_exit $k 0 30
		assert_file_eq "$T/both" "$T/$k.out"
	done
	stop_sfd
}

@test "--shared over TCP, or to a daemon that does not share, reads from the socket without a word" {
	start_sfd -l tcp:127.0.0.1:0
	port=$(unstamp | sed -n 's/^sfd: listening on tcp:127\.0\.0\.1:\([0-9]*\)$/\1/p')
	[ -n "$port" ] || fail "no port in the log"
	sfraw lines data 1 3000 >"$T/in"
	spawn tcp "$SFCAT" --shared -s "tcp:127.0.0.1:$port" -n 3000
	wait_subscribers 1
	publish <"$T/in"
	assert_exit tcp 0 30
	assert_file_eq "$T/in" "$T/tcp.out"
	[ ! -s "$T/tcp.err" ] || fail "tcp: $(cat "$T/tcp.err")"
	assert_no_match "pid=$tcp_pid .*shared" "$LOG"
	unstamp | grep -q ': shared= asked over TCP: reads from the socket$'
	stop_sfd
	# A daemon that ignores the key answers a plain OK: the socket path.
	fake accept "ctl:OK stream=default seq=0 epoch=0123456789abcdef max-frame=1048576 ring=67108864" data:a data:b close
	sfrun "$SFCAT" --shared -n 2
	[ "$status" -eq 0 ] || fail "$status: $stderr"
	assert_eq "$(printf 'a\nb')" "$output"
	[[ $(hello 1) == *" shared=1" ]] || fail "hello: $(hello 1)"
}

@test "a shared reader of a spooled stream reads the ring file, and again after a restart" {
	start_sfd --spool "$T/spool" --ring 1M --max-frame 16k
	sfraw lines data 1 5000 >"$T/in"
	publish <"$T/in"
	spawn a "$SFCAT" --shared --from oldest -n 5000
	assert_exit a 0 30
	assert_file_eq "$T/in" "$T/a.out"
	shared_of "$a_pid"
	stop_sfd
	start_sfd --spool "$T/spool" --ring 1M --max-frame 16k
	spawn b "$SFCAT" --shared --from oldest -n 5000
	assert_exit b 0 30
	assert_file_eq "$T/in" "$T/b.out"
	shared_of "$b_pid"
	stop_sfd
}

@test "a shared reader of a ring file cut short: the message of the socket path, exit 3, sfd unhurt" {
	start_sfd --spool "$T/spool"
	sfraw lines data 1 20000 >"$T/in"
	publish <"$T/in"
	truncate -s 8192 "$T/spool/default.ring"
	sfrun "$SFCAT" --shared --from oldest
	assert_eq 3 "$status"
	assert_eq "" "$output"
	assert_eq "sfcat: sfd cut the stream off: its ring file was cut short (see sfd's log); next seq 0" "$stderr"
	kill -0 "$SFD_PID"
	unstamp | grep -q "sfd: stream default: its ring file $T/spool/default.ring was cut short while in use"
	stop_sfd
}

@test "a shared reader's own --max-lag cuts it off within one frame of its limit, from where it last said it was" {
	start_sfd
	python3 -c 'import sys
for i in range(60000): sys.stdout.write("%06d %s\n" % (i, "p" * 92))' >"$T/in"
	spawn own "$SFCAT" --shared --max-lag 1M
	wait_subscribers 1
	kill -STOP "$own_pid"
	sfrun sh -c 'cat "$1" | "$2"' sh "$T/in" "$SFPIPE"
	[ "$status" -eq 0 ]
	wait_until 10 "grep -q 'past its own max-lag 1048576' '$LOG'"
	lag=$(sed -n 's/.*reason=lag: \([0-9]*\) bytes behind, past its own max-lag 1048576.*/\1/p' "$LOG")
	echo "cut off $lag bytes behind"
	[ "$lag" -gt 1048576 ]
	[ "$lag" -le $((1048576 + 104)) ]
	kill -CONT "$own_pid"
	assert_exit own 4 30
	assert_eq "sfcat: evicted: fell 1 MiB behind, past its --max-lag 1 MiB; first frame not received: seq 0; read faster, raise --max-lag, or use --on-lag skip to skip ahead instead" \
	    "$(cat "$T/own.err")"
	[ ! -s "$T/own.out" ]
}

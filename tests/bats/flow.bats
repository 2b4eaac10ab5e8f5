#!/usr/bin/env bats
# Bursts and flow control: the ring is the buffer, a burst smaller than it
# reaches every subscriber whole, a paced publisher waits instead of
# overwriting, a stalled subscriber cannot hold it forever, and every
# cut-off names its reason.

load helpers

READER=$BATS_TEST_DIRNAME/sfreader.py

# json_lines FILE COUNT: COUNT JSON records of exactly 100 bytes each.
json_lines() {
	python3 -c '
import sys
for i in range(int(sys.argv[1])):
    head = "{\"seq\":%d,\"msg\":\"event\",\"pad\":\"" % i
    sys.stdout.write(head + "p" * (97 - len(head)) + "\"}\n")' "$2" >"$1"
}

# assert_prefix FILE OUT: OUT is the first whole lines of FILE.
assert_prefix() {
	head -c "$(wc -c <"$2")" "$1" | cmp - "$2"
	[ ! -s "$2" ] || [ "$(tail -c 1 "$2" | od -An -c | tr -d ' ')" = '\n' ]
}

@test "defaults: a 200,000-record burst from a pipe reaches jq, a plain sfcat and a Python reader whole" {
	# No option but -v, which only logs, so the test sees who subscribed.
	start_sfd
	json_lines "$T/in" 200000
	spawn jq sh -c '"$1" events | jq -c .' sh "$SFCAT"
	spawn plain "$SFCAT" events
	spawn py python3 "$READER" "$SOCK" events
	wait_subscribers 3
	cat "$T/in" | publish --eos events
	assert_exit jq 0 60
	assert_exit plain 0 60
	assert_exit py 0 60
	assert_file_eq "$T/in" "$T/plain.out"
	assert_file_eq "$T/in" "$T/py.out"
	jq -c . "$T/in" >"$T/jq.exp"
	assert_file_eq "$T/jq.exp" "$T/jq.out"
	# Not one goodbye, not one word from any of them.
	assert_eq "" "$(cat "$T/jq.err" "$T/plain.err" "$T/py.err")"
	assert_no_match evicted "$LOG"
	stop_sfd
}

@test "a file four times the ring: paced from a pipe (--pace) and from a file (default), exact to jq and sfcat" {
	start_sfd --ring 2M --max-frame 64k
	json_lines "$T/in" 80000
	jq -c . "$T/in" >"$T/jq.exp"
	for how in pipe file; do
		before=$(subscribed)
		spawn jq sh -c '"$1" f | jq -c .' sh "$SFCAT"
		spawn plain "$SFCAT" f
		wait_subscribers $((before + 2))
		if [ $how = pipe ]; then
			cat "$T/in" | publish --pace --eos f
		else
			publish --eos f <"$T/in"
		fi
		assert_exit jq 0 60
		assert_exit plain 0 60
		assert_file_eq "$T/in" "$T/plain.out"
		assert_file_eq "$T/jq.exp" "$T/jq.out"
		assert_eq "" "$(cat "$T/jq.err" "$T/plain.err")"
	done
	# Held and let go again, never a subscriber cut off.
	grep -q 'held: its next frames would overwrite' "$LOG"
	grep -q 'released: stream f has drained' "$LOG"
	assert_no_match evicted "$LOG"
	stop_sfd
}

@test "a paced publisher is held for a stalled subscriber only --stall long; the healthy one gets all" {
	start_sfd --ring 2M --max-frame 64k --stall 1 --grace 60
	json_lines "$T/in" 80000
	spawn ok "$SFCAT" -n 80000
	spawn stopped "$SFCAT"
	wait_subscribers 2
	kill -STOP "$stopped_pid"
	t0=$(now_ms)
	spawn -i "$T/in" pub "$SFPIPE" --pace
	assert_exit pub 0 30
	echo "published in $(($(now_ms) - t0)) ms"
	assert_exit ok 0 30
	assert_file_eq "$T/in" "$T/ok.out"
	grep "pid=$stopped_pid " "$LOG" | grep -q 'stalled on stream default: took no byte for 1 s'
	grep "pid=$stopped_pid " "$LOG" | grep -q 'evicted from stream default, reason=lag'
	assert_eq 1 "$(grep -c evicted "$LOG")"
	# Once it reads again it is told, and what it printed is whole.
	kill -CONT "$stopped_pid"
	assert_cut_at_ring stopped "$T/in"
	stop_sfd
}

@test "a stalled subscriber reading again holds a paced publisher again" {
	start_sfd --ring 8M --max-frame 64k --stall 1
	json_lines "$T/in" 100000
	spawn cat "$SFCAT" -n 100000
	wait_subscribers 1
	kill -STOP "$cat_pid"
	mkfifo "$T/fifo"
	spawn -i "$T/fifo" pub "$SFPIPE" --pace
	exec 8>"$T/fifo"
	# 7.4 MB: past where a paced publisher waits (an eighth of the ring
	# short of the hard limit) even with what its socket took, short of
	# the hard limit itself.
	head -n 74000 "$T/in" >&8
	wait_until 10 "grep -q 'stalled on stream default' '$LOG'"
	wait_until 10 "grep -q 'released: stream default' '$LOG'"
	kill -CONT "$cat_pid"
	wait_until 10 "grep -q 'reading again on stream default' '$LOG'"
	tail -n +74001 "$T/in" >&8
	exec 8>&-
	assert_exit pub 0 30
	assert_exit cat 0 30
	assert_file_eq "$T/in" "$T/cat.out"
	assert_no_match evicted "$LOG"
	stop_sfd
}

@test "the soft limit cuts off on its timer while the publisher is quiet, with reason slow" {
	start_sfd --max-lag 64k --lag-time 2 --grace 30
	sfraw lines data 1 20000 >"$T/in"
	spawn slow "$SFCAT"
	wait_subscribers 1
	kill -STOP "$slow_pid"
	publish <"$T/in"
	# The publisher is gone; nothing more is published from here on.
	t0=$(now_ms)
	assert_no_match evicted "$LOG"
	wait_until 10 "grep -q 'evicted from stream default, reason=slow' '$LOG'"
	waited=$(($(now_ms) - t0))
	echo "cut off ${waited} ms after the last frame"
	grep 'reason=slow' "$LOG" | grep -q "over --max-lag 65536 for 2 s"
	kill -CONT "$slow_pid"
	assert_exit slow 4 30
	err=$(cat "$T/slow.err")
	[[ $err =~ ^sfcat:\ evicted:\ stayed\ more\ than\ 64\ KiB\ behind\ for\ over\ 2\ s\ \(sfd\ --max-lag,\ --lag-time\)\;\ first\ frame\ not\ received:\ seq\ ([0-9]+)\;\ read\ faster\ or\ raise\ those\ limits$ ]]
	seq=${BASH_REMATCH[1]}
	head -n "$seq" "$T/in" | cmp - "$T/slow.out"
	stop_sfd
}

@test "sfcat --max-lag: a subscriber's own limit cuts it off at once; with --on-lag skip it skips" {
	start_sfd --grace 30
	sfraw lines data 1 20000 >"$T/in"
	spawn own "$SFCAT" --max-lag 64k
	spawn skip "$SFCAT" --max-lag 64k --on-lag skip
	spawn all "$SFCAT"
	wait_subscribers 3
	kill -STOP "$own_pid" "$skip_pid"
	publish --eos <"$T/in"
	assert_exit all 0 30
	assert_file_eq "$T/in" "$T/all.out"
	wait_until 10 "grep 'pid=$own_pid ' '$LOG' | grep -q 'reason=lag: [0-9]* bytes behind, past its own max-lag 65536'"
	kill -CONT "$own_pid" "$skip_pid"
	assert_exit own 4 30
	[[ $(cat "$T/own.err") =~ ^sfcat:\ evicted:\ fell\ [0-9.]+\ (KiB|MiB)\ behind,\ past\ its\ --max-lag\ 64\ KiB\;\ first\ frame\ not\ received:\ seq\ ([0-9]+)\;\ read\ faster,\ raise\ --max-lag,\ or\ use\ --on-lag\ skip\ to\ skip\ ahead\ instead$ ]]
	head -n "${BASH_REMATCH[2]}" "$T/in" | cmp - "$T/own.out"
	assert_exit skip 0 30
	skipped=$(skipped_total "$T/skip.err")
	[ "$skipped" -gt 0 ]
	assert_eq 20000 $(($(wc -l <"$T/skip.out") + skipped))
	stop_sfd
}

# big_frames FILE COUNT: records of 100 to 400 kB, each line starting with
# its number.
big_frames() {
	python3 -c '
import random, sys
random.seed(11)
for i in range(int(sys.argv[1])):
    sys.stdout.write("%d %s\n" % (i, "y" * random.randint(100000, 400000)))' "$2" >"$1"
}

@test "cut off inside a frame larger than 64 KiB: the rest of the frame, the goodbye, exit 4" {
	start_sfd --ring 4M --max-frame 512k --grace 60
	big_frames "$T/in" 40
	spawn slow "$SFCAT"
	wait_subscribers 1
	kill -STOP "$slow_pid"
	cat "$T/in" | publish
	wait_until 10 "grep -q 'evicted from stream default, reason=lag' '$LOG'"
	kill -CONT "$slow_pid"
	assert_cut_at_ring slow "$T/in"
	assert_no_match 'closed: the ring wrapped' "$LOG"
	stop_sfd
}

@test "--on-lag skip inside frames larger than 64 KiB: every frame printed or reported skipped" {
	start_sfd --ring 4M --max-frame 512k --grace 60
	big_frames "$T/in" 60
	spawn skip "$SFCAT" --on-lag skip --print-seq
	wait_subscribers 1
	kill -STOP "$skip_pid"
	cat "$T/in" | publish --eos
	# The ring wrapped over the frame it was in: it finishes that frame
	# from what was kept aside, then skips, once it reads again.
	wait_until 10 "grep -q 'kept the last [0-9]* bytes of its frame aside' '$LOG'"
	kill -CONT "$skip_pid"
	assert_exit skip 0 30
	grep -q 'skipped ahead' "$LOG"
	# It said so, and nothing else.
	[ "$(skipped_total "$T/skip.err")" -gt 0 ]
	python3 - "$T/skip.out" "$T/skip.err" <<'PY'
import re, sys
seen = set()
for line in open(sys.argv[1]).read().split("\n")[:-1]:
    seq, body = line.split("\t")
    assert body.split(" ")[0] == seq, line[:40]
    seen.add(int(seq))
err = open(sys.argv[2]).read()
for m in re.finditer(r"skipped (\d+) frames \(seq (\d+)\.\.(\d+)\)", err):
    n, a, b = map(int, m.groups())
    assert n == b - a + 1
    for s in range(a, b + 1):
        assert s not in seen, s
        seen.add(s)
assert seen == set(range(60)), sorted(set(range(60)) - seen)
PY
	assert_no_match 'closed: the ring wrapped' "$LOG"
	stop_sfd
}

@test "--on-lag skip stops at an end of stream in the part it skips" {
	start_sfd --ring 1M --max-frame 16k
	sfraw lines first 1 6000 >"$T/a"     # about 330 kB, then its mark
	sfraw lines second 1 60000 >"$T/b"   # about 3.5 MB: the ring wraps
	spawn skip "$SFCAT" --on-lag skip
	wait_subscribers 1
	kill -STOP "$skip_pid"
	cat "$T/a" | publish --eos
	cat "$T/b" | publish
	wait_until 10 "grep -q 'kept the last [0-9]* bytes of its frame aside' '$LOG'"
	kill -CONT "$skip_pid"
	# It ends at the mark, as it would have without the skip: only
	# records of the first batch, each printed or reported skipped.
	assert_exit skip 0 30
	assert_no_match second "$T/skip.out"
	skipped=$(skipped_total "$T/skip.err")
	[ "$skipped" -gt 0 ]
	assert_eq 6000 $(($(wc -l <"$T/skip.out") + skipped))
	assert_prefix "$T/a" "$T/skip.out"
	stop_sfd
}

@test "sfpipe --min-subscribers waits for them before the first record" {
	start_sfd
	sfraw lines data 1 5000 >"$T/in"
	spawn -i "$T/in" pub "$SFPIPE" --min-subscribers 2 --eos s
	wait_until 10 "grep -q 'publishing to s' '$LOG'"
	spawn a "$SFCAT" s
	spawn b "$SFCAT" s
	assert_exit pub 0 30
	assert_exit a 0 30
	assert_exit b 0 30
	assert_file_eq "$T/in" "$T/a.out"
	assert_file_eq "$T/in" "$T/b.out"
	stop_sfd
}

@test "--lag-time without --max-lag, and bad --stall values: exit 2 with a one-line reason" {
	usage_error "sfd: --lag-time needs --max-lag: it is how long a subscriber may stay past that" \
	    "$SFD" --lag-time 5
	usage_error "sfd: --stall 0: too small" "$SFD" --stall 0
	usage_error "sfd: --stall x: invalid" "$SFD" --stall x
	usage_error "sfd: --stall 3601: too large" "$SFD" --stall 3601
}

@test "a hello with a bad max-lag=, pace= or min-subscribers= gets ERR reason=bad-hello" {
	start_sfd
	for h in "SUB 1 stream=x max-lag=0" "SUB 1 stream=x max-lag=1k" \
	    "PUB 1 stream=x pace=2" "PUB 1 stream=x min-subscribers=0" \
	    "SUB 1 stream=x pace=1" "PUB 1 stream=x max-lag=100"; do
		client 10 "ctl:$h" eof
		[ "$status" -eq 0 ]
		assert_eq "$(printf 'CTL ERR reason=bad-hello\nEOF')" "$output"
	done
	stop_sfd
}

@test "sfcat --max-lag cuts a stopped subscriber off within one frame of its limit, even in a burst" {
	start_sfd
	# 100-byte records, about 6 MB from a pipe: one turn of the loop
	# appends far more than the limit.
	python3 -c 'import sys
for i in range(60000): sys.stdout.write("%06d %s\n" % (i, "p" * 92))' >"$T/in"
	spawn own "$SFCAT" --max-lag 1M
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
	err=$(cat "$T/own.err")
	[[ $err =~ ^sfcat:\ evicted:\ fell\ 1\ MiB\ behind,\ past\ its\ --max-lag\ 1\ MiB\;\ first\ frame\ not\ received:\ seq\ ([0-9]+)\;\ read\ faster ]]
	head -n "${BASH_REMATCH[1]}" "$T/in" | cmp - "$T/own.out"
}

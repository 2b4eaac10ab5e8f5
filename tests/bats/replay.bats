#!/usr/bin/env bats
# Replay and resume: sfcat --from, --print-seq, --reconnect, --state,
# --on-lag skip and --timeout; sfpipe --eos and --retry.

load helpers

# paced NAME FILE CHUNK [SFPIPE-ARGS]: spawn NAME publishing FILE at a
# bounded rate (CHUNK bytes every 10 ms), so only a stopped subscriber lags.
paced() {
	local name=$1 in=$2 chunk=$3
	shift 3
	spawn -i "$in" "$name" sh -c \
	    'py=$1 pipe=$2 chunk=$3; shift 3; python3 "$py" pace "$chunk" 0.01 | "$pipe" "$@"' \
	    sh "$RAWPY" "$SFPIPE" "$chunk" "$@"
}

# lines_of FILE: how many lines FILE has.
lines_of() {
	wc -l <"$1" | tr -d ' '
}

# skip_ranges FILE: the "A B" of each "sfcat: skipped K frames (seq A..B)"
# line in FILE.
skip_ranges() {
	sed -nE 's/^sfcat: skipped [0-9]+ frames \(seq ([0-9]+)\.\.([0-9]+)\)$/\1 \2/p' "$1"
}

# without_seqs FILE [A B]...: FILE without the lines of the frames with
# seq A..B (lines A+1..B+1), for each range.
without_seqs() {
	local file=$1 script=
	shift
	while [ $# -ge 2 ]; do
		script="$script$(($1 + 1)),$(($2 + 1))d;"
		shift 2
	done
	sed -e "${script:-p;d}" "$file"
}

# term_after NAME LINES: once the spawned sfcat NAME printed LINES lines,
# stop it with SIGTERM; it must exit 143 and say nothing.
term_after() {
	local pid_var=${1}_pid
	wait_until 20 "[ \$(wc -l <'$T/$1.out') -ge $2 ]"
	kill -TERM "${!pid_var}"
	assert_exit "$1" 143
	[ ! -s "$T/$1.err" ]
}

# What an sfcat --reconnect cut off by the full ring says as it goes on.
reconnect_re() {
	printf '%s' "^sfcat: evicted: fell $SIZE_RE behind \\(the ring is full\\); first frame not received: seq [0-9]+; read faster, raise sfd --ring, publish with sfpipe --pace, or use --on-lag skip; reconnecting$"
}

@test "--from oldest, SEQ and -N print exactly the frames asked for; --print-seq numbers them from 0" {
	start_sfd
	sfraw lines line 1 20 >"$T/in"
	publish <"$T/in"
	spawn all "$SFCAT" --from oldest -n 20
	spawn first "$SFCAT" --from oldest -n 5
	spawn mid "$SFCAT" --from 7 -n 3
	spawn last "$SFCAT" --from -4 -n 4
	spawn more "$SFCAT" --from -100 -n 20
	spawn seq "$SFCAT" --from 0 --print-seq -n 3
	spawn seqmid "$SFCAT" --from -2 --print-seq -n 2
	for c in all first mid last more seq seqmid; do
		assert_exit "$c" 0
		[ ! -s "$T/$c.err" ] || fail "$c: $(cat "$T/$c.err")"
	done
	assert_file_eq "$T/in" "$T/all.out"
	head -n 5 "$T/in" >"$T/first.exp"
	assert_file_eq "$T/first.exp" "$T/first.out"
	sed -n 8,10p "$T/in" >"$T/mid.exp"
	assert_file_eq "$T/mid.exp" "$T/mid.out"
	tail -n 4 "$T/in" >"$T/last.exp"
	assert_file_eq "$T/last.exp" "$T/last.out"
	# -100 when the ring holds 20: all 20.
	assert_file_eq "$T/in" "$T/more.out"
	printf '0\tline 000001 x\n1\tline 000002 xx\n2\tline 000003 xxx\n' >"$T/seq.exp"
	assert_file_eq "$T/seq.exp" "$T/seq.out"
	printf '18\t%s\n19\t%s\n' "$(sed -n 19p "$T/in")" "$(sed -n 20p "$T/in")" >"$T/seqmid.exp"
	assert_file_eq "$T/seqmid.exp" "$T/seqmid.out"
	# A sequence number beyond the newest frame means now.
	spawn late "$SFCAT" --from 1000 --print-seq -n 1
	wait_subscribers 8
	echo late | publish
	assert_exit late 0
	printf '20\tlate\n' >"$T/late.exp"
	assert_file_eq "$T/late.exp" "$T/late.out"
	stop_sfd
}

@test "OK carries the epoch; from=SEQ with another epoch starts at the oldest frame" {
	start_sfd
	printf 'a\nb\nc\n' | publish x
	sfrun python3 "$RAWPY" client "$SOCK" 10 "ctl:SUB 1 stream=x from=1" read read read
	[ "$status" -eq 0 ]
	assert_eq "$(printf 'CTL OK stream=x seq=1 epoch=E max-frame=1048576 ring=67108864\nDATA 1 b\nDATA 1 c')" "$output"
	sfrun python3 "$RAWPY" client "$SOCK" 10 "ctl:SUB 1 stream=x from=2 epoch=0123456789abcdef" read read
	[ "$status" -eq 0 ]
	assert_eq "$(printf 'CTL OK stream=x seq=0 epoch=E max-frame=1048576 ring=67108864\nDATA 1 a')" "$output"
	sfrun python3 "$RAWPY" client "$SOCK" 10 "ctl:SUB 1 stream=x from=-1 on-lag=skip" read read
	[ "$status" -eq 0 ]
	assert_eq "$(printf 'CTL OK stream=x seq=2 epoch=E max-frame=1048576 ring=67108864\nDATA 1 c')" "$output"
	stop_sfd
}

@test "--reconnect after an eviction loses nothing while the ring still holds the frames" {
	start_sfd --ring 8M --grace 30
	n=35000
	sfraw lines data 1 $n >"$T/in"
	spawn ok "$SFCAT" -n $n
	# Cut off at its own limit, long before the ring is full.
	spawn slow "$SFCAT" --reconnect --max-lag 128k -n $n
	wait_subscribers 2
	kill -STOP "$slow_pid"
	paced pub "$T/in" 16384
	assert_exit pub 0 60
	assert_exit ok 0 30
	assert_file_eq "$T/in" "$T/ok.out"
	wait_until 10 "grep 'pid=$slow_pid ' '$LOG' | grep -q evicted"
	assert_eq 1 "$(grep -c evicted "$LOG")"
	kill -CONT "$slow_pid"
	assert_exit slow 0 30
	assert_file_eq "$T/in" "$T/slow.out"
	# It says why it reconnected, and nothing else: no frame was lost.
	assert_eq 1 "$(lines_of "$T/slow.err")"
	[[ $(cat "$T/slow.err") =~ ^sfcat:\ evicted:\ fell\ $SIZE_RE\ behind,\ past\ its\ --max-lag\ 128\ KiB\;\ first\ frame\ not\ received:\ seq\ [0-9]+\;\ read\ faster,\ raise\ --max-lag,\ or\ use\ --on-lag\ skip\ to\ skip\ ahead\ instead\;\ reconnecting$ ]]
	stop_sfd
}

@test "--reconnect after the ring moved on reports the frames lost and prints all the rest" {
	start_sfd --ring 1M --max-frame 16k --grace 30
	n=40000
	sfraw lines data 1 $n >"$T/in"
	spawn slow "$SFCAT" --reconnect
	wait_subscribers 1
	kill -STOP "$slow_pid"
	paced pub "$T/in" 16384 --eos
	assert_exit pub 0 60
	wait_until 10 "grep 'pid=$slow_pid ' '$LOG' | grep -q evicted"
	kill -CONT "$slow_pid"
	# The end of stream mark stops it after the last frame.
	assert_exit slow 0 30
	cat "$T/slow.err"
	assert_eq 2 "$(lines_of "$T/slow.err")"
	[[ $(sed -n 1p "$T/slow.err") =~ $(reconnect_re) ]]
	[[ $(sed -n 2p "$T/slow.err") =~ ^sfcat:\ lost\ ([0-9]+)\ frames\ \(seq\ ([0-9]+)\.\.([0-9]+)\):\ no\ longer\ in\ the\ ring$ ]]
	k=${BASH_REMATCH[1]} a=${BASH_REMATCH[2]} b=${BASH_REMATCH[3]}
	assert_eq "$k" $((b - a + 1))
	[ "$k" -gt 0 ]
	[ "$b" -lt $((n - 1)) ]
	# Exactly the input without the frames of seq A..B.
	without_seqs "$T/in" "$a" "$b" >"$T/exp"
	assert_file_eq "$T/exp" "$T/slow.out"
	stop_sfd
}

@test "--on-lag skip: printed and skipped frames add up to those published; others get all" {
	start_sfd --ring 1M --max-frame 16k
	n=40000
	sfraw lines data 1 $n >"$T/in"
	spawn ok "$SFCAT"
	spawn skip "$SFCAT" --on-lag skip
	spawn skipseq "$SFCAT" --on-lag skip --print-seq
	wait_subscribers 3
	kill -STOP "$skip_pid" "$skipseq_pid"
	t0=$(now_ms)
	paced pub "$T/in" 16384 --eos
	# Nobody waits for the stopped ones: the publisher is done in time.
	assert_exit pub 0 20
	echo "published in $(($(now_ms) - t0)) ms"
	assert_exit ok 0 30
	assert_file_eq "$T/in" "$T/ok.out"
	kill -CONT "$skip_pid" "$skipseq_pid"
	assert_exit skip 0 30
	assert_exit skipseq 0 30
	# Skipped, never evicted.
	assert_eq 0 "$(grep -c evicted "$LOG" || true)"
	for c in skip skipseq; do
		pid_var=${c}_pid
		grep "pid=${!pid_var} " "$LOG" | grep -q 'skipped ahead'
		# stderr holds only skip reports, each with a consistent count.
		assert_eq "" "$(grep -vE '^sfcat: skipped [0-9]+ frames \(seq [0-9]+\.\.[0-9]+\)$' "$T/$c.err" || true)"
		sed -nE 's/^sfcat: skipped ([0-9]+) frames \(seq ([0-9]+)\.\.([0-9]+)\)$/\1 \2 \3/p' "$T/$c.err" |
		    while read -r k a b; do
			assert_eq "$k" $((b - a + 1))
		done
		skipped=$(sed -nE 's/^sfcat: skipped ([0-9]+) frames.*/\1/p' "$T/$c.err" | awk '{ s += $1 } END { print s + 0 }')
		echo "$c: printed $(lines_of "$T/$c.out"), skipped $skipped"
		[ "$skipped" -gt 0 ]
		assert_eq $n $(($(lines_of "$T/$c.out") + skipped))
		# The daemon logged the same number.
		logged=$(grep "pid=${!pid_var} " "$LOG" | sed -nE 's/.*skipped ahead on stream default: ([0-9]+) frames.*/\1/p' |
		    awk '{ s += $1 } END { print s + 0 }')
		assert_eq "$skipped" "$logged"
	done
	# What was printed is the input without the skipped frames.
	without_seqs "$T/in" $(skip_ranges "$T/skip.err") >"$T/skip.exp"
	assert_file_eq "$T/skip.exp" "$T/skip.out"
	# The printed seqs and the skipped ranges partition 0..n-1.
	{
		cut -f 1 "$T/skipseq.out"
		skip_ranges "$T/skipseq.err" | while read -r a b; do seq "$a" "$b"; done
	} | sort -n >"$T/seqs"
	seq 0 $((n - 1)) >"$T/allseqs"
	assert_file_eq "$T/allseqs" "$T/seqs"
	# And each printed seq goes with its own line.
	without_seqs "$T/in" $(skip_ranges "$T/skipseq.err") >"$T/skipseq.lines"
	cut -f 1 "$T/skipseq.out" | paste - "$T/skipseq.lines" >"$T/skipseq.exp"
	awk '{ if ($3 != sprintf("%06d", $1 + 1)) { print "line " NR ": " $0; exit 1 } }' "$T/skipseq.exp"
	assert_file_eq "$T/skipseq.exp" "$T/skipseq.out"
	stop_sfd
}

@test "--state: sfcat stopped by SIGTERM and started again prints every frame once" {
	start_sfd
	n=20000
	sfraw lines data 1 $n >"$T/in"
	spawn run1 "$SFCAT" --state "$T/state"
	wait_subscribers 1
	paced pub "$T/in" 4096
	term_after run1 2000
	k1=$(lines_of "$T/run1.out")
	state_is "$T/state" "$k1"
	epoch=$EPOCH
	[ ! -e "$T/state.tmp" ]
	spawn run2 "$SFCAT" --state "$T/state"
	term_after run2 2000
	k2=$(lines_of "$T/run2.out")
	state_is "$T/state" $((k1 + k2))
	assert_eq "$epoch" "$EPOCH"
	assert_exit pub 0 60
	echo "run1 $k1, run2 $k2 of $n"
	[ $((k1 + k2)) -lt $n ]
	spawn run3 "$SFCAT" --state "$T/state" -n $((n - k1 - k2))
	assert_exit run3 0
	[ ! -s "$T/run3.err" ]
	state_is "$T/state" $n
	cat "$T/run1.out" "$T/run2.out" "$T/run3.out" >"$T/all.out"
	assert_file_eq "$T/in" "$T/all.out"
	stop_sfd
}

@test "--state after SIGKILL: saved while printing, so a restart misses nothing" {
	start_sfd
	n=20000
	sfraw lines data 1 $n >"$T/in"
	spawn run1 "$SFCAT" --state "$T/state"
	wait_subscribers 1
	paced pub "$T/in" 4096
	# Well over a second of printing: the file was written meanwhile.
	wait_until 20 "[ \$(wc -l <'$T/run1.out') -ge 10000 ]"
	kill -KILL "$run1_pid"
	wait_exit run1
	k1=$(lines_of "$T/run1.out")
	[[ $(cat "$T/state") =~ ^epoch=[0-9a-f]{16}\ next=([0-9]+)$ ]]
	next=${BASH_REMATCH[1]}
	echo "printed $k1, saved next=$next"
	[ "$next" -gt 0 ]
	[ "$next" -le "$k1" ]
	assert_exit pub 0 60
	# At least once: the frames from next on come again.
	spawn run2 "$SFCAT" --state "$T/state" -n $((n - next))
	assert_exit run2 0
	{ head -n "$next" "$T/run1.out"; cat "$T/run2.out"; } >"$T/all.out"
	assert_file_eq "$T/in" "$T/all.out"
	state_is "$T/state" $n
	stop_sfd
}

@test "--state with -n: each run goes on where the last one stopped; another epoch starts at the oldest" {
	start_sfd
	sfraw lines line 1 10 >"$T/in"
	publish <"$T/in"
	spawn a "$SFCAT" --from oldest --state "$T/st" -n 4
	assert_exit a 0
	head -n 4 "$T/in" >"$T/a.exp"
	assert_file_eq "$T/a.exp" "$T/a.out"
	state_is "$T/st" 4
	epoch=$EPOCH
	# The state file wins over --from.
	spawn b "$SFCAT" --from oldest --state "$T/st" -n 3
	assert_exit b 0
	sed -n 5,7p "$T/in" >"$T/b.exp"
	assert_file_eq "$T/b.exp" "$T/b.out"
	state_is "$T/st" 7
	spawn c "$SFCAT" --state "$T/st" --print-seq -n 3
	assert_exit c 0
	sed -n 8,10p "$T/in" | awk '{ print NR + 6 "\t" $0 }' >"$T/c.exp"
	assert_file_eq "$T/c.exp" "$T/c.out"
	state_is "$T/st" 10
	for x in a b c; do
		[ ! -s "$T/$x.err" ] || fail "$x: $(cat "$T/$x.err")"
	done
	# A state file from another life of the stream.
	printf 'epoch=0123456789abcdef next=5\n' >"$T/old"
	spawn d "$SFCAT" --state "$T/old" -n 2
	assert_exit d 0
	head -n 2 "$T/in" >"$T/d.exp"
	assert_file_eq "$T/d.exp" "$T/d.out"
	assert_eq "sfcat: stream default was restarted (epoch $epoch, was 0123456789abcdef): an unknown number of frames after seq 4 were lost; resuming at seq 0 of the new epoch" "$(cat "$T/d.err")"
	state_is "$T/old" 2
	assert_eq "$epoch" "$EPOCH"
	# Not a state file: a local error.
	echo junk >"$T/junk"
	sfrun "$SFCAT" --state "$T/junk"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	assert_eq "sfcat: --state $T/junk: not a state file of sfcat" "$stderr"
	assert_eq junk "$(cat "$T/junk")"
	stop_sfd
}

@test "daemon restarted under --reconnect: sfcat reports the new epoch and goes on printing" {
	start_sfd
	spawn cat "$SFCAT" --reconnect
	wait_subscribers 1
	mkfifo "$T/fifo"
	spawn -i "$T/fifo" pub "$SFPIPE" --retry
	exec 8>"$T/fifo"
	printf 'a\nb\nc\n' >&8
	wait_until 10 "[ \$(wc -l <'$T/cat.out') -eq 3 ]"
	stop_sfd
	wait_until 10 "grep -q reconnecting '$T/cat.err'"
	wait_until 10 "grep -q reconnecting '$T/pub.err'"
	start_sfd
	wait_subscribers 1
	wait_until 20 "grep -q 'reconnected to' '$T/pub.err'"
	printf 'd\ne\n' >&8
	wait_until 10 "[ \$(wc -l <'$T/cat.out') -eq 5 ]"
	printf 'a\nb\nc\nd\ne\n' >"$T/exp"
	assert_file_eq "$T/exp" "$T/cat.out"
	# Still running: --reconnect never gives up.
	sleep 0.3
	[ ! -s "$T/cat.rc" ]
	kill -0 "$cat_pid"
	cat "$T/cat.err"
	assert_eq "sfcat: sfd shut down; next seq 3; reconnecting" "$(sed -n 1p "$T/cat.err")"
	# In between, perhaps some "cannot connect ...; reconnecting".
	assert_eq "" "$(sed '1d;$d' "$T/cat.err" |
	    grep -vFx "sfcat: cannot connect to $SOCK: No such file or directory (is sfd running? start it with: sfd -l $SOCK); reconnecting" || true)"
	[[ $(sed -n '$p' "$T/cat.err") =~ ^sfcat:\ stream\ default\ was\ restarted\ \(epoch\ ([0-9a-f]{16}),\ was\ ([0-9a-f]{16})\):\ an\ unknown\ number\ of\ frames\ after\ seq\ 2\ were\ lost\;\ resuming\ at\ seq\ 0\ of\ the\ new\ epoch$ ]]
	[ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ]
	exec 8>&-
	assert_exit pub 0
	cat "$T/pub.err"
	[[ $(sed -n 1p "$T/pub.err") =~ ^sfpipe:\ (sfd\ shut\ down\;\ next\ seq\ 3|lost\ connection\ to\ .*)\;\ reconnecting$ ]]
	assert_eq "sfpipe: reconnected to $SOCK" "$(sed -n '$p' "$T/pub.err")"
	kill -TERM "$cat_pid"
	assert_exit cat 143
	stop_sfd
}

@test "sfpipe --eos: every subscriber prints all frames, then exits 0" {
	start_sfd
	sfraw gen text 11 300 >"$T/in"
	spawn c1 "$SFCAT"
	spawn c2 "$SFCAT"
	spawn c3 "$SFCAT"
	wait_subscribers 3
	publish --eos <"$T/in"
	for c in c1 c2 c3; do
		assert_exit $c 0
		assert_file_eq "$T/in" "$T/$c.out"
		[ ! -s "$T/$c.err" ]
	done
	# The mark is in the ring: a replay from the oldest frame ends there too.
	spawn late "$SFCAT" --from oldest
	assert_exit late 0
	assert_file_eq "$T/in" "$T/late.out"
	stop_sfd
}

@test "without --eos subscribers stay connected after the publisher exits" {
	start_sfd
	spawn c1 "$SFCAT"
	spawn c2 "$SFCAT"
	spawn c3 "$SFCAT"
	wait_subscribers 3
	printf 'one\ntwo\n' | publish
	printf 'one\ntwo\n' >"$T/exp"
	for c in c1 c2 c3; do
		wait_until 10 "cmp -s '$T/exp' '$T/$c.out'"
	done
	sleep 0.5
	for c in c1 c2 c3; do
		pid_var=${c}_pid
		[ ! -s "$T/$c.rc" ]
		kill -0 "${!pid_var}"
	done
	# The next publisher reaches them, and its --eos ends them.
	printf 'three\n' | publish --eos
	printf 'one\ntwo\nthree\n' >"$T/exp"
	for c in c1 c2 c3; do
		assert_exit $c 0
		assert_file_eq "$T/exp" "$T/$c.out"
	done
	stop_sfd
}

@test "sfcat --timeout 1: no frame for a second is exit 7 with the message" {
	start_sfd
	t0=$(now_ms)
	sfrun "$SFCAT" --timeout 1
	t1=$(now_ms)
	[ "$status" -eq 7 ]
	[ -z "$output" ]
	assert_eq "sfcat: no frame within --timeout 1 s" "$stderr"
	echo "gave up after $((t1 - t0)) ms"
	[ $((t1 - t0)) -ge 900 ]
	[ $((t1 - t0)) -le $(($(secs 5) * 1000)) ]
	# What came before the silence is printed (a longer timeout for slow
	# builds, so the publisher surely comes within it).
	spawn cat "$SFCAT" --timeout "$(secs 1)"
	wait_subscribers 2
	printf 'a\nb\n' | publish
	assert_exit cat 7
	printf 'a\nb\n' >"$T/exp"
	assert_file_eq "$T/exp" "$T/cat.out"
	assert_eq "sfcat: no frame within --timeout $(secs 1) s" "$(cat "$T/cat.err")"
	stop_sfd
}

@test "sfpipe --retry started before the daemon waits for it, then publishes everything" {
	sfraw lines data 1 5000 >"$T/in"
	cannot="cannot connect to $SOCK: No such file or directory (is sfd running? start it with: sfd -l $SOCK)"
	spawn early "$SFCAT" -s "$SOCK" --reconnect -n 5000
	mkfifo "$T/fifo"
	spawn -i "$T/fifo" pub "$SFPIPE" -s "$SOCK" --retry
	exec 8>"$T/fifo"
	wait_until 10 "grep -q retrying '$T/pub.err'"
	wait_until 10 "grep -q reconnecting '$T/early.err'"
	sleep 0.3
	[ ! -s "$T/pub.rc" ]
	start_sfd
	spawn late "$SFCAT" -n 5000
	wait_subscribers 2
	wait_until 10 "grep -q 'pid=$pub_pid .*publishing' '$LOG'"
	cat "$T/in" >&8
	exec 8>&-
	assert_exit pub 0 30
	assert_exit early 0 30
	assert_exit late 0 30
	assert_file_eq "$T/in" "$T/early.out"
	assert_file_eq "$T/in" "$T/late.out"
	assert_eq "sfpipe: $cannot; retrying" "$(cat "$T/pub.err")"
	assert_eq "" "$(grep -vFx "sfcat: $cannot; reconnecting" "$T/early.err" || true)"
	stop_sfd
}

@test "sfpipe without --retry exits 5 when its daemon is killed" {
	start_sfd
	spawn cat "$SFCAT" -n 1
	wait_subscribers 1
	mkfifo "$T/fifo"
	spawn -i "$T/fifo" pub "$SFPIPE"
	exec 8>"$T/fifo"
	echo first >&8
	assert_exit cat 0
	assert_eq first "$(cat "$T/cat.out")"
	kill -KILL "$SFD_PID"
	assert_exit sfd 137
	# Keep writing until sfpipe notices.
	for _ in $(seq 1 50); do
		[ -s "$T/pub.rc" ] && break
		(echo more >&8) 2>/dev/null || break
		sleep 0.1
	done
	assert_exit pub 5
	exec 8>&-
	assert_eq "sfpipe: lost connection to $SOCK" "$(cat "$T/pub.err")"
}

@test "bad --from and --on-lag values: exit 2, a one-line error, then usage" {
	usage=$("$SFCAT" --help)
	for v in bogus -x 12x 1.5 - ''; do
		sfrun "$SFCAT" --from "$v"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		assert_eq "sfcat: --from $v: use now, oldest, -N or a sequence number" "${stderr%%$'\n'*}"
		assert_eq "$usage" "${stderr#*$'\n'}"
	done
	for v in drop Skip ''; do
		sfrun "$SFCAT" --on-lag "$v"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		assert_eq "sfcat: --on-lag $v: use disconnect or skip" "${stderr%%$'\n'*}"
		assert_eq "$usage" "${stderr#*$'\n'}"
	done
}

@test "a raw SUB with a bad from= or on-lag= gets ERR reason=bad-hello" {
	start_sfd
	for hello in "SUB 1 stream=x from=bogus" "SUB 1 stream=x from=-" \
	    "SUB 1 stream=x from=12x" "SUB 1 stream=x on-lag=drop"; do
		sfrun python3 "$RAWPY" client "$SOCK" 10 "ctl:$hello" eof
		[ "$status" -eq 0 ]
		assert_eq "$(printf 'CTL ERR reason=bad-hello\nEOF')" "$output"
	done
	wait_until 5 "[ \$(grep -c 'reason=bad-hello' '$LOG') -eq 4 ]"
	# The daemon goes on serving.
	spawn cat "$SFCAT" -n 1 x
	wait_subscribers 1
	echo fine | publish x
	assert_exit cat 0
	assert_eq fine "$(cat "$T/cat.out")"
	stop_sfd
}

@test "--on-lag skip stopped in the middle of large frames still accounts for every frame" {
	start_sfd --ring 1M --max-frame 16k
	# 20,000 frames of up to 9,000 bytes: a stall leaves the subscriber
	# inside a frame that the ring then overwrites.
	python3 -c '
import random
random.seed(7)
for i in range(20000):
    print(str(i) + "x" * random.randint(0, 9000))' >"$T/in"
	spawn skip "$SFCAT" --on-lag skip --print-seq
	wait_subscribers 1
	# sfcat may finish at any moment: a stop can land on its zombie,
	# whose reaping then makes the matching CONT fail.
	(for _ in 1 2 3 4 5 6; do
		sleep 0.05
		kill -STOP "$skip_pid" 2>/dev/null || break
		sleep 0.3
		kill -CONT "$skip_pid" 2>/dev/null || break
	done) &
	local staller=$!
	sfrun "$SFPIPE" --eos <"$T/in"
	[ "$status" -eq 0 ]
	wait "$staller"
	assert_exit skip 0 30
	python3 - "$T/skip.out" "$T/skip.err" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")[:-1]
seen = set()
for line in lines:
    seq, body = line.split("\t")
    assert body.split("x")[0] == seq, line[:40]
    seen.add(int(seq))
for m in re.finditer(r"skipped (\d+) frames \(seq (\d+)\.\.(\d+)\)",
                     open(sys.argv[2]).read()):
    n, a, b = map(int, m.groups())
    assert n == b - a + 1
    for s in range(a, b + 1):
        assert s not in seen, s
        seen.add(s)
assert seen == set(range(20000)), len(seen)
PY
	! grep -q "closed" "$LOG"
	stop_sfd
}

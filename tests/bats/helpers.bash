# Shared setup for the streamfan end-to-end tests.
#
# Every test gets its own folder T (BATS_TEST_TMPDIR) holding the daemon's
# socket T/sf.sock, its log T/sfd.log, and the output NAME.out, stderr
# NAME.err and exit status NAME.rc of each program started with spawn.
# Every wait is bounded, so a hang fails the test instead of the suite.

bats_require_minimum_version 1.5.0

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD=${SF_BUILD:-$ROOT}
SFD=$BUILD/cmd/sfd/sfd
SFPIPE=$BUILD/cmd/sfpipe/sfpipe
SFCAT=$BUILD/cmd/sfcat/sfcat
SFCTL=$BUILD/cmd/sfctl/sfctl
RAWPY=$BATS_TEST_DIRNAME/sfraw.py
FAKEPY=$BATS_TEST_DIRNAME/fakesfd.py

# Sanitizer builds are slower: stretch every bound.
if [ "${SF_SANITIZED:-0}" = 1 ]; then
	SCALE=4
	: "${ASAN_OPTIONS:=detect_leaks=1:abort_on_error=0:exitcode=86}"
	: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1:exitcode=86}"
	export ASAN_OPTIONS UBSAN_OPTIONS
else
	SCALE=1
fi

setup() {
	T=$BATS_TEST_TMPDIR
	SOCK=$T/sf.sock
	LOG=$T/sfd.log
	SFD_PID=
	unset SF_SERVER XDG_RUNTIME_DIR
	: >"$T/.pids"
	: >"$T/.wrappers"
	for p in "$SFD" "$SFPIPE" "$SFCAT" "$SFCTL"; do
		[ -x "$p" ] || fail "not built: $p"
	done
}

teardown() {
	sf_teardown
}

# sf_teardown: end what the test left running, then fail on any sanitizer
# report in the logs; for a file with its own teardown to call.
sf_teardown() {
	local p bad
	# Every program still running: continue it if stopped, then kill it;
	# its wrapper then records the status and ends by itself.
	if [ -f "$T/.pids" ]; then
		while read -r p; do
			kill -CONT "$p" 2>/dev/null || true
			kill -KILL "$p" 2>/dev/null || true
		done <"$T/.pids"
	fi
	if [ -f "$T/.wrappers" ]; then
		while read -r p; do
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				kill -0 "$p" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$p" 2>/dev/null || true
		done <"$T/.wrappers"
	fi
	bad=$(grep -l -E 'Sanitizer|runtime error' "$T"/*.log "$T"/*.err \
	    2>/dev/null || true)
	if [ -n "$bad" ]; then
		for p in $bad; do
			echo "--- $p"
			cat "$p"
		done
		fail "sanitizer report"
	fi
}

fail() {
	echo "$*" >&2
	return 1
}

# sfraw ARGS: the Python helper (random data, raw protocol client...).
sfraw() {
	python3 "$RAWPY" "$@"
}

# secs N: N seconds, stretched for slow builds.
secs() {
	echo $(($1 * SCALE))
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# wait_until SECONDS COMMAND: poll the shell command until it succeeds;
# fail after SECONDS (stretched for slow builds).
wait_until() {
	local end
	end=$(($(now_ms) + $(secs "$1") * 1000))
	while ! eval "$2" >/dev/null 2>&1; do
		if [ "$(now_ms)" -gt "$end" ]; then
			echo "timed out after $(secs "$1")s waiting for: $2" >&2
			[ -f "$LOG" ] && { echo "--- sfd log" >&2; cat "$LOG" >&2; }
			return 1
		fi
		sleep 0.05
	done
}

# spawn [-i FILE] NAME COMMAND...: run COMMAND in the background, stdin
# from FILE (default /dev/null), stdout to T/NAME.out, stderr to T/NAME.err;
# its exit status lands in T/NAME.rc.  Sets NAME_pid (the program's own
# pid, so it can be signalled and recognised in the daemon's log).
spawn() {
	local in=/dev/null name pid
	if [ "$1" = -i ]; then
		in=$2
		shift 2
	fi
	name=$1
	shift
	rm -f "$T/$name.pid" "$T/$name.rc"
	# The wrapper must outlive a failing program: no errexit, no ERR trap.
	# Its own stderr (job reports) goes nowhere; the program's to NAME.err.
	(
		set +eE
		trap - ERR
		"$@" <"$in" >"$T/$name.out" 2>"$T/$name.err" 3>&- &
		echo $! >"$T/$name.pid"
		wait $!
		echo $? >"$T/$name.rc"
	) 3>&- 8>&- 2>/dev/null &
	echo $! >>"$T/.wrappers"
	wait_until 5 "[ -s '$T/$name.pid' ]"
	pid=$(cat "$T/$name.pid")
	echo "$pid" >>"$T/.pids"
	printf -v "${name}_pid" %s "$pid"
}

# wait_exit NAME [SECONDS]: wait for a spawned program to exit.
wait_exit() {
	wait_until "${2:-10}" "[ -s '$T/$1.rc' ]" || {
		if ! [ "$T/$1.err" -ef "$LOG" ]; then
			echo "--- $1 stderr" >&2
			cat "$T/$1.err" >&2
		fi
		return 1
	}
}

# assert_exit NAME CODE [SECONDS]: wait for it, check its exit status.
assert_exit() {
	local rc
	wait_exit "$1" "${3:-10}"
	rc=$(cat "$T/$1.rc")
	if [ "$rc" != "$2" ]; then
		echo "$1 exited $rc, expected $2; stderr:" >&2
		cat "$T/$1.err" >&2
		return 1
	fi
}

# sfrun COMMAND...: bats' run with stderr apart ($output, $stderr), bounded.
sfrun() {
	run --separate-stderr timeout -k 5 "$(secs 30)" "$@"
	printf '%s\n' "$stderr" >>"$T/run.err"
}

# client SECONDS OP...: the raw protocol client (sfraw.py client) on
# T/sf.sock through sfrun; its whole run bounded by SECONDS, stretched
# for slow builds.
client() {
	local t=$1
	shift
	sfrun python3 "$RAWPY" client "$SOCK" "$(secs "$t")" "$@"
}

# publish [SFPIPE-ARGS]: sfpipe in the foreground, stdin from the caller,
# bounded; its stderr is kept for the sanitizer check.
publish() {
	timeout -k 5 "$(secs 30)" "$SFPIPE" "$@" 2>>"$T/publish.err"
}

# What sfd -v starts each log line with, off the journal: the time, UTC to
# the millisecond, and a space (see DESCRIPTION in sfd(1)).
STAMP_RE='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z '

# unstamp [FILE]: the daemon's log (FILE, default $LOG) without the time
# at the start of its lines, to match them by what they say.
unstamp() {
	sed -E "s/^$STAMP_RE//" "${1:-$LOG}"
}

# start_sfd [ARGS]: start the daemon on T/sf.sock with -v (unless
# SFD_QUIET=1) and ARGS; wait for it to listen; export SF_SERVER.
start_sfd() {
	local v=-v
	[ "${SFD_QUIET:-0}" = 1 ] && v=
	spawn sfd "$SFD" $v -l "$SOCK" "$@"
	SFD_PID=$sfd_pid
	ln -sf sfd.err "$LOG"
	wait_until 10 "unstamp | grep -q '^sfd: listening on' || [ -s '$T/sfd.rc' ]" ||
		fail "sfd did not start"
	if [ -s "$T/sfd.rc" ]; then
		cat "$LOG" >&2
		fail "sfd exited $(cat "$T/sfd.rc")"
	fi
	export SF_SERVER=$SOCK
}

# stop_sfd: SIGTERM the daemon; it must exit 0 in time.
stop_sfd() {
	kill -TERM "$SFD_PID"
	assert_exit sfd 0 10
}

# fake STEP...: start the scripted daemon on T/sf.sock (see fakesfd.py);
# its log is T/fake.log, the hello of its N-th client T/hello.N.
fake() {
	spawn fake python3 "$FAKEPY" "$SOCK" "$T" "$(secs 20)" "$@"
	wait_until 5 "[ -S '$SOCK' ] || [ -s '$T/fake.rc' ]"
	[ -S "$SOCK" ] || fail "fakesfd did not start: $(cat "$T/fake.err")"
	export SF_SERVER=$SOCK
}

# hello N: what the N-th client said first, once it has.
hello() {
	wait_until 5 "[ -s '$T/hello.$1' ]"
	cat "$T/hello.$1"
}

# subscribed: how many subscribes the daemon logged (-v) so far.
subscribed() {
	grep -cw subscribed "$LOG" || true
}

# wait_subscribers N: wait until N subscribes in all were logged, so that
# frames published from now on reach all of them.
wait_subscribers() {
	wait_until 10 "[ \$(subscribed) -ge $1 ]"
}

# assert_file_eq EXPECTED ACTUAL: byte-exact comparison.
assert_file_eq() {
	cmp "$1" "$2" || {
		echo "expected $(wc -c <"$1") bytes, got $(wc -c <"$2")" >&2
		return 1
	}
}

# state_is FILE NEXT [eos]: FILE is exactly one line "epoch=<16 hex>
# next=NEXT", with " eos=1" after it when asked for; sets EPOCH.
state_is() {
	local content want
	content=$(cat "$1")
	[[ $content =~ ^epoch=([0-9a-f]{16})\ next=([0-9]+)( eos=1)?$ ]] ||
		fail "state file: $content"
	EPOCH=${BASH_REMATCH[1]}
	want="epoch=$EPOCH next=$2${3:+ eos=1}"
	assert_eq "$want" "$content"
	printf '%s\n' "$want" | cmp - "$1"   # and one newline
}

# usage_error EXPECTED COMMAND...: COMMAND, stdin from /dev/null, exits 2
# with nothing on stdout and on stderr the line EXPECTED, then exactly
# the usage that its --help starts with (up to its first empty line).
usage_error() {
	local want=$1 usage
	shift
	usage=$("$1" --help) || fail "$1 --help failed" || return
	usage=${usage%%$'\n\n'*}
	sfrun "$@" </dev/null
	[ "$status" -eq 2 ] || fail "exit $status, not 2: $stderr" || return
	[ -z "$output" ] || fail "stdout: $output" || return
	assert_eq "$want" "${stderr%%$'\n'*}" || return
	assert_eq "$usage" "${stderr#*$'\n'}"
}

# assert_no_match REGEX FILE: no line of FILE matches the extended REGEX;
# else show the lines that do and fail.  (A bare "! grep" never fails a
# test: errexit ignores a negated command.)
assert_no_match() {
	local hits rc=0
	hits=$(grep -E -- "$1" "$2") || rc=$?
	case $rc in
	0)
		printf 'unexpected in %s:\n%s\n' "$2" "$hits" >&2
		return 1
		;;
	1)	return 0 ;;
	*)	fail "cannot read $2" ;;
	esac
}

# still_running SECONDS NAME...: for what must not happen, there is no
# state to poll for: let SECONDS pass on purpose, then every spawned NAME
# must still be running.
still_running() {
	local name pid_var
	sleep "$1"
	shift
	for name in "$@"; do
		pid_var=${name}_pid
		if [ -s "$T/$name.rc" ] || ! kill -0 "${!pid_var}" 2>/dev/null; then
			echo "$name exited $(cat "$T/$name.rc" 2>/dev/null); stderr:" >&2
			cat "$T/$name.err" >&2
			return 1
		fi
	done
}

# skipped_total FILE: FILE (what an sfcat --on-lag skip said) holds only
# lines "sfcat: skipped K frames (seq A..B)", each with K = B - A + 1;
# prints the sum of the K.  Fails on any other line.
skipped_total() {
	local line sum=0
	while IFS= read -r line; do
		if ! [[ $line =~ ^sfcat:\ skipped\ ([0-9]+)\ frames\ \(seq\ ([0-9]+)\.\.([0-9]+)\)$ ]] ||
		    [ "${BASH_REMATCH[1]}" -ne $((BASH_REMATCH[3] - BASH_REMATCH[2] + 1)) ]; then
			echo "not a skip report: $line" >&2
			return 1
		fi
		sum=$((sum + BASH_REMATCH[1]))
	done <"$1"
	echo "$sum"
}

# assert_eq EXPECTED ACTUAL
assert_eq() {
	if [ "$1" != "$2" ]; then
		printf 'expected: %s\nactual:   %s\n' "$1" "$2" >&2
		return 1
	fi
}

# The undisturbed pipeline: a subscriber and a publisher on stream "good"
# kept open across whatever the test does in between.
#   pipeline_start   subscriber joined, publisher sent the first half
#   pipeline_finish  publisher sends the second half, both must exit 0 and
#                    the subscriber's output must be exactly the input
pipeline_start() {
	sfraw lines good 1 2000 >"$T/good.in"
	head -n 1000 "$T/good.in" >"$T/good.in1"
	tail -n +1001 "$T/good.in" >"$T/good.in2"
	local before
	before=$(subscribed)
	spawn goodcat "$SFCAT" -n 2000 good
	wait_subscribers $((before + 1))
	mkfifo "$T/good.fifo"
	spawn -i "$T/good.fifo" goodpipe "$SFPIPE" good
	exec 8>"$T/good.fifo"
	cat "$T/good.in1" >&8
}

pipeline_finish() {
	cat "$T/good.in2" >&8
	exec 8>&-
	assert_exit goodpipe 0 30
	assert_exit goodcat 0 30
	assert_file_eq "$T/good.in" "$T/goodcat.out"
}

# A size as sfcat writes it in a goodbye ("100 bytes", "1.5 MiB").
SIZE_RE='[0-9]+(\.[0-9])? (byte|bytes|KiB|MiB|GiB|TiB|PiB|EiB)'

# evict_re: what sfcat says, after "sfcat: ", when sfd cut it off at one of
# the daemon's own limits: the ring was full, or it stayed past sfd
# --max-lag for --lag-time.  evicted_seq picks out the first frame not
# received.
evict_re() {
	printf '%s' "(evicted: fell $SIZE_RE behind \\(the ring is full\\); first frame not received: seq ([0-9]+); read faster, raise sfd --ring, publish with sfpipe --pace, or use --on-lag skip"
	printf '%s' "|evicted: stayed more than $SIZE_RE behind for over [0-9]+ s \\(sfd --max-lag, --lag-time\\); first frame not received: seq ([0-9]+); read faster or raise those limits)"
}

# evicted_seq TEXT: TEXT is exactly one line "sfcat: " and an evict_re
# message; prints its first frame not received.  Fails for any other TEXT.
evicted_seq() {
	[[ $1 =~ ^sfcat:\ $(evict_re)$ ]] || {
		echo "not an eviction message: $1" >&2
		return 1
	}
	echo "${BASH_REMATCH[4]}${BASH_REMATCH[7]}"
}

# ring_evicted_seq TEXT: like evicted_seq, but TEXT must say the ring was
# full (the daemon's hard limit), not another reason.
ring_evicted_seq() {
	[[ $1 =~ ^sfcat:\ evicted:\ fell\ $SIZE_RE\ behind\ \(the\ ring\ is\ full\) ]] || {
		echo "not an eviction by the ring: $1" >&2
		return 1
	}
	evicted_seq "$1"
}

# assert_cut_at_ring NAME INPUT: the spawned sfcat NAME exited 4 saying the
# ring was full, and printed exactly INPUT up to the frame it names.
assert_cut_at_ring() {
	local seq
	assert_exit "$1" 4 30
	seq=$(ring_evicted_seq "$(cat "$T/$1.err")")
	assert_eq "$seq" "$(wc -l <"$T/$1.out")"
	head -n "$seq" "$2" | cmp - "$T/$1.out"
}

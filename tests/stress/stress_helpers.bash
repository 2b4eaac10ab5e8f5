# Helpers for the stress and fault-injection tests, on top of the
# end-to-end suite's (tests/bats/helpers.bash, loaded first).
#
# Figures are measured and printed (report), never asserted as speed: the
# bounds below only catch hangs, spinning and leaks.

# helpers.bash points RAWPY at the test's own folder: the raw client lives
# with the end-to-end suite.
RAWPY=$BATS_TEST_DIRNAME/../bats/sfraw.py
STRESSPY=$BATS_TEST_DIRNAME/sfstress.py
CLK_TCK=$(getconf CLK_TCK)

# stress ARGS: the stress tool (load generators, raw clients).
stress() {
	python3 "$STRESSPY" "$@"
}

# report TEXT: show a measured figure in the bats output.
report() {
	echo "# $*" >&3
}

# rss_kb PID: resident set size in KiB.
rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

# cpu_ticks PID: user + system CPU time in clock ticks (CLK_TCK a second).
# The command name in /proc/PID/stat may hold spaces: count fields from
# after its closing parenthesis (state is field 3, utime 14, stime 15).
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat")
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}

# ticks_ms TICKS
ticks_ms() {
	echo $(($1 * 1000 / CLK_TCK))
}

# limited_sfd FILE NOFILE: write FILE, an sfd that runs with its descriptor
# limit set to NOFILE; use it as SFD=FILE start_sfd.  It execs sfd, so the
# pid spawn records is the daemon's own.
limited_sfd() {
	printf '#!/bin/sh\nulimit -n %s || exit 99\nexec "%s" "$@"\n' \
	    "$2" "$SFD" >"$1"
	chmod +x "$1"
}

# valgrind_wrapper FILE PROGRAM LOG: write FILE, which runs PROGRAM under
# memcheck, its report in LOG.  A memcheck error or a definite or indirect
# leak makes it exit 99; otherwise it exits as PROGRAM does.
valgrind_wrapper() {
	printf '#!/bin/sh\nexec valgrind -q --leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite,indirect --log-file="%s" "%s" "$@"\n' \
	    "$3" "$2" >"$1"
	chmod +x "$1"
}

# assert_valgrind_clean LOG: memcheck ran and said nothing (it runs with
# -q, so any line is an error or a leak report).
assert_valgrind_clean() {
	[ -f "$1" ] || fail "no valgrind log $1: did memcheck run?"
	if [ -s "$1" ]; then
		echo "--- $1" >&2
		cat "$1" >&2
		fail "valgrind reported problems"
	fi
}

# mtime_ms FILE: when FILE was last written, in ms since the epoch (the
# clock of now_ms).
mtime_ms() {
	local t
	t=$(stat -c %.3Y "$1")
	echo "${t%.*}${t#*.}"
}

# wait_exits BOUND_MS T0_MS NAME...: wait until every spawned NAME has
# exited, at most BOUND_MS after T0_MS (a now_ms time); record in
# EXIT_MS[NAME] how long after T0_MS it exited (when its wrapper wrote its
# status, to a few ms).  Fails on the bound.
declare -gA EXIT_MS
wait_exits() {
	local bound=$1 t0=$2 name left
	shift 2
	while :; do
		left=0
		for name in "$@"; do
			[ -s "$T/$name.rc" ] || left=$((left + 1))
		done
		[ "$left" -eq 0 ] && break
		if [ $(($(now_ms) - t0)) -gt "$bound" ]; then
			for name in "$@"; do
				[ -s "$T/$name.rc" ] ||
					echo "$name still running $bound ms after" >&2
			done
			return 1
		fi
		sleep 0.01
	done
	for name in "$@"; do
		EXIT_MS[$name]=$(($(mtime_ms "$T/$name.rc") - t0))
	done
}

# tally_count KEY TALLY: the number after KEY= in a "k=v k=v" tally (as
# the flood tool writes it), 0 if KEY is not there.
tally_count() {
	local kv
	for kv in $2; do
		if [ "${kv%%=*}" = "$1" ]; then
			echo "${kv#*=}"
			return
		fi
	done
	echo 0
}

# logged_by PID WORD: the daemon logged WORD in a line about client PID.
logged_by() {
	unstamp | grep -E "^sfd: #[0-9]+ pid=$1 .*$2"
}

# tests/bench/common.sh - what the bench scripts share: a temp folder T
# removed at exit, background jobs each in a session of its own, killed at
# exit, free ports and bounded waits.  Sourced, not run.  KILL_SIG is the
# signal the jobs get at exit (default TERM).

T=$(mktemp -d) || exit 1
pids=
cleanup() {
	for p in $pids; do
		env kill "-${KILL_SIG:-TERM}" -- "-$p" 2>/dev/null ||
		    kill "-${KILL_SIG:-TERM}" "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_bg CMD...: run CMD in a session of its own, to be killed at the end.
start_bg() {
	setsid "$@" &
	pids="$pids $!"
	bg_pid=$!
}
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_for SECONDS CMD: poll CMD every 20 ms; fails when time runs out.
wait_for() {
	_end=$(($(date +%s) + $1))
	shift
	until eval "$1"; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.02
	done
}

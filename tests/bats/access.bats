#!/usr/bin/env bats
# Access control on the Unix socket: --mode, --group, --publishers, and
# the peer credentials in the log.  A second user and group are created
# for the test; where that is impossible (not root) the tests say so.

load helpers

setup_file() {
	if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null ||
	    ! command -v setpriv >/dev/null; then
		return 0
	fi
	export SF_OTHER_USER=sfother$$ SF_OTHER_GROUP=sfgroup$$
	groupadd "$SF_OTHER_GROUP"
	useradd -M -N -g nogroup -G "$SF_OTHER_GROUP" -s /usr/sbin/nologin \
	    "$SF_OTHER_USER"
}

teardown_file() {
	if [ -n "${SF_OTHER_USER:-}" ]; then
		userdel "$SF_OTHER_USER" || true
		groupdel "$SF_OTHER_GROUP" 2>/dev/null || true
	fi
}

# The socket lives where the other user can reach it (the per-test folder
# may not be); a short path keeps it under the Unix socket limit.
setup() {
	[ -n "${SF_OTHER_USER:-}" ] ||
	    skip "needs root, useradd and setpriv to create a second user"
	T=$BATS_TEST_TMPDIR
	LOG=$T/sfd.log
	SOCKDIR=$(mktemp -d /tmp/sfacc.XXXXXX)
	chmod 0755 "$SOCKDIR"
	SOCK=$SOCKDIR/sf.sock
	: >"$T/.pids"
	: >"$T/.wrappers"
	unset SF_SERVER XDG_RUNTIME_DIR
	(as_other test -x "$SFCAT") ||
	    skip "the build folder is not reachable by a second user"
}

teardown() {
	[ -n "${SOCKDIR:-}" ] || return 0
	sf_teardown
	rm -rf "$SOCKDIR"
}

# as_other COMMAND...: run as the second user, in its own groups; exec,
# so a spawned program's pid is the one the daemon sees.
as_other() {
	exec setpriv --reuid="$SF_OTHER_USER" --regid=nogroup \
	    --groups="$(getent group "$SF_OTHER_GROUP" | cut -d: -f3)" "$@"
}

# start_sfd_at ARGS: the daemon on $SOCK, with -v so that the tests can
# wait for its subscribers.
start_sfd_at() {
	spawn sfd "$SFD" -v -l "$SOCK" "$@"
	SFD_PID=$sfd_pid
	ln -sf sfd.err "$LOG"
	wait_until 10 "unstamp | grep -q '^sfd: listening on'" ||
	    fail "sfd did not start"
}

@test "--mode and --group set the socket's permissions; the default is 0600" {
	start_sfd_at
	assert_eq "600 root" "$(stat -c '%a %U' "$SOCK")"
	kill -TERM "$SFD_PID"
	assert_exit sfd 0
	start_sfd_at --mode 0660 --group "$SF_OTHER_GROUP"
	assert_eq "660 $SF_OTHER_GROUP" "$(stat -c '%a %G' "$SOCK")"
	kill -TERM "$SFD_PID"
	assert_exit sfd 0
}

@test "the default 0600 socket keeps another user out" {
	start_sfd_at
	run --separate-stderr as_other timeout "$(secs 10)" "$SFCAT" -s "$SOCK" -n 1
	[ "$status" -eq 3 ]
	[ -z "$output" ]
	assert_eq "sfcat: cannot connect to $SOCK: Permission denied (is sfd running? start it with: sfd -l $SOCK)" "$stderr"
}

@test "every connection's pid, uid and gid are logged" {
	start_sfd_at --mode 0666
	spawn cat as_other "$SFCAT" -s "$SOCK" -n 1
	wait_subscribers 1
	grep -q "pid=$cat_pid uid=$(id -u "$SF_OTHER_USER") gid=$(getent group nogroup | cut -d: -f3): connected" "$LOG"
	echo hi | timeout "$(secs 10)" "$SFPIPE" -s "$SOCK"
	assert_exit cat 0
	assert_eq hi "$(cat "$T/cat.out")"
	grep -q "uid=0 gid=0: connected" "$LOG"
}

@test "--publishers: anyone else gets ERR reason=denied; subscribing stays allowed" {
	start_sfd_at --mode 0666 --publishers root
	spawn cat as_other "$SFCAT" -s "$SOCK" -n 2
	wait_subscribers 1
	run --separate-stderr as_other timeout "$(secs 10)" "$SFPIPE" -s "$SOCK" </dev/null
	[ "$status" -eq 6 ]
	[ -z "$output" ]
	assert_eq "sfpipe: sfd refused: reason=denied" "$stderr"
	grep -q "uid=$(id -u "$SF_OTHER_USER") gid=[0-9]*: ERR reason=denied" "$LOG"
	printf 'a\nb\n' | timeout "$(secs 10)" "$SFPIPE" -s "$SOCK"
	assert_exit cat 0
	assert_eq "$(printf 'a\nb')" "$(cat "$T/cat.out")"
}

@test "--publishers @group admits its members, by name or id" {
	start_sfd_at --mode 0666 --publishers "0,@$SF_OTHER_GROUP"
	spawn cat "$SFCAT" -s "$SOCK" -n 2
	wait_subscribers 1
	echo one | (as_other timeout "$(secs 10)" "$SFPIPE" -s "$SOCK")
	echo two | timeout "$(secs 10)" "$SFPIPE" -s "$SOCK"
	assert_exit cat 0
	assert_eq "$(printf 'one\ntwo')" "$(cat "$T/cat.out")"
}

@test "--publishers and --group name unknown users and groups" {
	usage_error "sfd: --publishers nosuchuser$$: no such user" \
	    "$SFD" -l "$SOCK" --publishers "nosuchuser$$"
	usage_error "sfd: --publishers @nosuchgroup$$: no such group" \
	    "$SFD" -l "$SOCK" --publishers "@nosuchgroup$$"
	usage_error "sfd: --group nosuchgroup$$: no such group" \
	    "$SFD" -l "$SOCK" --group "nosuchgroup$$"
	[ ! -e "$SOCK" ]
}

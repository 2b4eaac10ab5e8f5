#!/usr/bin/env bats
# sfd --spool: rings in files that outlive the daemon.  A restart, clean
# or by SIGKILL, serves the same frames under the same epoch and sequence
# numbers; a file that does not validate is refused by name.

load helpers

SPOOL_RING=4M

# The tmpfs a test mounted, unmounted once its daemon is gone.
teardown() {
	sf_teardown
	[ -z "${MOUNTED:-}" ] || umount "$MOUNTED"
}

# The daemon on $SOCK with its spool in $T/spool.
start_spooled() {
	start_sfd --spool "$T/spool" --ring "$SPOOL_RING" "$@"
}

# Stop it (SIGTERM) and keep its log as sfd-N.log.
stop_spooled() {
	stop_sfd
	cp "$LOG" "$T/sfd-$((++RUNS)).log"
}

# Kill it (SIGKILL) and wait until it is gone.
kill_spooled() {
	kill -KILL "$SFD_PID"
	wait_exit sfd
	cp "$LOG" "$T/sfd-$((++RUNS)).log"
}

# The epoch and newest seq of stream default, as "EPOCH SEQ".
stream_at() {
	"$SFCTL" -s "$SOCK" --json streams |
	    jq -r '.streams[] | select(.name == "default") |
	    "\(.epoch) \(.head_seq)"'
}

# Write bytes (printf %b notation) at offset OFF of file F, in place.
patch_file() {
	printf '%b' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# sfd on the spool must refuse to start with exactly message MSG.
refused() {
	local msg=$1
	shift
	sfrun "$SFD" -q -l "$SOCK" --spool "$T/spool" --ring "$SPOOL_RING" "$@"
	assert_eq 1 "$status"
	assert_eq "$msg" "$stderr"
	[ ! -e "$SOCK" ] || fail "the socket was created"
}

@test "a clean restart serves every record again, same epoch and seqs; a --state consumer gets the other half" {
	seq 1 100000 >"$T/in"
	start_spooled
	publish <"$T/in"
	sfrun "$SFCAT" --from oldest -n 50000 --state "$T/state"
	assert_eq 0 "$status"
	head -n 50000 "$T/in" | cmp - <(printf '%s\n' "$output")
	state_is "$T/state" 50000
	before=$(stream_at)
	assert_eq "$EPOCH 100000" "$before"
	stop_spooled

	start_spooled
	assert_eq "$before" "$(stream_at)"
	# Frames hold the lines without their newline, each after 4 bytes.
	bytes=$(( $(wc -c <"$T/in") - 100000 + 4 * 100000 ))
	unstamp | grep -qx "sfd: stream default restored from the spool: epoch $EPOCH, seq 0..100000, $bytes bytes" ||
	    fail "no restore line: $(cat "$LOG")"
	sfrun "$SFCAT" --from oldest -n 100000
	assert_eq 0 "$status"
	cmp "$T/in" <(printf '%s\n' "$output")
	sfrun "$SFCAT" --state "$T/state" -n 50000
	assert_eq 0 "$status"
	tail -n 50000 "$T/in" | cmp - <(printf '%s\n' "$output")
	state_is "$T/state" 100000
	# And the stream goes on from there.
	seq 100001 100010 | publish
	sfrun "$SFCAT" --state "$T/state" -n 10
	assert_eq "$(seq 100001 100010)" "$output"
}

@test "after SIGKILL during a publish, what a subscriber printed is in the spool at the same seqs, and --state resumes with no gap" {
	seq 1 2000000 >"$T/in"
	start_spooled
	spawn watcher "$SFCAT" --state "$T/state"
	wait_subscribers 1
	spawn -i "$T/in" pub "$SFPIPE" --pace
	wait_until 20 "[ \$(wc -l <'$T/watcher.out') -ge 20000 ]"
	kill_spooled
	assert_exit watcher 5
	got=$(wc -l <"$T/watcher.out")

	start_spooled
	read -r epoch head <<<"$(stream_at)"
	[ "$head" -ge "$got" ] || fail "spool ends at $head, printed $got"
	[ "$head" -lt 2000000 ] || fail "the publish was not cut short"
	# Every record the daemon took, at its own seq, and nothing else.
	sfrun "$SFCAT" --from $((got - 10)) -n $((head - got + 10))
	assert_eq 0 "$status"
	sed -n "$((got - 9)),${head}p" "$T/in" | cmp - <(printf '%s\n' "$output")
	# The watcher's next run: exactly the rest of what the daemon took,
	# then what is published now.
	echo after | publish
	sfrun "$SFCAT" --state "$T/state" -n $((head - got + 1))
	assert_eq 0 "$status"
	cat "$T/watcher.out" <(printf '%s\n' "$output") |
	    cmp - <(head -n "$head" "$T/in"; echo after)
	state_is "$T/state" $((head + 1))
	assert_eq "$epoch" "$EPOCH"
}

@test "a --reconnect consumer rides through a daemon restart with no gap and no repeat" {
	start_spooled
	spawn reader "$SFCAT" --reconnect --from oldest -n 60000
	wait_subscribers 1
	seq 1 30000 | publish
	wait_until 20 "[ \$(wc -l <'$T/reader.out') -eq 30000 ]"
	stop_spooled
	start_spooled
	seq 30001 60000 | publish --min-subscribers 1 --timeout 20
	assert_exit reader 0 30
	seq 1 60000 | cmp - "$T/reader.out"
	grep -qx 'sfcat: sfd shut down; next seq 30000; reconnecting' \
	    "$T/reader.err" || fail "$(cat "$T/reader.err")"
}

@test "a torn last frame is dropped and logged; the frames before it are served" {
	seq 1 1000 >"$T/in"
	start_spooled
	publish <"$T/in"
	stop_spooled
	# The last frame, "1000" after its 4-byte length, ends at the ring's
	# head: give it a length that runs past the head.
	head=$(( $(wc -c <"$T/in") - 1000 + 4 * 1000 ))
	patch_file "$T/spool/default.ring" $((4096 + head - 8)) '\x00\x00\x01\x00'
	start_spooled
	unstamp | grep -qx 'sfd: stream default: dropped the last 8 bytes of '"$T"'/spool/default.ring, 1 frames from seq 999 on: they do not validate' ||
	    fail "$(cat "$LOG")"
	sfrun "$SFCAT" --from oldest -n 999
	assert_eq 0 "$status"
	head -n 999 "$T/in" | cmp - <(printf '%s\n' "$output")
	assert_eq 999 "$(stream_at | cut -d' ' -f2)"
	# The next record takes the seq of the one dropped.
	echo new | publish
	sfrun "$SFCAT" --from 999 -n 1
	assert_eq new "$output"
}

@test "ring files that are truncated, zero-filled, random, of another magic or version are refused by name" {
	start_spooled
	echo one | publish
	stop_spooled
	f=$T/spool/default.ring
	aside="; move it aside to start stream default afresh"
	cp "$f" "$T/good"

	truncate -s 100000 "$f"
	refused "sfd: spool $f: the file is 100000 bytes; its header says 4198400$aside"
	truncate -s 100 "$f"
	refused "sfd: spool $f: not a ring file (100 bytes)$aside"
	head -c 4198400 /dev/zero >"$f"
	refused "sfd: spool $f: not a ring file$aside"
	head -c 4198400 /dev/urandom >"$f"
	refused "sfd: spool $f: not a ring file$aside"
	cp "$T/good" "$f"
	patch_file "$f" 0 'S'
	refused "sfd: spool $f: not a ring file$aside"
	cp "$T/good" "$f"
	patch_file "$f" 16 '\x02'
	refused "sfd: spool $f: format version 2; this sfd reads version 1$aside"
	cp "$T/good" "$f"
	patch_file "$f" 40 'x'
	refused "sfd: spool $f: damaged header (its check fails)$aside"
	cp "$T/good" "$f"
	# Both copies of both position records torn.
	patch_file "$f" 192 '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff'
	patch_file "$f" 240 '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff'
	patch_file "$f" 288 '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff'
	patch_file "$f" 336 '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff'
	refused "sfd: spool $f: no valid position record$aside"
	cp "$T/good" "$f"
	refused "sfd: spool $f: it holds a ring of 4194304 bytes, not --ring 8388608$aside" --ring 8M
	touch "$T/spool/bad name.ring"
	cp "$T/good" "$f"
	refused "sfd: spool $T/spool/bad name.ring: not a stream's ring file name; move it out of the folder"
	rm "$T/spool/bad name.ring"

	# Moved aside, the stream starts afresh; the good copy still works.
	mv "$f" "$f.bad"
	start_spooled
	assert_eq "" "$("$SFCTL" -s "$SOCK" --json streams | jq -r '.streams[].name')"
	stop_spooled
	mv "$f.bad" "$f"
	start_spooled
	sfrun "$SFCAT" --from oldest -n 1
	assert_eq one "$output"
}

@test "a second daemon on the same spool folder is refused, naming the first" {
	start_spooled
	sfrun "$SFD" -q -l "$T/other.sock" --spool "$T/spool"
	assert_eq 1 "$status"
	assert_eq "sfd: --spool $T/spool: in use by another sfd (pid $SFD_PID)" "$stderr"
	echo still | publish
	sfrun "$SFCAT" --from oldest -n 1
	assert_eq still "$output"
}

@test "ring files are private by default and follow --mode without write for others" {
	start_spooled
	echo x | publish
	assert_eq 600 "$(stat -c %a "$T/spool/default.ring")"
	assert_eq 700 "$(stat -c %a "$T/spool")"
	stop_spooled
	rm -r "$T/spool"
	start_spooled --mode 0666
	echo x | publish
	assert_eq 640 "$(stat -c %a "$T/spool/default.ring")"
}

@test "a stream whose ring file cannot be allocated is refused with the reason; the others go on" {
	start_spooled
	echo first | publish one
	stop_spooled
	# Room to grow no file: restoring the existing one needs none.
	ulimit -f 1000
	start_spooled
	sfrun "$SFCAT" two
	assert_eq 3 "$status"
	assert_eq "sfcat: sfd refused: reason=spool" "$stderr"
	unstamp | grep -qx "sfd: stream two: spool $T/spool: cannot allocate 4198400 bytes for two.ring: File too large" ||
	    fail "$(cat "$LOG")"
	[ ! -e "$T/spool/two.ring" ] && [ ! -e "$T/spool/two.ring.new" ] ||
	    fail "a partial file was left: $(ls "$T/spool")"
	sfrun "$SFCAT" one --from oldest -n 1
	assert_eq first "$output"
}

@test "a full disk at stream creation (a small tmpfs) is a clear error; other streams go on" {
	mkdir "$T/mnt"
	mount -t tmpfs -o size=5m tmpfs "$T/mnt" 2>/dev/null ||
	    skip "cannot mount a tmpfs here (needs root)"
	MOUNTED=$T/mnt
	start_sfd --spool "$T/mnt/spool" --ring "$SPOOL_RING"
	echo first | publish one
	sfrun "$SFCAT" two
	assert_eq 3 "$status"
	assert_eq "sfcat: sfd refused: reason=spool" "$stderr"
	unstamp | grep -qx "sfd: stream two: spool $T/mnt/spool: cannot allocate 4198400 bytes for two.ring: No space left on device" ||
	    fail "$(cat "$LOG")"
	assert_eq "lock one.ring" "$(ls "$T/mnt/spool" | tr '\n' ' ' | sed 's/ $//')"
	echo second | publish one
	sfrun "$SFCAT" one --from oldest -n 2
	assert_eq "$(printf 'first\nsecond')" "$output"
}

@test "after a reboot only what was synced is served: all of it with --sync 0, none of it before the first sync" {
	seq 1 1000 >"$T/in"
	for sync in 0 3600; do
		rm -rf "$T/spool"
		start_spooled --sync $sync
		publish <"$T/in"
		# Taken, and with --sync 0 synced: the answer comes after.
		wait_until 10 '[ "$(stream_at | cut -d" " -f2)" = 1000 ]'
		kill_spooled
		# Another boot id: the page cache is not trusted.
		patch_file "$T/spool/default.ring" 128 'not-this-boot\x00'
		start_spooled --sync $sync
		unstamp | grep -q '^sfd: stream default restored from the spool as last synced (a reboot): ' ||
		    fail "$(cat "$LOG")"
		if [ $sync = 0 ]; then
			assert_eq 1000 "$(stream_at | cut -d' ' -f2)"
			sfrun "$SFCAT" --from oldest -n 1000
			cmp "$T/in" <(printf '%s\n' "$output")
		else
			assert_eq 0 "$(stream_at | cut -d' ' -f2)"
		fi
		stop_spooled
	done
}

@test "after a reboot a ring that went round serves exactly the frames of its last sync, at their seqs" {
	# 1,000,000 frames, 10.9 MB, through a 4 MiB ring: syncs are forced
	# as the ring goes round, though --sync is an hour.
	seq 1 1000000 >"$T/in"
	start_spooled --sync 3600
	publish <"$T/in"
	wait_until 20 '[ "$(stream_at | cut -d" " -f2)" = 1000000 ]'
	kill_spooled
	patch_file "$T/spool/default.ring" 128 'not-this-boot\x00'
	start_spooled
	line=$(unstamp | grep '^sfd: stream default restored from the spool as last synced (a reboot): ') ||
	    fail "$(cat "$LOG")"
	[[ $line =~ seq\ ([0-9]+)\.\.([0-9]+), ]] || fail "$line"
	from=${BASH_REMATCH[1]} to=${BASH_REMATCH[2]}
	# Some of the ring, the newest at most a quarter of it (and an
	# append) short of what was sent.
	[ "$to" -gt "$from" ] && [ "$to" -le 1000000 ] && [ "$to" -gt 800000 ] ||
	    fail "served seq $from..$to"
	# The newest 100,000 (1.1 MB, well within what a subscriber may
	# start from) are the records sent at those seqs.
	sfrun "$SFCAT" --from $((to - 100000)) -n 100000
	assert_eq 0 "$status"
	sed -n "$((to - 100000 + 1)),${to}p" "$T/in" | cmp - <(printf '%s\n' "$output")
	# And the stream goes on at the next seq.
	echo next | publish
	sfrun "$SFCAT" --from "$to" -n 1
	assert_eq next "$output"
}

@test "--sync needs --spool, and is a number of seconds" {
	usage_error "sfd: --sync needs --spool: it is how often the spool reaches the disk" "$SFD" --sync 1
	usage_error "sfd: --sync 1h: invalid" "$SFD" --spool "$T/spool" --sync 1h
	usage_error "sfd: --spool: empty folder name" "$SFD" --spool ""
}

@test "a ring file truncated under a running sfd: it survives, names the file, cuts that stream's readers with reason spool, and refuses the file on the next start" {
	start_spooled
	sfraw lines data 1 20000 >"$T/in"
	publish <"$T/in"
	publish other <"$T/in"
	f=$T/spool/default.ring
	# Cut short under the daemon: the header stays, the frames go.
	truncate -s 8192 "$f"
	sfrun "$SFCAT" --from oldest
	assert_eq 3 "$status"
	assert_eq "" "$output"
	assert_eq "sfcat: sfd cut the stream off: its ring file was cut short (see sfd's log); next seq 0" "$stderr"
	kill -0 "$SFD_PID"
	unstamp | grep -qxF "sfd: stream default: its ring file $T/spool/default.ring was cut short while in use (read or written past its end); its clients are cut off, it takes no new ones, and the file is marked to be refused on the next start"
	# The stream takes no one now; the other stream is whole.
	sfrun "$SFCAT" --from oldest
	assert_eq 3 "$status"
	assert_eq "sfcat: sfd refused: reason=spool" "$stderr"
	sfrun "$SFCAT" --from oldest -n 20000 other
	assert_eq 0 "$status"
	assert_eq "$(cat "$T/in")" "$output"
	stop_spooled
	refused "sfd: spool $f: it was cut short while sfd used it, and sfd marked it damaged; move it aside to start stream default afresh"
}

@test "a ring file cut to nothing under a publishing sfd: its header is gone, sfd survives and cuts the publisher off" {
	start_spooled
	sfraw lines data 1 1000 >"$T/in"
	publish <"$T/in"
	# A publisher at it, about 3 s of input, when the file goes.
	spawn pub sh -c 'python3 "$1" pace 1024 0.05 <"$2" 2>/dev/null | "$3"' sh "$RAWPY" "$T/in" "$SFPIPE"
	wait_until 10 "grep -q 'publishing to default at seq 1000' '$LOG'"
	truncate -s 0 "$T/spool/default.ring"
	# Its next append, or the next sync, writes the header: past the end.
	assert_exit pub 3 20
	[[ $(cat "$T/pub.err") =~ ^sfpipe:\ sfd\ cut\ the\ stream\ off:\ its\ ring\ file\ was\ cut\ short\ \(see\ sfd.s\ log\)\;\ next\ seq\ [0-9]+$ ]]
	kill -0 "$SFD_PID"
	grep -q "stream default: its ring file $T/spool/default.ring was cut short while in use" "$LOG"
	stop_spooled
	refused "sfd: spool $T/spool/default.ring: it was cut short while sfd used it, and sfd marked it damaged; move it aside to start stream default afresh"
}

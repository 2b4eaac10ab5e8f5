#!/usr/bin/env bats
# Bad input on the wire: the offender gets ERR and is closed, the daemon
# logs why, and a publisher -> subscriber pipeline running meanwhile is
# undisturbed.

load helpers

# refused HELLO REASON: send HELLO (a control line), expect ERR reason=REASON
# and then the end of the connection.
refused() {
	client 10 "ctl:$1" eof
	[ "$status" -eq 0 ]
	assert_eq "$(printf 'CTL ERR reason=%s\nEOF' "$2")" "$output"
	wait_until 5 "grep -q 'reason=$2' '$LOG'"
}

@test "a hello with an unknown verb gets ERR reason=unknown-verb" {
	start_sfd --max-frame 64k
	pipeline_start
	refused "HELLO 1 stream=x" unknown-verb
	pipeline_finish
	stop_sfd
}

@test "a hello with the wrong protocol version gets ERR reason=bad-version" {
	start_sfd --max-frame 64k
	pipeline_start
	refused "SUB 2 stream=x" bad-version
	refused "PUB 0 stream=x" bad-version
	pipeline_finish
	stop_sfd
}

@test "a hello with a bad stream name gets ERR reason=bad-stream" {
	start_sfd --max-frame 64k
	pipeline_start
	refused "SUB 1 stream=a/b" bad-stream
	refused "PUB 1 stream=$(printf 'x%.0s' $(seq 1 65))" bad-stream
	pipeline_finish
	stop_sfd
}

@test "a hello without a stream gets ERR reason=bad-hello" {
	start_sfd --max-frame 64k
	pipeline_start
	refused "SUB 1" bad-hello
	pipeline_finish
	stop_sfd
}

@test "a data frame over --max-frame gets ERR reason=frame-too-large from its header alone" {
	start_sfd --max-frame 64k
	pipeline_start
	# Only the header: the daemon must judge it before the body comes.
	client 10 "ctl:PUB 1 stream=x" read hdr:65537 eof
	[ "$status" -eq 0 ]
	assert_eq "$(printf 'CTL OK stream=x seq=0 epoch=E max-frame=65536 ring=67108864\nCTL ERR reason=frame-too-large\nEOF')" "$output"
	wait_until 5 "grep -q 'reason=frame-too-large' '$LOG'"
	pipeline_finish
	stop_sfd
}

@test "a data frame of exactly --max-frame is accepted" {
	start_sfd --max-frame 64k
	spawn cat "$SFCAT" --raw -n 1 x
	wait_subscribers 1
	body=$(printf 'y%.0s' $(seq 1 65536))
	client 10 "ctl:PUB 1 stream=x" read "data:$body"
	[ "$status" -eq 0 ]
	assert_eq "CTL OK stream=x seq=0 epoch=E max-frame=65536 ring=67108864" "$output"
	assert_exit cat 0
	# The frame as it was sent: its header (65536) and its body.
	{ printf '\0\1\0\0'; printf '%s' "$body"; } >"$T/want"
	assert_file_eq "$T/want" "$T/cat.out"
	[ ! -s "$T/cat.err" ]
	stop_sfd
}

@test "a control frame over 4096 bytes gets ERR reason=control-too-large" {
	start_sfd --max-frame 64k
	pipeline_start
	client 10 hdr:0x80001001 eof
	[ "$status" -eq 0 ]
	assert_eq "$(printf 'CTL ERR reason=control-too-large\nEOF')" "$output"
	wait_until 5 "grep -q 'reason=control-too-large' '$LOG'"
	pipeline_finish
	stop_sfd
}

@test "a frame cut off by a disconnect is discarded and never reaches subscribers" {
	start_sfd --max-frame 64k
	pipeline_start
	spawn part "$SFCAT" -n 3 part
	wait_subscribers 2
	client 10 "ctl:PUB 1 stream=part" read data:complete-1 data:complete-2 \
	    hdr:100 bytes:0123456789
	[ "$status" -eq 0 ]
	assert_eq "CTL OK stream=part seq=0 epoch=E max-frame=65536 ring=67108864" "$output"
	wait_until 5 "grep -q discarded '$LOG'"
	printf 'after\n' | publish part
	assert_exit part 0
	assert_eq "$(printf 'complete-1\ncomplete-2\nafter')" "$(cat "$T/part.out")"
	pipeline_finish
	stop_sfd
}

@test "a subscriber that sends a data frame gets ERR reason=not-a-publisher" {
	start_sfd --max-frame 64k
	pipeline_start
	client 10 "ctl:SUB 1 stream=x" read data:hello eof
	[ "$status" -eq 0 ]
	assert_eq "$(printf 'CTL OK stream=x seq=0 epoch=E max-frame=65536 ring=67108864\nCTL ERR reason=not-a-publisher\nEOF')" "$output"
	wait_until 5 "grep -q 'reason=not-a-publisher' '$LOG'"
	pipeline_finish
	stop_sfd
}

@test "a publisher that sends a control frame gets ERR reason=unexpected-control" {
	start_sfd --max-frame 64k
	pipeline_start
	client 10 "ctl:PUB 1 stream=x" read "ctl:SUB 1 stream=x" eof
	[ "$status" -eq 0 ]
	assert_eq "$(printf 'CTL OK stream=x seq=0 epoch=E max-frame=65536 ring=67108864\nCTL ERR reason=unexpected-control\nEOF')" "$output"
	wait_until 5 "grep -q 'reason=unexpected-control' '$LOG'"
	pipeline_finish
	stop_sfd
}

@test "a client silent past --hello-timeout gets ERR reason=hello-timeout and is closed" {
	start_sfd --max-frame 64k --hello-timeout 1
	pipeline_start
	t0=$(now_ms)
	client 10 eof
	t1=$(now_ms)
	[ "$status" -eq 0 ]
	assert_eq "$(printf 'CTL ERR reason=hello-timeout\nEOF')" "$output"
	echo "closed after $((t1 - t0)) ms"
	[ $((t1 - t0)) -ge 900 ]
	[ $((t1 - t0)) -le $(($(secs 4) * 1000)) ]
	wait_until 5 "grep -q 'reason=hello-timeout' '$LOG'"
	pipeline_finish
	stop_sfd
}

@test "a hello naming one stream more than --max-streams gets ERR reason=too-many-streams" {
	start_sfd --max-frame 64k --max-streams 1
	pipeline_start
	refused "SUB 1 stream=other" too-many-streams
	pipeline_finish
	stop_sfd
}

@test "OK announces the seq of the next frame; frames reach a raw subscriber unchanged" {
	start_sfd
	spawn cat "$SFCAT" -n 3
	wait_subscribers 1
	printf 'a\nb\nc\n' | publish
	assert_exit cat 0
	client 10 "ctl:PUB 1 stream=default" read
	[ "$status" -eq 0 ]
	assert_eq "CTL OK stream=default seq=3 epoch=E max-frame=1048576 ring=67108864" "$output"
	spawn sub python3 "$RAWPY" client "$SOCK" "$(secs 10)" "ctl:SUB 1 stream=default" read read read
	wait_subscribers 2
	client 10 "ctl:PUB 1 stream=default" read "data:x y" data:
	[ "$status" -eq 0 ]
	assert_eq "CTL OK stream=default seq=3 epoch=E max-frame=1048576 ring=67108864" "$output"
	assert_exit sub 0
	assert_eq "$(printf 'CTL OK stream=default seq=3 epoch=E max-frame=1048576 ring=67108864\nDATA 3 x y\nDATA 0 ')" "$(cat "$T/sub.out")"
	stop_sfd
}

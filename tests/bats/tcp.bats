#!/usr/bin/env bats
# TCP: IPv4, IPv6 and dual-stack listeners, who may publish and subscribe
# over them, bad addresses, eviction, and a relay between two daemons.

load helpers

# tcp_port TEXT: the port of the listener whose log line starts with
# "listening on TEXT" (TEXT ends before the port), e.g. tcp:127.0.0.1:
tcp_port() {
	unstamp | sed -n "s/^sfd: listening on $(printf '%s' "$1" | sed 's/[][]/\\&/g')\([0-9]*\)$/\1/p" | head -n 1
}

# has_ipv6: this machine has an IPv6 loopback to listen on.
has_ipv6() {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

@test "sfcat over IPv4, over IPv6 and by name from one dual-stack tcp::PORT; the log names each peer by address" {
	has_ipv6 || skip "no IPv6 loopback on this machine"
	start_sfd -l tcp::0
	port=$(tcp_port tcp::)
	[ -n "$port" ] || fail "no port in the log"
	spawn v4 "$SFCAT" -s "tcp:127.0.0.1:$port" -n 3 s
	spawn v6 "$SFCAT" -s "tcp:[::1]:$port" -n 3 s
	spawn name "$SFCAT" -s "tcp:localhost:$port" -n 3 s
	wait_subscribers 3
	printf 'a\nb\nc\n' >"$T/in"
	publish s <"$T/in"
	for x in v4 v6 name; do
		assert_exit $x 0
		assert_file_eq "$T/in" "$T/$x.out"
		[ ! -s "$T/$x.err" ] || fail "$x: $(cat "$T/$x.err")"
	done
	unstamp | grep -Eq '^sfd: #[0-9]+ addr=127\.0\.0\.1:[0-9]+: subscribed to s at seq 0$'
	unstamp | grep -Eq '^sfd: #[0-9]+ addr=\[::1\]:[0-9]+: subscribed to s at seq 0$'
	stop_sfd
}

@test "an IPv4-only and an IPv6-only listener each serve their own family" {
	has_ipv6 || skip "no IPv6 loopback on this machine"
	start_sfd -l tcp:127.0.0.1:0 -l "tcp:[::1]:0"
	p4=$(tcp_port tcp:127.0.0.1:)
	p6=$(tcp_port "tcp:[::1]:")
	spawn v4 "$SFCAT" -s "tcp:127.0.0.1:$p4" -n 1 s
	spawn v6 "$SFCAT" -s "tcp:[::1]:$p6" -n 1 s
	wait_subscribers 2
	printf 'x\n' | publish s
	assert_exit v4 0
	assert_exit v6 0
	assert_eq x "$(cat "$T/v4.out")"
	assert_eq x "$(cat "$T/v6.out")"
	# The other family is not listened on.
	sfrun "$SFCAT" -s "tcp:[::1]:$p4" s
	[ "$status" -eq 3 ]
	assert_eq "sfcat: cannot connect to tcp:[::1]:$p4: Connection refused (is sfd running? start it with: sfd -l tcp:[::1]:$p4)" "$stderr"
	stop_sfd
}

@test "publishing over TCP is refused by default, allowed with --publishers tcp:127.0.0.1/32, refused outside it" {
	start_sfd -l tcp:127.0.0.1:0
	port=$(tcp_port tcp:127.0.0.1:)
	sfrun "$SFPIPE" -s "tcp:127.0.0.1:$port" s </dev/null
	[ "$status" -eq 6 ]
	assert_eq "sfpipe: sfd refused: reason=denied (publishing over TCP needs sfd --publishers to name this host: tcp or tcp:ADDR/PREFIX)" "$stderr"
	unstamp | grep -Eq '^sfd: #[0-9]+ addr=127\.0\.0\.1:[0-9]+: ERR reason=denied \(publishing over TCP needs --publishers tcp or tcp:ADDR/PREFIX\)$'
	# Publishing on the Unix socket is not affected.
	printf 'x\n' | publish s
	stop_sfd

	has_ipv6 || skip "no IPv6 loopback on this machine"
	start_sfd -l tcp::0 --publishers tcp:127.0.0.1/32
	port=$(tcp_port tcp::)
	spawn cat "$SFCAT" -n 2 s
	wait_subscribers 1
	printf 'a\nb\n' | publish -s "tcp:127.0.0.1:$port" s
	assert_exit cat 0
	assert_eq "$(printf 'a\nb')" "$(cat "$T/cat.out")"
	# From ::1, a peer outside the /32: refused.
	sfrun python3 "$RAWPY" client "tcp:[::1]:$port" 10 "ctl:PUB 1 stream=s" read
	assert_eq "CTL ERR reason=denied" "$output"
	stop_sfd
}

@test "--subscribers tcp:127.0.0.1/32 refuses other TCP peers and leaves the Unix socket free; bad entries are usage errors" {
	has_ipv6 || skip "no IPv6 loopback on this machine"
	start_sfd -l tcp::0 --subscribers tcp:127.0.0.1
	port=$(tcp_port tcp::)
	spawn in "$SFCAT" -s "tcp:127.0.0.1:$port" -n 1 s
	spawn local "$SFCAT" -n 1 s
	wait_subscribers 2
	sfrun "$SFCAT" -s "tcp:[::1]:$port" s
	[ "$status" -eq 6 ]
	assert_eq "sfcat: sfd refused: reason=denied" "$stderr"
	printf 'x\n' | publish s
	assert_exit in 0
	assert_exit local 0
	stop_sfd
	usage_error "sfd: --subscribers tcp:10.0.0.0/33: the prefix is 0 to 32" \
	    "$SFD" -l "$SOCK" --subscribers tcp:10.0.0.0/33
	usage_error "sfd: --publishers tcp:nothere: not an IPv4 or IPv6 address: use tcp:ADDR/PREFIX" \
	    "$SFD" -l "$SOCK" --publishers tcp:nothere
}

@test "bad TCP addresses: each a one-line error naming it, with the documented status" {
	for bad in "tcp:|no address: use tcp:HOST:PORT" \
	    "tcp:host|no port: use tcp:HOST:PORT" \
	    "tcp:[::1|no closing ]: use tcp:[V6ADDR]:PORT" \
	    "tcp:host:99999|the port is a number from 0 to 65535" \
	    "tcp:::1:5|an IPv6 address goes in []: tcp:[V6ADDR]:PORT"; do
		a=${bad%%|*}
		usage_error "sfcat: -s $a: ${bad#*|}" "$SFCAT" -s "$a"
		usage_error "sfpipe: -s $a: ${bad#*|}" "$SFPIPE" -s "$a"
		usage_error "sfd: -l $a: ${bad#*|}" "$SFD" -l "$a"
	done
	# A name that does not resolve: sfd cannot listen (1), the tools
	# cannot connect (3).
	sfrun "$SFD" -l tcp:name.invalid:1
	[ "$status" -eq 1 ]
	[[ $stderr =~ ^sfd:\ cannot\ listen\ on\ tcp:name\.invalid:1:\ [^$'\n']+$ ]] || fail "$stderr"
	sfrun "$SFCAT" -s tcp:name.invalid:1 s
	[ "$status" -eq 3 ]
	[[ $stderr =~ ^sfcat:\ cannot\ connect\ to\ tcp:name\.invalid:1:\ cannot\ resolve\ name\.invalid:\ [^$'\n']+$ ]] || fail "$stderr"
	# A port in use.
	start_sfd -l tcp:127.0.0.1:0
	port=$(tcp_port tcp:127.0.0.1:)
	sfrun "$SFD" -l "tcp:127.0.0.1:$port"
	[ "$status" -eq 1 ]
	assert_eq "sfd: cannot listen on tcp:127.0.0.1:$port: Address already in use" "$stderr"
	stop_sfd
}

@test "a TCP subscriber that stops reading is cut off at the ring like a Unix one; the other TCP subscriber gets all" {
	start_sfd -l tcp:127.0.0.1:0 --ring 4M --max-frame 64k --stall 1
	port=$(tcp_port tcp:127.0.0.1:)
	# 40 MB: more than the kernel's TCP buffers on loopback can hide.
	# Paced, so the healthy one is never outrun; the stopped one holds
	# the publisher for --stall only.
	python3 -c 'import sys
for i in range(100000): sys.stdout.write("%06d %s\n" % (i, "t" * 392))' >"$T/in"
	spawn slow "$SFCAT" -s "tcp:127.0.0.1:$port"
	spawn good "$SFCAT" -s "tcp:127.0.0.1:$port" -n 100000
	wait_subscribers 2
	kill -STOP "$slow_pid"
	publish --pace <"$T/in"
	assert_exit good 0 60
	assert_file_eq "$T/in" "$T/good.out"
	wait_until 20 "grep -q 'evicted' '$LOG'"
	kill -CONT "$slow_pid"
	assert_cut_at_ring slow "$T/in"
	stop_sfd
}

@test "sfcat --raw over TCP into sfpipe --raw relays binary frames, empty ones included, byte for byte" {
	start_sfd -l tcp:127.0.0.1:0
	port=$(tcp_port tcp:127.0.0.1:)
	spawn second "$SFD" -v -l "$T/second.sock"
	wait_until 10 "unstamp '$T/second.err' | grep -q '^sfd: listening on'"
	sfraw gen raw 7 3000 >"$T/in"
	spawn leaf "$SFCAT" -s "$T/second.sock" --raw -n 3000 s
	wait_until 10 "grep -q 'subscribed to s' '$T/second.err'"
	spawn relay sh -c 'exec "$1" -s "$2" --raw s | exec "$3" -s "$4" --raw s' sh \
	    "$SFCAT" "tcp:127.0.0.1:$port" "$SFPIPE" "$T/second.sock"
	wait_subscribers 1
	publish --raw s <"$T/in"
	assert_exit leaf 0 30
	assert_file_eq "$T/in" "$T/leaf.out"
	kill -TERM "$second_pid"
	assert_exit second 0
	stop_sfd
}

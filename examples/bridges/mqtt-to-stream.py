#!/usr/bin/env python3
"""examples/bridges/mqtt-to-stream.py - publish each message of an MQTT
topic as one record of a streamfan stream, acknowledged to the broker
only once the daemon holds it.

    python3 examples/bridges/mqtt-to-stream.py TOPIC STREAM

Environment:
  MQTT_HOST   broker host (default 127.0.0.1)
  MQTT_PORT   broker port (default 1883)
  CLIENT_ID   the MQTT client id, which names the broker's session for
              the bridge: keep it the same across restarts (default
              streamfan-STREAM)
  RECORDS     lines (default) or frames: see Records
  BATCH       the most messages written to the daemon before the broker
              has their acknowledgements, 1 to 65535 (default 100)
  PENDING_KB  the most KiB of messages held while the broker has not
              answered for a batch, 1 to 4194304 (default 16384)
  KEEPALIVE   seconds, asked of the broker; a PINGREQ it has not
              answered in as long counts as a lost connection, 1 to
              65535 (default 60)
  SF_SERVER   the daemon's address, as for sfpipe: a socket path or
              tcp:HOST:PORT

An MQTT 3.1.1 client of its own (standard library only), subscribed at
QoS 1 on a persistent session (clean session 0): the broker keeps the
subscription and queues the topic's messages for the bridge while it is
not connected, and sends again, after a reconnection, every message it
has not had a PUBACK for.  The bridge writes each message to the daemon,
as a publisher of STREAM, and sends its PUBACK only when the write has
returned: from then on the record is in the daemon's socket, which a
process killed in any way cannot take back.  mosquitto_sub cannot do
this: it acknowledges a message before it prints it, so what sits in a
pipe to sfpipe dies with a SIGKILL.  The PUBACKs of a batch (at most
BATCH messages) go out followed by a PINGREQ, and the next batch is
written only after the PINGRESP: the broker handles a connection's
packets in order, so by then it has the acknowledgements.  A PUBACK
still in a socket when the bridge dies is lost with the connection, and
without that wait a broker that sends ahead of its acknowledgements
would send again everything it had sent since the last PUBACK it read
(mosquitto 2.0.11 overruns its own max_inflight_messages: thousands in
one test run).  So the bridge moves at most BATCH messages per round
trip to the broker.  What the broker sends meanwhile is held, up to
PENDING_KB; past it the rest is not taken (nor acknowledged), and once
what is held is written and acknowledged the bridge connects again, for
the broker to send it again: memory stays bounded, and nothing is lost
or repeated for it.

Guarantee: no gap, while the broker keeps the session and the daemon
runs, and in order as long as the bridge is the only publisher of STREAM:
on each connection to the daemon it waits (10 s at most) until the daemon
counts no other publisher on it, so that what a killed bridge left in the
daemon's socket goes in first (counting takes the control role, sfctl's:
the daemon's own user or root, or --admins).  Stopped with SIGTERM or SIGINT, the bridge acknowledges what it
has written, disconnects, and ends: nothing lost or repeated.  Killed
with SIGKILL, the messages written but not yet acknowledged are sent
again by the broker: at most one batch (BATCH messages) is repeated,
and nothing is lost.  The broker's part: it must keep the session (its
persistent_client_expiration must not pass while the bridge is away) and
queue enough (max_queued_messages is 1000 at mosquitto's defaults: past
it, mosquitto drops messages for the session, and counts them in
$SYS/broker/publish/messages/dropped); mosquitto writes sessions to disk
only at exit and each autosave_interval, so a broker killed with SIGKILL
loses what it had not saved.  A broker that is away or goes away is
named on standard error and tried again every second.  A daemon that is
away or goes away is named too and tried again (from 100 ms, doubling up
to 5 s), and meanwhile nothing is taken from the broker; what a daemon
that went away had not yet read from its socket goes down with it, as
for sfpipe.  A daemon that refuses the stream for good (it denies
publishing) ends the bridge with status 6, what is unacknowledged left
with the broker.

Records: with RECORDS=lines each message is split at newlines, each
piece one record: its bytes unchanged, NUL bytes included, and an empty
message one empty record, as for `mosquitto_sub -F %p | sfpipe`.  With
RECORDS=frames each message is one record, byte for byte.  A record
longer than the daemon's max-frame is skipped, and a line on standard
error says so.

Exit status: 143 after SIGTERM, 130 after SIGINT, 2 for a usage error,
6 when the broker or the daemon refuses the bridge for good.
"""
import collections
import os
import select
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True   # leave the folder as it is
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sfpublish import (Daemon, DaemonLost, Lost, Refused, Signals, Stop,
                       number_setting, oserror, send_all)

ME = "mqtt-to-stream"
HOST = os.environ.get("MQTT_HOST", "127.0.0.1")
PORT = int(os.environ.get("MQTT_PORT", "1883"))
BROKER = "mqtt %s:%d" % (HOST, PORT)
PINGREQ = b"\xc0\x00"


def say(text):
    print("%s: %s" % (ME, text), file=sys.stderr, flush=True)


# ------------------------------------------------------------- broker

def packet(kind, body):
    """An MQTT packet: its fixed header, remaining length, then body."""
    n, length = len(body), b""
    while True:
        byte, n = n & 0x7F, n >> 7
        length += bytes([byte | (0x80 if n else 0)])
        if not n:
            return bytes([kind]) + length + body


def utf8(s):
    return struct.pack(">H", len(s)) + s


class Resend(Exception):
    """The broker sent more than PENDING_KB ahead; the text says how much
    was left with it."""


class Broker:
    def __init__(self, topic, client_id, keepalive, most_pending):
        try:
            self.sock = socket.create_connection((HOST, PORT), timeout=10)
            # Each send waits for an answer: no Nagle delay before it.
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as e:
            raise Lost(oserror(e))
        self.buf, self.at = b"", 0   # bytes received, and how far taken
        self.pending = collections.deque()   # (packet id, payload) unwritten
        self.pending_bytes, self.most_pending = 0, most_pending
        self.left = 0   # messages not taken, past most_pending
        self.pings = 0   # PINGREQs sent and not yet answered
        self.keepalive = keepalive
        self.ping_at = 0.0   # when the broker last had a ping to answer
        # CONNECT: MQTT 3.1.1, clean session 0, the keep-alive.
        send_all(self.sock, packet(0x10, utf8(b"MQTT") + b"\x04\x00" +
                                   struct.pack(">H", keepalive) +
                                   utf8(client_id)))
        kind, body = self.next_packet()
        if kind != 0x20 or len(body) != 2:
            raise Lost("no CONNACK")
        if body[1]:
            why = {1: "protocol version", 2: "client id",
                   3: "server unavailable", 4: "user name or password",
                   5: "not authorized"}.get(body[1], "code %d" % body[1])
            if body[1] == 3:
                raise Lost("refused for now: " + why)
            raise Refused("%s refuses the connection: %s" % (BROKER, why))
        # SUBSCRIBE at QoS 1; its SUBACK may come after the messages the
        # session kept, and sort_packets() reads it.
        send_all(self.sock, packet(0x82, b"\x00\x01" + utf8(topic) + b"\x01"))
        self.topic = topic
        self.sock.settimeout(None)
        self.sent = time.monotonic()

    def fill(self):
        try:
            got = self.sock.recv(1 << 16)
        except OSError as e:
            raise Lost(oserror(e))
        if not got:
            raise Lost("the broker closed the connection")
        self.buf = self.buf[self.at:] + got
        self.at = 0

    def take(self):
        """The next whole packet in hand, as (kind, body), or None."""
        buf, start = self.buf, self.at
        n = shift = 0
        for at in range(start + 1, min(len(buf), start + 5)):
            byte = buf[at]
            n |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                end = at + 1 + n
                if end > len(buf):
                    return None
                self.at = end
                return buf[start], buf[at + 1:end]
        if len(buf) - start >= 5:
            raise Lost("the broker sent a packet too long")
        return None

    def next_packet(self):
        while True:
            p = self.take()
            if p:
                return p
            self.fill()

    def send(self, data, ping=False):
        """Send DATA, and a PINGREQ after it when PING."""
        send_all(self.sock, data + PINGREQ if ping else data)
        self.sent = time.monotonic()
        if ping:
            if not self.pings:
                self.ping_at = self.sent
            self.pings += 1

    def answered(self):
        """A PINGRESP came."""
        self.pings = max(self.pings - 1, 0)
        self.ping_at = time.monotonic()

    def hold(self, pid, payload):
        """Keep a PUBLISH for writing, unless PENDING_KB is held: then it
        and every one after it on this connection are left with the
        broker, unacknowledged."""
        if self.left or (self.pending and
                         self.pending_bytes + len(payload) > self.most_pending):
            self.left += 1
            return
        self.pending.append((pid, payload))
        self.pending_bytes += len(payload)

    def take_pending(self, most):
        got = [self.pending.popleft()
               for _ in range(min(most, len(self.pending)))]
        self.pending_bytes -= sum(len(m[1]) for m in got)
        return got


def sort_packets(broker):
    """Take the whole packets in hand: each PUBLISH, as (packet id or
    None, payload), to broker.pending; a PINGRESP counted off
    broker.pings."""
    while True:
        p = broker.take()
        if p is None:
            return
        kind, body = p
        if kind == 0x90 and body[2:3] == b"\x80":
            raise Refused("%s refuses the subscription to %s" %
                          (BROKER, broker.topic.decode()))
        if kind == 0xD0:
            broker.answered()
        if kind >> 4 != 3:
            continue   # SUBACK: nothing to do
        at = 2 + struct.unpack(">H", body[:2])[0]
        pid = None
        if kind & 0x06:
            pid, at = body[at:at + 2], at + 2
        broker.hold(pid, body[at:])


# ------------------------------------------------------------- bridge

class Bridge:
    def __init__(self, topic, stream):
        self.topic = topic.encode()
        self.client_id = os.environ.get("CLIENT_ID",
                                        "streamfan-" + stream).encode()
        records = os.environ.get("RECORDS", "lines")
        if records not in ("lines", "frames"):
            say("RECORDS must be lines or frames, not '%s'" % records)
            sys.exit(2)
        self.batch = number_setting(ME, "BATCH", 100, 65535)
        self.most_pending = number_setting(ME, "PENDING_KB", 16384,
                                           4194304) * 1024
        self.keepalive = number_setting(ME, "KEEPALIVE", 60, 65535)
        self.daemon = Daemon(ME, stream, records == "lines")
        self.broker = None
        self.signals = Signals()

    def connect_broker(self):
        told = False
        while True:
            try:
                self.broker = Broker(self.topic, self.client_id,
                                     self.keepalive, self.most_pending)
                if told:
                    say("%s: subscribed to %s again" %
                        (BROKER, self.topic.decode()))
                return
            except Lost as e:
                if not told:
                    say("%s: %s; the session keeps what is published "
                        "meanwhile; retrying" % (BROKER, e))
                told = True
                self.signals.pause(1)

    def pass_on(self):
        """Write up to a batch of what the broker sent to the daemon, then
        acknowledge it, and a PINGREQ after: until its PINGRESP says the
        broker has those PUBACKs, nothing more is written."""
        b = self.broker
        sort_packets(b)
        if b.pings:
            return
        if not b.pending:
            if b.left:
                raise Resend("%d messages" % b.left)
            return
        got = b.take_pending(self.batch)
        self.daemon.publish([m[1] for m in got])
        acks = b"".join(packet(0x40, pid) for pid, _ in got
                        if pid is not None)
        if acks:
            b.send(acks, ping=True)

    def serve(self):
        """Pass messages on until a connection is lost or a stop."""
        b, d, wake = self.broker, self.daemon, self.signals.wake
        while True:
            self.signals.check()
            self.pass_on()
            now = time.monotonic()
            if b.pings and now - b.ping_at >= b.keepalive:
                raise Lost("no PINGRESP in %d s" % b.keepalive)
            if now - b.sent >= b.keepalive / 2:
                b.send(b"", ping=True)
            wait = b.sent + b.keepalive / 2 - now
            if b.pings:
                wait = min(wait, b.ping_at + b.keepalive - now)
            if b.pending and not b.pings:
                wait = 0   # more than a batch in hand
            ready = select.select([b.sock, d, wake], [], [], wait)[0]
            if d in ready:
                d.gone()
            if b.sock in ready:
                b.fill()

    def run(self):
        try:
            self.daemon.connect(self.signals)
            while True:
                if self.broker is None:
                    self.connect_broker()
                try:
                    self.serve()
                except DaemonLost as e:
                    # Nothing more from the broker until the daemon is
                    # back: what is unacknowledged stays with it.
                    self.close_broker(quiet=True)
                    self.daemon.reconnect(e, self.signals)
                except Resend as e:
                    # What was held is written and acknowledged: the
                    # broker sends the rest again on the next connection.
                    say("%s: sent more than PENDING_KB (%d KiB) ahead of "
                        "its acknowledgements; %s left with it, connecting "
                        "again for them" % (BROKER, self.most_pending // 1024,
                                            e))
                    self.close_broker(quiet=False)
                except Lost as e:
                    say("%s: %s; the session keeps what is published "
                        "meanwhile; retrying" % (BROKER, e))
                    self.close_broker(quiet=True)
                    self.signals.pause(1)
        except Stop:
            self.close_broker(quiet=False)
            return self.signals.status
        except Refused as e:
            say(str(e))
            return 6

    def close_broker(self, quiet):
        if self.broker is None:
            return
        sock, self.broker = self.broker.sock, None
        if not quiet:
            # DISCONNECT, then read to the broker's end: closing with
            # messages unread would reset the connection, and a broker
            # may drop the last PUBACKs with it and send them again.
            try:
                sock.sendall(b"\xe0\x00")
                sock.shutdown(socket.SHUT_WR)
                sock.settimeout(2)
                while sock.recv(1 << 16):
                    pass
            except OSError:
                pass
        sock.close()


def main():
    if len(sys.argv) != 3:
        print("usage: python3 examples/bridges/mqtt-to-stream.py TOPIC "
              "STREAM", file=sys.stderr)
        return 2
    return Bridge(sys.argv[1], sys.argv[2]).run()


if __name__ == "__main__":
    sys.exit(main())

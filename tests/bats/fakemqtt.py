#!/usr/bin/env python3
"""A scripted MQTT 3.1.1 broker with one QoS 1 session, to test how a
bridge acknowledges what a broker sends, in the cases a real broker does
not give on demand.

    fakemqtt.py PORTFILE LOG SIZE PLAN...

Listens on 127.0.0.1 (the port, once it accepts connections, is written
to PORTFILE) and takes connections one after the other, the N-th by the
N-th PLAN step (the last step for any after it).  A step is MODE:NEW:
NEW messages join the session's queue when the client has subscribed,
and every message of the queue not yet acknowledged is sent to it, in
order; message I's payload is I as six digits, then 'x' up to SIZE
bytes.  MODE says what the broker does with what the client sends:

    serve   takes each PUBACK and answers each PINGREQ, once it has sent
            everything (it sends ahead of the acknowledgements)
    keep    like serve, but with at most 20 messages unacknowledged,
            as mosquitto's max_inflight_messages promises
    mute    takes each PUBACK, never answers a PINGREQ
    lossy   reads what comes but answers no PINGREQ, and forgets the
            PUBACKs when the connection ends: a broker that had them in
            its socket, not yet handled, when the client went away

LOG gets a line per event: "connect N", "ping N" (a PINGREQ on
connection N), "end N acked A" (connection N ended, A messages of the
session acknowledged in all).  Runs until killed.
"""

import os
import socket
import struct
import sys

WINDOW = 20


def packet(kind, body):
    n, length = len(body), b""
    while True:
        byte, n = n & 0x7F, n >> 7
        length += bytes([byte | (0x80 if n else 0)])
        if not n:
            return bytes([kind]) + length + body


class Conn:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def read(self):
        """The next packet as (kind, body), or None at the end."""
        while True:
            if len(self.buf) >= 2:
                n = shift = 0
                for at in range(1, min(len(self.buf), 5)):
                    n |= (self.buf[at] & 0x7F) << shift
                    shift += 7
                    if not self.buf[at] & 0x80:
                        if len(self.buf) >= at + 1 + n:
                            kind = self.buf[0]
                            body = self.buf[at + 1:at + 1 + n]
                            self.buf = self.buf[at + 1 + n:]
                            return kind, body
                        break
            try:
                got = self.sock.recv(1 << 16)
            except OSError:
                return None
            if not got:
                return None
            self.buf += got


def main():
    portfile, logname, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    plan = [step.split(":") for step in sys.argv[4:]]
    log = open(logname, "a", buffering=1)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    with open(portfile + ".new", "w") as f:
        f.write("%d\n" % listener.getsockname()[1])
    os.rename(portfile + ".new", portfile)

    queued = 0        # messages in the session so far, 1 to queued
    acked = set()     # of those, the ones acknowledged
    number = 0
    while True:
        sock = listener.accept()[0]
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        number += 1
        mode, new = plan[min(number, len(plan)) - 1]
        log.write("connect %d\n" % number)
        c = Conn(sock)
        c.read()                          # CONNECT
        sock.sendall(b"\x20\x02\x01\x00")  # CONNACK, session present
        kind, body = c.read() or (0, b"")  # SUBSCRIBE
        sock.sendall(packet(0x90, body[:2] + b"\x01"))
        queued += int(new)
        todo = [i for i in range(1, queued + 1) if i not in acked]
        seen = set()    # PUBACKs of this connection, for lossy

        def publish(i):
            payload = (b"%06d" % i).ljust(size, b"x")
            return packet(0x32, struct.pack(">H", 2) + b"in" +
                          struct.pack(">H", (i - 1) % 65535 + 1) + payload)

        if mode != "keep":
            sock.sendall(b"".join(publish(i) for i in todo))
            todo = []
        else:
            first, todo = todo[:WINDOW], todo[WINDOW:]
            sock.sendall(b"".join(publish(i) for i in first))
        while True:
            p = c.read()
            if p is None or p[0] == 0xE0:
                break
            kind, body = p
            if kind == 0x40:
                pid = struct.unpack(">H", body)[0]
                # Message ids stand for messages: the session has fewer
                # than 65,535.
                (seen if mode == "lossy" else acked).add(pid)
                if todo:
                    sock.sendall(publish(todo.pop(0)))
            elif kind == 0xC0:
                log.write("ping %d\n" % number)
                if mode in ("serve", "keep"):
                    sock.sendall(b"\xd0\x00")
        sock.close()
        log.write("end %d acked %d\n" % (number, len(acked)))


if __name__ == "__main__":
    main()

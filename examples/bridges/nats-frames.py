#!/usr/bin/env python3
"""examples/bridges/nats-frames.py - frames to and from a NATS subject.

    python3 nats-frames.py pub SUBJECT < frames
    python3 nats-frames.py sub SUBJECT > frames

A frame is what sfcat --raw writes and sfpipe --raw reads: a 4-byte
big-endian length, then that many bytes.  So any record, newlines and
NUL bytes included, crosses NATS byte for byte.  Core NATS, standard
library only; the server is NATS_HOST:NATS_PORT (default
127.0.0.1:4222).

pub: publishes each frame of stdin as one message, then asks the server
for a PONG: exit 0 means the server has taken every message.  Exit 1,
with a line naming the server, when it cannot be reached or the
connection is lost; exit 65 when a record is over the server's
max_payload.

sub: writes each message on SUBJECT to stdout as a frame.  When the
server goes away it says so on stderr, tries again every second and
subscribes again; what is published meanwhile is lost (core NATS keeps
nothing for a subscriber).  Exit 0 when stdout is closed.
"""
import os
import socket
import struct
import sys
import time

HOST = os.environ.get("NATS_HOST", "127.0.0.1")
PORT = int(os.environ.get("NATS_PORT", "4222"))
WHERE = "nats %s:%d" % (HOST, PORT)
ME = "nats-frames"


class Lost(Exception):
    """The connection to the server failed or ended."""


class Conn:
    """A connection to the server.  headers: ask for messages with
    headers (HMSG) and for a status when a request has no responder, as
    JetStream's API needs (jetstream-to-stream.py)."""

    def __init__(self, headers=False):
        try:
            self.sock = socket.create_connection((HOST, PORT), timeout=10)
        except OSError as e:
            raise Lost(e.strerror or str(e))
        self.buf = b""
        self.before_wait = None   # called before waiting for the server
        info = self.line()
        if not info.startswith(b"INFO "):
            raise Lost("not a NATS server (said %r)" % info[:40])
        self.max_payload = 1 << 20
        for part in info.split(b","):
            if part.strip().startswith(b'"max_payload"'):
                self.max_payload = int(part.split(b":")[1].strip(b" }"))
        self.send(b'CONNECT {"verbose":false,"pedantic":false%s}\r\n' %
                  (b',"headers":true,"no_responders":true' if headers else b""))
        self.sock.settimeout(None)

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise Lost(e.strerror or str(e))

    def fill(self):
        if self.before_wait:
            self.before_wait()
        try:
            got = self.sock.recv(1 << 16)
        except OSError as e:
            raise Lost(e.strerror or str(e))
        if not got:
            raise Lost("the server closed the connection")
        self.buf += got

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        while len(self.buf) < n + 2:
            self.fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def op(self):
        """The next operation: PING is answered, -ERR fails."""
        while True:
            line = self.line()
            if line == b"PING":
                self.send(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise Lost(line.decode("ascii", "replace"))
            elif line not in (b"+OK", b"") and not line.startswith(b"INFO"):
                return line


def read_exact(f, n):
    data = f.read(n)
    if len(data) not in (0, n):
        sys.exit("%s: standard input ends inside a frame" % ME)
    return data


def pub(subject):
    try:
        c = Conn()
        out = []
        while True:
            head = read_exact(sys.stdin.buffer, 4)
            if not head:
                break
            n = struct.unpack(">I", head)[0]
            if n > c.max_payload:
                print("%s: a record of %d bytes is over %s's max_payload "
                      "of %d" % (ME, n, WHERE, c.max_payload),
                      file=sys.stderr)
                sys.exit(65)
            out.append(b"PUB %s %d\r\n%s\r\n" % (subject, n,
                                                 read_exact(sys.stdin.buffer, n)))
            if len(out) >= 256:
                c.send(b"".join(out))
                out = []
        c.send(b"".join(out) + b"PING\r\n")
        if c.op() != b"PONG":
            raise Lost("no PONG")
    except Lost as e:
        print("%s: %s: %s" % (ME, WHERE, e), file=sys.stderr)
        sys.exit(1)


def sub(subject):
    out = sys.stdout.buffer
    told = False   # said that the server is away, since it last answered
    while True:
        try:
            c = Conn()
            c.before_wait = out.flush
            c.send(b"SUB %s 1\r\nPING\r\n" % subject)
            while True:
                line = c.op()
                if line == b"PONG" and told:
                    print("%s: %s: subscribed to %s again" %
                          (ME, WHERE, subject.decode()), file=sys.stderr,
                          flush=True)
                    told = False
                elif line.startswith(b"MSG "):
                    n = int(line.split()[-1])
                    out.write(struct.pack(">I", n) + c.exact(n))
        except BrokenPipeError:
            return
        except Lost as e:
            if not told:
                print("%s: %s: %s; what is published on %s until it is "
                      "back is lost; retrying every second" %
                      (ME, WHERE, e, subject.decode()), file=sys.stderr,
                      flush=True)
            told = True
            time.sleep(1)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("pub", "sub"):
        sys.exit("usage: python3 nats-frames.py pub|sub SUBJECT")
    subject = sys.argv[2].encode()
    if not subject or any(ch in subject for ch in b" \t\r\n"):
        sys.exit("%s: %r is not a NATS subject" % (ME, sys.argv[2]))
    try:
        (pub if sys.argv[1] == "pub" else sub)(subject)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A scripted stand-in for sfd, to test what the tools send and how they
take what the daemon says, whatever the daemon of the day does.

    fakesfd.py SOCK DIR TIMEOUT STEP...

Listens on the Unix socket SOCK (it appears there only once it accepts
connections) and runs the steps in order, then exits:

    accept      wait for the next client and read its hello
    ctl:TEXT    send a control frame with body TEXT
    data:TEXT   send a data frame with body TEXT
    idle:S      for S seconds, record whatever the client sends
    drain       record whatever the client sends until it closes
    close       stop sending (shutdown), drain, then close

In DIR it writes hello.N, the hello of the N-th client (once read whole),
and fake.log: one line per event, in the order they happened:

    accept N          client N connected
    < CTL <line>      a control frame from the client (the hello first)
    < DATA <body>     a data frame from the client
    > CTL <line>      a control frame sent
    > DATA <body>     a data frame sent
    EOF               the client closed
    SEND-ERROR <why>  the client had gone

Exit status: 0, 1 when the steps took longer than TIMEOUT seconds in all
(fake.log then ends in TIMEOUT).
"""

import os
import socket
import struct
import sys
import time

CONTROL = 0x80000000


class Timeout(Exception):
    pass


class Fake:
    def __init__(self, path, folder, timeout):
        self.deadline = time.monotonic() + timeout
        self.folder = folder
        self.log = open(os.path.join(folder, "fake.log"), "a")
        self.clients = 0
        self.conn = None
        self.buf = b""
        self.eof = False
        # Bind elsewhere and rename once listening: a client that finds
        # the socket can connect at once.
        tmp = path + ".tmp"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(tmp)
        self.listener.listen(8)
        os.rename(tmp, path)

    def note(self, line):
        self.log.write(line + "\n")
        self.log.flush()

    def left(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        return left

    def accept(self):
        if self.conn is not None:
            self.conn.close()
        self.listener.settimeout(self.left())
        try:
            self.conn, _ = self.listener.accept()
        except socket.timeout:
            raise Timeout()
        self.clients += 1
        self.buf = b""
        self.eof = False
        self.note("accept %d" % self.clients)
        hello = self.frame(None)
        if hello is None:
            return
        path = os.path.join(self.folder, "hello.%d" % self.clients)
        with open(path + ".tmp", "w") as f:
            f.write(hello[1] + "\n")
        os.rename(path + ".tmp", path)

    def fill(self, n, until):
        """Read until buf holds n bytes, EOF, or time until; True if n."""
        while len(self.buf) < n and not self.eof:
            left = min(self.left(), until - time.monotonic())
            if left <= 0:
                return False
            self.conn.settimeout(left)
            try:
                b = self.conn.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                b = b""
            if not b:
                self.eof = True
                self.note("EOF")
            self.buf += b
        return len(self.buf) >= n

    def frame(self, until):
        """Read and log one frame, waiting up to time until (None: the
        whole TIMEOUT).  Returns (control, text), or None for none."""
        if until is None:
            until = self.deadline
        if not self.fill(4, until):
            return None
        (h,) = struct.unpack(">I", self.buf[:4])
        n = h & ~CONTROL
        if not self.fill(4 + n, until):
            return None
        text = self.buf[4 : 4 + n].decode("latin-1")
        self.buf = self.buf[4 + n :]
        self.note("< %s %s" % ("CTL" if h & CONTROL else "DATA", text))
        return (bool(h & CONTROL), text)

    def record(self, until):
        while not self.eof and time.monotonic() < until:
            self.frame(until)

    def send(self, control, text):
        b = text.encode("latin-1")
        self.note("> %s %s" % ("CTL" if control else "DATA", text))
        try:
            self.conn.sendall(
                struct.pack(">I", len(b) | (CONTROL if control else 0)) + b
            )
        except OSError as e:
            self.note("SEND-ERROR %s" % e.strerror)

    def run(self, steps):
        for step in steps:
            verb, _, arg = step.partition(":")
            if verb == "accept":
                self.accept()
            elif verb == "ctl":
                self.send(True, arg)
            elif verb == "data":
                self.send(False, arg)
            elif verb == "idle":
                self.record(min(time.monotonic() + float(arg), self.deadline))
            elif verb == "drain":
                self.record(self.deadline)
                self.left()
            elif verb == "close":
                try:
                    self.conn.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                self.record(self.deadline)
                self.left()
                self.conn.close()
                self.conn = None
            else:
                sys.exit("fakesfd: unknown step " + step)


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    fake = Fake(argv[1], argv[2], float(argv[3]))
    try:
        fake.run(argv[4:])
    except Timeout:
        fake.note("TIMEOUT")
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv)

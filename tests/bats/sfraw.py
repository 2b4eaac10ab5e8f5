#!/usr/bin/env python3
"""Helper for the streamfan end-to-end tests.

    sfraw.py gen text|nul|raw SEED COUNT   random records on stdout
    sfraw.py lines PREFIX FIRST LAST       "PREFIX 000001 ..." lines
    sfraw.py pace CHUNK DELAY              copy stdin to stdout slowly
    sfraw.py stale PATH                    leave a socket file nobody listens on
    sfraw.py stuck PATH SECONDS            listen on PATH, accept nobody
    sfraw.py queued                        "N CAP": bytes in the pipe on stdin
    sfraw.py drain                         copy what the pipe on stdin holds
    sfraw.py client SOCK TIMEOUT OP...     speak the wire protocol by hand
                                           (SOCK: a path or tcp:HOST:PORT)

Client operations, run in order:
    ctl:TEXT    send a control frame with body TEXT
    data:TEXT   send a data frame with body TEXT
    hdr:N       send only a 4-byte header with value N (e.g. 0x80002000)
    bytes:TEXT  send TEXT as it is, without a header
    sleep:S     wait S seconds
    wait:PATH   wait until the file PATH exists (within TIMEOUT)
    read        read one frame and print it
    eof         print every frame until the daemon closes, then "EOF"

Frames read are printed one a line as "CTL <line>" or "DATA <len> <body>"
(a random epoch=<16 hex digits> is printed as epoch=E).
A connection reset after the daemon closed is reported as EOF too: Linux
resets a Unix socket whose peer closed with unread bytes, which is no
business of the client.  Exit status: 0, 1 on TIMEOUT (whole run longer
than TIMEOUT seconds), 3 when connect fails.
"""

import fcntl
import os
import random
import re
import socket
import struct
import sys
import termios
import time

CONTROL = 0x80000000
F_GETPIPE_SZ = 1032  # Linux, <fcntl.h>; fcntl.F_GETPIPE_SZ from Python 3.10


def header(n, control=False):
    return struct.pack(">I", n | (CONTROL if control else 0))


def randbytes(rnd, n):
    if n == 0:
        return b""
    if hasattr(rnd, "randbytes"):  # Python 3.9 and later
        return rnd.randbytes(n)
    return rnd.getrandbits(8 * n).to_bytes(n, "little")


def gen(mode, seed, count):
    rnd = random.Random(seed)
    out = sys.stdout.buffer
    for i in range(count):
        r = rnd.random()
        if r < 0.08:
            n = 0
        elif r < 0.10:
            n = rnd.randint(10000, 200000)
        else:
            n = rnd.randint(1, 300)
        if mode == "text":
            body = randbytes(rnd, n).replace(b"\n", b"\r")
            out.write(body + b"\n")
        elif mode == "nul":
            body = randbytes(rnd, n).replace(b"\0", b"\n")
            out.write(body + b"\0")
        elif mode == "raw":
            body = randbytes(rnd, n)
            out.write(header(len(body)) + body)
        else:
            sys.exit("gen: unknown mode " + mode)


def lines(prefix, first, last):
    out = sys.stdout
    for i in range(first, last + 1):
        out.write("%s %06d %s\n" % (prefix, i, "x" * (i % 97)))


def pace(chunk, delay):
    inp = sys.stdin.buffer
    out = sys.stdout.buffer
    while True:
        b = inp.read(chunk)
        if not b:
            break
        out.write(b)
        out.flush()
        time.sleep(delay)


def stale(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    s.close()


def stuck(path, seconds):
    """Listen on path for a while, accepting nobody, with the queue of
    connections full: a client's connect(2) then waits."""
    tmp = path + ".tmp"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(tmp)
    s.listen(0)
    # Linux takes one connection more than the backlog: this one.
    first = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    first.connect(tmp)
    # Only now at PATH, so that every client that finds it waits.
    os.rename(tmp, path)
    time.sleep(seconds)


def queued():
    """How many bytes the pipe on stdin holds, and how many it can."""
    n = struct.unpack("i", fcntl.ioctl(0, termios.FIONREAD, b"\0" * 4))[0]
    print("%d %d" % (n, fcntl.fcntl(0, F_GETPIPE_SZ)))


def drain():
    """Copy what the pipe on stdin holds now to stdout, waiting for no
    more: its writer may be gone while another holds it open."""
    n = struct.unpack("i", fcntl.ioctl(0, termios.FIONREAD, b"\0" * 4))[0]
    out = sys.stdout.buffer
    while n > 0:
        b = os.read(0, n)
        out.write(b)
        n -= len(b)
    out.flush()


class Timeout(Exception):
    pass


class Client:
    def __init__(self, path, timeout):
        self.deadline = time.monotonic() + timeout
        self.buf = b""
        self.eof = False
        try:
            if path.startswith("tcp:"):
                # tcp:HOST:PORT or tcp:[V6ADDR]:PORT
                host, _, port = path[4:].rpartition(":")
                self.sock = socket.create_connection(
                    (host.strip("[]"), int(port)), timeout)
            else:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
        except OSError as e:
            print("CONNECT-ERROR %s" % e.strerror)
            sys.stdout.flush()
            sys.exit(3)

    def send(self, b):
        try:
            self.sock.sendall(b)
        except OSError as e:
            # The daemon may close before it has read everything; what it
            # answered is still there to be read.
            print("SEND-ERROR %s" % e.strerror)

    def fill(self, n):
        while len(self.buf) < n and not self.eof:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            self.sock.settimeout(left)
            try:
                b = self.sock.recv(65536)
            except socket.timeout:
                raise Timeout()
            except ConnectionResetError:
                b = b""
            if not b:
                self.eof = True
            self.buf += b
        return len(self.buf) >= n

    def read_frame(self):
        """Print the next frame; return False at EOF."""
        if not self.fill(4):
            if self.buf:
                print("PARTIAL %d" % len(self.buf))
            print("EOF")
            return False
        (h,) = struct.unpack(">I", self.buf[:4])
        n = h & ~CONTROL
        if not self.fill(4 + n):
            print("PARTIAL %d of %d" % (len(self.buf) - 4, n))
            print("EOF")
            return False
        body = self.buf[4 : 4 + n]
        self.buf = self.buf[4 + n :]
        text = body.decode("latin-1")
        if h & CONTROL:
            # A stream's epoch is random: show that it is there, not its value.
            print("CTL %s" % re.sub(r"epoch=[0-9a-f]{16}", "epoch=E", text))
        else:
            print("DATA %d %s" % (n, text))
        return True


def client(path, timeout, ops):
    c = Client(path, float(timeout))
    try:
        for op in ops:
            verb, _, arg = op.partition(":")
            if verb == "ctl":
                b = arg.encode("latin-1")
                c.send(header(len(b), True) + b)
            elif verb == "data":
                b = arg.encode("latin-1")
                c.send(header(len(b)) + b)
            elif verb == "hdr":
                c.send(struct.pack(">I", int(arg, 0)))
            elif verb == "bytes":
                c.send(arg.encode("latin-1"))
            elif verb == "sleep":
                time.sleep(float(arg))
            elif verb == "wait":
                while not os.path.exists(arg):
                    if time.monotonic() > c.deadline:
                        raise Timeout()
                    time.sleep(0.02)
            elif verb == "read":
                c.read_frame()
            elif verb == "eof":
                while c.read_frame():
                    pass
            else:
                sys.exit("client: unknown operation " + op)
            sys.stdout.flush()
    except Timeout:
        print("TIMEOUT")
        sys.stdout.flush()
        sys.exit(1)
    c.sock.close()


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "gen":
        gen(argv[2], int(argv[3]), int(argv[4]))
    elif cmd == "lines":
        lines(argv[2], int(argv[3]), int(argv[4]))
    elif cmd == "pace":
        pace(int(argv[2]), float(argv[3]))
    elif cmd == "stale":
        stale(argv[2])
    elif cmd == "stuck":
        stuck(argv[2], float(argv[3]))
    elif cmd == "queued":
        queued()
    elif cmd == "drain":
        drain()
    elif cmd == "client":
        client(argv[2], argv[3], argv[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

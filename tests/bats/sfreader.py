#!/usr/bin/env python3
"""A subscriber written the way a user would, against sf-protocol(7).

    sfreader.py SOCK STREAM [HELLO-WORDS...]

Subscribes to STREAM (extra words are added to the SUB hello), then
writes each data frame's body and a newline to stdout until the end of
the stream (exit 0) or a goodbye (the BYE line on stderr, exit 4).  Any
other control line goes to stderr.  Exit 5 if the daemon hangs up without
a word, 6 on an ERR or anything malformed.
"""

import socket
import struct
import sys

CONTROL = 0x80000000


def read_exact(sock, n):
    """n bytes, or None at EOF."""
    parts, got = [], 0
    while got < n:
        b = sock.recv(min(1 << 20, n - got))
        if not b:
            return None
        parts.append(b)
        got += len(b)
    return b"".join(parts)


def main(argv):
    path, stream = argv[1], argv[2]
    hello = " ".join(["SUB 1", "stream=" + stream] + argv[3:]).encode()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    sock.sendall(struct.pack(">I", CONTROL | len(hello)) + hello)
    out = sys.stdout.buffer
    answered = False
    while True:
        hdr = read_exact(sock, 4)
        if hdr is None:
            out.flush()
            sys.stderr.write("sfreader: connection lost\n")
            return 5
        (h,) = struct.unpack(">I", hdr)
        body = read_exact(sock, h & ~CONTROL)
        if body is None:
            out.flush()
            sys.stderr.write("sfreader: connection lost inside a frame\n")
            return 5
        if not h & CONTROL:
            out.write(body + b"\n")
            continue
        line = body.decode("ascii")
        verb = line.split(" ", 1)[0]
        if not answered:
            answered = True
            if verb != "OK":
                sys.stderr.write(line + "\n")
                return 6
            continue
        out.flush()
        if verb == "EOS":
            return 0
        sys.stderr.write(line + "\n")
        if verb == "BYE":
            return 4
        if verb != "SKIP":
            return 6


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Upstream stand-ins for the streamfan end-to-end tests.

    chunked_server.py http FILE PORTFILE TIMEOUT
        Serve FILE to one HTTP client as a chunked response
        (Transfer-Encoding: chunked), one chunk per line, then close.
    chunked_server.py frames FILE PORTFILE TIMEOUT
        Send FILE, as it is (sfcat --raw frames), to one TCP client in
        pieces that split frames, then close.

Each listens on a free port of 127.0.0.1, writes that port to PORTFILE
(written under another name and renamed, so a reader never sees half of
it), serves one client and exits 0; exit 1 when no client came within
TIMEOUT seconds.
"""

import os
import socket
import sys


def listen(portfile, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    s.settimeout(timeout)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    try:
        c, _ = s.accept()
    except socket.timeout:
        sys.exit("no client within %g s" % timeout)
    s.close()
    c.settimeout(timeout)
    return c


def http(path, portfile, timeout):
    data = open(path, "rb").read()
    c = listen(portfile, timeout)
    req = b""
    while b"\r\n\r\n" not in req:
        b = c.recv(4096)
        if not b:
            sys.exit("the client closed before its request ended")
        req += b
    c.sendall(b"HTTP/1.1 200 OK\r\n"
              b"Content-Type: application/x-ndjson\r\n"
              b"Transfer-Encoding: chunked\r\n"
              b"Connection: close\r\n\r\n")
    for line in data.splitlines(keepends=True):
        c.sendall(b"%x\r\n%s\r\n" % (len(line), line))
    c.sendall(b"0\r\n\r\n")
    c.shutdown(socket.SHUT_WR)
    c.close()


def frames(path, portfile, timeout):
    data = open(path, "rb").read()
    c = listen(portfile, timeout)
    # Pieces of 1000 bytes: frames cut across writes, as TCP may deliver.
    for i in range(0, len(data), 1000):
        c.sendall(data[i:i + 1000])
    c.shutdown(socket.SHUT_WR)
    c.close()


def main(argv):
    if len(argv) != 5 or argv[1] not in ("http", "frames"):
        sys.exit(__doc__)
    {"http": http, "frames": frames}[argv[1]](argv[2], argv[3], float(argv[4]))


if __name__ == "__main__":
    main(sys.argv)

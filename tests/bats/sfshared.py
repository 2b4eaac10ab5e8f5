#!/usr/bin/env python3
"""A shared reader that misbehaves, against sf-protocol(7) SHARED READERS.

    sfshared.py SOCK STREAM TEST

Subscribes to STREAM from its oldest frame with shared=1, takes the two descriptors that come
with the OK, and does what TEST says, printing one line per step:

    write    tries to write the ring and its header every way a holder of
             the descriptors could: a writable shared mapping, write(2),
             ftruncate(2); prints "refused NAME: ERRNO" for each refusal
    past     maps the ring file twice its size and reads past its end: the
             kernel ends this process with SIGBUS (nothing is printed)
    flood:N  sends N reports "AT pos=0 wait=1" without reading its socket,
             then prints the lines it got but WAKE, and "open" after 2 s
             of silence (or "EOF")
    report:TEXT...
             sends each TEXT as a control line (e.g. "AT pos=5"), then
             prints what the daemon says but WAKE ("CTL <line>"), then
             "EOF" when it closes, or "open" after 2 s of silence

Exit status 0, or 1 when a step went otherwise than expected.
"""

import errno
import mmap
import os
import socket
import struct
import sys

CONTROL = 0x80000000


def send_ctl(sock, text):
    body = text.encode()
    sock.sendall(struct.pack(">I", CONTROL | len(body)) + body)


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        b = sock.recv(n - len(data))
        if not b:
            return None
        data += b
    return data


def read_ctl(sock):
    """The next control line, or None at EOF (or a reset after it)."""
    try:
        hdr = read_exact(sock, 4)
        if hdr is None:
            return None
        (n,) = struct.unpack(">I", hdr)
        if not n & CONTROL:
            raise SystemExit("a data frame on a shared reader's socket")
        body = read_exact(sock, n & ~CONTROL)
        return None if body is None else body.decode()
    except ConnectionResetError:
        return None


def refused(name, fn):
    try:
        fn()
    except OSError as e:
        print("refused %s: %s" % (name, errno.errorcode[e.errno]))
        return
    print("allowed %s" % name)


def main(argv):
    path, stream, test = argv[1], argv[2], argv[3]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(path)
    send_ctl(sock, "SUB 1 stream=%s from=oldest shared=1" % stream)
    hdr, fds, _, _ = socket.recv_fds(sock, 4, 2)
    (n,) = struct.unpack(">I", hdr + read_exact(sock, 4 - len(hdr)))
    ok = read_exact(sock, n & ~CONTROL).decode()
    if not ok.startswith("OK ") or " shared=1 " not in ok + " " \
            or len(fds) != 2:
        raise SystemExit("not shared: %s, %d descriptors" % (ok, len(fds)))
    head_fd, ring_fd = fds
    size = os.fstat(ring_fd).st_size
    if test == "write":
        for name, fd in (("header", head_fd), ("ring", ring_fd)):
            refused(name + " mapping", lambda: mmap.mmap(
                fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE))
            refused(name + " write", lambda: os.pwrite(fd, b"x", 0))
            refused(name + " truncate", lambda: os.ftruncate(fd, 0))
        return 0
    if test == "past":
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                              ctypes.c_int, ctypes.c_int, ctypes.c_int,
                              ctypes.c_long]
        p = libc.mmap(None, 2 * size, mmap.PROT_READ, mmap.MAP_SHARED,
                      ring_fd, 0)
        if p in (None, ctypes.c_void_p(-1).value):
            raise SystemExit("mmap failed")
        ctypes.string_at(p + size + 100, 1)   # SIGBUS here
        print("read past the end")
        return 1
    if test.startswith("report:") or test.startswith("flood:"):
        lines = argv[4:]
        if test.startswith("flood:"):
            lines = ["AT pos=0 wait=1"] * int(test[6:])
        for line in lines:
            send_ctl(sock, line)
        sock.settimeout(2)
        while True:
            try:
                line = read_ctl(sock)
            except TimeoutError:
                print("open")   # still connected, nothing more said
                return 0
            if line is None:
                print("EOF")
                return 0
            if line != "WAKE":
                print("CTL " + line)
    raise SystemExit("unknown test " + test)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""The origin design's StreamClient, as its users wrote it: connect, then
read a 4-byte big-endian length and that many bytes, forever.  It sends
nothing and knows no control frame.

    streamclient.py HOST:PORT | PATH

Prints each payload (UTF-8) on its own line.  When the server closes the
connection it prints nothing more and exits 0 if the close came between
two frames, 1 if in the middle of one.
"""

import socket
import struct
import sys

HEADER_FORMAT = struct.Struct("!I")


class StreamClient:
    def __init__(self, address):
        if isinstance(address, tuple):
            self.sock = socket.create_connection(address)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(address)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.sock.close()

    def _recvall(self, size):
        data = b""
        while size:
            block = self.sock.recv(size)
            if not block:
                raise EOFError(len(data))
            data += block
            size -= len(block)
        return data

    def __iter__(self):
        while True:
            (item_size,) = HEADER_FORMAT.unpack(self._recvall(HEADER_FORMAT.size))
            yield self._recvall(item_size).decode("utf-8")


def main():
    where = sys.argv[1]
    host, sep, port = where.rpartition(":")
    address = (host, int(port)) if sep and port.isdigit() else where
    out = sys.stdout
    try:
        with StreamClient(address) as stream:
            for item in stream:
                out.write(item + "\n")
                out.flush()
    except EOFError as e:
        sys.exit(0 if e.args[0] == 0 else 1)
    except ConnectionResetError:
        sys.exit(0)


if __name__ == "__main__":
    main()

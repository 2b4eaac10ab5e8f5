"""examples/bridges/sfpublish.py - what the Python bridges into a stream
share: publishing to the daemon, stopping on a signal, and their
numeric settings.

A bridge that takes messages from a broker acknowledges them only once
they are the daemon's: Daemon.publish returns when the records are in
the daemon's socket, which the bridge's death cannot take back (sfpipe
says nothing of what it has handed on, so a bridge that goes through it
cannot know).  Standard library only; imported by mqtt-to-stream.py and
jetstream-to-stream.py beside it.
"""
import os
import re
import select
import signal
import socket
import struct
import sys

CONTROL = 0x80000000   # the top bit of a streamfan control frame's header
# The daemon's refusals that asking again later may overcome, as sfpipe
# tells them from the others.
REFUSED_FOR_NOW = ("full", "too-many-streams", "spool", "no-memory",
                   "hello-timeout")


class Stop(Exception):
    """SIGTERM or SIGINT came: end with Signals.status."""


class Lost(Exception):
    """A connection failed or ended; the text says why."""


class Refused(Exception):
    """Refused for good: trying again would not help."""


class DaemonLost(Exception):
    """The daemon went away; the text says why."""


def number_setting(me, name, default, most):
    """The environment's NAME, decimal digits making a number from 1 to
    MOST (DEFAULT when unset); anything else is a usage error: named with
    the value given, and exit 2."""
    given = os.environ.get(name, str(default))
    n = int(given) if re.fullmatch("[0-9]{1,9}", given) else 0
    if not 1 <= n <= most:
        print("%s: %s must be a number from 1 to %d, not '%s'" %
              (me, name, most, given), file=sys.stderr, flush=True)
        sys.exit(2)
    return n


def oserror(e):
    return e.strerror or str(e)


def send_all(sock, data):
    try:
        sock.sendall(data)
    except OSError as e:
        raise Lost(oserror(e))


def recv_exact(sock, n, who):
    data = b""
    while len(data) < n:
        try:
            got = sock.recv(n - len(data))
        except OSError as e:
            raise Lost(oserror(e))
        if not got:
            raise Lost("%s closed the connection" % who)
        data += got
    return data


class Signals:
    """SIGTERM and SIGINT ask for a stop, seen at the next pause or by a
    select on wake; the bridge finishes what it has in hand first."""

    def __init__(self):
        self.status = None
        self.wake, w = os.pipe()
        os.set_blocking(w, False)
        signal.set_wakeup_fd(w)
        signal.signal(signal.SIGTERM, lambda *_: self.stop(143))
        signal.signal(signal.SIGINT, lambda *_: self.stop(130))
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    def stop(self, status):
        self.status = status

    def pause(self, seconds):
        """Sleep, unless a signal to stop comes first."""
        select.select([self.wake], [], [], seconds)
        self.check()

    def check(self):
        if self.status is not None:
            raise Stop()


class Daemon:
    """A publisher of one stream, connected again whenever it is lost."""

    def __init__(self, me, stream, lines):
        self.me, self.stream, self.lines = me, stream, lines
        self.addr = os.environ.get("SF_SERVER", "")
        if not self.addr:
            run = os.environ.get("XDG_RUNTIME_DIR", "")
            self.addr = (run + "/streamfan.sock" if run else
                         "/tmp/streamfan-%d.sock" % os.getuid())
        self.sock = None
        self.count = 0   # messages published, to name a skipped one
        self.told_control = False   # said it cannot count publishers

    def say(self, text):
        print("%s: %s" % (self.me, text), file=sys.stderr, flush=True)

    def fileno(self):
        return self.sock.fileno()

    def connect(self, signals):
        """Connect, saying once why it cannot and trying again from 100 ms,
        doubling up to 5 s, as sfpipe --retry does; then wait to be the
        stream's only publisher."""
        told, wait = False, 0.1
        while True:
            try:
                self.sock, self.max_frame = self.hello()
                if told:
                    self.say("reconnected to %s" % self.addr)
                self.sole(signals)
                return
            except Lost as e:
                if not told:
                    self.say("%s; retrying" % e)
                told = True
                signals.pause(wait)
                wait = min(wait * 2, 5)

    def sole(self, signals):
        """Wait (10 s at most) until this connection is the only publisher
        the daemon counts on the stream.  A bridge killed a moment ago may
        have left records in the daemon's socket: they are published as
        the daemon reads them, and must go in before what this connection
        sends, or the stream would have them out of order."""
        for _ in range(500):
            n = self.publishers()
            if n is None or n <= 1:
                return
            signals.pause(0.02)
        self.say("stream %s still has %d publishers after 10 s: this "
                 "bridge should be its only one; going on" %
                 (self.stream, n))

    def publishers(self):
        """The stream's publishers as the daemon counts them (a control
        request), or None when it will not say: it is then not waited
        for, and a line says why, once."""
        try:
            sock = self.open()
            try:
                send_all(sock, struct.pack(">I", CONTROL | 5) + b"CTL 1")
                answer = self.control(sock)
                if answer.startswith("OK "):
                    send_all(sock, struct.pack(">I", CONTROL | 7) +
                             b"STREAMS")
                    while answer != "END":
                        answer = self.control(sock)
                        words = answer.split()
                        if words[:2] == ["STREAM", "name=" + self.stream]:
                            n = [w for w in words
                                 if w.startswith("publishers=")]
                            return int(n[0].split("=")[1])
                    return 0   # no such stream any more
            finally:
                sock.close()
        except (Lost, OSError, ValueError, IndexError) as e:
            answer = str(e)
        if not self.told_control:
            self.say("%s: cannot count the stream's publishers (%s); "
                     "records a killed bridge left may come after new "
                     "ones" % (self.addr, answer))
            self.told_control = True
        return None

    def open(self):
        """A connected socket to the daemon; OSError or ValueError."""
        addr = self.addr
        if addr.startswith("tcp:"):
            host, _, port = addr[4:].rpartition(":")
            return socket.create_connection((host.strip("[]"), int(port)))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(addr)
        except OSError:
            sock.close()
            raise
        return sock

    def hello(self):
        addr = self.addr
        try:
            sock = self.open()
        except (OSError, ValueError) as e:
            raise Lost("cannot connect to %s: %s" %
                       (addr, oserror(e) if isinstance(e, OSError) else e))
        hello = b"PUB 1 stream=" + self.stream.encode()
        try:
            send_all(sock, struct.pack(">I", CONTROL | len(hello)) + hello)
            answer = self.control(sock)
        except Lost as e:
            sock.close()
            raise Lost("%s: %s" % (addr, e))
        words = dict(w.split("=", 1) for w in answer.split()[1:] if "=" in w)
        if answer.startswith("ERR "):
            sock.close()
            if words.get("reason") in REFUSED_FOR_NOW:
                raise Lost("the daemon at %s refuses for now: %s" %
                           (addr, answer))
            raise Refused("the daemon at %s refuses: %s" % (addr, answer))
        if not answer.startswith("OK ") or "max-frame" not in words:
            sock.close()
            raise Lost("%s is not a streamfan daemon (it said %r)" %
                       (addr, answer[:60]))
        return sock, int(words["max-frame"])

    def control(self, sock):
        """The next frame from the daemon, a control frame, as text."""
        n = struct.unpack(">I", recv_exact(sock, 4, "the daemon"))[0]
        if not n & CONTROL or n & ~CONTROL > 4096:
            raise Lost("the daemon sent a frame it should not")
        return recv_exact(sock, n & ~CONTROL,
                          "the daemon").decode("ascii", "replace")

    def publish(self, payloads):
        """Each message as one record (or, with lines, one per line),
        in the daemon's socket on return; one over the daemon's max-frame
        is skipped and named.  Raises DaemonLost."""
        out = []
        for k, payload in enumerate(payloads):
            for rec in payload.split(b"\n") if self.lines else (payload,):
                if len(rec) > self.max_frame:
                    self.say("message %d: a record of %d bytes exceeds the "
                             "daemon's max-frame %d, skipped" %
                             (self.count + k + 1, len(rec), self.max_frame))
                    continue
                out.append(struct.pack(">I", len(rec)))
                out.append(rec)
        self.count += len(payloads)
        try:
            send_all(self.sock, b"".join(out))
        except Lost as e:
            raise DaemonLost(str(e))

    def gone(self):
        """The daemon's socket is readable: it said goodbye or closed.
        Raises DaemonLost with what it said."""
        try:
            why = self.control(self.sock)
        except Lost as e:
            why = str(e)
        raise DaemonLost(why)

    def reconnect(self, why, signals):
        self.say("%s: %s; reconnecting" % (self.addr, why))
        self.sock.close()
        self.connect(signals)

#!/usr/bin/env python3
"""Load and fault generators for the streamfan stress tests.

    sfstress.py feed PREFIX RATE STOP COPY [COUNT [PAD]]
        Write numbered text records "PREFIX N <padding>" (N from 0, padding
        of 0 to PAD-1 bytes, default 301) to stdout at about RATE records a
        second, in small bursts, until the file STOP exists (or COUNT
        records are out, COUNT 0 for no limit); every record also goes to
        the file COPY.  A reader that goes away ends it quietly (exit 0).

    sfstress.py halfpub SOCK STREAM PREFIX COUNT BODY CUT
        A raw publisher: COUNT complete frames "PREFIX-1".., then the first
        CUT bytes of a frame whose header announces BODY bytes (CUT < 4: only
        part of the header), then it SIGKILLs itself.

    sfstress.py frames FILE
        The text records of FILE (one a line) as data frames on stdout: what
        `sfcat --raw` prints for them.

    sfstress.py subs SOCK STREAM N INPUT READY TIMEOUT
        N raw subscribers in this one process.  Once every one has its OK,
        writes READY; then each must receive exactly the data frames of the
        text records in INPUT (one frame per line), byte for byte, and
        nothing else.  Exit 0 when all have them, 1 on any difference or at
        TIMEOUT seconds.

    sfstress.py flood SOCK N READY RELEASE TIMEOUT
        Open N connections, each saying "SUB 1 stream=flood", and sort them
        by the first thing the daemon does: OK (held open), ERR reason=R, a
        close, or nothing within 10 s (a hang).  Writes the tally to READY,
        holds the accepted ones until the file RELEASE exists, then closes
        all.  Exit 0; 1 at TIMEOUT seconds.

    sfstress.py exhaust SOCK N HELLO
        Open N connections that say nothing; the daemon takes what its
        descriptors allow and refuses the rest.  Then one it took sends the
        control line HELLO.  Prints "kept=K refused=R" and "ANSWER <line>"
        (or "ANSWER EOF", "ANSWER TIMEOUT").  Exit 0; 1 if it took none.

    sfstress.py junk SOCK N SEED MAXFRAME GOOD TIMEOUT
        N misbehaving clients, up to 100 at once, in a random order: garbage,
        silent and half-said hellos, oversized and impossible headers
        (0xFFFFFFFF, MAXFRAME, MAXFRAME + 1), zero-length frames, frames cut
        off by a close, subscribers that send data or vanish (some on stream
        GOOD), abrupt closes.  Each checks the daemon's answer.  Prints a
        tally; exit 1 if any got an unexpected answer or no answer in time.

Every wait is bounded.  Progress and results go to stdout, one "# ..." line
each, so a bats test can pass them on.
"""

import asyncio
import collections
import errno
import os
import random
import re
import selectors
import signal
import socket
import struct
import sys
import time

CONTROL = 0x80000000


def header(n, control=False):
    return struct.pack(">I", n | (CONTROL if control else 0))


def ctl(text):
    b = text.encode("ascii")
    return header(len(b), True) + b


def data(body):
    return header(len(body)) + body


def say(msg):
    print("# " + msg, flush=True)


def record(prefix, n, pad=301):
    """The n-th record of feed: a number, then padding of varying length."""
    return b"%s %d %s" % (prefix, n, b"x" * (n * 7919 % pad))


# --- feed -------------------------------------------------------------------

def feed(prefix, rate, stop, copy, count=None, pad=301):
    prefix = prefix.encode()
    out = sys.stdout.buffer
    n = 0
    start = time.monotonic()
    burst = max(1, rate // 50)
    try:
        with open(copy, "wb") as cp:
            while count is None or n < count:
                if os.path.exists(stop):
                    break
                chunk = []
                for _ in range(burst):
                    if count is not None and n >= count:
                        break
                    chunk.append(record(prefix, n, pad) + b"\n")
                    n += 1
                b = b"".join(chunk)
                # The copy first: what the reader may have got is in it.
                cp.write(b)
                cp.flush()
                out.write(b)
                out.flush()
                ahead = n / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
    except BrokenPipeError:
        # The reader is gone; keep Python from complaining at exit.
        try:
            sys.stdout = None
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        except OSError:
            pass


# --- halfpub ----------------------------------------------------------------

def recv_frame(sock, deadline):
    """Read one frame from a blocking socket: (is_control, body) or None."""
    def fill(n):
        buf = b""
        while len(buf) < n:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            b = sock.recv(n - len(buf))
            if not b:
                return None
            buf += b
        return buf

    h = fill(4)
    if h is None:
        return None
    (v,) = struct.unpack(">I", h)
    body = fill(v & ~CONTROL)
    if body is None:
        return None
    return bool(v & CONTROL), body


def halfpub(path, stream, prefix, count, body, cut):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(ctl("PUB 1 stream=%s" % stream))
    f = recv_frame(s, time.monotonic() + 10)
    if f is None or not f[1].startswith(b"OK "):
        sys.exit("halfpub: no OK: %r" % (f,))
    s.sendall(b"".join(data(b"%s-%d" % (prefix.encode(), i))
                       for i in range(1, count + 1)))
    # Let the complete frames go on their own, then the broken one.
    time.sleep(0.2)
    partial = header(body) + b"p" * max(0, cut - 4)
    s.sendall(partial[:cut])
    time.sleep(0.3)
    os.kill(os.getpid(), signal.SIGKILL)


# --- subs -------------------------------------------------------------------

def expected_frames(path):
    with open(path, "rb") as f:
        text = f.read()
    lines = text.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join(data(line) for line in lines), len(lines)


def frames(path):
    want, _ = expected_frames(path)
    sys.stdout.buffer.write(want)


def connect(path, timeout):
    """A connected blocking socket.  A Unix socket whose listen backlog is
    full fails at once with EAGAIN (nothing is in progress): try again until
    the daemon has made room, at most TIMEOUT seconds."""
    end = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() > end:
                raise TimeoutError("connect: backlog full for %g s" % timeout)
            time.sleep(0.005)
        except OSError:
            s.close()
            raise


def subs(path, stream, n, inp, ready, timeout):
    want, nframes = expected_frames(inp)
    deadline = time.monotonic() + timeout
    sel = selectors.DefaultSelector()
    hello = ctl("SUB 1 stream=%s" % stream)
    conns = []
    t0 = time.monotonic()
    for i in range(n):
        s = connect(path, max(0.1, deadline - time.monotonic()))
        s.sendall(hello)
        s.setblocking(False)
        c = {"i": i, "sock": s, "buf": b"", "ok": False, "off": 0,
             "done": False}
        conns.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    t1 = time.monotonic()
    say("%d subscribers connected in %.2f s" % (n, t1 - t0))
    nok = ndone = 0
    bad = []
    announced = False
    t2 = time.monotonic()
    while ndone < n and not bad:
        if nok == n and not announced:
            announced = True
            say("all %d subscribed after %.2f s" % (n, time.monotonic() - t0))
            with open(ready + ".tmp", "w") as f:
                f.write("%d\n" % n)
            os.rename(ready + ".tmp", ready)
            t2 = time.monotonic()
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(min(left, 1.0)):
            c = key.data
            try:
                b = c["sock"].recv(262144)
            except BlockingIOError:
                continue
            except OSError as e:
                bad.append("#%d: %s" % (c["i"], e.strerror))
                continue
            if not b:
                bad.append("#%d: closed by the daemon after %d of %d bytes"
                           % (c["i"], c["off"], len(want)))
                sel.unregister(c["sock"])
                continue
            if not c["ok"]:
                c["buf"] += b
                if len(c["buf"]) < 4:
                    continue
                (h,) = struct.unpack(">I", c["buf"][:4])
                ln = h & ~CONTROL
                if len(c["buf"]) < 4 + ln:
                    continue
                body = c["buf"][4:4 + ln]
                if not h & CONTROL or not body.startswith(b"OK "):
                    bad.append("#%d: answer %r" % (c["i"], body[:80]))
                    continue
                c["ok"] = True
                nok += 1
                b = c["buf"][4 + ln:]
                c["buf"] = b""
            if not b:
                continue
            off = c["off"]
            if len(b) > len(want) - off or want[off:off + len(b)] != b:
                # Find the first differing byte for the report.
                got = b[:len(want) - off]
                k = next((j for j in range(len(got))
                          if got[j] != want[off + j]), len(got))
                bad.append("#%d: differs at byte %d of the stream "
                           "(%d expected)" % (c["i"], off + k, len(want)))
                continue
            c["off"] = off + len(b)
            if c["off"] == len(want):
                c["done"] = True
                ndone += 1
    if ndone == n and not bad:
        say("all %d subscribers received all %d frames (%d bytes each) "
            "%.2f s after subscribing" % (n, nframes, len(want),
                                          time.monotonic() - t2))
        # Nothing more may follow: no stray frame, no goodbye.
        time.sleep(0.2)
        extra = 0
        for c in conns:
            try:
                if c["sock"].recv(1):
                    extra += 1
            except BlockingIOError:
                pass
            except OSError:
                extra += 1
        if extra:
            say("%d subscribers got something after the last frame" % extra)
            sys.exit(1)
        return
    part = sum(1 for c in conns if not c["done"])
    say("FAILED: %d subscribed, %d complete, %d incomplete; %d errors"
        % (nok, ndone, part, len(bad)))
    for b in bad[:20]:
        say(b)
    for c in conns[:5]:
        if not c["done"]:
            say("#%d has %d of %d bytes" % (c["i"], c["off"], len(want)))
    sys.exit(1)


# --- flood ------------------------------------------------------------------

def flood(path, n, ready, release, timeout):
    deadline = time.monotonic() + timeout
    sel = selectors.DefaultSelector()
    tally = collections.Counter()
    conns = []
    hello = ctl("SUB 1 stream=flood")
    t0 = time.monotonic()
    for i in range(n):
        try:
            s = connect(path, 10)
        except TimeoutError:
            tally["connect-timeout"] += 1
            continue
        except OSError as e:
            tally["connect-" + errno.errorcode.get(e.errno, "?")] += 1
            continue
        try:
            s.sendall(hello)
        except OSError:
            pass   # refused and closed already: its answer is still there
        s.setblocking(False)
        c = {"sock": s, "buf": b"", "state": None}
        conns.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    say("%d connections opened in %.2f s" % (len(conns), time.monotonic() - t0))
    answer_by = time.monotonic() + 10
    pending = len(conns)
    while pending and time.monotonic() < answer_by:
        for key, _ in sel.select(max(0.0, answer_by - time.monotonic())):
            c = key.data
            try:
                b = c["sock"].recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                b = None
            if not b:
                c["state"] = "closed"
            else:
                c["buf"] += b
                if len(c["buf"]) < 4:
                    continue
                (h,) = struct.unpack(">I", c["buf"][:4])
                ln = h & ~CONTROL
                if len(c["buf"]) < 4 + ln:
                    continue
                line = c["buf"][4:4 + ln].decode("latin-1")
                if line.startswith("OK "):
                    c["state"] = "ok"
                elif line.startswith("ERR reason="):
                    c["state"] = "err-" + line[len("ERR reason="):]
                else:
                    c["state"] = "other"
            sel.unregister(c["sock"])
            if c["state"] != "ok":
                c["sock"].close()
            pending -= 1
    for c in conns:
        tally[c["state"] or "noanswer"] += 1
    line = " ".join("%s=%d" % kv for kv in sorted(tally.items()))
    say("answers after %.2f s: %s" % (time.monotonic() - t0, line))
    with open(ready + ".tmp", "w") as f:
        f.write(line + "\n")
    os.rename(ready + ".tmp", ready)
    held = [c for c in conns if c["state"] == "ok"]
    while not os.path.exists(release):
        if time.monotonic() > deadline:
            say("FAILED: not released in time")
            sys.exit(1)
        time.sleep(0.05)
    # Did the daemon drop any of those it had accepted meanwhile?
    dropped = 0
    for c in held:
        try:
            if c["sock"].recv(1) == b"":
                dropped += 1
        except BlockingIOError:
            pass
        except OSError:
            dropped += 1
        c["sock"].close()
    say("released %d held connections (%d had been dropped)"
        % (len(held), dropped))


# --- exhaust ----------------------------------------------------------------

def exhaust(path, n, hello):
    socks = []
    for _ in range(n):
        try:
            socks.append(connect(path, 10))
        except (OSError, TimeoutError):
            pass
    # The refused ones have their ERR (or EOF) waiting; the kept ones have
    # nothing to read until their hello.
    time.sleep(0.5)
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    refused = {key.fileobj for key, _ in sel.select(0)}
    kept = [s for s in socks if s not in refused]
    print("kept=%d refused=%d" % (len(kept), len(refused)), flush=True)
    if not kept:
        sys.exit(1)
    s = kept[-1]
    s.sendall(ctl(hello))
    try:
        f = recv_frame(s, time.monotonic() + 10)
    except socket.timeout:
        print("ANSWER TIMEOUT")
        return
    except OSError:
        f = None
    if f is None:
        print("ANSWER EOF")
    else:
        print("ANSWER " + re.sub(r"epoch=[0-9a-f]{16}", "epoch=E",
                                 f[1].decode("latin-1")))
    for s in socks:
        s.close()


# --- junk -------------------------------------------------------------------

class Conn:
    """One raw client on asyncio streams, every read bounded."""

    def __init__(self, reader, writer, limit):
        self.r = reader
        self.w = writer
        self.limit = limit

    @classmethod
    async def open(cls, path, limit):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        end = time.monotonic() + limit
        while True:
            try:
                s.connect(path)
                break
            except BlockingIOError:
                # Unix sockets: the backlog is full, nothing in progress.
                if time.monotonic() > end:
                    s.close()
                    raise TimeoutError("connect")
                await asyncio.sleep(0.01)
        r, w = await asyncio.open_unix_connection(sock=s, limit=1 << 22)
        return cls(r, w, limit)

    async def send(self, b):
        """Send; False if the daemon has closed already."""
        try:
            self.w.write(b)
            await self.w.drain()
            return True
        except (ConnectionError, OSError):
            return False

    async def frame(self):
        """The next frame: ("CTL", text), ("DATA", len) or ("EOF", None)."""
        try:
            h = await asyncio.wait_for(self.r.readexactly(4), self.limit)
            (v,) = struct.unpack(">I", h)
            body = await asyncio.wait_for(self.r.readexactly(v & ~CONTROL),
                                          self.limit)
        except (asyncio.IncompleteReadError, ConnectionError):
            return ("EOF", None)
        if v & CONTROL:
            return ("CTL", body.decode("latin-1"))
        return ("DATA", len(body))

    async def answer(self):
        """The daemon's verdict: "ERR reason=..." or "EOF", skipping
        data frames (a subscriber may get some first)."""
        while True:
            kind, v = await self.frame()
            if kind == "CTL":
                return v
            if kind == "EOF":
                return "EOF"

    async def hello(self, line):
        await self.send(ctl(line))
        kind, v = await self.frame()
        if kind != "CTL" or not v.startswith("OK "):
            raise AssertionError("hello %r answered %r" % (line, v))

    def abort(self):
        self.w.transport.abort()

    async def close(self):
        self.w.close()
        try:
            await self.w.wait_closed()
        except (ConnectionError, OSError):
            pass


def err(reason):
    return {"ERR reason=" + reason}


def junk_kinds(maxframe, good, rnd):
    """name -> coroutine function(conn) returning the outcome seen, and the
    set of outcomes that are right."""
    js = lambda: "junk%d" % rnd.randrange(4)

    async def garbage(c):
        await c.send(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300))))
        return await c.answer()

    async def idle(c):
        return await c.answer()

    async def half_hello(c):
        await c.send(header(32, True) + b"SUB 1 st")
        return await c.answer()

    async def ffff_hello(c):
        await c.send(b"\xff\xff\xff\xff")
        return await c.answer()

    async def data_first(c):
        await c.send(data(b"0123456789abcdef"))
        return await c.answer()

    async def pub_ffff(c):
        await c.hello("PUB 1 stream=" + js())
        await c.send(b"\xff\xff\xff\xff")
        return await c.answer()

    async def pub_max(c):
        await c.hello("PUB 1 stream=" + js())
        await c.send(data(b"m" * maxframe))
        c.w.write_eof()
        return await c.answer()

    async def pub_over(c):
        await c.hello("PUB 1 stream=" + js())
        await c.send(header(maxframe + 1))
        return await c.answer()

    async def pub_zero(c):
        await c.hello("PUB 1 stream=" + js())
        await c.send(data(b"") * rnd.randint(1, 200))
        c.w.write_eof()
        return await c.answer()

    async def pub_cut(c):
        await c.hello("PUB 1 stream=" + js())
        await c.send(data(b"ok") + header(1000) + b"c" * rnd.randint(0, 999))
        await asyncio.sleep(rnd.random() * 0.2)
        c.abort()
        return "aborted"

    async def pub_control(c):
        await c.hello("PUB 1 stream=" + js())
        await c.send(ctl("SUB 1 stream=x"))
        return await c.answer()

    async def sub_sends(c):
        await c.hello("SUB 1 stream=" + js())
        await c.send(data(b"not mine"))
        return await c.answer()

    async def sub_good_vanish(c):
        await c.hello("SUB 1 stream=" + good)
        await asyncio.sleep(rnd.random() * 0.5)
        c.abort()
        return "aborted"

    async def sub_good_stall(c):
        # Subscribed to the real stream and never reading: the daemon must
        # not wait for it.
        await c.hello("SUB 1 stream=" + good)
        await asyncio.sleep(0.5 + rnd.random())
        c.abort()
        return "aborted"

    async def abrupt(c):
        c.abort()
        return "aborted"

    async def hello_then_abort(c):
        await c.send(ctl("PUB 1 stream=" + js())[:rnd.randint(1, 10)])
        c.abort()
        return "aborted"

    async def bad_verb(c):
        await c.send(ctl("HELLO 1 stream=x"))
        return await c.answer()

    async def bad_version(c):
        await c.send(ctl("SUB 9 stream=x"))
        return await c.answer()

    async def bad_from(c):
        await c.send(ctl("SUB 1 stream=x from=yesterday"))
        return await c.answer()

    any_answer = None   # garbage may draw any refusal
    return {
        "garbage": (garbage, any_answer),
        "idle": (idle, err("hello-timeout")),
        "half-hello": (half_hello, err("hello-timeout")),
        "0xffffffff-hello": (ffff_hello, err("control-too-large")),
        "data-before-hello": (data_first, err("bad-hello")),
        "pub-0xffffffff": (pub_ffff, err("control-too-large")),
        "pub-max-frame": (pub_max, {"EOF"}),
        "pub-max-frame+1": (pub_over, err("frame-too-large")),
        "pub-zero-length": (pub_zero, {"EOF"}),
        "pub-cut-frame": (pub_cut, {"aborted"}),
        "pub-control": (pub_control, err("unexpected-control")),
        "sub-sends-data": (sub_sends, err("not-a-publisher")),
        "sub-good-vanish": (sub_good_vanish, {"aborted"}),
        "sub-good-stall": (sub_good_stall, {"aborted"}),
        "abrupt-close": (abrupt, {"aborted"}),
        "hello-cut": (hello_then_abort, {"aborted"}),
        "bad-verb": (bad_verb, err("unknown-verb")),
        "bad-version": (bad_version, err("bad-version")),
        "bad-from": (bad_from, err("bad-hello")),
    }


async def junk_main(path, n, seed, maxframe, good, timeout):
    rnd = random.Random(seed)
    kinds = junk_kinds(maxframe, good, rnd)
    names = sorted(kinds)
    plan = [names[i % len(names)] for i in range(n)]
    rnd.shuffle(plan)
    gate = asyncio.Semaphore(100)
    tally = collections.Counter()
    wrong = []

    async def one(i, name):
        fn, right = kinds[name]
        async with gate:
            await asyncio.sleep(rnd.random() * 0.05)
            try:
                c = await Conn.open(path, 10)
            except (OSError, TimeoutError) as e:
                wrong.append("%s #%d: connect: %s" % (name, i, e))
                return
            try:
                got = await asyncio.wait_for(fn(c), 15)
            except asyncio.TimeoutError:
                got = "no answer within 15 s"
            except AssertionError as e:
                got = str(e)
            finally:
                c.abort()
            if right is None:
                ok = got == "EOF" or got.startswith("ERR reason=")
            else:
                ok = got in right
            tally[(name, got)] += 1
            if not ok:
                wrong.append("%s #%d: got %r, expected one of %s"
                             % (name, i, got, sorted(right or ["ERR"])))

    t0 = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(one(i, k) for i, k in
                                            enumerate(plan))), timeout)
    say("%d clients done in %.2f s" % (n, time.monotonic() - t0))
    for (name, got), k in sorted(tally.items()):
        say("%-18s %4d  %s" % (name, k, got))
    for w in wrong[:30]:
        say("WRONG " + w)
    return not wrong


def junk(path, n, seed, maxframe, good, timeout):
    try:
        ok = asyncio.run(junk_main(path, n, seed, maxframe, good, timeout))
    except asyncio.TimeoutError:
        say("FAILED: not all clients finished within %d s" % timeout)
        sys.exit(1)
    sys.exit(0 if ok else 1)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, a = argv[1], argv[2:]
    if cmd == "feed":
        count = int(a[4]) if len(a) > 4 and int(a[4]) > 0 else None
        feed(a[0], int(a[1]), a[2], a[3], count,
             int(a[5]) if len(a) > 5 else 301)
    elif cmd == "halfpub":
        halfpub(a[0], a[1], a[2], int(a[3]), int(a[4]), int(a[5]))
    elif cmd == "frames":
        frames(a[0])
    elif cmd == "subs":
        subs(a[0], a[1], int(a[2]), a[3], a[4], float(a[5]))
    elif cmd == "flood":
        flood(a[0], int(a[1]), a[2], a[3], float(a[4]))
    elif cmd == "exhaust":
        exhaust(a[0], int(a[1]), a[2])
    elif cmd == "junk":
        junk(a[0], int(a[1]), int(a[2]), int(a[3]), a[4], float(a[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

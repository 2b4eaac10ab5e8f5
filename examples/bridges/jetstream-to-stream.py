#!/usr/bin/env python3
"""examples/bridges/jetstream-to-stream.py - publish each message of a
NATS JetStream stream as one record of a streamfan stream, resuming from
the messages the bridge has not acknowledged.

    python3 examples/bridges/jetstream-to-stream.py JS_STREAM STREAM

Environment:
  NATS_HOST   server host (default 127.0.0.1)
  NATS_PORT   server port (default 4222)
  CONSUMER    the durable consumer of JS_STREAM that holds the bridge's
              position: keep it the same across restarts (default
              streamfan-STREAM)
  START       all or new: where a consumer made by the bridge starts, the
              first time (default all)
  BATCH       messages asked for at a time, and the most unacknowledged
              at once (default 1000)
  RECORDS     lines (default) or frames, as for mqtt-to-stream.py
  SF_SERVER   the daemon's address, as for sfpipe

A pull consumer with explicit acknowledgement: the bridge asks for BATCH
messages at a time, writes them to the daemon as a publisher of STREAM
(through sfpublish.py beside it), and acknowledges each once the write
has returned.  The server keeps the consumer's acknowledged floor, and
JetStream keeps the messages themselves, so the bridge may be away for
as long as the stream keeps them.  On each connection, if the consumer
has messages out that were not acknowledged, the bridge makes it again
(same name, same settings) starting at the first of them: they come
first and in order, rather than after the server's ack wait.  So the
bridge owns CONSUMER: give it a name of its own.

Guarantee: no gap, and repeats of at most BATCH messages, across a
SIGKILL of the bridge or of nats-server (with its store on disk), while
the daemon runs; in order while the bridge is the only publisher of
STREAM, as for mqtt-to-stream.py.  Stopped with SIGTERM or SIGINT, the bridge publishes
and acknowledges what it holds, waits for the server to have the
acknowledgements, and ends: nothing lost or repeated.  Messages the
stream dropped (its limits, a purge) before the bridge read them are
lost: the bridge names their sequence numbers on standard error.  A
server that is away, or has no such stream, is named and tried again
every second; a daemon that is away is tried again as sfpipe --retry
does, and meanwhile nothing is taken from the server.

Exit status: 143 after SIGTERM, 130 after SIGINT, 2 for a usage error,
6 when the daemon refuses the stream for good.
"""
import importlib.util
import json
import os
import select
import sys

sys.dont_write_bytecode = True   # leave the folder as it is
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sfpublish import (Daemon, DaemonLost, Refused, Signals,  # noqa: E402
                       Stop, number_setting)

_spec = importlib.util.spec_from_file_location(
    "nats_frames", os.path.join(HERE, "nats-frames.py"))
nats = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nats)

ME = "jetstream-to-stream"
INBOX = b"_INBOX.streamfan." + os.urandom(8).hex().encode()
CONSUMER_NOT_FOUND = 10014   # JetStream's err_code
ACK_WAIT = 30 * 10**9        # ns: only for messages a live bridge lost
EXPIRES = 10**9              # ns a fetch waits for messages it asked


def say(text):
    print("%s: %s" % (ME, text), file=sys.stderr, flush=True)


def usage(text):
    say(text)
    sys.exit(2)


def token(name, what):
    if not name or any(ch in name for ch in " \t\r\n.*>"):
        usage("%r is not a JetStream %s name" % (name, what))
    return name.encode()


def message(c, line):
    """The message whose MSG or HMSG line is line: (subject, reply,
    payload, status), status being the code of a status message."""
    parts = line.split()
    status = None
    if parts[0] == b"HMSG":
        hdr, total = int(parts[-2]), int(parts[-1])
        data = c.exact(total)
        first = data[:hdr].split(b"\r\n", 1)[0].split()
        status = first[1] if len(first) > 1 else None
        payload = data[hdr:]
        reply = parts[3] if len(parts) == 6 else None
    else:
        payload = c.exact(int(parts[-1]))
        reply = parts[3] if len(parts) == 5 else None
    return parts[1], reply, payload, status


def stream_seq(reply):
    """The stream sequence number in a $JS.ACK subject (both forms)."""
    t = reply.split(b".")
    return int(t[5] if len(t) == 9 else t[7])


class Bridge:
    def __init__(self, js_stream, stream):
        self.js = token(js_stream, "stream")
        self.consumer = token(os.environ.get("CONSUMER",
                                             "streamfan-" + stream),
                              "consumer")
        self.batch = number_setting(ME, "BATCH", 1000, 100000)
        self.start = os.environ.get("START", "all")
        if self.start not in ("all", "new"):
            usage("START must be all or new, not '%s'" % self.start)
        records = os.environ.get("RECORDS", "lines")
        if records not in ("lines", "frames"):
            usage("RECORDS must be lines or frames, not '%s'" % records)
        self.daemon = Daemon(ME, stream, records == "lines")
        self.signals = Signals()
        self.conn = None
        self.held = []      # (reply, payload): taken, not yet published
        self.last = None    # stream seq of the last message taken

    def api(self, verb, body=b""):
        """One JetStream API request: its answer, decoded."""
        c = self.conn
        subject = b"$JS.API.CONSUMER.%s.%s.%s" % (verb, self.js,
                                                   self.consumer)
        c.send(b"PUB %s %s.api %d\r\n%s\r\n" % (subject, INBOX, len(body),
                                              body))
        while True:
            line = c.op()
            if line.split()[0] not in (b"MSG", b"HMSG"):
                continue
            subject, _, payload, status = message(c, line)
            if subject != INBOX + b".api":
                continue   # a message of a fetch before: it comes again
            if status == b"503":
                raise nats.Lost("JetStream is not enabled")
            return json.loads(payload)

    def error(self, answer):
        e = answer.get("error")
        if e:
            raise nats.Lost("stream %s, consumer %s: %s" %
                            (self.js.decode(), self.consumer.decode(),
                             e.get("description", e)))

    def setup(self):
        """The consumer, made again at its first unacknowledged message
        if some are out."""
        self.conn.send(b"SUB %s.> 1\r\n" % INBOX)
        info = self.api(b"INFO")
        start = {"deliver_policy": self.start}
        if info.get("error", {}).get("err_code") != CONSUMER_NOT_FOUND:
            self.error(info)
            floor = info["ack_floor"]["stream_seq"]
            self.last = floor
            if info.get("num_ack_pending", 0) == 0:
                return
            self.error(self.api(b"DELETE"))
            start = {"deliver_policy": "by_start_sequence",
                     "opt_start_seq": floor + 1}
        config = dict(start, durable_name=self.consumer.decode(),
                      ack_policy="explicit", ack_wait=ACK_WAIT,
                      max_ack_pending=self.batch)
        self.error(self.api(b"DURABLE.CREATE", json.dumps(
            {"stream_name": self.js.decode(), "config": config}).encode()))

    def flush(self):
        """Publish what is held, then acknowledge it."""
        if not self.held:
            return
        held, self.held = self.held, []
        if select.select([self.daemon], [], [], 0)[0]:
            self.daemon.gone()
        self.daemon.publish([p for _, p in held])
        self.conn.send(b"".join(b"PUB %s 0\r\n\r\n" % r for r, _ in held))

    def take(self, reply, payload):
        seq = stream_seq(reply)
        if self.last is not None and seq > self.last + 1:
            say("stream %s: messages %d to %d were gone before the bridge "
                "read them (its limits, or a purge): lost" %
                (self.js.decode(), self.last + 1, seq - 1))
        if self.last is None or seq > self.last:
            self.last = seq
        self.held.append((reply, payload))

    def serve(self):
        """Fetch and pass on until a connection is lost or a stop."""
        c = self.conn
        c.before_wait = self.flush
        fetch = b"PUB $JS.API.CONSUMER.MSG.NEXT.%s.%s %s.fetch" % (
            self.js, self.consumer, INBOX)
        ask = json.dumps({"batch": self.batch, "expires": EXPIRES}).encode()
        want = 0
        while True:
            self.signals.check()
            if want == 0:
                c.send(b"%s %d\r\n%s\r\n" % (fetch, len(ask), ask))
                want = self.batch
            line = c.op()
            if line.split()[0] not in (b"MSG", b"HMSG"):
                continue
            # A message comes with its own subject, a status of the fetch
            # with the fetch's.
            subject, reply, payload, status = message(c, line)
            if reply and reply.startswith(b"$JS.ACK."):
                self.take(reply, payload)
                want -= 1
            elif subject == INBOX + b".fetch" and status != b"100":
                want = 0   # 404, 408, 409: this fetch is over; 100 beats

    def close(self, finish):
        """Drop the connection; finish: first publish and acknowledge what
        is held, and wait for the server to have it all (a PONG)."""
        c, self.conn = self.conn, None
        if c is None:
            return
        if finish:
            try:
                c.before_wait = None
                self.flush()
                c.send(b"PING\r\n")
                while c.op() != b"PONG":
                    pass
            except (nats.Lost, DaemonLost):
                pass
        self.held = []
        c.sock.close()

    def run(self):
        where = "%s, stream %s" % (nats.WHERE, self.js.decode())
        told = False
        try:
            self.daemon.connect(self.signals)
            while True:
                try:
                    self.conn = nats.Conn(headers=True)
                    self.setup()
                    if told:
                        say("%s: consuming again" % where)
                        told = False
                    self.serve()
                except DaemonLost as e:
                    # Nothing more from the server until the daemon is
                    # back: what is unacknowledged comes again.
                    self.close(finish=False)
                    self.daemon.reconnect(e, self.signals)
                except nats.Lost as e:
                    self.close(finish=False)
                    if not told:
                        say("%s: %s; retrying every second" % (where, e))
                    told = True
                    self.signals.pause(1)
        except Stop:
            self.close(finish=True)
            return self.signals.status
        except Refused as e:
            say(str(e))
            return 6


def main():
    if len(sys.argv) != 3:
        print("usage: python3 examples/bridges/jetstream-to-stream.py "
              "JS_STREAM STREAM", file=sys.stderr)
        return 2
    return Bridge(sys.argv[1], sys.argv[2]).run()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The random subscribers of tests/stress/soak.sh, and the final accounting.

    soak.py chaos DIR SECONDS SEED SFCAT SOCK SFD_PID FEED_STOP
        For SECONDS, subscribers of stream "soak" join, leave (SIGTERM),
        stall (SIGSTOP, later SIGCONT), die (SIGKILL) and resume, at random
        (SEED).  Kinds:
            plain      sfcat --print-seq                  (evicted: exit 4/5)
            reconnect  sfcat --reconnect --print-seq
            skip       sfcat --reconnect --on-lag skip --print-seq
            state      sfcat --reconnect --print-seq --state FILE, restarted
                       with the same FILE after SIGKILL or SIGTERM
        The daemon's VmRSS is sampled every 5 s into DIR/rss.tsv.  Then
        every stopped one is continued, every state subscriber waiting to
        be restarted is restarted, FEED_STOP is created (the publisher ends
        with EOS) and each subscriber still running must print everything
        and exit 0.  What happened goes to DIR/subs.json.

    soak.py check DIR
        Account for every subscriber: the seqs it printed (DIR/S.I.out,
        each line "SEQ<tab>record SEQ") plus the gaps it reported on stderr
        (skipped, lost: no longer in the ring) must cover exactly the frames
        published during its life, from the seq sfd subscribed it at (sfd
        -v log) to the end of the stream when it saw EOS, to the first
        frame not received when evicted, or to what it had when it was
        killed; nothing printed twice except across a restart after SIGKILL
        (at-least-once), never across one after SIGTERM.  Every record must
        be the one published with that seq (DIR/published).  Then the RSS
        verdict: the largest sample of the last quarter may exceed that of
        the first quarter by at most SOAK_RSS_SLACK_KIB (default 10 MiB).
        Prints a summary; exit 1 on any failure.
"""

import collections
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

STREAM = "soak"
MAX_LIVE = 16
MIN_LIVE = 4
TICK = 0.25
KINDS = ["plain", "reconnect", "skip", "state"]


def say(msg):
    print("soak: " + msg, flush=True)


# --- chaos ------------------------------------------------------------------

class Sub:
    """One logical subscriber; a state subscriber may have several
    incarnations (processes)."""

    def __init__(self, sid, kind, d):
        self.sid = sid
        self.kind = kind
        self.dir = d
        self.incs = []          # dicts, see spawn()
        self.proc = None
        self.stopped_until = None
        self.restart_at = None
        self.done = False       # no process now, none to come

    def state_path(self):
        return os.path.join(self.dir, "%d.state" % self.sid)

    def spawn(self, sfcat, sock, now):
        args = [sfcat, "-s", sock, "--print-seq"]
        if self.kind != "plain":
            args.append("--reconnect")
        if self.kind == "skip":
            args += ["--on-lag", "skip"]
        state_existed = False
        if self.kind == "state":
            state_existed = os.path.exists(self.state_path())
            args += ["--state", self.state_path()]
        args.append(STREAM)
        i = len(self.incs) + 1
        base = os.path.join(self.dir, "%d.%d" % (self.sid, i))
        with open(base + ".out", "wb") as out, open(base + ".err", "wb") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err)
        self.incs.append({"inc": i, "pid": self.proc.pid, "start": now,
                          "end": None, "state_existed": state_existed,
                          "signal": None, "exit": None, "stalls": 0})
        self.restart_at = None

    def cur(self):
        return self.incs[-1]

    def running(self):
        return self.proc is not None

    def reap(self, now):
        """Note the exit of the current process, if it has ended."""
        if self.proc is None:
            return False
        rc = self.proc.poll()
        if rc is None:
            return False
        self.cur()["exit"] = rc
        self.cur()["end"] = now
        self.proc = None
        self.stopped_until = None
        if self.restart_at is None:
            self.done = True
        return True

    def signal(self, sig):
        self.cur()["signal"] = signal.Signals(sig).name
        try:
            os.kill(self.proc.pid, sig)
            if sig == signal.SIGTERM and self.stopped_until is not None:
                os.kill(self.proc.pid, signal.SIGCONT)
                self.stopped_until = None
        except ProcessLookupError:
            pass


def vmrss(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def chaos(d, seconds, seed, sfcat, sock, sfd_pid, feed_stop):
    rnd = random.Random(seed)
    subs = []

    def interrupted(sig, frame):
        # Take the subscribers along: none may outlive the run.
        for s in subs:
            if s.proc is not None:
                s.proc.kill()
        raise SystemExit("soak: interrupted by %s" % signal.Signals(sig).name)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    events = collections.Counter()
    rss = open(os.path.join(d, "rss.tsv"), "w")
    published = os.path.join(d, "published")
    pub_off = pub_count = 0
    t0 = time.monotonic()
    next_rss = 0.0
    next_status = 30.0

    def now():
        return time.monotonic() - t0

    def live():
        return [s for s in subs if s.running()]

    def count_published():
        nonlocal pub_off, pub_count
        try:
            with open(published, "rb") as f:
                f.seek(pub_off)
                b = f.read()
        except OSError:
            return pub_count
        # Whole lines only.
        k = b.rfind(b"\n") + 1
        pub_off += k
        pub_count += b.count(b"\n", 0, k)
        return pub_count

    def join():
        s = Sub(len(subs) + 1, rnd.choice(KINDS), d)
        subs.append(s)
        s.spawn(sfcat, sock, now())
        events["join"] += 1

    def sample():
        r = vmrss(sfd_pid)
        if r is None:
            raise SystemExit("soak: sfd (pid %d) is gone" % sfd_pid)
        rss.write("%.1f\t%d\n" % (now(), r))
        rss.flush()
        return r

    while now() < seconds:
        t = now()
        if t >= next_rss:
            rss_kb = sample()
            next_rss += 5.0
        if t >= next_status:
            next_status += 30.0
            lv = live()
            say("t=%3.0fs  subscribers running %2d (%d stopped), published "
                "%d, sfd VmRSS %d KiB" % (t, len(lv), sum(
                    1 for s in lv if s.stopped_until is not None),
                    count_published(), rss_kb))
        for s in subs:
            if s.reap(t):
                events["exit-%s-%s" % (s.kind, s.cur()["exit"])] += 1
            if s.stopped_until is not None and t >= s.stopped_until:
                os.kill(s.proc.pid, signal.SIGCONT)
                s.stopped_until = None
            if s.restart_at is not None and s.proc is None and \
                    t >= s.restart_at:
                s.spawn(sfcat, sock, t)
                events["restart"] += 1
        lv = live()
        running = [s for s in lv if s.stopped_until is None]
        if len(lv) < MIN_LIVE or (len(lv) < MAX_LIVE and rnd.random() < 0.08):
            join()
        r = rnd.random()
        if running and r < 0.03:
            s = rnd.choice(running)
            # Leave; a state subscriber often comes back from its file.
            if s.kind == "state" and rnd.random() < 0.5:
                s.restart_at = t + rnd.uniform(0.5, 20)
                events["leave-to-resume"] += 1
            else:
                events["leave"] += 1
            s.signal(signal.SIGTERM)
        elif running and r < 0.07:
            s = rnd.choice(running)
            long_stall = rnd.random() < 0.3
            s.stopped_until = t + (rnd.uniform(15, 80) if long_stall
                                   else rnd.uniform(0.5, 12))
            s.cur()["stalls"] += 1
            os.kill(s.proc.pid, signal.SIGSTOP)
            events["stall-long" if long_stall else "stall"] += 1
        elif lv and r < 0.09:
            s = rnd.choice(lv)
            if s.kind == "state":
                s.restart_at = t + (rnd.uniform(50, 70) if rnd.random() < 0.2
                                    else rnd.uniform(0.5, 20))
                events["kill-to-resume"] += 1
            else:
                events["kill"] += 1
            s.signal(signal.SIGKILL)
            s.stopped_until = None
        time.sleep(TICK)

    # The end: everyone running, then the end of the stream.
    t = now()
    say("t=%3.0fs  chaos over: continuing the stopped, restarting the "
        "waiting" % t)
    for s in subs:
        s.reap(t)
        if s.stopped_until is not None:
            os.kill(s.proc.pid, signal.SIGCONT)
            s.stopped_until = None
        if s.restart_at is not None and s.proc is None:
            s.spawn(sfcat, sock, t)
            events["restart"] += 1
    # Let the reconnecting ones come back (backoff is at most 5 s).
    end = time.monotonic() + 7
    while time.monotonic() < end:
        for s in subs:
            s.reap(now())
        time.sleep(TICK)
    sample()
    open(feed_stop, "w").close()
    say("t=%3.0fs  publisher stopped (EOS); waiting for %d subscribers"
        % (now(), len(live())))
    end = time.monotonic() + 60
    while live() and time.monotonic() < end:
        for s in subs:
            s.reap(now())
        time.sleep(TICK)
    for s in live():
        s.cur()["hung"] = True
        s.signal(signal.SIGKILL)
        s.proc.wait()
        s.reap(now())
    sample()
    rss.close()
    with open(os.path.join(d, "subs.json"), "w") as f:
        json.dump({"seconds": seconds, "seed": seed,
                   "events": dict(events),
                   "subs": [{"sid": s.sid, "kind": s.kind, "incs": s.incs}
                            for s in subs]}, f, indent=1)


# --- check ------------------------------------------------------------------

# sfd -v starts each line with the time: 2026-12-03T15:06:02.123Z
RE_SUB = re.compile(r"^\S+Z sfd: #\d+ pid=(\d+) .*: subscribed to %s at seq "
                    r"(\d+)$" % STREAM)
RE_SKIP = re.compile(r"^sfcat: skipped (\d+) frames \(seq (\d+)\.\.(\d+)\)$")
RE_LOST = re.compile(r"^sfcat: lost (\d+) frames \(seq (\d+)\.\.(\d+)\): "
                     r"no longer in the ring$")
# Cut off at the daemon's limits: the ring full, or past --max-lag for
# --lag-time.
SIZE = r"\d+(?:\.\d)? (?:byte|bytes|KiB|MiB|GiB|TiB|PiB|EiB)"
RE_EVICT = re.compile(r"^sfcat: evicted: (?:fell %s behind \(the ring is "
                      r"full\); first frame not received: seq (\d+); read "
                      r"faster, raise sfd --ring, publish with sfpipe "
                      r"--pace, or use --on-lag skip|stayed more than %s "
                      r"behind for over \d+ s \(sfd --max-lag, "
                      r"--lag-time\); first frame not received: seq (\d+); "
                      r"read faster or raise those limits)(; reconnecting)?$"
                      % (SIZE, SIZE))
# Without --reconnect, the last line of a plain one whose goodbye was not
# taken in time; with it, the line before each reconnection.  (sfd never
# shuts down during the soak.)
RE_EXPECTED = re.compile(r"^sfcat: lost connection to .*?(; reconnecting)?$")


def read_incarnation(d, sid, inc, records, errors):
    """Printed seqs (in order) and reported gaps of one process."""
    name = "%d.%d" % (sid, inc["inc"])
    with open(os.path.join(d, name + ".out"), "rb") as f:
        out = f.read()
    printed = []
    lines = out.split(b"\n")
    partial = lines.pop()          # after the last newline
    if partial and inc["signal"] != "SIGKILL":
        errors.append("%s: output ends in a partial line" % name)
    for ln in lines:
        seq, tab, rec = ln.partition(b"\t")
        try:
            n = int(seq)
        except ValueError:
            errors.append("%s: bad line %r" % (name, ln[:60]))
            continue
        if not tab or n >= len(records) or records[n] != rec:
            errors.append("%s: line for seq %d is not the record published "
                          "with that seq: %r" % (name, n, ln[:60]))
        printed.append(n)
    for a, b in zip(printed, printed[1:]):
        if b <= a:
            errors.append("%s: seq %d printed after %d" % (name, b, a))
            break
    gaps, evicted_at = [], None
    with open(os.path.join(d, name + ".err"), errors="replace") as f:
        for ln in f.read().splitlines():
            m = RE_SKIP.match(ln) or RE_LOST.match(ln)
            if m:
                k, a, b = map(int, m.groups())
                if b - a + 1 != k:
                    errors.append("%s: inconsistent gap: %s" % (name, ln))
                gaps.append((a, b + 1, "skipped" if m.re is RE_SKIP
                             else "lost"))
                continue
            m = RE_EVICT.match(ln)
            if m:
                if not m.group(3):
                    evicted_at = int(m.group(1) or m.group(2))
                continue
            if RE_EXPECTED.match(ln):
                continue
            errors.append("%s: unexpected message: %s" % (name, ln))
    return printed, gaps, evicted_at


def check(d):
    with open(os.path.join(d, "subs.json")) as f:
        run = json.load(f)
    with open(os.path.join(d, "published"), "rb") as f:
        records = f.read().split(b"\n")
    if records and records[-1] == b"":
        records.pop()
    final = len(records)
    subscribed = collections.defaultdict(list)
    log_counts = collections.Counter()
    with open(os.path.join(d, "sfd.log"), errors="replace") as f:
        for ln in f:
            ln = ln.rstrip("\n")
            m = RE_SUB.match(ln)
            if m:
                subscribed[int(m.group(1))].append(int(m.group(2)))
            for w in ("evicted", "skipped ahead", "discarded",
                      "closed: its unsent frame"):
                if w in ln:
                    log_counts[w] += 1

    errors = []
    totals = collections.Counter()
    ends = collections.Counter()
    lives = 0
    for s in run["subs"]:
        # A life: a fresh process and the ones that resumed from its state.
        life = []
        for inc in s["incs"]:
            if life and not inc["state_existed"]:
                errors += account(d, s, life, subscribed, records, final,
                                  totals, ends)
                lives += 1
                life = []
            life.append(inc)
        if life:
            errors += account(d, s, life, subscribed, records, final,
                              totals, ends)
            lives += 1

    ok = not errors
    ev = run["events"]
    say("---- summary " + "-" * 50)
    say("%d s, seed %d; %d frames published, ending with EOS"
        % (run["seconds"], run["seed"], final))
    say("subscribers: %d (%d lives, %d processes); kinds: %s" % (
        len(run["subs"]), lives, sum(len(s["incs"]) for s in run["subs"]),
        ", ".join("%s %d" % (k, sum(1 for s in run["subs"] if s["kind"] == k))
                  for k in KINDS)))
    say("events: %s" % ", ".join("%s %d" % kv for kv in sorted(ev.items())
                                 if not kv[0].startswith("exit-")))
    say("how lives ended: %s" % ", ".join("%s %d" % kv
                                         for kv in sorted(ends.items())))
    say("sfd logged: %s" % (", ".join("%s %d" % kv for kv in
                                     sorted(log_counts.items())) or "nothing"))
    say("frames accounted for: %d received + %d dropped = %d published "
        "during the subscribers' lives" % (totals["received"],
                                           totals["dropped"], totals["life"]))
    say("gaps reported: %d frames skipped (--on-lag skip), %d lost (no "
        "longer in the ring); %d printed again after a restart from SIGKILL "
        "(at-least-once)" % (totals["skipped"], totals["lost"],
                             totals["dups"]))

    samples = []
    with open(os.path.join(d, "rss.tsv")) as f:
        for ln in f:
            t, kb = ln.split()
            samples.append((float(t), int(kb)))
    q = max(1, len(samples) // 4)
    first = max(kb for _, kb in samples[:q])
    last = max(kb for _, kb in samples[-q:])
    slack = int(os.environ.get("SOAK_RSS_SLACK_KIB", 10240))
    step = max(1, len(samples) // 20)
    say("sfd VmRSS samples (s: KiB): " + ", ".join(
        "%.0f: %d" % smp for smp in samples[::step] + (
            [samples[-1]] if (len(samples) - 1) % step else [])))
    say("sfd VmRSS: first quarter max %d KiB, last quarter max %d KiB "
        "(growth %+d KiB, limit %d KiB)" % (first, last, last - first, slack))
    if last - first > slack:
        errors.append("sfd RSS grew by %d KiB" % (last - first))
        ok = False
    for e in errors[:40]:
        say("FAIL: " + e)
    if len(errors) > 40:
        say("FAIL: ... and %d more" % (len(errors) - 40))
    say("result: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def account(d, s, life, subscribed, records, final, totals, ends):
    """Check one life of a subscriber; returns the errors found.

    Within one process every frame after its first is printed once or
    reported dropped, in order.  Across a restart from the state file the
    new process starts where the old one's file said: exactly where it
    stopped after a SIGTERM; at or before it after a SIGKILL, so frames
    from the last second may come again (printed twice, or printed by the
    old process and reported lost by the new one) but none may be missing.
    """
    errors = []
    name = "subscriber %d (%s)" % (s["sid"], s["kind"])
    printed_all = set()
    gap_all = set()
    start = end = None
    last_next = None    # where the last process that subscribed got to
    exact = False       # and it ended by SIGTERM, nothing killed since
    how = None
    for inc in life:
        tag = "%s process %d" % (name, inc["inc"])
        printed, gaps, evicted_at = read_incarnation(d, s["sid"], inc,
                                                     records, errors)
        subs = subscribed.get(inc["pid"], [])
        if not subs:
            if printed or gaps:
                errors.append("%s printed without a logged subscribe" % tag)
            if inc["exit"] == 0:
                errors.append("%s exited 0 without subscribing" % tag)
            if inc["signal"] != "SIGTERM":
                exact = False
            continue
        first = min([subs[0]] + [a for a, _, _ in gaps])
        # How far it got: its next frame.
        nxt = max([subs[-1]] + [p + 1 for p in printed] +
                  [b for _, b, _ in gaps])
        if start is None:
            start = first
        if last_next is not None:
            if exact and first != last_next:
                errors.append("%s resumed at %d after a SIGTERM at %d"
                              % (tag, first, last_next))
            elif first > last_next:
                errors.append("%s resumed at %d, after %d: a silent gap"
                              % (tag, first, last_next))
            totals["dups"] += sum(1 for p in printed if p in printed_all)
        mine = set(printed)
        for a, b, kind in gaps:
            totals[kind] += b - a
            hit = next((p for p in range(a, b) if p in mine), None)
            if hit is not None:
                errors.append("%s printed seq %d and reported it dropped"
                              % (tag, hit))
            gap_all.update(range(a, b))
        printed_all |= mine
        last_next = nxt
        exact = inc["signal"] == "SIGTERM"
        rc = inc["exit"]
        if inc.get("hung"):
            errors.append("%s did not end after EOS" % tag)
            how = "hung"
            end = nxt
        elif rc == 0:
            how = "EOS"
            end = final
            if nxt != final:
                errors.append("%s exited 0 at seq %d, not at the end %d"
                              % (tag, nxt, final))
        elif rc == 4 and s["kind"] == "plain":
            how = "evicted"
            end = evicted_at if evicted_at is not None else nxt
            if evicted_at is None:
                errors.append("%s exited 4 without saying why" % tag)
        elif rc == 5 and s["kind"] == "plain" and inc["stalls"]:
            how = "evicted, goodbye not taken in time"
            end = nxt
        elif rc == 143 and inc["signal"] == "SIGTERM":
            how = "left"
            end = nxt
        elif rc == -9 and inc["signal"] == "SIGKILL":
            how = "killed"
            end = nxt
        else:
            errors.append("%s exited %s (signal sent: %s)"
                          % (tag, rc, inc["signal"]))
            how = "exit %s" % rc
            end = nxt
    if start is None:
        ends["never subscribed"] += 1
        return errors
    ends[how] += 1
    # Every frame of its life printed or reported dropped; nothing else.
    dropped_set = gap_all - printed_all
    holes = sum(1 for p in range(start, end)
                if p not in printed_all and p not in dropped_set)
    if holes:
        first_hole = next(p for p in range(start, end)
                          if p not in printed_all and p not in dropped_set)
        errors.append("%s: %d frames of its life (seq %d..%d) neither "
                      "printed nor reported dropped, the first seq %d"
                      % (name, holes, start, end - 1, first_hole))
    outside = sum(1 for p in printed_all | gap_all if p < start or p >= end)
    if outside:
        errors.append("%s: %d seqs printed or reported outside its life "
                      "(seq %d..%d)" % (name, outside, start, end - 1))
    received = len(printed_all)
    dropped = len(dropped_set)
    if received + dropped != end - start:
        errors.append("%s: %d received + %d dropped != %d published during "
                      "its life" % (name, received, dropped, end - start))
    totals["received"] += received
    totals["dropped"] += dropped
    totals["life"] += end - start
    return errors


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    if argv[1] == "chaos":
        a = argv[2:]
        chaos(a[0], float(a[1]), int(a[2]), a[3], a[4], int(a[5]), a[6])
    elif argv[1] == "check":
        sys.exit(check(argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

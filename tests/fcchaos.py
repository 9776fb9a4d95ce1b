#!/usr/bin/env python3
"""Chaos and delivery drivers for the robustness tests (bats/robust_*.bats)
and the soak (tests/soak). One process drives many clients of both
dialects with a selector loop and checks delivery invariants:

  fcchaos.py lost  --ok P --num P --ctl SOCK [--senders 4] [--receivers 30]
                   [--messages 1000]
      senders on different workers (placed through the status socket), many
      receivers; every message that got OK must reach every recipient that
      was connected, in each sender's order, exactly once.

  fcchaos.py storm --ok P --num P --ctl SOCK --safe 0,1 --targets 2,3,4
                   [--kills 30] [--lanes 12] [--seconds 60]
      persistent clients live on the safe workers; churn clients (log in,
      chat, quit) land anywhere; the killer SIGKILLs random target workers
      (each at least 1.1 s after it came up, to stay clear of the respawn
      backoff). At the end: no ghost users (USERS, status users, users json,
      `check`), every name re-claimable, no message lost to the persistent
      clients from any sender whose worker was not killed during its
      session, no reordering or duplicates anywhere, daemon alive.

  fcchaos.py soak  --daemon PATH --seconds N [--workers 5]
      starts its own daemon, then runs storm-like load for N seconds with a
      kill every 1-4 s (plus broadcast bursts and, with --slow-readers,
      clients that never read); prints the figures and the violations.

Output: "KEY=VALUE ..." summary on the last line of stdout ("RESULT ...");
exit status 0 when every invariant held, 1 otherwise. Every wait has a
deadline.
"""
import argparse
import json
import os
import random
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time

NAME_OK = re.compile(r"^[A-Za-z0-9_]{3,14}$")


def now():
    return time.monotonic()


def log(*a):
    sys.stderr.write("fcchaos: " + " ".join(str(x) for x in a) + "\n")
    sys.stderr.flush()


class Ctl:
    def __init__(self, path):
        self.path = path

    def query(self, req, timeout=3.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.path)
            s.sendall(req.encode() + b"\n")
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
            return out.decode(errors="replace")
        finally:
            s.close()

    def status(self):
        return json.loads(self.query("status json"))

    def users(self):
        return json.loads(self.query("users json"))

    def check(self):
        return self.query("check").strip()


def rss_kb(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class World:
    """Everything the invariants need: who sent what, who got what."""

    def __init__(self):
        self.sid = 0
        self.sessions = {}       # sid -> Client
        self.order_violations = 0
        self.corrupt = 0
        self.violations = []
        self.delivered = 0

    def violation(self, msg):
        self.order_violations += 1
        if len(self.violations) < 20:
            self.violations.append(msg)


class Client:
    def __init__(self, world, sel, port, name, dialect, persistent=False):
        self.w = world
        world.sid += 1
        self.sid = world.sid
        world.sessions[self.sid] = self
        self.sel = sel
        self.name = name
        self.dialect = dialect
        self.persistent = persistent
        self.rbuf = b""
        self.wbuf = b""
        self.pending = []        # (kind, seq, target) per command sent
        self.state = "connecting"
        self.seq = 0
        self.ok = []             # (seq, target) OK'd, target None = all
        self.ok_at = []
        self.got = {}            # sender sid -> [seqs]
        self.closed = False
        self.dropped = False     # closed by the server unasked
        self.quit_sent = False
        self.login_at = None
        self.logout_at = None
        self.slot = None
        self.login_failed = None
        self.users_reply = None
        self.errors = []
        self.lines_in = 0
        self.no_read = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(5)
        self.sock.connect(("127.0.0.1", port))
        self.sock.setblocking(False)
        sel.register(self.sock, selectors.EVENT_READ, self)
        if dialect == "numeric":
            self.send(f"USER {name}", ("login", None, None))
            self.state = "login"

    # -- output --
    def send(self, line, pend=None):
        if self.closed:
            return
        self.wbuf += line.encode() + b"\n"
        if pend is not None:
            self.pending.append(pend)
        self.flush()

    def flush(self):
        if self.closed or not self.wbuf:
            return
        try:
            n = self.sock.send(self.wbuf)
            self.wbuf = self.wbuf[n:]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.on_close()
            return
        ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if self.wbuf else 0)
        if self.no_read:
            ev = selectors.EVENT_WRITE if self.wbuf else 0
        try:
            if ev:
                self.sel.modify(self.sock, ev, self)
            else:
                self.sel.unregister(self.sock)
        except (KeyError, ValueError):
            pass

    def outstanding(self):
        return len(self.pending)

    def live(self):
        return self.state == "live" and not self.closed

    def chat(self, target=None):
        """Send one message: BCST (okfail, target None) or PM/PRIV."""
        self.seq += 1
        text = f"m{self.sid}.{self.seq} x"
        if target is None:
            assert self.dialect == "okfail"
            self.send(f"BCST {text}", ("msg", self.seq, None))
        elif self.dialect == "okfail":
            self.send(f"PM {target} {text}", ("msg", self.seq, target))
        else:
            self.send(f"PRIV {target} {text}", ("msg", self.seq, target))

    def quit(self):
        if self.closed or self.quit_sent:
            return
        self.quit_sent = True
        if self.dialect == "okfail":
            self.send("QUIT", ("quit", None, None))
        else:
            self.send("QUIT")

    def stop_reading(self):
        self.no_read = True
        try:
            self.sel.unregister(self.sock)
        except (KeyError, ValueError):
            pass

    # -- input --
    def on_readable(self):
        try:
            b = self.sock.recv(262144)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            b = b""
        if not b:
            self.on_close()
            return
        self.rbuf += b
        while True:
            i = self.rbuf.find(b"\n")
            if i < 0:
                break
            line = self.rbuf[:i].rstrip(b"\r").decode(errors="replace")
            self.rbuf = self.rbuf[i + 1:]
            self.on_line(line)

    def on_close(self):
        if self.closed:
            return
        self.closed = True
        self.logout_at = now()
        if not self.quit_sent:
            self.dropped = True
        try:
            self.sel.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        self.sock.close()

    def is_reply(self, line):
        if self.dialect == "okfail":
            return line.startswith("OK ") or line.startswith("FAIL")
        return len(line) >= 3 and line[:3].isdigit() and line[0] in "23456"

    def on_line(self, line):
        self.lines_in += 1
        if self.dialect == "okfail" and self.state == "connecting":
            if line == "INIT Welcome to the server!":
                self.state = "login"
                self.send(f"IDENT {self.name}", ("login", None, None))
                return
        if line == "PING":
            self.send("PONG")
            return
        if self.is_reply(line):
            if not self.pending:
                self.errors.append("unexpected reply: " + line)
                return
            kind, seq, target = self.pending.pop(0)
            good = line.startswith("OK ") or line.startswith("200")
            if kind == "login":
                if good:
                    self.state = "live"
                    self.login_at = now()
                else:
                    self.login_failed = line
                    self.state = "failed"
            elif kind == "msg":
                if good:
                    self.ok.append((seq, target))
                    self.ok_at.append(now())
                else:
                    self.errors.append(line)
            elif kind == "users":
                self.users_reply = line
            return
        self.on_delivery(line)

    def on_delivery(self, line):
        parts = line.split(" ", 2)
        if self.dialect == "okfail":
            if parts[0] in ("BCST", "NPM") and len(parts) == 3:
                return self.record(parts[1], parts[2])
            if parts[0] in ("JOINED", "LEFT", "PM_PUBKEY", "DSCN"):
                return
        else:
            if parts[0] in ("703", "701") and len(parts) == 3:
                return self.record(parts[1], parts[2])
            if parts[0] in ("710", "711", "712", "713") or parts[0].startswith("9"):
                return
        self.w.corrupt += 1
        if len(self.w.violations) < 20:
            self.w.violations.append(f"{self.name}: odd line {line[:80]!r}")

    def record(self, sender, text):
        m = re.match(r"^m(\d+)\.(\d+) x$", text)
        if not m:
            if text.startswith("burst "):
                return
            self.w.corrupt += 1
            if len(self.w.violations) < 20:
                self.w.violations.append(f"{self.name}: odd text from {sender}: {text[:60]!r}")
            return
        sid, seq = int(m.group(1)), int(m.group(2))
        self.w.delivered += 1
        src = self.w.sessions.get(sid)
        if src is None or src.name != sender:
            self.w.violation(f"{self.name}: message m{sid}.{seq} claims sender {sender}")
            return
        got = self.got.setdefault(sid, [])
        if got and seq <= got[-1]:
            self.w.violation(f"{self.name}: from {sender}(s{sid}) seq {seq} after {got[-1]}")
        got.append(seq)


class Driver:
    def __init__(self, a):
        self.a = a
        self.sel = selectors.DefaultSelector()
        self.world = World()
        self.ctl = Ctl(a.ctl) if a.ctl else None
        self.rng = random.Random(a.seed)
        self.kills = 0
        self.kill_times = {}      # slot -> [times]
        self.pid_seen = {}        # pid -> first seen
        self.rss_base = 0
        self.rss_max = 0
        self.status_cache = None
        self.last_rss = 0
        self.master_pid = None

    # -- loop --
    def pump(self, t=0.01):
        for key, ev in self.sel.select(timeout=t):
            c = key.data
            if ev & selectors.EVENT_WRITE:
                c.flush()
            if ev & selectors.EVENT_READ and not c.closed:
                c.on_readable()

    def until(self, cond, secs, what):
        deadline = now() + secs
        while not cond():
            if now() > deadline:
                raise TimeoutError(what)
            self.pump(0.01)
            self.tick()

    def tick(self):
        pass

    def sample_rss(self, force=False):
        if not force and now() - self.last_rss < 0.25:
            return
        self.last_rss = now()
        try:
            st = self.ctl.status()
        except (OSError, ValueError):
            return
        self.status_cache = st
        pids = [st["pid"]] + [w["pid"] for w in st["workers"] if w["pid"]]
        for p in pids:
            self.pid_seen.setdefault(p, now())
        kb = rss_kb(pids)
        self.rss_max = max(self.rss_max, kb)
        return kb

    # -- placement --
    def place(self, name, dialect, port, slots, tries=80):
        """Log NAME in on one of SLOTS (retry until the kernel puts it
        there). Returns the client."""
        for _ in range(tries):
            c = Client(self.world, self.sel, port, name, dialect, persistent=True)
            self.until(lambda: c.state in ("live", "failed") or c.closed, 10,
                       f"login of {name}")
            if c.state != "live":
                raise RuntimeError(f"login of {name} failed: {c.login_failed}")
            slot = self.slot_of(name)
            if slot in slots:
                c.slot = slot
                return c
            c.quit()
            self.until(lambda: c.closed, 10, f"quit of {name}")
            # the name is free once the worker processed the close
            self.until(lambda: self.slot_of(name) is None, 10, f"{name} freed")
        raise RuntimeError(f"{name} never landed on workers {slots}")

    def slot_of(self, name):
        for u in self.ctl.users():
            if u["name"] == name:
                return u["worker"]
        return None

    # -- invariants --
    def check_delivery(self, receivers, strict_senders, all_senders):
        """Every OK'd message of a strict sender reached every receiver that
        was logged in before it was sent (target filtered). Returns the
        number missing; order is checked on arrival."""
        missing = 0
        for r in receivers:
            for s in strict_senders:
                if s is r:
                    continue
                exp = [seq for (seq, tgt), at in zip(s.ok, s.ok_at)
                       if (tgt is None or tgt == r.name) and
                       r.login_at is not None and at >= r.login_at]
                got = set(r.got.get(s.sid, []))
                miss = [q for q in exp if q not in got]
                if miss:
                    missing += len(miss)
                    if len(self.world.violations) < 20:
                        self.world.violations.append(
                            f"{r.name} missed {len(miss)} of {len(exp)} from "
                            f"{s.name}(s{s.sid}) e.g. {miss[:3]}")
        return missing

    def wait_delivered(self, receivers, strict_senders, secs=10):
        deadline = now() + secs
        while now() < deadline:
            pending = False
            for r in receivers:
                for s in strict_senders:
                    if s is r or not s.ok:
                        continue
                    exp = [seq for seq, tgt in s.ok if tgt is None or tgt == r.name]
                    if exp and (not r.got.get(s.sid) or r.got[s.sid][-1] < exp[-1]):
                        pending = True
                        break
                if pending:
                    break
            if not pending:
                return
            self.pump(0.02)


# ---------------------------------------------------------------- lost ----

def run_lost(a):
    d = Driver(a)
    nw = len(d.ctl.status()["workers"])
    senders = []
    for i in range(a.senders):
        dialect = "numeric" if i == a.senders - 1 and a.senders > 1 else "okfail"
        port = a.num if dialect == "numeric" else a.ok
        senders.append(d.place(f"snd{i}", dialect, port, {i % nw}))
    receivers = []
    for i in range(a.receivers):
        dialect = "numeric" if i % 3 == 2 else "okfail"
        c = Client(d.world, d.sel, a.num if dialect == "numeric" else a.ok,
                   f"rcv{i}", dialect)
        receivers.append(c)
    d.until(lambda: all(c.live() for c in receivers), 20, "receivers login")
    d.sample_rss(force=True)
    d.rss_base = d.rss_max
    names = [r.name for r in receivers]
    t0 = now()
    window = 8
    while any(s.seq < a.messages for s in senders):
        for s in senders:
            while s.seq < a.messages and s.outstanding() < window:
                if s.dialect == "okfail" and d.rng.random() < 0.8:
                    s.chat(None)
                else:
                    s.chat(d.rng.choice(names))
        d.pump(0.005)
        d.sample_rss()
        if now() - t0 > a.seconds:
            break
    d.until(lambda: all(s.outstanding() == 0 for s in senders), 20, "senders' replies")
    everyone = senders + receivers
    d.wait_delivered(everyone, senders, 20)
    missing = d.check_delivery(everyone, senders, senders)
    dropped = [c.name for c in everyone if c.closed]
    sent_ok = sum(len(s.ok) for s in senders)
    errs = sum(len(s.errors) for s in senders)
    for v in d.world.violations:
        log(v)
    ok = (missing == 0 and d.world.order_violations == 0 and
          d.world.corrupt == 0 and not dropped and errs == 0 and
          sent_ok == a.senders * a.messages)
    print(f"RESULT ok={int(ok)} senders={len(senders)} receivers={len(receivers)} "
          f"sent_ok={sent_ok} errors={errs} delivered={d.world.delivered} "
          f"missing={missing} order_violations={d.world.order_violations} "
          f"corrupt={d.world.corrupt} dropped={len(dropped)} "
          f"rss_base={d.rss_base} rss_max={d.rss_max} elapsed={now() - t0:.2f}")
    return 0 if ok else 1


# --------------------------------------------------------------- storm ----

class Lane:
    def __init__(self, idx):
        self.idx = idx
        self.client = None
        self.n = 0
        self.todo = 0
        self.next_at = 0.0


def run_storm(a, soak=False):
    d = Driver(a)
    safe = {int(x) for x in a.safe.split(",")}
    targets = [int(x) for x in a.targets.split(",")]
    persist = []
    for i in range(a.persistent):
        dialect = "numeric" if i % 3 == 2 else "okfail"
        port = a.num if dialect == "numeric" else a.ok
        persist.append(d.place(f"per{i}", dialect, port, safe))
    pnames = [p.name for p in persist]
    d.sample_rss(force=True)
    d.rss_base = d.rss_max
    lanes = [Lane(i) for i in range(a.lanes)]
    used_names = set()
    sessions = []           # churn clients
    t0 = now()
    next_kill = t0 + 0.5
    next_chat = t0
    next_burst = t0 + 5
    slow = []
    logins = 0
    login_fail = 0
    burst_no = 0

    def slot_killed_during(slot, start, end):
        for t in d.kill_times.get(slot, []):
            if start - 0.05 <= t <= end + 1.0:
                return True
        return False

    def killer():
        nonlocal next_kill
        if now() < next_kill:
            return
        if not soak and d.kills >= a.kills:
            return
        st = d.status_cache
        if st is None:
            return
        cands = []
        for w in st["workers"]:
            if w["slot"] in targets and w["up"] and w["pid"]:
                seen = d.pid_seen.get(w["pid"], now())
                if now() - seen >= 1.1:
                    cands.append(w)
        if not cands:
            return
        w = d.rng.choice(cands)
        try:
            os.kill(w["pid"], signal.SIGKILL)
        except ProcessLookupError:
            return
        d.kills += 1
        d.kill_times.setdefault(w["slot"], []).append(now())
        d.status_cache = None
        if soak:
            next_kill = now() + d.rng.uniform(a.kill_min, a.kill_max)
        else:
            next_kill = now() + 0.1

    def lane_step(ln):
        nonlocal logins, login_fail
        c = ln.client
        if c is None:
            if now() < ln.next_at:
                return
            dialect = "numeric" if d.rng.random() < 0.35 else "okfail"
            name = f"c{ln.idx}n{ln.n % 6}"
            ln.n += 1
            used_names.add(name)
            ln.client = Client(d.world, d.sel, a.num if dialect == "numeric" else a.ok,
                               name, dialect)
            ln.todo = d.rng.randint(2, 12)
            sessions.append(ln.client)
            return
        if c.closed:
            if c.login_at is not None:
                logins += 1
            ln.client = None
            ln.next_at = now() + d.rng.uniform(0, 0.05)
            return
        if c.state == "failed":
            if not c.quit_sent:
                login_fail += 1
            c.quit()
            return
        if not c.live() or c.quit_sent:
            return
        if c.slot is None:
            c.slot = d.slot_of(c.name)
            if c.slot is None:
                c.slot = -1
        if c.outstanding() >= 3:
            return
        if ln.todo > 0:
            ln.todo -= 1
            if c.dialect == "okfail" and d.rng.random() < 0.6:
                c.chat(None)
            else:
                c.chat(d.rng.choice(pnames))
        elif c.outstanding() == 0:
            c.quit()

    deadline = t0 + a.seconds
    while True:
        t = now()
        if not soak and d.kills >= a.kills and t - t0 > 2:
            break
        if t > deadline:
            if not soak:
                log("storm: time is up before all kills happened")
            break
        d.sample_rss()
        killer()
        for ln in lanes:
            lane_step(ln)
        if t >= next_chat:
            next_chat = t + 0.02
            p = d.rng.choice(persist)
            if p.live() and p.outstanding() < 4:
                if p.dialect == "okfail" and d.rng.random() < 0.5:
                    p.chat(None)
                else:
                    p.chat(d.rng.choice([n for n in pnames if n != p.name]))
        if soak and t >= next_burst:
            next_burst = t + d.rng.uniform(5, 15)
            burst_no += 1
            p = persist[0]
            if p.live() and p.outstanding() == 0:
                # a burst of broadcasts (load; not sequence checked)
                for i in range(200):
                    p.send(f"BCST burst {burst_no} {i} " + "y" * 150, ("burst", None, None))
            if a.slow_readers and d.rng.random() < 0.5:
                s = Client(d.world, d.sel, a.ok, f"slow{burst_no}", "okfail")
                slow.append((s, now()))
        for s, at in slow:
            if s.live() and not s.no_read:
                s.stop_reading()
        d.pump(0.005)

    # wind down: churners quit, the killer stops
    churn_end = now()
    for ln in lanes:
        if ln.client and not ln.client.closed:
            c = ln.client
            if c.state == "live" and not c.quit_sent:
                d.until(lambda: c.outstanding() == 0 or c.closed, 10, "churn replies")
                c.quit()
            elif not c.quit_sent:
                c.quit()
    for s, _ in slow:
        if not s.closed:
            s.quit_sent = True
            s.on_close()
    for c in sessions:
        if not c.closed and c.state in ("connecting",):
            c.quit_sent = True
            c.on_close()
    try:
        d.until(lambda: all(c.closed for c in sessions), 15, "churners closed")
    except TimeoutError:
        log("churners still open:", [c.name for c in sessions if not c.closed][:10])
        for c in sessions:
            if not c.closed:
                c.quit_sent = True
                c.on_close()
    d.until(lambda: all(p.outstanding() == 0 for p in persist), 10, "persistent replies")

    # the daemon settles: every worker up, nobody but the persistent users
    def settled():
        try:
            st = d.ctl.status()
        except (OSError, ValueError):
            return False
        return all(w["up"] for w in st["workers"]) and st["users"] == len(persist)
    settle_ok = True
    try:
        d.until(settled, 10, "users count back to the persistent ones")
    except TimeoutError:
        settle_ok = False
    st = d.ctl.status()
    d.sample_rss(force=True)
    alive = True
    try:
        os.kill(st["pid"], 0)
    except OSError:
        alive = False
    problems = []
    if not settle_ok:
        problems.append(f"status users={st['users']} but {len(persist)} connected")
    unames = sorted(u["name"] for u in d.ctl.users())
    if unames != sorted(pnames):
        problems.append(f"users json {unames} != {sorted(pnames)}")
    chk = d.ctl.check()
    if chk != "ok":
        problems.append(f"registry check: {chk}")
    # USERS from a persistent okfail client
    asker = next(p for p in persist if p.dialect == "okfail")
    asker.send("USERS", ("users", None, None))
    d.until(lambda: asker.users_reply is not None, 10, "USERS reply")
    if not asker.users_reply.startswith("OK USERS "):
        problems.append(f"USERS: {asker.users_reply}")
    else:
        listed = sorted(asker.users_reply[len("OK USERS "):].split(":"))
        if listed != sorted(pnames):
            problems.append(f"USERS lists {listed}, connected {sorted(pnames)}")
    # every churn name can be claimed again, at once
    reclaim = []
    names = sorted(used_names)
    for i, n in enumerate(names):
        dialect = "numeric" if i % 2 else "okfail"
        reclaim.append(Client(d.world, d.sel, a.num if dialect == "numeric" else a.ok,
                              n, dialect))
    try:
        d.until(lambda: all(c.state in ("live", "failed") or c.closed for c in reclaim),
                15, "re-claim logins")
    except TimeoutError:
        pass
    not_reclaimed = [c.name for c in reclaim if c.state != "live"]
    if not_reclaimed:
        problems.append(f"names not re-claimable: {not_reclaimed[:10]} "
                        f"({[c.login_failed for c in reclaim if c.state != 'live'][:3]})")
    for c in reclaim:
        c.quit()
    try:
        d.until(lambda: all(c.closed for c in reclaim), 10, "re-claimers closed")
    except TimeoutError:
        problems.append("re-claim connections not closed after QUIT")

    # delivery: strict senders = persistent ones, and churners that ended by
    # their own QUIT on a worker not killed during their session
    strict, loose = list(persist), []
    for c in sessions:
        if not c.ok:
            continue
        if (not c.dropped and c.login_at is not None and c.slot is not None and
                c.slot >= 0 and not slot_killed_during(c.slot, c.login_at, c.logout_at or now())):
            strict.append(c)
        else:
            loose.append(c)
    d.wait_delivered(persist, strict, 15)
    missing = d.check_delivery(persist, strict, strict + loose)
    lost_loose = 0
    for r in persist:
        for s in loose:
            exp = [q for q, tgt in s.ok if tgt is None or tgt == r.name]
            got = set(r.got.get(s.sid, []))
            lost_loose += sum(1 for q in exp if q not in got)
    pdropped = [p.name for p in persist if p.closed]
    if pdropped:
        problems.append(f"persistent clients dropped: {pdropped}")
    if not alive:
        problems.append("daemon dead")
    rss_growth = d.rss_max - d.rss_base
    if rss_growth > a.rss_limit_kb:
        problems.append(f"RSS grew {rss_growth} KiB > {a.rss_limit_kb}")
    if d.world.order_violations:
        problems.append(f"{d.world.order_violations} order violations")
    if d.world.corrupt:
        problems.append(f"{d.world.corrupt} corrupt lines")
    if missing:
        problems.append(f"{missing} OK'd messages missing")
    if not soak and d.kills < a.kills:
        problems.append(f"only {d.kills} kills")
    for v in d.world.violations:
        log(v)
    for p in problems:
        log("PROBLEM:", p)
    msgs_ok = sum(len(c.ok) for c in d.world.sessions.values())
    restarts = sum(w["restarts"] for w in st["workers"])
    print(f"RESULT ok={int(not problems)} seconds={now() - t0:.1f} kills={d.kills} "
          f"restarts={restarts} logins={logins} login_fail={login_fail} "
          f"sessions={len(sessions)} msgs_ok={msgs_ok} delivered={d.world.delivered} "
          f"strict_senders={len(strict)} missing={missing} lost_on_killed={lost_loose} "
          f"order_violations={d.world.order_violations} corrupt={d.world.corrupt} "
          f"rss_base={d.rss_base} rss_max={d.rss_max} "
          f"lock_takeovers={st.get('lock_takeovers')} problems={len(problems)}")
    return 0 if not problems else 1


# ---------------------------------------------------------------- soak ----

def start_daemon(a):
    tmp = tempfile.mkdtemp(prefix="fcsoak.")
    ctl = os.path.join(tmp, "ctl.sock")
    logf = open(os.path.join(tmp, "daemon.log"), "w")
    p = subprocess.Popen([a.daemon, "-f", "-w", str(a.workers),
                          "-l", "okfail=127.0.0.1:0", "-l", "numeric=127.0.0.1:0",
                          "--control-socket", ctl,
                          "--pidfile", os.path.join(tmp, "pid"),
                          # a load test sets its own limits
                          "--flood-rate", "0", "--max-per-ip", "0"],
                         stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = now() + 15
    ok = num = None
    while now() < deadline:
        txt = open(os.path.join(tmp, "daemon.log")).read()
        m1 = re.search(r"listening dialect=okfail addr=[^ ]*:(\d+) ", txt)
        m2 = re.search(r"listening dialect=numeric addr=[^ ]*:(\d+) ", txt)
        if m1 and m2 and os.path.exists(os.path.join(tmp, "pid")) and \
                os.path.getsize(os.path.join(tmp, "pid")) > 0:
            ok, num = int(m1.group(1)), int(m2.group(1))
            break
        if p.poll() is not None:
            break
        time.sleep(0.05)
    if ok is None:
        p.kill()
        raise RuntimeError("daemon did not start; log in " + tmp)
    return p, tmp, ctl, ok, num


def run_soak(a):
    p, tmp, ctl, ok, num = start_daemon(a)
    log(f"soak: daemon pid {p.pid}, log {tmp}/daemon.log, {a.seconds}s")
    a.ctl, a.ok, a.num = ctl, ok, num
    rc = 1
    try:
        rc = run_storm(a, soak=True)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            code = p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            code = "killed"
        log(f"soak: daemon exit status {code}")
        if code != 0:
            rc = 1
    return rc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["lost", "storm", "soak"])
    ap.add_argument("--ok", type=int)
    ap.add_argument("--num", type=int)
    ap.add_argument("--ctl")
    ap.add_argument("--daemon")
    ap.add_argument("--workers", type=int, default=5)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--receivers", type=int, default=30)
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--persistent", type=int, default=6)
    ap.add_argument("--safe", default="0,1")
    ap.add_argument("--targets", default="2,3,4")
    ap.add_argument("--kills", type=int, default=30)
    ap.add_argument("--kill-min", type=float, default=1.0)
    ap.add_argument("--kill-max", type=float, default=4.0)
    ap.add_argument("--lanes", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rss-limit-kb", type=int, default=64 * 1024)
    ap.add_argument("--slow-readers", action="store_true")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    if a.seed is None:
        a.seed = int(time.time())
    log(f"seed {a.seed}")
    if a.mode == "lost":
        return run_lost(a)
    if a.mode == "storm":
        return run_storm(a)
    return run_soak(a)


if __name__ == "__main__":
    sys.exit(main())

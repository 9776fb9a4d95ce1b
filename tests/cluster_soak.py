#!/usr/bin/env python3
"""Cluster soak (docs/CLUSTER.md): a redis-server and 3 forkchatd nodes of
2 workers on free loopback ports, for SECONDS seconds:

  - steady okfail users on n1 and n2 send numbered BCSTs and PMs (to a
    user of the other steady node) and check every line they receive;
  - churn users log in and out on n3, which is killed with SIGKILL at
    random and started again; pairs of logins of one name race on n1
    and n3;
  - once, Redis is killed and started again empty (senders pause around
    it: messages sent while Redis is away do not leave their node).

Checked at the end: every message that got its OK from a steady sender
reached every steady receiver in the sender's order (0 lost, 0
reordered), no name was ever held by two nodes at once (the races had
one winner each, and no name is local on two nodes in any sample), the
steady nodes' memory did not grow (RSS after warm-up vs at the end).
A send refused with FAIL17 (cluster.pm-down: the bus was down) is not owed
and counted as refused; the losses the steady nodes' links detected and
logged ('message(s) ... lost') are counted as bus_lost_logged.

  tests/cluster_soak.py [SECONDS]      prints RESULT ..., exits 0 when every
                                      invariant held
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAEMON = os.environ.get("FORKCHATD", os.path.join(ROOT, "bin", "forkchatd"))
TTL = 2


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Redis:
    def __init__(self, tmp):
        self.port, self.tmp, self.proc = free_port(), tmp, None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"],
                              capture_output=True, text=True).stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise SystemExit("soak: redis-server did not start")

    def kill(self):
        self.proc.kill()
        self.proc.wait()


class Node:
    def __init__(self, name, redis, tmp):
        self.name, self.redis, self.tmp = name, redis, tmp
        self.log = os.path.join(tmp, name + ".log")
        self.ctl = os.path.join(tmp, name + ".sock")
        self.proc = None
        self.ok = self.num = None

    def start(self):
        open(self.log, "a").write("--- start\n")
        self.proc = subprocess.Popen(
            [DAEMON, "-f", "-w", "2", "-l", "okfail=127.0.0.1:0",
             "-l", "numeric=127.0.0.1:0", "--control-socket", self.ctl,
             "--cluster", "redis://127.0.0.1:%d" % self.redis.port,
             "--node-id", self.name, "--cluster-ttl", str(TTL),
             "--ping-interval", "3600", "--flood-rate", "0",
             "--max-per-ip", "0", "--login-timeout", "0",
             "--spool-dir", os.path.join(self.tmp, self.name + "-spool")],
            stdout=subprocess.DEVNULL, stderr=open(self.log, "a"))
        self.wait_log("cluster: in sync", 15)
        text = self.text()
        self.ok = int(text.split("dialect=okfail addr=127.0.0.1:")[-1].split()[0])
        self.num = int(text.split("dialect=numeric addr=127.0.0.1:")[-1].split()[0])

    def text(self):
        t = open(self.log).read()
        return t[t.rfind("--- start"):]

    def wait_log(self, what, secs, count=1):
        deadline = time.time() + secs
        while time.time() < deadline:
            if self.text().count(what) >= count:
                return
            time.sleep(0.05)
        raise SystemExit("soak: node %s: no '%s' in its log" % (self.name, what))

    def pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True,
                             text=True).stdout.split()
        return [self.proc.pid] + [int(p) for p in out]

    def rss_kb(self):
        total = 0
        for p in self.pids():
            try:
                for line in open("/proc/%d/status" % p):
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total

    def local_users(self):
        out = subprocess.run([DAEMON, "status", "--users", "-S", self.ctl],
                             capture_output=True, text=True).stdout
        try:
            return {u["name"] for u in json.loads(out) if u["worker"] < 2}
        except ValueError:
            return set()

    def kill(self):
        for p in self.pids():
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()


class Client:
    """One okfail connection; a reader thread hands every line to on_line."""

    def __init__(self, port, name, on_line=None):
        self.name, self.on_line = name, on_line
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.sock.makefile("rb")
        self.lock = threading.Lock()
        self.first = self.readline()
        self.sock.sendall(("IDENT %s\n" % name).encode())
        self.login = self.readline()
        self.closed = False
        if on_line:
            threading.Thread(target=self.reader, daemon=True).start()

    def readline(self):
        return self.f.readline().decode(errors="replace").rstrip("\r\n")

    def reader(self):
        while True:
            try:
                line = self.readline()
            except OSError:
                line = ""
            if not line:
                self.closed = True
                return
            self.on_line(self, line)

    def send(self, line):
        with self.lock:
            self.sock.sendall((line + "\n").encode())

    def close(self):
        try:
            self.sock.close()
            self.f.close()
        except OSError:
            pass


class Steady:
    """The checked traffic between steady users of n1 and n2."""

    def __init__(self):
        self.lock = threading.Lock()
        self.oked = {}   # (sender, kind) -> seqs that got OK
        self.got = {}    # (receiver, sender, kind) -> seqs in arrival order
        self.pending = {}  # sender -> kinds of sends awaiting OK, in order
        self.refused = 0

    def on_line(self, c, line):
        w = line.split(" ", 3)
        with self.lock:
            if w[0] == "OK" and len(w) > 2 and w[1] in ("BCST", "PM"):
                kind, seq = self.pending[c.name].pop(0)
                self.oked.setdefault((c.name, kind), []).append(seq)
            elif w[0] == "FAIL17":  # refused (cluster.pm-down): not owed
                self.pending[c.name].pop(0)
                self.refused += 1
            elif w[0] == "BCST" and len(w) >= 3 and w[2].startswith("s:"):
                self.got.setdefault((c.name, w[1], "B"), []).append(int(w[2][2:]))
            elif w[0] == "NPM" and len(w) >= 3 and w[2].startswith("p:"):
                self.got.setdefault((c.name, w[1], "P"), []).append(int(w[2][2:]))

    def send(self, c, kind, to, seq):
        with self.lock:
            self.pending.setdefault(c.name, []).append((kind, seq))
        if kind == "B":
            c.send("BCST s:%d" % seq)
        else:
            c.send("PM %s p:%d" % (to, seq))


def check(steady, users):
    """0 lost, 0 reordered among steady users; numbers of messages checked."""
    checked = lost = reordered = 0
    for (sender, kind), seqs in steady.oked.items():
        targets = [u for u in users if u != sender] if kind == "B" else [steady.peer[sender]]
        for r in targets:
            got = steady.got.get((r, sender, kind), [])
            reordered += sum(1 for a, b in zip(got, got[1:]) if b <= a)
            have = set(got)
            lost += sum(1 for s in seqs if s not in have)
            checked += len(seqs)
    return checked, lost, reordered


def churn(nodes, stop, stats):
    """Users come and go on n3; some names race between n1 and n3."""
    i = 0
    while not stop.is_set():
        i += 1
        n3 = nodes["n3"]
        try:
            if i % 4 == 0:
                name = "race%d" % i
                a = Client(nodes["n1"].ok, name)
                b = Client(n3.ok, name)
                wins = [c.login.startswith("OK IDENT") for c in (a, b)]
                stats["races"] += 1
                if sum(wins) == 2:
                    stats["names_twice"] += 1
                elif sum(wins) == 0:  # Redis away: both refused (FAIL17)
                    stats["races_refused"] += 1
                a.close()
                b.close()
            else:
                c = Client(n3.ok, "churn%d" % i)
                c.send("BCST churn")
                time.sleep(random.uniform(0.05, 0.3))
                c.close()
        except OSError:
            time.sleep(0.2)  # n3 is down
        time.sleep(0.05)


def killer(nodes, stop, stats):
    while not stop.wait(random.uniform(4, 9)):
        nodes["n3"].kill()
        stats["node_kills"] += 1
        time.sleep(random.uniform(0.5, 2))
        nodes["n3"].start()


def sampler(nodes, stop, stats):
    while not stop.wait(0.5):
        seen = {}
        for n in ("n1", "n2", "n3"):
            try:
                for u in nodes[n].local_users():
                    seen.setdefault(u, []).append(n)
            except OSError:
                pass
        stats["name_samples"] += 1
        stats["names_twice"] += sum(1 for v in seen.values() if len(v) > 1)


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    tmp = tempfile.mkdtemp(prefix="fc-cluster-soak-")
    redis = Redis(tmp)
    redis.start()
    nodes = {n: Node(n, redis, tmp) for n in ("n1", "n2", "n3")}
    for n in nodes.values():
        n.start()
    steady = Steady()
    users, clients = [], []
    for node in ("n1", "n2"):
        for k in range(4):
            name = "%s_u%d" % (node, k)
            clients.append(Client(nodes[node].ok, name, steady.on_line))
            users.append(name)
    # each steady user sends PMs to the same-numbered user of the other node
    steady.peer = {u: ("n2" if u.startswith("n1") else "n1") + u[2:] for u in users}
    time.sleep(1)
    stats = dict(races=0, races_refused=0, names_twice=0, node_kills=0,
                 name_samples=0, redis_restarts=0)
    stop = threading.Event()
    threads = [threading.Thread(target=f, args=(nodes, stop, stats), daemon=True)
               for f in (churn, killer, sampler)]
    for t in threads:
        t.start()
    rss0 = None
    t0 = time.time()
    restart_at = t0 + secs / 2
    seq = 0
    while time.time() - t0 < secs:
        seq += 1
        for c in clients:
            steady.send(c, "B" if seq % 2 else "P", steady.peer[c.name], seq)
        time.sleep(0.05)
        if rss0 is None and time.time() - t0 > min(10, secs / 4):
            rss0 = nodes["n1"].rss_kb() + nodes["n2"].rss_kb()
        if restart_at and time.time() >= restart_at:
            restart_at = None
            time.sleep(1.5)  # what was sent has been delivered
            redis.kill()
            nodes["n1"].wait_log("cluster: Redis lost", 10)
            redis.start()
            stats["redis_restarts"] += 1
            for n in ("n1", "n2"):
                nodes[n].wait_log("cluster: in sync", 20, 2)
            time.sleep(0.5)
    stop.set()
    time.sleep(2)  # the last messages arrive
    rss1 = nodes["n1"].rss_kb() + nodes["n2"].rss_kb()
    closed = sum(1 for c in clients if c.closed)
    # losses the steady nodes' links detected and logged (bus gaps, PMs)
    bus_lost = sum(1 for n in ("n1", "n2") for line in open(nodes[n].log)
                   if "message(s)" in line and " lost" in line)
    checked, lost, reordered = check(steady, users)
    for n in nodes.values():
        n.stop()
    redis.kill()
    ok = lost == 0 and reordered == 0 and stats["names_twice"] == 0 and closed == 0 \
        and rss1 - rss0 < 20000
    print("RESULT ok=%d seconds=%.0f messages_checked=%d lost=%d reordered=%d "
          "names_twice=%d races=%d races_refused=%d node_kills=%d redis_restarts=%d name_samples=%d "
          "steady_closed=%d refused=%d bus_lost_logged=%d rss_steady_kib_start=%d end=%d logs=%s" % (
              ok, time.time() - t0, checked, lost, reordered, stats["names_twice"],
              stats["races"], stats["races_refused"], stats["node_kills"], stats["redis_restarts"],
              stats["name_samples"], closed, steady.refused, bus_lost, rss0 or 0, rss1, tmp))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

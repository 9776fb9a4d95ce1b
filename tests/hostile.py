#!/usr/bin/env python3
"""Attack replays for the hostile-internet tests (bats/hostile_item*.bats,
issue 12). Each subcommand plays one attacker against a running daemon
(127.0.0.1) next to honest users, and prints one summary line of key=value
words for the test to check; every wait has a deadline.

  hostile.py pmrtt OKPORT SECONDS [--stop FILE]
      alice and bob (okfail) exchange PMs one after another for SECONDS
      (or until FILE exists); prints "n=.. max=MS avg=MS lost=0|1"
  hostile.py keys OKPORT --publishers N --key-size B --newcomers M
             [--rcvbuf B] [--rate BPS]
      N users publish a key of B bytes each, then M newcomers log in and
      read (at BPS bytes per second, with SO_RCVBUF B) while the
      publishers broadcast --push lines behind the key replies; prints
      "published=.. refused=.. complete=.. kicked=.. keys_min=.."
  hostile.py flood OKPORT --seconds S --rate BPS [--line 8000]
      a reader reads at BPS bytes per second (a slow link) while a
      flooder sends BCST lines of --line bytes as fast as it can; prints
      "reader=alive|kicked flooder=dropped|alive flooder_ok=.. reader_got=.."
  hostile.py burst NUMPORT
      a numeric client's login burst (USER, ROOM, JOIN, LIRO, LIME, HELP,
      PRIV, SEND) in one write; prints "ms=.. done=1" (time to the last
      reply)
  hostile.py paste OKPORT --lines N --size B
      one write of N BCST lines of B bytes; prints "ms=.. ok=.." (time
      until every OK came) and the receiver's count
"""
import argparse
import socket
import sys
import threading
import time


def out(**kv):
    print(" ".join(f"{k}={v}" for k, v in kv.items()), flush=True)


class Conn:
    def __init__(self, port, rcvbuf=0, timeout=30, src="127.0.0.1"):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.bind((src, 0))
        self.s.connect(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s.settimeout(timeout)
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.s.sendall(data)

    def fill(self, n=65536):
        try:
            d = self.s.recv(n)
        except socket.timeout:
            return False
        except OSError:
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def line(self, deadline):
        while b"\n" not in self.buf:
            if self.eof or time.monotonic() > deadline:
                return None
            self.fill()
        l, _, self.buf = self.buf.partition(b"\n")
        return l.decode("utf-8", "replace")

    def until(self, prefix, deadline):
        while True:
            l = self.line(deadline)
            if l is None or l.startswith(prefix):
                return l


def login(port, name, **kw):
    c = Conn(port, **kw)
    dl = time.monotonic() + 10
    c.line(dl)  # INIT
    c.send(f"IDENT {name}\n".encode())
    if c.until(f"OK IDENT {name}", dl) is None:
        sys.exit(f"{name}: no OK IDENT")
    return c


def pmrtt(a):
    x, y = login(a.port, "rtt_a"), login(a.port, "rtt_b")
    end = time.monotonic() + a.seconds
    rt, lost, i = [], 0, 0
    while time.monotonic() < end:
        if a.stop and __import__("os").path.exists(a.stop):
            break
        t = time.monotonic()
        x.send(f"PM rtt_b r{i}\n".encode())
        if y.until(f"NPM rtt_a r{i}", t + 10) is None:
            lost = 1
            break
        rt.append((time.monotonic() - t) * 1000)
        x.until(f"OK PM rtt_b r{i}", t + 10)
        i += 1
        time.sleep(0.02)
    out(n=len(rt), max=f"{max(rt) if rt else 0:.0f}",
        avg=f"{sum(rt) / len(rt) if rt else 0:.1f}", lost=lost)


def drain(conns):
    for c in conns:
        c.s.settimeout(0)
        while c.fill():
            c.buf = b""
        c.s.settimeout(0.01)


def keys(a):
    pubs, refused = [], 0
    key = "K" * a.key_size
    for i in range(a.publishers):
        c = login(a.port, f"pub{i}")
        c.send(f"PM_PUBKEY {key}\n".encode())
        l = c.until("", time.monotonic() + 10)
        while l is not None and l.startswith(("PM_PUBKEY", "JOINED")):
            l = c.line(time.monotonic() + 10)
        if l != "OK PM_PUBKEY":
            refused += 1
        pubs.append(c)
        drain(pubs)
    news = [Conn(a.port, rcvbuf=a.rcvbuf) for _ in range(a.newcomers)]
    for i, c in enumerate(news):
        c.send(f"IDENT new{i}\n".encode())
    # then others' traffic is pushed behind the key replies
    time.sleep(0.3)
    for i in range(a.push):
        pubs[i % len(pubs)].send(f"BCST pushed {i}\n".encode())
    got = [0] * len(news)
    kicked = complete = 0
    want = a.publishers - refused
    end = time.monotonic() + a.timeout
    per = max(1, int(a.rate * 0.01)) if a.rate else 65536
    for i, c in enumerate(news):
        c.s.settimeout(0.01)
    pending = set(range(len(news)))
    while pending and time.monotonic() < end:
        drain(pubs)
        for i in list(pending):
            c = news[i]
            c.fill(per)
            while b"\n" in c.buf:
                l, _, c.buf = c.buf.partition(b"\n")
                if l.startswith(b"PM_PUBKEY "):
                    got[i] += 1
                elif l.startswith(b"DSCN") or l.startswith(b"FAIL"):
                    kicked += 1
                    pending.discard(i)
            if got[i] >= want:
                complete += 1
                pending.discard(i)
            elif c.eof:
                kicked += 1 if i in pending else 0
                pending.discard(i)
    out(published=len(pubs) - refused, refused=refused, complete=complete,
        kicked=kicked, keys_min=min(got) if got else 0, want=want)


def flood(a):
    reader = login(a.port, "fl_reader", rcvbuf=a.rcvbuf)
    flooder = login(a.port, "fl_flooder")
    stop = time.monotonic() + a.seconds
    state = {"ok": 0, "dropped": False}
    line = ("BCST " + "f" * a.line + "\n").encode()

    def push():
        flooder.s.settimeout(1)
        try:
            while time.monotonic() < stop:
                flooder.s.sendall(line * 8)
        except OSError:
            pass

    def watch():
        flooder.s.settimeout(0.2)
        while time.monotonic() < stop + 2:
            if not flooder.fill():
                if flooder.eof:
                    break
                continue
            while b"\n" in flooder.buf:
                l, _, flooder.buf = flooder.buf.partition(b"\n")
                if l.startswith(b"OK BCST"):
                    state["ok"] += 1
                elif l == b"DSCN Flooding":
                    state["dropped"] = True
        if flooder.eof and not state["dropped"]:
            state["dropped"] = "closed"

    th = [threading.Thread(target=push, daemon=True),
          threading.Thread(target=watch, daemon=True)]
    for t in th:
        t.start()
    got, kicked = 0, False
    reader.s.settimeout(0.05)
    t0 = time.monotonic()
    budget = 0.0
    while time.monotonic() < stop + 2:
        budget = min(budget + (time.monotonic() - t0) * a.rate, a.rate)
        t0 = time.monotonic()
        if budget >= 1024:
            reader.fill(int(budget))
            budget = 0
        else:
            time.sleep(0.01)
        while b"\n" in reader.buf:
            l, _, reader.buf = reader.buf.partition(b"\n")
            if l.startswith(b"BCST fl_flooder"):
                got += 1
            elif l.startswith(b"DSCN"):
                kicked = True
        if reader.eof:
            kicked = True
            break
    if not kicked:
        reader.s.settimeout(5)
        reader.send(b"USERS\n")
        # the reader may be alone by now (FAIL06): either answer will do
        if reader.until(("OK USERS", "FAIL06"), time.monotonic() + 30) is None:
            kicked = True
    out(reader="kicked" if kicked else "alive",
        flooder="dropped" if state["dropped"] else "alive",
        flooder_ok=state["ok"], reader_got=got)


def paste(a):
    rx = login(a.port, "pa_rx")
    tx = login(a.port, "pa_tx")
    rx.until("JOINED pa_tx", time.monotonic() + 10)
    text = "p" * a.size
    blob = "".join(f"BCST {i} {text}\n" for i in range(a.lines)).encode()
    t = time.monotonic()
    tx.send(blob)
    ok = 0
    while ok < a.lines and tx.until("OK BCST", t + 30) is not None:
        ok += 1
    ms = (time.monotonic() - t) * 1000
    got = 0
    while got < a.lines and rx.until("BCST pa_tx", t + 30) is not None:
        got += 1
    out(ms=f"{ms:.0f}", ok=ok, got=got)


def burst(a):
    """A client's burst of commands at login, in one write (numeric)."""
    c = Conn(a.port)
    cmds = ["USER bu_nina", "ROOM bu_lobby", "JOIN bu_lobby", "LIRO",
            "LIME bu_lobby", "HELP", "PRIV bu_nina self", "SEND bu_lobby hi"]
    t = time.monotonic()
    c.send(("\n".join(cmds) + "\n").encode())
    last = c.until("200 Sent to bu_lobby", t + 30)
    out(ms=f"{(time.monotonic() - t) * 1000:.0f}", done=int(last is not None))


# each command: its function, then its options (name, type, default) after
# the port
COMMANDS = {
    "pmrtt": (pmrtt, [("seconds", float, None), ("--stop", str, None)]),
    "keys": (keys, [("--publishers", int, 40), ("--key-size", int, 4000),
                    ("--newcomers", int, 20), ("--rcvbuf", int, 0),
                    ("--rate", int, 0), ("--push", int, 20),
                    ("--timeout", float, 60)]),
    "flood": (flood, [("--seconds", float, 12), ("--rate", int, 125000),
                      ("--rcvbuf", int, 16384), ("--line", int, 8000)]),
    "paste": (paste, [("--lines", int, 20), ("--size", int, 400)]),
    "burst": (burst, []),
}


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name, (_, opts) in COMMANDS.items():
        q = sub.add_parser(name)
        q.add_argument("port", type=int)
        for opt, kind, default in opts:
            if opt.startswith("--"):
                q.add_argument(opt, type=kind, default=default)
            else:
                q.add_argument(opt, type=kind)
    a = p.parse_args()
    COMMANDS[a.cmd][0](a)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Binary-safe numeric-dialect clients for the file-transfer bats tests
(bats/files_*.bats). Bash cannot easily read raw bytes from a socket, so
these two small programs do the byte work and report what happened, one
event per line on standard output (flushed at once), for the test to wait
on with fc_until:

  fcfile.py send PORT NAME TO FILENAME SRC [options]
      log in as NAME, send SRC (a file; its whole content) to TO as
      FILENAME. Prints READY after login, then "LINE <reply>" for every
      line the server sends, "SENT <n>" after bytes went out, DONE at the
      end: after a 101, or after the 200 (the server holds the file) and
      the 714 that says whether it was delivered.
        --part K        send only the first K bytes, then:
        --close         ... close the connection (sender vanishes), or
        --stall         ... send nothing more, print lines until EOF, or
        --pause FILE    ... wait for FILE to exist, then send the rest
        --then CMD      after the transfer's 200/101, send CMD and print
                        the reply as LINE (before or after the 714)
        --no-714        DONE after the 200, without waiting for the 714
        --go FILE       wait for FILE to exist before sending FILE

  fcfile.py recv PORT NAME [options]
      log in as NAME and receive files. Prints READY, "LINE <text>" for
      each line, "HEADER <name> <size> <sender>" for each 102, then
      "FILE <name> <size> <sender> <sha256>" once its bytes are read.
        --files N       exit after N files (and --lines more lines)
        --lines K       lines to read after the last file (default 0)
        --go FILE       after each HEADER wait for FILE to exist before
                        reading the bytes (the test holds the receiver)
        --rate BPS      read at most BPS bytes per second
        --rcvbuf N      SO_RCVBUF before connecting (a slow reader)
        --close-after B close the connection after B bytes of the body
                        (receiver vanishes); prints CLOSED
      A connection the server closes in the middle of a body prints
      "PARTIAL <bytes> <sha256 of those bytes>" before EOF.

Every wait has a deadline (--timeout, default 60 s); on expiry TIMEOUT is
printed and the exit status is 1. EOF from the server prints EOF.
"""
import argparse
import hashlib
import os
import socket
import sys
import time


def out(*words):
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


class Conn:
    def __init__(self, port, rcvbuf=0, timeout=60):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.connect(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.deadline = time.monotonic() + timeout
        self.s.settimeout(0.1)

    def _fill(self, want=65536):
        while True:
            if time.monotonic() > self.deadline:
                out("TIMEOUT")
                sys.exit(1)
            try:
                d = self.s.recv(want)
            except socket.timeout:
                continue
            if not d:
                raise EOFError
            self.buf += d
            return

    def line(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                ln, self.buf = self.buf[:i], self.buf[i + 1:]
                return ln.rstrip(b"\r").decode("utf-8", "replace")
            self._fill()

    def take(self, n):
        """Up to n bytes of raw body (at least 1)."""
        if not self.buf:
            self._fill(min(n, 65536))
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def send(self, b):
        if isinstance(b, str):
            b = b.encode()
        # flow control may hold a large send back: block, within the deadline
        self.s.settimeout(max(0.1, self.deadline - time.monotonic()))
        try:
            self.s.sendall(b)
        except socket.timeout:
            out("TIMEOUT")
            sys.exit(1)
        finally:
            self.s.settimeout(0.1)

    def login(self, name):
        self.send("USER %s\n" % name)
        ln = self.line()
        if not ln.startswith("200 "):
            out("LOGIN-FAILED", ln)
            sys.exit(1)
        out("READY")


def wait_file(path, deadline):
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            out("TIMEOUT")
            sys.exit(1)
        time.sleep(0.01)


def payload(a):
    with open(a.src, "rb") as f:
        return f.read()


class Result:
    """What the sender heard: stored (200), failed (101), delivered (714)."""
    stored = failed = delivered = False

    def note(self, ln):
        if ln.startswith("714 "):
            self.delivered = True
        elif ln.startswith("101"):
            self.failed = True
        elif ln.startswith("200"):
            self.stored = True


def do_send(a):
    c = Conn(a.port, timeout=a.timeout)
    c.login(a.name)
    data = payload(a)
    if a.go:
        wait_file(a.go, c.deadline)
    c.send("FILE %s %s %d\n" % (a.to, a.filename, len(data)))
    ln = c.line()
    out("LINE", ln)
    if not ln.startswith("100"):
        out("DONE")
        return
    st = Result()
    first = data if a.part is None else data[:a.part]
    c.send(first)
    out("SENT", len(first))
    if a.part is not None:
        if a.close:
            c.s.close()
            out("DONE")
            return
        if a.stall:
            while True:
                out("LINE", c.line())
        if a.pause:
            wait_file(a.pause, c.deadline)
        rest = data[a.part:]
        c.send(rest)
        out("SENT", len(rest))
    send_result(c, a, st)
    out("DONE")


def send_result(c, a, st):
    """Lines until the transfer's end: a 101, or the 200 and then the 714.
    The reply to --then (sent once the 200/101 came) may come on either
    side of the 714."""
    then_sent = then_answered = not a.then
    while True:
        if (st.failed or st.stored) and not then_sent:
            c.send(a.then + "\n")
            then_sent = True
        done = st.failed or (st.stored and (st.delivered or a.no_714))
        if done and then_answered:
            return
        ln = c.line()
        out("LINE", ln)
        if a.then and then_sent and ln[:1] and ln[0] in "123456":
            then_answered = True  # a reply; 7xx are deliveries
        else:
            st.note(ln)


def read_body(c, a, size):
    """The raw bytes of one file: their sha256, or None when --close-after
    closed the connection. EOFError carries PARTIAL out."""
    h = hashlib.sha256()
    got = 0
    t0 = time.monotonic()
    while got < size:
        want = min(size - got, 65536)
        if a.close_after is not None:
            want = min(want, a.close_after - got)
            if want <= 0:
                c.s.close()
                out("CLOSED", got)
                return None
        try:
            d = c.take(want)
        except EOFError:
            out("PARTIAL", got, h.hexdigest())
            raise
        h.update(d)
        got += len(d)
        if a.rate:
            ahead = got / a.rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    return h.hexdigest()


def do_recv(a):
    c = Conn(a.port, rcvbuf=a.rcvbuf, timeout=a.timeout)
    c.login(a.name)
    files = 0
    lines_after = 0
    while True:
        if a.files is not None and files >= a.files and lines_after >= a.lines:
            out("DONE")
            return
        ln = c.line()
        if not ln.startswith("102 "):
            out("LINE", ln)
            if a.files is not None and files >= a.files:
                lines_after += 1
            continue
        _, name, size, sender = ln.split(" ", 3)
        size = int(size)
        out("HEADER", name, size, sender)
        if a.go:
            wait_file(a.go, c.deadline)
        digest = read_body(c, a, size)
        if digest is None:
            return
        files += 1
        out("FILE", name, size, sender, digest)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("send")
    s.add_argument("port", type=int)
    s.add_argument("name")
    s.add_argument("to")
    s.add_argument("filename")
    s.add_argument("src")
    s.add_argument("--part", type=int)
    s.add_argument("--close", action="store_true")
    s.add_argument("--stall", action="store_true")
    s.add_argument("--pause")
    s.add_argument("--then")
    s.add_argument("--no-714", action="store_true")
    s.add_argument("--go")
    s.add_argument("--timeout", type=float, default=60)
    r = sub.add_parser("recv")
    r.add_argument("port", type=int)
    r.add_argument("name")
    r.add_argument("--files", type=int)
    r.add_argument("--lines", type=int, default=0)
    r.add_argument("--go")
    r.add_argument("--rate", type=float, default=0)
    r.add_argument("--rcvbuf", type=int, default=0)
    r.add_argument("--close-after", type=int)
    r.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()
    try:
        if a.mode == "send":
            do_send(a)
        else:
            do_recv(a)
    except EOFError:
        out("EOF")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A hostile server for the client's bats tests (bats/client_*.bats).

Listens on 127.0.0.1 (port written to --port-file); what the client sends
is appended to LOG.N.c2s (N counts connections), what it is sent to
LOG.N.s2c.

--to HOST:PORT --dup 'REGEX=>REPL' ...   a man in the middle: relays to the
    real server, and after every server line that matches REGEX also sends
    re.sub(REGEX, REPL, line) (a forged copy: the same token "from" another
    user, a second key for a name).

--script FILE   a scripted fake server, one step a line:
    send TEXT     send TEXT (Python escapes: \\n, \\x1b, \\u202e) as UTF-8
    sendfile F    send the bytes of file F
    expect REGEX  wait until the client sent a line matching REGEX
    sleep SECS    pause (a slow server, on purpose)
    stamp FILE    write the wall-clock time (seconds, float) to FILE
    close         close the connection (else it stays open for --hold s)
"""
import argparse
import codecs
import os
import re
import socket
import threading
import time


class Client:
    def __init__(self, conn, log):
        self.conn, self.log, self.buf = conn, log, b""

    def line(self, deadline):
        while b"\n" not in self.buf:
            self.conn.settimeout(max(0.01, deadline - time.time()))
            data = self.conn.recv(65536)
            if not data:
                raise EOFError
            with open(self.log, "ab") as f:
                f.write(data)
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")


def run_script(conn, args):
    cl = Client(conn, f"{args.log}.0.c2s")
    with open(args.script) as f:
        steps = [s.rstrip("\n") for s in f if s.strip()]
    for step in steps:
        op, _, arg = step.partition(" ")
        if op == "send":
            data = codecs.decode(arg, "unicode_escape").encode("utf-8",
                                                              "surrogateescape")
            conn.sendall(data)
        elif op == "sendraw":
            conn.sendall(codecs.decode(arg, "unicode_escape").encode("latin-1"))
        elif op == "sendfile":
            with open(arg, "rb") as f:
                conn.sendall(f.read())
        elif op == "expect":
            deadline = time.time() + args.hold
            while not re.search(arg, cl.line(deadline)):
                pass
        elif op == "sleep":
            time.sleep(float(arg))
        elif op == "stamp":
            with open(arg + ".tmp", "w") as f:
                f.write(f"{time.time():.6f}\n")
            os.rename(arg + ".tmp", arg)
        elif op == "close":
            conn.close()
            return
    deadline = time.time() + args.hold
    try:
        while True:
            cl.line(deadline)
    except (OSError, EOFError):
        pass
    conn.close()


def pump(src, dst, log_path, dups):
    buf = b""
    with open(log_path, "ab", buffering=0) as log:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            buf += data
            out = b""
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                out += line + b"\n"
                text = line.decode("utf-8", "surrogateescape")
                for rx, repl in dups:
                    if rx.search(text):
                        forged = rx.sub(repl, text)
                        out += forged.encode("utf-8", "surrogateescape") + b"\n"
            log.write(out)
            try:
                dst.sendall(out)
            except OSError:
                break
    for s in (dst, src):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def relay(conn, n, args, dups):
    host, port = args.to.rsplit(":", 1)
    up = socket.create_connection((host, int(port)))
    threading.Thread(target=pump, args=(conn, up, f"{args.log}.{n}.c2s", [])).start()
    threading.Thread(target=pump, args=(up, conn, f"{args.log}.{n}.s2c", dups)).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to")
    ap.add_argument("--dup", action="append", default=[])
    ap.add_argument("--script")
    ap.add_argument("--hold", type=float, default=20.0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    dups = [(re.compile(d.split("=>", 1)[0]), d.split("=>", 1)[1]) for d in args.dup]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(f"{ls.getsockname()[1]}\n")
    os.rename(args.port_file + ".tmp", args.port_file)
    n = 0
    while True:
        conn, _ = ls.accept()
        if args.script:
            run_script(conn, args)
            return
        relay(conn, n, args, dups)
        n += 1


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass

#!/usr/bin/env python3
"""Test kit for the client's bats tests (bats/client_*.bats).

Recording relay: listens on 127.0.0.1 (port written to --port-file) and
forwards every connection to --to HOST:PORT, appending what each side sent
to LOG.N.c2s / LOG.N.s2c (N counts connections). --rate limits the bytes
per second in both directions, so a transfer lasts long enough to watch.

Fake server: with --fake FILE the first connection gets FILE's bytes as
the server's output instead (hostile lines, hostile file offers); what
the client sends is recorded in LOG.0.c2s; the connection closes when the
client closes it or after --hold seconds.
"""
import argparse
import os
import socket
import sys
import threading
import time


def pump(src, dst, log_path, rate):
    with open(log_path, "ab", buffering=0) as log:
        while True:
            try:
                data = src.recv(16384 if not rate else min(16384, rate // 10 or 1))
            except OSError:
                data = b""
            if not data:
                break
            log.write(data)
            try:
                dst.sendall(data)
            except OSError:
                break
            if rate:
                time.sleep(len(data) / rate)
    for s in (dst, src):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def relay(conn, n, args):
    host, port = args.to.rsplit(":", 1)
    up = socket.create_connection((host, int(port)))
    for s in (conn, up):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    a = threading.Thread(target=pump, args=(conn, up, f"{args.log}.{n}.c2s", args.rate))
    b = threading.Thread(target=pump, args=(up, conn, f"{args.log}.{n}.s2c", args.rate))
    a.start()
    b.start()


def fake(conn, args):
    with open(args.fake, "rb") as f:
        conn.sendall(f.read())
    conn.settimeout(args.hold)
    with open(f"{args.log}.0.c2s", "ab", buffering=0) as log:
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                log.write(data)
        except OSError:
            pass
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to")
    ap.add_argument("--fake")
    ap.add_argument("--hold", type=float, default=10.0)
    ap.add_argument("--rate", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{ls.getsockname()[1]}\n")
    os.rename(tmp, args.port_file)
    n = 0
    while True:
        conn, _ = ls.accept()
        if args.fake:
            fake(conn, args)
            return
        relay(conn, n, args)
        n += 1


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)

#!/usr/bin/env python3
"""Readers that do not read, for the output-limit tests (close.sendq,
irc.limits.sendq; bats/limits_helpers.bash starts them).

    slowread.py DIR NAME:PORT:LOGIN ...

Each NAME connects to 127.0.0.1:PORT with a 4 KiB receive buffer and sends
LOGIN (Python escapes: \\n, \\r\\n); then DIR/ready is created and nothing
is read until DIR/drain exists (60 s at the most). Then every connection is
read to its end (10 s each at the most) into DIR/NAME.
"""
import codecs
import os
import socket
import sys
import time


def connect(spec):
    name, port, login = spec.split(":", 2)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", int(port)))
    s.sendall(codecs.decode(login, "unicode_escape").encode("latin-1"))
    return name, s


def read_all(s):
    s.settimeout(10)
    buf = b""
    while True:
        try:
            d = s.recv(65536)
        except (socket.timeout, ConnectionError):
            break
        if not d:
            break
        buf += d
    return buf


def main():
    where = sys.argv[1]
    readers = [connect(spec) for spec in sys.argv[2:]]
    open(os.path.join(where, "ready"), "w").close()
    end = time.time() + 60
    while not os.path.exists(os.path.join(where, "drain")) and time.time() < end:
        time.sleep(0.02)
    for name, s in readers:
        with open(os.path.join(where, name), "wb") as out:
            out.write(read_all(s))


main()

#!/usr/bin/env python3
"""A numeric FILE transfer over TLS, for bats/daemon_tls.bats.

    tlsfile.py PORT CAFILE SRC DST

Logs in bob (the receiver) and alice (the sender) on the numeric+tls
listener at 127.0.0.1:PORT, verifying the server's certificate against
CAFILE for the name "localhost". alice sends `FILE bob NAME SIZE`, waits for
`100`, sends SRC's bytes and expects `200`; bob reads `102 NAME SIZE alice`
and then exactly SIZE raw bytes, which are written to DST. Every wait has a
deadline; any surprise is an error on stderr and exit status 1.
"""
import os
import socket
import ssl
import sys
import threading

DEADLINE = 10.0


class Conn:
    def __init__(self, port, ctx, name):
        raw = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.s = ctx.wrap_socket(raw, server_hostname="localhost")
        self.name = name
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError(f"{self.name}: connection closed")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def until(self, prefix):
        seen = []
        while True:
            ln = self.line()
            if ln.startswith(prefix):
                return ln
            seen.append(ln)
            if len(seen) > 50:
                raise RuntimeError(f"{self.name}: no '{prefix}' in {seen}")

    def exactly(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(min(1 << 20, n - len(self.buf)))
            if not chunk:
                raise RuntimeError(
                    f"{self.name}: closed after {len(self.buf)} of {n} bytes")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def main():
    port, cafile, src, dst = int(sys.argv[1]), sys.argv[2], sys.argv[3], \
        sys.argv[4]
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    data = open(src, "rb").read()
    name = os.path.basename(src)

    bob = Conn(port, ctx, "bob")
    bob.send(b"USER bob\n")
    ln = bob.line()
    if ln != "200 Welcome bob!":
        raise RuntimeError(f"bob: login answered '{ln}'")
    alice = Conn(port, ctx, "alice")
    alice.send(b"USER alice\n")
    ln = alice.until("200 ")
    if ln != "200 Welcome alice!":
        raise RuntimeError(f"alice: login answered '{ln}'")

    got = {}

    def receive():
        try:
            hdr = bob.until("102 ")
            want = f"102 {name} {len(data)} alice"
            if hdr != want:
                raise RuntimeError(f"bob: got '{hdr}', want '{want}'")
            got["data"] = bob.exactly(len(data))
        except Exception as e:  # reported by the main thread
            got["error"] = e

    t = threading.Thread(target=receive)
    t.start()
    alice.send(f"FILE bob {name} {len(data)}\n".encode())
    ln = alice.until("1")
    if not ln.startswith("100"):
        raise RuntimeError(f"alice: FILE answered '{ln}'")
    alice.send(data)
    ln = alice.line()
    if not ln.startswith("200"):
        raise RuntimeError(f"alice: after the bytes got '{ln}'")
    t.join(DEADLINE)
    if t.is_alive():
        raise RuntimeError("bob: the file never arrived completely")
    if "error" in got:
        raise got["error"]
    with open(dst, "wb") as f:
        f.write(got["data"])
    print(f"{len(data)} bytes over TLS, cipher {alice.s.cipher()[0]}, "
          f"{alice.s.version()}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        print(f"tlsfile: {e}", file=sys.stderr)
        sys.exit(1)

#!/usr/bin/env python3
"""make lint-layers: the worker is layered one way (docs/ARCHITECTURE.md).

Every file of worker/ belongs to one layer; a file may include, and call
into, only files of its own layer or of a lower one (the shared code in
common/, ipc/ and proto/ is below them all). Transport and mesh are side by
side: neither may use the other. Includes are read from the sources; calls
from the objects' undefined symbols (nm), matched to the object that
defines them. Prints the include graph with --graph. Exit 1 on a violation.
"""
import os
import re
import subprocess
import sys

# layer: (rank, files without extension)
LAYERS = {
    "base": (0, None),  # common/, ipc/, proto/ but proto/line
    "transport": (1, ["worker/sendq", "worker/conn", "worker/linger",
                      "proto/line"]),
    "mesh": (1, ["worker/peer"]),
    "spool": (1, ["worker/spool"]),  # files on disk and their quota
    "services": (2, ["worker/client", "worker/login", "worker/fanout",
                     "worker/files", "worker/dialect"]),
    "dialects": (3, ["worker/dispatch", "worker/okfail", "worker/numeric",
                     "worker/irc", "worker/irc_modes", "worker/irc_chan",
                     "worker/irc_priv", "worker/irc_tags",
                     "worker/irc_monitor", "worker/irc_oper",
                     "worker/irc_help"]),
    "loop": (4, ["worker/worker", "worker/worker_main"]),
}


def layer_of(path):
    stem = os.path.splitext(os.path.normpath(path))[0]
    for name, (_, files) in LAYERS.items():
        if files and stem in files:
            return name
    if stem.split("/")[0] in ("common", "ipc", "proto"):
        return "base"
    return None


def allowed(src, dst):
    if src == dst or dst == "base":
        return True
    return LAYERS[dst][0] < LAYERS[src][0]


def includes(path):
    out = []
    with open(path) as f:
        for line in f:
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if m:
                out.append(os.path.normpath(
                    os.path.join(os.path.dirname(path), m.group(1))))
    return out


def worker_files():
    return sorted("worker/" + f for f in os.listdir("worker")
                  if f.endswith((".c", ".h")))


def check_includes(graph):
    bad = 0
    for src in worker_files():
        ls = layer_of(src)
        if ls is None:
            print(f"lint-layers: {src} belongs to no layer (tests/layers.py)")
            bad += 1
            continue
        for dst in includes(src):
            ld = layer_of(dst)
            graph.append((src, dst))
            if ld is None or not allowed(ls, ld):
                print(f"lint-layers: {src} ({ls}) includes {dst} ({ld})")
                bad += 1
    return bad


def symbols(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDRBC":
            defined.add(parts[2])
    return defined, undefined


def check_calls(build):
    objs = {}
    for src in worker_files() + ["proto/line.c"]:
        if src.endswith(".c"):
            obj = os.path.join(build, os.path.splitext(src)[0] + ".o")
            if not os.path.exists(obj):
                print(f"lint-layers: {obj} missing: run make first")
                return 1
            objs[src] = symbols(obj)
    owner = {}
    for src, (defined, _) in objs.items():
        for s in defined:
            owner[s] = src
    bad = 0
    for src, (_, undefined) in objs.items():
        for s in sorted(undefined):
            dst = owner.get(s)
            if dst and not allowed(layer_of(src), layer_of(dst)):
                print(f"lint-layers: {src} ({layer_of(src)}) calls {s} "
                      f"of {dst} ({layer_of(dst)})")
                bad += 1
    return bad


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build/opt"
    graph = []
    bad = check_includes(graph) + check_calls(build)
    if "--graph" in sys.argv:
        for src, dst in graph:
            if dst.startswith("worker/") or dst == "proto/line.h":
                print(f"{src} -> {dst}")
    if bad:
        print(f"lint-layers: {bad} violation(s)")
        return 1
    print("lint-layers: worker/ is layered one way")
    return 0


if __name__ == "__main__":
    sys.exit(main())

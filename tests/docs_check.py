#!/usr/bin/env python3
"""The docs against the code (run by `make test` as `make docs-check`).

    docs_check.py FORKCHATD FORKCHAT

Fails, listing each gap, when
  - a behaviour id of docs/PROTOCOL.md (**irc.topic**) is named by no bats
    test (bats/*.bats: a test's name or its body),
  - a long option of forkchatd (master/options.c) is missing from
    `forkchatd --help` or forkchatd(8), a setting from forkchatd.conf(5) or
    contrib/forkchatd.conf, or those name one the code does not have; the
    same for `forkchatd status` (master/ctlclient.c) in forkchatd(8),
  - a long option of forkchat (client/main.c) is missing from
    `forkchat --help` or forkchat(1), or those name one it does not have,
  - a flag of ../shared/design/interface.md is missing from a --help,
  - a `make TARGET` named in README.md, docs/*.md, the man pages or
    interface.md is no target of the Makefiles,
  - a metric of master/prom.c or ipc/metrics.c is missing from
    docs/OPERATIONS.md or forkchatd(8).
"""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INTERFACE = os.path.join(ROOT, "..", "shared", "design", "interface.md")
# forkchatd options that are no setting of the configuration file
CLI_ONLY = {"foreground", "config", "check-config", "verbose", "help",
            "version"}
LONG = r"(?<![\w-])--([a-z][a-z0-9-]*[a-z0-9])"


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as f:
        return f.read()


def roff(path):
    """A man page with roff's escaped hyphens as plain ones."""
    return read(path).replace("\\-", "-")


def run_help(binary):
    return subprocess.run([binary, "--help"], capture_output=True, text=True,
                          check=False).stdout + \
        subprocess.run([binary, "--help"], capture_output=True, text=True,
                       check=False).stderr


def getopt_longs(path):
    return set(re.findall(r'\{"([a-z][a-z0-9-]*)",\s*(?:no|required|optional)_argument',
                          read(path)))


def man_longs(path):
    return set(re.findall(r"Fl -([a-z][a-z0-9-]*[a-z0-9])", roff(path)))


def gaps(what, have, want):
    return [f"{what}: --{o}" for o in sorted(want - have)]


def protocol_ids():
    doc = read("docs/PROTOCOL.md")
    ids = sorted(set(re.findall(r"\*\*([a-z0-9][a-z0-9._-]*[a-z0-9])\*\*", doc)))
    tests = "".join(read(f) for f in glob.glob(os.path.join(ROOT, "bats", "*.bats")))
    out = []
    for i in ids:
        # irc.topic is not named by irc.topic.set or by irc.topics
        if not re.search(r"(?<![a-z0-9._-])" + re.escape(i) +
                         r"(?![a-z0-9_-]|\.[a-z0-9])", tests):
            out.append(f"docs/PROTOCOL.md **{i}**: no bats test names it")
    return out


def daemon(fcd):
    code = getopt_longs("master/options.c")
    status = set(re.findall(r'strcmp\(o, "--([a-z][a-z0-9-]*)"\)', read("master/ctlclient.c")))
    helpt = set(re.findall(LONG, run_help(fcd)))
    man = man_longs("master/forkchatd.8")
    conf = set(re.findall(r"^\.It Cm ([a-z][a-z0-9-]*)", roff("master/forkchatd.conf.5"), re.M))
    sample = set(re.findall(r"^#?([a-z][a-z0-9-]*) = ", read("contrib/forkchatd.conf"), re.M))
    out = gaps("forkchatd --help lacks", helpt, code)
    out += gaps("forkchatd --help names an option the code lacks", code | status, helpt)
    out += gaps("forkchatd(8) lacks", man, code | status)
    out += gaps("forkchatd(8) names an option the code lacks", code | status, man)
    out += gaps("forkchatd.conf(5) lacks the setting", conf, code - CLI_ONLY)
    out += gaps("forkchatd.conf(5) names a setting the code lacks", code - CLI_ONLY, conf)
    out += gaps("contrib/forkchatd.conf lacks the setting", sample, code - CLI_ONLY)
    out += gaps("contrib/forkchatd.conf names a setting the code lacks", code - CLI_ONLY, sample)
    return out, helpt


def client(fc):
    code = getopt_longs("client/main.c")
    helpt = set(re.findall(LONG, run_help(fc)))
    man = man_longs("client/forkchat.1")
    out = gaps("forkchat --help lacks", helpt, code)
    out += gaps("forkchat --help names an option the code lacks", code, helpt)
    out += gaps("forkchat(1) lacks", man, code)
    out += gaps("forkchat(1) names an option the code lacks", code, man)
    return out, helpt


def interface(dhelp, chelp):
    if not os.path.exists(INTERFACE):
        return []
    with open(INTERFACE, encoding="utf-8") as f:
        text = f.read()
    d, _, c = text.partition("## forkchat\n")
    out = gaps("forkchatd --help lacks (interface.md)", dhelp, set(re.findall(LONG, d)))
    out += gaps("forkchat --help lacks (interface.md)", chelp, set(re.findall(LONG, c)))
    return out


def make_targets():
    mk = [os.path.join(ROOT, "Makefile")] + glob.glob(os.path.join(ROOT, "**", "*.mk"),
                                                       recursive=True)
    have, patterns = set(), set()
    for m in mk:
        if "/build/" in m:
            continue
        with open(m, encoding="utf-8") as f:
            for line in f:
                t = re.match(r"^([a-z][a-z0-9_. -]*?)\s*::?(?!=)", line)
                if t:
                    have |= set(t.group(1).split())
                # static pattern rules: "$(LIST:%=fuzz-run-%): fuzz-run-%: ..."
                patterns |= set(re.findall(r"\s([a-z][a-z0-9_-]*)%\s*:", line))
    docs = ["README.md"] + [os.path.relpath(p, ROOT) for p in
                            glob.glob(os.path.join(ROOT, "docs", "*.md")) +
                            glob.glob(os.path.join(ROOT, "master", "*.[58]")) +
                            glob.glob(os.path.join(ROOT, "client", "*.1"))]
    named = {}
    for d in docs:
        for t in re.findall(r"`make ([a-z][a-z0-9_-]*)", read(d)) + \
                re.findall(r"^(?:\$ |    )\s*make ([a-z][a-z0-9_-]*)", read(d), re.M):
            named.setdefault(t, d)
    if os.path.exists(INTERFACE):
        with open(INTERFACE, encoding="utf-8") as f:
            for t in re.findall(r"`make ([a-z][a-z0-9_-]*)", f.read()):
                named.setdefault(t, "interface.md")
    return [f"{d}: make {t}: no such target" for t, d in sorted(named.items())
            if t not in have and not any(t.startswith(p) for p in patterns)]


def metrics():
    code = set(re.findall(r'"(forkchat_[a-z_]+)"', read("master/prom.c") +
                          read("ipc/metrics.c")))
    out = []
    for doc in ("docs/OPERATIONS.md", "master/forkchatd.8"):
        text = roff(doc)
        out += [f"{doc} lacks the metric {m}" for m in sorted(code)
                if not re.search(re.escape(m) + r"(?![a-z_])", text)]
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: docs_check.py FORKCHATD FORKCHAT")
    out = protocol_ids()
    d, dhelp = daemon(sys.argv[1])
    c, chelp = client(sys.argv[2])
    out += d + c + interface(dhelp, chelp) + make_targets() + metrics()
    for line in out:
        print(line)
    if out:
        sys.exit(f"docs-check: {len(out)} gaps between the docs and the code")
    print("docs-check: ok")


main()

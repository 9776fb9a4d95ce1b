#!/usr/bin/env python3
"""bench/summarize.py OUTDIR PLOTDIR: turns OUTDIR/results.txt (RESULT lines
from bench/run.sh full) into markdown tables (median and min-max over the
repetitions, ratios, targets met or missed) and gnuplot PNGs in PLOTDIR."""
import glob
import os
import statistics
import subprocess
import sys

SERVERS = ["forkchatd", "forkchatd-numeric", "forkchatd-irc", "ngircd", "inspircd", "limit", "limit-write"]


def load(path):
    rows = []
    for line in open(path):
        if not line.startswith("RESULT "):
            continue
        d = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
        if d.get("rep") != "prof":
            rows.append(d)
    return rows


def pick(rows, **kw):
    return [r for r in rows if all(r.get(k) == str(v) for k, v in kw.items())]


def stat(rows, field):
    vals = [float(r[field]) for r in rows if field in r]
    if not vals:
        return None
    return statistics.median(vals), min(vals), max(vals)


def fmt(s, scale=1.0, digits=0):
    if s is None:
        return "n/a"
    m, lo, hi = (x / scale for x in s)
    f = "{:,.%df}" % digits
    return "%s (%s–%s)" % (f.format(m), f.format(lo), f.format(hi))


def med(rows, field):
    s = stat(rows, field)
    return s[0] if s else None


def table(head, lines):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in l) + " |" for l in lines]
    return "\n".join(out) + "\n"


def losses(rows):
    lost = sum(int(r.get("lost", 0)) for r in rows)
    reord = sum(int(r.get("reordered", 0)) for r in rows)
    errs = sum(int(r.get("errors", 0)) for r in rows)
    return lost, reord, errs


def fanout_tables(rows, out):
    sizes = sorted({int(r["clients"]) for r in pick(rows, scenario="fanout", rate="full")})
    lines = []
    for n in sizes:
        for s in SERVERS:
            rs = pick(rows, scenario="fanout", rate="full", clients=n, server=s)
            if rs:
                lines.append([n, s, fmt(stat(rs, "deliveries_per_s")), fmt(stat(rs, "p50_us"), 1000, 1),
                              fmt(stat(rs, "p99_us"), 1000, 1), "%d/%d/%d" % losses(rs)])
    out.append("### Room fanout, 10 senders at full speed (window 16)\n")
    out.append(table(["clients", "server", "deliveries/s", "p50 ms", "p99 ms", "lost/reord/err"], lines))
    base = {s: med(pick(rows, scenario="fanout", rate="full", clients=1000, server=s), "deliveries_per_s")
            for s in SERVERS}
    if base.get("forkchatd"):
        ratio = ["%s: %.2fx" % (s, base["forkchatd"] / v) for s, v in base.items() if v and s != "forkchatd"]
        out.append("\nforkchatd (okfail) at 1000 clients relative to: " + ", ".join(ratio) + "\n")
    return sizes, base


def rate_tables(rows, out):
    for scen, title in (("fanout", "Room fanout at a fixed rate (1000 clients, 10 senders)"),
                        ("pm", "Private messages between random pairs, 1000 clients")):
        lines = []
        for rate in ("full", "1000", "100"):
            for s in SERVERS:
                rs = pick(rows, scenario=scen, rate=rate, clients=1000, server=s)
                if rs and not (scen == "fanout" and rate == "full"):
                    lines.append([rate, s, fmt(stat(rs, "msgs_per_s")), fmt(stat(rs, "deliveries_per_s")),
                                  fmt(stat(rs, "p50_us"), 1, 0), fmt(stat(rs, "p99_us"), 1, 0),
                                  fmt(stat(rs, "max_us"), 1, 0), "%d/%d/%d" % losses(rs)])
        out.append("\n### %s\n" % title)
        out.append(table(["rate", "server", "msgs/s", "deliveries/s", "p50 µs", "p99 µs", "max µs",
                          "lost/reord/err"], lines))


def other_tables(rows, out):
    lines = [[s, fmt(stat(rs, "logins_per_s")), fmt(stat(rs, "p50_us"), 1000, 1), fmt(stat(rs, "p99_us"), 1000, 1),
              "%s" % sum(int(r.get("failed", 0)) for r in rs)]
             for s in SERVERS for rs in [pick(rows, scenario="login", server=s)] if rs]
    out.append("\n### Login storm, 2000 connections\n")
    out.append(table(["server", "logins/s", "p50 ms", "p99 ms", "failed"], lines))
    lines = [[s, rs[0]["clients"], fmt(stat(rs, "bytes_per_client")), fmt(stat(rs, "pss_kib"), 1024, 1),
              fmt(stat(rs, "rss_kib"), 1024, 1), fmt(stat(rs, "sock_kib"), 1024, 1)]
             for s in SERVERS for rs in [pick(rows, scenario="idle", server=s)] if rs]
    out.append("\n### Idle crowd\n")
    out.append(table(["server", "clients", "bytes/client", "Pss MiB (sum)", "VmRSS MiB (sum)",
                      "TCP sock MiB (system)"], lines))
    f, c = pick(rows, scenario="file"), pick(rows, scenario="copy")
    out.append("\n### File relay, 1 GiB, sender and receiver on different workers\n")
    out.append(table(["path", "MiB/s", "daemon peak VmRSS MiB (sum)", "peak Pss MiB (sum)"],
                     [["forkchatd FILE", fmt(stat(f, "mb_per_s")), fmt(stat(f, "peak_rss_kib"), 1024, 1),
                       fmt(stat(f, "peak_pss_kib"), 1024, 1)],
                      ["plain TCP copy", fmt(stat(c, "mb_per_s")), "", ""]]))


IRC = ["forkchatd-irc", "ngircd", "inspircd"]
# scenario, selector, field, label, higher is better
IRC_ROWS = [("fanout", {"rate": "full", "clients": n}, "deliveries_per_s", "fanout %d, deliveries/s" % n, True)
            for n in (100, 300, 1000, 3000)] + [
    ("fanout", {"rate": "1000", "clients": 1000}, "p99_us", "fanout 1000 msgs/s, p99 µs", False),
    ("pm", {"rate": "full", "clients": 1000}, "msgs_per_s", "PM full speed, msgs/s", True),
    ("pm", {"rate": "1000", "clients": 1000}, "p99_us", "PM 1000 msgs/s, p99 µs", False),
    ("login", {}, "logins_per_s", "login storm, logins/s", True),
    ("idle", {}, "bytes_per_client", "idle, bytes/client", False),
]


def same_run_ratio(rows, scen, sel, field, a, b):
    """median over repetitions of a/b measured in the same repetition"""
    rs = []
    for rep in sorted({r["rep"] for r in rows}):
        va = med(pick(rows, scenario=scen, server=a, rep=rep, **sel), field)
        vb = med(pick(rows, scenario=scen, server=b, rep=rep, **sel), field)
        if va and vb:
            rs.append(va / vb)
    return statistics.median(rs) if rs else None


def irc_tables(rows, out):
    """forkchatd's irc dialect against the IRC daemons, on the same protocol"""
    lines = []
    for scen, sel, field, label, up in IRC_ROWS:
        cells = [pick(rows, scenario=scen, server=s, **sel) for s in IRC]
        if not any(cells):
            continue
        ratios = []
        for peer in IRC[1:]:
            r = same_run_ratio(rows, scen, sel, field, IRC[0], peer)
            ratios.append("%.2fx" % r if r else "n/a")
        lost = sum(losses(c)[0] + losses(c)[1] for c in cells if c)
        lines.append([label] + [fmt(stat(c, field)) if c else "n/a" for c in cells] + ratios +
                     ["higher" if up else "lower", lost])
    lim = same_run_ratio(rows, "login", {}, "logins_per_s", "forkchatd-irc", "limit")
    out.append("\n### Same protocol: forkchatd's irc dialect against ngircd and InspIRCd\n")
    out.append(table(["scenario"] + IRC + ["irc/ngircd (same run)", "irc/InspIRCd (same run)", "better",
                      "lost+reord"], lines))
    if lim:
        out.append("\nforkchatd-irc login storm / limit in the same repetition: %.0f%% (goal >= 80%%)\n"
                   % (lim * 100))


def targets(rows, base, out):
    def m(scen, field, **kw):
        return med(pick(rows, scenario=scen, **kw), field)
    fc = base.get("forkchatd") or 0
    res = []

    def add(name, val, goal, ok, note):
        res.append([name, val, goal, "met" if ok else "missed", note])
    for peer, want in (("ngircd", 2.0), ("inspircd", 1.5)):
        if base.get(peer):
            r = fc / base[peer]
            add("fanout 1000 vs %s" % peer, "%.2fx" % r, ">= %.1fx" % want, r >= want,
                "%+.0f%% of target" % ((r / want - 1) * 100))
    if base.get("limit"):
        r = fc / base["limit"]
        add("fanout 1000 vs coalesced limit", "%.0f%%" % (r * 100), ">= 60%", r >= 0.6,
            "%+.0f points" % ((r - 0.6) * 100))
    for scen in ("fanout", "pm"):
        p = m(scen, "p99_us", rate="1000", clients=1000, server="forkchatd")
        if p is not None:
            add("p99 %s 1000 clients 1000 msgs/s" % scen, "%.0f µs" % p, "< 1000 µs", p < 1000,
                "%.1fx the target" % (p / 1000))
    b = m("idle", "bytes_per_client", server="forkchatd")
    if b is not None:
        add("idle memory per client", "%.0f B" % b, "<= 8192 B", b <= 8192, "%.2fx the budget" % (b / 8192))
    lg = m("login", "logins_per_s", server="forkchatd")
    if lg is not None:
        add("login storm", "%.0f/s" % lg, ">= 20000/s", lg >= 20000, "%.1f%% of target" % (lg / 200))
    r = same_run_ratio(rows, "login", {}, "logins_per_s", "forkchatd-irc", "limit")
    if r:
        add("irc login storm vs limit (same run)", "%.0f%%" % (r * 100), ">= 80%", r >= 0.8,
            "%+.0f points" % ((r - 0.8) * 100))
    fr, cp = m("file", "mb_per_s", server="forkchatd-numeric"), m("copy", "mb_per_s")
    if fr and cp:
        add("file relay vs TCP copy", "%.0f%%" % (fr / cp * 100), ">= 50%", fr / cp >= 0.5,
            "%.0f vs %.0f MiB/s" % (fr, cp))
    out.append("\n### Targets\n")
    out.append(table(["target", "measured (median)", "goal", "", "by how much"], res))


def per_rep(rows, field, a, b, **kw):
    """a/b of field per repetition (same run), with a and b server names."""
    out = []
    for rep in sorted({r["rep"] for r in rows if "rep" in r}):
        va = med(pick(rows, rep=rep, server=a, **kw), field)
        vb = med(pick(rows, rep=rep, server=b, **kw), field)
        if va is not None and vb:
            out.append(va / vb)
    return out


def issue15_targets(rows, out):
    """The goals of issue 15, each as a same-run ratio per repetition."""
    res = []

    def add(name, ratios, goal, higher_is_better=True, unit="x"):
        if not ratios:
            return
        m = statistics.median(ratios)
        ok = m >= goal if higher_is_better else m <= goal
        every = all(r >= goal if higher_is_better else r <= goal for r in ratios)
        show = (lambda v: "%.0f %%" % (v * 100)) if unit == "%" else (lambda v: "%.2fx" % v)
        res.append([name, " / ".join(show(r) for r in ratios), show(m),
                    ("≥ " if higher_is_better else "≤ ") + show(goal),
                    ("met" if ok else "**missed**") + ("" if every or not ok else " (not in every repetition)")])
    fan = dict(scenario="fanout", rate="full", clients=1000)
    add("fanout 1000 clients: deliveries/s vs ngircd", per_rep(rows, "deliveries_per_s", "forkchatd", "ngircd", **fan), 3.0)
    add("fanout 1000 clients: deliveries/s vs InspIRCd", per_rep(rows, "deliveries_per_s", "forkchatd", "inspircd", **fan), 2.5)
    pm = dict(scenario="pm", clients=1000)
    add("PM full speed: msgs/s vs InspIRCd", per_rep(rows, "msgs_per_s", "forkchatd", "inspircd", rate="full", **pm), 1.5)
    add("PM full speed: p99 vs InspIRCd's", per_rep(rows, "p99_us", "forkchatd", "inspircd", rate="full", **pm), 1.0, False)
    add("PM 1000 msgs/s: p99 vs InspIRCd's", per_rep(rows, "p99_us", "forkchatd", "inspircd", rate="1000", **pm), 1.0, False)
    add("fanout 1000 msgs/s: p99 vs limit's", per_rep(rows, "p99_us", "forkchatd", "limit", scenario="fanout",
                                                       rate="1000", clients=1000), 1.3, False)
    add("login storm irc: logins/s vs limit", per_rep(rows, "logins_per_s", "forkchatd-irc", "limit",
                                                       scenario="login"), 0.8, unit="%")
    for field, goal, what in (("upload_mb_per_s", 0.8, "upload"), ("deliver_mb_per_s", 0.8, "delivery"),
                              ("mb_per_s", 0.4, "whole 1 GiB")):
        ratios = []
        for rep in sorted({r["rep"] for r in rows if "rep" in r}):
            f = med(pick(rows, rep=rep, scenario="file"), field)
            c = med(pick(rows, rep=rep, scenario="copy"), "mb_per_s")
            if f is not None and c:
                ratios.append(f / c)
        add("file %s vs TCP copy" % what, ratios, goal, unit="%")
    presence = []  # okfail storm vs N/L_limit + N(N-1)/2/F (docs/BENCHMARKS.md)
    for rep in sorted({r["rep"] for r in rows if "rep" in r}):
        lg = pick(rows, rep=rep, scenario="login", server="forkchatd")
        lim = med(pick(rows, rep=rep, scenario="login", server="limit"), "logins_per_s")
        f = med(pick(rows, rep=rep, scenario="fanout", rate="full", clients=1000, server="forkchatd"),
                "deliveries_per_s")
        if lg and lim and f:
            n = float(lg[0]["clients"])
            presence.append(float(lg[0]["logins_per_s"]) * (1 / lim + (n - 1) / (2 * f)))
    add("login storm okfail: logins/s vs 1/(1/L_limit + (N-1)/2F)", presence, 1.0)
    idle = [float(r["bytes_per_client"]) for r in pick(rows, scenario="idle", server="forkchatd")]
    out.append("\n### Issue 15 goals, same-run ratios per repetition\n")
    out.append(table(["goal", "per repetition", "median", "goal", ""], res))
    if idle:
        out.append("\nidle bytes per client (forkchatd, 10,000, after the fanout rows): %s; goal ≤ 2,500: %s\n"
                   % (" / ".join("%.0f" % v for v in idle),
                      "met" if statistics.median(idle) <= 2500 else "**missed**"))


def plot_fanout(rows, sizes, outdir, plotdir):
    if not sizes:
        return
    dat = os.path.join(outdir, "fanout_vs_clients.dat")
    present = [s for s in SERVERS if pick(rows, scenario="fanout", rate="full", server=s)]
    with open(dat, "w") as f:
        f.write("# clients " + " ".join(present) + "\n")
        for n in sizes:
            vals = [med(pick(rows, scenario="fanout", rate="full", clients=n, server=s), "deliveries_per_s")
                    for s in present]
            f.write("%d %s\n" % (n, " ".join("%.0f" % v if v else "NaN" for v in vals)))
    plots = ", ".join("'%s' using 1:%d with linespoints title '%s'" % (dat, i + 2, s)
                      for i, s in enumerate(present))
    gnuplot("""set terminal pngcairo size 900,560 noenhanced
set output '%s/fanout_deliveries.png'
set title 'Room fanout, 10 senders at full speed: deliveries/s (median of 3)'
set xlabel 'clients'; set ylabel 'deliveries/s'; set logscale x; set grid
set key top right; set format y '%%.1s%%c'
plot %s
""" % (plotdir, plots))


def plot_cdf(outdir, plotdir, scen):
    files = [(s, os.path.join(outdir, "cdf-%s-%s-1.txt" % (scen, s))) for s in SERVERS]
    files = [(s, f) for s, f in files if os.path.exists(f) and os.path.getsize(f)]
    if not files:
        return
    plots = ", ".join("'%s' using 1:2 with lines lw 2 title '%s'" % (f, s) for s, f in files)
    gnuplot("""set terminal pngcairo size 900,560 noenhanced
set output '%s/latency_cdf_%s.png'
set title '%s, 1000 clients: delivery latency CDF (repetition 1)'
set xlabel 'latency (µs, log)'; set ylabel 'fraction of deliveries'; set logscale x; set grid
set key bottom right; set yrange [0:1]
plot %s
""" % (plotdir, scen, {"fanout": "Room fanout at 1000 msgs/s", "pm": "Private messages at 1000 msgs/s",
                       "fanout100": "Room fanout at 100 msgs/s"}[scen], plots))


def gnuplot(script):
    try:
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("gnuplot failed: %s" % e, file=sys.stderr)


def main():
    outdir, plotdir = sys.argv[1], sys.argv[2]
    os.makedirs(plotdir, exist_ok=True)
    rows = load(os.path.join(outdir, "results.txt"))
    out = []
    sizes, base = fanout_tables(rows, out)
    rate_tables(rows, out)
    other_tables(rows, out)
    irc_tables(rows, out)
    targets(rows, base, out)
    issue15_targets(rows, out)
    plot_fanout(rows, sizes, outdir, plotdir)
    for scen in ("fanout", "pm", "fanout100"):
        plot_cdf(outdir, plotdir, scen)
    print("\n".join(out))
    for p in sorted(glob.glob(os.path.join(outdir, "perf-*.txt"))):
        print("\n### %s (top)\n\n```\n%s```" % (os.path.basename(p), "".join(open(p).readlines()[:25])))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""bench/cluster_summary.py OUTDIR: the cluster rows of OUTDIR/results.txt
(server=cluster-SHAPE, from bench/cluster.sh) as a markdown table: median
and min-max over the repetitions of deliveries/s, p99, and the CPU used by
Redis and by the nodes, for each shape and scenario."""
import os
import statistics
import sys

SHAPES = ["1x2", "1x2c", "2x1", "3x1"]
ROWS = [("fanout", "full", "room fanout, full rate"),
        ("fanout", "100", "room fanout, 100 msgs/s"),
        ("pm", "1000", "PM, 1000 msgs/s")]


def load(path):
    rows = []
    for line in open(path):
        if line.startswith("RESULT ") and "server=cluster-" in line:
            d = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
            if d.get("rep") != "warm":
                rows.append(d)
    return rows


def fmt(vals, scale=1.0, digits=0):
    if not vals:
        return "n/a"
    f = "{:,.%df}" % digits
    v = [x / scale for x in vals]
    return "%s (%s–%s)" % (f.format(statistics.median(v)), f.format(min(v)), f.format(max(v)))


def main():
    rows = load(os.path.join(sys.argv[1], "results.txt"))
    print("| scenario | shape | deliveries/s | p99 ms | Redis CPU % | nodes CPU % | lost/reord/err |")
    print("|---|---|---|---|---|---|---|")
    for scen, rate, label in ROWS:
        for shape in SHAPES:
            rs = [r for r in rows if r["server"] == "cluster-" + shape and
                  r["scenario"] == scen and r["rate"] == rate]
            if not rs:
                continue
            col = lambda k: [float(r[k]) for r in rs if k in r]
            bad = "/".join(str(sum(int(r.get(k, 0)) for r in rs))
                           for k in ("lost", "reordered", "errors"))
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                label, shape, fmt(col("deliveries_per_s")), fmt(col("p99_us"), 1000, 2),
                fmt(col("redis_cpu_pct")), fmt(col("nodes_cpu_pct")), bad))


if __name__ == "__main__":
    main()

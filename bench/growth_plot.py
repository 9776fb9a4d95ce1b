#!/usr/bin/env python3
"""bench/growth_plot.py OUTDIR PLOTDIR: the table and plots of bench/growth.sh
(fanout deliveries/s and CPU per delivery by room size, forkchatd's and the
limit server's, idle bytes per client by crowd size; medians over the
repetitions) from OUTDIR/results.txt."""
import os
import sys

# the results file, its medians and gnuplot as the main summary reads them
from summarize import gnuplot, load
from summarize import stat as med


def by_size(rows, scen, server="forkchatd"):
    mine = [r for r in rows if r.get("scenario") == scen and r.get("server") == server]
    return [(n, [r for r in mine if int(r["clients"]) == n]) for n in sorted({int(r["clients"]) for r in mine})]


def fmt(s, digits=0):
    if s is None:
        return "n/a"
    f = "{:,.%df}" % digits
    return "%s (%s–%s)" % tuple(f.format(x) for x in s) if s[1] != s[2] else f.format(s[0])


def main():
    outdir, plotdir = sys.argv[1], sys.argv[2]
    os.makedirs(plotdir, exist_ok=True)
    rows = load(os.path.join(outdir, "results.txt"))
    fan, idle = by_size(rows, "fanout"), by_size(rows, "idle")
    limit = dict(by_size(rows, "fanout", "limit"))

    def table(name, head, dat_head, rows, line):
        """A markdown table on stdout and its .dat file for gnuplot (its path)."""
        print(head)
        print("|---" * head.count("|", 1) + "|")
        path = os.path.join(outdir, name)
        with open(path, "w") as f:
            f.write(dat_head + "\n")
            for n, rs in rows:
                md, dat = line(n, rs)
                print(md)
                f.write(dat + "\n")
        return path

    def fan_line(n, rs):
        d, c, p = med(rs, "deliveries_per_s"), med(rs, "cpu_us_per_delivery"), med(rs, "p99_us")
        u, s = med(rs, "user_us_per_delivery"), med(rs, "sys_us_per_delivery")
        lc = med(limit.get(n, []), "cpu_us_per_delivery")
        lost = sum(int(r.get("lost", 0)) for r in rs)
        reord = sum(int(r.get("reordered", 0)) for r in rs)
        md = "| %d | %s | %s | %s / %s | %s | %s | %d/%d |" % (
            n, fmt(d), fmt(c, 3), fmt(u, 3), fmt(s, 3), fmt(lc, 3), fmt(p and tuple(x / 1000 for x in p), 1),
            lost, reord)
        return md, "%d %.0f %s" % (n, d[0], " ".join("%.4f" % x[0] if x else "NaN" for x in (c, lc, u)))

    def idle_line(n, rs):
        b, pss, dl = med(rs, "bytes_per_client"), med(rs, "pss_kib"), med(rs, "delta_bytes_per_client")
        md = "| %d | %s | %s | %s |" % (n, fmt(b), fmt(dl), fmt(pss and tuple(x / 1024 for x in pss), 1))
        return md, "%d %.0f %s" % (n, b[0], "%.0f" % dl[0] if dl else "NaN")

    dat = table("growth_fanout.dat",
                "| clients | deliveries/s | CPU µs per delivery (both workers) | of it user / system | limit server's CPU µs per delivery | p99 ms | lost/reord |",
                "# clients deliveries_per_s cpu_us_per_delivery limit_cpu_us_per_delivery user_us_per_delivery", fan, fan_line)
    print()
    idat = table("growth_idle.dat",
                 "| idle clients | bytes/client (all-in) | bytes/client above the daemon before they came | Pss MiB (sum) |",
                 "# clients bytes_per_client delta_bytes_per_client", idle, idle_line)
    gnuplot("""set terminal pngcairo size 900,560 noenhanced
set output '%s/growth_fanout.png'
set title 'forkchatd room fanout, 10 senders at full speed, by room size'
set xlabel 'clients in the room'; set logscale x; set grid
set ylabel 'deliveries/s'; set format y '%%.1s%%c'; set yrange [0:*]
set y2label 'CPU µs per delivery (both workers)'; set y2tics; set y2range [0:*]
set key top left
plot '%s' using 1:2 with linespoints lw 2 title 'deliveries/s', \\
     '%s' using 1:3 axes x1y2 with linespoints lw 2 title 'CPU µs per delivery', \\
     '%s' using 1:4 axes x1y2 with linespoints lw 2 dt 2 title 'limit server: CPU µs per delivery', \\
     '%s' using 1:5 axes x1y2 with linespoints lw 2 dt 3 title 'forkchatd user time µs per delivery'
""" % (plotdir, dat, dat, dat, dat))
    gnuplot("""set terminal pngcairo size 900,460 noenhanced
set output '%s/growth_idle.png'
set title 'forkchatd idle memory per logged-in client (Pss of every process + TCP socket memory)'
set xlabel 'idle clients'; set ylabel 'bytes per client'; set grid; set yrange [0:*]
set logscale x
plot '%s' using 1:2 with linespoints lw 2 title 'bytes/client (all-in)', \\
     '%s' using 1:3 with linespoints lw 2 title 'above the daemon before they came', \\
     2500 with lines dt 2 title 'goal 2,500 B'
""" % (plotdir, idat, idat))


if __name__ == "__main__":
    main()

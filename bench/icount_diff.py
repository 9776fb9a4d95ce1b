#!/usr/bin/env python3
"""bench/icount_diff.py: per-function self cost (Ir) per delivery, A against
B, from the run directories that `KEEP=1 bash bench/icount.sh` leaves (each
holds cg.PID.1: one worker's counts between the loadgen's READY and DONE).
  icount_diff.py A_DIR A_DELIVERIES B_DIR B_DELIVERIES [TOP]"""
import glob, re, subprocess, sys

LINE = re.compile(r'^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S+)')


def self_cost(d, n):
    out = {}
    for f in glob.glob(d + '/cg.*.1'):
        txt = subprocess.run(['callgrind_annotate', '--inclusive=no',
                              '--threshold=100', '--auto=no', f],
                             capture_output=True, text=True).stdout
        for l in txt.splitlines():
            m = LINE.match(l)
            if not m or 'PROGRAM' in l:
                continue
            k = re.sub(r'^/work/wt/[^/]+/|^/tmp/[^/]+/|^/.*/(?=[^/]+:)', '',
                       m.group(2))
            out[k] = out.get(k, 0) + int(m.group(1).replace(',', '')) / n
    return out


a = self_cost(sys.argv[1], float(sys.argv[2]))
b = self_cost(sys.argv[3], float(sys.argv[4]))
top = int(sys.argv[5]) if len(sys.argv) > 5 else 25
rows = sorted(((b.get(k, 0) - a.get(k, 0), a.get(k, 0), b.get(k, 0), k)
               for k in set(a) | set(b)), key=lambda r: -abs(r[0]))
print('%8s %8s %8s  function (self Ir per delivery)' % ('B-A', 'A', 'B'))
for r in rows[:top]:
    print('%8.1f %8.1f %8.1f  %s' % r)
print('%8.1f %8.1f %8.1f  total' % (sum(b.values()) - sum(a.values()),
                                     sum(a.values()), sum(b.values())))

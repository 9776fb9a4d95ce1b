#!/usr/bin/env python3
"""bench/icount_diff.py: per-function self cost (Ir) per delivery, from the
callgrind files that bench/icount.sh KEEP=1 leaves, for A/B comparisons.
  icount_diff.py A_T1_DIR A_T2_DIR DA B_T1_DIR B_T2_DIR DB [N]
(DIR: a run.* directory; D: the deliveries of T2 minus those of T1)."""
import glob, re, subprocess, sys

LINE = re.compile(r'^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S+)')

def self_cost(d):
    out = {}
    for f in glob.glob(d + '/cg.*'):
        txt = subprocess.run(['callgrind_annotate', '--inclusive=no',
                              '--threshold=100', '--auto=no', f], capture_output=True,
                             text=True).stdout
        for l in txt.splitlines():
            m = LINE.match(l)
            if not m or 'PROGRAM' in l:
                continue
            k = re.sub(r'^/work/wt/[^/]+/|^/.*/(?=[^/]+:)', '', m.group(2))
            out[k] = out.get(k, 0) + int(m.group(1).replace(',', ''))
    return out

def per(t1, t2, n):
    a, b = self_cost(t1), self_cost(t2)
    return {k: (b.get(k, 0) - a.get(k, 0)) / n for k in set(a) | set(b)}

a = per(sys.argv[1], sys.argv[2], float(sys.argv[3]))
b = per(sys.argv[4], sys.argv[5], float(sys.argv[6]))
top = int(sys.argv[7]) if len(sys.argv) > 7 else 25
rows = sorted(((b.get(k, 0) - a.get(k, 0), a.get(k, 0), b.get(k, 0), k)
               for k in set(a) | set(b)), key=lambda r: -abs(r[0]))
print('%8s %8s %8s  function (self Ir per delivery)' % ('B-A', 'A', 'B'))
for r in rows[:top]:
    print('%8.1f %8.1f %8.1f  %s' % r)
print('%8.1f %8.1f %8.1f  total' % (sum(b.values()) - sum(a.values()),
                                     sum(a.values()), sum(b.values())))

#!/usr/bin/env python3
"""bench/ab_summary.py: medians (min-max) per scenario and build of the
RESULT lines that bench/ab.sh prints.   python3 bench/ab_summary.py FILE"""
import re, statistics, sys

rows = {}
for line in open(sys.argv[1]):
    if not line.startswith('RESULT'):
        continue
    f = dict(re.findall(r'(\w+)=(\S+)', line))
    key = (f['scenario'] + ('' if f.get('rate') in (None, 'full') else '@' + f['rate']), f['server'])
    rows.setdefault(key, []).append(f)


def cell(fs, k):
    v = sorted(float(f[k]) for f in fs if k in f)
    return '%s (%s-%s)' % (format(statistics.median(v), ',.0f'), format(v[0], ',.0f'), format(v[-1], ',.0f')) if v else '-'


print('| scenario | build | deliveries/s (idle: bytes/client, login: logins/s, file: MiB/s) | p50 us | p99 us | loads | lost/reord |')
print('|---|---|---|---|---|---|---|')
for (s, srv), fs in rows.items():
    loads = ' '.join(f.get('load', '?').split('/')[0] for f in fs)
    lr = '%d/%d' % (sum(int(f.get('lost', 0)) for f in fs), sum(int(f.get('reordered', 0)) for f in fs))
    main = cell(fs, {'idle': 'bytes_per_client', 'login': 'logins_per_s', 'file': 'mb_per_s'}.get(s, 'deliveries_per_s'))
    if s == 'file':
        main += ' up %s, deliver %s' % (cell(fs, 'upload_mb_per_s'), cell(fs, 'deliver_mb_per_s'))
    print('| %s | %s | %s | %s | %s | %s | %s |' % (s, srv, main, cell(fs, 'p50_us'), cell(fs, 'p99_us'), loads, lr))

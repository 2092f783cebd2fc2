#!/usr/bin/env python3
"""Checks that the points of a line-protocol file are in InfluxDB 1.x exactly
once: for every timestamp of the file, InfluxDB holds as many points at
that timestamp (across the file's measurements) as the file has distinct
series there, and each of the file's points with its field values
(lpcompare.py's comparison).

usage: lp_once.py FILE INFLUX_URL DB [--since NS] [--until NS]
--since, --until: only timestamps >= NS, <= NS. Prints "N timestamps, M points, each once"
and exits 1 on the first difference."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lpcompare import parse_line, query  # noqa: E402


def main():
    path, url, db = sys.argv[1:4]
    since = int(sys.argv[sys.argv.index('--since') + 1]) if '--since' in sys.argv else None
    until = int(sys.argv[sys.argv.index('--until') + 1]) if '--until' in sys.argv else None
    want = {}  # ts -> {(name, tags): fields}
    for line in open(path):
        if not line.strip():
            continue
        name, tags, fields, ts = parse_line(line.rstrip('\n'))
        if (since is not None and ts < since) or (until is not None and ts > until):
            continue
        want.setdefault(ts, {})[(name, tuple(sorted(tags.items())))] = fields
    if not want:
        print('no points in %s' % path)
        return 1
    lo, hi = min(want), max(want)
    names = sorted({k[0] for pts in want.values() for k in pts})
    have = {}  # ts -> list of (name, tags, row)
    for name in names:
        res = query(url, db, 'SELECT * FROM "%s" WHERE time >= %d AND time <= %d GROUP BY *' %
                    (name.replace('"', '\\"'), lo, hi))
        for s in res['results'][0].get('series', []):
            tags = tuple(sorted((k, v) for k, v in (s.get('tags') or {}).items() if v != ''))
            cols = s['columns']
            for v in s['values']:
                row = dict(zip(cols, v))
                have.setdefault(row['time'], []).append((name, tags, row))
    npts = 0
    for ts in sorted(want):
        got = have.get(ts, [])
        if len(got) != len(want[ts]):
            missing = [k for k in want[ts] if not any((g[0], g[1]) == k for g in got)]
            print('@%d: InfluxDB has %d points, the file %d (missing: %s)' %
                  (ts, len(got), len(want[ts]), missing[:3]))
            return 1
        for (name, tags), fields in want[ts].items():
            row = next((g[2] for g in got if (g[0], g[1]) == (name, tags)), None)
            if row is None:
                print('point not found: %s %s @%d' % (name, dict(tags), ts))
                return 1
            for k, v in fields.items():
                g = row.get(k)
                if isinstance(v, float) and type(g) is int:
                    g = float(g)
                if type(g) is not type(v) or g != v:
                    print('%s %s @%d field %s: InfluxDB has %r, the file %r' % (name, dict(tags), ts, k, g, v))
                    return 1
            npts += 1
    print('%d timestamps, %d points, each once' % (len(want), npts))
    return 0


if __name__ == '__main__':
    sys.exit(main())

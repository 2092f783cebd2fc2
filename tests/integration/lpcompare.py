#!/usr/bin/env python3
"""Checks that every line-protocol point in a file is in InfluxDB 1.x with the
same tags, field values, field types and nanosecond timestamp.

usage: lpcompare.py FILE INFLUX_URL DB [--expect-count N]
Prints "N points compared" and exits 1 on the first difference."""
import json
import sys
import urllib.parse
import urllib.request


def split_unescaped(s, sep):
    out, cur, i = [], [], 0
    while i < len(s):
        c = s[i]
        if c == '\\' and i + 1 < len(s):
            cur.append(s[i:i + 2])
            i += 2
            continue
        if c == sep:
            out.append(''.join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append(''.join(cur))
    return out


def unescape(s):
    return s.replace('\\ ', ' ').replace('\\,', ',').replace('\\=', '=')


def parse_field(v):
    if v.endswith('i'):
        return int(v[:-1])
    if v.endswith('u'):
        return int(v[:-1])
    if v.startswith('"'):
        return v[1:-1].replace('\\"', '"').replace('\\\\', '\\')
    if v in ('true', 'false'):
        return v == 'true'
    return float(v)


def parse_line(line):
    # Our writers emit: measurement[,tags] fields timestamp; string fields
    # without spaces are enough for the agent's own inputs.
    parts = []
    cur, inq, i = [], False, 0
    while i < len(line):
        c = line[i]
        if c == '\\' and not inq and i + 1 < len(line):
            cur.append(line[i:i + 2]); i += 2; continue
        if c == '\\' and inq and i + 1 < len(line):
            cur.append(line[i:i + 2]); i += 2; continue
        if c == '"':
            inq = not inq
        if c == ' ' and not inq:
            parts.append(''.join(cur)); cur = []
        else:
            cur.append(c)
        i += 1
    parts.append(''.join(cur))
    key, fields, ts = parts[0], parts[1], int(parts[2])
    kp = split_unescaped(key, ',')
    name = unescape(kp[0])
    tags = dict((unescape(a), unescape(b)) for a, b in (split_unescaped(t, '=') for t in kp[1:]))
    fl = {}
    for f in split_unescaped(fields, ','):
        k, v = f.split('=', 1)
        fl[unescape(k)] = parse_field(v)
    return name, tags, fl, ts


def query(url, db, q):
    u = url + '/query?' + urllib.parse.urlencode({'db': db, 'q': q, 'epoch': 'ns'})
    with urllib.request.urlopen(u, timeout=10) as r:
        return json.load(r)


def main():
    path, url, db = sys.argv[1], sys.argv[2], sys.argv[3]
    expect = None
    if '--expect-count' in sys.argv:
        expect = int(sys.argv[sys.argv.index('--expect-count') + 1])
    points = [parse_line(l.rstrip('\n')) for l in open(path) if l.strip()]
    if not points:
        print('no points in', path)
        return 1
    byname = {}
    for p in points:
        byname.setdefault(p[0], []).append(p)
    n = 0
    for name, pts in byname.items():
        res = query(url, db, 'SELECT * FROM "%s"' % name.replace('"', '\\"'))
        series = res['results'][0].get('series', [])
        if not series:
            print('measurement %s missing in InfluxDB' % name)
            return 1
        cols = series[0]['columns']
        rows = [dict(zip(cols, v)) for v in series[0]['values']]
        index = {}
        for r in rows:
            index.setdefault(r['time'], []).append(r)
        for (_, tags, fields, ts) in pts:
            cands = [r for r in index.get(ts, []) if all(r.get(k) == v for k, v in tags.items())]
            if not cands:
                print('point not found: %s %s @%d' % (name, tags, ts))
                return 1
            r = cands[0]
            for k, v in fields.items():
                got = r.get(k)
                # JSON cannot tell 5.0 from 5: InfluxDB writes a whole float as 5.
                if isinstance(v, float) and type(got) is int:
                    got = float(got)
                if type(got) is not type(v) or got != v:
                    print('%s %s @%d field %s: InfluxDB has %r (%s), line has %r (%s)' %
                          (name, tags, ts, k, got, type(got).__name__, v, type(v).__name__))
                    return 1
            n += 1
    if expect is not None and n != expect:
        print('compared %d points, expected %d' % (n, expect))
        return 1
    print('%d points compared' % n)
    return 0


if __name__ == '__main__':
    sys.exit(main())

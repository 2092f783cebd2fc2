#!/usr/bin/env python3
"""Checks that every numeric field of every line-protocol point in a file is
in VictoriaMetrics as the prometheus_remote_write output maps it (README):
series measurement_field with the tags as labels, the value, and the
timestamp in milliseconds. VictoriaMetrics keeps 12 significant decimal
digits, so values are compared to that precision (integers below 1e11
exactly).

usage: prw_compare.py FILE VM_URL
Prints "N samples compared" and exits 1 on the first difference."""
import json
import math
import os
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lpcompare import parse_line  # noqa: E402


def export(url):
    data = urllib.parse.urlencode({'match[]': '{__name__=~".+"}'}).encode()
    with urllib.request.urlopen(url + '/api/v1/export', data=data, timeout=30) as r:
        for line in r:
            if line.strip():
                yield json.loads(line)


def same(want, got):
    if want == got:
        return True
    if float(want).is_integer() and abs(want) < 1e11:
        return False
    return math.isclose(want, got, rel_tol=1e-11, abs_tol=1e-300)


def main():
    path, url = sys.argv[1], sys.argv[2]
    stored = {}
    for s in export(url):
        key = tuple(sorted(s['metric'].items()))
        stored[key] = dict(zip(s['timestamps'], s['values']))
    n = 0
    for line in open(path):
        if not line.strip():
            continue
        name, tags, fields, ts = parse_line(line.rstrip('\n'))
        ms = ts // 1000000
        for k, v in fields.items():
            if isinstance(v, str):
                continue
            want = float(v)  # bool -> 1.0 / 0.0
            labels = dict((t, tv) for t, tv in tags.items() if tv != '')
            labels['__name__'] = k if name == 'prometheus' else '%s_%s' % (name, k)
            series = stored.get(tuple(sorted(labels.items())))
            if series is None:
                print('series missing in VictoriaMetrics: %s' % labels)
                return 1
            if ms not in series:
                print('%s: no sample at %d ms (has %s)' % (labels, ms, sorted(series)[:5]))
                return 1
            if not same(want, series[ms]):
                print('%s @%d: VictoriaMetrics has %r, line has %r' % (labels, ms, series[ms], want))
                return 1
            n += 1
    if n == 0:
        print('no numeric samples in', path)
        return 1
    print('%d samples compared' % n)
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""Counts what the fault server accepted, for test_output_recovery.sh.

usage: otlp_points.py REQUESTS.json PATH
Prints "<accepted requests> <points> <sum of values> <distinct i> <requests after the last refusal>"
for the requests to PATH: a line protocol body (/write) counts a line as a
point with its field v; an OTLP body (protobuf, ExportMetricsServiceRequest)
is walked by hand (no protobuf module needed) for NumberDataPoint.as_int and
the attribute i. Refused requests (status not 2xx) count only in the last column.
"""
import json
import struct
import sys


def fields(buf):
    """(field number, wire type, value) of one protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = varint(buf, pos)
        elif wt == 1:
            v, pos = buf[pos:pos + 8], pos + 8
        elif wt == 2:
            n, pos = varint(buf, pos)
            v, pos = buf[pos:pos + n], pos + n
        elif wt == 5:
            v, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("wire type %d" % wt)
        yield num, wt, v


def varint(buf, pos):
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def sub(msg, num):
    return [v for n, wt, v in fields(msg) if n == num and wt == 2]


def otlp_points(body):
    # request.resource_metrics(1).scope_metrics(2).metrics(2).gauge(5).data_points(1)
    for rm in sub(body, 1):
        for sm in sub(rm, 2):
            for m in sub(sm, 2):
                for g in sub(m, 5):
                    for p in sub(g, 1):
                        value = attr = None
                        for n, wt, v in fields(p):
                            if n == 6 and wt == 1:
                                value = struct.unpack("<q", v)[0]
                            elif n == 7 and wt == 2:
                                key = sub(v, 1)[0].decode()
                                sval = sub(sub(v, 2)[0], 1)[0].decode()
                                if key == "i":
                                    attr = sval
                        yield attr, value


def lp_points(body):
    for line in body.split("\n"):
        if not line:
            continue
        tags, fieldset = line.split(" ")[0:2]
        attr = dict(t.split("=") for t in tags.split(",")[1:]).get("i")
        yield attr, int(fieldset.split("=")[1].rstrip("i"))


reqs = [r for r in json.load(open(sys.argv[1])) if r["path"] == sys.argv[2]]
accepted = points = total = 0
seen = set()
after_refusal = 0
for r in reqs:
    ok = isinstance(r.get("answer"), int) and 200 <= r["answer"] < 300
    if not ok:
        after_refusal = 0
        continue
    after_refusal += 1
    accepted += 1
    pts = otlp_points(bytes.fromhex(r["body_hex"])) if sys.argv[2].startswith("/v1") else lp_points(r["body"])
    for attr, value in pts:
        points += 1
        total += value
        seen.add(attr)
print(accepted, points, total, len(seen), after_refusal)

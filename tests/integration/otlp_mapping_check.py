#!/usr/bin/env python3
"""Checks the OTLP requests the agent sent against what influx2otel's
"prometheus-v1" schema gives for the same data, for test_otlp_mapping.sh.

usage: otlp_mapping_check.py REQUESTS.json PROTO_DIR URL=FILE... [-- NODE_FILES_DIR]

Each request body is decoded by protoc with the official opentelemetry-proto
files in PROTO_DIR (not by the agent's own protobuf-c subset) and read from
protoc's text format. The expected metrics are computed here from the
Prometheus text expositions (FILE, scraped as URL), as a separate
implementation of the mapping: counter -> cumulative monotonic Sum named
after the family, gauge -> Gauge, untyped -> Gauge <family>_value,
histogram -> one Histogram point per series (bounds sorted without +Inf,
per-bucket counts from the cumulative `le` counts, count, sum), summary ->
one Summary point (quantiles sorted, count, sum). Prints what it checked;
exits 1 with the differences.
"""
import codecs
import json
import math
import re
import subprocess
import sys

SVC = "opentelemetry/proto/collector/metrics/v1/metrics_service.proto"
MSG = "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest"
errors = []


def err(msg):
    if len(errors) < 40:
        print("MISMATCH: " + msg, file=sys.stderr)
    errors.append(msg)


def scalar(v):
    if v.startswith('"'):
        return codecs.escape_decode(v[1:-1].encode("utf-8"))[0].decode("utf-8")
    if v in ("true", "false"):
        return v == "true"
    for conv in (int, float):
        try:
            return conv(v)
        except ValueError:
            pass
    if v in ("inf", "-inf", "nan"):
        return float(v)
    return v  # an enum name


def parse_text(text):
    """protoc's text format -> {field: [values]} with nested dicts."""
    root = {}
    stack = [root]
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line == "}":
            stack.pop()
        elif line.endswith(" {"):
            d = {}
            stack[-1].setdefault(line[:-2], []).append(d)
            stack.append(d)
        else:
            k, v = line.split(": ", 1)
            stack[-1].setdefault(k, []).append(scalar(v))
    return root


def one(d, k, default=None):
    v = d.get(k)
    return v[0] if v else default


def attrs_of(dp):
    return tuple(sorted((one(a, "key"), one(one(a, "value", {}), "string_value", "")) for a in dp.get("attributes", [])))


def decode_requests(path, proto_dir):
    """name -> {"type", "temporality", "monotonic", "points": {attrs: [point]}}"""
    got = {}
    nreq = 0
    for r in json.load(open(path)):
        if r["path"] != "/v1/metrics":
            continue
        nreq += 1
        body = bytes.fromhex(r["body_hex"])
        out = subprocess.run(["protoc", "-I", proto_dir, "--decode=" + MSG, SVC], input=body,
                             capture_output=True, check=True)
        root = parse_text(out.stdout.decode("utf-8"))
        for rm in root.get("resource_metrics", []):
            for sm in rm.get("scope_metrics", []):
                if one(one(sm, "scope", {}), "name") != "heliograph":
                    err("scope name %r" % one(one(sm, "scope", {}), "name"))
                for m in sm.get("metrics", []):
                    name = one(m, "name")
                    types = [t for t in ("gauge", "sum", "histogram", "summary", "exponential_histogram") if t in m]
                    if len(types) != 1:
                        err("%s: data %r" % (name, types))
                        continue
                    data = one(m, types[0])
                    g = got.setdefault(name, {"type": types[0], "points": {}})
                    if g["type"] != types[0]:
                        err("%s: %s in one request, %s in another" % (name, g["type"], types[0]))
                    g["temporality"] = one(data, "aggregation_temporality")
                    g["monotonic"] = one(data, "is_monotonic", False)
                    for dp in data.get("data_points", []):
                        g["points"].setdefault(attrs_of(dp), []).append(dp)
    return got, nreq


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?\s*$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def go_float(s):
    return float({"+Inf": "inf", "-Inf": "-inf", "Inf": "inf", "NaN": "nan"}.get(s, s))


def unescape_label(v):
    return v.replace('\\\\', '\0').replace('\\"', '"').replace('\\n', '\n').replace('\0', '\\')


def exposition(path, url):
    """The series of a 0.0.4 text file: (family, type, labels) -> parts."""
    types = {}
    series = {}
    order = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(None, 3)
            types[name] = typ.strip()
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = SAMPLE.match(line.strip())
        if not m:
            raise SystemExit("cannot read sample %r of %s" % (line, path))
        name, lab, value = m.group(1), m.group(2) or "", go_float(m.group(3))
        labels = {k: unescape_label(v) for k, v in LABEL.findall(lab)}
        fam, part = name, "value"
        if types.get(name) == "summary":
            part = "quantile"
        elif name not in types:
            for suf in ("_bucket", "_sum", "_count"):
                base = name[: -len(suf)]
                if name.endswith(suf) and types.get(base) in ("histogram", "summary"):
                    fam, part = base, suf[1:]
                    break
        typ = types.get(fam, "untyped")
        bound = labels.pop("le" if part == "bucket" else "quantile", None) if part in ("bucket", "quantile") else None
        labels = {k: v for k, v in labels.items() if v != ""}
        labels["url"] = url
        key = (fam, typ, tuple(sorted(labels.items())))
        if key not in series:
            series[key] = {"value": None, "b": {}, "count": None, "sum": None}
            order.append(key)
        s = series[key]
        if part == "value":
            s["value"] = value
        elif part in ("bucket", "quantile"):
            if part == "quantile" and not math.isfinite(value):
                continue  # Telegraf drops NaN quantiles
            s["b"][go_float(bound)] = value
        else:
            s[part] = value
    return [(k, series[k]) for k in order]


def as_count(v):
    return 0 if not v > 0 else min(int(v), 2**64 - 1)


def expected(files):
    """name -> {"type", "points": {attrs: point dict}}"""
    exp = {}
    for url, path in files:
        for (fam, typ, attrs), s in exposition(path, url):
            if typ in ("counter", "gauge", "untyped"):
                if s["value"] is None or not math.isfinite(s["value"]):
                    continue  # Telegraf (and the input) drop NaN and infinities
                name = fam if typ != "untyped" else fam + "_value"
                otype = {"counter": "sum", "gauge": "gauge", "untyped": "gauge"}[typ]
                pt = {"value": s["value"]}
            else:
                bounds = sorted(s["b"])
                has_inf = bool(bounds) and bounds[-1] == math.inf
                name = fam
                count = as_count(s["count"] or 0)
                if typ == "histogram" and has_inf:
                    otype = "histogram"
                    counts = [as_count(s["b"][b]) for b in bounds]
                    if all(counts[i] <= counts[i + 1] for i in range(len(counts) - 1)):
                        counts = [counts[0]] + [counts[i] - counts[i - 1] for i in range(1, len(counts))]
                    pt = {"bounds": bounds[:-1], "buckets": counts, "count": count, "sum": s["sum"]}
                else:
                    # A summary, or a histogram without +Inf (taken for one).
                    otype = "summary"
                    pt = {"quantiles": [(q, s["b"][q]) for q in bounds], "count": count, "sum": s["sum"] or 0}
            e = exp.setdefault(name, {"type": otype, "points": {}})
            if e["type"] != otype:
                raise SystemExit("fixture conflict: %s is %s and %s" % (name, e["type"], otype))
            e["points"][attrs] = pt
    return exp


def num_value(dp):
    if "as_double" in dp:
        return one(dp, "as_double")
    return one(dp, "as_int")


def same(a, b):
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def check_prometheus(got, exp):
    npoints = 0
    for name, e in sorted(exp.items()):
        g = got.get(name)
        if g is None:
            err("%s: not sent" % name)
            continue
        if g["type"] != e["type"]:
            err("%s: %s, expected %s" % (name, g["type"], e["type"]))
            continue
        if e["type"] in ("sum", "histogram") and g["temporality"] != "AGGREGATION_TEMPORALITY_CUMULATIVE":
            err("%s: temporality %r" % (name, g["temporality"]))
        if e["type"] == "sum" and g["monotonic"] is not True:
            err("%s: not monotonic" % name)
        for attrs, want in e["points"].items():
            dps = g["points"].get(attrs, [])
            if len(dps) != 1:
                err("%s%s: %d points" % (name, dict(attrs), len(dps)))
                continue
            dp = dps[0]
            npoints += 1
            if one(dp, "start_time_unix_nano", 0) != 0:
                err("%s: start_time set" % name)
            if e["type"] in ("sum", "gauge"):
                if not same(float(num_value(dp)), float(want["value"])):
                    err("%s%s: value %r, expected %r" % (name, dict(attrs), num_value(dp), want["value"]))
            elif e["type"] == "histogram":
                gb = [float(x) for x in dp.get("explicit_bounds", [])]
                gc = [int(x) for x in dp.get("bucket_counts", [])]
                if gb != want["bounds"] or gc != want["buckets"] or one(dp, "count", 0) != want["count"]:
                    err("%s%s: bounds %r buckets %r count %r, expected %r %r %r" % (
                        name, dict(attrs), gb, gc, one(dp, "count", 0), want["bounds"], want["buckets"], want["count"]))
                if want["sum"] is not None and float(one(dp, "sum", "absent")) != want["sum"]:
                    err("%s: sum %r, expected %r" % (name, one(dp, "sum"), want["sum"]))
                if len(gc) != len(gb) + 1:
                    err("%s: %d buckets for %d bounds" % (name, len(gc), len(gb)))
            else:
                gq = [(float(one(q, "quantile", 0)), float(one(q, "value", 0))) for q in dp.get("quantile_values", [])]
                if gq != want["quantiles"] or one(dp, "count", 0) != want["count"] or float(one(dp, "sum", 0)) != want["sum"]:
                    err("%s%s: quantiles %r count %r sum %r, expected %r %r %r" % (
                        name, dict(attrs), gq, one(dp, "count", 0), one(dp, "sum", 0), want["quantiles"], want["count"], want["sum"]))
        extra = set(g["points"]) - set(e["points"])
        if extra:
            err("%s: %d unexpected points, e.g. %r" % (name, len(extra), sorted(extra)[0]))
    return npoints


def main():
    args = sys.argv[1:]
    reqs, proto_dir = args[0], args[1]
    files = [tuple(a.split("=", 1)) for a in args[2:]]
    got, nreq = decode_requests(reqs, proto_dir)
    exp = expected(files)
    n = check_prometheus(got, exp)
    kinds = {}
    for e in exp.values():
        kinds[e["type"]] = kinds.get(e["type"], 0) + 1
    # The examples, spelled out: go_goroutines (not go_goroutines_gauge);
    # promtool's histogram as per-bucket counts (le counts 662, 1460, ...).
    g = got.get("go_goroutines", {})
    if g.get("type") != "gauge" or "go_goroutines_gauge" in got:
        err("go_goroutines: %r" % g.get("type"))
    h = [dp for a, dps in got.get("prometheus_tsdb_compaction_chunk_size_bytes", {"points": {}})["points"].items()
         for dp in dps if "promtool" in dict(a)["url"]]
    want = ([32, 48, 72, 108, 162, 243, 364.5, 546.75, 820.125, 1230.1875, 1845.28125, 2767.921875],
            [662, 798, 806, 1692, 903, 860, 4772, 1971, 790, 445, 107, 46, 15], 13867, 3886707)
    if len(h) != 1 or ([float(x) for x in h[0].get("explicit_bounds", [])], [int(x) for x in h[0].get("bucket_counts", [])],
                       one(h[0], "count"), float(one(h[0], "sum", 0))) != want:
        err("prometheus_tsdb_compaction_chunk_size_bytes: %r" % h)
    # No prometheus v1 field name leaks into a metric name.
    leaked = [k for k in got if re.search(r"_(gauge|counter)$", k) or re.search(r"_[0-9.e+-]+$|_\+Inf$", k)]
    if leaked:
        err("field names in metric names: %r" % leaked[:5])
    json.dump({k: {"type": v["type"], "temporality": v.get("temporality"), "monotonic": v.get("monotonic"),
                   "points": [[dict(a), [num_value(dp) for dp in dps]] for a, dps in v["points"].items()]}
               for k, v in got.items() if not any(a[0] == "url" for pts in [v["points"]] for attrs in pts for a in attrs)},
              open(reqs + ".node.json", "w"))
    print("%d requests decoded by protoc; %d prometheus metrics checked (%s), %d points" % (
        nreq, len(exp), ", ".join("%d %s" % (c, t) for t, c in sorted(kinds.items())), n))
    if errors:
        print("%d mismatches" % len(errors), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

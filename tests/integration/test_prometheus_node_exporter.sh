#!/usr/bin/env bash
# The prometheus input against a real node_exporter (Debian package),
# scraped once as text and once as delimited protobuf (--test): both give
# the same series, and equal values for the metrics that do not move
# between two scrapes (memory size, boot time, CPU count ...). Also: the
# Accept header really gets protobuf from node_exporter, and metric_version 2
# gives the same values under measurement "prometheus".
source "$TESTLIB"

NE=/usr/bin/prometheus-node-exporter
[ -x "$NE" ] || fail "prometheus-node-exporter not installed (apt-get install prometheus-node-exporter)"
PORT=$(free_port)
"$NE" --web.listen-address="127.0.0.1:$PORT" >"$TMP/node_exporter.log" 2>&1 &
PIDS+=("$!")
URL="http://127.0.0.1:$PORT/metrics"
wait_for curl -sf "$URL" || fail "node_exporter did not start"

# What the protobuf Accept header gets from node_exporter.
ACCEPT='application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3'
ct=$(curl -sf -o /dev/null -w '%{content_type}' -H "Accept: $ACCEPT" "$URL")
case "$ct" in
application/vnd.google.protobuf*encoding=delimited*) ;;
*) fail "node_exporter answered $ct to the protobuf Accept header" ;;
esac

scrape() { # format metric_version out
	cat >"$TMP/$3.yaml" <<CONF
agent: {hostname: it, omit_hostname: true}
inputs:
  - prometheus:
      urls: ["http://127.0.0.1:$PORT"]
      format: $1
      metric_version: $2
outputs:
  - file: {files: ["$TMP/never.lp"]}
CONF
	"$AGENT" --config "$TMP/$3.yaml" --test >"$TMP/$3.lp" 2>"$TMP/$3.log" || fail "--test ($1, v$2) exit status"
	[ -s "$TMP/$3.lp" ] || fail "--test ($1, v$2) printed nothing"
	if grep -q "E! " "$TMP/$3.log"; then fail "--test ($1, v$2) reported errors: $(grep 'E! ' "$TMP/$3.log" | head -3)"; fi
}
scrape text 1 text1
scrape protobuf 1 proto1
scrape protobuf 2 proto2

python3 - "$TMP/text1.lp" "$TMP/proto1.lp" "$TMP/proto2.lp" "$URL" <<'PY' || fail "text and protobuf scrapes differ"
import math, re, sys

def parse(path):
    out = {}
    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            continue
        # measurement,tags fields timestamp (node_exporter has no spaces in
        # label values that matter here; escaped spaces are kept as is)
        parts = re.split(r"(?<!\\) ", line)
        key, fields = parts[0], parts[1]
        fs = {}
        for kv in re.split(r"(?<!\\),", fields):
            k, v = kv.split("=", 1)
            fs[k] = float(v.rstrip("iu"))
        out.setdefault(key, {}).update(fs)
    return out

text, proto, v2 = (parse(p) for p in sys.argv[1:4])
url = sys.argv[4]
errors = []
if set(text) != set(proto):
    only_t = sorted(set(text) - set(proto))[:5]
    only_p = sorted(set(proto) - set(text))[:5]
    # a series may come or go between two scrapes (a new process, a socket)
    if len(set(text) ^ set(proto)) > max(3, len(text) // 200):
        errors.append(f"series differ: only text {only_t}, only protobuf {only_p}")
common = set(text) & set(proto)
if len(common) < 200:
    errors.append(f"only {len(common)} common series")
stable = ("node_memory_MemTotal_bytes,", "node_boot_time_seconds,", "node_memory_SwapTotal_bytes,",
          "node_os_info,", "node_uname_info,", "node_exporter_build_info,")
seen = set()
for k in common:
    if not k.startswith(stable):
        continue
    seen.add(k.split(",")[0])
    if text[k] != proto[k]:
        errors.append(f"{k}: text {text[k]} protobuf {proto[k]}")
for s in ("node_memory_MemTotal_bytes", "node_boot_time_seconds"):
    if s not in seen:
        errors.append(f"{s} missing")
    elif not any(k.startswith(s + ",") and f",url={url}" in k for k in common):
        errors.append(f"{s} has no url={url} tag")
# the number of CPUs: one node_cpu_seconds_total series per cpu and mode
cpus_t = {k for k in text if k.startswith("node_cpu_seconds_total,")}
cpus_p = {k for k in proto if k.startswith("node_cpu_seconds_total,")}
if not cpus_t or cpus_t != cpus_p:
    errors.append("node_cpu_seconds_total series differ")
# metric_version 2: same gauge value under measurement prometheus
mt = [v["gauge"] for k, v in proto.items() if k.startswith("node_memory_MemTotal_bytes,")]
mt2 = [v["node_memory_MemTotal_bytes"] for k, v in v2.items() if "node_memory_MemTotal_bytes" in v]
if not mt or mt != mt2:
    errors.append(f"v2 MemTotal {mt2} vs v1 {mt}")
# a v2 histogram or summary: go_gc_duration_seconds quantiles
if not any(k.startswith("prometheus,") and ",quantile=" in k and "go_gc_duration_seconds" in v for k, v in v2.items()):
    errors.append("v2: no go_gc_duration_seconds quantile lines")
if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"ok: {len(common)} series in both formats")
PY

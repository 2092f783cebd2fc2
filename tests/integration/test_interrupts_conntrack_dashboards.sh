#!/usr/bin/env bash
# The Telegraf way to the interrupts and conntrack panels: Telegraf's own sample.conf sections
# of both inputs (interrupts with cpu_as_tag on and a tagdrop, conntrack with collect, dirs and
# files) convert with nothing left out (--strict), the agent runs the result against a real
# influxd, and the InfluxQL a Telegraf system dashboard runs on these measurements returns
# values: per-second rates of interrupts and soft_interrupts by irq, the conntrack table size
# against its limit, the conntrack counters by cpu. Where this machine has no conntrack
# module, the agent logs Telegraf's error instead and the conntrack queries are skipped.
source "$TESTLIB"
influx_start
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"

# From Telegraf's plugins/inputs/{interrupts,conntrack}/sample.conf, with cpu_as_tag and the
# tagdrop uncommented.
cat >"$TMP/telegraf.conf" <<CONF
[agent]
  interval = "1s"
  flush_interval = "1s"
  omit_hostname = true

[[outputs.influxdb]]
  urls = ["$INFLUX_URL"]
  database = "telegraf"

[[inputs.interrupts]]
  cpu_as_tag = true
  [inputs.interrupts.tagdrop]
    irq = [ "NET_RX", "TASKLET" ]

[[inputs.conntrack]]
  collect = ["all", "percpu"]
  dirs = ["/proc/sys/net/ipv4/netfilter","/proc/sys/net/netfilter"]
  files = ["ip_conntrack_count","ip_conntrack_max",
          "nf_conntrack_count","nf_conntrack_max"]
CONF
"$AGENTCTL" convert-telegraf --strict -o "$TMP/agent.yaml" "$TMP/telegraf.conf" 2>"$TMP/convert.err" ||
	fail "convert-telegraf --strict: $(cat "$TMP/convert.err")"
grep -q 'cpu_as_tag: true' "$TMP/agent.yaml" || fail "cpu_as_tag not carried over: $(cat "$TMP/agent.yaml")"

agent_start "$TMP/agent.yaml"
q() { influx_query telegraf "$1"; }
nvals() { q "$1" | json_get 'sum(len(s["values"]) for s in d["results"][0].get("series", []))'; }
# Two gathers in InfluxDB: a derivative has a value.
gathers() {
	q "SELECT count(\"count\") FROM \"interrupts\" WHERE \"irq\" = 'LOC' AND \"cpu\" = 'cpu0'" |
		json_get 'd["results"][0]["series"][0]["values"][0][1] if "series" in d["results"][0] else 0'
}
two_gathers() { [ "$(gathers 2>/dev/null || echo 0)" -ge 2 ]; }
wait_for two_gathers || fail "fewer than two gathers of interrupts in InfluxDB: $(tail -5 "$TMP/agent.log")"
agent_stop || fail "agent exited non-zero after SIGTERM"

rates=$(nvals 'SELECT non_negative_derivative(sum("count"), 1s) FROM "interrupts" WHERE time > now() - 5m GROUP BY time(1s), "irq" fill(none)')
[ "${rates:-0}" -ge 1 ] || fail "interrupts rate by irq: no value"
rates=$(nvals 'SELECT non_negative_derivative(sum("count"), 1s) FROM "soft_interrupts" WHERE time > now() - 5m GROUP BY time(1s), "irq" fill(none)')
[ "${rates:-0}" -ge 1 ] || fail "soft_interrupts rate by irq: no value"
# the tagdrop carried over: NET_RX and TASKLET are not in InfluxDB
dropped=$(q 'SHOW TAG VALUES FROM "soft_interrupts" WITH KEY = "irq"' | json_get '[v[1] for s in d["results"][0].get("series", []) for v in s["values"]]')
case "$dropped" in *NET_RX* | *TASKLET*) fail "tagdrop not applied: $dropped" ;; esac
case "$dropped" in *TIMER*) ;; *) fail "soft_interrupts irq values: $dropped" ;; esac

if [ -r /proc/sys/net/netfilter/nf_conntrack_max ] || [ -r /proc/sys/net/ipv4/netfilter/ip_conntrack_max ]; then
	got=$(q 'SELECT last("ip_conntrack_count"), last("ip_conntrack_max") FROM "conntrack"' |
		json_get 'd["results"][0]["series"][0]["values"][0][2]')
	want=$(cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || cat /proc/sys/net/ipv4/netfilter/ip_conntrack_max)
	[ "$got" = "$want" ] || fail "conntrack ip_conntrack_max in InfluxDB $got, the node's $want"
	n=$(nvals 'SELECT non_negative_derivative(max("insert_failed"), 1s), non_negative_derivative(max("drop"), 1s) FROM "conntrack" WHERE time > now() - 5m GROUP BY time(1s), "cpu" fill(none)')
	[ "${n:-0}" -ge 1 ] || fail "conntrack counters by cpu: no value"
	cpus=$(q 'SHOW TAG VALUES FROM "conntrack" WITH KEY = "cpu"' | json_get 'sorted(v[1] for s in d["results"][0].get("series", []) for v in s["values"])')
	case "$cpus" in *"'all'"*"'cpu0'"*) ;; *) fail "conntrack cpu tag values: $cpus" ;; esac
	echo "interrupts/soft_interrupts rates by irq, conntrack max $got and counters by cpu ($cpus) in InfluxDB"
else
	grep -q 'conntrack input failed to collect metrics, make sure that the kernel module is loaded' "$TMP/agent.log" ||
		fail "no conntrack module, but not Telegraf's error in the log: $(tail -5 "$TMP/agent.log")"
	echo "interrupts/soft_interrupts rates by irq in InfluxDB; no conntrack module here: Telegraf's error logged"
fi

#!/usr/bin/env bash
# The agent's command line as a user meets it: --test, --once and its exit
# code, --input-filter, config errors with file:line:column and exit 2,
# --sample-config that loads, SIGHUP reload (a bad config keeps the running
# one), and the health endpoint.
source "$TESTLIB"

# --test prints line protocol for each input once, with the host tag.
cat >"$TMP/test.yaml" <<CONF
agent: {hostname: cli-host, omit_hostname: false}
global_tags: {team: "a b"}
inputs:
  - mem: {}
  - internal: {alias: self}
outputs:
  - file: {files: ["$TMP/never.lp"]}
CONF
"$AGENT" --config "$TMP/test.yaml" --test >"$TMP/test.out" 2>"$TMP/test.err" || fail "--test exit status"
grep -q '^mem,host=cli-host,team=a\\ b .*total=[0-9]*i' "$TMP/test.out" || fail "--test: no mem line with escaped global tag: $(head -2 "$TMP/test.out")"
grep -q '^internal_gather,alias=self,host=cli-host,input=internal' "$TMP/test.out" || fail "--test: alias tag missing"
[ ! -s "$TMP/never.lp" ] || fail "--test must not write to outputs"

# cpu's usage_* are rates against the previous gather: --test and --once
# gather it twice, 500 ms apart (as Telegraf's --test), and report the second.
# Every usage_* is a percentage and, per cpu, they add up to 100.
check_cpu() { # check_cpu FILE WHAT
	awk -v ncpu="$(grep -c '^cpu[0-9]' /proc/stat)" '
	/^cpu,/ {
		n++; sum = 0; k = 0
		split($2, f, ",")
		for (i in f) {
			split(f[i], kv, "=")
			if (kv[1] !~ /^usage_/) continue
			k++
			if (kv[2] + 0 < 0 || kv[2] + 0 > 100.0001) { print "out of range: " $0; bad = 1 }
			if (kv[1] != "usage_active") sum += kv[2]
		}
		if (k != 10 || sum < 99.9 || sum > 100.1) { print k " usage fields summing to " sum ": " $0; bad = 1 }
	}
	END { if (n != ncpu + 1) { print n " cpu lines for " ncpu " cpus"; bad = 1 } exit bad }' "$1" >"$TMP/cpu-check" ||
		fail "$2: $(head -3 "$TMP/cpu-check")"
}
printf 'inputs: [{cpu: {}}, {mem: {}}]\n' >"$TMP/cpu.yaml"
"$AGENT" --config "$TMP/cpu.yaml" --test >"$TMP/cpu.out" 2>"$TMP/cpu.err" || fail "--test with cpu: $(cat "$TMP/cpu.err")"
check_cpu "$TMP/cpu.out" "--test with cpu"
[ "$(grep -c '^mem,' "$TMP/cpu.out")" = 1 ] || fail "--test with cpu printed $(grep -c '^mem,' "$TMP/cpu.out") mem lines, expected 1"
printf 'inputs: [{cpu: {}}]\noutputs: [{file: {files: ["%s"]}}]\n' "$TMP/cpu-once.lp" >"$TMP/cpu-once.yaml"
"$AGENT" --config "$TMP/cpu-once.yaml" --once 2>"$TMP/cpu-once.err" || fail "--once with cpu: $(cat "$TMP/cpu-once.err")"
check_cpu "$TMP/cpu-once.lp" "--once with cpu"

# agent.precision rounds timestamps: 1s leaves whole seconds.
printf 'agent: {precision: 1s}\ninputs: [{mem: {}}]\n' >"$TMP/precision.yaml"
"$AGENT" --config "$TMP/precision.yaml" --test >"$TMP/precision.out" 2>/dev/null || fail "--test with precision"
grep -q ' [0-9]*000000000$' "$TMP/precision.out" || fail "precision 1s not applied: $(cat "$TMP/precision.out" | cut -c1-40)... $(awk '{print $NF}' "$TMP/precision.out")"

# --input-filter keeps only the named inputs.
"$AGENT" --config "$TMP/test.yaml" --test --input-filter internal >"$TMP/filter.out" 2>/dev/null
grep -q '^mem,' "$TMP/filter.out" && fail "--input-filter did not filter"
grep -q '^internal_agent,' "$TMP/filter.out" || fail "--input-filter dropped the selected input"

# --once writes and exits 0; with an unreachable InfluxDB it exits 1.
cat >"$TMP/once.yaml" <<CONF
agent: {hostname: once-host}
inputs: [{mem: {}}]
outputs: [{file: {files: ["$TMP/once.lp"]}}]
CONF
"$AGENT" --config "$TMP/once.yaml" --once 2>"$TMP/once.err" || fail "--once exit status"
[ "$(grep -c '^mem,' "$TMP/once.lp")" = 1 ] || fail "--once wrote $(grep -c . "$TMP/once.lp") lines, expected 1 mem line"
dead=$(free_port)
cat >"$TMP/once-dead.yaml" <<CONF
inputs: [{mem: {}}]
outputs: [{influxdb: {urls: ["http://127.0.0.1:$dead"], skip_database_creation: true, timeout: 2s}}]
CONF
rc=0
"$AGENT" --config "$TMP/once-dead.yaml" --once 2>"$TMP/once-dead.err" || rc=$?
[ "$rc" = 1 ] || fail "--once with a dead InfluxDB exited $rc, expected 1"

# Config errors: file:line:column, exit 2, nothing else alarming.
printf 'agent:\n  interval: 10s\n  flush_intervall: 5s\n' >"$TMP/bad-key.yaml"
rc=0
"$AGENT" --config "$TMP/bad-key.yaml" >"$TMP/bad.out" 2>"$TMP/bad.err" || rc=$?
[ "$rc" = 2 ] || fail "unknown key: exit $rc, expected 2"
grep -q "bad-key.yaml:3:3: " "$TMP/bad.err" || fail "unknown key: no file:line:column in: $(cat "$TMP/bad.err")"
[ "$(grep -c . "$TMP/bad.err")" = 1 ] || fail "config error printed more than one line: $(cat "$TMP/bad.err")"
printf 'inputs:\n  - cpu: {percpu: maybe}\n' >"$TMP/bad-type.yaml"
rc=0
"$AGENT" --config "$TMP/bad-type.yaml" 2>"$TMP/bad2.err" || rc=$?
[ "$rc" = 2 ] && grep -q "bad-type.yaml:2:" "$TMP/bad2.err" || fail "bad bool: exit $rc, $(cat "$TMP/bad2.err")"
# An option that takes one of a few values (kube_inventory mode), mistyped:
# the value's position and the allowed values, under --test too.
printf 'inputs:\n  - kube_inventory:\n      namespace: ""\n      mode: lsit\n' >"$TMP/bad-choice.yaml"
rc=0
"$AGENT" --test --config "$TMP/bad-choice.yaml" >"$TMP/bad4.out" 2>"$TMP/bad4.err" || rc=$?
[ "$rc" = 2 ] || fail "mode: lsit: exit $rc, expected 2: $(cat "$TMP/bad4.err")"
grep -qF 'bad-choice.yaml:4:13: option "mode": expected watch or list, got "lsit"' "$TMP/bad4.err" ||
	fail "mode: lsit: not at the value or no allowed values: $(cat "$TMP/bad4.err")"
[ "$(grep -c . "$TMP/bad4.err")" = 1 ] || fail "mode: lsit printed more than one line: $(cat "$TMP/bad4.err")"
# The same for an output's buffer type (the engine's option), in flow style.
printf 'inputs: [mem]\noutputs:\n  - file: {buffer: {type: dsik}}\n' >"$TMP/bad-buffer.yaml"
rc=0
"$AGENT" --test --config "$TMP/bad-buffer.yaml" >"$TMP/bad5.out" 2>"$TMP/bad5.err" || rc=$?
[ "$rc" = 2 ] || fail "buffer type dsik: exit $rc, expected 2: $(cat "$TMP/bad5.err")"
grep -qF 'bad-buffer.yaml:3:27: option "type": expected memory or disk, got "dsik"' "$TMP/bad5.err" ||
	fail "buffer type dsik: not at the value or no allowed values: $(cat "$TMP/bad5.err")"
[ -s "$TMP/bad5.out" ] && fail "buffer type dsik: --test gathered anyway: $(head -3 "$TMP/bad5.out")"
printf 'inputs:\n  - cpu: {percpu: [true\n' >"$TMP/bad-yaml.yaml"
rc=0
"$AGENT" --config "$TMP/bad-yaml.yaml" 2>"$TMP/bad3.err" || rc=$?
[ "$rc" = 2 ] && grep -q "bad-yaml.yaml:[0-9]*:[0-9]*: " "$TMP/bad3.err" || fail "YAML syntax: exit $rc, $(cat "$TMP/bad3.err")"

# --sample-config runs as printed, off-cluster: no kubeconfig, no
# KUBECONFIG, not in a pod. Telegraf's default inputs are enabled (cpu, disk,
# diskio, kernel, mem, processes, swap, system), the others commented out.
mkdir -p "$TMP/home"
offcluster() { env -u KUBECONFIG -u KUBERNETES_SERVICE_HOST HOME="$TMP/home" "$@"; }
offcluster "$AGENT" --sample-config >"$TMP/sample.yaml" || fail "--sample-config exit status"
grep -q "^  # - kubernetes:" "$TMP/sample.yaml" || fail "--sample-config does not comment out kubernetes"
offcluster "$AGENT" --test --config "$TMP/sample.yaml" >"$TMP/sample.out" 2>"$TMP/sample.err" ||
	fail "agent --test --config on --sample-config's output: $(cat "$TMP/sample.err")"
grep -q 'E!' "$TMP/sample.err" && fail "--test of the sample logged errors: $(grep 'E!' "$TMP/sample.err" | head -3)"
for m in cpu disk kernel mem processes swap system; do
	grep -q "^$m," "$TMP/sample.out" || fail "--test of the sample printed no $m line"
done
check_cpu <(grep '^cpu,' "$TMP/sample.out") "--test of the sample"

# --sample-config honours the filters (colon-separated, as Telegraf's): only
# those plugins, enabled, and that config runs too.
"$AGENT" --sample-config --input-filter mem:system --output-filter file >"$TMP/fsample.yaml" ||
	fail "--sample-config with filters"
[ "$(grep -E '^  (# )?- ' "$TMP/fsample.yaml" | tr '\n' ' ')" = "  - mem:   - system:   - file: " ] ||
	fail "--sample-config with filters printed: $(grep -E '^  (# )?- ' "$TMP/fsample.yaml" | tr '\n' ' ')"
"$AGENT" --test --config "$TMP/fsample.yaml" >"$TMP/fsample.out" 2>"$TMP/fsample.err" ||
	fail "--test of the filtered sample: $(cat "$TMP/fsample.err")"
[ "$(cut -d, -f1 "$TMP/fsample.out" | sort -u | tr '\n' ' ')" = "mem system " ] ||
	fail "filtered sample gathered: $(cut -d, -f1 "$TMP/fsample.out" | sort -u | tr '\n' ' ')"
# A cluster-wide input asked for by name, off-cluster: the error names the
# input's own option (the agent has no --kubeconfig flag).
offcluster "$AGENT" --sample-config --input-filter kube_inventory >"$TMP/kube.yaml"
rc=0
offcluster "$AGENT" --test --config "$TMP/kube.yaml" >/dev/null 2>"$TMP/kube.err" || rc=$?
[ "$rc" = 1 ] || fail "kube_inventory off-cluster: exit $rc, expected 1"
grep -q "inputs.kube_inventory: not in a cluster and no kubeconfig found .*; set the kubeconfig option or KUBECONFIG" \
	"$TMP/kube.err" || fail "kube_inventory off-cluster: $(cat "$TMP/kube.err")"

# -h is --help; --version; the plugin list is the plugins/ folders.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
"$AGENT" -h >"$TMP/h.out" || fail "-h exit status"
"$AGENT" --help | cmp -s - "$TMP/h.out" || fail "-h differs from --help"
grep -qx "heliograph agent [0-9][0-9.]*" <("$AGENT" --version) || fail "--version: $("$AGENT" --version)"
"$AGENT" plugins inputs >"$TMP/pl-in" || fail "plugins inputs exit status"
"$AGENT" plugins outputs >"$TMP/pl-out" || fail "plugins outputs exit status"
(cd "$SRC/plugins/inputs" && ls -d */ | tr -d / | LC_ALL=C sort) | cmp -s - <(LC_ALL=C sort "$TMP/pl-in") ||
	fail "plugins inputs: $(tr '\n' ' ' <"$TMP/pl-in")"
(cd "$SRC/plugins/outputs" && ls -d */ | tr -d / | LC_ALL=C sort) | cmp -s - <(LC_ALL=C sort "$TMP/pl-out") ||
	fail "plugins outputs: $(tr '\n' ' ' <"$TMP/pl-out")"
"$AGENT" plugins >"$TMP/pl-all"
cat <(sed 's/^/inputs./' "$TMP/pl-in") <(sed 's/^/outputs./' "$TMP/pl-out") | cmp -s - "$TMP/pl-all" ||
	fail "plugins: $(head -3 "$TMP/pl-all")"

# A usage error: exit 2, one line naming the problem and the hint, never an
# option's value.
usage_err() { # usage_err "EXPECTED LINE" ARGS...
	local want=$1 rc=0
	shift
	"$AGENT" "$@" >"$TMP/u.out" 2>"$TMP/u.err" || rc=$?
	[ "$rc" = 2 ] || fail "agent $*: exit $rc, expected 2"
	[ "$(cat "$TMP/u.err")" = "$want" ] || fail "agent $*: printed '$(cat "$TMP/u.err")', expected '$want'"
	[ ! -s "$TMP/u.out" ] || fail "agent $*: wrote to stdout"
}
usage_err "agent: unknown option --foo; see agent --help" --foo
usage_err "agent: unknown option --token; see agent --help" --token=SeCrEt --config x
usage_err "agent: unknown option -x; see agent --help" -x
usage_err "agent: --test takes no value; see agent --help" --test=yes
usage_err "agent: --config needs a value; see agent --help" --config
usage_err "agent: unexpected argument extra; see agent --help" --config "$TMP/test.yaml" extra
usage_err "agent: --input-filter: no input plugin cpux; see agent --help" --sample-config --input-filter mem:cpux
usage_err "agent: --output-filter: no output plugin nope; see agent --help" --test --config "$TMP/test.yaml" --output-filter nope
usage_err "agent: plugins processors: expected inputs or outputs; see agent --help" plugins processors

# Reload: a broken config is refused and the agent keeps writing; a good one
# takes effect. Health endpoint answers while it runs.
hport=$(free_port)
cat >"$TMP/run.yaml" <<CONF
agent: {interval: 1s, flush_interval: 1s, hostname: before, health_listen: "127.0.0.1:$hport"}
inputs: [{mem: {}}]
outputs: [{file: {files: ["$TMP/run.lp"]}}]
CONF
agent_start "$TMP/run.yaml"
wait_for grep -q 'host=before' "$TMP/run.lp" || fail "agent wrote nothing"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hport/healthz")" = 200 ] || fail "/healthz not 200"
curl -sf "http://127.0.0.1:$hport/metrics" | grep -q '^heliograph_metrics_gathered_total [1-9]' || fail "/metrics lacks gathered total"
cp "$TMP/run.yaml" "$TMP/run.good"
printf 'agent: {interval: 1s\n' >"$TMP/run.yaml"
kill -HUP "$AGENT_PID"
sleep 2
kill -0 "$AGENT_PID" || fail "agent died on a bad reload"
grep -q "reload failed, keeping the running config" "$TMP/agent.log" || fail "bad reload not logged"
sed 's/hostname: before/hostname: after/' "$TMP/run.good" >"$TMP/run.yaml"
kill -HUP "$AGENT_PID"
WAIT_SECS=10 wait_for grep -q 'host=after' "$TMP/run.lp" || fail "reload did not take effect"
agent_stop || fail "agent exit status after SIGTERM"
echo "cli: passed"

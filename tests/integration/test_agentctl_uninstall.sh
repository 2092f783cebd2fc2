#!/bin/bash
# uninstall-stack and status with node storage, on the simulated 2 x t3.micro
# of tests/integration/eks_clusters.py (the test API server with its
# scheduler stand-in): install-stack puts the stack pod on a node it labels
# heliograph.io/stack=true and the data in two hostPath PersistentVolumes on
# that node. status shows those volumes and the labelled node (and warns when
# the label is missing or the node NotReady). uninstall-stack takes the label off (as real kubectl
# shows it) and keeps the PersistentVolumes, saying the data stays on that
# node; installing again binds the same volumes and the stack returns there.
# --delete-data deletes the PersistentVolumes too (else the Released volumes,
# bound to the deleted claims, could never be bound again) and says the files
# stay on the node and how to remove them, the agents' disk buffers too (kept
# either way, named with their paths); installing again then makes fresh
# volumes and succeeds. Dry runs say what they would do and change nothing.
source "$TESTLIB"
source "$(dirname "$0")/kube_lib.sh"
AGENTCTL=${AGENTCTL:-$(dirname "$AGENT")/agentctl}
[ -x "$AGENTCTL" ] || fail "no agentctl at $AGENTCTL"
command -v influxd >/dev/null || fail "influxd not installed"
python3 "$KUBE_SERVER_PY" --help 2>/dev/null | grep -q -- --scheduler || fail "the test API server has no --scheduler"

run() { # run RC ARGS...: agentctl with the test kubeconfig; output in $TMP/out, $TMP/err
	local want=$1 rc=0
	shift
	"$AGENTCTL" "$@" --kubeconfig "$KC" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "agentctl $* exited $rc, expected $want: $(cat "$TMP/err") $(cat "$TMP/out")"
}
writes() { api /_control/requests | json_get 'len([r for r in d if r["method"] != "GET" and not r["path"].startswith("/_control")])'; }
# The nodes and their heliograph.io/stack label as real kubectl prints them.
label_column() { kubectl --kubeconfig "$KC" get nodes -L heliograph.io/stack --no-headers | awk '{print $1, ($6 == "" ? "-" : $6)}'; }
labelled() { label_column | awk '$2 != "-" {print $1}' | sort | tr '\n' ' ' | sed 's/ $//'; }
PVS="heliograph-monitoring-influxdb-data heliograph-monitoring-grafana-data"
pv_uids() { for pv in $PVS; do api "/api/v1/persistentvolumes/$pv" | json_get 'd["metadata"]["uid"]'; done | tr '\n' ' '; }
pv_node() { api "/api/v1/persistentvolumes/$1" | json_get 'd["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"][0]'; }
claim_volume() { api "/api/v1/namespaces/monitoring/persistentvolumeclaims/$1" | json_get 'd["spec"].get("volumeName", "") + " " + d["status"].get("phase", "")'; }
stack_pod_node() { api "/api/v1/namespaces/monitoring/pods" |
	json_get '" ".join(p["spec"].get("nodeName") or "-" for p in d["items"] if p["metadata"]["name"].startswith("heliograph-stack-") and not p["metadata"].get("deletionTimestamp"))'; }

# The simulated cluster, and an influxd behind its service proxy (install-stack
# sets InfluxDB up); its data dir stands for the files on the stack node.
# The simulated kubelet runs the stack pod's influxdb-setup and influxdb
# containers as real processes on it (kube_lib.sh kube_influx_run).
port=$(free_port)
influx_start() {
	rm -rf "$TMP/influx"
	mkdir -p "$TMP/influx"
	"$(dirname "$TESTLIB")/../../scripts/influxd-conf.sh" "$TMP/influx" "$port" "$(free_port)" auth >"$TMP/influx.conf"
}
influx_start
kube_start --scheduler --controller-delay 0.1 --service-proxy "monitoring/influxdb:8086=http://127.0.0.1:$port"
KC="$TMP/kubeconfig"
kube_config "$KC"
kube_influx_run "$TMP/influx.conf" "$port"
python3 "$(dirname "$0")/eks_clusters.py" 2x-t3.micro >"$TMP/cluster.json" || fail "eks_clusters.py"
curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/objects" --data-binary "@$TMP/cluster.json" >/dev/null || fail "cluster not loaded"

# ---- install: node storage on the labelled node; status shows both ----
run 0 install-stack --timeout 30s
NODE=$(labelled)
[ -n "$NODE" ] && [ "$NODE" = "$(stack_pod_node)" ] || fail "install: label on '$NODE', stack pod on '$(stack_pod_node)'"
for pv in $PVS; do [ "$(pv_node "$pv")" = "$NODE" ] || fail "$pv not on $NODE"; done
UIDS=$(pv_uids)
run 0 status
grep -q "^Stack node: $NODE (labelled heliograph.io/stack=true, Ready)$" "$TMP/out" || fail "status: stack node: $(cat "$TMP/out")"
for pv in $PVS; do
	grep -q "^  persistentvolume/$pv  *Bound to monitoring/.*-data, on node $NODE (/var/lib/heliograph/monitoring/" "$TMP/out" ||
		fail "status: $pv: $(cat "$TMP/out")"
done
! grep -q "^warning" "$TMP/out" || fail "status warns on a healthy install: $(cat "$TMP/out")"
# The name column fits the longest name (the volumes' 52 characters): every row's state starts in
# one column, one space or more after the name.
aligned() {
	awk '/^  [a-z.]+\/[^ ]+ +[^ ]/ {match($0, /^  [^ ]+ +/); at[RLENGTH]++; rows++}
		END {n = 0; for (k in at) n++; exit !(n == 1 && rows >= 20)}' "$1"
}
aligned "$TMP/out" || fail "status: the name column is not aligned: $(cat "$TMP/out")"
grep -q "^  persistentvolumeclaim/influxdb-data  *Bound, .*StorageClass heliograph-node)" "$TMP/out" ||
	fail "status: node storage's class: $(cat "$TMP/out")"

# ---- uninstall keeps the volumes; the label goes ----
W0=$(writes)
run 0 uninstall-stack --dry-run
grep -q "^node/$NODE  *label heliograph.io/stack removed (dry run)$" "$TMP/out" || fail "dry run: label: $(cat "$TMP/out")"
grep -q "Would keep the data: .*PersistentVolumes heliograph-monitoring-influxdb-data and heliograph-monitoring-grafana-data. The data stays on the disk of node $NODE, under /var/lib/heliograph/monitoring/" "$TMP/out" ||
	fail "dry run: data: $(cat "$TMP/out")"
[ "$(writes)" = "$W0" ] && [ "$(labelled)" = "$NODE" ] || fail "the dry run wrote"
run 0 uninstall-stack
grep -q "^node/$NODE  *label heliograph.io/stack removed$" "$TMP/out" || fail "uninstall: label: $(cat "$TMP/out")"
grep -q "Kept the data: .* The data stays on the disk of node $NODE, under /var/lib/heliograph/monitoring/. Installing again uses it and puts the stack back on that node" "$TMP/out" ||
	fail "uninstall: data: $(cat "$TMP/out")"
# The agents' disk buffers (hostPath on every node) are kept and named.
grep -qF "The agents' disk buffers (metrics not written yet, bounded by the agent config's max_size) stay on each node under /var/lib/heliograph/monitoring/agent-spool (the stack node: /var/lib/heliograph/monitoring/stack-agent-spool); a new install's agents write them first." "$TMP/out" ||
	fail "uninstall: disk buffers: $(cat "$TMP/out")"
[ -z "$(labelled)" ] || fail "label left: $(label_column)"
[ "$(pv_uids)" = "$UIDS" ] || fail "uninstall touched the PersistentVolumes"
# status after it: the volumes shown, no stack node and nothing installed to need one.
run 1 status
grep -q "^Stack node: none labelled heliograph.io/stack$" "$TMP/out" && grep -q "^  persistentvolume/heliograph-monitoring-influxdb-data  *Bound" "$TMP/out" ||
	fail "status after uninstall: $(cat "$TMP/out")"
grep -q "^Not installed: only the data uninstall-stack keeps is left (3 of the namespace and volume claims, 4 Secrets)" "$TMP/out" &&
	! grep -q "Partly" "$TMP/out" || fail "status after uninstall: not 'not installed': $(cat "$TMP/out")"
aligned "$TMP/out" || fail "status after uninstall: the name column is not aligned: $(cat "$TMP/out")"

# ---- install again: the same volumes, the stack back on their node ----
run 0 install-stack --timeout 30s
grep -q "^The stack pod goes to $NODE: its volumes are on that node's disk" "$TMP/out" || fail "re-install: $(cat "$TMP/out")"
[ "$(labelled)" = "$NODE" ] && [ "$(stack_pod_node)" = "$NODE" ] || fail "re-install: label $(labelled), pod $(stack_pod_node)"
[ "$(pv_uids)" = "$UIDS" ] || fail "re-install: other volumes"
[ "$(claim_volume influxdb-data)" = "heliograph-monitoring-influxdb-data Bound" ] || fail "re-install: claim $(claim_volume influxdb-data)"

# The label taken off by hand: status warns (the stack pod would not be placed
# again). Ready or not depends on whether the DaemonSet has reacted yet: without
# the label it wants an agent pod on the (full) stack node too.
kubectl --kubeconfig "$KC" label node "$NODE" heliograph.io/stack- >/dev/null || fail "kubectl label"
"$AGENTCTL" status --kubeconfig "$KC" >"$TMP/out" 2>"$TMP/err" || [ $? = 1 ] || fail "status: $(cat "$TMP/err")"
grep -q "^warning: no node is labelled heliograph.io/stack=true" "$TMP/out" || fail "status: no warning: $(cat "$TMP/out")"
kubectl --kubeconfig "$KC" label node "$NODE" heliograph.io/stack=true >/dev/null || fail "kubectl label"

# ---- --delete-data: the volumes go, the files stay on the node ----
W0=$(writes)
run 0 uninstall-stack --delete-data --dry-run
for pv in $PVS; do grep -q "^persistentvolume/$pv  *deleted (dry run)$" "$TMP/out" || fail "dry run: $pv: $(cat "$TMP/out")"; done
grep -q "files of the node-local volumes would stay on node $NODE under /var/lib/heliograph/monitoring/" "$TMP/out" || fail "dry run: files"
grep -q "^The agents' disk buffers would stay on each node under /var/lib/heliograph/monitoring/agent-spool and /var/lib/heliograph/monitoring/stack-agent-spool" "$TMP/out" ||
	fail "dry run: disk buffers: $(cat "$TMP/out")"
[ "$(writes)" = "$W0" ] && [ "$(pv_uids)" = "$UIDS" ] || fail "the dry run wrote"
run 0 uninstall-stack --delete-data
for pv in $PVS; do
	grep -q "^persistentvolume/$pv  *deleted$" "$TMP/out" || fail "--delete-data: $pv: $(cat "$TMP/out")"
	! exists "/api/v1/persistentvolumes/$pv" || fail "--delete-data left $pv"
done
grep -q "^The files of the node-local volumes stay on node $NODE under /var/lib/heliograph/monitoring/: Kubernetes does not delete a hostPath volume's data" "$TMP/out" &&
	grep -qF "kubectl debug node/$NODE -it --image=busybox -- rm -rf /host/var/lib/heliograph/monitoring" "$TMP/out" ||
	fail "--delete-data: files: $(cat "$TMP/out")"
grep -qF "kubectl debug node/NODE -it --image=busybox -- rm -rf /host/var/lib/heliograph/monitoring/agent-spool /host/var/lib/heliograph/monitoring/stack-agent-spool" "$TMP/out" ||
	fail "--delete-data: disk buffers: $(cat "$TMP/out")"
[ -z "$(labelled)" ] && ! exists /api/v1/namespaces/monitoring || fail "--delete-data: label $(labelled)"

# ---- install again: fresh volumes; the old files first refused, then gone ----
# The stack node is chosen as before (the other node is no better), and the
# old InfluxDB files are still there: their passwords are not the new Secrets'.
run 1 install-stack --timeout 30s
grep -q "InfluxDB does not accept the admin password of Secret influxdb-admin" "$TMP/err" &&
	grep -q "with node storage the files under /var/lib/heliograph/monitoring/ on node $NODE stay after that" "$TMP/err" ||
	fail "old files: $(cat "$TMP/err")"
# The files removed as printed (here: the data dir emptied while no set-up
# runs on it: the simulated cluster paused, the running one's influxd gone).
ctl controller '{"paused":true}'
wait_for sh -c "! curl -s -o /dev/null http://127.0.0.1:$SETUP_PORT/ping" || fail "the set-up's influxd still runs"
influx_start
ctl controller '{"paused":false}'
run 0 install-stack --timeout 30s
NEW=$(labelled)
[ -n "$NEW" ] && [ "$(stack_pod_node)" = "$NEW" ] && [ "$(pv_node heliograph-monitoring-influxdb-data)" = "$NEW" ] ||
	fail "fresh install: label $NEW, pod $(stack_pod_node)"
[ "$(pv_uids)" != "$UIDS" ] || fail "fresh install: the old volumes"
[ "$(claim_volume grafana-data)" = "heliograph-monitoring-grafana-data Bound" ] || fail "fresh install: claim $(claim_volume grafana-data)"

# The stack node NotReady: status says so.
api "/api/v1/nodes/$NEW" | python3 -c '
import json, sys
n = json.load(sys.stdin)
n["status"]["conditions"] = [dict(c, status="Unknown") if c["type"] == "Ready" else c for c in n["status"]["conditions"]]
print(json.dumps([n]))' >"$TMP/notready.json"
curl -sf --cacert "$TMP/tls/ca.crt" "$KUBE_URL/_control/objects" --data-binary "@$TMP/notready.json" >/dev/null || fail "NotReady"
"$AGENTCTL" status --kubeconfig "$KC" >"$TMP/out" 2>"$TMP/err" || [ $? = 1 ] || fail "status: $(cat "$TMP/err")"
grep -q "^Stack node: $NEW (labelled heliograph.io/stack=true, NotReady)$" "$TMP/out" &&
	grep -q "^warning: the stack node $NEW is NotReady: the stack pod cannot run there until it is Ready again" "$TMP/out" ||
	fail "status: NotReady: $(cat "$TMP/out")"
echo ok

#!/usr/bin/env python3
"""Writes the Heliograph Grafana dashboards (*.json beside this script).

One generator keeps the four dashboards consistent: the same datasource
variable, uid scheme, annotation of deploys and query shapes. Run it after
editing and commit the JSON (agentctl embeds the JSON files at build time):

    python3 grafana-dashboards/gen.py          # rewrite the files
    python3 grafana-dashboards/gen.py --check  # exit 1 if a file is stale

Queries are raw InfluxQL on the schemas of plugins/inputs/*/README.md
(Telegraf's) and of the `deploy` measurement. The datasource is the
variable ${datasource}, whose default is the provisioned datasource uid
(k8s-manifests/20-stack-config.yaml); imported by hand (__inputs), the
variable falls back to the Grafana's InfluxDB datasource.
"""
import json
import os
import sys

DS_UID = "heliograph-influxdb"
DS = {"type": "influxdb", "uid": "${datasource}"}
HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_VERSION = 39

# Grafana's deploy annotation; extra narrows it (e.g. to the namespace variable).
def deploy_annotation(extra=""):
    return {
        "datasource": DS,
        "enable": True,
        "hide": False,
        "iconColor": "#F2CC0C",
        "name": "Deploys",
        "query": 'SELECT "version", "message", "duration_s", "name", "namespace", "strategy", "phase", "source", '
                 '"degraded_signals" FROM "deploy" WHERE $timeFilter' + extra,
        "textColumn": "version",
        # A deploy-check verdict: phase verified/degraded, and the signals that were degraded.
        "tagsColumn": "name,strategy,phase,source,degraded_signals",
    }


def var_datasource():
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "influxdb",
        "current": {"selected": False, "text": "InfluxDB", "value": DS_UID},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "options": [],
    }


def var_query(name, label, query, multi=True, include_all=True):
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "query": query,
        "definition": query,
        "refresh": 2,  # on time range change: nodes and pods come and go
        "multi": multi,
        "includeAll": include_all,
        "allValue": None,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]} if include_all else {},
        "hide": 0,
        "sort": 1,
        "regex": "",
        "options": [],
    }


class Dash:
    def __init__(self, uid, title, description, tags):
        self.uid, self.title, self.description, self.tags = uid, title, description, tags
        self.panels = []
        self.vars = [var_datasource()]
        self.annotations = []
        self.y = 0
        self.x = 0
        self.row_h = 0

    def row(self, title):
        self.newline()
        self.panels.append({"id": len(self.panels) + 1, "type": "row", "title": title, "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1

    def newline(self):
        if self.x:
            self.y += self.row_h
            self.x, self.row_h = 0, 0

    def panel(self, ptype, title, queries, w=12, h=8, unit=None, description=None, options=None, field_config=None,
              legend_fmt=None):
        if self.x + w > 24:
            self.newline()
        targets = []
        for i, q in enumerate(queries):
            alias = None
            if isinstance(q, tuple):
                q, alias = q
            t = {"refId": chr(ord("A") + i), "datasource": DS, "rawQuery": True, "query": q,
                 "resultFormat": "table" if ptype == "table" else "time_series"}
            if alias or legend_fmt:
                t["alias"] = alias or legend_fmt
            targets.append(t)
        defaults = {"unit": unit} if unit else {}
        if field_config:
            defaults.update(field_config)
        p = {
            "id": len(self.panels) + 1,
            "type": ptype,
            "title": title,
            "datasource": DS,
            "gridPos": {"h": h, "w": w, "x": self.x, "y": self.y},
            "targets": targets,
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": options or {},
        }
        if description:
            p["description"] = description
        if ptype == "timeseries":
            p["options"] = options or {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                                       "tooltip": {"mode": "multi", "sort": "desc"}}
        self.panels.append(p)
        self.x += w
        self.row_h = max(self.row_h, h)
        return p

    def json(self):
        panel_types = sorted({p["type"] for p in self.panels if p["type"] != "row"})
        return {
            "__inputs": [{"name": "DS_INFLUXDB", "label": "InfluxDB", "description": "the InfluxDB (1.x, InfluxQL) the agent writes to",
                          "type": "datasource", "pluginId": "influxdb", "pluginName": "InfluxDB"}],
            "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.0.0"},
                           {"type": "datasource", "id": "influxdb", "name": "InfluxDB", "version": "1.0.0"}] +
                          [{"type": "panel", "id": t, "name": t, "version": ""} for t in panel_types],
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "editable": True,
            "graphTooltip": 1,
            "refresh": "1m",
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "time": {"from": "now-6h", "to": "now"},
            "timepicker": {},
            "timezone": "",
            "fiscalYearStartMonth": 0,
            "liveNow": False,
            "weekStart": "",
            "links": [{"type": "dashboards", "tags": ["heliograph"], "asDropdown": True, "title": "Heliograph",
                       "includeVars": False, "keepTime": True}],
            "annotations": {"list": [{
                "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
                "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}] +
                self.annotations},
            "templating": {"list": self.vars},
            "panels": self.panels,
        }


TS = "timeseries"


# ---- node overview -------------------------------------------------------
def node():
    d = Dash("heliograph-node", "Heliograph / Node overview",
             "CPU, memory and pressure, disks, network, load and processes of each node (Telegraf schema).",
             ["heliograph", "node"])
    d.vars.append(var_query("host", "Node", 'SHOW TAG VALUES FROM "system" WITH KEY = "host"'))
    d.annotations.append(deploy_annotation())
    H = '"host" =~ /^$host$/ AND $timeFilter'
    G = 'GROUP BY time($__interval), "host"'

    d.row("CPU and load")
    d.panel(TS, "CPU usage", [
        f'SELECT mean("usage_user") AS "user", mean("usage_system") AS "system", mean("usage_iowait") AS "iowait", '
        f'mean("usage_steal") AS "steal", mean("usage_irq") + mean("usage_softirq") AS "irq" FROM "cpu" '
        f'WHERE "cpu" = \'cpu-total\' AND {H} {G}'], unit="percent", legend_fmt="$tag_host $col",
        field_config={"custom": {"stacking": {"mode": "normal"}, "fillOpacity": 30}, "max": 100, "min": 0})
    d.panel(TS, "Load average", [
        f'SELECT mean("load1") AS "load1", mean("load5") AS "load5", mean("load15") AS "load15" FROM "system" WHERE {H} {G}',
        f'SELECT last("n_cpus") AS "cpus" FROM "system" WHERE {H} {G}'], legend_fmt="$tag_host $col")
    d.panel(TS, "CPU pressure (PSI some, avg10)", [
        f'SELECT mean("avg10") FROM "pressure" WHERE "resource" = \'cpu\' AND {H} {G}, "type"'],
        unit="percent", legend_fmt="$tag_host cpu $tag_type",
        description="Share of time some runnable task waited for a CPU (kernel input, collect: [psi]).")
    d.panel(TS, "Context switches and forks", [
        f'SELECT non_negative_derivative(mean("context_switches"), 1s) AS "context switches", '
        f'non_negative_derivative(mean("processes_forked"), 1s) AS "forks" FROM "kernel" WHERE {H} {G}'],
        unit="ops", legend_fmt="$tag_host $col")

    d.row("Memory")
    d.panel(TS, "Memory", [
        f'SELECT mean("used") AS "used", mean("cached") AS "cached", mean("buffered") AS "buffered", '
        f'mean("available") AS "available", mean("total") AS "total" FROM "mem" WHERE {H} {G}'],
        unit="bytes", legend_fmt="$tag_host $col")
    d.panel(TS, "Memory used", [f'SELECT mean("used_percent") FROM "mem" WHERE {H} {G}'],
            unit="percent", legend_fmt="$tag_host", field_config={"max": 100, "min": 0})
    d.panel(TS, "Memory pressure (PSI)", [
        f'SELECT mean("avg10") AS "avg10", mean("avg60") AS "avg60" FROM "pressure" '
        f'WHERE "resource" = \'memory\' AND {H} {G}, "type"'],
        unit="percent", legend_fmt="$tag_host $tag_type $col",
        description="Share of time tasks stalled on memory (reclaim, swap-in): some = at least one task, full = all.")
    d.panel(TS, "I/O pressure (PSI)", [
        f'SELECT mean("avg10") FROM "pressure" WHERE "resource" = \'io\' AND {H} {G}, "type"'],
        unit="percent", legend_fmt="$tag_host io $tag_type")

    d.row("Disks")
    d.panel(TS, "Disk space used", [
        f'SELECT last("used_percent") FROM "disk" WHERE {H} {G}, "path"'],
        unit="percent", legend_fmt="$tag_host $tag_path", field_config={"max": 100, "min": 0})
    d.panel(TS, "Inodes used", [
        f'SELECT last("inodes_used_percent") FROM "disk" WHERE {H} {G}, "path"'],
        unit="percent", legend_fmt="$tag_host $tag_path", field_config={"max": 100, "min": 0})
    d.panel(TS, "Disk throughput", [
        f'SELECT non_negative_derivative(mean("read_bytes"), 1s) AS "read", '
        f'non_negative_derivative(mean("write_bytes"), 1s) AS "write" FROM "diskio" WHERE {H} {G}, "name"'],
        unit="Bps", legend_fmt="$tag_host $tag_name $col")
    d.panel(TS, "Disk IOPS and utilisation", [
        f'SELECT non_negative_derivative(mean("reads"), 1s) AS "reads", '
        f'non_negative_derivative(mean("writes"), 1s) AS "writes" FROM "diskio" WHERE {H} {G}, "name"',
        (f'SELECT mean("io_util") FROM "diskio" WHERE {H} {G}, "name"', "$tag_host $tag_name util %")],
        unit="iops", legend_fmt="$tag_host $tag_name $col")

    d.row("Network")
    d.panel(TS, "Network traffic", [
        f'SELECT non_negative_derivative(mean("bytes_recv"), 1s) AS "in", '
        f'non_negative_derivative(mean("bytes_sent"), 1s) AS "out" FROM "net" WHERE "interface" != \'lo\' AND {H} {G}, "interface"'],
        unit="Bps", legend_fmt="$tag_host $tag_interface $col")
    d.panel(TS, "Network errors and drops", [
        f'SELECT non_negative_derivative(mean("err_in"), 1s) AS "err in", non_negative_derivative(mean("err_out"), 1s) AS "err out", '
        f'non_negative_derivative(mean("drop_in"), 1s) AS "drop in", non_negative_derivative(mean("drop_out"), 1s) AS "drop out" '
        f'FROM "net" WHERE {H} {G}, "interface"'], unit="pps", legend_fmt="$tag_host $tag_interface $col")

    d.row("Processes")
    d.panel(TS, "Processes", [
        f'SELECT mean("running") AS "running", mean("blocked") AS "blocked", mean("zombies") AS "zombies", '
        f'mean("sleeping") AS "sleeping" FROM "processes" WHERE {H} {G}'], legend_fmt="$tag_host $col")
    d.panel(TS, "Threads", [f'SELECT mean("total_threads") FROM "processes" WHERE {H} {G}'], legend_fmt="$tag_host")
    d.panel("stat", "Uptime", [f'SELECT last("uptime") FROM "system" WHERE {H} GROUP BY "host"'],
            w=12, h=4, unit="s", legend_fmt="$tag_host")
    d.panel("stat", "CPUs", [f'SELECT last("n_cpus") FROM "system" WHERE {H} GROUP BY "host"'],
            w=12, h=4, legend_fmt="$tag_host")
    return d


# ---- kubernetes ------------------------------------------------------------
def kubernetes():
    d = Dash("heliograph-kubernetes", "Heliograph / Kubernetes pods and containers",
             "Pods and containers per node and namespace from the kubelet (kubernetes input) and, for restarts, "
             "the cluster inventory (kube_inventory input).", ["heliograph", "kubernetes"])
    d.vars.append(var_query("node", "Node", 'SHOW TAG VALUES FROM "kubernetes_pod_container" WITH KEY = "node_name"'))
    d.vars.append(var_query("namespace", "Namespace",
                            'SHOW TAG VALUES FROM "kubernetes_pod_container" WITH KEY = "namespace" '
                            'WHERE "node_name" =~ /^$node$/'))
    d.vars.append(var_query("pod", "Pod",
                            'SHOW TAG VALUES FROM "kubernetes_pod_container" WITH KEY = "pod_name" '
                            'WHERE "node_name" =~ /^$node$/ AND "namespace" =~ /^$namespace$/'))
    d.annotations.append(deploy_annotation(' AND "namespace" =~ /^$namespace$/'))
    F = '"node_name" =~ /^$node$/ AND "namespace" =~ /^$namespace$/ AND "pod_name" =~ /^$pod$/ AND $timeFilter'
    FN = '"node_name" =~ /^$node$/ AND "namespace" =~ /^$namespace$/ AND $timeFilter'
    G = 'GROUP BY time($__interval)'

    d.row("Pods and containers")
    d.panel(TS, "Pods per node", [
        f'SELECT count("rx") FROM (SELECT last("rx_bytes") AS "rx" FROM "kubernetes_pod_network" WHERE {FN} '
        f'{G}, "node_name", "namespace", "pod_name") WHERE $timeFilter {G}, "node_name" fill(none)'],
        w=8, legend_fmt="$tag_node_name")
    d.panel(TS, "Pods per namespace", [
        f'SELECT count("rx") FROM (SELECT last("rx_bytes") AS "rx" FROM "kubernetes_pod_network" WHERE {FN} '
        f'{G}, "node_name", "namespace", "pod_name") WHERE $timeFilter {G}, "namespace" fill(none)'],
        w=8, legend_fmt="$tag_namespace")
    d.panel(TS, "Containers per node", [
        f'SELECT count("ws") FROM (SELECT last("memory_working_set_bytes") AS "ws" FROM "kubernetes_pod_container" '
        f'WHERE {FN} {G}, "node_name", "namespace", "pod_name", "container_name") WHERE $timeFilter '
        f'{G}, "node_name" fill(none)'], w=8, legend_fmt="$tag_node_name")

    d.row("CPU and memory")
    d.panel(TS, "Container CPU", [
        f'SELECT mean("cpu_usage_nanocores") / 1000000000 FROM "kubernetes_pod_container" WHERE {F} '
        f'{G}, "namespace", "pod_name", "container_name" fill(null)'],
        unit="cores", legend_fmt="$tag_namespace/$tag_pod_name/$tag_container_name")
    d.panel(TS, "Container memory (working set)", [
        f'SELECT mean("memory_working_set_bytes") FROM "kubernetes_pod_container" WHERE {F} '
        f'{G}, "namespace", "pod_name", "container_name" fill(null)'],
        unit="bytes", legend_fmt="$tag_namespace/$tag_pod_name/$tag_container_name")
    d.panel(TS, "CPU: requests and limits vs usage", [
        (f'SELECT mean("cpu_usage_nanocores") / 1000000 FROM "kubernetes_pod_container" WHERE {F} '
         f'{G}, "pod_name", "container_name" fill(null)', "$tag_pod_name/$tag_container_name usage"),
        (f'SELECT last("resource_requests_millicpu_units") FROM "kubernetes_pod_container" WHERE {F} '
         f'{G}, "pod_name", "container_name" fill(previous)', "$tag_pod_name/$tag_container_name request"),
        (f'SELECT last("resource_limits_millicpu_units") FROM "kubernetes_pod_container" WHERE {F} '
         f'{G}, "pod_name", "container_name" fill(previous)', "$tag_pod_name/$tag_container_name limit")],
        unit="none", description="millicores; requests and limits come from the pod specs (kubelet /pods).")
    d.panel(TS, "Memory: requests and limits vs usage", [
        (f'SELECT mean("memory_working_set_bytes") FROM "kubernetes_pod_container" WHERE {F} '
         f'{G}, "pod_name", "container_name" fill(null)', "$tag_pod_name/$tag_container_name working set"),
        (f'SELECT last("resource_requests_memory_bytes") FROM "kubernetes_pod_container" WHERE {F} '
         f'{G}, "pod_name", "container_name" fill(previous)', "$tag_pod_name/$tag_container_name request"),
        (f'SELECT last("resource_limits_memory_bytes") FROM "kubernetes_pod_container" WHERE {F} '
         f'{G}, "pod_name", "container_name" fill(previous)', "$tag_pod_name/$tag_container_name limit")],
        unit="bytes")
    d.panel("table", "Requests vs usage per namespace", [
        f'SELECT sum("usage") AS "cpu usage (m)", sum("req") AS "cpu requests (m)", sum("ws") AS "memory working set", '
        f'sum("mreq") AS "memory requests" FROM (SELECT mean("cpu_usage_nanocores") / 1000000 AS "usage", '
        f'last("resource_requests_millicpu_units") AS "req", mean("memory_working_set_bytes") AS "ws", '
        f'last("resource_requests_memory_bytes") AS "mreq" FROM "kubernetes_pod_container" WHERE {F} '
        f'GROUP BY "namespace", "pod_name", "container_name") GROUP BY "namespace"'],
        w=24, h=8, options={"showHeader": True})

    d.row("Restarts, network and volumes")
    d.panel(TS, "Container restarts", [
        f'SELECT max("restarts_total") FROM "kubernetes_pod_container" WHERE {F} '
        f'{G}, "namespace", "pod_name", "container_name" fill(previous)'],
        legend_fmt="$tag_namespace/$tag_pod_name/$tag_container_name",
        description="restarts_total from the kube_inventory input (Telegraf's schema; run by the elected "
                    "agent for the whole cluster); the kubelet summary does not carry restarts.")
    d.panel(TS, "Pod network", [
        f'SELECT non_negative_derivative(mean("rx_bytes"), 1s) AS "rx", non_negative_derivative(mean("tx_bytes"), 1s) AS "tx" '
        f'FROM "kubernetes_pod_network" WHERE {F} {G}, "namespace", "pod_name" fill(null)'],
        unit="Bps", legend_fmt="$tag_namespace/$tag_pod_name $col")
    d.panel(TS, "Volume usage", [
        f'SELECT last("used_bytes") / last("capacity_bytes") * 100 FROM "kubernetes_pod_volume" WHERE {F} '
        f'{G}, "namespace", "pod_name", "volume_name" fill(null)'],
        unit="percent", legend_fmt="$tag_namespace/$tag_pod_name $tag_volume_name")
    d.panel(TS, "Node: CPU and memory (kubelet)", [
        (f'SELECT mean("cpu_usage_nanocores") / 1000000000 FROM "kubernetes_node" WHERE "node_name" =~ /^$node$/ '
         f'AND $timeFilter {G}, "node_name" fill(null)', "$tag_node_name cpu cores"),
        (f'SELECT mean("memory_working_set_bytes") / 1073741824 FROM "kubernetes_node" WHERE "node_name" =~ /^$node$/ '
         f'AND $timeFilter {G}, "node_name" fill(null)', "$tag_node_name memory GiB")])
    return d


# ---- agent health ----------------------------------------------------------
def agent():
    d = Dash("heliograph-agent", "Heliograph / Agent health",
             "The agent's own metrics (internal input): gather times, buffers, drops and write errors.",
             ["heliograph", "agent"])
    d.vars.append(var_query("host", "Node", 'SHOW TAG VALUES FROM "internal_agent" WITH KEY = "host"'))
    H = '"host" =~ /^$host$/ AND $timeFilter'
    G = 'GROUP BY time($__interval), "host"'

    d.row("Inputs")
    d.panel(TS, "Gather time per input", [
        f'SELECT max("gather_time_ns") / 1000000 FROM "internal_gather" WHERE {H} {G}, "input" fill(null)'],
        unit="ms", legend_fmt="$tag_host $tag_input")
    d.panel(TS, "Metrics gathered per input", [
        f'SELECT non_negative_difference(max("metrics_gathered")) FROM "internal_gather" WHERE {H} {G}, "input" fill(none)'],
        legend_fmt="$tag_host $tag_input", description="per interval")
    d.panel(TS, "Gather errors and timeouts", [
        f'SELECT max("gather_errors") AS "errors", max("gather_timeouts") AS "timeouts" FROM "internal_gather" '
        f'WHERE {H} {G}, "input" fill(null)'], legend_fmt="$tag_host $tag_input $col",
        description="totals since the agent started")

    d.row("Outputs")
    d.panel(TS, "Buffer per output", [
        f'SELECT mean("buffer_size") AS "buffered", max("buffer_limit") AS "limit" FROM "internal_write" '
        f'WHERE {H} {G}, "output" fill(null)'], legend_fmt="$tag_host $tag_output $col")
    d.panel(TS, "Dropped metrics per output", [
        f'SELECT max("metrics_dropped") AS "dropped", max("metrics_rejected") AS "rejected" FROM "internal_write" '
        f'WHERE {H} {G}, "output" fill(null)'], legend_fmt="$tag_host $tag_output $col",
        description="totals since the agent started: buffer overflows and lines the server refused")
    d.panel(TS, "Write errors per output", [
        f'SELECT max("write_errors") FROM "internal_write" WHERE {H} {G}, "output" fill(null)'],
        legend_fmt="$tag_host $tag_output")
    d.panel(TS, "Write time per output", [
        f'SELECT max("write_time_ns") / 1000000 FROM "internal_write" WHERE {H} {G}, "output" fill(null)'],
        unit="ms", legend_fmt="$tag_host $tag_output")
    d.panel(TS, "Metrics written per output", [
        f'SELECT non_negative_difference(max("metrics_written")) FROM "internal_write" WHERE {H} {G}, "output" fill(none)'],
        legend_fmt="$tag_host $tag_output", description="per interval")

    d.row("Agent")
    d.panel(TS, "Agent totals", [
        f'SELECT max("metrics_gathered") AS "gathered", max("metrics_written") AS "written", '
        f'max("metrics_dropped") AS "dropped", max("gather_errors") AS "gather errors", max("write_errors") AS "write errors" '
        f'FROM "internal_agent" WHERE {H} {G} fill(null)'], legend_fmt="$tag_host $col")
    d.panel(TS, "Agent memory and CPU", [
        (f'SELECT mean("rss_bytes") / 1048576 FROM "internal_process" WHERE {H} {G} fill(null)', "$tag_host RSS MiB"),
        (f'SELECT mean("cpu_usage") FROM "internal_process" WHERE {H} {G} fill(null)', "$tag_host CPU %")],
        description="internal input with collect_process: true")
    return d


# ---- deploys ---------------------------------------------------------------
def deploys():
    d = Dash("heliograph-deploys", "Heliograph / Deploys by strategy",
             "Deploys recorded by the cluster (deploy_events input) and by pipelines (agentctl deploy-event), "
             "per strategy: big bang, rolling, canary, blue-green, and the verdicts of agentctl deploy-check.",
             ["heliograph", "deploys"])
    d.vars.append(var_query("source", "Source", 'SHOW TAG VALUES FROM "deploy" WITH KEY = "source"'))
    d.vars.append(var_query("strategy", "Strategy", 'SHOW TAG VALUES FROM "deploy" WITH KEY = "strategy"'))
    d.vars.append(var_query("namespace", "Namespace", 'SHOW TAG VALUES FROM "deploy" WITH KEY = "namespace"'))
    d.vars.append(var_query("service", "Service",
                            'SHOW TAG VALUES FROM "deploy" WITH KEY = "name" WHERE "namespace" =~ /^$namespace$/'))
    d.annotations.append(deploy_annotation(' AND "source" =~ /^$source$/ AND "strategy" =~ /^$strategy$/ '
                                           'AND "namespace" =~ /^$namespace$/ AND "name" =~ /^$service$/'))
    F = ('"source" =~ /^$source$/ AND "strategy" =~ /^$strategy$/ AND "namespace" =~ /^$namespace$/ '
         'AND "name" =~ /^$service$/ AND $timeFilter')
    # One value a second per service and phase: 1 for a failure, 0 for a
    # success. Failure rate is its mean; time to restore is the time from a
    # 1 to the next 0 (difference -1), in time order per service.
    def outcome(group):
        return (f'(SELECT count("version") AS "failed" FROM "deploy" WHERE "phase" = \'failed\' AND {F} '
                f'GROUP BY time(1s), {group} fill(none)), '
                f'(SELECT count("version") * 0 AS "failed" FROM "deploy" WHERE ("phase" = \'completed\' OR '
                f'"phase" = \'rolled_back\') AND {F} GROUP BY time(1s), {group} fill(none))')
    restore = (f'SELECT difference("failed") AS "d", elapsed("failed", 1s) AS "restore_s" FROM '
               f'(SELECT max("failed") AS "failed" FROM {outcome(chr(34) + "name" + chr(34) + ", " + chr(34) + "strategy" + chr(34))} '
               f'WHERE $timeFilter GROUP BY time(1s), "name", "strategy" fill(none)) GROUP BY "name", "strategy"')

    d.row("Deploys")
    d.panel(TS, "Deploy timeline per strategy", [
        f'SELECT count("version") FROM "deploy" WHERE {F} GROUP BY time($__interval), "strategy", "phase" fill(none)'],
        w=24, legend_fmt="$tag_strategy $tag_phase",
        options={"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                 "tooltip": {"mode": "multi", "sort": "none"}},
        field_config={"custom": {"drawStyle": "points", "pointSize": 9}},
        description="Every recorded phase (started, completed, failed ...) per strategy.")
    d.panel("barchart", "Deploys per day by strategy", [
        f'SELECT count("version") FROM "deploy" WHERE "phase" = \'started\' AND {F} GROUP BY time(1d), "strategy" fill(0)'],
        legend_fmt="$tag_strategy", options={"stacking": "normal", "xTickLabelRotation": -45,
                                             "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}},
        description="Deploys started per day.")
    d.panel("bargauge", "Median duration per strategy", [
        f'SELECT median("duration_s") FROM "deploy" WHERE "phase" = \'completed\' AND {F} GROUP BY "strategy"'],
        unit="s", legend_fmt="$tag_strategy",
        options={"displayMode": "basic", "orientation": "horizontal",
                 "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        description="Of completed deploys: from started to completed.")
    d.panel("bargauge", "Failure rate per strategy", [
        f'SELECT mean("failed") * 100 FROM {outcome(chr(34) + "name" + chr(34) + ", " + chr(34) + "strategy" + chr(34))} '
        f'WHERE $timeFilter GROUP BY "strategy"'],
        unit="percent", legend_fmt="$tag_strategy", field_config={"min": 0, "max": 100},
        options={"displayMode": "basic", "orientation": "horizontal",
                 "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        description="failed / (failed + completed + rolled back).")
    d.panel(TS, "Duration over time per strategy", [
        f'SELECT median("duration_s") FROM "deploy" WHERE "phase" = \'completed\' AND {F} '
        f'GROUP BY time($__interval), "strategy" fill(none)'], unit="s", legend_fmt="$tag_strategy",
        field_config={"custom": {"drawStyle": "points", "pointSize": 7}})

    d.row("Failures and restores")
    d.panel(TS, "Time to restore after a failed deploy", [
        f'SELECT "restore_s" FROM ({restore}) WHERE "d" = -1 AND $timeFilter GROUP BY "name", "strategy"'],
        unit="s", legend_fmt="$tag_name ($tag_strategy)",
        field_config={"custom": {"drawStyle": "points", "pointSize": 9}},
        description="From a failed deploy of a service to its next completed (or rolled back) deploy; "
                    "shown at the time of the restore.")
    d.panel("bargauge", "Median time to restore per strategy", [
        f'SELECT median("restore_s") FROM ({restore}) WHERE "d" = -1 AND $timeFilter GROUP BY "strategy"'],
        unit="s", legend_fmt="$tag_strategy",
        options={"displayMode": "basic", "orientation": "horizontal",
                 "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}})
    d.panel("table", "Recent deploys", [
        f'SELECT "version", "verdict", "degraded_signals", "duration_s", "image", "message", "replicas", '
        f'"canary_weight" FROM "deploy" '
        f'WHERE {F} GROUP BY "namespace", "name", "strategy", "phase", "source", "kind" ORDER BY time DESC LIMIT 50'],
        w=24, h=10, options={"showHeader": True},
        description="Every phase; the verdict column is agentctl deploy-check's (healthy or degraded, on its "
                    "verified/degraded rows) with the signals that were degraded.")

    d.row("Verdicts (agentctl deploy-check)")
    d.panel("bargauge", "Degraded deploys per strategy", [
        f'SELECT count("verdict") FROM "deploy" WHERE "phase" = \'degraded\' AND {F} GROUP BY "strategy"'],
        legend_fmt="$tag_strategy",
        options={"displayMode": "basic", "orientation": "horizontal",
                 "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        description="Deploys that agentctl deploy-check judged worse than before (or than the stable pods).")
    d.panel("bargauge", "Degraded share of checked deploys per strategy", [
        f'SELECT mean("bad") * 100 FROM '
        f'(SELECT count("verdict") AS "bad" FROM "deploy" WHERE "phase" = \'degraded\' AND {F} '
        f'GROUP BY time(1s), "name", "strategy" fill(none)), '
        f'(SELECT count("verdict") * 0 AS "bad" FROM "deploy" WHERE "phase" = \'verified\' AND {F} '
        f'GROUP BY time(1s), "name", "strategy" fill(none)) WHERE $timeFilter GROUP BY "strategy"'],
        unit="percent", legend_fmt="$tag_strategy", field_config={"min": 0, "max": 100},
        options={"displayMode": "basic", "orientation": "horizontal",
                 "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        description="degraded / (degraded + verified).")
    d.panel("table", "Deploy verdicts: before and after", [
        f'SELECT "version", "verdict", "degraded_signals", "comparison", "restarts_before", "restarts_after", '
        f'"oom_killed_before", "oom_killed_after", "not_ready_pct_before", "not_ready_pct_after", '
        f'"cpu_median_millicores_before", "cpu_median_millicores_after", "memory_median_bytes_before", '
        f'"memory_median_bytes_after", "error_rate_pct_before", "error_rate_pct_after" FROM "deploy" '
        f'WHERE ("phase" = \'verified\' OR "phase" = \'degraded\') AND {F} '
        f'GROUP BY "namespace", "name", "strategy" ORDER BY time DESC LIMIT 50'],
        w=24, h=10, options={"showHeader": True},
        description="Each verdict with the signals it compared (in canary mode, before = the stable pods). "
                    "docs/deploy-check.md explains the signals and thresholds.")
    return d


def render(d):
    return json.dumps(d.json(), indent=2, sort_keys=False) + "\n"


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for name, build in (("node.json", node), ("kubernetes.json", kubernetes), ("agent.json", agent),
                        ("deploys.json", deploys)):
        path = os.path.join(HERE, name)
        text = render(build())
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            if check:
                stale.append(name)
            else:
                with open(path, "w") as f:
                    f.write(text)
    if stale:
        print("stale (run grafana-dashboards/gen.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks the Grafana dashboards against a real influxd, as Grafana would use them.

    dashboards_check.py --url URL --db DB --from MS --to MS [--interval 1s]
                        [--may-be-empty 'uid:Panel title' ...] DASHBOARD.json...

1. Structure: the fields Grafana needs to load a dashboard (uid, title,
   schemaVersion, templating.list, panels with id/type/gridPos/targets,
   unique panel ids, grid inside 24 columns, datasource = the variable) and
   __inputs for a manual import.
2. Template variables: each query variable's query is run (after the
   variables before it are substituted) and its values become the options;
   the current value is "All", formatted as Grafana formats a multi-value
   regex variable for InfluxDB: (a|b|c), regex-escaped.
3. Every panel target and annotation query, with $timeFilter, $__interval
   and the variables substituted, must run without error and return at
   least one series with a non-null value; those named by --may-be-empty
   must only run without error. Prints one line per query and a summary.
4. Annotations: the columns named by textColumn and tagsColumn are selected
   by the query, and each of them has a value in some row of the answer (the
   deploy annotations' phase and degraded_signals are how a deploy-check
   verdict shows), unless the annotation may be empty.
"""
import argparse
import json
import re
import sys
import urllib.parse
import urllib.request

GRAFANA_VAR = re.compile(r"\$(\w+)|\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]")


def query(url, db, q):
    data = urllib.parse.urlencode({"db": db, "q": q, "epoch": "ms"}).encode()
    req = urllib.request.Request(url + "/query", data=data)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        return None, "HTTP %d: %s" % (e.code, e.read().decode(errors="replace"))
    res = body.get("results", [{}])[0]
    if "error" in res:
        return None, res["error"]
    if "error" in body:
        return None, body["error"]
    return res.get("series", []), None


def regex_escape(v):
    # What Grafana's InfluxDB datasource does to each value of a regex variable.
    return re.sub(r"([\\/^$.|?*+()\[\]{}-])", r"\\\1", v)


def var_value(values):
    esc = [regex_escape(v) for v in values]
    return esc[0] if len(esc) == 1 else "(" + "|".join(esc) + ")"


def substitute(q, env):
    def rep(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name not in env:
            raise KeyError("unknown variable $" + name)
        return env[name]
    return GRAFANA_VAR.sub(rep, q)


def has_values(series):
    for s in series:
        for row in s.get("values", []):
            if any(v is not None for v in row[1:]):
                return True
    return False


def outer_query(q):
    """q without its subqueries: the part whose GROUP BY sets the points drawn."""
    out, i = [], 0
    while i < len(q):
        if q.startswith("(SELECT", i):
            depth = 0
            while i < len(q):
                depth += {"(": 1, ")": -1}.get(q[i], 0)
                i += 1
                if depth == 0:
                    break
            continue
        out.append(q[i])
        i += 1
    return "".join(out)


def check_structure(path, d, errors):
    def need(cond, what):
        if not cond:
            errors.append("%s: %s" % (path, what))
    for k in ("uid", "title", "schemaVersion", "templating", "panels", "annotations"):
        need(k in d, "missing " + k)
    need(isinstance(d.get("uid"), str) and 0 < len(d["uid"]) <= 40 and re.fullmatch(r"[A-Za-z0-9_-]+", d["uid"]),
         "uid must be 1-40 of [A-Za-z0-9_-]")
    need(isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 36, "schemaVersion >= 36")
    need(isinstance(d.get("templating", {}).get("list"), list), "templating.list")
    inputs = d.get("__inputs", [])
    need(any(i.get("type") == "datasource" and i.get("pluginId") == "influxdb" for i in inputs),
         "__inputs lacks the InfluxDB datasource")
    dsvars = [v for v in d["templating"]["list"] if v.get("type") == "datasource"]
    need(len(dsvars) == 1 and dsvars[0].get("query") == "influxdb" and
         dsvars[0].get("current", {}).get("value") == "heliograph-influxdb",
         "one datasource variable defaulting to the provisioned uid heliograph-influxdb")
    ids = set()
    for p in d.get("panels", []):
        t = p.get("title", "?")
        for k in ("id", "type", "gridPos", "title"):
            need(k in p, "panel %s: missing %s" % (t, k))
        need(p.get("id") not in ids, "panel %s: duplicate id %s" % (t, p.get("id")))
        ids.add(p.get("id"))
        g = p.get("gridPos", {})
        need(all(isinstance(g.get(k), int) for k in ("h", "w", "x", "y")) and g["x"] + g["w"] <= 24,
             "panel %s: gridPos" % t)
        if p.get("type") == "row":
            continue
        need(p.get("datasource") == {"type": "influxdb", "uid": "${datasource}"}, "panel %s: datasource" % t)
        need(isinstance(p.get("targets"), list) and p["targets"], "panel %s: no targets" % t)
        refs = set()
        for tg in p.get("targets", []):
            need(tg.get("rawQuery") is True and tg.get("query"), "panel %s: target without a raw query" % t)
            need(tg.get("refId") and tg["refId"] not in refs, "panel %s: refId" % t)
            refs.add(tg.get("refId"))
            q = tg.get("query", "")
            need("$timeFilter" in q, "panel %s: query without $timeFilter" % t)
            outer = outer_query(q)
            if p["type"] == "timeseries" and "GROUP BY time(" in outer:
                need("GROUP BY time($__interval)" in outer, "panel %s: time series not grouped by $__interval" % t)


def check_annotation_columns(key, an, series, errors):
    """textColumn and tagsColumn name selected columns, each with a value somewhere."""
    want = [c for c in [an.get("textColumn", "")] + an.get("tagsColumn", "").split(",") if c]
    sel = re.match(r"SELECT (.*?) FROM ", an["query"])
    selected = set(re.findall(r'"([^"]+)"', sel.group(1))) if sel else set()
    for c in want:
        if c not in selected:
            errors.append("%s [-]: column %s of textColumn/tagsColumn is not selected" % (key, c))
            continue
        if not any(c in s.get("columns", []) and
                   any(row[s["columns"].index(c)] not in (None, "") for row in s.get("values", []))
                   for s in series):
            errors.append("%s [-]: column %s has no value in any row" % (key, c))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--from", dest="t_from", type=int, required=True)
    ap.add_argument("--to", dest="t_to", type=int, required=True)
    ap.add_argument("--interval", default="1s")
    ap.add_argument("--may-be-empty", action="append", default=[])
    ap.add_argument("dashboards", nargs="+")
    a = ap.parse_args()

    errors, ran, empty_ok = [], 0, []
    allowed = set(a.may_be_empty)
    used_allowed = set()
    for path in a.dashboards:
        d = json.load(open(path))
        check_structure(path, d, errors)
        uid = d.get("uid")
        env = {"timeFilter": "time >= %dms and time <= %dms" % (a.t_from, a.t_to),
               "__interval": a.interval, "__interval_ms": "1000", "datasource": "heliograph-influxdb"}
        for v in d["templating"]["list"]:
            if v.get("type") != "query":
                continue
            q = substitute(v["query"], env)
            series, err = query(a.url, a.db, q)
            if err:
                errors.append("%s: variable %s: %s: %s" % (uid, v["name"], q, err))
                env[v["name"]] = "(?!)"
                continue
            values = sorted({row[1] for s in series for row in s.get("values", [])})
            if not values:
                errors.append("%s: variable %s has no values: %s" % (uid, v["name"], q))
                env[v["name"]] = "(?!)"
                continue
            env[v["name"]] = var_value(values)
            print("var %s/%s = %s" % (uid, v["name"], env[v["name"]]))
        items = [(p["title"], tg["refId"], tg["query"], None) for p in d["panels"] if p.get("type") != "row"
                 for tg in p.get("targets", [])]
        items += [("annotation " + an["name"], "-", an["query"], an) for an in d["annotations"]["list"]
                  if an.get("datasource", {}).get("type") == "influxdb"]
        for title, ref, raw, an in items:
            key = "%s:%s" % (uid, title)
            q = substitute(raw, env)
            ran += 1
            series, err = query(a.url, a.db, q)
            if err:
                errors.append("%s [%s]: %s\n    %s" % (key, ref, err, q))
                print("ERROR %s [%s]" % (key, ref))
            elif not has_values(series):
                if key in allowed:
                    used_allowed.add(key)
                    empty_ok.append(key)
                    print("valid, empty (allowed) %s [%s]" % (key, ref))
                else:
                    errors.append("%s [%s]: no data\n    %s" % (key, ref, q))
                    print("EMPTY %s [%s]" % (key, ref))
            else:
                n = sum(len(s.get("values", [])) for s in series)
                print("ok %s [%s]: %d series, %d rows" % (key, ref, len(series), n))
                if an is not None:
                    check_annotation_columns(key, an, series, errors)
    for k in sorted(allowed - used_allowed):
        print("note: %s was allowed to be empty but returned data" % k)
    for e in errors:
        print("FAIL " + e, file=sys.stderr)
    print("%d queries: %d passed, %d failed (%d valid but empty as allowed: %s)" %
          (ran, ran - len([e for e in errors if "[" in e]), len(errors), len(empty_ok), ", ".join(empty_ok) or "-"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks InfluxQL queries (deploy-check --show-queries) and line protocol
(the test's data) against the schema the agent writes, as the plugin
READMEs document it: every measurement, field and tag a query names, and
every line's, must be in the kubernetes, kube_inventory or prometheus
input's table, with the tags that table gives that field. A renamed field
or tag in a README (or in the code without its README) fails here.

  deploy_check_schema.py SRC_DIR queries FILE   (lines "query: ...")
  deploy_check_schema.py SRC_DIR lines FILE     (line protocol)"""
import re
import sys

src, what, path = sys.argv[1:4]


def table(plugin):
    """{measurement: {field: set(tags)}} from the README's schema table(s)."""
    schema = {}
    text = open("%s/plugins/inputs/%s/README.md" % (src, plugin)).read()
    for line in text.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("measurement", "---") or cells[0].startswith("-"):
            continue
        meas, tags, fields = cells[0], cells[1], cells[2]
        tagset = set() if tags == "-" else {t.strip().strip("`") for t in tags.split(",")}
        for f in fields.split(","):
            schema.setdefault(meas, {}).setdefault(f.strip().strip("`"), set()).update(tagset)
    return schema, text


SCHEMAS = {p: table(p) for p in ("kubernetes", "kube_inventory", "prometheus")}
# The prometheus input's pod targets carry these tags (its README, "A pod
# target's metrics carry Telegraf's tags: `url`, `address` ..., `namespace`, `pod_name`").
m = re.search(r"A pod target's metrics carry Telegraf's tags:(.*?)and the pod's labels", SCHEMAS["prometheus"][1], re.S)
assert m, "prometheus README: the sentence naming a pod target's tags is gone"
POD_TARGET_TAGS = set(re.findall(r"`([a-z_]+)`", m.group(1)))
assert {"namespace", "pod_name"} <= POD_TARGET_TAGS, POD_TARGET_TAGS


def documented(meas, fields, tags):
    """None when some plugin documents meas with all fields, each with all
    tags; else why not."""
    why = []
    for plugin, (schema, _) in SCHEMAS.items():
        rows = schema.get(meas)
        labels = False
        if rows is None and plugin == "prometheus":
            # v1: the measurement is the metric family, tags its labels too.
            rows = schema.get("<family>")
            labels = True
        if rows is None:
            continue
        missing = [f for f in fields if f not in rows]
        if missing:
            why.append("%s: no field %s in %s" % (plugin, ",".join(missing), meas))
            continue
        bad = set()
        for f in fields:
            allowed = rows[f] | (POD_TARGET_TAGS if plugin == "prometheus" else set())
            bad |= {t for t in tags if t not in allowed and not (labels and "<labels>" in allowed)}
        if bad:
            why.append("%s: %s has no tag %s" % (plugin, meas, ",".join(sorted(bad))))
            continue
        return None
    return "; ".join(why) or "no plugin writes %s" % meas


def check_query(q):
    m = re.match(r'SELECT (.*?) FROM "([^"]+)"(?: WHERE (.*?))?(?: GROUP BY (.*))?$', q)
    assert m, "cannot read query: " + q
    sel, meas, where, group = m.groups()
    fields = re.findall(r'"([^"]+)"', sel)
    tags = set(re.findall(r'"([^"]+)" (?:=|=~|!=|!~) ', where or ""))
    if group and group.strip() != "*":
        tags |= set(re.findall(r'"([^"]+)"', group))
    assert "time" not in tags
    return documented(meas, fields, tags)


def split_lp(line):
    # The test's lines: no escaped spaces or commas, string values without spaces.
    head, fields, _ = line.split(" ")
    meas, *tags = head.split(",")
    return meas, [f.split("=")[0] for f in fields.split(",")], {t.split("=")[0] for t in tags}


errors, n = [], 0
for line in open(path):
    line = line.rstrip("\n")
    if what == "queries":
        if not line.startswith("query: "):
            continue
        why = check_query(line[len("query: "):])
    else:
        if not line:
            continue
        why = documented(*split_lp(line))
    n += 1
    if why:
        errors.append("%s\n  %s" % (line, why))
if errors:
    sys.exit("not in the plugins' schema:\n" + "\n".join(sorted(set(errors))[:20]))
if n == 0:
    sys.exit("nothing to check in " + path)
print("%d %s match the schema" % (n, what))

#!/usr/bin/env python3
"""The include rule of docs/ARCHITECTURE.md, checked on the source tree.

Each layer may include its own headers and those of the layers under it:

    base/          base/
    kube/          base/ kube/
    agent/api/     base/ agent/api/
    plugins/       base/ kube/ agent/api/ plugins/common/, its own folder, protobuf-c output
    agent/         base/ agent/api/ agent/          (the engine: no kube, no plugin)
    programs       agent/main.c and agentctl/: every layer but a plugin's own folder

The build's include paths already refuse most crossings (a plugin cannot find
agent_internal.h); this also catches relative paths ("../../agent/x.h") and a
header added to the wrong folder. Exits 1 naming each file:line that breaks it.
Usage: check-layers.py [SOURCE_DIR]
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')

LAYERS = {  # folder -> folders whose headers it may include
    "base": ["base"],
    "kube": ["base", "kube"],
    "agent/api": ["base", "agent/api"],
    "plugins/common": ["base", "kube", "agent/api", "plugins/common"],
    "agent": ["base", "agent/api", "agent"],
    "agentctl": ["base", "kube", "agent/api", "plugins/common", "agent", "agentctl"],
}
PROGRAMS = {"agent/main.c": LAYERS["agentctl"]}


def layer_of(rel):
    """The rule for a source file (path relative to ROOT), or None if unchecked."""
    if rel in PROGRAMS:
        return PROGRAMS[rel]
    parts = rel.split("/")
    if parts[0] == "plugins" and len(parts) == 4 and parts[1] in ("inputs", "outputs"):
        return ["base", "kube", "agent/api", "plugins/common", "/".join(parts[:3])]
    folder = "/".join(parts[:-1])
    return LAYERS.get(folder)


def headers_in(folder):
    path = os.path.join(ROOT, folder)
    return {f for f in os.listdir(path) if f.endswith(".h")} if os.path.isdir(path) else set()


def main():
    known = {}  # header name -> folders that hold one
    for folder in set(sum(LAYERS.values(), [])) | {
        "/".join(("plugins", kind, d)) for kind in ("inputs", "outputs")
        for d in os.listdir(os.path.join(ROOT, "plugins", kind))
    }:
        for h in headers_in(folder):
            known.setdefault(h, []).append(folder)
    bad = []
    checked = 0
    for top in ("base", "kube", "agent", "plugins", "agentctl"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in sorted(files):
                if not f.endswith((".c", ".h", ".cc", ".c.in")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, f), ROOT)
                allowed = layer_of(rel)
                if allowed is None:
                    bad.append(f"{rel}: in no layer of scripts/check-layers.py")
                    continue
                checked += 1
                with open(os.path.join(ROOT, rel), encoding="utf-8") as src:
                    for n, line in enumerate(src, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        inc = m.group(1)
                        if "/" in inc:
                            bad.append(f"{rel}:{n}: includes \"{inc}\": a path, not a header of an allowed layer")
                        elif inc.endswith(".pb-c.h"):
                            if not (rel.startswith("plugins/") or rel in PROGRAMS or rel.startswith("agentctl/")):
                                bad.append(f"{rel}:{n}: includes generated protobuf \"{inc}\" outside the plugins")
                        elif inc not in known:
                            bad.append(f"{rel}:{n}: includes \"{inc}\", found in no layer")
                        elif not set(known[inc]) & set(allowed):
                            bad.append(f"{rel}:{n}: includes \"{inc}\" of {', '.join(sorted(known[inc]))}, "
                                       f"which this layer may not use")
    for b in bad:
        print(b, file=sys.stderr)
    print(f"check-layers: {checked} files, {len(bad)} violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes a kubelet /stats/summary with N pods (default 1000) made from the
real captures in tests/fixtures/kubelet-summary: the node object of the
largest capture, and pods copied round-robin from every capture with
unique names and uids, so the document has real field sets and value
shapes at a size no capture reaches.

  bench/gen_summary.py [--pods N] [--out FILE]
"""
import argparse
import copy
import glob
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "tests", "fixtures", "kubelet-summary")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=1000)
    ap.add_argument("--out", default="-")
    a = ap.parse_args()
    files = sorted(glob.glob(os.path.join(fixtures, "*.json")))
    docs = [json.load(open(f, encoding="utf-8")) for f in files]
    largest = max(files, key=os.path.getsize)
    node = docs[files.index(largest)]["node"]
    pool = [p for d in docs for p in (d.get("pods") or [])]
    pods = []
    for i in range(a.pods):
        p = copy.deepcopy(pool[i % len(pool)])
        ref = p.setdefault("podRef", {})
        ref["name"] = "%s-%04d" % (ref.get("name", "pod"), i)
        ref["uid"] = "00000000-0000-4000-8000-%012d" % i
        pods.append(p)
    text = json.dumps({"node": node, "pods": pods}, indent=2)  # the kubelet indents too
    if a.out == "-":
        print(text)
    else:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()

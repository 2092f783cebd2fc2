#!/usr/bin/env python3
"""Writes the code blocks of docs/CONVENTIONS.md's walkthrough into a folder,
each under the name of the `<!-- walkthrough: NAME -->` line before it, so the
build compiles and runs exactly what the page shows (unit.test_walkthrough).
Usage: extract-walkthrough.py CONVENTIONS.md OUTDIR"""
import os
import re
import sys

src, out = sys.argv[1], sys.argv[2]
text = open(src, encoding="utf-8").read()
blocks = re.findall(r"<!-- walkthrough: (\S+) -->\n```[a-z]*\n(.*?)\n```", text, re.S)
if not blocks:
    sys.exit(f"{src}: no walkthrough blocks")
os.makedirs(out, exist_ok=True)
for name, body in blocks:
    path = os.path.join(out, name)
    new = body + "\n"
    if not os.path.exists(path) or open(path, encoding="utf-8").read() != new:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)

#!/usr/bin/env python3
"""No source file over 600 lines without a reason in docs/ARCHITECTURE.md.

Every tracked .c, .h, .cc, .py and .sh file (fixtures and fuzz corpora aside)
longer than 600 lines must be named, in backquotes before the colon of a list item, in the section "Files over
600 lines" of docs/ARCHITECTURE.md. Exits 1 naming each file that is not, and
each listed file that no longer needs its line (so the list stays true).
Usage: check-file-length.py [SOURCE_DIR]"""
import os
import re
import subprocess
import sys

LIMIT = 600
ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))


def sources():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True, check=True).stdout
        files = out.split()
    except (OSError, subprocess.CalledProcessError):  # a copy without .git: walk it
        files = [os.path.relpath(os.path.join(d, f), ROOT) for d, _, fs in os.walk(ROOT) for f in fs]
    for f in sorted(files):
        if f.endswith((".c", ".h", ".cc", ".py", ".sh")) and not f.startswith(("tests/fixtures/", "fuzz/corpus/")):
            if "/build" not in "/" + f and os.path.isfile(os.path.join(ROOT, f)):
                yield f


def main():
    doc = open(os.path.join(ROOT, "docs", "ARCHITECTURE.md"), encoding="utf-8").read()
    m = re.search(r"^## Files over 600 lines\n(.*?)(?=^## |\Z)", doc, re.M | re.S)
    listed = set()
    for item in re.split(r"^- ", m.group(1) if m else "", flags=re.M)[1:]:  # "- `a`, `b`: reason"
        listed.update(re.findall(r"`([^`\s]+)`", item.split(": ", 1)[0]))
    bad = []
    for f in sources():
        with open(os.path.join(ROOT, f), encoding="utf-8", errors="replace") as fh:
            n = sum(1 for _ in fh)
        if n > LIMIT and f not in listed:
            bad.append(f"{f}: {n} lines, over {LIMIT} with no reason in docs/ARCHITECTURE.md")
        elif n <= LIMIT and f in listed:
            bad.append(f"{f}: {n} lines, listed in docs/ARCHITECTURE.md as over {LIMIT}: drop its line")
    for f in sorted(listed):
        if not os.path.isfile(os.path.join(ROOT, f)):
            bad.append(f"{f}: listed in docs/ARCHITECTURE.md but does not exist")
    for b in bad:
        print(b, file=sys.stderr)
    print(f"check-file-length: {len(listed)} files listed, {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

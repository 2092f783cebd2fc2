#!/usr/bin/env python3
"""The naming rule of docs/CONVENTIONS.md, checked on built objects.

Every symbol our code exports (functions and global data) starts with "hg_", so
none can meet a dependency's name or another module's. Allowed besides: the
libcurl and snappy entry points that base/curl_lazy.c and base/snappy_lazy.c
define (the libraries' own names, loaded on first use), protobuf-c's generated
code (otlp__, prompb__, io__), and the toolchain's own (a leading underscore,
main, data_start). Reads each file (program, archive or object) with `nm` and
exits 1 naming every other exported symbol and where it is defined.
Usage: check-symbols.py FILE...
"""
import re
import subprocess
import sys

ALLOWED = re.compile(r"^(hg_|curl_|snappy_|otlp__|prompb__|io__|_)")
TOOLCHAIN = {"main", "data_start"}

bad, seen = [], 0
for path in sys.argv[1:]:
    out = subprocess.run(["nm", "-g", "--defined-only", path], capture_output=True, text=True, check=True).stdout
    member = path
    for line in out.splitlines():
        if line.endswith(":"):  # an archive member's header
            member = f"{path}({line[:-1]})"
            continue
        parts = line.split()
        if len(parts) != 3 or parts[1] in "UwvN":
            continue
        if "@" in parts[2]:  # a shared library's data copied into a program (stdin, optarg)
            continue
        name = parts[2]
        seen += 1
        if not ALLOWED.match(name) and name not in TOOLCHAIN:
            bad.append(f"{member}: exports {name}: not hg_-prefixed")
for b in bad:
    print(b)
print(f"symbols: {seen} exported, {len(bad)} without the hg_ prefix")
sys.exit(1 if bad else 0)

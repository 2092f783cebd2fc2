#!/usr/bin/env bash
# The source rules of docs/ARCHITECTURE.md hold on this tree, and their checks
# do refuse a breach. Include rule (scripts/check-layers.py): a copy of the tree
# where a plugin includes the engine's private header, the engine includes the
# kube client, and the base library reaches up by a relative path, fails naming
# each file:line. File length (scripts/check-file-length.py): a new 601-line
# file and a listed file that no longer needs its line are both named.
source "$TESTLIB"
SRC=$(cd "$(dirname "$0")/../.." && pwd)

python3 "$SRC/scripts/check-layers.py" "$SRC" >"$TMP/ok.out" 2>&1 || fail "layers broken: $(cat "$TMP/ok.out")"
grep -q ", 0 violations" "$TMP/ok.out" || fail "unexpected report: $(cat "$TMP/ok.out")"

mkdir "$TMP/tree"
(cd "$SRC" && tar cf - base kube agent plugins agentctl scripts/check-layers.py) | tar xf - -C "$TMP/tree"
sed -i '0,/#include "/s//#include "agent_internal.h"\n#include "/' "$TMP/tree/plugins/inputs/cpu/cpu.c"
sed -i '0,/#include "/s//#include "kube_client.h"\n#include "/' "$TMP/tree/agent/acc.c"
sed -i '0,/#include "/s//#include "..\/agent\/agent.h"\n#include "/' "$TMP/tree/base/log.c"
if python3 "$TMP/tree/scripts/check-layers.py" "$TMP/tree" >"$TMP/bad.out" 2>&1; then
	fail "the check passed a tree with three crossings: $(cat "$TMP/bad.out")"
fi
for want in 'plugins/inputs/cpu/cpu.c:[0-9]*: includes "agent_internal.h" of agent,' \
	'agent/acc.c:[0-9]*: includes "kube_client.h" of kube,' \
	'base/log.c:[0-9]*: includes "../agent/agent.h": a path' ', 3 violations'; do
	grep -q "$want" "$TMP/bad.out" || fail "report lacks '$want': $(cat "$TMP/bad.out")"
done
echo "layers: the tree keeps the include rule; a copy with three crossings is refused, each named"

# No source file over 600 lines without its line in ARCHITECTURE.md; a copy
# with a new long file, and with a listed file cut short, is refused.
python3 "$SRC/scripts/check-file-length.py" "$SRC" >"$TMP/len.out" 2>&1 || fail "file lengths: $(cat "$TMP/len.out")"
mkdir -p "$TMP/tree/docs" "$TMP/tree/tests/unit"
cp "$SRC/docs/ARCHITECTURE.md" "$TMP/tree/docs/"
cp "$SRC/scripts/check-file-length.py" "$TMP/tree/scripts/"
seq 1 601 | sed 's|^|// |' >"$TMP/tree/agent/long.c"
head -5 "$SRC/agentctl/convert_telegraf.c" >"$TMP/tree/agentctl/convert_telegraf.c"
for f in $(cd "$SRC" && git ls-files tests | grep -E '\.(c|h|py|sh)$' | grep -v '^tests/fixtures/'); do
	mkdir -p "$TMP/tree/$(dirname "$f")" && cp "$SRC/$f" "$TMP/tree/$f"
done
if python3 "$TMP/tree/scripts/check-file-length.py" "$TMP/tree" >"$TMP/len-bad.out" 2>&1; then
	fail "the length check passed a tree with a 601-line file: $(cat "$TMP/len-bad.out")"
fi
grep -q '^agent/long.c: 601 lines, over 600 with no reason' "$TMP/len-bad.out" || fail "long file not named: $(cat "$TMP/len-bad.out")"
grep -q '^agentctl/convert_telegraf.c: 5 lines, listed' "$TMP/len-bad.out" || fail "stale line not named: $(cat "$TMP/len-bad.out")"
echo "layers: no file over 600 lines without its reason; a new long file and a stale line are refused"

# Every exported symbol of the programs and of the libraries beside them carries
# the hg_ prefix (scripts/check-symbols.py); an object exporting a bare name is refused.
BUILD=$(dirname "$AGENT")
libs="$BUILD/libhgbase.a $BUILD/kube/libhgkube.a $BUILD/libhgplugins.a $BUILD/libhgengine.a $BUILD/agentctl.d/libagentctlcore.a"
python3 "$SRC/scripts/check-symbols.py" "$AGENT" "$BUILD/agentctl" $libs >"$TMP/sym.out" 2>&1 || fail "symbols: $(cat "$TMP/sym.out")"
grep -q ", 0 without the hg_ prefix" "$TMP/sym.out" || fail "unexpected symbol report: $(cat "$TMP/sym.out")"
printf 'int parse_size(const char *s) { return s != 0; }\nint hg_ok;\n' >"$TMP/bare.c"
cc -c "$TMP/bare.c" -o "$TMP/bare.o" || fail "cannot compile the bare-name object"
if python3 "$SRC/scripts/check-symbols.py" "$TMP/bare.o" >"$TMP/sym-bad.out" 2>&1; then
	fail "the symbol check passed an object exporting parse_size: $(cat "$TMP/sym-bad.out")"
fi
grep -q 'bare.o: exports parse_size: not hg_-prefixed' "$TMP/sym-bad.out" || fail "bare name not named: $(cat "$TMP/sym-bad.out")"
grep -q 'exports hg_ok' "$TMP/sym-bad.out" && fail "hg_ok refused: $(cat "$TMP/sym-bad.out")"
echo "layers: $(tail -1 "$TMP/sym.out"); an object exporting parse_size is refused"

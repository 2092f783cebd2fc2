#!/usr/bin/env bash
# The include rule of docs/ARCHITECTURE.md (scripts/check-layers.py) holds on
# this tree, and the check does refuse a crossing: a copy of the tree where a
# plugin includes the engine's private header, the engine includes the kube
# client, and the base library reaches up by a relative path, fails naming
# each file:line.
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

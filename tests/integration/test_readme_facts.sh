#!/usr/bin/env bash
# README.md's facts against what they describe: its plugin list is the
# agent's (`agent plugins`, the registry generated from plugins/), every
# command of its shell blocks runs as root without sudo (which a root shell
# in a container often lacks), and its fix for Debian's influxd, which
# listens on every address, does what it says on Debian's own influxdb.conf.
source "$TESTLIB"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
README=$SRC/README.md

# Plugins: each kind's line lists exactly the agent's plugins, each linking
# its README, which exists.
for kind in inputs outputs; do
	"$AGENT" plugins "$kind" | LC_ALL=C sort >"$TMP/$kind.agent"
	[ -s "$TMP/$kind.agent" ] || fail "agent plugins $kind printed nothing"
	label=$(echo "${kind:0:1}" | tr a-z A-Z)${kind:1}
	line=$(sed -n '/^## Plugins$/,/^## /p' "$README" | grep "^- $label: ") || fail "README's Plugins section has no '- $label:' line"
	grep -o "\[\`[a-z0-9_]*\`\](plugins/$kind/[a-z0-9_]*/README.md)" <<<"$line" >"$TMP/$kind.links" || true
	sed 's/^\[`\([a-z0-9_]*\)`\](plugins\/[a-z]*\/\([a-z0-9_]*\)\/README.md)$/\1 \2/' "$TMP/$kind.links" |
		awk '$1 != $2 { print "link of " $1 " goes to " $2; bad = 1 } END { exit bad }' ||
		fail "README's $kind links point at other plugins"
	cut -d'`' -f2 "$TMP/$kind.links" | LC_ALL=C sort >"$TMP/$kind.readme"
	diff "$TMP/$kind.agent" "$TMP/$kind.readme" >"$TMP/$kind.diff" ||
		fail "README's $kind (>) differ from agent plugins $kind (<): $(grep '^[<>]' "$TMP/$kind.diff" | tr '\n' ' ')"
	while read -r name; do
		[ -f "$SRC/plugins/$kind/$name/README.md" ] || fail "plugins/$kind/$name/README.md missing"
	done <"$TMP/$kind.agent"
done

# No command in a shell block needs sudo: as root, sudo may be absent.
awk '/^```(sh|bash)$/ { on = 1; next } /^```$/ { on = 0 } on && /^[[:space:]]*sudo / { print FNR ": " $0; bad = 1 }
	END { exit bad }' "$README" >"$TMP/sudo" || fail "README runs sudo: $(cat "$TMP/sudo")"

# Debian's influxd: the README says it listens on every address, and its
# sed line makes it listen on 127.0.0.1:8086 only. Checked on the
# influxdb.conf the Debian package installs.
conf=/etc/influxdb/influxdb.conf
[ -f "$conf" ] || fail "$conf missing (apt-get install influxdb)"
grep -q 'EVERY address' "$README" || fail "README does not say influxd listens on every address"
fix=$(grep -F "bind-address = \"127.0.0.1:8086\"" "$README" | grep "^\$SUDO sed " | head -1)
[ -n "$fix" ] || fail "README has no sed line setting bind-address = \"127.0.0.1:8086\""
cp "$conf" "$TMP/influxdb.conf"
bash -c "SUDO=; ${fix//$conf/$TMP/influxdb.conf}" || fail "README's fix failed: $fix"
python3 - "$conf" "$TMP/influxdb.conf" <<'PY' || fail "README's influxdb facts"
import sys, tomllib
before = tomllib.load(open(sys.argv[1], "rb"))
after = tomllib.load(open(sys.argv[2], "rb"))
# Unset in Debian's file: influxd's default, ":8086", every address.
assert "bind-address" not in before.get("http", {}), before.get("http")
assert after["http"]["bind-address"] == "127.0.0.1:8086", after.get("http")
before["http"]["bind-address"] = "127.0.0.1:8086"
assert before == after, "the fix changed more than [http] bind-address"
PY
# influxd's own default for that address, which the unset key means.
influxd config 2>/dev/null | python3 -c '
import sys, tomllib
d = tomllib.loads(sys.stdin.read())
assert d["http"]["bind-address"] == ":8086", d["http"]["bind-address"]' || fail "influxd's default HTTP bind-address is not :8086"
echo "readme facts: passed"

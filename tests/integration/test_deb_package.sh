#!/bin/bash
# The Debian package: cpack -G DEB from the build directory, then installed
# into a throwaway root with dpkg --root (unpacked; the maintainer scripts
# are checked and the sysusers.d user is created with systemd-sysusers
# --root, as postinst does). Checks the files, the conffile, the unit
# (systemd-analyze verify), the installed agent loading the installed
# config, and that the man pages carry every option and command --help shows.
source "$TESTLIB"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$AGENT")
AGENTCTL=$BUILD/agentctl
command -v cpack >/dev/null && command -v dpkg-deb >/dev/null || { echo "SKIP: no cpack/dpkg"; exit 0; }

(cd "$BUILD" && cpack -G DEB -B "$TMP/pkg" >"$TMP/cpack.log" 2>&1) || fail "cpack failed: $(tail -5 "$TMP/cpack.log")"
deb=$(ls "$TMP"/pkg/heliograph_*.deb)
[ -f "$deb" ] || fail "no .deb in $TMP/pkg"
version=$(sed 's/.*://' "$SRC/IMAGE")
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "package version is not IMAGE's tag $version"
for dep in libuv1 libcurl4 libsnappy1v5 libyaml-0-2 libyajl2 libhttp-parser; do
	dpkg-deb -f "$deb" Depends | grep -q "$dep" || fail "Depends lacks $dep: $(dpkg-deb -f "$deb" Depends)"
done

R="$TMP/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
touch "$R/var/lib/dpkg/status" "$R/var/lib/dpkg/available"
dpkg --root="$R" --force-depends --unpack "$deb" >"$TMP/dpkg.log" 2>&1 || fail "dpkg --unpack: $(cat "$TMP/dpkg.log")"
dpkg --root="$R" -s heliograph | grep -q '^Status: install ok unpacked' || fail "dpkg does not list heliograph as unpacked"
# Until configure, dpkg keeps a new conffile as .dpkg-new; configuring (the
# step that would run postinst in the root) renames it.
[ -s "$R/etc/heliograph/agent.yaml.dpkg-new" ] || fail "conffile not unpacked as agent.yaml.dpkg-new"
mv "$R/etc/heliograph/agent.yaml.dpkg-new" "$R/etc/heliograph/agent.yaml"
for f in usr/bin/agent usr/bin/agentctl etc/heliograph/agent.yaml usr/lib/systemd/system/heliograph-agent.service \
	usr/lib/sysusers.d/heliograph.conf usr/share/man/man1/agent.1.gz usr/share/man/man1/agentctl.1.gz \
	usr/share/man/man5/agent.yaml.5.gz; do
	[ -s "$R/$f" ] || fail "package lacks /$f"
done
dpkg --root="$R" -s heliograph | grep -A1 '^Conffiles:' | grep -q '/etc/heliograph/agent.yaml' ||
	fail "/etc/heliograph/agent.yaml is not a conffile"
# The drop-in directory (as telegraf.d): shipped empty, owned by the package.
[ -d "$R/etc/heliograph/agent.d" ] || fail "package lacks the directory /etc/heliograph/agent.d"
[ -z "$(ls -A "$R/etc/heliograph/agent.d")" ] || fail "/etc/heliograph/agent.d is not empty"
dpkg-deb -c "$deb" | awk '$1 ~ /^d/ && $NF == "./etc/heliograph/agent.d/" { found = 1 } END { exit !found }' ||
	fail "the package does not own ./etc/heliograph/agent.d/"

# Maintainer scripts: valid shell; postinst creates the user, protects the
# config, enables the unit; the user it creates (sysusers.d) is real.
dpkg-deb -e "$deb" "$TMP/control"
for s in postinst prerm postrm; do
	[ -x "$TMP/control/$s" ] || fail "no executable $s"
	sh -n "$TMP/control/$s" || fail "$s is not valid sh"
done
grep -q 'systemd-sysusers heliograph.conf' "$TMP/control/postinst" || fail "postinst does not create the user"
grep -q 'adduser --system' "$TMP/control/postinst" || fail "postinst has no adduser fallback"
grep -q 'chmod 0640 /etc/heliograph/agent.yaml' "$TMP/control/postinst" || fail "postinst leaves the config world-readable"
grep -q 'chmod 0750 /etc/heliograph/agent.d' "$TMP/control/postinst" || fail "postinst leaves agent.d world-readable"
if command -v systemd-sysusers >/dev/null; then
	systemd-sysusers --root="$R" >/dev/null 2>&1 || fail "systemd-sysusers --root failed"
	grep -q '^heliograph:x:[0-9]*:[0-9]*:Heliograph metrics agent:/var/lib/heliograph:' "$R/etc/passwd" ||
		fail "sysusers.d did not create the heliograph user: $(cat "$R/etc/passwd" 2>/dev/null)"
fi

# The unit.
unit="$R/usr/lib/systemd/system/heliograph-agent.service"
for line in 'User=heliograph' 'Restart=on-failure' 'ExecReload=/bin/kill -HUP $MAINPID' \
	'ExecStart=/usr/bin/agent --config /etc/heliograph/agent.yaml --config-directory /etc/heliograph/agent.d' \
	'NoNewPrivileges=yes' 'ProtectSystem=strict' \
	'CapabilityBoundingSet=' 'StateDirectory=heliograph' \
	'ProtectHome=read-only' 'PrivateUsers=yes' 'PrivateMounts=yes' 'UMask=0077' \
	'SystemCallFilter=@system-service' 'SystemCallFilter=~@privileged @resources' 'SystemCallErrorNumber=EPERM' \
	'IPAddressDeny=any' 'IPAddressAllow=localhost'; do
	grep -qxF "$line" "$unit" || fail "unit lacks $line"
done
# Left out on purpose (docs/SECURITY.md says why): they would break the node inputs.
for d in ProtectProc ProcSubset PrivateNetwork; do
	! grep -q "^$d=" "$unit" || fail "unit sets $d, which the node inputs do not allow"
done
if command -v systemd-analyze >/dev/null; then
	# Verified on this host's systemd, with the binary at its unpacked path
	# (the root has no systemd of its own to resolve the unit's targets).
	mkdir -p "$TMP/unit"
	sed "s#/usr/bin/agent#$R/usr/bin/agent#" "$unit" >"$TMP/unit/heliograph-agent.service"
	systemd-analyze verify --man=no "$TMP/unit/heliograph-agent.service" >"$TMP/verify.log" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$TMP/verify.log")"
	[ ! -s "$TMP/verify.log" ] || fail "systemd-analyze verify warns: $(cat "$TMP/verify.log")"
	systemd-analyze security --offline=yes --root="$R" heliograph-agent.service >"$TMP/security.log" 2>&1 || true
	score=$(sed -n 's/.*Overall exposure level for heliograph-agent.service: \([0-9.]*\).*/\1/p' "$TMP/security.log")
	[ -n "$score" ] || fail "systemd-analyze security gave no score: $(cat "$TMP/security.log")"
	echo "systemd-analyze security exposure: $score"
	# The score docs/SECURITY.md and README.md give is the unit's.
	awk -v s="$score" 'BEGIN { exit !(s + 0 <= 1.2) }' || fail "exposure $score, above 1.2: $(grep '✗' "$TMP/security.log")"
	grep -q "scores \*\*$score\*\* in \`systemd-analyze security" "$SRC/docs/SECURITY.md" ||
		fail "docs/SECURITY.md does not record the score $score"
	grep -A1 'systemd-analyze security` exposure$' "$SRC/README.md" | tail -1 | grep -q "^$score, see docs/SECURITY.md" ||
		fail "README.md does not record the score $score"
	# Each directive scored as set (a typo or a systemd that ignores one shows here).
	for d in 'SystemCallFilter=~@privileged' 'SystemCallFilter=~@resources' 'PrivateUsers=' 'PrivateMounts=' \
		'UMask=' 'NoNewPrivileges=' 'ProtectSystem=' 'CapabilityBoundingSet=~CAP_SYS_ADMIN'; do
		grep -q "✓ $d" "$TMP/security.log" || fail "systemd-analyze security does not count $d: $(grep -F "$d" "$TMP/security.log")"
	done
	grep -q "IPAddressDeny=.*only localhost" "$TMP/security.log" ||
		fail "IPAddressDeny not seen as a localhost-only allow list: $(grep IPAddress "$TMP/security.log")"
fi

# The installed agent loads the installed config as the unit runs it: the empty
# agent.d, then with a drop-in file that adds an input (its own inputs: section).
"$R/usr/bin/agent" --config "$R/etc/heliograph/agent.yaml" --config-directory "$R/etc/heliograph/agent.d" --test \
	--input-filter mem:system >"$TMP/lp" 2>"$TMP/agent.log" ||
	fail "installed agent with the installed config: $(tail -3 "$TMP/agent.log")"
grep -q '^mem,' "$TMP/lp" || fail "no mem metrics"
printf 'inputs:\n  - linux_sysctl_fs: {}\n' >"$R/etc/heliograph/agent.d/10-sysctl.yaml"
"$R/usr/bin/agent" --config "$R/etc/heliograph/agent.yaml" --config-directory "$R/etc/heliograph/agent.d" --test \
	--input-filter mem:linux_sysctl_fs >"$TMP/lp" 2>"$TMP/agent.log" ||
	fail "installed agent with a drop-in file: $(tail -3 "$TMP/agent.log")"
grep -q '^linux_sysctl_fs,' "$TMP/lp" && grep -q '^mem,' "$TMP/lp" || fail "the drop-in's input or agent.yaml's is missing"
printf 'inputs:\n  - mem: {bogus: 1}\n' >"$R/etc/heliograph/agent.d/20-bad.yaml"
rc=0
"$R/usr/bin/agent" --config "$R/etc/heliograph/agent.yaml" --config-directory "$R/etc/heliograph/agent.d" --test \
	>/dev/null 2>"$TMP/agent.log" || rc=$?
[ "$rc" = 2 ] && grep -q "agent.d/20-bad.yaml:2:11: input mem: unknown option" "$TMP/agent.log" ||
	fail "a bad drop-in file: exit $rc, $(cat "$TMP/agent.log")"
rm "$R/etc/heliograph/agent.d/10-sysctl.yaml" "$R/etc/heliograph/agent.d/20-bad.yaml"
# The commented credentials, uncommented, load (unset variables mean no authentication).
sed 's/^      # \(username\|password\): /      \1: /' "$R/etc/heliograph/agent.yaml" >"$TMP/auth.yaml"
grep -q '^      username: "${INFLUXDB_USERNAME}"' "$TMP/auth.yaml" && grep -q '^      password: "${INFLUXDB_PASSWORD}"' "$TMP/auth.yaml" ||
	fail "agent.yaml lacks the commented username/password placeholders"
env -u INFLUXDB_USERNAME -u INFLUXDB_PASSWORD "$R/usr/bin/agent" --config "$TMP/auth.yaml" --test --input-filter mem \
	>/dev/null 2>"$TMP/agent.log" || fail "agent.yaml with the credentials uncommented: $(tail -3 "$TMP/agent.log")"

# Help and man pages: one source. Every option of agent --help and every
# command of agentctl (with its own options) is in the man pages;
# `agentctl CMD --help` equals `agentctl help CMD` and exits 0.
man_text() { # the page as text: man if installed, else the roff source
	if command -v man >/dev/null && command -v col >/dev/null; then
		zcat "$1" | MANWIDTH=200 man -l - 2>/dev/null | col -b
	else
		zcat "$1" | sed -e 's/^\.SH //' -e 's/^\.SS /   /' -e 's/\\e/\\/g'
	fi
}
man_text "$R/usr/share/man/man1/agent.1.gz" >"$TMP/agent.man"
"$AGENT" --help >"$TMP/agent.help"
grep -o -- '--[a-z-]*' "$TMP/agent.help" | sort -u | while read -r opt; do
	grep -q -- "$opt" "$TMP/agent.man" || fail "agent(1) lacks $opt"
done
for h in SIGNALS 'EXIT CODES' ENVIRONMENT FILES; do grep -q "^$h" "$TMP/agent.man" || fail "agent(1) lacks $h"; done
man_text "$R/usr/share/man/man1/agentctl.1.gz" >"$TMP/agentctl.man"
"$AGENTCTL" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | grep -vx help >"$TMP/cmds"
[ "$(wc -l <"$TMP/cmds")" -ge 2 ] || fail "agentctl --help lists no commands"
while read -r cmd; do
	"$AGENTCTL" "$cmd" --help >"$TMP/a" || fail "agentctl $cmd --help exited non-zero"
	"$AGENTCTL" help "$cmd" >"$TMP/b" || fail "agentctl help $cmd exited non-zero"
	cmp -s "$TMP/a" "$TMP/b" || fail "agentctl $cmd --help differs from agentctl help $cmd"
	grep -q "^Usage: agentctl $cmd" "$TMP/a" || fail "agentctl $cmd --help has no Usage line"
	grep -q "^   *$cmd\$" "$TMP/agentctl.man" || fail "agentctl(1) has no section for $cmd"
	grep -o -- '--[a-z-]*' "$TMP/a" | sort -u | while read -r opt; do
		grep -q -- "$opt" "$TMP/agentctl.man" || fail "agentctl(1) lacks $cmd $opt"
	done
done <"$TMP/cmds"
man_text "$R/usr/share/man/man5/agent.yaml.5.gz" >"$TMP/yaml.man"
"$AGENT" --sample-config | sed -n 's/^ *#* *\([a-z_]*\):.*/\1/p' | sort -u | while read -r key; do
	[ -z "$key" ] || grep -q "$key" "$TMP/yaml.man" || fail "agent.yaml(5) lacks $key"
done
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes, installed size $(dpkg-deb -f "$deb" Installed-Size) KiB"
echo PASS

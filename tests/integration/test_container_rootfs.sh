#!/bin/bash
# The container image without a Docker engine: scripts/assemble-rootfs.sh
# (the Dockerfile's runtime stage copies its output) builds the file set
# into a directory, and the agent and agentctl run from it under chroot with
# nothing from the host but /proc: as the image's non-root user when this
# runs as root, in a user namespace otherwise. Also: the Dockerfile, the
# DaemonSet and the IMAGE file agree.
source "$TESTLIB"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$AGENT")
ROOT="$TMP/rootfs"

"$SRC/scripts/assemble-rootfs.sh" "$BUILD" "$ROOT" || fail "assemble-rootfs failed"
for f in usr/bin/agent usr/bin/agentctl etc/passwd etc/group etc/ssl/certs/ca-certificates.crt \
	etc/heliograph/heliograph.yaml; do
	[ -s "$ROOT/$f" ] || fail "rootfs lacks $f"
done
grep -q '^nobody:x:65534:65534:' "$ROOT/etc/passwd" || fail "no non-root user 65534 in /etc/passwd"
# Nothing but the binaries, their libraries and the loader is executable code.
extra=$(find "$ROOT" -type f ! -path "$ROOT/usr/bin/*" ! -path "$ROOT/etc/*" ! -name '*.so*' -print)
[ -z "$extra" ] || fail "unexpected files in the rootfs: $extra"
[ -z "$(find "$ROOT" -name sh -o -name busybox -o -name bash)" ] || fail "a shell is in the rootfs"

mkdir -p "$ROOT/proc"
run_in_root() { # run_in_root CMD...: runs CMD inside the rootfs
	if [ "$(id -u)" -eq 0 ]; then
		unshare -m -p -f --mount-proc="$ROOT/proc" chroot --userspec=65534:65534 "$ROOT" "$@"
	else
		unshare -r -m -p -f --mount-proc="$ROOT/proc" chroot "$ROOT" "$@"
	fi
}
run_in_root /usr/bin/agent --test --config /etc/heliograph/heliograph.yaml >"$TMP/lp" 2>"$TMP/agent.log" ||
	fail "agent --test in the rootfs failed: $(tail -5 "$TMP/agent.log")"
for m in mem system kernel swap; do
	grep -q "^$m," "$TMP/lp" || fail "no $m metrics from the agent in the rootfs"
done
# HTTP from the image: libcurl is loaded on first use (dlopen), so ldd does not
# list it; the rootfs must still hold it and what it needs. The agent in the
# rootfs writes to a real influxd on the host's loopback (same network
# namespace) and the point is queried back.
for so in libcurl.so.4 libsnappy.so.1; do
	[ -n "$(find "$ROOT" -name "$so")" ] || fail "rootfs lacks $so (loaded on first use)"
done
influx_start
cat >"$ROOT/etc/heliograph/http.yaml" <<YAML
agent: {omit_hostname: true}
inputs:
  - mem: {fieldpass: [total]}
outputs:
  - influxdb: {urls: ["$INFLUX_URL"], database: rootfs}
YAML
run_in_root /usr/bin/agent --once --config /etc/heliograph/http.yaml >"$TMP/agent-http.log" 2>&1 ||
	fail "agent --once with an influxdb output in the rootfs failed: $(tail -5 "$TMP/agent-http.log")"
got=$(curl -s "$INFLUX_URL/query?db=rootfs" --data-urlencode 'q=SELECT last(total) FROM mem' | python3 -c '
import json, sys
r = json.load(sys.stdin)["results"][0]
print(r["series"][0]["values"][0][1] if "series" in r else "none")')
want=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
[ "$got" = "$want" ] || fail "influxd holds mem.total=$got from the rootfs agent, /proc/meminfo says $want"
run_in_root /usr/bin/agent --version | grep -q "heliograph agent $(sed 's/.*://' "$SRC/IMAGE")" ||
	fail "agent --version in the rootfs does not match IMAGE"
run_in_root /usr/bin/agentctl --help | grep -q 'convert-telegraf' || fail "agentctl --help in the rootfs failed"

# One image reference: IMAGE, the DaemonSet, the Dockerfile's recipe.
image=$(cat "$SRC/IMAGE")
grep -q "image: $image " "$SRC/k8s-manifests/42-agent-daemonset.yaml" ||
	fail "k8s-manifests/42-agent-daemonset.yaml does not reference $image"
cfg=$(sed -n 's/.*args: \["--config", "\([^"]*\)"\].*/\1/p' "$SRC/k8s-manifests/42-agent-daemonset.yaml")
[ -n "$cfg" ] || fail "no --config in the DaemonSet args"
grep -q "^CMD \[\"--config\", \"$cfg\"\]" "$SRC/Dockerfile" || fail "Dockerfile CMD does not use the DaemonSet's config path $cfg"
[ -s "$ROOT$cfg" ] || fail "no default config at $cfg in the rootfs"
grep -q '^ENTRYPOINT \["/usr/bin/agent"\]' "$SRC/Dockerfile" || fail "Dockerfile ENTRYPOINT is not the agent"
grep -q '^USER 65534:65534' "$SRC/Dockerfile" || fail "Dockerfile does not run as 65534"
runas=$(sed -n 's/^ *runAsUser: *//p' "$SRC/k8s-manifests/42-agent-daemonset.yaml" | head -1)
[ "$runas" = 65534 ] || fail "DaemonSet runAsUser $runas, image user 65534"
# The image's build stage installs every -dev package and compiler the build needs
# (.ci/deps.sh's list without --test), or `docker build` fails where CI passes.
for p in $(sed -n '/^pkgs=(/,/)/p' "$SRC/.ci/deps.sh" | tr -d '()' | sed 's/pkgs=//' | tr ' \t' '\n\n' | grep -E -- '-dev$|-compiler$'); do
	grep -q -- "$p" "$SRC/Dockerfile" || fail "the Dockerfile's build stage lacks $p (in .ci/deps.sh)"
done
grep -q 'scripts/assemble-rootfs.sh /build /rootfs' "$SRC/Dockerfile" || fail "Dockerfile does not assemble with the script"
grep -q 'org.opencontainers.image.version' "$SRC/Dockerfile" || fail "no OCI labels"
echo "rootfs: $(du -sb "$ROOT" | cut -f1) bytes ($(find "$ROOT" -name '*.so*' | wc -l) libraries) from $BUILD"
echo PASS

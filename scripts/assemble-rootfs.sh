#!/bin/sh
# Assembles the container image's root filesystem into a directory: the
# Dockerfile's runtime stage is exactly this directory (COPY --from=build
# /rootfs /), and tests run the agent from it under chroot, so what is
# tested is what ships.
#   scripts/assemble-rootfs.sh BUILD_DIR ROOTFS_DIR [ARCH]
# Contents: /usr/bin/agent and /usr/bin/agentctl, the shared libraries ldd
# finds for them and for the libraries the agent loads on first use (libcurl,
# libsnappy) at the paths ldd names, the dynamic loader, the CA bundle,
# /etc/passwd and /etc/group with the non-root user the DaemonSet runs as
# (nobody, 65534), /etc/nsswitch.conf, the default config at the path the
# DaemonSet passes (/etc/heliograph/heliograph.yaml), an empty /tmp and
# /var/lib/heliograph (the disk buffer's default path).
# ARCH (Docker's TARGETARCH: amd64 or arm64), when given, is checked against
# every ELF file of the result: a multi-arch build whose build stage ran on
# the wrong platform would otherwise ship amd64 binaries under an arm64 tag,
# which only fails on the node ("exec format error").
set -eu
usage='usage: assemble-rootfs.sh BUILD_DIR ROOTFS_DIR [ARCH]'
build=${1:?$usage}
root=${2:?$usage}
arch=${3:-}
case $arch in
'') ;;
amd64) machine='Advanced Micro Devices X86-64' ;;
arm64) machine='AArch64' ;;
*) echo "assemble-rootfs: ARCH '$arch' is not amd64 or arm64" >&2; exit 2 ;;
esac
src=$(cd "$(dirname "$0")/.." && pwd)
uid=65534

for b in agent agentctl; do
	[ -x "$build/$b" ] || { echo "assemble-rootfs: no $build/$b (build the agent and agentctl targets)" >&2; exit 1; }
done
rm -rf "$root"
mkdir -p "$root/usr/bin" "$root/etc/heliograph" "$root/etc/ssl/certs" "$root/tmp" "$root/var/lib/heliograph"
chmod 1777 "$root/tmp"

for b in agent agentctl; do
	install -m 0755 "$build/$b" "$root/usr/bin/$b"
	# Release builds ship without symbols; sanitizer builds keep theirs.
	if command -v strip >/dev/null 2>&1 && ! ldd "$build/$b" | grep -q libasan; then
		strip --strip-unneeded "$root/usr/bin/$b"
	fi
done

# The libraries the agent loads on first use (dlopen, so ldd cannot see them;
# CMake lists their sonames in BUILD_DIR/lazy-libs.txt), found as the loader
# finds them, with the libraries they need.
[ -f "$build/lazy-libs.txt" ] || { echo "assemble-rootfs: no $build/lazy-libs.txt (re-run cmake)" >&2; exit 1; }
lazy=''
while read -r soname; do
	[ -n "$soname" ] || continue
	path=$(ldconfig -p | awk -v n="$soname" '$1 == n && $NF ~ /^\// { print $NF; exit }')
	[ -n "$path" ] || { echo "assemble-rootfs: $soname is not installed" >&2; exit 1; }
	lazy="$lazy $path"
done <"$build/lazy-libs.txt"

# Every library ldd resolves ("name => /path (addr)") and the loader (a bare
# absolute path), copied with symlinks resolved to the path ldd printed.
{
	for b in "$build/agent" "$build/agentctl" $lazy; do
		ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
	done
	for l in $lazy; do echo "$l"; done
} | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# The interpreter named in the ELF header must exist at exactly that path.
interp=$(readelf -l "$build/agent" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
if [ -n "$interp" ] && [ ! -e "$root$interp" ]; then
	mkdir -p "$root$(dirname "$interp")"
	cp -L "$interp" "$root$interp"
fi

ca=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca" ] || { echo "assemble-rootfs: no $ca (apt-get install ca-certificates)" >&2; exit 1; }
cp -L "$ca" "$root$ca"

printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:%s:%s:nobody:/nonexistent:/usr/sbin/nologin\n' $uid $uid >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:%s:\n' $uid >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
cp "$src/etc/heliograph.yaml" "$root/etc/heliograph/heliograph.yaml"
# The Dockerfile copies this directory with --chown; here (as root) too.
if [ "$(id -u)" -eq 0 ]; then
	chown $uid:$uid "$root/var/lib/heliograph"
fi

# Every binary and library is for ARCH (readelf reads any machine's headers).
if [ -n "$arch" ]; then
	wrong=$(find "$root" -type f -exec sh -c '
		for f; do
			m=$(readelf -h "$f" 2>/dev/null | sed -n "s/^ *Machine: *//p") || continue
			[ -z "$m" ] || [ "$m" = "$0" ] || echo "$f: $m"
		done' "$machine" {} +)
	[ -z "$wrong" ] || {
		printf 'assemble-rootfs: %s files are not %s (%s), e.g.:\n%s\n' "$(echo "$wrong" | wc -l)" "$arch" "$machine" \
			"$(echo "$wrong" | head -3)" >&2
		exit 1
	}
fi

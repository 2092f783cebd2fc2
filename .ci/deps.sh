#!/usr/bin/env bash
# Installs what Heliograph needs on Debian 12. With --test, also what the
# test suite runs against: a real InfluxDB 1.x, collectd and node_exporter
# (peers for the benchmarks), python3 for the test servers, valgrind, protoc
# (decodes OTLP requests with the official .proto files). With
# --analyze, the static analysers (scan-build-14, cppcheck).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
pkgs=(build-essential cmake pkg-config curl
	libuv1-dev libcurl4-openssl-dev libyaml-dev zlib1g-dev libyajl-dev libhttp-parser-dev
	libprotobuf-c-dev protobuf-c-compiler libsnappy-dev libssl-dev libdragonbox-dev)
if [ "${1:-}" = "--test" ]; then
	pkgs+=(influxdb collectd-core prometheus-node-exporter python3 python3-yaml openssl valgrind clang libclang-rt-14-dev victoria-metrics
		influxdb-client prometheus protobuf-compiler)
fi
# With --analyze, the static analysers scripts/static-analysis.sh runs.
if [ "${1:-}" = "--analyze" ]; then
	pkgs+=(clang-tools-14 cppcheck)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian packages enable influxd and prometheus as system services; tests start their own.
for svc in influxdb prometheus; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
		$SUDO systemctl stop "$svc" || true
	fi
done

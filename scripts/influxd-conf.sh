#!/bin/sh
# Prints the configuration of a private InfluxDB 1.x (Debian's influxd) for tests and
# benchmarks: data under DIR, HTTP and RPC on 127.0.0.1, no reporting, no query or HTTP log,
# no _internal database; "auth" turns HTTP authentication on.
#   scripts/influxd-conf.sh DIR HTTP_PORT RPC_PORT [auth] >influxdb.conf
set -eu
dir=${1:?usage: influxd-conf.sh DIR HTTP_PORT RPC_PORT [auth]}
http=${2:?usage: influxd-conf.sh DIR HTTP_PORT RPC_PORT [auth]}
rpc=${3:?usage: influxd-conf.sh DIR HTTP_PORT RPC_PORT [auth]}
auth=false
[ "${4:-}" = auth ] && auth=true
cat <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$http"
  auth-enabled = $auth
  log-enabled = false
[monitor]
  store-enabled = false
CONF

#!/usr/bin/env bash
# Benchmarks tlsprobe against the standard tools, measured in the same run.
# Prints median wall times (hyperfine) and the ratio tlsprobe/standard tool.
#   inspect: tlsprobe inspect  vs  openssl storeutl -noout -text -certs
#   verify:  tlsprobe verify (mTLS, AUTH, PING, every check)  vs  redis-cli --tls ... PING
# Usage: scripts/bench.sh [RUNS]   (default 40 runs per command)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-40}

scripts/install-deps.sh hyperfine
cargo build --release --locked --quiet
bin=$PWD/target/release/tlsprobe
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# median_ms NAME CMD... : prints the median wall time in ms of CMD (stdout discarded)
median_ms() {
  local json="$work/$1.json"; shift
  hyperfine -N --style none --warmup 3 --runs "$runs" --output null --export-json "$json" -- "$*" >/dev/null 2>&1 \
    || hyperfine -N --style none --warmup 3 --runs "$runs" --output null --export-json "$json" -i -- "$*" >/dev/null
  python3 -c "import json,sys; print('%.2f' % (json.load(open(sys.argv[1]))['results'][0]['median']*1000))" "$json"
}

row() { # label tlsprobe_ms other_ms other_name target
  python3 - "$@" <<'PY'
import sys
label, a, b, other, target = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
print(f"{label:<44} tlsprobe {a:8.2f} ms   {other} {b:8.2f} ms   ratio {a/b:5.2f}x   (target <= {target})")
PY
}

echo "tlsprobe benchmark, $runs runs per command, median wall time"
echo
sysbundle=/etc/ssl/certs/ca-certificates.crt
n=$(grep -c 'BEGIN CERTIFICATE' "$sysbundle")
a=$(median_ms insp-sys "$bin" inspect --fail-on never "$sysbundle")
b=$(median_ms ossl-sys openssl storeutl -noout -text -certs "$sysbundle")
row "inspect system bundle ($n certs)" "$a" "$b" "openssl" "0.1x"
a=$(median_ms insp-rc "$bin" inspect --fail-on never testdata/redis_ca.pem)
b=$(median_ms ossl-rc openssl storeutl -noout -text -certs testdata/redis_ca.pem)
row "inspect testdata/redis_ca.pem (4 certs)" "$a" "$b" "openssl" "-"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 \
  --tls-cert-file "$PWD/testdata/server-chain.pem" --tls-key-file "$PWD/testdata/server.key" \
  --tls-ca-cert-file "$PWD/testdata/serving-root.pem" --tls-auth-clients yes \
  --requirepass bench-password --save '' --appendonly no --dir "$work" --logfile "$work/redis.log" &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
printf 'bench-password\n' > "$work/pass"
export REDISCLI_AUTH=bench-password
a=$(median_ms verify "$bin" verify --cacert testdata/redis_ca.pem --cert testdata/client-chain.pem --key testdata/client.key "rediss://localhost:$port")
b=$(median_ms rcli redis-cli --no-auth-warning --tls --cacert testdata/redis_ca.pem --cert testdata/client-chain.pem --key testdata/client.key -h localhost -p "$port" PING)
row "verify mTLS+AUTH+PING vs redis-cli PING" "$a" "$b" "redis-cli" "1.0x"
"$bin" verify --cacert testdata/redis_ca.pem --cert testdata/client-chain.pem --key testdata/client.key "rediss://localhost:$port" >/dev/null \
  || { echo "error: the benchmarked verify did not pass" >&2; exit 1; }

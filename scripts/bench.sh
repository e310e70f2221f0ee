#!/usr/bin/env bash
# Benchmarks tlsprobe against the standard tools, measured in the same run.
# Prints median wall times (hyperfine) and the ratio tlsprobe/standard tool.
#   inspect: tlsprobe inspect  vs  openssl storeutl -noout -text -certs
#   verify:  tlsprobe verify (mTLS, AUTH, PING, every check)  vs  redis-cli --tls ... PING
# Usage: scripts/bench.sh [RUNS]   (default 40 runs per command)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-40}

scripts/install-deps.sh hyperfine time
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
# --expect with client_auth = "required" adds one connection without a client certificate.
e=$(median_ms expect "$bin" verify --expect testdata/expect/tlsprobe-mtls.toml --cacert testdata/redis_ca.pem --cert testdata/client-chain.pem --key testdata/client.key "rediss://localhost:$port")
row "verify --expect (mTLS required) vs verify" "$e" "$a" "verify" "-"

# ---------------------------------------------------------------------------
# Fleet: N audit targets over a handful of local mTLS redis-servers, in one run, compared
# with (a) a shell loop of redis-cli over the same targets and (b) the new-connection rate
# the servers accept at all (redis-benchmark -k 0: a new TLS connection per request).
unset REDISCLI_AUTH
fleet_n=${FLEET_N:-1000}
servers=4
ports=()
pids=()
for i in $(seq $servers); do
  p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/s$i"
  redis-server --port 0 --tls-port "$p" --bind 127.0.0.1 \
    --tls-cert-file "$PWD/testdata/server-chain.pem" --tls-key-file "$PWD/testdata/server.key" \
    --tls-ca-cert-file "$PWD/testdata/serving-root.pem" --tls-auth-clients yes \
    --save '' --appendonly no --dir "$work/s$i" --logfile "$work/s$i/redis.log" --maxclients 4096 &
  pids+=($!)
  ports+=("$p")
done
trap 'kill "${pids[@]}" 2>/dev/null; cleanup' EXIT
for p in "${ports[@]}"; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null && break; sleep 0.05; done
done

make_inventory() { # N FILE
  {
    echo '[defaults]'
    echo "cacert = \"$PWD/testdata/serving-root.pem\""
    echo "cert = \"$PWD/testdata/client-chain.pem\""
    echo "key = \"$PWD/testdata/client.key\""
    echo 'timeout = "10s"'
    for i in $(seq "$1"); do
      echo '[[target]]'
      echo "id = \"t$i\""
      echo "url = \"rediss://localhost:${ports[$((i % servers))]}\""
    done
  } > "$2"
}
make_inventory "$fleet_n" "$work/fleet.toml"

t0=$(date +%s.%N)
"$bin" audit -q --format jsonl --output "$work/fleet.jsonl" "$work/fleet.toml" || { echo "error: fleet audit failed" >&2; exit 1; }
t1=$(date +%s.%N)
passed=$(grep -c '"verdict":"pass"' "$work/fleet.jsonl")
audit_rate=$(python3 -c "print('%.0f' % ($fleet_n/($t1-$t0)))")

loop_n=$(( fleet_n < 200 ? fleet_n : 200 ))
t0=$(date +%s.%N)
for i in $(seq "$loop_n"); do
  redis-cli --tls --cacert testdata/serving-root.pem --cert testdata/client-chain.pem --key testdata/client.key \
    -h localhost -p "${ports[$((i % servers))]}" PING >/dev/null
done
t1=$(date +%s.%N)
loop_rate=$(python3 -c "print('%.0f' % ($loop_n/($t1-$t0)))")

bench_out=$(redis-benchmark --tls --cacert testdata/serving-root.pem --cert testdata/client-chain.pem --key testdata/client.key \
  -h localhost -p "${ports[0]}" -k 0 -c 32 -n 3000 -t ping --csv 2>/dev/null | grep PING_INLINE || true)
ceiling=$(echo "$bench_out" | python3 -c 'import sys,csv; r=list(csv.reader(sys.stdin)); print("%.0f" % float(r[0][1])) if r else print(0)')

echo
echo "fleet: $fleet_n targets over $servers mTLS redis-servers ($passed passed)"
python3 - "$audit_rate" "$loop_rate" "$ceiling" <<'PY'
import sys
a, loop, ceil = (float(x) for x in sys.argv[1:])
print(f"  tlsprobe audit           {a:8.0f} targets/s")
print(f"  redis-cli loop           {loop:8.0f} targets/s   ratio {a/loop:5.1f}x   (target >= 5x)")
if ceil > 0:
    print(f"  redis-benchmark -k 0     {ceil:8.0f} new connections/s (one server)   ratio {a/ceil:5.2f}x   (target >= 0.8x)")
PY

rss_n=${RSS_N:-10000}
make_inventory "$rss_n" "$work/rss.toml"
rss=$( { /usr/bin/time -f '%M' "$bin" audit -q --format jsonl --output /dev/null "$work/rss.toml" >/dev/null; } 2>&1 | tail -1)
python3 -c "print(f'  peak RSS for $rss_n targets: {int(\"$rss\")/1024:.1f} MiB   (target < 64 MiB)')"

#!/usr/bin/env bash
# Benchmarks tlsprobe against the standard tools, measured in the same run.
# Prints median wall times (hyperfine) and the ratio tlsprobe/standard tool.
#   inspect: tlsprobe inspect  vs  openssl storeutl -noout -text -certs
#   verify:  tlsprobe verify (mTLS, AUTH, PING, every check)  vs  redis-cli --tls ... PING
#   discover: verify --discover cluster of a 3+3 TLS cluster  vs  verify of its seed node
# Usage: scripts/bench.sh [RUNS]   (default 40 runs per command)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-40}

scripts/install-deps.sh hyperfine time
cargo build --release --locked --quiet
bin=$PWD/target/release/tlsprobe
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; sleep 0.3; rm -rf "$work" 2>/dev/null || true; }
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

# P-521 everywhere (server key, P-521/SHA-512 chain, client key): RustCrypto p521 beside ring.
p521_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/p521"
redis-server --port 0 --tls-port "$p521_port" --bind 127.0.0.1 \
  --tls-cert-file "$PWD/testdata/p521-server-chain.pem" --tls-key-file "$PWD/testdata/p521-server.key" \
  --tls-ca-cert-file "$PWD/testdata/p521-root.pem" --tls-auth-clients yes --requirepass bench-password \
  --save '' --appendonly no --dir "$work/p521" --logfile "$work/p521/redis.log" &
p521_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$p521_port") 2>/dev/null && break; sleep 0.05; done
p521_args=(--cacert testdata/p521-root.pem --cert testdata/p521-client-chain.pem --key testdata/p521-client.key)
a=$(median_ms verify-p521 "$bin" verify "${p521_args[@]}" "rediss://localhost:$p521_port")
b=$(median_ms rcli-p521 redis-cli --no-auth-warning --tls "${p521_args[@]}" -h localhost -p "$p521_port" PING)
row "verify P-521 mTLS+AUTH+PING vs redis-cli" "$a" "$b" "redis-cli" "1.0x"
"$bin" verify "${p521_args[@]}" "rediss://localhost:$p521_port" >/dev/null \
  || { echo "error: the benchmarked P-521 verify did not pass" >&2; exit 1; }
kill "$p521_pid" 2>/dev/null || true

# ---------------------------------------------------------------------------
# Whole deployment: `verify --discover cluster` of a 3+3 TLS Redis Cluster (every node
# verified at its announced endpoint) vs a single-node verify of the seed, same run.
# The cluster has no password: the single-node section's REDISCLI_AUTH must not leak in.
unset REDISCLI_AUTH
cports=()
cpids=()
# A free port at most 55535 whose bus port (port + 10000) is free too.
cluster_port() {
  python3 - <<'PY'
import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
    if p > 55535:
        continue
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 10000))
    except OSError:
        continue
    print(p)
    break
PY
}
for i in $(seq 6); do
  p=$(cluster_port)
  mkdir -p "$work/c$i"
  redis-server --port 0 --tls-port "$p" --bind 127.0.0.1 --cluster-enabled yes --tls-cluster yes \
    --tls-replication yes --cluster-config-file "$work/c$i/nodes.conf" \
    --tls-cert-file "$PWD/testdata/server-chain.pem" --tls-key-file "$PWD/testdata/server.key" \
    --tls-client-cert-file "$PWD/testdata/client-chain.pem" --tls-client-key-file "$PWD/testdata/client.key" \
    --tls-ca-cert-file "$PWD/testdata/serving-root.pem" --tls-auth-clients yes \
    --save '' --appendonly no --dir "$work/c$i" --logfile "$work/c$i/redis.log" &
  cpids+=($!)
  cports+=("$p")
done
trap 'kill "${cpids[@]}" 2>/dev/null; cleanup' EXIT
for p in "${cports[@]}"; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null && break; sleep 0.05; done
done
rcli_tls=(--tls --cacert testdata/serving-root.pem --cert testdata/client-chain.pem --key testdata/client.key)
redis-cli "${rcli_tls[@]}" --cluster create $(printf '127.0.0.1:%s ' "${cports[@]}") \
  --cluster-replicas 1 --cluster-yes >/dev/null
for _ in $(seq 150); do
  ok=0
  for p in "${cports[@]}"; do
    redis-cli "${rcli_tls[@]}" -h 127.0.0.1 -p "$p" CLUSTER INFO 2>/dev/null | grep -q cluster_state:ok && ok=$((ok + 1))
  done
  [ "$ok" = 6 ] && break
  sleep 0.2
done
cflags=(--cacert testdata/serving-root.pem --cert testdata/client-chain.pem --key testdata/client.key)
"$bin" verify "${cflags[@]}" --discover cluster "rediss://localhost:${cports[0]}" >/dev/null \
  || { echo "error: the benchmarked verify --discover cluster did not pass" >&2; exit 1; }
a=$(median_ms discover "$bin" verify "${cflags[@]}" --discover cluster "rediss://localhost:${cports[0]}")
b=$(median_ms single "$bin" verify "${cflags[@]}" "rediss://localhost:${cports[0]}")
row "verify --discover cluster (6 nodes) vs 1 node" "$a" "$b" "1 node " "2.0x"
# Where the time goes: CPU per run of tlsprobe (hyperfine's user+system) and of the six
# redis-servers (their /proc utime+stime over the same number of runs), and the floor
# that puts on the wall time with this machine's cores (all of it run in parallel).
cpu_ms() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print('%.2f' % ((r['user']+r['system'])*1000))" "$1"; }
server_ticks() { local t=0 p; for p in "${cpids[@]}"; do t=$((t + $(awk '{print $14+$15}' /proc/"$p"/stat))); done; echo "$t"; }
server_ms_per_run() { # CMD...: redis-server CPU ms per run of CMD, over $runs runs
  local t0 t1 i
  t0=$(server_ticks)
  for i in $(seq "$runs"); do "$@" >/dev/null 2>&1 || true; done
  t1=$(server_ticks)
  python3 -c "import os,sys; print('%.2f' % ((int(sys.argv[2])-int(sys.argv[1]))*1000/os.sysconf('SC_CLK_TCK')/int(sys.argv[3])))" "$t0" "$t1" "$runs"
}
sa=$(server_ms_per_run "$bin" verify "${cflags[@]}" --discover cluster "rediss://localhost:${cports[0]}")
sb=$(server_ms_per_run "$bin" verify "${cflags[@]}" "rediss://localhost:${cports[0]}")
python3 - "$(cpu_ms "$work/discover.json")" "$sa" "$(cpu_ms "$work/single.json")" "$sb" "$(nproc)" "$b" <<'PY'
import sys
ta, sa, tb, sb, cores, single = map(float, sys.argv[1:])
print(f"  CPU per run: discover tlsprobe {ta:.2f} ms + redis-servers {sa:.2f} ms;"
      f" 1 node {tb:.2f} + {sb:.2f} ms")
print(f"  floor on {int(cores)} cores: {(ta + sa) / cores:.2f} ms = {(ta + sa) / cores / single:.2f}x the 1-node wall time")
PY
kill "${cpids[@]}" 2>/dev/null || true

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

# Peak RSS of audit over a growing fleet: memory must be bounded by --concurrency, not by
# the inventory. RSS_N lists the fleet sizes (the 100,000 run takes a few minutes);
# RSS_FORMATS the report formats (jsonl/json/human keep nothing per target; junit,
# markdown and html keep one small row per target: target <= 2x).
for rss_n in ${RSS_N:-1000 10000 100000}; do
  make_inventory "$rss_n" "$work/rss.toml"
  for fmt in ${RSS_FORMATS:-jsonl junit html}; do
    t0=$(date +%s.%N)
    rss=$( { /usr/bin/time -f '%M' "$bin" audit -q --format "$fmt" --output /dev/null "$work/rss.toml" >/dev/null; } 2>&1 | tail -1)
    t1=$(date +%s.%N)
    python3 - "$rss_n" "$fmt" "$rss" "$t0" "$t1" <<'PY'
import sys
n, fmt, rss, t0, t1 = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
limit = 64 if fmt in ("jsonl", "json", "human") else 128
print(f"  peak RSS, {n:>7} targets, {fmt:<8} {rss/1024:7.1f} MiB  {n/(t1-t0):6.0f} targets/s   (target <= {limit} MiB at 100,000)")
PY
  done
done

# ---------------------------------------------------------------------------
# Exporter: tlsprobe exporter vs prometheus-blackbox-exporter on the same mTLS redis-server
# (requirepass), the same number of probes at the same concurrency. blackbox runs a `tcp`
# module (tls, ca/cert/key, AUTH -> +OK, PING -> +PONG); tlsprobe runs every step of
# verify. CPU seconds per probe come from /proc/PID/stat (utime + stime) of each exporter
# process; latency is measured by the driver per /probe request.
scripts/install-deps.sh prometheus-blackbox-exporter
probes=${EXPORTER_PROBES:-2000}
conc=${EXPORTER_CONCURRENCY:-8}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rport=$(free_port)
mkdir -p "$work/ex"
redis-server --port 0 --tls-port "$rport" --bind 127.0.0.1 \
  --tls-cert-file "$PWD/testdata/server-chain.pem" --tls-key-file "$PWD/testdata/server.key" \
  --tls-ca-cert-file "$PWD/testdata/serving-root.pem" --tls-auth-clients yes \
  --requirepass bench-password --save '' --appendonly no --dir "$work/ex" --logfile "$work/ex/redis.log" --maxclients 4096 &
pids+=($!)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$rport") 2>/dev/null && break; sleep 0.05; done
printf 'bench-password\n' > "$work/ex/pass"
chmod 600 "$work/ex/pass"
cat > "$work/ex/tlsprobe.toml" <<TOML
[module.redis]
cacert = "$PWD/testdata/serving-root.pem"
cert = "$PWD/testdata/client-chain.pem"
key = "$PWD/testdata/client.key"
pass_file = "$work/ex/pass"
timeout = "5s"
TOML
cat > "$work/ex/blackbox.yml" <<YAML
modules:
  redis_tls:
    prober: tcp
    timeout: 5s
    tcp:
      tls: true
      tls_config:
        ca_file: $PWD/testdata/serving-root.pem
        cert_file: $PWD/testdata/client-chain.pem
        key_file: $PWD/testdata/client.key
        server_name: localhost
      query_response:
        - send: "AUTH bench-password"
        - expect: "^\\\\+OK"
          send: "PING"
        - expect: "^\\\\+PONG"
YAML
tport=$(free_port)
bport=$(free_port)
"$bin" exporter --config "$work/ex/tlsprobe.toml" --listen "127.0.0.1:$tport" --max-concurrent 256 2>"$work/ex/tlsprobe.log" &
tpid=$!
pids+=($tpid)
prometheus-blackbox-exporter --config.file="$work/ex/blackbox.yml" --web.listen-address="127.0.0.1:$bport" 2>"$work/ex/blackbox.log" &
bpid=$!
pids+=($bpid)
for p in "$tport" "$bport"; do
  for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null && break; sleep 0.05; done
done

python3 - "$probes" "$conc" "$tpid" "http://127.0.0.1:$tport/probe?module=redis&target=localhost:$rport" \
  "$bpid" "http://127.0.0.1:$bport/probe?module=redis_tls&target=localhost:$rport" <<'PY'
import os, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor
n, conc = int(sys.argv[1]), int(sys.argv[2])
runs = [("tlsprobe exporter", int(sys.argv[3]), sys.argv[4]),
        ("blackbox_exporter", int(sys.argv[5]), sys.argv[6])]
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick   # utime + stime
def probe(url):
    t = time.perf_counter()
    body = urllib.request.urlopen(url, timeout=30).read().decode()
    ok = any(l == "probe_success 1" for l in body.splitlines())
    return time.perf_counter() - t, ok
def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(p * len(xs)))]
res = {}
for name, pid, url in runs:
    with ThreadPoolExecutor(conc) as ex:
        list(ex.map(probe, [url] * 50))   # warm-up
        c0 = cpu(pid)
        out = list(ex.map(probe, [url] * n))
        c1 = cpu(pid)
    lat = [l for l, _ in out]
    ok = sum(1 for _, o in out if o)
    if ok != n:
        sys.exit(f"error: {name}: {n - ok} of {n} probes did not succeed")
    res[name] = ((c1 - c0) / n, pct(lat, 0.5), pct(lat, 0.99))
print(f"\nexporter: {n} probes at concurrency {conc} (mTLS + AUTH + PING), per exporter process")
for name, (c, p50, p99) in res.items():
    print(f"  {name:<20} {c*1000:7.3f} ms CPU/probe   p50 {p50*1000:7.2f} ms   p99 {p99*1000:7.2f} ms")
t, b = res["tlsprobe exporter"], res["blackbox_exporter"]
print(f"  ratio tlsprobe/blackbox: CPU {t[0]/b[0]:5.2f}x (target <= 0.5x)   p99 {t[2]/b[2]:5.2f}x (target <= 1.0x)")
PY

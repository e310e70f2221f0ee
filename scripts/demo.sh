#!/usr/bin/env bash
# The main job on the bundled test PKI: inspect a Redis-Cloud-like CA bundle, then start a
# local TLS redis-server (mutual TLS, password) and verify it twice: once with the whole
# bundle (passes) and once with only the bundle's first certificate, as a client that
# imports only the first certificate would (fails at chain-trust).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cargo build --release --locked --quiet
bin=target/release/tlsprobe
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "== tlsprobe inspect testdata/redis_ca.pem"
"$bin" inspect testdata/redis_ca.pem || true

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 \
  --tls-cert-file "$PWD/testdata/server-chain.pem" --tls-key-file "$PWD/testdata/server.key" \
  --tls-ca-cert-file "$PWD/testdata/serving-root.pem" --tls-auth-clients yes \
  --requirepass demo-password --save '' --appendonly no --dir "$work" --logfile "$work/redis.log" &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done

printf 'demo-password\n' > "$work/pass"
chmod 600 "$work/pass"
# A fresh clone checks keys out world-readable; tlsprobe warns about that, as ssh does.
install -m 600 testdata/client.key "$work/client.key"

echo
echo "== tlsprobe verify (whole bundle, client certificate, password): expected PASS"
"$bin" verify --cacert testdata/redis_ca.pem --cert testdata/client-chain.pem --key "$work/client.key" \
  --pass-file "$work/pass" --expect-plaintext refused "rediss://localhost:$port"
echo "exit code: $?"

echo
echo "== tlsprobe verify with only the first certificate of the bundle: expected FAIL"
awk '/BEGIN CERT/{n++} n==1' testdata/redis_ca.pem > "$work/first-only.pem"
set +e
"$bin" verify --cacert "$work/first-only.pem" --cert testdata/client-chain.pem --key "$work/client.key" \
  --pass-file "$work/pass" "rediss://localhost:$port"
code=$?
set -e
echo "exit code: $code"
[ "$code" = 1 ]

#!/usr/bin/env bash
# The demo audit as a page: a small fleet of local TLS redis-servers whose certificates
# expire at different times (made here with openssl: 12, 45, 200, 500 and 900 days, plus
# the expired and wrong-name fixtures and a dead port), two bundles, then
# `audit --format html` and a headless Chromium screenshot of it.
# Writes docs/audit-report.png (committed, shown in README) and docs/audit-report.html.
# Usage: scripts/screenshot.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cargo build --release --locked --quiet
bin=$PWD/target/release/tlsprobe
out_png=${1:-docs/audit-report.png}
out_html=${out_png%.png}.html
mkdir -p "$(dirname "$out_png")"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# One demo CA and leaves for localhost with the given lifetimes.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/CN=Demo Ops CA/O=tlsprobe demo" -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
leaf() { # name days
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1.demo.internal/O=tlsprobe demo" \
    -keyout "$work/$1.key" -out "$work/$1.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,DNS:%s.demo.internal\nextendedKeyUsage=serverAuth\n' "$1" > "$work/$1.ext"
  openssl x509 -req -in "$work/$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -days "$2" \
    -extfile "$work/$1.ext" -out "$work/$1.pem" 2>/dev/null
  cat "$work/$1.pem" "$work/ca.pem" > "$work/$1-chain.pem"
}

serve() { # cert key -> prints the TLS port
  local port
  port=$(free_port)
  redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --tls-cert-file "$1" --tls-key-file "$2" \
    --tls-ca-cert-file "$work/ca.pem" --tls-auth-clients no --save '' --appendonly no \
    --dir "$work" --logfile "$work/redis-$port.log" >/dev/null &
  pids+=($!)
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
  echo "$port"
}

targets=""
for spec in cache-eu:12 sessions:45 queue:200 orders:500 analytics:900; do
  name=${spec%%:*}
  leaf "$name" "${spec##*:}"
  port=$(serve "$work/$name-chain.pem" "$work/$name.key")
  targets+=$'\n'"[[target]]"$'\n'"id = \"$name\""$'\n'"url = \"rediss://localhost:$port\""$'\n'
done
cat testdata/redis_ca.pem "$work/ca.pem" > "$work/trust.pem"
p_exp=$(serve "$PWD/testdata/server-expired-chain.pem" "$PWD/testdata/server-expired.key")
p_wrong=$(serve "$PWD/testdata/server-wrong-name-chain.pem" "$PWD/testdata/server-wrong-name.key")
dead=$(free_port)

cat > "$work/inventory.toml" <<EOF
[defaults]
cacert = "$work/trust.pem"
timeout = "1s"
$targets
[[target]]
id = "legacy-billing"
url = "rediss://localhost:$p_exp"

[[target]]
id = "reports-replica"
url = "rediss://localhost:$p_wrong"

[[target]]
id = "decommissioned"
url = "rediss://localhost:$dead"

[[bundle]]
id = "redis_ca.pem"
path = "$PWD/testdata/redis_ca.pem"

[[bundle]]
id = "demo-ops-ca.pem"
path = "$work/ca.pem"

[policy]
warn_days = 60
fail_days = 14
EOF

set +e
"$bin" audit -q --format html --output "$out_html" "$work/inventory.toml"
code=$?
set -e
echo "audit exit code: $code (1: some targets fail, as intended)"
# The inventory paths are temporary; the committed page shows a stable name instead.
sed -i "s#$work/inventory.toml#demo/inventory.toml#g" "$out_html"

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$work/chromium" --window-size=1150,1560 \
  --screenshot="$PWD/$out_png" "file://$PWD/$out_html" 2>/dev/null
echo "wrote $out_png and $out_html"

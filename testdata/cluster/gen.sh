#!/usr/bin/env bash
# Regenerates the whole-deployment (Cluster / Sentinel) fixtures in this directory from the
# issuers of the main test PKI (../intermediate.*, ../other-root.*). Requires only the
# `openssl` CLI (OpenSSL 3.0.x). Usage: testdata/cluster/gen.sh   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
LONG_START=20240101000000Z
LONG_END=21240101000000Z

mkdir -p "$TMP/newcerts"
: > "$TMP/index.txt"
echo 01 > "$TMP/serial"
cat > "$TMP/ca.cnf" <<CNF
[ ca ]
default_ca = testca
[ testca ]
dir              = $TMP
database         = $TMP/index.txt
new_certs_dir    = $TMP/newcerts
serial           = $TMP/serial
default_md       = sha256
policy           = policy_anything
unique_subject   = no
preserve         = yes
copy_extensions  = none
email_in_dn      = no
[ policy_anything ]
organizationName       = optional
commonName             = optional
CNF

cat > "$TMP/ext.cnf" <<'CNF'
[ node_dns_only ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ node_localhost ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
CNF

# leaf NAME SUBJ EXT ISSUER_CERT ISSUER_KEY
leaf() {
    local name=$1 subj=$2 ext=$3 icert=$4 ikey=$5
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key" 2>/dev/null
    openssl req -new -key "$name.key" -subj "$subj" -out "$TMP/req.csr"
    openssl ca -batch -config "$TMP/ca.cnf" -in "$TMP/req.csr" -out "$name.pem" \
        -cert "$icert" -keyfile "$ikey" -rand_serial -notext -preserveDN -md sha256 \
        -startdate $LONG_START -enddate $LONG_END \
        -extfile "$TMP/ext.cnf" -extensions "$ext" 2>"$TMP/ca.log" \
        || { cat "$TMP/ca.log" >&2; return 1; }
}

# A node certificate that names the host but not the IP the cluster announces.
leaf node-noip "/CN=localhost/O=tlsprobe tests" node_dns_only ../intermediate.pem ../intermediate.key
cat node-noip.pem ../intermediate.pem > node-noip-chain.pem

# A node certificate from another CA (the servers trust it, clients do not).
leaf node-other-ca "/CN=localhost/O=Elsewhere" node_localhost ../other-root.pem ../other-root.key

# What the servers themselves trust: both roots.
cat ../serving-root.pem ../other-root.pem > both-roots.pem

#!/usr/bin/env bash
# Regenerates the `--strict` fixtures in this directory (see README.md here): certificates
# that rustls-webpki accepts but a strict profile rule rejects, issued by the main test
# PKI's intermediate (../intermediate.pem), and CRLs. Run by ../gen.sh after the main PKI;
# also runnable alone. Requires only the `openssl` CLI (written for OpenSSL 3.0.x).
set -euo pipefail
cd "$(dirname "$0")"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cat > "$TMP/ext.cnf" <<'CNF'
[ server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ server_dsa ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ crl_ext ]
authorityKeyIdentifier = keyid:always
CNF

# ca_db NAME: a throwaway `openssl ca` database and config for CRLs.
ca_db() {
    local d="$TMP/$1"
    mkdir -p "$d/newcerts"
    : > "$d/index.txt"
    cat > "$d/ca.cnf" <<CNF
[ ca ]
default_ca = testca
[ testca ]
dir           = $d
database      = $d/index.txt
new_certs_dir = $d/newcerts
default_md    = sha256
default_crl_days = 36500
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid:always
CNF
}

# leaf OUT KEY SUBJ EXT: a leaf issued by ../intermediate.pem.
leaf() {
    local out=$1 key=$2 subj=$3 ext=$4
    openssl req -new -key "$key" -subj "$subj" -out "$TMP/req.csr"
    openssl x509 -req -in "$TMP/req.csr" -CA ../intermediate.pem -CAkey ../intermediate.key \
        -set_serial "0x$(openssl rand -hex 16)" -days 36500 -sha256 \
        -extfile "$TMP/ext.cnf" -extensions "$ext" -out "$TMP/cert.pem" 2>/dev/null
    # Valid for 100 years from generation (x509 -req has no -startdate in OpenSSL 3.0).
    cp "$TMP/cert.pem" "$out"
}

# cn-not-in-san: CN=LOCALHOST, a case variant of the SAN DNS:localhost. Served by
# redis-server in tests/strict.rs (verify passes, verify --strict fails).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server-cn-case.key 2>/dev/null
leaf server-cn-case.pem server-cn-case.key "/CN=LOCALHOST/O=tlsprobe tests" server
cat server-cn-case.pem ../intermediate.pem > server-cn-case-chain.pem

# dsa-key: a DSA leaf.
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out "$TMP/dsa.param" 2>/dev/null
openssl genpkey -paramfile "$TMP/dsa.param" -out "$TMP/dsa.key" 2>/dev/null
leaf leaf-dsa.pem "$TMP/dsa.key" "/CN=localhost/O=tlsprobe tests" server_dsa

# weak-key: an EC P-192 leaf.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-192 -out "$TMP/p192.key" 2>/dev/null
leaf leaf-p192.pem "$TMP/p192.key" "/CN=localhost/O=tlsprobe tests" server_dsa

# rsa-modulus-not-multiple-of-8: an RSA leaf with a 2052-bit modulus (two 1026-bit primes:
# the product has 2051 or 2052 bits, never a multiple of 8).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2052 -out "$TMP/rsa2052.key" 2>/dev/null
leaf leaf-rsa2052.pem "$TMP/rsa2052.key" "/CN=localhost/O=tlsprobe tests" server_dsa

# crl-missing-number: a v2 CRL from the intermediate without a CRL Number (no crlnumber
# file), and a conforming CRL from the root (with one) so the whole chain is covered.
ca_db inter
openssl ca -batch -config "$TMP/inter/ca.cnf" -gencrl -cert ../intermediate.pem \
    -keyfile ../intermediate.key -out crl-intermediate-no-number.pem 2>/dev/null
ca_db root
echo 01 > "$TMP/root/crlnumber"
sed -i "s|^crl_extensions|crlnumber = $TMP/root/crlnumber\ncrl_extensions|" "$TMP/root/ca.cnf"
openssl ca -batch -config "$TMP/root/ca.cnf" -gencrl -cert ../serving-root.pem \
    -keyfile ../serving-root.key -out crl-root.pem 2>/dev/null

# crl-issuer-no-crlsign: a root whose keyUsage lacks cRLSign, a leaf it issued, and a CRL
# it signed anyway (webpki rejects the CRL too).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/nocrl.key" 2>/dev/null
openssl req -new -x509 -key "$TMP/nocrl.key" -subj "/CN=tlsprobe No CRLSign CA/O=tlsprobe tests" \
    -days 36500 -sha256 -set_serial "0x$(openssl rand -hex 16)" -config /dev/null \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    -addext "subjectKeyIdentifier=hash" -out ca-no-crlsign.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/nocrl-leaf.key" 2>/dev/null
openssl req -new -key "$TMP/nocrl-leaf.key" -subj "/CN=localhost/O=tlsprobe tests" -out "$TMP/req.csr"
openssl x509 -req -in "$TMP/req.csr" -CA ca-no-crlsign.pem -CAkey "$TMP/nocrl.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 36500 -sha256 \
    -extfile "$TMP/ext.cnf" -extensions server -out leaf-of-ca-no-crlsign.pem 2>/dev/null
ca_db nocrl
echo 01 > "$TMP/nocrl/crlnumber"
sed -i "s|^crl_extensions|crlnumber = $TMP/nocrl/crlnumber\ncrl_extensions|" "$TMP/nocrl/ca.cnf"
openssl ca -batch -config "$TMP/nocrl/ca.cnf" -gencrl -cert ca-no-crlsign.pem \
    -keyfile "$TMP/nocrl.key" -out crl-no-crlsign.pem 2>/dev/null

echo "strict fixtures regenerated in $(pwd)"

#!/usr/bin/env bash
# Regenerates every fixture of the tlsprobe test PKI in this directory.
# Requires only the `openssl` CLI (written for OpenSSL 3.0.x).
# Usage: testdata/gen.sh   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Validity windows (openssl ca -startdate/-enddate format).
LONG_START=20240101000000Z
LONG_END=21240101000000Z
EXPIRED_START=20240101000000Z
EXPIRED_END=20250101000000Z
NOTYET_START=21000101000000Z
NOTYET_END=21010101000000Z
# server-provider: valid for another span than server.pem (a rotated certificate).
ROTATED_START=20240601000000Z
ROTATED_END=21230601000000Z

# --- throwaway CA database / config -------------------------------------
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
name_opt         = multiline
cert_opt         = ca_default

[ policy_anything ]
countryName            = optional
stateOrProvinceName    = optional
localityName           = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = optional
CNF

cat > "$TMP/ext.cnf" <<'CNF'
[ root_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ intermediate_ca ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ca_no_bc ]
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ server_localhost ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ server_selfsigned ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ server_providers ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, DNS:beloved-stallion-58500.upstash.io, DNS:redis-12000.cluster.example.com
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ server_wrong_name ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:wrong.example.com
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ server_nosan ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ server_weak ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:weak.example.com
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ server_sha1 ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:sha1.example.com
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ client ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ client_serverauth_only ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
CNF

# --- helpers --------------------------------------------------------------
genkey_ec()  { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
genkey_rsa() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$1" 2>/dev/null; }

# mkcsr KEY SUBJ
mkcsr() { openssl req -new -key "$1" -subj "$2" -out "$TMP/req.csr"; }

# sign OUT ISSUER_CERT ISSUER_KEY EXT_SECTION START END [MD]
sign() {
    local out=$1 icert=$2 ikey=$3 ext=$4 start=$5 end=$6 md=${7:-sha256}
    openssl ca -batch -config "$TMP/ca.cnf" -in "$TMP/req.csr" -out "$out" \
        -cert "$icert" -keyfile "$ikey" -rand_serial -notext -preserveDN \
        -md "$md" -startdate "$start" -enddate "$end" \
        -extfile "$TMP/ext.cnf" -extensions "$ext" 2>"$TMP/ca.log" \
        || { cat "$TMP/ca.log" >&2; return 1; }
}

# selfsign OUT KEY SUBJ EXT_SECTION START END
selfsign() {
    local out=$1 key=$2 subj=$3 ext=$4 start=$5 end=$6
    mkcsr "$key" "$subj"
    openssl ca -batch -config "$TMP/ca.cnf" -selfsign -in "$TMP/req.csr" -out "$out" \
        -keyfile "$key" -rand_serial -notext -preserveDN -md sha256 \
        -startdate "$start" -enddate "$end" \
        -extfile "$TMP/ext.cnf" -extensions "$ext" 2>"$TMP/ca.log" \
        || { cat "$TMP/ca.log" >&2; return 1; }
}

# leaf NAME KEYTYPE(ec|rsa:BITS) SUBJ EXT START END ISSUER_CERT ISSUER_KEY [MD]
leaf() {
    local name=$1 kt=$2 subj=$3 ext=$4 start=$5 end=$6 icert=$7 ikey=$8 md=${9:-sha256}
    case $kt in
        ec) genkey_ec "$name.key" ;;
        rsa:*) genkey_rsa "$name.key" "${kt#rsa:}" ;;
    esac
    mkcsr "$name.key" "$subj"
    sign "$name.pem" "$icert" "$ikey" "$ext" "$start" "$end" "$md"
}

# `gen.sh --input-only` regenerates only the "input fixtures" section at the end.
if [ "${1:-}" != "--input-only" ]; then

# --- unrelated "cloud" roots (as in a Redis Cloud CA bundle) -------------
genkey_ec extra-root-1.key
selfsign extra-root-1.pem extra-root-1.key "/CN=Example Fixed Plan Root CA/O=Example Cloud" \
    root_ca $LONG_START $LONG_END

genkey_rsa extra-root-2.key 2048
selfsign extra-root-2.pem extra-root-2.key "/CN=Example Flexible Plan Root CA/O=Example Cloud" \
    root_ca $LONG_START $LONG_END

genkey_ec extra-intermediate.key
mkcsr extra-intermediate.key "/CN=Example Flexible Plan Intermediate CA/O=Example Cloud"
sign extra-intermediate.pem extra-root-2.pem extra-root-2.key intermediate_ca $LONG_START $LONG_END

# --- serving PKI ------------------------------------------------------------
genkey_rsa serving-root.key 2048
selfsign serving-root.pem serving-root.key "/CN=tlsprobe Test Root CA/O=tlsprobe tests" \
    root_ca $LONG_START $LONG_END

genkey_ec intermediate.key
mkcsr intermediate.key "/CN=tlsprobe Test Intermediate CA/O=tlsprobe tests"
sign intermediate.pem serving-root.pem serving-root.key intermediate_ca $LONG_START $LONG_END

I=(intermediate.pem intermediate.key)

leaf server ec "/CN=localhost/O=tlsprobe tests" server_localhost $LONG_START $LONG_END "${I[@]}"
leaf server-expired ec "/CN=localhost/O=tlsprobe tests" server_localhost $EXPIRED_START $EXPIRED_END "${I[@]}"
leaf server-notyet ec "/CN=localhost/O=tlsprobe tests" server_localhost $NOTYET_START $NOTYET_END "${I[@]}"
leaf server-wrong-name ec "/CN=wrong.example.com/O=tlsprobe tests" server_wrong_name $LONG_START $LONG_END "${I[@]}"
leaf server-nosan ec "/CN=localhost/O=tlsprobe tests" server_nosan $LONG_START $LONG_END "${I[@]}"
leaf server-provider ec "/CN=localhost/O=tlsprobe tests" server_providers $ROTATED_START $ROTATED_END "${I[@]}"

for n in server server-expired server-notyet server-wrong-name server-provider; do
    cat "$n.pem" intermediate.pem > "$n-chain.pem"
done

# The Redis Enterprise mTLS object trusts the current intermediate (authentication_ssl_client_certs).
mkdir -p expect
PEM_JSON=$(awk '{printf "%s\\\\n", $0}' intermediate.pem)
sed -E "s|(\"client_cert\": \")[^\"]*|\1${PEM_JSON}|" expect/redis-enterprise-mtls.json > "$TMP/re.json" \
    && cp "$TMP/re.json" expect/redis-enterprise-mtls.json

genkey_ec server-selfsigned.key
selfsign server-selfsigned.pem server-selfsigned.key "/CN=localhost/O=tlsprobe tests" \
    server_selfsigned $LONG_START $LONG_END

# --- client certificates ----------------------------------------------------
leaf client ec "/CN=redis_user/O=Acme/OU=Ops/OU=Dev" client $LONG_START $LONG_END "${I[@]}"
cat client.pem intermediate.pem > client-chain.pem
leaf client-full-subject ec "/C=IL/ST=TA/L=Tel Aviv/O=Acme/OU=Ops/OU=Dev/CN=redis_user" client \
    $LONG_START $LONG_END "${I[@]}"
leaf client-noclientauth ec "/CN=redis_user/O=Acme" client_serverauth_only $LONG_START $LONG_END "${I[@]}"
leaf client-expired ec "/CN=redis_user/O=Acme/OU=Ops/OU=Dev" client $EXPIRED_START $EXPIRED_END "${I[@]}"

genkey_ec other-root.key
selfsign other-root.pem other-root.key "/CN=Other Test Root CA/O=Elsewhere" root_ca $LONG_START $LONG_END
leaf client-other-ca ec "/CN=redis_user/O=Acme" client $LONG_START $LONG_END other-root.pem other-root.key

# --- an impersonation attempt (regression fixture) -----------------------------
# A server leaf for localhost signed with a *client* certificate's key, presented with the
# client certificate, its intermediate, and an expired self-signed "decoy" named like the
# client certificate. Verification must reject it (a leaf used as an issuer) even though
# the decoy's date error outranks that error at any single evaluation time.
leaf forged-server ec "/CN=localhost/O=Mallory" server_localhost $LONG_START $LONG_END client.pem client.key
genkey_ec "$TMP/decoy.key"
selfsign decoy-client-subject.pem "$TMP/decoy.key" "/CN=redis_user/O=Acme/OU=Ops/OU=Dev" \
    root_ca 20000101000000Z 20010101000000Z
cat client.pem intermediate.pem decoy-client-subject.pem > forged-server-extra-chain.pem

# --- weak crypto ------------------------------------------------------------
leaf rsa1024 rsa:1024 "/CN=weak.example.com/O=tlsprobe tests" server_weak $LONG_START $LONG_END "${I[@]}"
# SHA-1 signature needs an RSA issuer: signed directly by serving-root (RSA 2048).
leaf sha1 ec "/CN=sha1.example.com/O=tlsprobe tests" server_sha1 $LONG_START $LONG_END \
    serving-root.pem serving-root.key sha1

# --- issuer without basicConstraints -----------------------------------------
genkey_ec ca-no-basic-constraints.key
selfsign ca-no-basic-constraints.pem ca-no-basic-constraints.key \
    "/CN=tlsprobe CA Without Basic Constraints/O=tlsprobe tests" ca_no_bc $LONG_START $LONG_END

# --- bundles and odd PEM files ---------------------------------------------
cat extra-root-1.pem extra-root-2.pem extra-intermediate.pem serving-root.pem > redis_ca.pem
cat serving-root.pem extra-root-1.pem > serving-root-first.pem
cat serving-root.pem intermediate.pem serving-root.pem > bundle-duplicates.pem
cat client.key client.pem intermediate.pem > mixed-blocks.pem
cat client.pem client.key > client-with-key.pem

genkey_ec "$TMP/enc-plain.key"
openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -in "$TMP/enc-plain.key" \
    -passout pass:secret-passphrase -out encrypted.key

cat server.key client.key > keys-only.pem

openssl x509 -in server.pem -outform DER -out server.der

# --- hand-made setups (verdict regressions) ----------------------------------
# What `openssl req -x509` makes by default: a self-signed CA:TRUE certificate that a
# server uses as its own and clients pin with --cacert.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout server-selfsigned-ca.key -out server-selfsigned-ca.pem -days 36500 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
# A common CA file: the root first, then the intermediate (and the reverse order).
cat serving-root.pem intermediate.pem > ca-root-then-intermediate.pem
cat intermediate.pem serving-root.pem > ca-intermediate-then-root.pem

strict/gen.sh   # the --strict fixtures, issued by intermediate.pem (strict/README.md)
echo "fixtures regenerated in $(pwd)"
fi

# =============================================================================
# Input fixtures (issue 11): P-521 PKI, an RSA-PSS key, encrypted client keys.
# Regenerate only these with `testdata/gen.sh --input-only` (the files above keep
# their bytes; the encrypted keys are made from client.key, which is read, not changed).
# =============================================================================
cat >> "$TMP/ext.cnf" <<'CNF'

[ p521_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
CNF
genkey_p521() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$1" 2>/dev/null; }

# A P-521 root and intermediate; every signature below them is ECDSA with SHA-512.
genkey_p521 p521-root.key
mkcsr p521-root.key "/CN=tlsprobe P-521 Root CA/O=tlsprobe tests"
openssl ca -batch -config "$TMP/ca.cnf" -selfsign -in "$TMP/req.csr" -out p521-root.pem \
    -keyfile p521-root.key -rand_serial -notext -preserveDN -md sha512 \
    -startdate $LONG_START -enddate $LONG_END \
    -extfile "$TMP/ext.cnf" -extensions root_ca 2>"$TMP/ca.log" || { cat "$TMP/ca.log" >&2; exit 1; }
genkey_p521 p521-intermediate.key
mkcsr p521-intermediate.key "/CN=tlsprobe P-521 Intermediate CA/O=tlsprobe tests"
sign p521-intermediate.pem p521-root.pem p521-root.key intermediate_ca $LONG_START $LONG_END sha512
P=(p521-intermediate.pem p521-intermediate.key)

# Server and client leaves with P-521 keys (handshake signatures are ECDSA P-521/SHA-512).
genkey_p521 p521-server.key
mkcsr p521-server.key "/CN=localhost/O=tlsprobe tests"
sign p521-server.pem "${P[@]}" p521_server $LONG_START $LONG_END sha512
cat p521-server.pem p521-intermediate.pem > p521-server-chain.pem
genkey_p521 p521-client.key
mkcsr p521-client.key "/CN=redis_user/O=Acme/OU=Ops/OU=Dev"
sign p521-client.pem "${P[@]}" client $LONG_START $LONG_END sha512
cat p521-client.pem p521-intermediate.pem > p521-client-chain.pem
# A P-256 server leaf under the P-521 intermediate: only the chain signatures are P-521.
leaf p521-signed-server ec "/CN=localhost/O=tlsprobe tests" server_localhost $LONG_START $LONG_END \
    "${P[@]}" sha512
cat p521-signed-server.pem p521-intermediate.pem > p521-signed-server-chain.pem

# A server leaf whose key is id-RSASSA-PSS (not rsaEncryption), issued by intermediate.pem.
openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out pss-server.key 2>/dev/null
mkcsr pss-server.key "/CN=localhost/O=tlsprobe tests"
sign pss-server.pem intermediate.pem intermediate.key server_localhost $LONG_START $LONG_END
cat pss-server.pem intermediate.pem > pss-server-chain.pem

# A root CA whose own key is id-RSASSA-PSS, and a P-256 server leaf it signs (RSASSA-PSS).
openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out pss-ca.key 2>/dev/null
selfsign pss-ca.pem pss-ca.key "/CN=tlsprobe RSA-PSS Root CA/O=tlsprobe tests" root_ca $LONG_START $LONG_END
leaf pss-ca-leaf ec "/CN=localhost/O=tlsprobe tests" server_localhost $LONG_START $LONG_END pss-ca.pem pss-ca.key

# client.key encrypted: PKCS#8 PBES2 (AES-256-CBC, PBKDF2-HMAC-SHA256), PKCS#8 PBES2 with
# scrypt, and the legacy OpenSSL form (Proc-Type: 4,ENCRYPTED). Passphrase in the .pass file.
printf 'input fixture passphrase: p@ss:w/rd#1%%x\n' > client-encrypted.pass
chmod 600 client-encrypted.pass
openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -in client.key \
    -passout file:client-encrypted.pass -out client-encrypted.key
openssl pkcs8 -topk8 -scrypt -in client.key \
    -passout file:client-encrypted.pass -out client-encrypted-scrypt.key
openssl ec -in client.key -aes256 -passout file:client-encrypted.pass \
    -out client-legacy-encrypted.key 2>/dev/null
chmod 600 client-encrypted.key client-encrypted-scrypt.key client-legacy-encrypted.key

echo "input fixtures regenerated in $(pwd)"

#!/usr/bin/env bash
# Writes the seed corpora of the fuzz targets into fuzz/corpus/TARGET/ (git-ignored):
# certificate files from testdata/ and hand-made targets, inventories, subjects, --config
# JSON, RESP replies and PostgreSQL / MySQL server conversations.
# Idempotent: seeds are named by content, so running it again adds nothing twice.
# Usage: fuzz/seed.sh            (scripts/fuzz.sh runs it when a corpus is missing)
set -euo pipefail
cd "$(dirname "$0")"
td=../testdata
out=corpus

# seed TARGET NAME: stdin becomes corpus/TARGET/NAME.
seed() {
    mkdir -p "$out/$1"
    cat >"$out/$1/$2"
}
# text TARGET NAME STRING: a seed that is exactly STRING (no newline added).
text() { printf '%s' "$3" | seed "$1" "$2"; }

# Binary seeds are built as hex strings (bash strings cannot hold NUL bytes).
bin() { printf '%b' "$(sed 's/[[:space:]]//g; s/../\\x&/g' <<<"$1")"; }
hx() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
hz() { printf '%s00' "$(hx "$1")"; } # NUL-terminated string
be16() { printf '%04x' "$1"; }
be32() { printf '%08x' $(($1 & 0xffffffff)); }
le16() { printf '%02x%02x' $(($1 & 255)) $((($1 >> 8) & 255)); }
le32() { printf '%s%s' "$(le16 $(($1 & 0xffff)))" "$(le16 $((($1 >> 16) & 0xffff)))"; }

# --- certificate files -------------------------------------------------------------------
for f in "$td"/*.pem "$td"/*.key; do
    seed pem_bundle "$(basename "$f")" <"$f"
done
seed pem_bundle server.der <"$td/server.der"
seed der_cert server.der <"$td/server.der"
# Every certificate in testdata as DER, for the DER target.
mkdir -p "$out/der_cert"
for f in "$td"/*.pem; do
    awk -v dir="$out/der_cert" -v base="$(basename "$f" .pem)" '
        /-----BEGIN CERTIFICATE-----/ { n++; b64 = ""; inside = 1; next }
        /-----END CERTIFICATE-----/ { inside = 0; print b64 > (dir "/" base "-" n ".b64"); next }
        inside { b64 = b64 $0 }
    ' "$f"
done
for b in "$out"/der_cert/*.b64; do
    [ -e "$b" ] || continue
    base64 -d <"$b" >"${b%.b64}.der" && rm "$b"
done

# --- targets -----------------------------------------------------------------------------
i=0
for t in \
    'localhost:6379' \
    'rediss://alice:s3cr%40t@db.example.com:12000/3' \
    'redis://127.0.0.1:6379/0' \
    'rediss://[::1]:6380' \
    'rediss://:onlypass@host:1' \
    'postgres://u:p@pg.example.com/mydb' \
    'postgresql://pg.example.com:5433' \
    'mysql://root:pw@10.0.0.1:3306/app' \
    'tls://example.com:443' \
    'rediss://user@h%41st:65535/15' \
    'redis-12345.c1.us-east-1-2.ec2.cloud.redislabs.com:12345' \
    'rediss://u:p@host:1/x?q=1#f'; do
    i=$((i + 1))
    text target_url "t$i" "$t"
done

# --- inventories -------------------------------------------------------------------------
seed inventory full.toml <<'EOF'
[policy]
min_tls_version = "1.2"
warn_days = 30
fail_days = 0
min_rsa_bits = 2048
min_ec_bits = 256
forbid_sha1 = true
require_client_auth = true
require_plaintext_refused = true
allowed_cipher_suites = ["TLS13_AES_128_GCM_SHA256"]

[defaults]
cacert = "redis_ca.pem"
cert = "client-chain.pem"
key = "client.key"
timeout = "1s"

[[target]]
id = "good"
url = "rediss://localhost:6379"

[[target]]
id = "plaintext-allowed"
url = "rediss://localhost:6380"
expect_plaintext = "refused"

[[target]]
id = "pg"
url = "postgres://u@localhost:5432/db"
pass_env = "PGPASSWORD"

[[bundle]]
id = "redis_ca"
path = "redis_ca.pem"
EOF
text inventory one-target.toml $'[[target]]\nid = "x"\nurl = "rediss://h:1"\n'
text inventory bundle-only.toml $'[[bundle]]\npath = "ca.pem"\n'
text inventory inline-password.toml $'[[target]]\nid = "x"\nurl = "rediss://u:hunter2@h:1"\n'
text inventory duplicate-id.toml $'[[target]]\nid = "a"\nurl = "rediss://h:1"\n[[target]]\nid = "a"\nurl = "rediss://h:2"\n'
text inventory bad-policy.toml $'[policy]\nmin_tls_version = "1.0"\n[[bundle]]\npath = "x"\n'
text inventory cacert-list.toml $'[[target]]\nid = "a"\nurl = "rediss://h:1"\ncacert = ["a.pem", "b.pem"]\n'

# --- subjects and --config JSON ----------------------------------------------------------
text dn full 'CN=redis_user,O=Acme,OU=Ops,OU=Dev,L=Tel Aviv,ST=Center,C=IL'
text dn escapes 'CN=Smith\, John , O = Acme\2C Inc.\ '
text dn multi 'commonName=caf\C3\A9+ou=a'
text dn quoted 'CN="a,b";O=x'
text dn oid '2.5.4.3=x,2.5.4.10=y'
text dn config-db '{"client_cert_subject_validation_type": "full_subject", "mtls_allow_outdated_certs": true, "authorized_subjects": [{"CN": "redis_user", "O": "Acme", "OU": ["Ops", "Dev"], "L": "Tel Aviv", "ST": "Center", "C": "IL"}], "tls_mode": "enabled", "enforce_client_authentication": "enabled"}'
text dn config-cluster '{"mtls_client_cert_subject_validation_type": "san_cn", "mtls_authorized_subjects": [{"CN": "a"}]}'
text dn config-names '{"client_cert_subject_validation_type": "disabled", "authorized_names": ["a", "b"]}'
{
    printf '{"authentication_ssl_client_certs": [{"client_cert": "'
    awk '{ printf "%s\\n", $0 }' "$td/client.pem"
    printf '"}]}'
} | seed dn config-certs

# --- RESP replies ------------------------------------------------------------------------
i=0
for r in \
    '+OK\r\n' '+PONG\r\n' '-ERR unknown command '\''HELLO'\''\r\n' \
    '-WRONGPASS invalid username-password pair or user is disabled.\r\n' \
    '-NOAUTH Authentication required.\r\n' ':42\r\n' ':-1\r\n' '$5\r\nhello\r\n' '$-1\r\n' \
    '$0\r\n\r\n' '*2\r\n$3\r\nfoo\r\n:1\r\n' '*-1\r\n' '%1\r\n+a\r\n:1\r\n' '_\r\n' '#t\r\n' \
    ',3.14\r\n' '(12345678901234567890\r\n' '=15\r\ntxt:Some string\r\n' \
    '!21\r\nSYNTAX invalid syntax\r\n' '>2\r\n+a\r\n+b\r\n' '~1\r\n+x\r\n' \
    '|1\r\n+key\r\n+val\r\n+OK\r\n' '\x15\x03\x03\x00\x02\x02\x28' \
    'HTTP/1.1 400 Bad Request\r\n\r\n'; do
    i=$((i + 1))
    printf '%b' "$r" | seed redis_reply "r$i"
done

# --- PostgreSQL server conversations -----------------------------------------------------
pg() { printf '%s%s%s' "$(hx "$1")" "$(be32 $((${#2} / 2 + 4)))" "$2"; }
auth() { pg R "$(be32 "$1")${2:-}"; }
ready=$(pg Z "$(hx I)")
params=$(pg S "$(hz server_version)$(hz 16.1)")$(pg K "$(be32 4242)$(be32 99)")
rowdesc=$(pg T "$(be16 1)$(hz '?column?')$(be32 0)$(be16 0)$(be32 23)$(be16 4)$(be32 -1)$(be16 0)")
select1="$rowdesc$(pg D "$(be16 1)$(be32 1)$(hx 1)")$(pg C "$(hz 'SELECT 1')")$ready"
pgerr() { pg E "$(hx S)$(hz FATAL)$(hx V)$(hz FATAL)$(hx C)$(hz "$1")$(hx M)$(hz "$2")00"; }
notice=$(pg N "$(hx S)$(hz NOTICE)$(hx C)$(hz 00000)$(hx M)$(hz 'hello')00")
after_ok="$(auth 0)$params$ready$select1"
seeds_pg=(
    "ssl-trust:$(hx S)$after_ok"
    "ssl-refused:$(hx N)"
    "trust:$after_ok"
    "cleartext:$(auth 3)$after_ok"
    "md5:$(auth 5 01020304)$after_ok"
    "scram:$(auth 10 "$(hz SCRAM-SHA-256)00")$(auth 11 "$(hx 'r=abc,s=c2FsdA==,i=4096')")"
    "scram-plus:$(auth 10 "$(hz SCRAM-SHA-256-PLUS)00")"
    "gss:$(auth 7)"
    "wrong-password:$(auth 3)$(pgerr 28P01 'password authentication failed for user "u"')"
    "no-hba:$(pgerr 28000 'no pg_hba.conf entry for host "127.0.0.1", user "u", database "u", no encryption')"
    "no-db:$(auth 0)$(pgerr 3D000 'database "x" does not exist')"
    "notice:$notice$after_ok"
    "select-error:$(auth 0)$ready$(pg E "$(hx S)$(hz ERROR)$(hx C)$(hz 42601)$(hx M)$(hz syntax)00")$ready"
    "ssl-error:$(pgerr 08P01 'unsupported frontend protocol')"
    "tls-record:160301002a020000260303"
    "null-row:$(auth 0)$ready$rowdesc$(pg D "$(be16 1)$(be32 -1)")$ready"
)
for s in "${seeds_pg[@]}"; do
    bin "${s#*:}" | seed postgres_session "${s%%:*}"
done

# --- MySQL server conversations ----------------------------------------------------------
my() {
    local n=$((${#2} / 2)); printf '%02x%02x%02x%02x%s' $((n & 255)) $(((n >> 8) & 255)) $(((n >> 16) & 255)) "$1" "$2"
}
# greeting VERSION CAPS PLUGIN
greeting() {
    my 0 "0a$(hz "$1")$(le32 77)$(hx abcdefgh)00$(le16 $(($2 & 0xffff)))21$(le16 2)$(le16 $(($2 >> 16)))15$(printf '0%.0s' {1..20})$(hx ijklmnopqrst)00$(hz "$3")"
}
caps=$((0x81fffaff | 0x800))
nossl=$((0x81fff7ff))
myok() { my "$1" "000000020000"; }
myerr() { my "$1" "ff$(le16 "$2")23$(hx "$3")$(hx "$4")"; }
eof() { my "$1" "fe00000200"; }
result="$(my 1 01)$(my 2 "$(hx def)")$(eof 3)$(my 4 "01$(hx 1)")$(eof 5)"
native=$(greeting 5.7.44 $caps mysql_native_password)
sha2=$(greeting 8.0.36 $caps caching_sha2_password)
maria=$(greeting 5.5.5-10.11.6-MariaDB $caps mysql_native_password)
seeds_my=(
    "native-ok:$native$(myok 2)$result"
    "native-ok-tls:$native$(myok 3)$result"
    "sha2-fast:$sha2$(my 3 0103)$(myok 4)$result"
    "sha2-full:$sha2$(my 3 0104)$(myok 5)$result"
    "auth-switch:$maria$(my 2 "fe$(hz caching_sha2_password)$(hx abcdefghijklmnopqrst)00")$(myok 4)$result"
    "clear-switch:$native$(my 2 "fe$(hz mysql_clear_password)")$(myok 4)$result"
    "old-password:$native$(my 2 fe)"
    "denied:$native$(myerr 2 1045 28000 "Access denied for user 'u'@'localhost' (using password: YES)")"
    "secure-transport:$native$(myerr 2 3159 HY000 'Connections using insecure transport are prohibited while --require_secure_transport=ON.')"
    "too-many:$(myerr 0 1040 08004 'Too many connections')"
    "no-ssl:$(greeting 5.6.51 $nossl mysql_native_password)$(myok 2)$result"
    "select-error:$native$(myok 2)$(myerr 1 1064 42000 'syntax')"
    "null-row:$native$(myok 2)$(my 1 01)$(my 2 "$(hx def)")$(eof 3)$(my 4 fb)$(eof 5)"
    "pre41:$(my 0 "0a$(hz 4.0.1)$(le32 1)$(hx abcdefgh)00$(le16 0)")"
    "protocol9:$(my 0 "09$(hz 3.20)")"
    "http:$(hx 'HTTP/1.1 400 Bad Request')"
)
for s in "${seeds_my[@]}"; do
    bin "${s#*:}" | seed mysql_session "${s%%:*}"
done

for d in "$out"/*/; do
    echo "$(basename "$d"): $(find "$d" -type f | wc -l) seeds"
done

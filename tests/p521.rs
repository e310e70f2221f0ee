//! P-521 and RSA-PSS against real TLS redis-servers built from the `p521-*` and `pss-*`
//! fixtures, each compared with what redis-cli says on the same server.
//!
//! ring has no P-521; tlsprobe adds it (src/pki/algs.rs) for handshake signatures,
//! chain signatures and client keys. Keys of type id-RSASSA-PSS are a limit of rustls: the
//! step must say so by name rather than blame the server.

mod support;

use std::process::Command;

use support::{status, steps, testdata, verify_json, RedisOpts, RedisServer};

/// `redis-cli --tls ... PING` on the same server: what a user's standard tool says.
fn redis_cli_ping(port: u16, cacert: &str, client: Option<(&str, &str)>) -> String {
    let mut c = Command::new("redis-cli");
    c.args(["--tls", "--cacert", &testdata(cacert)]);
    if let Some((cert, key)) = client {
        c.args(["--cert", &testdata(cert), "--key", &testdata(key)]);
    }
    c.args(["-h", "localhost", "-p", &port.to_string(), "PING"]);
    let o = c.output().expect("run redis-cli");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn server(cert: &'static str, key: &'static str, auth_clients: &'static str) -> RedisServer {
    RedisServer::start(RedisOpts {
        tls: Some((cert, key)),
        auth_clients: Some(auth_clients),
        client_ca: Some("p521-root.pem"),
        ..RedisOpts::default()
    })
}

#[test]
fn p521_server_key_and_p521_sha512_chain_pass_like_redis_cli() {
    let s = server("p521-server-chain.pem", "p521-server.key", "no");
    assert_eq!(redis_cli_ping(s.port, "p521-root.pem", None), "PONG");
    let cacert = testdata("p521-root.pem");
    let (v, code, _) = verify_json(&["--cacert", &cacert, &s.url()]);
    assert_eq!(code, 0, "{}", steps(&v));
    for step in ["tls-handshake", "chain-trust", "server-name", "ping"] {
        assert_eq!(status(&v, step), "pass", "{step}\n{}", steps(&v));
    }
    // The same server against another root: the P-521 chain is judged, not waved through.
    let other = testdata("serving-root.pem");
    let (v, code, _) = verify_json(&["--cacert", &other, &s.url()]);
    assert_eq!(code, 1, "{}", steps(&v));
    assert_eq!(status(&v, "chain-trust"), "fail", "{}", steps(&v));
}

#[test]
fn p256_leaf_under_a_p521_intermediate_passes() {
    let s = server(
        "p521-signed-server-chain.pem",
        "p521-signed-server.key",
        "no",
    );
    assert_eq!(redis_cli_ping(s.port, "p521-root.pem", None), "PONG");
    let cacert = testdata("p521-root.pem");
    let (v, code, _) = verify_json(&["--cacert", &cacert, &s.url()]);
    assert_eq!(code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "chain-trust"), "pass", "{}", steps(&v));
}

#[test]
fn p521_client_key_is_accepted_by_an_mtls_server() {
    let s = server(
        "p521-signed-server-chain.pem",
        "p521-signed-server.key",
        "yes",
    );
    let client = ("p521-client-chain.pem", "p521-client.key");
    assert_eq!(
        redis_cli_ping(s.port, "p521-root.pem", Some(client)),
        "PONG"
    );
    let (cacert, cert, key) = (
        testdata("p521-root.pem"),
        testdata(client.0),
        testdata(client.1),
    );
    let (v, code, _) = verify_json(&[
        "--cacert",
        &cacert,
        "--cert",
        &cert,
        "--key",
        &key,
        &s.url(),
    ]);
    assert_eq!(code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "client-cert"), "pass", "{}", steps(&v));
    assert_eq!(status(&v, "ping"), "pass", "{}", steps(&v));
}

#[test]
fn p521_key_of_another_certificate_is_an_input_error() {
    let r = support::run_text(&[
        "verify",
        "--cert",
        &testdata("p521-client-chain.pem"),
        "--key",
        &testdata("p521-server.key"),
        "localhost:1",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("does not match the certificate"),
        "{}",
        r.stderr
    );
}

#[test]
fn p521_chains_verify_offline_and_inspect_finds_no_bad_signature() {
    let r = support::run_text(&[
        "chain",
        "--cacert",
        &testdata("p521-root.pem"),
        &testdata("p521-server-chain.pem"),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = support::run_text(&[
        "inspect",
        "--check-signatures",
        "--fail-on",
        "warn",
        &testdata("p521-root.pem"),
        &testdata("p521-intermediate.pem"),
    ]);
    assert!(!r.stdout.contains("signature"), "{}", r.stdout);
    // A P-521 certificate checked against the wrong P-521 issuer still fails.
    let r = support::run_text(&[
        "chain",
        "--cacert",
        &testdata("p521-intermediate.pem"),
        &testdata("p521-root.pem"),
    ]);
    assert_ne!(r.code, 0, "{}", r.stdout);
}

#[test]
fn rsa_pss_server_key_is_named_as_a_tlsprobe_limit() {
    let s = RedisServer::start(RedisOpts {
        tls: Some(("pss-server-chain.pem", "pss-server.key")),
        ..RedisOpts::default()
    });
    // redis-cli (OpenSSL) accepts the server.
    assert_eq!(redis_cli_ping(s.port, "serving-root.pem", None), "PONG");
    let cacert = testdata("serving-root.pem");
    let (v, code, _) = verify_json(&["--cacert", &cacert, &s.url()]);
    assert_eq!(code, 1, "{}", steps(&v));
    assert_eq!(status(&v, "tls-handshake"), "fail", "{}", steps(&v));
    let msg = support::message(&v, "tls-handshake");
    assert!(msg.contains("id-RSASSA-PSS"), "{msg}");
    assert!(msg.contains("not a server fault"), "{msg}");
    assert!(!msg.contains("alert"), "{msg}");
}

#[test]
fn p521_server_over_tls12_passes_like_redis_cli() {
    // TLS 1.2 needs the certificate's curve among the client's groups (RFC 8422 5.1.1).
    let s = RedisServer::start(RedisOpts {
        tls: Some(("p521-server-chain.pem", "p521-server.key")),
        client_ca: Some("p521-root.pem"),
        protocols: Some("TLSv1.2"),
        ..RedisOpts::default()
    });
    assert_eq!(redis_cli_ping(s.port, "p521-root.pem", None), "PONG");
    let cacert = testdata("p521-root.pem");
    let (v, code, _) = verify_json(&["--cacert", &cacert, &s.url()]);
    assert_eq!(code, 0, "{}", steps(&v));
    assert_eq!(v["tls"]["version"], "TLS 1.2", "{:#}", v["tls"]);
}

#[test]
fn rsa_pss_ca_key_is_named_as_a_tlsprobe_limit() {
    // openssl verify accepts the chain; rustls-webpki cannot check RSASSA-PSS by a PSS key.
    let o = Command::new("openssl")
        .args([
            "verify",
            "-CAfile",
            &testdata("pss-ca.pem"),
            &testdata("pss-ca-leaf.pem"),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = support::run_text(&[
        "chain",
        "--cacert",
        &testdata("pss-ca.pem"),
        &testdata("pss-ca-leaf.pem"),
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("RSASSA-PSS"), "{}", r.stdout);
    assert!(!r.stdout.contains("SHA-1, MD5"), "{}", r.stdout);
    // The same chain served by redis-server: redis-cli says PONG, tlsprobe names the limit
    // in chain-trust and never passes it.
    let s = RedisServer::start(RedisOpts {
        tls: Some(("pss-ca-leaf.pem", "pss-ca-leaf.key")),
        ..RedisOpts::default()
    });
    assert_eq!(redis_cli_ping(s.port, "pss-ca.pem", None), "PONG");
    let cacert = testdata("pss-ca.pem");
    let (v, code, _) = verify_json(&["--cacert", &cacert, &s.url()]);
    assert_eq!(code, 1, "{}", steps(&v));
    assert_eq!(status(&v, "chain-trust"), "fail", "{}", steps(&v));
    assert!(
        support::message(&v, "chain-trust").contains("RSASSA-PSS"),
        "{}",
        steps(&v)
    );
}

#[test]
fn a_p521_bundle_whose_first_certificate_suffices_does_not_warn() {
    // [P-521 root, P-521 intermediate]: the path is anchored at the intermediate and leads
    // up to #0, and #0 alone verifies it, as redis-cli (OpenSSL) with only the root shows.
    // The "first certificate alone" question once used webpki's default algorithms (no
    // P-521/SHA-512) and warned that such clients would fail.
    let s = server(
        "p521-signed-server-chain.pem",
        "p521-signed-server.key",
        "no",
    );
    assert_eq!(redis_cli_ping(s.port, "p521-root.pem", None), "PONG");
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("p521-bundle.pem");
    let mut pem = std::fs::read(testdata("p521-root.pem")).unwrap();
    pem.extend(std::fs::read(testdata("p521-intermediate.pem")).unwrap());
    std::fs::write(&bundle, pem).unwrap();
    let (v, code, _) = verify_json(&["--cacert", bundle.to_str().unwrap(), &s.url()]);
    assert_eq!(code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "chain-trust"), "pass", "{}", steps(&v));
    assert_eq!(status(&v, "anchor"), "pass", "{}", steps(&v));
    assert_eq!(v["anchor"]["index"], 0, "{}", v["anchor"]);
}

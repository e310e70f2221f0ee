//! `tlsprobe verify` against real TLS redis-servers.

mod support;

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

const SECRET: &str = "hunter2-secret";

/// Every step verify reports for a TLS target, in order.
const STEPS: &[&str] = &[
    "resolve",
    "tcp",
    "tls-handshake",
    "chain-trust",
    "anchor",
    "server-name",
    "expiry",
    "client-cert",
    "auth",
    "ping",
];

fn root() -> String {
    testdata("serving-root.pem")
}

/// A TLS redis-server without client authentication, serving `server-chain.pem`.
fn tls_server() -> RedisServer {
    RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        ..Default::default()
    })
}

/// A TLS redis-server serving `chain` / `key`.
fn tls_server_with(chain: &'static str, key: &'static str) -> RedisServer {
    RedisServer::start(RedisOpts {
        tls: Some((chain, key)),
        ..Default::default()
    })
}

/// A TLS redis-server that requires (`"yes"`) or accepts (`"optional"`) client certificates.
fn mtls_server(auth_clients: &'static str, protocols: Option<&'static str>) -> RedisServer {
    RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        auth_clients: Some(auth_clients),
        protocols,
        ..Default::default()
    })
}

/// Parses the JSON report of a finished tlsprobe process.
fn json_of(o: Output) -> (Value, i32, String) {
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let v = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (v, o.status.code().unwrap_or(-1), stderr)
}

/// `verify --format json` with an extra environment variable.
fn verify_json_env(args: &[&str], key: &str, value: &str) -> (Value, i32, String) {
    let o = tlsprobe()
        .args(["verify", "--format", "json"])
        .args(args)
        .env(key, value)
        .output()
        .expect("run tlsprobe");
    json_of(o)
}

/// Asserts the status of one step, showing every step on failure.
#[track_caller]
fn assert_step(v: &Value, step: &str, want: &str) {
    assert_eq!(status(v, step), want, "step {step}; report:\n{}", steps(v));
}

/// Asserts that the message of one step contains `needle`.
#[track_caller]
fn assert_msg(v: &Value, step: &str, needle: &str) {
    let m = message(v, step);
    assert!(
        m.contains(needle),
        "message of {step} should contain {needle:?}: {m:?}; report:\n{}",
        steps(v)
    );
}

/// Asserts that the message of one step contains one of `needles`.
#[track_caller]
fn assert_msg_any(v: &Value, step: &str, needles: &[&str]) {
    let m = message(v, step);
    assert!(
        needles.iter().any(|n| m.contains(n)),
        "message of {step} should contain one of {needles:?}: {m:?}; report:\n{}",
        steps(v)
    );
}

/// Exit code 2 with exactly one stderr line that starts with "error:" and contains every needle.
#[track_caller]
fn assert_input_error(args: &[&str], needles: &[&str]) {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    let r = run_text(&all);
    assert_eq!(
        r.code, 2,
        "args {args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "args {args:?}: stderr should be one line: {:?}",
        r.stderr
    );
    assert!(
        lines[0].starts_with("error:"),
        "args {args:?}: {:?}",
        r.stderr
    );
    for n in needles {
        assert!(
            lines[0].contains(n),
            "args {args:?}: stderr should mention {n:?}: {:?}",
            r.stderr
        );
    }
    assert!(
        r.stdout.is_empty(),
        "args {args:?}: nothing on stdout for an input error: {:?}",
        r.stdout
    );
}

#[test]
fn tls_without_client_auth_passes_and_names_the_anchor() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        ..Default::default()
    });
    let (v, code, _) = verify_json(&["--cacert", &testdata("redis_ca.pem"), &r.url()]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "pass");
    assert_eq!(status(&v, "anchor"), "warn");
    assert_eq!(v["anchor"]["index"], 3);
    assert_eq!(v["ping"]["reply"], "PONG");
}

// 1
#[test]
fn tls_without_client_auth_reports_version_chain_and_anchor() {
    let r = tls_server();
    let (v, code, _) = verify_json(&["--cacert", &root(), &r.url()]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "pass");
    for step in STEPS.iter().filter(|s| **s != "auth") {
        assert_step(&v, step, "pass");
    }
    assert_step(&v, "auth", "skip");
    assert_msg(&v, "auth", "no credentials");
    assert_eq!(v["tls"]["version"], "TLS 1.3");
    assert_eq!(v["tls"]["sni"], "localhost");
    assert_eq!(v["tls"]["client_cert_requested"], false);
    let chain = v["chain"].as_array().expect("chain");
    assert_eq!(chain.len(), 2, "{v:#}");
    assert!(
        chain[0]["subject"]
            .as_str()
            .unwrap()
            .contains("CN=localhost"),
        "{v:#}"
    );
    assert!(
        chain[1]["subject"]
            .as_str()
            .unwrap()
            .contains("CN=tlsprobe Test Intermediate CA"),
        "{v:#}"
    );
    let anchor = &v["anchor"];
    assert!(
        anchor["file"]
            .as_str()
            .unwrap()
            .ends_with("serving-root.pem"),
        "{v:#}"
    );
    assert_eq!(anchor["index"], 0);
    assert_eq!(anchor["pinned"], false);
    assert!(
        anchor["subject"]
            .as_str()
            .unwrap()
            .contains("tlsprobe Test Root CA"),
        "{v:#}"
    );
    assert_eq!(v["ping"]["reply"], "PONG");
    assert_eq!(v["attempts"], 1);
    assert!(
        v["target"]
            .as_str()
            .unwrap()
            .starts_with("rediss://localhost:"),
        "{v:#}"
    );
}

// 2
#[test]
fn anchor_position_in_the_bundle_is_reported() {
    let r = tls_server();
    let (v, code, _) = verify_json(&["--cacert", &testdata("redis_ca.pem"), &r.url()]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "pass");
    assert_step(&v, "chain-trust", "pass");
    assert_step(&v, "anchor", "warn");
    assert_msg(&v, "anchor", "not the first");
    assert_eq!(v["anchor"]["index"], 3);
    assert!(
        v["anchor"]["file"]
            .as_str()
            .unwrap()
            .ends_with("redis_ca.pem"),
        "{v:#}"
    );

    let (v, code, _) = verify_json(&["--cacert", &testdata("serving-root-first.pem"), &r.url()]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "chain-trust", "pass");
    assert_step(&v, "anchor", "pass");
    assert_eq!(v["anchor"]["index"], 0);
    assert!(
        v["anchor"]["file"]
            .as_str()
            .unwrap()
            .ends_with("serving-root-first.pem"),
        "{v:#}"
    );
}

// 3
#[test]
fn mtls_required_with_a_good_client_cert_passes() {
    let r = mtls_server("yes", None);
    let (v, code, _) = verify_json(&[
        "--cacert",
        &root(),
        "--cert",
        &testdata("client-chain.pem"),
        "--key",
        &testdata("client.key"),
        &r.url(),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "pass");
    assert_step(&v, "tls-handshake", "pass");
    assert_step(&v, "client-cert", "pass");
    assert_msg(&v, "client-cert", "redis_user");
    assert_step(&v, "ping", "pass");
    assert_eq!(v["tls"]["client_cert_requested"], true);
    // redis-server 7.0 sends no CA names in its CertificateRequest (`openssl s_client`
    // shows "No client certificate CA names sent"): see acceptable_ca_names_are_reported.
    assert!(v["tls"]["acceptable_ca_names"].is_array(), "{v:#}");

    // The key may be in the --cert file. client-with-key.pem holds the leaf without the
    // intermediate, so the server must know the intermediate (bundle-duplicates.pem holds
    // serving-root and intermediate).
    let r2 = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        auth_clients: Some("yes"),
        client_ca: Some("bundle-duplicates.pem"),
        ..Default::default()
    });
    let (v, code, _) = verify_json(&[
        "--cacert",
        &root(),
        "--cert",
        &testdata("client-with-key.pem"),
        &r2.url(),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "client-cert", "pass");
    assert_step(&v, "ping", "pass");

    // Against a server that trusts only the root, the leaf alone cannot be verified.
    let (v, code, _) = verify_json(&[
        "--cacert",
        &root(),
        "--cert",
        &testdata("client-with-key.pem"),
        &r.url(),
    ]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "client-cert", "fail");
    assert_msg(&v, "client-cert", "unknown_ca");
}

// 3b
#[test]
fn acceptable_ca_names_are_reported() {
    let s = OpensslServer::start_requesting_client_cert("serving-root.pem");
    let url = format!("rediss://localhost:{}", s.port);
    // s_server speaks no RESP, so PING fails; only the handshake facts matter here.
    let (v, _, _) = verify_json(&[
        "--cacert",
        &root(),
        "--timeout",
        "1s",
        "--cert",
        &testdata("client-with-key.pem"),
        &url,
    ]);
    assert_step(&v, "tls-handshake", "pass");
    assert_eq!(v["tls"]["client_cert_requested"], true, "{v:#}");
    let names = v["tls"]["acceptable_ca_names"]
        .as_array()
        .expect("acceptable_ca_names");
    assert!(!names.is_empty(), "{v:#}");
    assert!(
        names
            .iter()
            .any(|n| n.as_str().unwrap().contains("tlsprobe Test Root CA")),
        "{v:#}"
    );

    // Without a client certificate, the same run still reports the names.
    let (v, _, _) = verify_json(&["--cacert", &root(), "--timeout", "1s", &url]);
    let names = v["tls"]["acceptable_ca_names"]
        .as_array()
        .expect("acceptable_ca_names");
    assert!(
        names
            .iter()
            .any(|n| n.as_str().unwrap().contains("tlsprobe Test Root CA")),
        "{v:#}"
    );
}

// 4
#[test]
fn mtls_required_without_client_cert_fails_client_cert_tls13() {
    let r = mtls_server("yes", None);
    let (v, code, _) = verify_json(&["--cacert", &root(), &r.url()]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["tls"]["version"], "TLS 1.3");
    assert_eq!(v["tls"]["client_cert_requested"], true);
    assert_step(&v, "client-cert", "fail");
    assert_msg(&v, "client-cert", "requires a client certificate");
    assert_msg(&v, "client-cert", "--cert");
    // The failure is attributed to client-cert, not to ping.
    assert_step(&v, "ping", "skip");
    assert_msg(&v, "ping", "client-cert");
    assert_step(&v, "chain-trust", "pass");
    let failed: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["client-cert"], "{}", steps(&v));
}

// 5
#[test]
fn mtls_required_without_client_cert_fails_client_cert_tls12() {
    let r = mtls_server("yes", Some("TLSv1.2"));
    let (v, code, _) = verify_json(&["--cacert", &root(), &r.url()]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "client-cert", "fail");
    assert_msg(&v, "client-cert", "requires a client certificate");
    assert_step(&v, "tls-handshake", "warn");
    assert_msg(&v, "tls-handshake", "client-cert");
    assert_ne!(status(&v, "ping"), "fail", "{}", steps(&v));
    assert_eq!(v["tls"]["client_cert_requested"], true);
}

// 5b
#[test]
fn tls_version_pin_negotiates_tls12() {
    let r = tls_server();
    let (v, code, _) = verify_json(&["--cacert", &root(), "--tls-version", "1.2", &r.url()]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["tls"]["version"], "TLS 1.2");
    assert_step(&v, "tls-handshake", "pass");
    assert_msg(&v, "tls-handshake", "TLS 1.2");

    let (v, code, _) = verify_json(&["--cacert", &root(), "--tls-version", "1.3", &r.url()]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["tls"]["version"], "TLS 1.3");
}

// 6
#[test]
fn optional_client_auth_without_cert_passes() {
    let r = mtls_server("optional", None);
    let (v, code, _) = verify_json(&["--cacert", &root(), &r.url()]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "pass");
    assert_step(&v, "client-cert", "pass");
    assert_msg(&v, "client-cert", "optional");
    assert_step(&v, "ping", "pass");
    assert_eq!(v["tls"]["client_cert_requested"], true);
}

// 7
#[test]
fn client_cert_from_another_ca_is_rejected() {
    let r = mtls_server("yes", None);
    let (v, code, _) = verify_json(&[
        "--cacert",
        &root(),
        "--cert",
        &testdata("client-other-ca.pem"),
        "--key",
        &testdata("client-other-ca.key"),
        &r.url(),
    ]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "client-cert", "fail");
    assert_msg_any(&v, "client-cert", &["unknown_ca", "rejected"]);
    assert_msg(&v, "client-cert", "Other Test Root CA");
    assert_ne!(status(&v, "ping"), "fail", "{}", steps(&v));
    assert_step(&v, "chain-trust", "pass");
}

// 8
#[test]
fn wrong_ca_bundle_fails_chain_trust_but_reports_the_chain() {
    let r = tls_server();
    let (v, code, _) = verify_json(&["--cacert", &testdata("other-root.pem"), &r.url()]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["verdict"], "fail");
    assert_step(&v, "chain-trust", "fail");
    assert_msg(&v, "chain-trust", "other-root.pem");
    assert_step(&v, "anchor", "skip");
    assert_step(&v, "server-name", "pass");
    assert_step(&v, "expiry", "pass");
    assert_eq!(v["chain"].as_array().map(Vec::len), Some(2), "{v:#}");
    assert!(v["anchor"].is_null(), "{v:#}");
}

// 8b
#[test]
fn credentials_are_withheld_from_an_untrusted_server() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        requirepass: Some("pw"),
        ..Default::default()
    });
    let url = format!("rediss://:pw@localhost:{}", r.port);
    let (v, code, _) = verify_json(&["--cacert", &testdata("other-root.pem"), &url]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "chain-trust", "fail");
    assert_step(&v, "auth", "skip");
    assert_msg(&v, "auth", "withheld");
    assert_msg(&v, "auth", "chain-trust");

    // The same password against the right CA is accepted: the skip above was a choice.
    let (v, code, _) = verify_json(&["--cacert", &root(), &url]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "auth", "pass");
}

// 9
#[test]
fn expired_server_cert_fails_expiry() {
    let r = tls_server_with("server-expired-chain.pem", "server-expired.key");
    let (v, code, _) = verify_json(&["--cacert", &root(), &r.url()]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "expiry", "fail");
    assert_msg(&v, "expiry", "expired 2025-01-01");
    assert_step(&v, "server-name", "pass");
}

// 9 (trust): an expired leaf whose chain is otherwise valid fails only expiry.
#[test]
fn expired_server_cert_passes_chain_trust() {
    let r = tls_server_with("server-expired-chain.pem", "server-expired.key");
    let (v, code, _) = verify_json(&["--cacert", &root(), &r.url()]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "chain-trust", "pass");
    assert_step(&v, "anchor", "pass");
    assert_step(&v, "expiry", "fail");
    let failed: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["expiry"], "{}", steps(&v));
}

// 9b
#[test]
fn not_yet_valid_server_cert_fails_expiry_not_trust() {
    let r = tls_server_with("server-notyet-chain.pem", "server-notyet.key");
    let (v, code, _) = verify_json(&["--cacert", &root(), &r.url()]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "expiry", "fail");
    assert_msg(&v, "expiry", "not valid before");
    assert_step(&v, "chain-trust", "pass");
    assert_step(&v, "server-name", "pass");

    // Judged at a time inside every certificate's validity, it passes.
    let (v, code, _) = verify_json(&[
        "--cacert",
        &root(),
        "--at",
        "2100-06-01T00:00:00Z",
        &r.url(),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "expiry", "pass");
    assert_step(&v, "chain-trust", "pass");
}

// 9c: --at moves the evaluation time: inside the expired leaf's validity it passes.
#[test]
fn at_moves_the_evaluation_time_of_expiry() {
    let r = tls_server_with("server-expired-chain.pem", "server-expired.key");
    let (v, code, _) = verify_json(&[
        "--cacert",
        &root(),
        "--at",
        "2024-06-01T00:00:00Z",
        &r.url(),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "expiry", "pass");
    assert_step(&v, "chain-trust", "pass");
}

// 10
#[test]
fn wrong_server_name_fails_server_name_only() {
    let r = tls_server_with("server-wrong-name-chain.pem", "server-wrong-name.key");
    let (v, code, _) = verify_json(&["--cacert", &root(), &r.url()]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "server-name", "fail");
    assert_msg(&v, "server-name", "wrong.example.com");
    assert_msg(&v, "server-name", "localhost");
    assert_step(&v, "chain-trust", "pass");
    assert_step(&v, "expiry", "pass");

    let (v, code, _) = verify_json(&["--cacert", &root(), "--name", "wrong.example.com", &r.url()]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "server-name", "pass");
    assert_msg(&v, "server-name", "wrong.example.com");
}

// 10b
#[test]
fn ip_target_matches_ip_san_without_sni() {
    let r = tls_server();
    let url = format!("rediss://127.0.0.1:{}", r.port);
    let (v, code, _) = verify_json(&["--cacert", &root(), &url]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "server-name", "pass");
    assert_msg(&v, "server-name", "127.0.0.1");
    assert!(v["tls"]["sni"].is_null(), "{v:#}");
    assert_step(&v, "ping", "pass");
}

// 11
#[test]
fn warn_days_makes_expiry_warn() {
    let r = tls_server();
    let (v, code, _) = verify_json(&["--cacert", &root(), "--warn-days", "40000", &r.url()]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "pass");
    assert_step(&v, "expiry", "warn");
    assert_msg(&v, "expiry", "40000");
}

// 12
#[test]
fn requirepass_right_wrong_and_missing_password() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        requirepass: Some("pw"),
        ..Default::default()
    });
    let root = root();

    let (v, code, _) = verify_json(&[
        "--cacert",
        &root,
        &format!("rediss://:pw@localhost:{}", r.port),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "auth", "pass");
    assert_step(&v, "ping", "pass");

    let (v, code, _) = verify_json(&[
        "--cacert",
        &root,
        &format!("rediss://:nope@localhost:{}", r.port),
    ]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "auth", "fail");
    assert_msg(&v, "auth", "WRONGPASS");

    let (v, code, _) = verify_json(&["--cacert", &root, &r.url()]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "auth", "fail");
    assert_msg(&v, "auth", "NOAUTH");
    assert_ne!(status(&v, "ping"), "pass", "{}", steps(&v));
}

// 12b
#[test]
fn password_from_env_and_pass_file() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        requirepass: Some("pw"),
        ..Default::default()
    });
    let root = root();

    let (v, code, _) = verify_json_env(&["--cacert", &root, &r.url()], "REDISCLI_AUTH", "pw");
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "auth", "pass");

    let (v, code, _) = verify_json_env(&["--cacert", &root, &r.url()], "REDISCLI_AUTH", "not-it");
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "auth", "fail");

    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("pw.txt");
    std::fs::write(&pf, "pw\n").unwrap();
    let (v, code, _) = verify_json(&[
        "--cacert",
        &root,
        "--pass-file",
        pf.to_str().unwrap(),
        &r.url(),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "auth", "pass");
    assert_step(&v, "ping", "pass");
}

// 13
#[test]
fn acl_user_authenticates() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        users: vec!["alice on >alicepw ~* &* +@all"],
        ..Default::default()
    });
    let root = root();
    let (v, code, _) = verify_json(&[
        "--cacert",
        &root,
        &format!("rediss://alice:alicepw@localhost:{}", r.port),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "auth", "pass");
    assert_step(&v, "ping", "pass");
    assert!(
        v["target"].as_str().unwrap().contains("alice:***@"),
        "{v:#}"
    );

    let (v, code, _) = verify_json(&[
        "--cacert",
        &root,
        "--user",
        "alice",
        &format!("rediss://:wrongpw@localhost:{}", r.port),
    ]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "auth", "fail");
    assert_msg(&v, "auth", "WRONGPASS");

    // --user overrides the user of the URL.
    let (v, code, _) = verify_json(&[
        "--cacert",
        &root,
        "--user",
        "alice",
        &format!("rediss://bob:alicepw@localhost:{}", r.port),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "auth", "pass");
}

// 14
#[test]
fn plaintext_server_behind_rediss_is_named_quickly() {
    let r = RedisServer::start(RedisOpts::default());
    let url = format!("rediss://localhost:{}", r.port);
    let t = Instant::now();
    let (v, code, _) = verify_json(&["--cacert", &root(), &url]);
    let took = t.elapsed();
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "tls-handshake", "fail");
    assert_msg(&v, "tls-handshake", "plaintext");
    assert_step(&v, "chain-trust", "skip");
    assert_ne!(status(&v, "ping"), "pass", "{}", steps(&v));
    assert!(
        took < Duration::from_secs(5),
        "took {took:?} with the default 10s timeout"
    );
}

// 15
#[test]
fn tls_server_behind_redis_url_suggests_rediss() {
    let r = tls_server();
    let url = format!("redis://localhost:{}", r.port);
    let (v, code, _) = verify_json(&[&url]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "ping", "fail");
    assert_msg(&v, "ping", "rediss://");
    for step in [
        "tls-handshake",
        "chain-trust",
        "anchor",
        "server-name",
        "expiry",
        "client-cert",
    ] {
        assert_step(&v, step, "skip");
        assert_msg(&v, step, "plaintext target");
    }
    assert!(v["tls"].is_null(), "{v:#}");
}

// 16
#[test]
fn expect_plaintext_refused_on_a_tls_only_server() {
    let r = tls_server();
    let (v, code, _) = verify_json(&[
        "--cacert",
        &root(),
        "--expect-plaintext",
        "refused",
        &r.url(),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "plaintext-refused", "pass");

    // Expecting plaintext to be allowed on a TLS-only port fails.
    let (v, code, _) = verify_json(&[
        "--cacert",
        &root(),
        "--expect-plaintext",
        "allowed",
        &r.url(),
    ]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "plaintext-refused", "fail");
}

// 16b
#[test]
fn expect_plaintext_on_a_plaintext_port() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        plaintext_too: true,
        ..Default::default()
    });
    let plain = r.plain_url();

    let (v, code, _) = verify_json(&["--expect-plaintext", "refused", &plain]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "plaintext-refused", "fail");
    assert_msg(&v, "plaintext-refused", "PONG");

    let (v, code, _) = verify_json(&["--expect-plaintext", "allowed", &plain]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "pass");
    assert_step(&v, "plaintext-refused", "pass");
    assert_step(&v, "ping", "pass");

    // The TLS port of the same server refuses plaintext.
    let (v, code, _) = verify_json(&[
        "--cacert",
        &root(),
        "--expect-plaintext",
        "refused",
        &r.url(),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "plaintext-refused", "pass");
}

// 17
#[test]
fn connection_refused_fails_tcp_and_skips_the_rest() {
    let port = free_port();
    let url = format!("rediss://127.0.0.1:{port}");
    let (v, code, _) = verify_json(&["--cacert", &root(), "--timeout", "2s", &url]);
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "resolve", "pass");
    assert_step(&v, "tcp", "fail");
    assert_msg(&v, "tcp", "refused");
    for step in &STEPS[2..] {
        assert_step(&v, step, "skip");
    }
}

// 18
#[test]
fn silent_listener_fails_the_handshake_at_the_deadline() {
    let l = SilentListener::start();
    let url = format!("rediss://127.0.0.1:{}", l.port);
    let t = Instant::now();
    let (v, code, _) = verify_json(&["--cacert", &root(), "--timeout", "1s", &url]);
    let took = t.elapsed();
    assert_eq!(code, 1, "{v:#}");
    assert_step(&v, "tcp", "pass");
    assert_step(&v, "tls-handshake", "fail");
    assert_msg(&v, "tls-handshake", "deadline");
    assert_step(&v, "chain-trust", "skip");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

// 19
#[test]
fn wait_retries_until_the_server_comes_up() {
    let port = free_port();
    let url = format!("rediss://localhost:{port}");
    let root = root();
    let child = tlsprobe()
        .args([
            "verify",
            "--format",
            "json",
            "--cacert",
            &root,
            "--wait",
            "10s",
            "--interval",
            "300ms",
            "--timeout",
            "2s",
            &url,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tlsprobe");
    std::thread::sleep(Duration::from_millis(1500));
    let _r = RedisServer::start_on(
        port,
        RedisOpts {
            tls: Some(("server-chain.pem", "server.key")),
            ..Default::default()
        },
    );
    let (v, code, _) = json_of(child.wait_with_output().unwrap());
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "pass");
    assert!(v["attempts"].as_u64().unwrap() > 1, "{v:#}");
    assert_step(&v, "ping", "pass");
}

// 20
#[test]
fn input_errors_exit_2_with_one_line() {
    let missing = testdata("no-such-file.pem");
    assert_input_error(&["http://x:1"], &["http://x:1", "scheme"]);
    assert_input_error(
        &["--cacert", &missing, "rediss://localhost:1"],
        &["no-such-file.pem"],
    );
    assert_input_error(
        &[
            "--cacert",
            &testdata("keys-only.pem"),
            "rediss://localhost:1",
        ],
        &["keys-only.pem", "no certificate"],
    );
    assert_input_error(
        &[
            "--cert",
            &testdata("client.pem"),
            "--key",
            &testdata("server.key"),
            "rediss://localhost:1",
        ],
        &["server.key", "does not match"],
    );
    assert_input_error(
        &["--key", &testdata("client.key"), "rediss://localhost:1"],
        &["--key", "--cert"],
    );
    assert_input_error(
        &["--cert", &testdata("client.pem"), "rediss://localhost:1"],
        &["client.pem", "key"],
    );
    assert_input_error(
        &["--user", "alice", "rediss://localhost:1"],
        &["--user", "password"],
    );
    assert_input_error(&["rediss://alice@localhost:1"], &["password"]);
    assert_input_error(&["--timeout", "0", "rediss://localhost:1"], &["--timeout"]);
    // clap rejects the value: exit 2 and an "error:" line.
    let r = run_text(&["verify", "--timeout", "banana", "rediss://localhost:1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let first = r.stderr.lines().next().unwrap_or("");
    assert!(
        first.starts_with("error:") && first.contains("--timeout") && first.contains("banana"),
        "{:?}",
        r.stderr
    );
    assert_input_error(
        &[
            "--cert",
            &testdata("client.pem"),
            "--key",
            &testdata("encrypted.key"),
            "rediss://localhost:1",
        ],
        &["encrypted.key", "encrypted private key"],
    );
    let empty = tempfile::NamedTempFile::new().unwrap();
    assert_input_error(
        &[
            "--pass-file",
            empty.path().to_str().unwrap(),
            "rediss://localhost:1",
        ],
        &["--pass-file", "empty"],
    );
}

// 20b
#[test]
fn unparseable_flag_value_is_one_error_line() {
    assert_input_error(
        &["--timeout", "banana", "rediss://localhost:1"],
        &["--timeout", "banana"],
    );
}

// 21
#[test]
fn secrets_never_appear_in_output() {
    let key_text = std::fs::read_to_string(testdata("client.key")).unwrap();
    let body: Vec<&str> = key_text
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 40)
        .collect();
    assert!(!body.is_empty(), "client.key has no base64 body");
    let key_excerpt = &body[body.len() / 2][..40];

    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        requirepass: Some("pw"),
        ..Default::default()
    });
    let plain = RedisServer::start(RedisOpts::default());
    let refused = free_port();
    let key = testdata("client.key");
    let cert = testdata("client.pem");
    let root = root();
    let other = testdata("other-root.pem");
    let with_pw = |port: u16| format!("rediss://:{SECRET}@localhost:{port}");
    let runs: Vec<Vec<String>> = vec![
        // Wrong password.
        vec!["--cacert".into(), root.clone(), with_pw(r.port)],
        // Untrusted CA: the password is withheld.
        vec!["--cacert".into(), other.clone(), with_pw(r.port)],
        // Nobody listens.
        vec![
            "--cacert".into(),
            root.clone(),
            "--timeout".into(),
            "2s".into(),
            with_pw(refused),
        ],
        // A plaintext Redis behind rediss://.
        vec![
            "--cacert".into(),
            root.clone(),
            "--timeout".into(),
            "2s".into(),
            with_pw(plain.port),
        ],
        // A plaintext Redis behind redis://: the password is sent and refused.
        vec![
            "--timeout".into(),
            "2s".into(),
            format!("redis://u:{SECRET}@localhost:{}", plain.port),
        ],
        // Input errors with the password in the URL.
        vec![format!("rediss://u:{SECRET}@localhost:1/notadb")],
        vec![format!("http://u:{SECRET}@localhost:1")],
        vec![format!("rediss://u:{SECRET}@localhost:99999")],
    ];
    let mut json_targets = 0;
    for args in &runs {
        for format in ["human", "json"] {
            let mut all: Vec<&str> =
                vec!["verify", "--format", format, "--cert", &cert, "--key", &key];
            all.extend(args.iter().map(String::as_str));
            let out = run_text(&all);
            assert_ne!(out.code, 0, "{all:?} should not pass\n{}", out.stdout);
            for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
                assert!(
                    !text.contains(SECRET),
                    "{all:?}: password in {name}:\n{text}"
                );
                assert!(
                    !text.contains(key_excerpt),
                    "{all:?}: key material in {name}:\n{text}"
                );
            }
            if format == "json" && out.code == 1 {
                let v: Value = serde_json::from_str(&out.stdout).unwrap();
                let target = v["target"].as_str().unwrap();
                assert!(target.contains(":***@"), "{target}");
                json_targets += 1;
            }
        }
    }
    assert_eq!(
        json_targets, 5,
        "every connecting run should produce a JSON report"
    );
}

// 22
#[test]
fn human_output_has_one_line_per_step_and_a_verdict() {
    let r = tls_server();
    let out = run_text(&["verify", "--cacert", &root(), &r.url()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        !out.stdout.contains('\x1b'),
        "ANSI escape with NO_COLOR: {:?}",
        out.stdout
    );
    for step in STEPS {
        let lines: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(step))
            .collect();
        assert_eq!(lines.len(), 1, "one line for {step}:\n{}", out.stdout);
        let want = if *step == "auth" { "skip" } else { "pass" };
        assert!(lines[0].starts_with(want), "{}", lines[0]);
    }
    assert!(out.stdout.contains("TLS 1.3"), "{}", out.stdout);
    let verdict: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("verdict"))
        .collect();
    assert_eq!(verdict.len(), 1, "{}", out.stdout);
    assert!(verdict[0].contains("PASS"), "{}", verdict[0]);

    let out = run_text(&["verify", "--cacert", &testdata("other-root.pem"), &r.url()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let verdict: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("verdict"))
        .collect();
    assert_eq!(verdict.len(), 1, "{}", out.stdout);
    assert!(
        verdict[0].contains("FAIL") && verdict[0].contains("chain-trust"),
        "{}",
        verdict[0]
    );
    let trust: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("chain-trust"))
        .collect();
    assert_eq!(trust.len(), 1, "{}", out.stdout);
    assert!(trust[0].starts_with("fail"), "{}", trust[0]);
}

/// Runs tlsprobe on a pseudo-terminal (util-linux `script`), so colour would be enabled.
fn human_on_a_tty(args: &str, no_color: bool) -> Option<String> {
    let which = std::process::Command::new("script")
        .arg("--version")
        .output();
    if which.is_err() {
        return None;
    }
    let cmd = format!("{} verify {args}", env!("CARGO_BIN_EXE_tlsprobe"));
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"])
        .env_remove("REDISCLI_AUTH")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    if no_color {
        c.env("NO_COLOR", "1");
    }
    let o = c.output().ok()?;
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

// 22b
#[test]
fn no_color_disables_ansi_on_a_terminal() {
    let r = tls_server();
    let args = format!("--cacert {} {}", root(), r.url());
    let Some(plain) = human_on_a_tty(&args, true) else {
        eprintln!("`script` is not installed: skipping the terminal check");
        return;
    };
    assert!(plain.contains("verdict"), "{plain}");
    assert!(
        !plain.contains('\x1b'),
        "ANSI escape with NO_COLOR on a terminal: {plain:?}"
    );
    // Control: on a terminal without NO_COLOR, the same run is coloured.
    let coloured = human_on_a_tty(&args, false).unwrap();
    assert!(
        coloured.contains("\x1b["),
        "expected colour on a terminal: {coloured:?}"
    );
}

// 23
#[test]
fn ipv6_target_passes_with_name() {
    let r = tls_server();
    let url = format!("rediss://[::1]:{}", r.port);
    let (v, code, _) = verify_json(&["--cacert", &root(), "--name", "localhost", &url]);
    assert_eq!(code, 0, "{v:#}");
    assert_step(&v, "tcp", "pass");
    assert_msg(&v, "tcp", "[::1]");
    assert_step(&v, "server-name", "pass");
    assert_step(&v, "ping", "pass");
    assert!(v["tls"]["sni"].is_null(), "{v:#}");
    assert_eq!(v["target"], format!("rediss://[::1]:{}", r.port));
}

#[test]
fn client_policy_prechecks_the_client_certificate_before_connecting() {
    // Nothing listens: the policy step still judges the certificate.
    let port = free_port().to_string();
    let url = format!("rediss://localhost:{port}");
    let base = [
        "--cacert",
        &testdata("serving-root.pem"),
        "--cert",
        &testdata("client-chain.pem"),
        "--key",
        &testdata("client.key"),
    ];
    let mut args: Vec<&str> = base.to_vec();
    args.extend([
        "--validation",
        "subject",
        "--authorized-subject",
        "CN=redis_user,O=Acme,OU=dev,OU=Ops",
        &url,
    ]);
    let (v, code, _) = verify_json(&args);
    assert_eq!(code, 1);
    assert_eq!(
        v["checks"][0]["check"], "client-policy",
        "client-policy comes first: {v:#}"
    );
    assert_eq!(status(&v, "client-policy"), "fail");
    assert!(
        message(&v, "client-policy").contains(r#"OU "Dev" != "dev" (case-sensitive)"#),
        "{}",
        message(&v, "client-policy")
    );
    assert_eq!(status(&v, "tcp"), "fail");

    let mut args: Vec<&str> = base.to_vec();
    args.extend([
        "--validation",
        "subject",
        "--authorized-subject",
        "CN=redis_user,O=Acme,OU=Dev,OU=Ops",
        &url,
    ]);
    let (v, _, _) = verify_json(&args);
    assert_eq!(
        status(&v, "client-policy"),
        "pass",
        "{}",
        message(&v, "client-policy")
    );

    // The REST API alias and a server that then accepts the certificate.
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        auth_clients: Some("yes"),
        ..Default::default()
    });
    let url = r.url();
    let mut args: Vec<&str> = base.to_vec();
    args.extend([
        "--validation",
        "san_cn",
        "--authorized-subject",
        "CN=redis_user",
        &url,
    ]);
    let (v, code, _) = verify_json(&args);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(status(&v, "client-policy"), "pass");
    assert_eq!(status(&v, "client-cert"), "pass");
}

#[test]
fn secret_files_readable_by_others_are_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("client.key");
    std::fs::copy(testdata("client.key"), &key).unwrap();
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "pw\n").unwrap();
    let port = free_port().to_string();
    let url = format!("rediss://localhost:{port}");
    let run_with = |mode: u32| {
        for f in [&key, &pass] {
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        run_text(&[
            "verify",
            "--cert",
            &testdata("client-chain.pem"),
            "--key",
            key.to_str().unwrap(),
            "--pass-file",
            pass.to_str().unwrap(),
            &url,
        ])
    };
    let open = run_with(0o644);
    let lines: Vec<&str> = open.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", open.stderr);
    assert!(
        lines[0].starts_with("warning: --key ")
            && lines[0].contains("readable by other users (mode 0644)"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("warning: --pass-file ") && lines[1].contains(pass.to_str().unwrap()),
        "{}",
        lines[1]
    );
    assert_eq!(
        open.code, 1,
        "the warning is not fatal: the run went on to tcp"
    );
    let closed = run_with(0o600);
    assert_eq!(closed.stderr, "", "no warning for 0600");
}

/// Regression (review finding): a server certificate signed with a *client* certificate's
/// key, presented with that client certificate and an expired decoy named like it, must
/// fail chain-trust, and the password must never be sent.
#[test]
fn a_leaf_signed_by_a_client_certificate_is_not_trusted_and_gets_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let received = dir.path().join("received");
    let s = OpensslServer::serving(
        "forged-server.pem",
        "forged-server.key",
        "forged-server-extra-chain.pem",
        &received,
    );
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "forged-test-password\n").unwrap();
    std::fs::set_permissions(&pass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let url = format!("rediss://localhost:{}", s.port);
    let (v, code, _) = verify_json(&[
        "--timeout",
        "2s",
        "--cacert",
        &testdata("redis_ca.pem"),
        "--pass-file",
        pass.to_str().unwrap(),
        &url,
    ]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        status(&v, "chain-trust"),
        "fail",
        "{}",
        message(&v, "chain-trust")
    );
    assert!(
        message(&v, "chain-trust").contains("a leaf certificate is used as an issuer"),
        "{}",
        message(&v, "chain-trust")
    );
    assert_eq!(
        status(&v, "expiry"),
        "pass",
        "only the leaf is judged when the chain is not trusted"
    );
    assert_eq!(status(&v, "auth"), "skip");
    assert!(
        message(&v, "auth").contains("withheld"),
        "{}",
        message(&v, "auth")
    );
    drop(s);
    let got = std::fs::read_to_string(&received).unwrap_or_default();
    assert!(
        !got.contains("forged-test-password"),
        "the password reached the server: {got:?}"
    );
}

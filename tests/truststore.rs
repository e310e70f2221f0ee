//! `--cacert system` (rustls-native-certs, honouring SSL_CERT_FILE and SSL_CERT_DIR) and
//! `--cacert DIR` (an OpenSSL hashed directory made with `openssl rehash`) against a real
//! TLS redis-server, compared with redis-cli on the same trust; `chain-trust` names the store.

mod support;

use std::process::Command;

use support::{message, status, steps, testdata, RedisOpts, RedisServer};

fn server() -> RedisServer {
    RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        ..RedisOpts::default()
    })
}

/// verify --format json with SSL_CERT_FILE set to `cert_file` and SSL_CERT_DIR unset.
fn verify_with_env(cert_file: &str, args: &[&str]) -> (serde_json::Value, i32) {
    let o = support::tlsprobe()
        .env("SSL_CERT_FILE", cert_file)
        .env_remove("SSL_CERT_DIR")
        .args(["verify", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&o.stderr));
    });
    (v, o.status.code().unwrap_or(-1))
}

fn redis_cli(env_file: Option<&str>, trust: &[&str], port: u16) -> String {
    let mut c = Command::new("redis-cli");
    if let Some(f) = env_file {
        c.env("SSL_CERT_FILE", f).env_remove("SSL_CERT_DIR");
    }
    c.arg("--tls").args(trust);
    c.args(["-h", "localhost", "-p", &port.to_string(), "PING"]);
    String::from_utf8_lossy(&c.output().unwrap().stdout)
        .trim()
        .to_string()
}

#[test]
fn system_store_honours_ssl_cert_file() {
    let s = server();
    let root = testdata("serving-root.pem");
    // redis-cli without --cacert uses OpenSSL's default paths, which SSL_CERT_FILE sets.
    assert_eq!(redis_cli(Some(&root), &[], s.port), "PONG");
    let (v, code) = verify_with_env(&root, &["--cacert", "system", &s.url()]);
    assert_eq!(code, 0, "{}", steps(&v));
    let m = message(&v, "chain-trust");
    assert!(m.contains("trust store: the system store"), "{m}");
    assert!(m.contains("SSL_CERT_FILE="), "{m}");
    assert_eq!(v["anchor"]["file"], "system", "{v:#}");
    // The variable is really what is trusted: another root fails, as redis-cli does.
    let other = testdata("other-root.pem");
    assert_ne!(redis_cli(Some(&other), &[], s.port), "PONG");
    let (v, code) = verify_with_env(&other, &["--cacert", "system", &s.url()]);
    assert_eq!(code, 1, "{}", steps(&v));
    assert_eq!(status(&v, "chain-trust"), "fail");
    assert!(message(&v, "chain-trust").contains("the system store"));
}

#[test]
fn default_store_is_still_the_mozilla_roots() {
    let s = server();
    // SSL_CERT_FILE does not change the default: only --cacert system reads it.
    let (v, code) = verify_with_env(&testdata("serving-root.pem"), &[&s.url()]);
    assert_eq!(code, 1, "{}", steps(&v));
    let m = message(&v, "chain-trust");
    assert!(m.contains("the Mozilla roots (webpki-roots"), "{m}");
}

#[test]
fn hashed_directory_is_a_trust_store() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    for f in ["extra-root-1.pem", "serving-root.pem", "extra-root-2.pem"] {
        std::fs::copy(testdata(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(dir.path().join("README"), "not a certificate\n").unwrap();
    let st = Command::new("openssl")
        .arg("rehash")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    let d = dir.path().display().to_string();
    assert_eq!(redis_cli(None, &["--cacertdir", &d], s.port), "PONG");
    let (v, code, _) = support::verify_json(&["--cacert", &d, &s.url()]);
    assert_eq!(code, 0, "{}", steps(&v));
    let m = message(&v, "chain-trust");
    // Hash links and the files they point at are one certificate each.
    assert!(
        m.contains(&format!("trust store: directory {d} (3 certificates")),
        "{m}"
    );

    // Without the serving root the directory does not trust the server (nor does redis-cli).
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(testdata("other-root.pem"), other.path().join("o.pem")).unwrap();
    let o = other.path().display().to_string();
    assert_ne!(redis_cli(None, &["--cacertdir", &o], s.port), "PONG");
    let (v, code, _) = support::verify_json(&["--cacert", &o, &s.url()]);
    assert_eq!(code, 1, "{}", steps(&v));
    assert_eq!(status(&v, "chain-trust"), "fail");

    // A directory with no certificate file is an input error naming it.
    let empty = tempfile::tempdir().unwrap();
    let e = empty.path().display().to_string();
    let r = support::run_text(&["verify", "--cacert", &e, "localhost:1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&e) && r.stderr.contains("no certificate"),
        "{}",
        r.stderr
    );
}

#[test]
fn inventory_cacert_system_is_the_system_store() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    let inv = support::write_file(
        dir.path(),
        "inv.toml",
        format!(
            "[[target]]\nid = \"sys\"\nurl = \"{}\"\ncacert = \"system\"\n",
            s.url()
        ),
    );
    let o = support::tlsprobe()
        .env("SSL_CERT_FILE", testdata("serving-root.pem"))
        .env_remove("SSL_CERT_DIR")
        .args(["audit", "-q", "--format", "json", &inv])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["targets"][0]["anchor"]["file"], "system", "{v:#}");
}

//! Verdict regressions found by trying tlsprobe as a new user would (issue 11), each
//! against a real server set up the way the user did, and compared with what the
//! standard client (redis-cli, psql) says on the same setup.

mod support;

use std::process::Command;

use serde_json::Value;
use support::postgres::{Hba, PgOpts, PostgresServer};
use support::*;

const PW: &str = "verdict-secret-pw";

fn check<'a>(v: &'a Value, step: &str) -> Option<&'a Value> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == step)
}

/// `redis-cli --tls` PING as a user would run it; its stdout+stderr.
fn redis_cli(port: u16, cacert: &str, extra: &[&str]) -> String {
    let o = Command::new("redis-cli")
        .args([
            "-h",
            "localhost",
            "-p",
            &port.to_string(),
            "--tls",
            "--cacert",
            cacert,
        ])
        .args(extra)
        .arg("PING")
        .output()
        .expect("redis-cli (scripts/install-deps.sh installs it)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn postgres_error_after_authentication_fails_the_round_trip() {
    let pg = PostgresServer::start(PgOpts {
        ssl: true,
        hba: Hba::HostSslOnly,
        password: Some(PW),
    });
    let url = format!("postgres://app:{PW}@localhost:{}/nosuchdb", pg.port);
    let (v, code, stderr) = verify_json(&["--cacert", &testdata("serving-root.pem"), &url]);
    assert_eq!(code, 1, "{v:#} {stderr}");
    assert_eq!(v["verdict"], "fail");
    assert_eq!(status(&v, "auth"), "pass", "{}", message(&v, "auth"));
    assert_eq!(status(&v, "ping"), "fail");
    let msg = message(&v, "ping");
    assert!(msg.contains("3D000") && msg.contains("nosuchdb"), "{msg}");

    // psql on the same setup refuses the same way.
    let o = Command::new("psql")
        .arg(format!(
            "host=localhost port={} user=app dbname=nosuchdb sslmode=require",
            pg.port
        ))
        .args(["-c", "SELECT 1"])
        .env("PGPASSWORD", PW)
        .output()
        .expect("psql");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not exist"));

    // The database that exists passes: the failure is about the database, not the login.
    let url = format!("postgres://app:{PW}@localhost:{}/app", pg.port);
    let (v, code, _) = verify_json(&["--cacert", &testdata("serving-root.pem"), &url]);
    assert_eq!(code, 0, "{v:#}");
}

#[test]
fn anchor_follows_a_root_then_intermediate_file_up_to_its_root() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        ..Default::default()
    });
    // [root, intermediate]: the path stops at #1 inside webpki; openssl names the root.
    let (v, code, _) = verify_json(&[
        "--cacert",
        &testdata("ca-root-then-intermediate.pem"),
        &r.url(),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["anchor"]["index"], 0, "{v:#}");
    assert_eq!(v["anchor"]["via"], serde_json::json!([1]));
    assert!(v["anchor"]["subject"]
        .as_str()
        .unwrap()
        .contains("Test Root CA"));
    // Certificate #0 alone (the root) is enough, so there is nothing to warn about...
    assert_eq!(status(&v, "anchor"), "pass", "{}", message(&v, "anchor"));
    // ...as redis-cli with only the root shows.
    assert!(redis_cli(r.port, &testdata("serving-root.pem"), &[]).contains("PONG"));

    // [intermediate, root]: anchored by the root #1 via #0; #0 alone also anchors.
    let (v, code, _) = verify_json(&[
        "--cacert",
        &testdata("ca-intermediate-then-root.pem"),
        &r.url(),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["anchor"]["index"], 1, "{v:#}");
    assert_eq!(v["anchor"]["via"], serde_json::json!([0]));
    assert_eq!(status(&v, "anchor"), "pass", "{}", message(&v, "anchor"));

    // redis_ca.pem: #0 is an unrelated root; the warning is a fact there.
    let (v, _, _) = verify_json(&["--cacert", &testdata("redis_ca.pem"), &r.url()]);
    assert_eq!(status(&v, "anchor"), "warn");
    assert_eq!(v["anchor"]["via"], serde_json::json!([]));
    let extra_root_only = testdata("extra-root-1.pem");
    assert!(!redis_cli(r.port, &extra_root_only, &[]).contains("PONG"));
}

#[test]
fn a_self_signed_ca_certificate_pinned_with_cacert_passes_with_a_warning() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-selfsigned-ca.pem", "server-selfsigned-ca.key")),
        ..Default::default()
    });
    let pinned = testdata("server-selfsigned-ca.pem");
    let (v, code, _) = verify_json(&["--cacert", &pinned, &r.url()]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        status(&v, "chain-trust"),
        "pass",
        "{}",
        message(&v, "chain-trust")
    );
    assert!(message(&v, "chain-trust").contains("pinned"));
    assert_eq!(status(&v, "anchor"), "warn");
    assert!(message(&v, "anchor").contains("CA certificate"));
    assert_eq!(v["anchor"]["pinned"], true);
    assert!(redis_cli(r.port, &pinned, &[]).contains("PONG"));

    // Another CA does not make it trusted.
    let (v, code, _) = verify_json(&["--cacert", &testdata("serving-root.pem"), &r.url()]);
    assert_eq!(code, 1);
    assert_eq!(status(&v, "chain-trust"), "fail");
}

#[test]
fn plaintext_is_probed_by_default_and_on_every_plaintext_port() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        plaintext_too: true,
        ..Default::default()
    });
    let plain = r.plain_port.unwrap();
    let ca = testdata("serving-root.pem");
    // The TLS port alone refuses plaintext: passes, without being asked.
    let (v, code, _) = verify_json(&["--cacert", &ca, &r.url()]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(status(&v, "plaintext-refused"), "pass");
    assert_eq!(v["plaintext"][0]["port"], r.port);
    assert_eq!(v["plaintext"][0]["answer"], "refused");

    // The same server's plaintext port serves PONG (as redis-cli shows): fail, naming it.
    let o = Command::new("redis-cli")
        .args(["-h", "localhost", "-p", &plain.to_string(), "PING"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("PONG"));
    let p = plain.to_string();
    let (v, code, _) = verify_json(&["--cacert", &ca, "--plaintext-port", &p, &r.url()]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(status(&v, "plaintext-refused"), "fail");
    let msg = message(&v, "plaintext-refused");
    assert!(
        msg.lines()
            .any(|l| l.starts_with(&format!("port {plain}:")) && l.contains("served")),
        "{msg}"
    );
    assert!(msg
        .lines()
        .any(|l| l.starts_with(&format!("port {} (the TLS port):", r.port))));
    let ports: Vec<&Value> = v["plaintext"].as_array().unwrap().iter().collect();
    assert_eq!(ports.len(), 2);
    assert_eq!(ports[1]["port"], plain);
    assert_eq!(ports[1]["answer"], "served");

    // `any`: not probed at all.
    let (v, code, _) = verify_json(&["--cacert", &ca, "--expect-plaintext", "any", &r.url()]);
    assert_eq!(code, 0);
    assert!(check(&v, "plaintext-refused").is_none(), "{v:#}");
    assert_eq!(v["plaintext"], serde_json::json!([]));

    // Bad port values are usage errors.
    let r2 = run_text(&["verify", "--plaintext-port", "0", "localhost:1"]);
    assert_eq!(r2.code, 2);
    assert!(r2.stderr.contains("--plaintext-port"), "{}", r2.stderr);
}

#[test]
fn an_acl_refusal_of_ping_proves_the_round_trip() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        users: vec!["alice on >alicepw ~* &* +@all -ping"],
        ..Default::default()
    });
    let url = format!("rediss://alice:alicepw@localhost:{}", r.port);
    let (v, code, _) = verify_json(&["--cacert", &testdata("serving-root.pem"), &url]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(status(&v, "auth"), "pass");
    assert_eq!(status(&v, "ping"), "warn");
    assert!(
        message(&v, "ping").contains("NOPERM"),
        "{}",
        message(&v, "ping")
    );
    let cli = redis_cli(
        r.port,
        &testdata("serving-root.pem"),
        &["--user", "alice", "--pass", "alicepw", "--no-auth-warning"],
    );
    assert!(cli.contains("NOPERM"), "{cli}");
}

#[test]
fn the_client_certificate_is_checked_locally_without_rules() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        ..Default::default()
    });
    let ca = testdata("serving-root.pem");
    let at = ["--at", "2026-06-01T00:00:00Z"];
    let expired = [
        "--cert",
        &testdata("client-expired.pem"),
        "--key",
        &testdata("client-expired.key"),
    ];
    let mut args: Vec<&str> = vec!["--cacert", &ca];
    args.extend(at);
    args.extend(expired.iter().copied());
    let url = r.url();
    args.push(&url);
    let (v, code, _) = verify_json(&args);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(status(&v, "client-policy"), "fail");
    assert!(message(&v, "client-policy").contains("expired"));

    args.insert(0, "--allow-outdated");
    let (v, _, _) = verify_json(&args);
    assert_eq!(status(&v, "client-policy"), "warn", "{v:#}");

    // An EKU without clientAuth: a warning (the server's rules were not given).
    let (v, _, _) = verify_json(&[
        "--cacert",
        &ca,
        "--cert",
        &testdata("client-noclientauth.pem"),
        "--key",
        &testdata("client-noclientauth.key"),
        &r.url(),
    ]);
    assert_eq!(status(&v, "client-policy"), "warn", "{v:#}");
    assert!(message(&v, "client-policy").contains("clientAuth"));

    // Within --warn-days: a warning.
    let (v, _, _) = verify_json(&[
        "--cacert",
        &ca,
        "--at",
        "2123-12-15T00:00:00Z",
        "--cert",
        &testdata("client-chain.pem"),
        "--key",
        &testdata("client.key"),
        &r.url(),
    ]);
    assert_eq!(status(&v, "client-policy"), "warn", "{v:#}");
    assert!(message(&v, "client-policy").contains("days left"));
}

#[test]
fn a_missing_secret_fails_its_target_and_the_fleet_still_runs() {
    let good = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        requirepass: Some(PW),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let pass = write_file(dir.path(), "pass", PW);
    let td = testdata("");
    let inv = write_file(
        dir.path(),
        "inventory.toml",
        format!(
            r#"
[defaults]
cacert = "{td}/redis_ca.pem"
timeout = "2s"

[[target]]
id = "no-secret"
url = "rediss://localhost:{port}"
pass_env = "TLSPROBE_TEST_UNSET_VARIABLE"

[[target]]
id = "unreadable"
url = "rediss://localhost:{port}"
pass_file = "/nonexistent/pass"

[[target]]
id = "good"
url = "rediss://localhost:{port}"
pass_file = "{pass}"
"#,
            td = td.trim_end_matches('/'),
            port = good.port
        ),
    );
    let r = run_text(&["audit", "-q", "--format", "json", &inv]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let t = |id: &str| {
        v["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(t("good")["verdict"], "pass", "{:#}", t("good"));
    for id in ["no-secret", "unreadable"] {
        let tv = t(id);
        assert_eq!(tv["verdict"], "fail");
        assert_eq!(status(&tv, "credentials"), "fail");
    }
    assert!(message(&t("no-secret"), "credentials").contains("TLSPROBE_TEST_UNSET_VARIABLE"));
    assert!(message(&t("unreadable"), "credentials").contains("/nonexistent/pass"));
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 2, "{}", r.stderr);

    // The human report lists each target's warnings (the anchor warning of redis_ca.pem).
    let r = run_text(&["audit", "-q", &inv]);
    assert!(
        r.stdout.lines().any(|l| l.contains("warn anchor:")),
        "{}",
        r.stdout
    );
    let r = run_text(&["audit", "-q", "--format", "markdown", &inv]);
    assert!(r.stdout.contains("| warnings |"), "{}", r.stdout);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("| good |") && l.contains("anchor")),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(PW) && !r.stderr.contains(PW));
}

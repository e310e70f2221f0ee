//! `verify --expect`: the provider's own object (testdata/expect/) against real
//! redis-server, PostgreSQL and MariaDB servers in each state, both directions.

mod support;

use support::mysql::{MariaDbServer, MyOpts};
use support::postgres::{Hba, PgOpts, PostgresServer};
use support::*;

const UPSTASH_HOST: &str = "beloved-stallion-58500.upstash.io";
const RE_HOST: &str = "redis-12000.cluster.example.com";
/// The password and token fields of the testdata objects: never in any output.
const CANARIES: &[&str] = &[
    "upstash-password-canary-7f3a",
    "upstash-rest-token-canary-91c2",
    "upstash-ro-token-canary-55e0",
    "re-password-canary-3d9b",
    "re-admin-canary-0c41",
];

fn expect_file(name: &str) -> String {
    testdata(&format!("expect/{name}"))
}

fn ca() -> String {
    testdata("serving-root.pem")
}

/// A TLS redis-server whose certificate also names the provider endpoints.
fn tls_redis(auth_clients: &'static str) -> RedisServer {
    RedisServer::start(RedisOpts {
        tls: Some(("server-provider-chain.pem", "server-provider.key")),
        auth_clients: Some(auth_clients),
        ..RedisOpts::default()
    })
}

fn plain_redis() -> RedisServer {
    RedisServer::start(RedisOpts::default())
}

/// The testdata object with its port(s) set to `port` (the objects carry the provider's
/// documented ports, 6379 and 12000), written into `dir`.
fn with_port(dir: &tempfile::TempDir, name: &str, port: u16) -> String {
    let text = std::fs::read_to_string(expect_file(name)).unwrap();
    let text = text
        .replace("\"port\": 6379", &format!("\"port\": {port}"))
        .replace("\"port\": 12000", &format!("\"port\": {port}"));
    write_file(dir.path(), &format!("{port}-{name}"), text)
}

fn no_secrets(r: &Run) {
    for c in CANARIES {
        assert!(
            !r.stdout.contains(c) && !r.stderr.contains(c),
            "{c} leaked:\n{}\n{}",
            r.stdout,
            r.stderr
        );
    }
}

/// `verify --format json` with the run kept for the secrets check.
fn verify(args: &[&str]) -> (serde_json::Value, Run) {
    let mut all = vec!["verify", "--format", "json"];
    all.extend_from_slice(args);
    let r = run_text(&all);
    no_secrets(&r);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr));
    (v, r)
}

/// The Upstash object reached through --resolve: target, SNI and name are the slug's host.
fn upstash(
    dir: &tempfile::TempDir,
    name: &str,
    port: u16,
    extra: &[&str],
) -> (serde_json::Value, Run) {
    let obj = with_port(dir, name, port);
    let resolve = format!("{UPSTASH_HOST}:{port}:127.0.0.1");
    let mut args = vec!["--expect", &obj, "--resolve", &resolve, "--cacert"];
    let ca = ca();
    args.push(&ca);
    args.extend_from_slice(extra);
    verify(&args)
}

#[test]
fn upstash_tls_on_passes_on_tls_and_fails_on_a_plaintext_server() {
    let dir = tempfile::tempdir().unwrap();
    let tls = tls_redis("no");
    let (v, r) = upstash(&dir, "upstash-tls-on.json", tls.port, &[]);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert_eq!(v["target"], format!("rediss://{UPSTASH_HOST}:{}", tls.port));
    assert!(
        message(&v, "resolve").contains("overridden by --resolve"),
        "{}",
        message(&v, "resolve")
    );
    assert_eq!(v["tls"]["sni"], UPSTASH_HOST);
    assert_eq!(status(&v, "server-name"), "pass");
    for step in [
        "expect-tls",
        "expect-plaintext",
        "expect-client-auth",
        "expect-endpoint",
        "expect-state",
    ] {
        assert_eq!(status(&v, step), "pass", "{step}\n{}", steps(&v));
    }
    assert!(message(&v, "expect-endpoint").contains("beloved-stallion-58500"));

    // The API said TLS is on, but the server still serves plaintext.
    let plain = plain_redis();
    let (v, r) = upstash(&dir, "upstash-tls-on.json", plain.port, &[]);
    assert_eq!(r.code, 1, "{}", steps(&v));
    assert_eq!(status(&v, "expect-tls"), "fail");
    assert!(
        message(&v, "expect-tls").starts_with("tls: true ("),
        "{}",
        message(&v, "expect-tls")
    );
    assert!(
        message(&v, "expect-tls").contains("plaintext"),
        "{}",
        message(&v, "expect-tls")
    );
    assert_eq!(status(&v, "expect-plaintext"), "fail");
}

#[test]
fn tls_off_passes_on_plaintext_and_fails_on_tls() {
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_redis();
    let tls = tls_redis("no");
    for obj in [
        "dcs-ssl-off.json",
        "upstash-tls-off.json",
        "redis-enterprise-tls-off.json",
    ] {
        let f = expect_file(obj);
        let target = format!("localhost:{}", plain.port);
        let (v, r) = verify(&["--expect", &f, "--expect-format", format_of(obj), &target]);
        let want = if obj.starts_with("dcs") { 0 } else { 1 }; // the others also name an endpoint
        assert_eq!(r.code, want, "{obj}\n{}", steps(&v));
        assert_eq!(status(&v, "expect-tls"), "pass", "{obj}\n{}", steps(&v));
        assert_eq!(status(&v, "ping"), "pass");
        assert_eq!(v["target"], format!("redis://localhost:{}", plain.port));

        let target = format!("localhost:{}", tls.port);
        let (v, r) = verify(&["--expect", &f, "--cacert", &ca(), &target]);
        assert_eq!(r.code, 1, "{obj}\n{}", steps(&v));
        assert_eq!(status(&v, "expect-tls"), "fail", "{obj}\n{}", steps(&v));
        assert!(
            message(&v, "expect-tls").contains("TLS is still on"),
            "{}",
            message(&v, "expect-tls")
        );
    }
    let f = expect_file("dcs-ssl-off.json");
    let (v, _) = verify(&["--expect", &f, &format!("localhost:{}", tls.port)]);
    assert!(
        message(&v, "expect-tls").starts_with("enabled: false ("),
        "{}",
        message(&v, "expect-tls")
    );
    // The endpoint the object names, reached through --resolve, on plaintext.
    let obj = with_port(&dir, "upstash-tls-off.json", plain.port);
    let resolve = format!("{UPSTASH_HOST}:{}:127.0.0.1", plain.port);
    let (v, r) = verify(&["--expect", &obj, "--resolve", &resolve]);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert_eq!(
        v["target"],
        format!("redis://{UPSTASH_HOST}:{}", plain.port)
    );
}

fn format_of(obj: &str) -> &'static str {
    if obj.starts_with("dcs") {
        "dcs"
    } else if obj.starts_with("upstash") {
        "upstash"
    } else {
        "redis-enterprise"
    }
}

#[test]
fn dcs_tls_on_both_directions() {
    let f = expect_file("dcs-ssl-on.json");
    let tls = tls_redis("no");
    let (v, r) = verify(&[
        "--expect",
        &f,
        "--cacert",
        &ca(),
        &format!("localhost:{}", tls.port),
    ]);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "expect-tls"), "pass");
    assert_eq!(status(&v, "expect-plaintext"), "pass");
    let plain = plain_redis();
    let (v, r) = verify(&[
        "--expect",
        &f,
        "--cacert",
        &ca(),
        &format!("localhost:{}", plain.port),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        message(&v, "expect-tls").starts_with("enabled: true ("),
        "{}",
        message(&v, "expect-tls")
    );
}

#[test]
fn replica_ssl_expects_clients_on_plaintext() {
    let plain = plain_redis();
    let f = expect_file("redis-enterprise-replica-ssl.json");
    let (v, _) = verify(&["--expect", &f, &format!("localhost:{}", plain.port)]);
    assert_eq!(status(&v, "expect-tls"), "pass", "{}", steps(&v));
    assert!(
        message(&v, "expect-tls").contains("database-to-database"),
        "{}",
        message(&v, "expect-tls")
    );
    // Not our endpoint: the object names redis-12000.cluster.example.com.
    assert_eq!(status(&v, "expect-endpoint"), "fail");
    // TLS for clients is not expected: a TLS endpoint fails.
    let tls = tls_redis("no");
    let (v, r) = verify(&[
        "--expect",
        &f,
        "--cacert",
        &ca(),
        &format!("localhost:{}", tls.port),
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(status(&v, "expect-tls"), "fail", "{}", steps(&v));
    assert!(message(&v, "expect-tls").starts_with("tls_mode: \"replica_ssl\""));
}

#[test]
fn mutual_tls_enforced_or_not_both_directions() {
    let dir = tempfile::tempdir().unwrap();
    let cert = testdata("client-chain.pem");
    let key = testdata("client.key");
    let with_cert = ["--cert", cert.as_str(), "--key", key.as_str()];
    let mtls = tls_redis("yes");
    let open = tls_redis("no");

    // tlsMutualAuth: true against a server that enforces it: refused without, accepted with.
    let (v, r) = upstash(&dir, "upstash-mtls.json", mtls.port, &with_cert);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "expect-client-auth"), "pass");
    assert!(message(&v, "expect-client-auth")
        .contains("refused without a client certificate, accepted with"));
    // ... against one that does not: fail.
    let (v, r) = upstash(&dir, "upstash-mtls.json", open.port, &with_cert);
    assert_eq!(r.code, 1);
    assert_eq!(status(&v, "expect-client-auth"), "fail");
    assert!(message(&v, "expect-client-auth").starts_with("securityAddons.tlsMutualAuth: true"));
    assert!(message(&v, "expect-client-auth").contains("was served"));

    // tlsMutualAuth: false against an enforcing server: fail, and against an open one: pass.
    let (v, r) = upstash(&dir, "upstash-tls-on.json", mtls.port, &with_cert);
    assert_eq!(r.code, 1);
    assert_eq!(status(&v, "expect-client-auth"), "fail", "{}", steps(&v));
    assert!(
        message(&v, "expect-client-auth").contains("was refused"),
        "{}",
        message(&v, "expect-client-auth")
    );
    let (v, r) = upstash(&dir, "upstash-tls-on.json", open.port, &with_cert);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "expect-client-auth"), "pass");
}

#[test]
fn redis_enterprise_mtls_fields_feed_client_policy() {
    let dir = tempfile::tempdir().unwrap();
    let mtls = tls_redis("yes");
    let obj = with_port(&dir, "redis-enterprise-mtls.json", mtls.port);
    let resolve = format!("{RE_HOST}:{}:127.0.0.1", mtls.port);
    let base = ["--expect", obj.as_str(), "--resolve", resolve.as_str()];
    let ca = ca();
    let cert = testdata("client-chain.pem");
    let key = testdata("client.key");
    let mut args = base.to_vec();
    args.extend(["--cacert", &ca, "--cert", &cert, "--key", &key]);
    let (v, r) = verify(&args);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert_eq!(v["target"], format!("rediss://{RE_HOST}:{}", mtls.port));
    assert_eq!(status(&v, "client-policy"), "pass");
    assert!(
        message(&v, "client-policy").contains("authentication_ssl_client_certs[0]"),
        "{}",
        message(&v, "client-policy")
    );
    assert!(message(&v, "client-policy").contains("authorized_subjects[0]"));
    assert_eq!(status(&v, "expect-client-auth"), "pass");
    assert!(
        message(&v, "expect-client-auth").starts_with("enforce_client_authentication: \"enabled\"")
    );

    // The same object against a server that does not enforce mutual TLS: fail.
    let open = tls_redis("no");
    let obj_open = with_port(&dir, "redis-enterprise-mtls.json", open.port);
    let resolve_open = format!("{RE_HOST}:{}:127.0.0.1", open.port);
    let (v, r) = verify(&[
        "--expect",
        &obj_open,
        "--resolve",
        &resolve_open,
        "--cacert",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(status(&v, "expect-client-auth"), "fail", "{}", steps(&v));
    // enforce_client_authentication: "disabled" against the enforcing server: fail; against
    // the open one: pass.
    let plain_obj = with_port(&dir, "redis-enterprise-tls-on.json", mtls.port);
    let (v, r) = verify(&[
        "--expect",
        &plain_obj,
        "--resolve",
        &resolve,
        "--cacert",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
    ]);
    assert_eq!(r.code, 1);
    assert!(message(&v, "expect-client-auth")
        .starts_with("enforce_client_authentication: \"disabled\""));
    assert!(
        message(&v, "expect-client-auth").contains("was refused"),
        "{}",
        steps(&v)
    );
    let plain_obj = with_port(&dir, "redis-enterprise-tls-on.json", open.port);
    let (v, r) = verify(&[
        "--expect",
        &plain_obj,
        "--resolve",
        &resolve_open,
        "--cacert",
        &ca,
    ]);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "expect-client-auth"), "pass");

    // A certificate from another CA: client-policy (the object's trusted list) fails first.
    let other = testdata("client-other-ca.pem");
    let other_key = testdata("client-other-ca.key");
    let mut args = base.to_vec();
    args.extend(["--cacert", &ca, "--cert", &other, "--key", &other_key]);
    let (v, r) = verify(&args);
    assert_eq!(r.code, 1);
    assert_eq!(status(&v, "client-policy"), "fail", "{}", steps(&v));
}

#[test]
fn rds_ssl_option_on_postgresql() {
    let pw = "rds-pg-secret";
    let ssl = PostgresServer::start(PgOpts {
        ssl: true,
        hba: Hba::HostSslOnly,
        password: Some(pw),
    });
    let off = PostgresServer::start(PgOpts {
        ssl: false,
        hba: Hba::HostAny,
        password: Some(pw),
    });
    let on = expect_file("rds-ssl-on.json");
    let no = expect_file("rds-ssl-off.json");
    let url = |port: u16| format!("postgres://app:{pw}@localhost:{port}/app");

    let (v, r) = verify(&["--expect", &on, "--cacert", &ca(), &url(ssl.port)]);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "expect-tls"), "pass");
    assert_eq!(status(&v, "expect-plaintext"), "pass", "{}", steps(&v));
    let (v, r) = verify(&["--expect", &on, "--cacert", &ca(), &url(off.port)]);
    assert_eq!(r.code, 1);
    assert!(
        message(&v, "expect-tls").starts_with("ssl_option: true ("),
        "{}",
        message(&v, "expect-tls")
    );
    assert!(message(&v, "expect-tls").contains("SSL is off"));

    let (v, r) = verify(&["--expect", &no, &url(off.port)]);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "expect-tls"), "pass");
    assert_eq!(status(&v, "tls-handshake"), "skip");
    assert_eq!(status(&v, "auth"), "pass", "{}", steps(&v));
    assert_eq!(v["ping"]["reply"], "1");
    let (v, r) = verify(&["--expect", &no, "--cacert", &ca(), &url(ssl.port)]);
    assert_eq!(r.code, 1);
    assert_eq!(status(&v, "expect-tls"), "fail");
    assert!(message(&v, "expect-tls").starts_with("ssl_option: false ("));
    for out in [&r.stdout, &r.stderr] {
        assert!(!out.contains(pw));
    }
}

#[test]
fn rds_ssl_option_on_mariadb() {
    let pw = "rds-my-secret";
    let ssl = MariaDbServer::start(MyOpts {
        ssl: true,
        require_secure_transport: true,
        password: Some(pw),
    });
    let off = MariaDbServer::start(MyOpts {
        ssl: false,
        require_secure_transport: false,
        password: Some(pw),
    });
    let on = expect_file("rds-ssl-on.json");
    let no = expect_file("rds-ssl-off.json");
    let url = |port: u16| format!("mysql://app:{pw}@localhost:{port}/app");

    let (v, r) = verify(&["--expect", &on, "--cacert", &ca(), &url(ssl.port)]);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "expect-tls"), "pass");
    let (v, r) = verify(&["--expect", &on, "--cacert", &ca(), &url(off.port)]);
    assert_eq!(r.code, 1);
    assert!(message(&v, "expect-tls").starts_with("ssl_option: true ("));

    let (v, r) = verify(&["--expect", &no, &url(off.port)]);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "auth"), "pass", "{}", steps(&v));
    assert_eq!(v["ping"]["reply"], "1");
    let (v, r) = verify(&["--expect", &no, "--cacert", &ca(), &url(ssl.port)]);
    assert_eq!(r.code, 1);
    assert_eq!(status(&v, "expect-tls"), "fail", "{}", steps(&v));
    assert!(!r.stdout.contains(pw) && !r.stderr.contains(pw));
}

#[test]
fn tlsprobe_own_format_toml_and_json() {
    let mtls = tls_redis("yes");
    let f = expect_file("tlsprobe-mtls.toml");
    let target = format!("localhost:{}", mtls.port);
    let cert = testdata("client-chain.pem");
    let key = testdata("client.key");
    let (v, r) = verify(&[
        "--expect",
        &f,
        "--cacert",
        &ca(),
        "--cert",
        &cert,
        "--key",
        &key,
        &target,
    ]);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert!(message(&v, "expect-client-auth").starts_with("client_auth: \"required\""));
    let open = tls_redis("no");
    let (v, r) = verify(&[
        "--expect",
        &f,
        "--cacert",
        &ca(),
        "--cert",
        &cert,
        "--key",
        &key,
        &format!("localhost:{}", open.port),
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(status(&v, "expect-client-auth"), "fail");

    let plain = plain_redis();
    let f = expect_file("tlsprobe-plaintext.json");
    let (v, r) = verify(&["--expect", &f, &format!("localhost:{}", plain.port)]);
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "expect-plaintext"), "pass");
}

#[test]
fn state_other_than_active_fails() {
    let dir = tempfile::tempdir().unwrap();
    let tls = tls_redis("no");
    let (v, r) = upstash(&dir, "upstash-suspended.json", tls.port, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(status(&v, "expect-state"), "fail");
    assert!(message(&v, "expect-state").starts_with("state: \"suspended\""));
    assert_eq!(status(&v, "expect-tls"), "pass");
}

#[test]
fn stdin_and_human_output_keep_secrets() {
    let tls = tls_redis("no");
    let target = format!("localhost:{}", tls.port);
    for obj in ["upstash-tls-on.json", "redis-enterprise-mtls.json"] {
        let text = std::fs::read(expect_file(obj)).unwrap();
        let mut child = tlsprobe()
            .args(["verify", "--expect", "-", "--cacert", &ca(), &target])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&text).unwrap();
        let o = child.wait_with_output().unwrap();
        let r = Run {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            code: o.status.code().unwrap_or(-1),
        };
        no_secrets(&r);
        assert!(
            r.stdout.contains("expect-tls") && r.stdout.contains("(stdin)"),
            "{}",
            r.stdout
        );
        assert_eq!(r.code, 1, "{}", r.stdout); // the endpoint is not localhost
    }
}

#[test]
fn bad_objects_are_input_errors_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            r#"{"database_id":"x","tls":"yes","password":"upstash-password-canary-7f3a"}"#,
            "tls: expected true or false, found a string",
        ),
        (
            r#"{"enabled":true,"ssl_option":false}"#,
            "both `enabled` and `ssl_option`",
        ),
        (
            r#"{"job_id":"ff80","instance_id":"5560"}"#,
            "no field tlsprobe recognises",
        ),
        (r#"{"tls_mode":"on"}"#, "tls_mode"),
        (
            r#"{"password":"upstash-password-canary-7f3a", "tls": tru"#,
            "JSON syntax error at line 1",
        ),
        (
            r#"{"database_id":"x","tls":true,"endpoint":"a","port":0}"#,
            "port: 0 is not a port number",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let f = write_file(dir.path(), &format!("bad{i}.json"), text);
        let r = run_text(&["verify", "--expect", &f, "localhost:1"]);
        assert_eq!(r.code, 2, "{text}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{text}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        no_secrets(&r);
    }
    let r = run_text(&[
        "verify",
        "--expect",
        &expect_file("rds-ssl-on.json"),
        "localhost:1",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("postgres:// or mysql://"), "{}", r.stderr);
    let r = run_text(&[
        "verify",
        "--expect",
        &expect_file("upstash-tls-on.json"),
        "postgres://localhost:1",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("describes a Redis database"),
        "{}",
        r.stderr
    );
    let r = run_text(&[
        "verify",
        "--resolve",
        "other.example.com:6379:127.0.0.1",
        "localhost:6379",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("does not match the target"),
        "{}",
        r.stderr
    );
    let r = run_text(&[
        "verify",
        "--resolve",
        "localhost:6379:not-an-ip",
        "localhost:6379",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not an IP address"), "{}", r.stderr);
}

#[test]
fn wait_retries_until_the_change_is_live() {
    // The API said TLS is on; the server restarts with TLS a moment later, on the same port.
    let plain = plain_redis();
    let port = plain.port;
    let f = expect_file("dcs-ssl-on.json");
    let swap = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        drop(plain);
        RedisServer::start_on(
            port,
            RedisOpts {
                tls: Some(("server-provider-chain.pem", "server-provider.key")),
                ..RedisOpts::default()
            },
        )
    });
    let target = format!("localhost:{port}");
    let (v, r) = verify(&[
        "--expect",
        &f,
        "--cacert",
        &ca(),
        "--wait",
        "60s",
        "--interval",
        "200ms",
        &target,
    ]);
    let _server = swap.join().unwrap();
    assert_eq!(r.code, 0, "{}", steps(&v));
    assert!(v["attempts"].as_u64().unwrap() > 1, "{v:#}");
    assert_eq!(status(&v, "expect-tls"), "pass");
}

#[test]
fn audit_inventory_expect_and_resolve_keys() {
    let dir = tempfile::tempdir().unwrap();
    let tls = tls_redis("no");
    let plain = plain_redis();
    let obj = with_port(&dir, "upstash-tls-on.json", tls.port);
    let inv = format!(
        "[[target]]\nid = \"upstash\"\nurl = \"rediss://{UPSTASH_HOST}:{p}\"\ncacert = \"{ca}\"\nexpect = \"{obj}\"\nresolve = \"{UPSTASH_HOST}:{p}:127.0.0.1\"\n\n\
         [[target]]\nid = \"dcs-off\"\nurl = \"redis://localhost:{pp}\"\nexpect = \"{off}\"\n",
        p = tls.port,
        ca = ca(),
        pp = plain.port,
        off = expect_file("dcs-ssl-off.json"),
    );
    let inv = write_file(dir.path(), "inv.toml", inv);
    let r = run_text(&["audit", "--format", "json", "--quiet", &inv]);
    no_secrets(&r);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    for t in v["targets"].as_array().unwrap() {
        assert_eq!(status(t, "expect-tls"), "pass", "{}", steps(t));
    }
    // The expectation holds, but the audit policy still wants TLS everywhere.
    let t = &v["targets"][1];
    assert_eq!(t["policy_findings"][0]["rule"], "tls-absent", "{t:#}");
    assert_eq!(v["targets"][0]["verdict"], "pass");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let bad = write_file(
        dir.path(),
        "bad.toml",
        format!(
            "[[target]]\nurl = \"localhost:1\"\nexpect = \"{}\"\n",
            expect_file("rds-ssl-on.json")
        ),
    );
    let r = run_text(&["audit", &bad]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("expect"), "{}", r.stderr);
}

//! `tlsprobe verify` against real PostgreSQL and MariaDB servers (STARTTLS inside the
//! database protocol), and `tls://` targets.

mod support;

use support::mysql::{MariaDbServer, MyOpts};
use support::postgres::{Hba, PgOpts, PostgresServer, CERT_USER};
use support::*;

const PW: &str = "sql-secret-pw";

fn pg(hba: Hba) -> PostgresServer {
    PostgresServer::start(PgOpts {
        ssl: true,
        hba,
        password: Some(PW),
    })
}

fn ca() -> String {
    testdata("serving-root.pem")
}

#[test]
fn postgres_good_tls_login_and_select_1() {
    let s = pg(Hba::HostSslOnly);
    let url = format!("postgres://app:{PW}@localhost:{}/app", s.port);
    let (v, code, stderr) =
        verify_json(&["--cacert", &ca(), "--expect-plaintext", "refused", &url]);
    assert_eq!(code, 0, "{v:#} {stderr}");
    assert_eq!(status(&v, "tls-handshake"), "pass");
    assert_eq!(status(&v, "chain-trust"), "pass");
    assert_eq!(status(&v, "auth"), "pass", "{}", message(&v, "auth"));
    assert_eq!(status(&v, "ping"), "pass");
    assert_eq!(v["ping"]["reply"], "1");
    assert!(v["tls"]["version"].as_str().unwrap().starts_with("TLS 1."));
    assert_eq!(status(&v, "plaintext-refused"), "pass");
    assert!(
        message(&v, "plaintext-refused").contains("no pg_hba.conf entry"),
        "{}",
        message(&v, "plaintext-refused")
    );
    assert!(message(&v, "plaintext-refused").contains("no encryption"));
    assert_eq!(
        v["target"],
        format!("postgres://app:***@localhost:{}/app", s.port)
    );
    assert!(!serde_json::to_string(&v).unwrap().contains(PW));
}

#[test]
fn postgres_failures_are_attributed() {
    let s = pg(Hba::HostSslOnly);
    // Wrong password: auth fails with the server's words, the password is never shown.
    let url = format!("postgres://app:not-the-{PW}@localhost:{}/app", s.port);
    let r = run_text(&["verify", "--cacert", &ca(), &url]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("28P01"), "{}", r.stdout);
    assert!(!r.stdout.contains(PW) && !r.stderr.contains(PW));

    // Wrong CA: chain-trust fails, credentials are withheld, the session still shows how
    // far an unauthenticated startup goes.
    let url = format!("postgres://app:{PW}@localhost:{}/app", s.port);
    let (v, code, _) = verify_json(&["--cacert", &testdata("other-root.pem"), &url]);
    assert_eq!(code, 1);
    assert_eq!(status(&v, "chain-trust"), "fail");
    assert_eq!(status(&v, "auth"), "skip");
    assert!(message(&v, "auth").contains("withheld"));
    assert_eq!(v["chain"].as_array().unwrap().len(), 2);

    // Wrong name.
    let (v, _, _) = verify_json(&["--cacert", &ca(), "--name", "db.example.com", &url]);
    assert_eq!(status(&v, "server-name"), "fail");
    assert_eq!(status(&v, "chain-trust"), "pass");

    // No credentials: as far as the protocol goes without a login.
    let (v, code, _) = verify_json(&[
        "--cacert",
        &ca(),
        &format!("postgres://app@localhost:{}/app", s.port),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(status(&v, "auth"), "skip");
    assert!(
        message(&v, "auth").contains("SCRAM-SHA-256"),
        "{}",
        message(&v, "auth")
    );
    assert_eq!(status(&v, "ping"), "pass");
    assert!(
        message(&v, "ping").contains("authentication request"),
        "{}",
        message(&v, "ping")
    );

    // --protocol for a host:port target.
    let (v, code, _) = verify_json(&[
        "--cacert",
        &ca(),
        "--protocol",
        "postgres",
        "--user",
        "app",
        &format!("localhost:{}", s.port),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(status(&v, "tls-handshake"), "pass");
}

#[test]
fn postgres_client_certificate_required() {
    let s = pg(Hba::ClientCertRequired);
    let url = format!("postgres://{CERT_USER}:{PW}@localhost:{}/app", s.port);
    let (v, code, _) = verify_json(&["--cacert", &ca(), &url]);
    assert_eq!(code, 1);
    assert_eq!(status(&v, "client-cert"), "fail", "{v:#}");
    assert!(
        message(&v, "client-cert").contains("connection requires a valid client certificate"),
        "{}",
        message(&v, "client-cert")
    );
    assert_ne!(
        status(&v, "auth"),
        "fail",
        "attributed to client-cert, not auth: {}",
        message(&v, "auth")
    );

    let (v, code, _) = verify_json(&[
        "--cacert",
        &ca(),
        "--cert",
        &testdata("client-chain.pem"),
        "--key",
        &testdata("client.key"),
        &url,
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(status(&v, "client-cert"), "pass");
    assert_eq!(v["ping"]["reply"], "1");
}

#[test]
fn postgres_ssl_off_and_plaintext_allowed() {
    let off = PostgresServer::start(PgOpts {
        ssl: false,
        hba: Hba::HostAny,
        password: Some(PW),
    });
    let (v, code, _) = verify_json(&[
        "--cacert",
        &ca(),
        &format!("postgres://app:{PW}@localhost:{}/app", off.port),
    ]);
    assert_eq!(code, 1);
    assert_eq!(status(&v, "tls-handshake"), "fail");
    assert!(
        message(&v, "tls-handshake").contains("SSL is off"),
        "{}",
        message(&v, "tls-handshake")
    );
    assert_eq!(status(&v, "auth"), "skip");

    let any = pg(Hba::HostAny);
    let url = format!("postgres://app:{PW}@localhost:{}/app", any.port);
    let (v, code, _) = verify_json(&["--cacert", &ca(), "--expect-plaintext", "refused", &url]);
    assert_eq!(code, 1);
    assert_eq!(status(&v, "plaintext-refused"), "fail");
    assert!(
        message(&v, "plaintext-refused").contains("SCRAM"),
        "{}",
        message(&v, "plaintext-refused")
    );
    let (v, code, _) = verify_json(&["--cacert", &ca(), "--expect-plaintext", "allowed", &url]);
    assert_eq!(code, 0);
    assert_eq!(status(&v, "plaintext-refused"), "pass");
}

#[test]
fn mysql_tls_login_and_failures() {
    let s = MariaDbServer::start(MyOpts {
        ssl: true,
        require_secure_transport: true,
        password: Some(PW),
    });
    let url = format!("mysql://app:{PW}@localhost:{}/app", s.port);
    let (v, code, _) = verify_json(&["--cacert", &ca(), "--expect-plaintext", "refused", &url]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(status(&v, "auth"), "pass");
    assert_eq!(v["ping"]["reply"], "1");
    // MariaDB answers a plaintext login for an unknown user the same way with or without
    // require_secure_transport: the step says it cannot tell, as a warning.
    assert_eq!(
        status(&v, "plaintext-refused"),
        "warn",
        "{}",
        message(&v, "plaintext-refused")
    );
    assert!(message(&v, "plaintext-refused").contains("1045"));

    let bad = format!("mysql://app:wrong-{PW}@localhost:{}/app", s.port);
    let r = run_text(&["verify", "--cacert", &ca(), &bad]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("1045"), "{}", r.stdout);
    assert!(!r.stdout.contains(PW) && !r.stderr.contains(PW));

    let (v, code, _) = verify_json(&["--cacert", &testdata("other-root.pem"), &url]);
    assert_eq!(code, 1);
    assert_eq!(status(&v, "chain-trust"), "fail");
    assert!(message(&v, "auth").contains("withheld"));

    // Without credentials: a dummy login over TLS shows the session works.
    let (v, code, _) = verify_json(&["--cacert", &ca(), &format!("mysql://localhost:{}", s.port)]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(status(&v, "ping"), "pass");
    assert!(
        message(&v, "ping").contains("dummy user"),
        "{}",
        message(&v, "ping")
    );
}

#[test]
fn mysql_without_ssl_fails_the_handshake_by_name() {
    let s = MariaDbServer::start(MyOpts {
        ssl: false,
        require_secure_transport: false,
        password: Some(PW),
    });
    let (v, code, _) = verify_json(&[
        "--cacert",
        &ca(),
        "--expect-plaintext",
        "refused",
        &format!("mysql://app:{PW}@localhost:{}/app", s.port),
    ]);
    assert_eq!(code, 1);
    assert_eq!(status(&v, "tls-handshake"), "fail");
    assert!(
        message(&v, "tls-handshake").contains("CLIENT_SSL"),
        "{}",
        message(&v, "tls-handshake")
    );
    assert_eq!(
        status(&v, "plaintext-refused"),
        "fail",
        "{}",
        message(&v, "plaintext-refused")
    );
}

#[test]
fn tls_targets_catch_tls13_client_certificate_rejections() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        auth_clients: Some("yes"),
        ..Default::default()
    });
    let url = format!("tls://localhost:{}", r.port);
    let (v, code, _) = verify_json(&["--cacert", &ca(), &url]);
    assert_eq!(code, 1);
    assert_eq!(status(&v, "client-cert"), "fail");
    assert_eq!(status(&v, "auth"), "skip");
    let (v, code, _) = verify_json(&[
        "--cacert",
        &ca(),
        "--cert",
        &testdata("client-chain.pem"),
        "--key",
        &testdata("client.key"),
        &url,
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(status(&v, "client-cert"), "pass");
    // tls:// needs a port; --protocol must not contradict an explicit scheme.
    assert_eq!(run_text(&["verify", "tls://localhost"]).code, 2);
    assert_eq!(run_text(&["verify", "--protocol", "mysql", &url]).code, 2);
}

#[test]
fn sql_targets_in_an_audit_inventory() {
    let p = pg(Hba::HostSslOnly);
    let m = MariaDbServer::start(MyOpts {
        ssl: true,
        require_secure_transport: true,
        password: Some(PW),
    });
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.toml");
    std::fs::write(
        &inv,
        format!(
            "[defaults]\ncacert = \"{}\"\npass_env = \"SQL_PW\"\n\n[[target]]\nid = \"pg\"\nurl = \"postgres://app@localhost:{}/app\"\n\n[[target]]\nid = \"maria\"\nurl = \"mysql://app@localhost:{}/app\"\n\n[[target]]\nid = \"pg-by-protocol\"\nurl = \"localhost:{}\"\nprotocol = \"postgres\"\nuser = \"app\"\n",
            ca(),
            p.port,
            m.port,
            p.port
        ),
    )
    .unwrap();
    let out = tlsprobe()
        .args(["audit", "--format", "json", inv.to_str().unwrap()])
        .env("SQL_PW", PW)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for t in v["targets"].as_array().unwrap() {
        assert_eq!(t["verdict"], "pass", "{t:#}");
        assert_eq!(t["ping"]["reply"], "1", "{t:#}");
    }
    assert!(!stdout.contains(PW));
}

//! Query-string parameters of database URLs, as cloud consoles print them: libpq's for
//! `postgres://` and MySQL's URI syntax for `mysql://`, against real PostgreSQL and
//! MariaDB servers and compared with psql and the mariadb client on the same URLs.

mod support;

use std::process::Command;

use support::mysql::{MariaDbServer, MyOpts};
use support::postgres::{Hba, PgOpts, PostgresServer, CERT_USER};
use support::*;

const PW: &str = "url-params-pw";

/// The client key copied with mode 0600: libpq refuses a key others can read.
fn private_key_copy(dir: &std::path::Path) -> String {
    let p = dir.join("client.key");
    std::fs::copy(testdata("client.key"), &p).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p.display().to_string()
}

fn psql_select_1(url: &str) -> (bool, String) {
    let o = Command::new("psql")
        .args([url, "-XAtc", "select 1"])
        .env_remove("PGSSLMODE")
        .output()
        .expect("psql");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).trim().to_string() + &String::from_utf8_lossy(&o.stderr),
    )
}

#[test]
fn libpq_url_parameters_drive_the_verification() {
    let s = PostgresServer::start(PgOpts {
        ssl: true,
        hba: Hba::ClientCertRequired,
        password: Some(PW),
    });
    let dir = tempfile::tempdir().unwrap();
    let key = private_key_copy(dir.path());
    let url = format!(
        "postgres://{CERT_USER}:{PW}@localhost:{}/app?sslmode=verify-full&sslrootcert={}&sslcert={}&sslkey={key}&application_name=tlsprobe-test&connect_timeout=5",
        s.port,
        testdata("serving-root.pem"),
        testdata("client-chain.pem"),
    );
    let (ok, out) = psql_select_1(&url);
    assert!(ok && out.starts_with('1'), "psql: {out}");
    // No flag at all: the trust anchor and the client identity come from the URL.
    let (v, code, stderr) = verify_json(&[&url]);
    assert_eq!(code, 0, "{}\n{stderr}", steps(&v));
    assert_eq!(status(&v, "client-cert"), "pass", "{}", steps(&v));
    assert!(
        message(&v, "chain-trust").contains("serving-root.pem"),
        "{}",
        steps(&v)
    );
    assert!(!stderr.contains("asks for less"), "{stderr}");
    assert!(!format!("{v}{stderr}").contains(PW));

    // sslsni=0: no SNI is sent.
    let (v, code, _) = verify_json(&[&format!("{url}&sslsni=0")]);
    assert_eq!(code, 0, "{}", steps(&v));
    assert!(v["tls"]["sni"].is_null(), "{:#}", v["tls"]);
}

#[test]
fn weaker_sslmode_still_gets_every_check_said_once() {
    let s = PostgresServer::start(PgOpts {
        ssl: true,
        hba: Hba::HostSslOnly,
        password: Some(PW),
    });
    let url = format!(
        "postgres://app:{PW}@localhost:{}/app?sslmode=require",
        s.port
    );
    // psql with sslmode=require does not check the certificate at all and logs in.
    let (ok, out) = psql_select_1(&url);
    assert!(ok, "psql: {out}");
    // tlsprobe still judges trust: the Mozilla roots do not include the test root.
    let (v, code, stderr) = verify_json(&[&url]);
    assert_eq!(code, 1, "{}", steps(&v));
    assert_eq!(status(&v, "chain-trust"), "fail", "{}", steps(&v));
    assert_eq!(
        stderr.matches("sslmode=require asks for less").count(),
        1,
        "{stderr}"
    );
    // With the right root from the URL, the same mode passes, still with the one warning.
    let url = format!("{url}&sslrootcert={}", testdata("serving-root.pem"));
    let (v, code, stderr) = verify_json(&[&url]);
    assert_eq!(code, 0, "{}", steps(&v));
    assert_eq!(stderr.matches("asks for less").count(), 1, "{stderr}");
}

#[test]
fn unknown_parameters_are_input_errors() {
    for (url, wanted) in [
        ("postgres://app@localhost:1/app?sslmode=bogus", "sslmode"),
        (
            "postgres://app@localhost:1/app?gssencmode=disable",
            "\"gssencmode\"",
        ),
        (
            "postgres://app@localhost:1/app?password=Hunter2Secret",
            "\"password\"",
        ),
        (
            "postgres://app@localhost:1/app?connect_timeout=soon",
            "connect_timeout",
        ),
        ("mysql://app@localhost:1/app?sslmode=require", "\"sslmode\""),
        ("rediss://localhost:1?sslmode=require", "query strings"),
    ] {
        let r = run_text(&["verify", url]);
        assert_eq!(r.code, 2, "{url}: {}", r.stderr);
        assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
        assert!(
            r.stderr.contains(wanted),
            "{url}: {wanted} not in {}",
            r.stderr
        );
        assert!(!r.stderr.contains("Hunter2Secret"), "{}", r.stderr);
    }
}

#[test]
fn mysql_uri_ssl_parameters() {
    let s = MariaDbServer::start(MyOpts {
        ssl: true,
        require_secure_transport: true,
        password: Some(PW),
    });
    let root = testdata("serving-root.pem");
    // The mariadb client with the same CA, verifying the server's certificate.
    let o = Command::new("mariadb")
        .args([
            "--protocol=TCP",
            "-h",
            "localhost",
            "-P",
            &s.port.to_string(),
        ])
        .args(["-u", "app", &format!("-p{PW}"), "--ssl-ca", &root])
        .args(["--ssl-verify-server-cert", "-N", "-e", "select 1", "app"])
        .output()
        .expect("mariadb");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let url = format!(
        "mysql://app:{PW}@localhost:{}/app?ssl-mode=VERIFY_IDENTITY&ssl-ca={root}",
        s.port
    );
    let (v, code, stderr) = verify_json(&[&url]);
    assert_eq!(code, 0, "{}\n{stderr}", steps(&v));
    assert_eq!(status(&v, "auth"), "pass", "{}", steps(&v));
    assert!(!stderr.contains("asks for less"), "{stderr}");
    let url = format!(
        "mysql://app:{PW}@localhost:{}/app?ssl-mode=REQUIRED&ssl-ca={root}",
        s.port
    );
    let (v, code, stderr) = verify_json(&[&url]);
    assert_eq!(code, 0, "{}", steps(&v));
    assert_eq!(
        stderr.matches("ssl-mode=REQUIRED asks for less").count(),
        1,
        "{stderr}"
    );
}

/// `sslmode=disable` / `ssl-mode=DISABLED`: a plaintext target, verified as psql and the
/// mariadb client would connect, and reported as TLS absent.
#[test]
fn sslmode_disable_is_a_plaintext_target() {
    let pg = PostgresServer::start(PgOpts {
        ssl: true,
        hba: Hba::HostAny,
        password: Some(PW),
    });
    let url = format!(
        "postgres://app:{PW}@localhost:{}/app?sslmode=disable",
        pg.port
    );
    let (ok, out) = psql_select_1(&url);
    assert!(ok, "psql: {out}");
    let (v, code, stderr) = verify_json(&[&url]);
    assert_eq!(code, 0, "{} {stderr}", steps(&v));
    assert_eq!(v["tls"], serde_json::Value::Null);
    assert_eq!(status(&v, "tls-handshake"), "skip");
    assert_eq!(status(&v, "auth"), "pass", "{}", message(&v, "auth"));
    assert_eq!(status(&v, "ping"), "pass");
    assert_eq!(v["ping"]["reply"], "1");
    assert!(v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["check"] != "plaintext-refused"));
    assert!(!serde_json::to_string(&v).unwrap().contains(PW));

    // A server that only allows hostssl refuses the plaintext login, as it does psql.
    let ssl_only = PostgresServer::start(PgOpts {
        ssl: true,
        hba: Hba::HostSslOnly,
        password: Some(PW),
    });
    let url = format!(
        "postgres://app:{PW}@localhost:{}/app?sslmode=disable",
        ssl_only.port
    );
    let (ok, out) = psql_select_1(&url);
    assert!(!ok && out.contains("no encryption"), "psql: {out}");
    let (v, code, _) = verify_json(&[&url]);
    assert_eq!(code, 1, "{}", steps(&v));
    assert_eq!(status(&v, "auth"), "fail");
    assert!(
        message(&v, "auth").contains("no encryption"),
        "{}",
        message(&v, "auth")
    );

    // MariaDB without require_secure_transport, ssl-mode=DISABLED.
    let my = MariaDbServer::start(MyOpts {
        ssl: true,
        require_secure_transport: false,
        password: Some(PW),
    });
    let url = format!(
        "mysql://app:{PW}@localhost:{}/app?ssl-mode=DISABLED",
        my.port
    );
    let (v, code, stderr) = verify_json(&[&url]);
    assert_eq!(code, 0, "{} {stderr}", steps(&v));
    assert_eq!(v["tls"], serde_json::Value::Null);
    assert_eq!(status(&v, "ping"), "pass", "{}", message(&v, "ping"));
}

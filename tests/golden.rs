//! Golden outputs: what users see, pinned.
//!
//! A representative set of runs (every subcommand, pass and fail paths, every audit format)
//! against real servers, with the volatile parts masked (ports, milliseconds, dates of the
//! run). Each run's stdout, stderr and exit code are compared with `tests/golden/NAME.txt`.
//! A change to any of them is either a bug or a deliberate change of output: regenerate
//! with `UPDATE_GOLDEN=1 cargo test --test golden` and review the diff.

mod support;

use std::fmt::Write as _;
use std::path::PathBuf;

use support::mysql::{MariaDbServer, MyOpts};
use support::postgres::{Hba, PgOpts, PostgresServer};
use support::*;

const PW: &str = "golden-secret-pw";
/// Every run is judged at this time, so that days left and expiry verdicts are stable.
const AT: &str = "2026-06-01T00:00:00Z";

/// Masks what changes from run to run: ports, timings, the wall-clock time of audits.
fn mask(s: &str, ports: &[u16]) -> String {
    let mut out = s.to_string();
    let mut sorted: Vec<u16> = ports.to_vec();
    // Longest first, so that port 6380 is not masked inside 63801.
    sorted.sort_by_key(|p| std::cmp::Reverse(p.to_string().len()));
    for (i, p) in sorted.iter().enumerate() {
        out = replace_port(&out, *p, &format!("PORT{i}"));
    }
    let ms = regex::Regex::new(r"\b\d+(\.\d+)? ?ms\b").unwrap();
    out = ms.replace_all(&out, "N ms").into_owned();
    let json_ms =
        regex::Regex::new(r#""(ms|handshake_seconds|duration_seconds)":\s*[0-9.e-]+"#).unwrap();
    out = json_ms.replace_all(&out, "\"$1\": N").into_owned();
    let prom_secs = regex::Regex::new(
        r"((?:tlsprobe_handshake_seconds|probe_duration_seconds)\{[^}]*\}) [0-9.e-]+",
    )
    .unwrap();
    out = prom_secs.replace_all(&out, "$1 N").into_owned();
    let junit_time = regex::Regex::new(r#"time="[0-9.]+""#).unwrap();
    out = junit_time.replace_all(&out, "time=\"N\"").into_owned();
    let generated = regex::Regex::new(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z").unwrap();
    out = generated
        .replace_all(&out, |c: &regex::Captures| {
            let t = &c[0];
            // Fixture dates (2024..2125) and the evaluation time stay; the run's own clock
            // is masked.
            if t.starts_with("2026-06-01T00:00:00") || !t.starts_with("2026-") {
                t.to_string()
            } else {
                "NOW".to_string()
            }
        })
        .into_owned();
    let td = testdata("");
    out.replace(td.trim_end_matches('/'), "TESTDATA")
}

fn replace_port(s: &str, port: u16, with: &str) -> String {
    let p = port.to_string();
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(&p) {
        let before = rest[..i].chars().last();
        let after = rest[i + p.len()..].chars().next();
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        out.push_str(&rest[..i]);
        if digit(before) || digit(after) {
            out.push_str(&p);
        } else {
            out.push_str(with);
        }
        rest = &rest[i + p.len()..];
    }
    out.push_str(rest);
    out
}

struct Golden {
    ports: Vec<u16>,
    failures: Vec<String>,
    dir: tempfile::TempDir,
}

impl Golden {
    fn new() -> Golden {
        Golden {
            ports: vec![],
            failures: vec![],
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs `tlsprobe ARGS` and compares the masked result with `tests/golden/NAME.txt`.
    fn check(&mut self, name: &str, args: &[&str]) {
        let o = tlsprobe()
            .args(args)
            .env_remove("REDISCLI_AUTH")
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        let mut got = String::new();
        let _ = writeln!(got, "exit {}", o.status.code().unwrap_or(-1));
        let _ = writeln!(got, "--- stdout");
        got.push_str(&String::from_utf8_lossy(&o.stdout));
        let _ = writeln!(got, "--- stderr");
        got.push_str(&String::from_utf8_lossy(&o.stderr));
        let got = mask(&got, &self.ports).replace(&self.dir.path().display().to_string(), "TMP");
        assert!(!got.contains(PW), "{name}: the password is in the output");
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("{name}.txt"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &got).unwrap();
            return;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != got {
            self.failures.push(format!(
                "{name}: output differs from {}\n--- want\n{want}\n--- got\n{got}",
                path.display()
            ));
        }
    }

    fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{} golden outputs differ (UPDATE_GOLDEN=1 regenerates them):\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

#[test]
fn offline_subcommands() {
    let mut g = Golden::new();
    let td = |n: &str| testdata(n);
    for (name, file) in [
        ("inspect-redis-ca", "redis_ca.pem"),
        ("inspect-mixed", "mixed-blocks.pem"),
        ("inspect-weak", "rsa1024.pem"),
        ("inspect-sha1", "sha1.pem"),
    ] {
        g.check(name, &["inspect", "--at", AT, &td(file)]);
        g.check(
            &format!("{name}-json"),
            &["inspect", "--format", "json", "--at", AT, &td(file)],
        );
    }
    g.check("inspect-missing", &["inspect", "/nonexistent/x.pem"]);
    g.check(
        "inspect-fail-on-warn",
        &[
            "inspect",
            "--at",
            AT,
            "--fail-on",
            "warn",
            &td("bundle-duplicates.pem"),
        ],
    );

    let chain_ok = [
        "chain",
        "--at",
        AT,
        "--cacert",
        &td("serving-root.pem"),
        "--name",
        "localhost",
        &td("server-chain.pem"),
    ];
    g.check("chain-ok", &chain_ok);
    let mut json = chain_ok.to_vec();
    json.insert(1, "--format");
    json.insert(2, "json");
    g.check("chain-ok-json", &json);
    g.check(
        "chain-unknown-issuer",
        &[
            "chain",
            "--at",
            AT,
            "--cacert",
            &td("other-root.pem"),
            &td("server-chain.pem"),
        ],
    );
    g.check(
        "chain-expired-json",
        &[
            "chain",
            "--format",
            "json",
            "--at",
            AT,
            "--cacert",
            &td("serving-root.pem"),
            &td("server-expired-chain.pem"),
        ],
    );
    g.check(
        "chain-strict",
        &[
            "chain",
            "--strict",
            "--at",
            AT,
            "--cacert",
            &td("serving-root.pem"),
            &td("server-chain.pem"),
        ],
    );

    let mtls_ok = [
        "mtls",
        "--at",
        AT,
        "--trusted",
        &td("serving-root.pem"),
        "--cert",
        &td("client-chain.pem"),
        "--validation",
        "subject",
        "--authorized-subject",
        "CN=redis_user,O=Acme,OU=Ops,OU=Dev",
    ];
    g.check("mtls-accepted", &mtls_ok);
    let mut json = mtls_ok.to_vec();
    json.insert(1, "--format");
    json.insert(2, "json");
    g.check("mtls-accepted-json", &json);
    g.check(
        "mtls-rejected-case",
        &[
            "mtls",
            "--at",
            AT,
            "--trusted",
            &td("serving-root.pem"),
            "--cert",
            &td("client-chain.pem"),
            "--validation",
            "subject",
            "--authorized-subject",
            "CN=redis_user,O=Acme,OU=ops,OU=Dev",
        ],
    );
    g.check(
        "mtls-expired-json",
        &[
            "mtls",
            "--format",
            "json",
            "--at",
            AT,
            "--trusted",
            &td("serving-root.pem"),
            "--cert",
            &td("client-expired.pem"),
        ],
    );
    g.check("verify-bad-url", &["verify", "rediss://:pw@/x"]);
    g.check(
        "verify-bad-flag",
        &["verify", "--timeout", "soon", "localhost"],
    );
    g.finish();
}

#[test]
fn redis_verify_and_audit() {
    let mut g = Golden::new();
    let mtls = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        auth_clients: Some("yes"),
        requirepass: Some(PW),
        ..Default::default()
    });
    let expired = RedisServer::start(RedisOpts {
        tls: Some(("server-expired-chain.pem", "server-expired.key")),
        ..Default::default()
    });
    let plain = RedisServer::start(RedisOpts::default());
    let dead = free_port();
    g.ports = vec![mtls.port, expired.port, plain.port, dead];
    let pass_file = write_file(g.dir.path(), "pass", PW);
    let td = |n: &str| testdata(n);
    let url = mtls.url();
    let full = [
        "verify",
        "--at",
        AT,
        "--cacert",
        &td("redis_ca.pem"),
        "--cert",
        &td("client-chain.pem"),
        "--key",
        &td("client.key"),
        "--pass-file",
        &pass_file,
        "--expect-plaintext",
        "refused",
        &url,
    ];
    g.check("verify-mtls-pass", &full);
    let mut json = full.to_vec();
    json.insert(1, "--format");
    json.insert(2, "json");
    g.check("verify-mtls-pass-json", &json);
    g.check(
        "verify-first-only",
        &[
            "verify",
            "--at",
            AT,
            "--cacert",
            &td("serving-root-first.pem"),
            "--cert",
            &td("client-chain.pem"),
            "--key",
            &td("client.key"),
            "--pass-file",
            &pass_file,
            &url,
        ],
    );
    g.check(
        "verify-no-client-cert",
        &[
            "verify",
            "--at",
            AT,
            "--cacert",
            &td("serving-root.pem"),
            "--pass-file",
            &pass_file,
            &url,
        ],
    );
    g.check(
        "verify-expired-json",
        &[
            "verify",
            "--format",
            "json",
            "--at",
            AT,
            "--cacert",
            &td("serving-root.pem"),
            &expired.url(),
        ],
    );
    g.check(
        "verify-plaintext-target",
        &["verify", "--at", AT, &plain.plain_url()],
    );
    g.check(
        "verify-rediss-to-plaintext",
        &[
            "verify",
            "--at",
            AT,
            "--cacert",
            &td("serving-root.pem"),
            &format!("rediss://localhost:{}", plain.port),
        ],
    );
    g.check(
        "verify-dead-port",
        &[
            "verify",
            "--at",
            AT,
            "--timeout",
            "2s",
            &format!("rediss://localhost:{dead}"),
        ],
    );

    let inv = format!(
        r#"
[defaults]
cacert = "{td}/redis_ca.pem"
cert = "{td}/client-chain.pem"
key = "{td}/client.key"
pass_file = "{pass_file}"
timeout = "2s"

[[target]]
id = "good"
url = "rediss://localhost:{}"
expect_plaintext = "refused"

[[target]]
id = "expired"
url = "rediss://localhost:{}"

[[target]]
id = "plaintext"
url = "redis://localhost:{}"

[[target]]
id = "dead"
url = "rediss://localhost:{dead}"

[[bundle]]
id = "redis_ca"
path = "{td}/redis_ca.pem"

[[bundle]]
id = "weak"
path = "{td}/rsa1024.pem"

[policy]
require_client_auth = true
"#,
        mtls.port,
        expired.port,
        plain.port,
        td = td("").trim_end_matches('/'),
    );
    let inv_path = write_file(g.dir.path(), "inventory.toml", &inv);
    for format in ["human", "json", "jsonl", "junit", "markdown", "prometheus"] {
        g.check(
            &format!("audit-{format}"),
            &[
                "audit",
                "-q",
                "--concurrency",
                "1",
                "--at",
                AT,
                "--format",
                format,
                &inv_path,
            ],
        );
    }
    g.finish();
}

#[test]
fn sql_verify() {
    let mut g = Golden::new();
    let pg = PostgresServer::start(PgOpts {
        ssl: true,
        hba: Hba::HostSslOnly,
        password: Some(PW),
    });
    let my = MariaDbServer::start(MyOpts {
        ssl: true,
        require_secure_transport: true,
        password: Some(PW),
    });
    g.ports = vec![pg.port, my.port];
    let ca = testdata("serving-root.pem");
    let pg_url = format!("postgres://app:{PW}@localhost:{}/app", pg.port);
    g.check(
        "postgres-pass",
        &[
            "verify",
            "--at",
            AT,
            "--cacert",
            &ca,
            "--expect-plaintext",
            "refused",
            &pg_url,
        ],
    );
    g.check(
        "postgres-wrong-password-json",
        &[
            "verify",
            "--format",
            "json",
            "--at",
            AT,
            "--cacert",
            &ca,
            &format!("postgres://app:not-{PW}@localhost:{}/app", pg.port),
        ],
    );
    let my_url = my.url(Some(&format!("app:{PW}")));
    g.check(
        "mysql-pass",
        &[
            "verify",
            "--at",
            AT,
            "--cacert",
            &ca,
            "--expect-plaintext",
            "refused",
            &my_url,
        ],
    );
    g.check(
        "mysql-no-db-json",
        &[
            "verify",
            "--format",
            "json",
            "--at",
            AT,
            "--cacert",
            &ca,
            &my_url.replace("/app", "/nosuchdb"),
        ],
    );
    g.finish();
}

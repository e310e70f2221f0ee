//! `tlsprobe audit` against a fleet of real local redis-servers and bundles.

mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use support::*;

/// Writes an inventory into a temp dir (paths relative to testdata via an absolute prefix).
fn inventory(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

fn tls(cert: &'static str, key: &'static str) -> RedisOpts {
    RedisOpts {
        tls: Some((cert, key)),
        ..Default::default()
    }
}

struct Fleet {
    _servers: Vec<RedisServer>,
    _silent: SilentListener,
    text: String,
}

/// good, expired, wrong name, no mTLS, plaintext allowed, dead port, never answers; bundles.
fn fleet(policy: &str) -> Fleet {
    let good = RedisServer::start(RedisOpts {
        auth_clients: Some("yes"),
        ..tls("server-chain.pem", "server.key")
    });
    let expired = RedisServer::start(tls("server-expired-chain.pem", "server-expired.key"));
    let wrong = RedisServer::start(tls("server-wrong-name-chain.pem", "server-wrong-name.key"));
    let no_mtls = RedisServer::start(tls("server-chain.pem", "server.key"));
    let plain_too = RedisServer::start(RedisOpts {
        plaintext_too: true,
        ..tls("server-chain.pem", "server.key")
    });
    let silent = SilentListener::start();
    let dead = free_port();
    let td = testdata("");
    let text = format!(
        r#"
[defaults]
cacert = "{td}/redis_ca.pem"
cert = "{td}/client-chain.pem"
key = "{td}/client.key"
timeout = "1s"

[[target]]
id = "good"
url = "rediss://localhost:{}"

[[target]]
id = "expired"
url = "rediss://localhost:{}"

[[target]]
id = "wrong-name"
url = "rediss://localhost:{}"

[[target]]
id = "no-mtls"
url = "rediss://localhost:{}"

[[target]]
id = "plaintext-allowed"
url = "rediss://localhost:{}"
expect_plaintext = "refused"

[[target]]
id = "dead"
url = "rediss://localhost:{dead}"

[[target]]
id = "silent"
url = "rediss://localhost:{}"

[[bundle]]
id = "redis_ca"
path = "{td}/redis_ca.pem"

[[bundle]]
id = "weak"
path = "{td}/rsa1024.pem"

{policy}
"#,
        good.port,
        expired.port,
        wrong.port,
        no_mtls.port,
        plain_too.plain_port.unwrap(),
        silent.port
    );
    Fleet {
        _servers: vec![good, expired, wrong, no_mtls, plain_too],
        _silent: silent,
        text,
    }
}

fn target<'a>(v: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no target {id}"))
}

fn rules_of(v: &serde_json::Value, id: &str) -> Vec<String> {
    v["policy_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"] == id)
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn fleet_verdicts_rules_and_every_report_format() {
    let f = fleet("[policy]\nrequire_client_auth = true\nrequire_plaintext_refused = true\n");
    let (dir, inv) = inventory(&f.text);
    let junit = dir.path().join("audit.xml");
    let prom = dir.path().join("audit.prom");
    let md = dir.path().join("audit.md");
    let jsonl = dir.path().join("audit.jsonl");
    let started = Instant::now();
    let r = run_text(&[
        "audit",
        "--format",
        "json",
        "--report",
        &format!("junit={}", junit.display()),
        "--report",
        &format!("prometheus={}", prom.display()),
        "--report",
        &format!("markdown={}", md.display()),
        "--report",
        &format!("jsonl={}", jsonl.display()),
        &inv,
    ]);
    let elapsed = started.elapsed();
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));

    assert_eq!(
        target(&v, "good")["verdict"],
        "pass",
        "{:#}",
        target(&v, "good")
    );
    assert!(
        rules_of(&v, "good").is_empty(),
        "{:?}",
        rules_of(&v, "good")
    );

    let exp = target(&v, "expired");
    assert_eq!(exp["verdict"], "fail");
    assert_eq!(status(exp, "expiry"), "fail");
    assert!(rules_of(&v, "expired").contains(&"cert-expiry".to_string()));

    assert_eq!(status(target(&v, "wrong-name"), "server-name"), "fail");
    assert_eq!(target(&v, "wrong-name")["verdict"], "fail");

    assert_eq!(target(&v, "no-mtls")["verdict"], "fail");
    assert!(
        rules_of(&v, "no-mtls").contains(&"client-auth-not-required".to_string()),
        "{:?}",
        rules_of(&v, "no-mtls")
    );
    assert!(rules_of(&v, "good")
        .iter()
        .all(|r| r != "client-auth-not-required"));

    let plain = target(&v, "plaintext-allowed");
    assert_eq!(plain["verdict"], "fail");
    assert!(rules_of(&v, "plaintext-allowed").contains(&"plaintext-allowed".to_string()));

    assert_eq!(status(target(&v, "dead"), "tcp"), "fail");
    let silent = target(&v, "silent");
    assert_eq!(status(silent, "tls-handshake"), "fail");
    assert!(
        message(silent, "tls-handshake").contains("deadline"),
        "{}",
        message(silent, "tls-handshake")
    );
    // The silent target costs its own timeouts (1s handshake + 1s plaintext sniff window at
    // most), not the whole run serialised behind it.
    assert!(elapsed < Duration::from_secs(8), "audit took {elapsed:?}");

    let bundles = v["bundles"].as_array().unwrap();
    assert_eq!(bundles.len(), 2);
    let weak = bundles.iter().find(|b| b["id"] == "weak").unwrap();
    assert_eq!(weak["verdict"], "fail");
    assert!(weak["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "weak-key"));
    let rc = bundles.iter().find(|b| b["id"] == "redis_ca").unwrap();
    assert_eq!(rc["verdict"], "pass");
    assert_eq!(rc["certificates"].as_array().unwrap().len(), 4);

    assert_eq!(v["summary"]["targets"], 7);
    assert_eq!(v["summary"]["passed"], 1);
    assert_eq!(v["summary"]["failed"], 6);
    assert_eq!(v["summary"]["bundles"], 2);

    // JSON lines: one object per target and bundle, same ids and order as the inventory.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "good",
            "expired",
            "wrong-name",
            "no-mtls",
            "plaintext-allowed",
            "dead",
            "silent",
            "redis_ca",
            "weak"
        ]
    );

    // JUnit: a real XML parse; one testcase per target and bundle, failures carry messages.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("JUnit XML does not parse: {e}\n{xml}"))
        {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((cases, failures), (9, 7), "{xml}");
    assert!(xml.contains("server-name"), "{xml}");

    // Prometheus text format, parsed by a parser crate.
    let text = std::fs::read_to_string(&prom).unwrap();
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let up = |id: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == "probe_success" && s.labels.get("target") == Some(id))
            .map(|s| match s.value {
                prometheus_parse::Value::Gauge(g) | prometheus_parse::Value::Untyped(g) => g,
                _ => f64::NAN,
            })
    };
    assert_eq!(up("good"), Some(1.0), "{text}");
    assert_eq!(up("expired"), Some(0.0));
    // The families of `tlsprobe exporter`'s /probe, with a target label.
    for metric in [
        "probe_duration_seconds",
        "tlsprobe_step_success",
        "probe_ssl_earliest_cert_expiry",
        "probe_ssl_last_chain_expiry_timestamp_seconds",
        "probe_ssl_last_chain_info",
        "probe_tls_version_info",
    ] {
        assert!(
            scrape
                .samples
                .iter()
                .any(|s| s.metric == metric && s.labels.get("target") == Some("good")),
            "{metric} missing\n{text}"
        );
    }
    // Certificate facts even when verification failed: the expired target's earliest
    // notAfter, presented and on the path chain-trust verified (dates are judged by
    // `expiry`), is the expired leaf's (2025-01-01T00:00:00Z).
    let expired = |metric: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && s.labels.get("target") == Some("expired"))
            .map(|s| match s.value {
                prometheus_parse::Value::Gauge(g) | prometheus_parse::Value::Untyped(g) => g,
                _ => f64::NAN,
            })
    };
    assert_eq!(
        expired("probe_ssl_earliest_cert_expiry"),
        Some(1735689600.0),
        "{text}"
    );
    assert_eq!(
        expired("probe_ssl_last_chain_expiry_timestamp_seconds"),
        Some(1735689600.0),
        "{text}"
    );

    // Markdown: the compliance report a person reads.
    let md = std::fs::read_to_string(&md).unwrap();
    for needle in [
        "# TLS compliance report",
        "tlsprobe ",
        "## Totals",
        "| good | pass |",
        "| expired | **FAIL** |",
        "## Findings",
        "client-auth-not-required",
    ] {
        assert!(md.contains(needle), "{needle} missing:\n{md}");
    }
}

#[test]
fn human_report_has_a_table_and_findings_by_rule() {
    let f = fleet("");
    let (_dir, inv) = inventory(&f.text);
    let r = run_text(&["audit", &inv]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for needle in [
        "verdict",
        "good",
        "TLS 1.3",
        "findings by rule",
        "cert-expiry",
        "7 targets: 2 passed, 5 failed",
    ] {
        assert!(r.stdout.contains(needle), "{needle} missing:\n{}", r.stdout);
    }
    assert!(
        !r.stderr.contains('\u{1b}'),
        "progress bar drawn on a non-terminal: {:?}",
        r.stderr
    );
}

#[test]
fn all_passing_inventory_exits_zero_and_passwords_come_from_the_environment() {
    let s = RedisServer::start(RedisOpts {
        requirepass: Some("audit-secret-pw"),
        ..tls("server-chain.pem", "server.key")
    });
    let td = testdata("");
    let (_dir, inv) = inventory(&format!(
        "[[target]]\nid = \"a\"\nurl = \"rediss://localhost:{}\"\ncacert = [\"{td}/serving-root.pem\"]\npass_env = \"AUDIT_PW\"\n",
        s.port
    ));
    let out = tlsprobe()
        .args(["audit", "--format", "json", &inv])
        .env("AUDIT_PW", "audit-secret-pw")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("audit-secret-pw"));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status(target(&v, "a"), "auth"), "pass");
}

#[test]
fn relative_paths_resolve_against_the_inventory_directory() {
    let s = RedisServer::start(tls("server-chain.pem", "server.key"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(testdata("serving-root.pem"), dir.path().join("ca.pem")).unwrap();
    std::fs::write(dir.path().join("pw"), "unused\n").unwrap();
    let path = dir.path().join("inv.toml");
    std::fs::write(&path, format!("[[target]]\nid = \"r\"\nurl = \"rediss://localhost:{}\"\ncacert = \"ca.pem\"\n\n[[bundle]]\npath = \"ca.pem\"\n", s.port)).unwrap();
    let r = run_text(&["audit", "-q", path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
}

#[test]
fn inventory_errors_name_file_line_and_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("[[target]]\nid = \"x\"\nurl = \"rediss://h:1\"\npassword = \"hunter2\"\n", ":4:", "pass_env"),
        ("[[target]]\nid = \"x\"\nurl = \"rediss://h:1\"\npass = \"hunter2\"\n", ":4:", "pass_env"),
        ("[[target]]\nid = \"x\"\nurl = \"rediss://u:hunter2@h:1\"\n", ":3:", "password"),
        ("[[target]]\nid = \"x\"\nurl = \"rediss://h:1\"\ncolour = \"red\"\n", ":4:", "colour"),
        ("[[target]]\nid = \"x\"\nurl = \"rediss://h:1\"\ntimeout = \"soon\"\n", ":4:", "timeout"),
        ("[[target]]\nid = \"x\"\nurl = \"rediss://h:1\"\nexpect_plaintext = \"maybe\"\n", ":4:", "expect_plaintext"),
        ("[[target]]\nid = \"x\"\nurl = \"rediss://h:1\"\npass_env = \"TLSPROBE_NO_SUCH_VAR\"\n", ":1:", "TLSPROBE_NO_SUCH_VAR"),
        ("[[target]]\nid = \"x\"\n", ":1:", "url"),
        ("[[target]]\nid = \"x\"\nurl = \"ftp://h:1\"\n", ":", "unsupported scheme"),
        ("[[target]]\nid = \"x\"\nurl = \"rediss://h:1\"\ncacert = \"/nonexistent/ca.pem\"\n", ":", "no such file"),
        ("[policy]\nmin_tls_version = \"1.0\"\n[[bundle]]\npath = \"x\"\n", ":2:", "min_tls_version"),
        ("[policy]\nforbid_md5 = true\n[[bundle]]\npath = \"x\"\n", ":2:", "forbid_md5"),
        ("[policy]\nwarn_days = 30\n", "", "neither"),
        ("this is not toml", ":1:", ""),
        ("[[target]]\nid = \"a\"\nurl = \"rediss://h:1\"\n[[target]]\nid = \"a\"\nurl = \"rediss://h:2\"\n", ":4:", "already used"),
    ];
    for (text, line, word) in cases {
        let (_dir, inv) = inventory(text);
        let r = run_text(&["audit", &inv]);
        assert_eq!(r.code, 2, "{text}\n{}{}", r.stdout, r.stderr);
        let err = r.stderr.trim();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: ") && err.contains("inventory.toml"),
            "{err}"
        );
        assert!(
            err.contains(line),
            "line {line} not named for {text:?}: {err}"
        );
        assert!(err.contains(word), "{word} not named for {text:?}: {err}");
        assert!(!err.contains("hunter2"), "password leaked: {err}");
        assert!(!err.contains("panicked"));
    }
    let r = run_text(&["audit", "/nonexistent/inventory.toml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no such file"), "{}", r.stderr);
    let r = run_text(&[
        "audit",
        "--report",
        "xml=out.xml",
        &inventory("[[bundle]]\npath = \"x\"\n").1,
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown format"), "{}", r.stderr);
}

#[test]
fn policy_file_replaces_the_inventory_policy() {
    let s = RedisServer::start(tls("server-chain.pem", "server.key"));
    let td = testdata("");
    let (dir, inv) = inventory(&format!("[[target]]\nid = \"r\"\nurl = \"rediss://localhost:{}\"\ncacert = \"{td}/serving-root.pem\"\n", s.port));
    let policy = dir.path().join("policy.toml");
    let mut f = std::fs::File::create(&policy).unwrap();
    writeln!(f, "[policy]\nmin_tls_version = \"1.3\"\nallowed_cipher_suites = [\"TLS13_AES_128_GCM_SHA256\"]").unwrap();
    let r = run_text(&[
        "audit",
        "--format",
        "json",
        "--policy",
        policy.to_str().unwrap(),
        &inv,
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        rules_of(&v, "r"),
        ["cipher-suite"],
        "{:#}",
        v["policy_findings"]
    );
    // TLS 1.2 pinned by the target fails min_tls_version.
    let (_d2, inv2) = inventory(&format!("[[target]]\nid = \"r\"\nurl = \"rediss://localhost:{}\"\ncacert = \"{td}/serving-root.pem\"\ntls_version = \"1.2\"\n", s.port));
    let r = run_text(&[
        "audit",
        "--format",
        "json",
        "--policy",
        policy.to_str().unwrap(),
        &inv2,
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        rules_of(&v, "r").contains(&"min-tls-version".to_string()),
        "{:#}",
        v["policy_findings"]
    );
}

//! `--baseline`: what changed since an earlier `--format json` output, against real
//! redis-servers restarted with another certificate.

mod support;

use support::*;

fn ca() -> String {
    testdata("serving-root.pem")
}

fn server_on(port: Option<u16>, cert: &'static str, key: &'static str) -> RedisServer {
    let opts = RedisOpts {
        tls: Some((cert, key)),
        ..RedisOpts::default()
    };
    match port {
        Some(p) => RedisServer::start_on(p, opts),
        None => RedisServer::start(opts),
    }
}

/// Runs verify --format json and saves its output as a baseline.
fn save_baseline(dir: &tempfile::TempDir, args: &[&str]) -> String {
    let mut all = vec!["verify", "--format", "json"];
    all.extend_from_slice(args);
    let r = run_text(&all);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    write_file(dir.path(), "baseline.json", r.stdout)
}

fn changed(v: &serde_json::Value) -> Vec<String> {
    v["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no changes list: {v:#}"))
        .iter()
        .map(|c| c["fact"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn unchanged_rotated_and_fail_on_change() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_on(None, "server-chain.pem", "server.key");
    let port = s.port;
    let target = s.url();
    let base = save_baseline(&dir, &["--cacert", &ca(), &target]);

    let (v, code, _) = verify_json(&["--cacert", &ca(), "--baseline", &base, &target]);
    assert_eq!(code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "baseline"), "pass");
    assert!(message(&v, "baseline").starts_with("unchanged since"));
    assert_eq!(v["changes"], serde_json::json!([]));

    // The server certificate is rotated: another leaf, valid until another date.
    drop(s);
    let _s = server_on(
        Some(port),
        "server-provider-chain.pem",
        "server-provider.key",
    );
    let (v, code, _) = verify_json(&["--cacert", &ca(), "--baseline", &base, &target]);
    assert_eq!(code, 0, "{}", steps(&v));
    assert_eq!(status(&v, "baseline"), "warn");
    let facts = changed(&v);
    for f in ["leaf.sha256", "leaf.not_after", "leaf.sans"] {
        assert!(facts.iter().any(|x| x == f), "{f} not in {facts:?}");
    }
    assert!(
        !facts.iter().any(|x| x == "anchor" || x.starts_with("tls.")),
        "{facts:?}"
    );
    let msg = message(&v, "baseline");
    assert!(
        msg.contains("leaf.not_after: 2124-01-01T00:00:00Z -> 2123-06-01T00:00:00Z"),
        "{msg}"
    );
    let c = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["fact"] == "leaf.sha256")
        .unwrap();
    assert_ne!(c["before"], c["after"]);

    let (v, code, _) = verify_json(&[
        "--cacert",
        &ca(),
        "--baseline",
        &base,
        "--fail-on-change",
        &target,
    ]);
    assert_eq!(code, 1, "{}", steps(&v));
    assert_eq!(status(&v, "baseline"), "fail");
    // Human output lists the changes too.
    let r = run_text(&["verify", "--cacert", &ca(), "--baseline", &base, &target]);
    assert!(r.stdout.contains("leaf.sha256:"), "{}", r.stdout);
}

#[test]
fn anchor_moved_to_another_bundle_member() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = [
        std::fs::read_to_string(testdata("serving-root.pem")).unwrap(),
        std::fs::read_to_string(testdata("server-selfsigned-ca.pem")).unwrap(),
    ]
    .concat();
    let bundle = write_file(dir.path(), "bundle.pem", bundle);
    let s = server_on(None, "server-chain.pem", "server.key");
    let port = s.port;
    let target = s.url();
    let base = save_baseline(&dir, &["--cacert", &bundle, &target]);
    drop(s);
    let _s = server_on(
        Some(port),
        "server-selfsigned-ca.pem",
        "server-selfsigned-ca.key",
    );
    let (v, code, _) = verify_json(&["--cacert", &bundle, "--baseline", &base, &target]);
    assert_eq!(code, 0, "{}", steps(&v));
    let c = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["fact"] == "anchor")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(c["before"], format!("{bundle} #0"));
    assert_eq!(c["after"], format!("{bundle} #1"));
    assert!(
        changed(&v).contains(&"chain.sha256".to_string()),
        "{:?}",
        changed(&v)
    );
}

#[test]
fn another_target_or_a_malformed_file_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_on(None, "server-chain.pem", "server.key");
    let base = save_baseline(&dir, &["--cacert", &ca(), &s.url()]);
    let r = run_text(&[
        "verify",
        "--cacert",
        &ca(),
        "--baseline",
        &base,
        "rediss://localhost:1",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("not of rediss://localhost:1"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1);
    for (name, text) in [
        ("trunc.json", "{\"target\":"),
        ("inspect.json", "{\"files\":[]}"),
        ("array.json", "[]"),
    ] {
        let f = write_file(dir.path(), name, text);
        let r = run_text(&["verify", "--baseline", &f, &s.url()]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(
            r.stderr.starts_with(&format!("error: --baseline {f}: ")),
            "{}",
            r.stderr
        );
    }
    let r = run_text(&["verify", "--fail-on-change", &s.url()]);
    assert_eq!(r.code, 2, "--fail-on-change needs --baseline");
}

#[test]
fn audit_matches_targets_and_bundles_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let s = server_on(None, "server-chain.pem", "server.key");
    let port = s.port;
    let bundle_path = write_file(
        dir.path(),
        "ca.pem",
        std::fs::read(testdata("serving-root.pem")).unwrap(),
    );
    let inv = format!(
        "[[target]]\nid = \"cache\"\nurl = \"rediss://localhost:{port}\"\ncacert = \"{ca}\"\n\n[[bundle]]\nid = \"ca\"\npath = \"{bundle_path}\"\n",
        ca = ca()
    );
    let inv = write_file(dir.path(), "inv.toml", inv);
    let base = dir.path().join("base.json").display().to_string();
    let r = run_text(&[
        "audit", "--quiet", "--format", "json", "--output", &base, &inv,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let r = run_text(&[
        "audit",
        "--quiet",
        "--format",
        "json",
        "--baseline",
        &base,
        &inv,
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        status(&v["targets"][0], "baseline"),
        "pass",
        "{}",
        steps(&v["targets"][0])
    );

    drop(s);
    let _s = server_on(
        Some(port),
        "server-provider-chain.pem",
        "server-provider.key",
    );
    // The bundle gains a certificate.
    let more = [
        std::fs::read_to_string(testdata("serving-root.pem")).unwrap(),
        std::fs::read_to_string(testdata("extra-root-1.pem")).unwrap(),
    ]
    .concat();
    std::fs::write(&bundle_path, more).unwrap();
    let r = run_text(&[
        "audit",
        "--quiet",
        "--format",
        "json",
        "--baseline",
        &base,
        &inv,
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let t = &v["targets"][0];
    assert_eq!(status(t, "baseline"), "warn");
    assert!(changed(t).contains(&"leaf.sha256".to_string()));
    let b = &v["bundles"][0];
    assert!(
        b["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "baseline-changed"),
        "{b:#}"
    );

    let r = run_text(&[
        "audit",
        "--quiet",
        "--format",
        "json",
        "--baseline",
        &base,
        "--fail-on-change",
        &inv,
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    // A verify report is not an audit baseline.
    let r = run_text(&[
        "audit",
        "--quiet",
        "--baseline",
        &testdata("expect/dcs-ssl-on.json"),
        &inv,
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a tlsprobe audit"), "{}", r.stderr);
}

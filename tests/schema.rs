//! `tlsprobe schema`: every JSON output of real runs (every subcommand, pass and fail, every
//! audit JSON form) validates against the schema the binary prints, and carries
//! `schema_version`. The schemas are closed, so an undeclared field fails here.

mod support;

use serde_json::Value;
use support::*;

fn schema(kind: &str) -> jsonschema::Validator {
    let r = run_text(&["schema", kind]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s: Value = serde_json::from_str(&r.stdout).expect("schema is JSON");
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    jsonschema::validator_for(&s).unwrap_or_else(|e| panic!("schema {kind} invalid: {e}"))
}

/// Validates `doc` and checks its `schema_version`; `what` names the scenario.
fn check(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{doc:#}");
    assert_eq!(doc["schema_version"], 1, "{what}");
}

/// Runs tlsprobe, expects `code`, and parses stdout as one JSON document.
fn json_of(args: &[&str], code: i32) -> Value {
    let r = run_text(args);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", r.stderr));
    assert_eq!(r.code, code, "{args:?}: {}{}", r.stderr, steps(&v));
    v
}

fn tls(cert: &'static str, key: &'static str) -> RedisOpts {
    RedisOpts {
        tls: Some((cert, key)),
        ..Default::default()
    }
}

#[test]
fn verify_outputs_match_the_schema() {
    let v = schema("verify");
    let mtls = RedisServer::start(RedisOpts {
        auth_clients: Some("yes"),
        requirepass: Some("pw"),
        ..tls("server-chain.pem", "server.key")
    });
    let expired = RedisServer::start(tls("server-expired-chain.pem", "server-expired.key"));
    let plain = RedisServer::start(RedisOpts::default());
    let dir = tempfile::tempdir().unwrap();
    let pass = write_file(dir.path(), "pass", "pw\n");
    let wrong = write_file(dir.path(), "wrong", "not-the-password\n");
    let key = dir.path().join("client.key");
    std::fs::copy(testdata("client.key"), &key).unwrap();
    #[cfg(unix)]
    for f in [
        key.as_path(),
        std::path::Path::new(&pass),
        std::path::Path::new(&wrong),
    ] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let key = key.display().to_string();
    let (ca, cert) = (testdata("redis_ca.pem"), testdata("client-chain.pem"));
    let good = mtls.url();
    let exp = expired.url();
    let plain_url = plain.plain_url();
    let dead = format!("rediss://localhost:{}", free_port());
    let received = dir.path().join("received");
    let ossl = OpensslServer::serving("server.pem", "server.key", "intermediate.pem", &received);
    let tls_url = format!("tls://localhost:{}", ossl.port);
    let ossl_ca = testdata("serving-root.pem");
    let full: Vec<&str> = vec![
        "--cacert",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        "--pass-file",
        &pass,
    ];
    let cases: Vec<(&str, Vec<&str>, i32)> = vec![
        (
            "pass with mTLS, AUTH, plaintext refused",
            [full.clone(), vec!["--expect-plaintext", "refused", &good]].concat(),
            0,
        ),
        (
            "fail: plaintext expected allowed",
            [full.clone(), vec!["--expect-plaintext", "allowed", &good]].concat(),
            1,
        ),
        (
            "fail: wrong password",
            vec![
                "--cacert",
                &ca,
                "--cert",
                &cert,
                "--key",
                &key,
                "--pass-file",
                &wrong,
                &good,
            ],
            1,
        ),
        (
            "fail: no client cert",
            vec!["--cacert", &ca, "--pass-file", &pass, &good],
            1,
        ),
        (
            "fail: expired",
            vec!["--cacert", &ca, "--timeout", "2s", &exp],
            1,
        ),
        ("fail: untrusted (Mozilla roots)", vec![&exp], 1),
        ("pass: plaintext target (redis://)", vec![&plain_url], 0),
        (
            "fail: dead port with --wait",
            vec![
                "--cacert",
                &ca,
                "--wait",
                "1s",
                "--interval",
                "200ms",
                &dead,
            ],
            1,
        ),
        (
            "pass: tls:// (openssl s_server)",
            vec!["--cacert", &ossl_ca, &tls_url],
            0,
        ),
        (
            "pass at a pinned time",
            [
                full.clone(),
                vec![
                    "--at",
                    "2100-01-01T00:00:00Z",
                    "--tls-version",
                    "1.2",
                    &good,
                ],
            ]
            .concat(),
            0,
        ),
    ];
    for (what, args, code) in cases {
        let all = [vec!["verify", "--format", "json"], args].concat();
        check(&v, &json_of(&all, code), what);
    }
}

#[test]
fn inspect_chain_and_mtls_outputs_match_their_schemas() {
    let inspect = schema("inspect");
    for (files, code) in [
        (vec!["redis_ca.pem", "server.der"], 0),
        (vec!["mixed-blocks.pem", "bundle-duplicates.pem"], 0),
        (vec!["server-expired.pem", "sha1.pem", "rsa1024.pem"], 1),
    ] {
        let paths: Vec<String> = files.iter().map(|f| testdata(f)).collect();
        let mut args = vec!["inspect", "--format", "json"];
        args.extend(paths.iter().map(String::as_str));
        let r = run_text(&args);
        assert!(
            r.code == code || code == 1 && r.code != 0,
            "{files:?}: {}",
            r.stderr
        );
        let doc: Value = serde_json::from_str(&r.stdout).unwrap();
        check(&inspect, &doc, &format!("inspect {files:?}"));
    }

    let chain = schema("chain");
    let (root, int) = (testdata("serving-root.pem"), testdata("intermediate.pem"));
    let cases: Vec<(&str, Vec<String>, i32)> = vec![
        (
            "valid",
            vec![
                "--untrusted".into(),
                int.clone(),
                "--name".into(),
                "localhost".into(),
                testdata("server.pem"),
            ],
            0,
        ),
        ("expired", vec![testdata("server-expired-chain.pem")], 1),
        (
            "name mismatch",
            vec![
                "--name".into(),
                "db.example.com".into(),
                testdata("server-chain.pem"),
            ],
            1,
        ),
        ("unknown issuer", vec![testdata("server.pem")], 1),
        (
            "strict",
            vec!["--strict".into(), testdata("server-chain.pem")],
            0,
        ),
    ];
    for (what, extra, code) in cases {
        let mut args = vec!["chain", "--format", "json", "--cacert", root.as_str()];
        args.extend(extra.iter().map(String::as_str));
        let r = run_text(&args);
        assert!(
            r.code == code || (what == "strict" && r.code <= 1),
            "{what}: {}",
            r.stderr
        );
        check(
            &chain,
            &serde_json::from_str(&r.stdout).unwrap(),
            &format!("chain {what}"),
        );
    }

    let mtls = schema("mtls");
    let cases: Vec<(&str, Vec<String>, i32)> = vec![
        (
            "accepted",
            vec![
                "--trusted".into(),
                root.clone(),
                "--cert".into(),
                testdata("client-chain.pem"),
            ],
            0,
        ),
        (
            "CA mismatch",
            vec![
                "--trusted".into(),
                testdata("other-root.pem"),
                "--cert".into(),
                testdata("client-chain.pem"),
            ],
            1,
        ),
        (
            "subject rules",
            vec![
                "--trusted".into(),
                root.clone(),
                "--cert".into(),
                testdata("client-chain.pem"),
                "--validation".into(),
                "subject".into(),
                "--authorized-subject".into(),
                "CN=redis_user,O=Acme,OU=Ops,OU=Dev".into(),
            ],
            0,
        ),
        (
            "subject mismatch",
            vec![
                "--trusted".into(),
                root.clone(),
                "--cert".into(),
                testdata("client-chain.pem"),
                "--validation".into(),
                "san".into(),
                "--authorized-subject".into(),
                "CN=someone-else".into(),
            ],
            1,
        ),
        (
            "outdated, allowed",
            vec![
                "--trusted".into(),
                root.clone(),
                "--trusted".into(),
                int.clone(),
                "--cert".into(),
                testdata("client-expired.pem"),
                "--allow-outdated".into(),
            ],
            0,
        ),
    ];
    for (what, extra, code) in cases {
        let mut args = vec!["mtls", "--format", "json"];
        args.extend(extra.iter().map(String::as_str));
        check(&mtls, &json_of(&args, code), &format!("mtls {what}"));
    }
}

#[test]
fn every_audit_json_form_matches_its_schema() {
    let good = RedisServer::start(RedisOpts {
        auth_clients: Some("yes"),
        ..tls("server-chain.pem", "server.key")
    });
    let expired = RedisServer::start(tls("server-expired-chain.pem", "server-expired.key"));
    let plain = RedisServer::start(RedisOpts::default());
    let td = testdata("");
    let dir = tempfile::tempdir().unwrap();
    let inv = write_file(
        dir.path(),
        "inventory.toml",
        format!(
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
id = "plaintext"
url = "redis://localhost:{}"

[[target]]
id = "dead"
url = "rediss://localhost:{}"

[[bundle]]
id = "redis_ca"
path = "{td}/redis_ca.pem"

[[bundle]]
id = "weak"
path = "{td}/rsa1024.pem"

[[bundle]]
id = "missing"
path = "{td}/no-such-file.pem"

[policy]
require_client_auth = true
warn_days = 36500
"#,
            good.port,
            expired.port,
            plain.port,
            free_port()
        ),
    );
    let doc_schema = schema("audit");
    let line_schema = schema("audit-line");
    let json_file = dir.path().join("audit.json").display().to_string();
    let jsonl_file = dir.path().join("audit.jsonl").display().to_string();
    let r = run_text(&[
        "audit",
        "-q",
        "--format",
        "jsonl",
        "--report",
        &format!("json={json_file}"),
        "--report",
        &format!("jsonl={jsonl_file}"),
        &inv,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut lines = 0;
    for text in [
        r.stdout.clone(),
        std::fs::read_to_string(&jsonl_file).unwrap(),
    ] {
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            check(&line_schema, &v, &format!("jsonl line {line}"));
            lines += 1;
        }
    }
    assert_eq!(lines, 2 * 7, "4 targets and 3 bundles, twice");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    check(&doc_schema, &doc, "audit --report json=FILE");
    let main = json_of(&["audit", "-q", "--format", "json", &inv], 1);
    check(&doc_schema, &main, "audit --format json");
}

#[test]
fn closed_schemas_reject_undeclared_fields_and_wrong_versions() {
    let v = schema("inspect");
    let mut doc = json_of(&["inspect", "--format", "json", &testdata("server.pem")], 0);
    check(&v, &doc, "inspect server.pem");
    doc["files"][0]["certificates"][0]["surprise"] = Value::Bool(true);
    assert!(
        !v.is_valid(&doc),
        "an undeclared field must fail validation"
    );
    doc["files"][0]["certificates"][0]
        .as_object_mut()
        .unwrap()
        .remove("surprise");
    doc["schema_version"] = Value::from(2);
    assert!(
        !v.is_valid(&doc),
        "another schema_version must fail validation"
    );
    let line = schema("audit-line");
    assert!(!line.is_valid(&serde_json::json!({"schema_version": 1, "id": "x"})));
}

#[test]
fn unknown_schema_kinds_are_usage_errors() {
    let r = run_text(&["schema", "nope"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("error:"), "{}", r.stderr);
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
}

//! `tlsprobe mtls`: the server's decision on a client certificate (Redis Enterprise rules),
//! table-driven over the testdata PKI and certificates generated with rcgen; the library API
//! `verify` uses (`policy_from_rules`, `client_policy_check`); and an end-to-end check that a
//! real redis-server (`--tls-auth-clients yes`) decides as `mtls` predicted.

mod support;

use serde_json::Value;
use support::{gen_ca, gen_leaf, run_text, testdata, write_file, RedisOpts, RedisServer};
use tlsprobe::domain::{ClientRules as ClientRuleArgs, Validation};
use tlsprobe::finding::Status;
use tlsprobe::mtls::{client_policy_check, policy_from_rules};

/// `mtls --format json ARGS`: (report, exit code, stderr).
fn mtls_json(args: &[&str]) -> (Value, i32, String) {
    let mut all = vec!["mtls", "--format", "json"];
    all.extend_from_slice(args);
    let r = run_text(&all);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr));
    (v, r.code, r.stderr)
}

fn step<'a>(v: &'a Value, name: &str) -> (&'a str, &'a str) {
    let s = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no step {name} in {v:#}"));
    (
        s["status"].as_str().unwrap(),
        s["message"].as_str().unwrap(),
    )
}

fn rules(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

const FULL_DN: &str = "CN=redis_user,O=Acme,OU=Ops,OU=Dev,L=Tel Aviv,ST=TA,C=IL";

/// One scenario: trusted files, client file, extra flags, expected exit, then
/// (step, status, text the message must contain) expectations.
struct Case {
    name: &'static str,
    trusted: Vec<String>,
    cert: String,
    flags: Vec<&'static str>,
    exit: i32,
    steps: Vec<(&'static str, &'static str, &'static str)>,
}

fn run_case(c: &Case) -> Value {
    let mut args: Vec<&str> = Vec::new();
    for t in &c.trusted {
        args.push("--trusted");
        args.push(t);
    }
    args.push("--cert");
    args.push(&c.cert);
    args.extend(c.flags.iter());
    let (v, code, stderr) = mtls_json(&args);
    assert_eq!(code, c.exit, "{}: {v:#}\n{stderr}", c.name);
    assert_eq!(v["accepted"], c.exit == 0, "{}", c.name);
    for (name, status, text) in &c.steps {
        let (s, m) = step(&v, name);
        assert_eq!(s, *status, "{}: step {name}: {m}", c.name);
        assert!(
            m.contains(text),
            "{}: step {name}: {m:?} lacks {text:?}",
            c.name
        );
    }
    v
}

#[test]
fn rules_table_on_the_testdata_pki() {
    let root = testdata("serving-root.pem");
    let int = testdata("intermediate.pem");
    let cases = vec![
        Case {
            name: "good chain, no validation",
            trusted: vec![root.clone()],
            cert: testdata("client-chain.pem"),
            flags: vec![],
            exit: 0,
            steps: vec![
                ("chain", "pass", "chain leads to"),
                ("key-usage", "pass", "clientAuth"),
                ("leaf-in-trusted-list", "pass", "no leaf certificate"),
                ("san", "skip", "validation is none"),
                ("subject", "skip", "validation is none"),
            ],
        },
        Case {
            name: "CA mismatch",
            trusted: vec![root.clone()],
            cert: testdata("client-other-ca.pem"),
            flags: vec![],
            exit: 1,
            steps: vec![(
                "chain",
                "fail",
                "did not issue \"CN=Other Test Root CA, O=Elsewhere\"",
            )],
        },
        Case {
            name: "leaf alone needs its intermediate in the trusted list",
            trusted: vec![root.clone()],
            cert: testdata("client.pem"),
            flags: vec![],
            exit: 1,
            steps: vec![("chain", "fail", "does not lead to any certificate")],
        },
        Case {
            name: "intermediate trusted",
            trusted: vec![root.clone(), int.clone()],
            cert: testdata("client.pem"),
            flags: vec![],
            exit: 0,
            steps: vec![("chain", "pass", "intermediate.pem #0")],
        },
        Case {
            name: "no clientAuth",
            trusted: vec![root.clone(), int.clone()],
            cert: testdata("client-noclientauth.pem"),
            flags: vec![],
            exit: 1,
            steps: vec![
                ("chain", "pass", ""),
                ("key-usage", "fail", "serverAuth, without clientAuth"),
            ],
        },
        Case {
            name: "outdated, not allowed",
            trusted: vec![root.clone(), int.clone()],
            cert: testdata("client-expired.pem"),
            flags: vec![],
            exit: 1,
            steps: vec![("chain", "fail", "expired 2025-01-01T00:00:00Z")],
        },
        Case {
            name: "outdated, allowed",
            trusted: vec![root.clone(), int.clone()],
            cert: testdata("client-expired.pem"),
            flags: vec!["--allow-outdated"],
            exit: 0,
            steps: vec![("chain", "warn", "outdated client certificates are allowed")],
        },
        Case {
            name: "allow-outdated does not excuse CAs",
            trusted: vec![root.clone()],
            cert: testdata("client-chain.pem"),
            flags: vec!["--allow-outdated", "--at", "2200-01-01T00:00:00Z"],
            exit: 1,
            steps: vec![("chain", "fail", "the expiry of a CA is never excused")],
        },
        Case {
            name: "not yet valid is never excused",
            trusted: vec![root.clone()],
            cert: testdata("client-chain.pem"),
            flags: vec!["--allow-outdated", "--at", "2023-01-01T00:00:00Z"],
            exit: 1,
            steps: vec![("chain", "fail", "not valid before")],
        },
        Case {
            name: "subject: OU in another order",
            trusted: vec![root.clone()],
            cert: testdata("client-chain.pem"),
            flags: vec![
                "--validation",
                "subject",
                "--authorized-subject",
                "CN=redis_user,O=Acme,OU=Dev,OU=Ops",
            ],
            exit: 0,
            steps: vec![("subject", "pass", "matches authorized subject #1")],
        },
        Case {
            name: "subject: case differs",
            trusted: vec![root.clone()],
            cert: testdata("client-chain.pem"),
            flags: vec![
                "--validation",
                "full_subject",
                "--authorized-subject",
                "CN=redis_user,O=Acme,OU=Ops,OU=dev",
            ],
            exit: 1,
            steps: vec![("subject", "fail", "OU \"Dev\" != \"dev\" (case-sensitive)")],
        },
        Case {
            name: "subject: the certificate has attributes the entry lacks",
            trusted: vec![root.clone(), int.clone()],
            cert: testdata("client-full-subject.pem"),
            flags: vec![
                "--validation",
                "subject",
                "--authorized-subject",
                "CN=redis_user,O=Acme,OU=Ops,OU=Dev",
            ],
            exit: 1,
            steps: vec![(
                "subject",
                "fail",
                "the certificate has L \"Tel Aviv\" but the entry has no L",
            )],
        },
        Case {
            name: "subject: full subject, the second entry matches",
            trusted: vec![root.clone(), int.clone()],
            cert: testdata("client-full-subject.pem"),
            flags: vec![
                "--validation",
                "subject",
                "--authorized-subject",
                "CN=someone_else",
                "--authorized-subject",
                FULL_DN,
            ],
            exit: 0,
            steps: vec![("subject", "pass", "authorized subject #2")],
        },
        Case {
            name: "subject: an entry attribute the certificate lacks",
            trusted: vec![root.clone(), int.clone()],
            cert: testdata("client-noclientauth.pem"),
            flags: vec![
                "--validation",
                "subject",
                "--authorized-subject",
                "CN=redis_user,O=Acme,OU=Ops",
            ],
            exit: 1,
            steps: vec![(
                "subject",
                "fail",
                "OU \"Ops\" is required but not in the certificate",
            )],
        },
        Case {
            name: "san: CN equals an entry",
            trusted: vec![root.clone()],
            cert: testdata("client-chain.pem"),
            flags: vec![
                "--validation",
                "san_cn",
                "--authorized-subject",
                "CN=other",
                "--authorized-subject",
                "CN=redis_user,O=Ignored",
            ],
            exit: 0,
            steps: vec![
                (
                    "san",
                    "pass",
                    "CN \"redis_user\" matches authorized subject #2",
                ),
                ("subject", "skip", "validation is san"),
            ],
        },
        Case {
            name: "san: case differs",
            trusted: vec![root.clone()],
            cert: testdata("client-chain.pem"),
            flags: vec![
                "--validation",
                "san",
                "--authorized-subject",
                "CN=Redis_User",
            ],
            exit: 1,
            steps: vec![("san", "fail", "(case-sensitive)")],
        },
        Case {
            name: "validation without subjects rejects everyone",
            trusted: vec![root.clone()],
            cert: testdata("client-chain.pem"),
            flags: vec!["--validation", "subject"],
            exit: 1,
            steps: vec![("subject", "fail", "no authorized subjects are configured")],
        },
        Case {
            name: "a trusted leaf skips subject validation",
            trusted: vec![root.clone(), testdata("client-other-ca.pem")],
            cert: testdata("client-chain.pem"),
            flags: vec![
                "--validation",
                "subject",
                "--authorized-subject",
                "CN=nobody",
            ],
            exit: 0,
            steps: vec![
                ("chain", "pass", "serving-root.pem #0"),
                ("leaf-in-trusted-list", "warn", "client-other-ca.pem #0"),
                ("subject", "skip", "without it: fail"),
            ],
        },
        Case {
            name: "a trusted leaf admits itself",
            trusted: vec![testdata("client-other-ca.pem")],
            cert: testdata("client-other-ca.pem"),
            flags: vec!["--validation", "san", "--authorized-subject", "CN=nobody"],
            exit: 0,
            steps: vec![
                ("chain", "pass", "is itself in the trusted list"),
                ("san", "skip", "skipped by the server"),
            ],
        },
        Case {
            name: "only trusted leaves, another client",
            trusted: vec![testdata("client-other-ca.pem")],
            cert: testdata("client-chain.pem"),
            flags: vec![],
            exit: 1,
            steps: vec![("chain", "fail", "holds no CA certificate")],
        },
    ];
    for c in &cases {
        let v = run_case(c);
        if c.name.starts_with("a trusted leaf") {
            assert!(
                rules(&v).contains(&"leaf-in-trusted-list".to_string()),
                "{v:#}"
            );
        }
    }
}

#[test]
fn human_output_gives_every_step_and_the_decision() {
    let r = run_text(&[
        "mtls",
        "--trusted",
        &testdata("serving-root.pem"),
        "--cert",
        &testdata("client-chain.pem"),
        "--validation",
        "subject",
        "--authorized-subject",
        "CN=redis_user,O=Acme,OU=Ops,OU=dev",
    ]);
    assert_eq!(r.code, 1);
    for want in [
        "pass  chain",
        "pass  key-usage",
        "fail  subject",
        "closest: #1 (--authorized-subject #1)",
        "decision REJECTED: subject",
    ] {
        assert!(r.stdout.contains(want), "{want:?} not in\n{}", r.stdout);
    }
}

/// A client certificate (clientAuth) with subject `subj` (openssl `/K=V/...` form, any number
/// of OUs) issued by testdata's intermediate, valid from now for a year; returns its path.
fn openssl_client_cert(dir: &std::path::Path, name: &str, subj: &str) -> String {
    let key = dir.join(format!("{name}.key"));
    let csr = dir.join(format!("{name}.csr"));
    let ext = write_file(
        dir,
        &format!("{name}.ext"),
        "[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid\n",
    );
    let out = dir.join(name);
    let ok = std::process::Command::new("openssl")
        .args([
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(&key)
        .args(["-subj", subj, "-out"])
        .arg(&csr)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let ok = std::process::Command::new("openssl")
        .args(["x509", "-req", "-days", "365", "-in"])
        .arg(&csr)
        .args([
            "-CA",
            &testdata("intermediate.pem"),
            "-CAkey",
            &testdata("intermediate.key"),
        ])
        .args(["-extfile", &ext, "-extensions", "v3", "-out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    out.display().to_string()
}

/// Subjects made with rcgen and openssl: OU order, case, extra attributes, DNS SAN matching, no EKU.
#[test]
fn generated_subjects_table() {
    use rcgen::{DnType, SanType};
    let dir = tempfile::tempdir().unwrap();
    let ca = gen_ca("Generated Client CA", None);
    let ca_path = write_file(dir.path(), "ca.pem", &ca.pem);
    let cert = |name: &str, attrs: &[(DnType, &str)], dns: &[&str], no_eku: bool| {
        let attrs: Vec<(DnType, String)> = attrs
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        let dns: Vec<String> = dns.iter().map(|d| d.to_string()).collect();
        let pem = gen_leaf(&ca, move |p| {
            for (k, v) in attrs {
                p.distinguished_name.push(k, v);
            }
            p.subject_alt_names = dns
                .into_iter()
                .map(|d| SanType::DnsName(d.try_into().unwrap()))
                .collect();
            if no_eku {
                p.extended_key_usages.clear();
            }
        });
        write_file(dir.path(), name, pem)
    };
    use DnType::{CommonName as CN, OrganizationName as O};
    // rcgen keeps one value per attribute type: several OUs come from openssl.
    let three_ou = openssl_client_cert(dir.path(), "three-ou.pem", "/CN=svc/O=Acme/OU=c/OU=a/OU=b");
    let san_only = cert("san.pem", &[(CN, "svc-01")], &["app.example.com"], false);
    let no_eku = cert("no-eku.pem", &[(CN, "svc"), (O, "Acme")], &[], true);
    let with_country = cert(
        "country.pem",
        &[(CN, "svc"), (O, "Acme"), (DnType::CountryName, "IL")],
        &[],
        false,
    );
    // (cert, flags, exit, step, status, text)
    type Row<'a> = (&'a str, Vec<&'a str>, i32, &'a str, &'a str, &'a str);
    let cases: Vec<Row> = vec![
        (
            &three_ou,
            vec![
                "--validation",
                "subject",
                "--authorized-subject",
                "OU=b,CN=svc,OU=c,O=Acme,OU=a",
            ],
            0,
            "subject",
            "pass",
            "matches",
        ),
        (
            &three_ou,
            vec![
                "--validation",
                "subject",
                "--authorized-subject",
                "CN=svc,O=Acme,OU=a,OU=b",
            ],
            1,
            "subject",
            "fail",
            "the certificate has OU \"c\" that the entry lacks",
        ),
        (
            &three_ou,
            vec![
                "--validation",
                "subject",
                "--authorized-subject",
                "CN=svc,O=Acme,OU=a,OU=b,OU=C",
            ],
            1,
            "subject",
            "fail",
            "OU \"c\" != \"C\" (case-sensitive)",
        ),
        (
            &three_ou,
            vec![
                "--validation",
                "subject",
                "--authorized-subject",
                "CN=svc,O=ACME,OU=a,OU=b,OU=c",
            ],
            1,
            "subject",
            "fail",
            "O \"Acme\" != \"ACME\" (case-sensitive)",
        ),
        (
            &with_country,
            vec![
                "--validation",
                "subject",
                "--authorized-subject",
                "CN=svc,O=Acme",
            ],
            1,
            "subject",
            "fail",
            "the certificate has C \"IL\"",
        ),
        (
            &with_country,
            vec![
                "--validation",
                "subject",
                "--authorized-subject",
                "CN=svc,O=Acme,C=IL",
            ],
            0,
            "subject",
            "pass",
            "",
        ),
        (
            &san_only,
            vec![
                "--validation",
                "san",
                "--authorized-subject",
                "CN=app.example.com",
            ],
            0,
            "san",
            "pass",
            "DNS SAN \"app.example.com\"",
        ),
        (
            &san_only,
            vec!["--validation", "san", "--authorized-subject", "CN=svc-01"],
            0,
            "san",
            "pass",
            "CN \"svc-01\"",
        ),
        (
            &san_only,
            vec![
                "--validation",
                "san",
                "--authorized-subject",
                "CN=App.example.com",
            ],
            1,
            "san",
            "fail",
            "(case-sensitive)",
        ),
        (
            &no_eku,
            vec![],
            0,
            "key-usage",
            "pass",
            "no extended key usage extension",
        ),
    ];
    let int = testdata("intermediate.pem");
    for (cert, flags, exit, name, status, text) in cases {
        let mut args = vec!["--trusted", &ca_path, "--trusted", &int, "--cert", cert];
        args.extend(flags.iter());
        let (v, code, stderr) = mtls_json(&args);
        assert_eq!(code, exit, "{flags:?}: {v:#}\n{stderr}");
        let (s, m) = step(&v, name);
        assert_eq!(s, status, "{flags:?}: {m}");
        assert!(m.contains(text), "{flags:?}: {m:?} lacks {text:?}");
    }
}

#[test]
fn config_json_database_and_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let other_pem = std::fs::read_to_string(testdata("client-other-ca.pem")).unwrap();
    let db = serde_json::json!({
        "uid": 1,
        "name": "orders",
        "tls_mode": "enabled",
        "enforce_client_authentication": "enabled",
        "client_cert_subject_validation_type": "san_cn",
        "authorized_names": ["redis_user"],
        "authentication_ssl_client_certs": [{"client_cert": other_pem}],
        "mtls_allow_outdated_certs": false,
        "some_future_field": [1, 2, 3]
    });
    let db_path = write_file(dir.path(), "bdb.json", db.to_string());
    let root = testdata("serving-root.pem");

    // Deprecated authorized_names still work, with a finding; the declared enforcement is a step.
    let (v, code, _) = mtls_json(&[
        "--trusted",
        &root,
        "--config",
        &db_path,
        "--cert",
        &testdata("client-chain.pem"),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert!(
        rules(&v).contains(&"authorized-names-deprecated".to_string()),
        "{v:#}"
    );
    let (s, m) = step(&v, "enforcement");
    assert_eq!(s, "pass", "{m}");
    assert!(
        m.contains("tls_mode=enabled enforce_client_authentication=enabled"),
        "{m}"
    );
    assert_eq!(v["policy"]["validation_rest"], "san_cn");
    // The pasted client certificate is a trusted leaf: subject validation is skipped.
    let (s, _) = step(&v, "leaf-in-trusted-list");
    assert_eq!(s, "warn");
    let (s, m) = step(&v, "san");
    assert_eq!(s, "skip", "{m}");

    // The certificate pasted in authentication_ssl_client_certs is trusted.
    let (v, code, _) = mtls_json(&[
        "--trusted",
        &root,
        "--config",
        &db_path,
        "--cert",
        &testdata("client-other-ca.pem"),
    ]);
    assert_eq!(code, 0, "{v:#}");
    let (_, m) = step(&v, "chain");
    assert!(m.contains("authentication_ssl_client_certs[0]"), "{m}");

    // A cluster object with full_subject; a flag overrides the file.
    let cluster = serde_json::json!({
        "name": "cluster.example.com",
        "mtls_certificate_authentication": true,
        "mtls_client_cert_subject_validation_type": "full_subject",
        "mtls_authorized_subjects": [{"CN": "redis_user", "O": "Acme", "OU": ["Dev", "Ops"]}]
    });
    let cl_path = write_file(dir.path(), "cluster.json", cluster.to_string());
    let (v, code, _) = mtls_json(&[
        "--trusted",
        &root,
        "--config",
        &cl_path,
        "--cert",
        &testdata("client-chain.pem"),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["policy"]["config"]["kind"], "cluster");
    let (s, m) = step(&v, "subject");
    assert_eq!(s, "pass", "{m}");
    assert!(m.contains("mtls_authorized_subjects[0]"), "{m}");
    let (v, code, _) = mtls_json(&[
        "--trusted",
        &root,
        "--config",
        &cl_path,
        "--validation",
        "none",
        "--cert",
        &testdata("client-chain.pem"),
    ]);
    assert_eq!(code, 0);
    assert!(rules(&v).contains(&"subjects-unused".to_string()), "{v:#}");

    // What the database declares is reported, not enforced on the certificate.
    let lax =
        serde_json::json!({"tls_mode": "enabled", "enforce_client_authentication": "disabled"});
    let lax_path = write_file(dir.path(), "lax.json", lax.to_string());
    let (v, code, _) = mtls_json(&[
        "--trusted",
        &root,
        "--config",
        &lax_path,
        "--cert",
        &testdata("client-chain.pem"),
    ]);
    assert_eq!(code, 0);
    let (s, m) = step(&v, "enforcement");
    assert_eq!(s, "warn");
    assert!(m.contains("client certificates are not required"), "{m}");
}

#[test]
fn input_errors_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad_type = write_file(
        dir.path(),
        "bad-type.json",
        r#"{"client_cert_subject_validation_type": "everything"}"#,
    );
    let bad_ou = write_file(
        dir.path(),
        "bad-ou.json",
        r#"{"authorized_subjects": [{"CN": "a", "OU": 7}]}"#,
    );
    let bad_cert = write_file(
        dir.path(),
        "bad-cert.json",
        r#"{"authentication_ssl_client_certs": [{"client_cert": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}]}"#,
    );
    let not_json = write_file(dir.path(), "x.json", "tls_mode: enabled");
    let empty = write_file(dir.path(), "empty.pem", "");
    let root = testdata("serving-root.pem");
    let client = testdata("client-chain.pem");
    let missing = dir.path().join("nope.pem").display().to_string();
    let keys = testdata("keys-only.pem");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--trusted", &missing, "--cert", &client], "--trusted"),
        (
            vec!["--trusted", &empty, "--cert", &client],
            "file is empty",
        ),
        (vec!["--trusted", &root, "--cert", &missing], "--cert"),
        (
            vec!["--trusted", &root, "--cert", &keys],
            "holds no certificate",
        ),
        (
            vec!["--trusted", &root, "--cert", &client, "--config", &missing],
            "--config",
        ),
        (
            vec!["--trusted", &root, "--cert", &client, "--config", &bad_type],
            "unknown value \"everything\"",
        ),
        (
            vec!["--trusted", &root, "--cert", &client, "--config", &bad_ou],
            "authorized_subjects[0].OU",
        ),
        (
            vec!["--trusted", &root, "--cert", &client, "--config", &bad_cert],
            "authentication_ssl_client_certs[0].client_cert",
        ),
        (
            vec!["--trusted", &root, "--cert", &client, "--config", &not_json],
            "not valid JSON",
        ),
        (
            vec![
                "--trusted",
                &root,
                "--cert",
                &client,
                "--authorized-subject",
                "O=Acme",
            ],
            "CN is required",
        ),
        (
            vec![
                "--trusted",
                &root,
                "--cert",
                &client,
                "--authorized-subject",
                "CN=a,emailAddress=x",
            ],
            "unknown attribute",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["mtls"];
        all.extend(args.iter());
        let r = run_text(&all);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
        assert!(!r.stderr.contains("PRIVATE KEY"));
    }
}

fn chain_of(name: &str) -> Vec<rustls_pki_types::CertificateDer<'static>> {
    tlsprobe::mtls::load_client_chain(std::path::Path::new(&testdata(name))).unwrap()
}

fn rules_args(validation: Option<Validation>, subjects: &[&str]) -> ClientRuleArgs {
    ClientRuleArgs {
        validation,
        authorized_subjects: subjects.iter().map(|s| s.to_string()).collect(),
        config: None,
    }
}

/// The `client-policy` step `verify` shows before connecting.
#[test]
fn client_policy_check_table() {
    let now = 1_800_000_000; // 2027-01-15
    let cases: Vec<(ClientRuleArgs, bool, &str, Status, &[&str])> =
        vec![
        (
            rules_args(None, &[]),
            false,
            "client-chain.pem",
            Status::Pass,
            &["no subject validation configured; clientAuth ok; valid until 2124-01-01T00:00:00Z"],
        ),
        (
            rules_args(Some(Validation::Subject), &["CN=redis_user,O=Acme,OU=Dev,OU=Ops"]),
            false,
            "client-chain.pem",
            Status::Pass,
            &["subject matches authorized subject #1"],
        ),
        (
            rules_args(Some(Validation::Subject), &["CN=redis_user,O=Acme,OU=Ops,OU=dev"]),
            false,
            "client-chain.pem",
            Status::Fail,
            &["no authorized subject matches", "OU \"Dev\" != \"dev\" (case-sensitive)"],
        ),
        (
            rules_args(Some(Validation::San), &["CN=redis_user"]),
            false,
            "client-noclientauth.pem",
            Status::Fail,
            &["without clientAuth"],
        ),
        (
            rules_args(None, &[]),
            false,
            "client-expired.pem",
            Status::Fail,
            &["expired 2025-01-01T00:00:00Z"],
        ),
        (
            rules_args(None, &[]),
            true,
            "client-expired.pem",
            Status::Warn,
            &["outdated client certificates are allowed"],
        ),
    ];
    for (rules, outdated, file, want, texts) in cases {
        let policy = policy_from_rules(&rules, outdated).unwrap();
        let c = client_policy_check(&policy, &chain_of(file), now);
        assert_eq!(c.check, "client-policy");
        assert_eq!(c.status, want, "{file}: {}", c.message);
        for t in texts {
            assert!(c.message.contains(t), "{file}: {:?} lacks {t:?}", c.message);
        }
    }
    assert_eq!(
        client_policy_check(
            &policy_from_rules(&rules_args(None, &[]), false).unwrap(),
            &[],
            now
        )
        .status,
        Status::Skip
    );
}

#[test]
fn policy_from_rules_reads_config_and_rejects_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_file(
        dir.path(),
        "db.json",
        r#"{"client_cert_subject_validation_type": "full_subject", "mtls_allow_outdated_certs": true,
            "authorized_subjects": [{"CN": "redis_user", "O": "Acme", "OU": ["Ops", "Dev"]}]}"#,
    );
    let rules = ClientRuleArgs {
        validation: None,
        authorized_subjects: vec![],
        config: Some(cfg.into()),
    };
    let p = policy_from_rules(&rules, false).unwrap();
    assert_eq!(p.validation, Validation::Subject);
    assert!(p.allow_outdated);
    assert_eq!(p.authorized.len(), 1);
    let c = client_policy_check(&p, &chain_of("client-chain.pem"), 1_800_000_000);
    assert_eq!(c.status, Status::Pass, "{}", c.message);

    let e = policy_from_rules(&rules_args(None, &["CN=a,CN=b"]), false).unwrap_err();
    assert!(
        e.subject.to_string().starts_with("--authorized-subject"),
        "{e}"
    );
    assert!(e.message.contains("CN is given twice"), "{e}");
}

/// A real redis-server that requires client certificates signed by serving-root decides as
/// `mtls` predicted: it rejects client-other-ca and accepts client-chain.
#[test]
fn redis_server_decides_as_mtls_predicted() {
    let server = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        auth_clients: Some("yes"),
        client_ca: Some("serving-root.pem"),
        ..Default::default()
    });
    let root = testdata("serving-root.pem");
    for (cert, key, predicted) in [
        ("client-other-ca.pem", "client-other-ca.key", false),
        ("client-chain.pem", "client.key", true),
    ] {
        let (v, code, _) = mtls_json(&["--trusted", &root, "--cert", &testdata(cert)]);
        assert_eq!(v["accepted"], predicted, "mtls {cert}: {v:#}");
        assert_eq!(code, if predicted { 0 } else { 1 });

        let r = run_text(&[
            "verify",
            "--format",
            "json",
            "--cacert",
            &root,
            "--cert",
            &testdata(cert),
            "--key",
            &testdata(key),
            &server.url(),
        ]);
        let v: Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr));
        let accepted_by_server = r.code == 0;
        assert_eq!(
            accepted_by_server, predicted,
            "verify {cert} (exit {}): {v:#}",
            r.code
        );
        if !predicted {
            let step = v["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["check"] == "client-cert")
                .unwrap();
            assert_eq!(step["status"], "fail", "{v:#}");
        }
    }
}

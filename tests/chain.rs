//! `tlsprobe chain`: offline path validation against the testdata PKI and PKIs (with CRLs)
//! generated here with rcgen. Exit codes: 0 valid, 1 invalid, 2 input error.

mod support;

use serde_json::Value;
use support::{gen_ca, gen_leaf, run_text, testdata, write_file};

/// `chain --format json ARGS`: (report, exit code, stderr).
fn chain_json(args: &[&str]) -> (Value, i32, String) {
    let mut all = vec!["chain", "--format", "json"];
    all.extend_from_slice(args);
    let r = run_text(&all);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr));
    (v, r.code, r.stderr)
}

#[test]
fn valid_path_names_the_anchor_file_and_index() {
    let (v, code, _) = chain_json(&[
        "--cacert",
        &testdata("redis_ca.pem"),
        &testdata("server-chain.pem"),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["valid"], true);
    assert!(v["error"].is_null());
    assert_eq!(v["anchor"]["index"], 3);
    assert!(v["anchor"]["file"]
        .as_str()
        .unwrap()
        .ends_with("redis_ca.pem"));
    let path = v["path"].as_array().unwrap();
    let roles: Vec<&str> = path.iter().map(|p| p["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["leaf", "intermediate", "anchor"]);
    // The intermediate came from the LEAF file itself (its second certificate).
    assert!(path[1]["file"]
        .as_str()
        .unwrap()
        .ends_with("server-chain.pem"));
    assert_eq!(path[1]["index"], 1);
    assert_eq!(path[2]["index"], 3);
    for p in path {
        for k in ["file", "index", "subject", "not_after", "role"] {
            assert!(!p[k].is_null(), "{k} missing in {p}");
        }
    }
}

#[test]
fn human_output_shows_the_path() {
    let r = run_text(&[
        "chain",
        "--cacert",
        &testdata("redis_ca.pem"),
        &testdata("server-chain.pem"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("valid    path to"), "{}", r.stdout);
    assert!(r.stdout.contains("redis_ca.pem #3"), "{}", r.stdout);
    assert!(r.stdout.contains("verdict  VALID"), "{}", r.stdout);
}

#[test]
fn untrusted_intermediates_from_their_own_file() {
    let (v, code, _) = chain_json(&[
        "--cacert",
        &testdata("serving-root.pem"),
        "--untrusted",
        &testdata("bundle-duplicates.pem"),
        &testdata("server.pem"),
    ]);
    assert_eq!(code, 0, "{v}");
    let path = v["path"].as_array().unwrap();
    assert!(path[1]["file"]
        .as_str()
        .unwrap()
        .ends_with("bundle-duplicates.pem"));
    assert_eq!(path[1]["index"], 1);
}

/// (args after --cacert serving-root.pem, exit code, error kind, text the message must contain)
#[test]
fn failures_table() {
    let int = testdata("intermediate.pem");
    let cases: Vec<(Vec<String>, i32, &str, Vec<&str>)> = vec![
        (
            vec![testdata("server.pem")],
            1,
            "unknown-issuer",
            vec!["\"CN=tlsprobe Test Intermediate CA, O=tlsprobe tests\", the issuer of leaf"],
        ),
        (
            vec![
                "--purpose".into(),
                "client".into(),
                testdata("client-other-ca.pem"),
            ],
            1,
            "unknown-issuer",
            vec!["CN=Other Test Root CA, O=Elsewhere"],
        ),
        (
            vec![testdata("server-expired-chain.pem")],
            1,
            "expired",
            vec![
                "expired 2025-01-01T00:00:00Z",
                "valid 2024-01-01T00:00:00Z .. 2025-01-01T00:00:00Z",
            ],
        ),
        (
            vec![
                "--at".into(),
                "2124-06-01T00:00:00Z".into(),
                testdata("server-chain.pem"),
            ],
            1,
            "expired",
            vec![
                "expired 2124-01-01T00:00:00Z",
                "evaluated at 2124-06-01T00:00:00Z",
            ],
        ),
        (
            vec![testdata("server-notyet-chain.pem")],
            1,
            "not-yet-valid",
            vec!["not valid before 2100-01-01T00:00:00Z"],
        ),
        (
            vec![
                "--name".into(),
                "db.example.com".into(),
                testdata("server-chain.pem"),
            ],
            1,
            "name-mismatch",
            vec![
                "not valid for db.example.com",
                "DNS:localhost, IP:127.0.0.1, IP:::1",
            ],
        ),
        (
            vec![
                "--name".into(),
                "localhost".into(),
                testdata("server-wrong-name-chain.pem"),
            ],
            1,
            "name-mismatch",
            vec!["it names DNS:wrong.example.com"],
        ),
        (
            vec![
                "--purpose".into(),
                "client".into(),
                testdata("server-chain.pem"),
            ],
            1,
            "wrong-purpose",
            vec![
                "not valid for TLS client authentication",
                "serverAuth, without clientAuth",
            ],
        ),
        (
            vec!["--untrusted".into(), int.clone(), testdata("client.pem")],
            1,
            "wrong-purpose",
            vec!["--purpose client"],
        ),
        (
            vec![
                "--max-depth".into(),
                "0".into(),
                testdata("server-chain.pem"),
            ],
            1,
            "max-depth",
            vec!["1 intermediate, more than --max-depth 0"],
        ),
        (
            vec![testdata("sha1.pem")],
            1,
            "unsupported-algorithm",
            vec!["sha1WithRSAEncryption"],
        ),
        (
            vec![
                "--strict".into(),
                "--untrusted".into(),
                int.clone(),
                testdata("rsa1024.pem"),
            ],
            1,
            "strict",
            vec!["weak-key"],
        ),
        (
            vec![testdata("intermediate.pem")],
            1,
            "ca-as-leaf",
            vec!["put the leaf first"],
        ),
    ];
    for (args, want_code, kind, texts) in cases {
        let mut all: Vec<&str> = vec!["--cacert"];
        let root = testdata("serving-root.pem");
        all.push(&root);
        all.extend(args.iter().map(String::as_str));
        let (v, code, stderr) = chain_json(&all);
        assert_eq!(code, want_code, "{args:?}: {v}\n{stderr}");
        assert_eq!(v["valid"], false, "{args:?}");
        assert_eq!(v["error"]["kind"], kind, "{args:?}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        for t in texts {
            assert!(msg.contains(t), "{args:?}: {msg:?} lacks {t:?}");
        }
    }
}

#[test]
fn max_depth_allows_exactly_n_intermediates() {
    let (v, code, _) = chain_json(&[
        "--cacert",
        &testdata("serving-root.pem"),
        "--max-depth",
        "1",
        &testdata("server-chain.pem"),
    ]);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn purpose_client_accepts_client_certificates() {
    let (v, code, _) = chain_json(&[
        "--cacert",
        &testdata("serving-root.pem"),
        "--purpose",
        "client",
        &testdata("client-chain.pem"),
    ]);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn strict_findings_on_weak_certificates() {
    // rsa1024: valid for webpki (the weak key signs nothing); listed as a warning by default...
    let args = [
        "--cacert",
        &testdata("serving-root.pem"),
        "--untrusted",
        &testdata("intermediate.pem"),
    ];
    let mut plain = args.to_vec();
    let leaf = testdata("rsa1024.pem");
    plain.push(&leaf);
    let (v, code, _) = chain_json(&plain);
    assert_eq!(code, 0, "{v}");
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "weak-key");
    assert_eq!(f["severity"], "warn");
    // ...and a failure under --strict.
    let mut strict = plain.clone();
    strict.insert(0, "--strict");
    let (v, code, _) = chain_json(&strict);
    assert_eq!(code, 1);
    assert_eq!(v["findings"][0]["severity"], "error");
    // sha1: rejected by webpki anyway; --strict names the weak signature.
    let (v, code, _) = chain_json(&[
        "--strict",
        "--cacert",
        &testdata("serving-root.pem"),
        &testdata("sha1.pem"),
    ]);
    assert_eq!(code, 1);
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"weak-signature"), "{v}");
    // A well-formed chain has no profile problems.
    let (v, code, _) = chain_json(&[
        "--strict",
        "--cacert",
        &testdata("serving-root.pem"),
        &testdata("server-chain.pem"),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{v}");
}

/// A generated PKI: root -> intermediate -> two leaves, one revoked by the intermediate's CRL.
struct CrlPki {
    dir: tempfile::TempDir,
    root: String,
    inter: String,
    good: String,
    revoked: String,
    inter_crl_pem: String,
    inter_crl_der: String,
    root_crl: String,
}

fn crl_pki() -> CrlPki {
    use rcgen::{
        CertificateRevocationListParams, DnType, KeyIdMethod, RevocationReason, RevokedCertParams,
        SerialNumber,
    };
    let dir = tempfile::tempdir().unwrap();
    let root = gen_ca("CRL Test Root", None);
    let inter = gen_ca("CRL Test Intermediate", Some(&root));
    let leaf = |serial: u64, cn: &str| {
        gen_leaf(&inter, |p| {
            p.distinguished_name.push(DnType::CommonName, cn);
            p.serial_number = Some(SerialNumber::from(serial));
            p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
            p.subject_alt_names = vec![rcgen::SanType::DnsName(
                "db.example.com".try_into().unwrap(),
            )];
        })
    };
    let good = leaf(1001, "good.example.com");
    let revoked = leaf(1002, "revoked.example.com");
    let crl = |revoked: Vec<RevokedCertParams>| CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(2025, 1, 1),
        next_update: rcgen::date_time_ymd(2124, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: revoked,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let inter_crl = crl(vec![RevokedCertParams {
        serial_number: SerialNumber::from(1002u64),
        revocation_time: rcgen::date_time_ymd(2025, 2, 1),
        reason_code: Some(RevocationReason::KeyCompromise),
        invalidity_date: None,
    }])
    .signed_by(&inter.issuer)
    .unwrap();
    let root_crl = crl(vec![]).signed_by(&root.issuer).unwrap();
    let d = dir.path();
    CrlPki {
        root: write_file(d, "root.pem", &root.pem),
        inter: write_file(d, "inter.pem", &inter.pem),
        good: write_file(d, "good.pem", good),
        revoked: write_file(d, "revoked.pem", revoked),
        inter_crl_pem: write_file(d, "inter-crl.pem", inter_crl.pem().unwrap()),
        inter_crl_der: write_file(d, "inter-crl.der", inter_crl.der().as_ref()),
        root_crl: write_file(d, "root-crl.pem", root_crl.pem().unwrap()),
        dir,
    }
}

#[test]
fn crl_revocation_for_the_whole_chain() {
    let pki = crl_pki();
    let base = |leaf: &str, crls: &[&str]| {
        let mut a = vec![
            "--cacert".to_string(),
            pki.root.clone(),
            "--untrusted".into(),
            pki.inter.clone(),
            "--at".into(),
            "2026-01-01T00:00:00Z".into(),
        ];
        for c in crls {
            a.push("--crl".into());
            a.push(c.to_string());
        }
        a.push(leaf.to_string());
        a
    };
    // (leaf, CRLs, exit, error kind or "", text)
    let cases: Vec<(&str, Vec<&str>, i32, &str, &str)> = vec![
        (&pki.good, vec![], 0, "", ""),
        (&pki.revoked, vec![], 0, "", ""),
        (
            &pki.good,
            vec![&pki.inter_crl_pem, &pki.root_crl],
            0,
            "",
            "",
        ),
        (
            &pki.revoked,
            vec![&pki.inter_crl_pem, &pki.root_crl],
            1,
            "revoked",
            "revoked.example.com",
        ),
        (
            &pki.revoked,
            vec![&pki.inter_crl_der, &pki.root_crl],
            1,
            "revoked",
            "reason KeyCompromise",
        ),
        (
            &pki.good,
            vec![&pki.inter_crl_pem],
            1,
            "revocation-unknown",
            "no --crl holds a CRL issued by \"CN=CRL Test Root\"",
        ),
    ];
    for (leaf, crls, want, kind, text) in cases {
        let args = base(leaf, &crls);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (v, code, stderr) = chain_json(&refs);
        assert_eq!(code, want, "{args:?}: {v}\n{stderr}");
        if want == 0 {
            assert_eq!(v["valid"], true);
        } else {
            assert_eq!(v["error"]["kind"], kind, "{v}");
            let msg = v["error"]["message"].as_str().unwrap();
            assert!(msg.contains(text), "{msg}");
        }
    }
    // The revocation message gives the date and which CRL.
    let args = base(&pki.revoked, &[&pki.inter_crl_pem, &pki.root_crl]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (v, _, _) = chain_json(&refs);
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("revoked 2025-02-01T00:00:00Z"), "{msg}");
    assert!(msg.contains("inter-crl.pem"), "{msg}");
    drop(pki.dir);
}

#[test]
fn input_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write_file(dir.path(), "empty.pem", "");
    let bad_crl = write_file(dir.path(), "bad.crl", "not a crl at all\n");
    let bad_der_crl = write_file(dir.path(), "bad.der", [0x30u8, 0x03, 0x02, 0x01, 0x01]);
    let missing = dir.path().join("missing.pem").display().to_string();
    let root = testdata("serving-root.pem");
    let leaf = testdata("server-chain.pem");
    let keys = testdata("keys-only.pem");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--cacert", &missing, &leaf], "--cacert"),
        (vec!["--cacert", &root, &missing], "LEAF"),
        (vec!["--cacert", &empty, &leaf], "file is empty"),
        (vec!["--cacert", &keys, &leaf], "holds no certificate"),
        (
            vec!["--cacert", &root, "--untrusted", &missing, &leaf],
            "--untrusted",
        ),
        (vec!["--cacert", &root, "--crl", &missing, &leaf], "--crl"),
        (
            vec!["--cacert", &root, "--crl", &bad_crl, &leaf],
            "not a valid CRL",
        ),
        (
            vec!["--cacert", &root, "--crl", &bad_der_crl, &leaf],
            "--crl",
        ),
        (
            vec!["--cacert", &root, "--crl", &root, &leaf],
            "holds no CRL",
        ),
        (
            vec!["--cacert", &root, "--name", "not a name!", &leaf],
            "--name",
        ),
        (vec!["--cacert", &root, &keys], "holds no certificate"),
    ];
    for (args, want) in cases {
        let mut all = vec!["chain"];
        all.extend(args.iter());
        let r = run_text(&all);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

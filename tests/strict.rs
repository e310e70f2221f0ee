//! `--strict`: the profile rules of src/pki/strict through the binary. `tlsprobe chain
//! --strict` (human and JSON) on chains generated here with rcgen and on the openssl
//! fixtures of testdata/strict; `verify --strict` and audit policy `strict = true` against
//! a real TLS redis-server. Exit codes: 0 valid, 1 invalid.

mod support;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use serde_json::Value;
use support::{
    long_lived, message, run_text, status, testdata, verify_json, write_file, RedisOpts,
    RedisServer,
};

/// `chain ARGS` with and without `--strict`, in JSON: ((report, code) default, strict).
fn both(args: &[&str]) -> ((Value, i32), (Value, i32)) {
    let json = |strict: bool| {
        let mut all = vec!["chain", "--format", "json"];
        if strict {
            all.push("--strict");
        }
        all.extend_from_slice(args);
        let r = run_text(&all);
        let v: Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr));
        (v, r.code)
    };
    (json(false), json(true))
}

fn rules(v: &Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// A CA made with rcgen, with `tweak` applied to its parameters.
struct Ca {
    pem: String,
    issuer: rcgen::CertifiedIssuer<'static, KeyPair>,
}

fn ca(cn: &str, parent: Option<&Ca>, tweak: impl FnOnce(&mut CertificateParams)) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.use_authority_key_identifier_extension = parent.is_some();
    long_lived(&mut p);
    tweak(&mut p);
    let key = KeyPair::generate().unwrap();
    let issuer = match parent {
        Some(par) => rcgen::CertifiedIssuer::signed_by(p, key, &par.issuer).unwrap(),
        None => rcgen::CertifiedIssuer::self_signed(p, key).unwrap(),
    };
    Ca {
        pem: issuer.pem(),
        issuer,
    }
}

/// A conforming server leaf `CN=db.example.com` issued by `ca`, with `tweak` applied.
fn server_leaf(ca: &Ca, tweak: impl FnOnce(&mut CertificateParams)) -> String {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "db.example.com");
    p.subject_alt_names = vec![SanType::DnsName("db.example.com".try_into().unwrap())];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    long_lived(&mut p);
    tweak(&mut p);
    let key = KeyPair::generate().unwrap();
    p.signed_by(&key, &ca.issuer).unwrap().pem()
}

/// A generated root -> intermediate -> leaf, written to a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
    root: String,
    inter: String,
    leaf: String,
}

impl Pki {
    fn new(
        root_tweak: impl FnOnce(&mut CertificateParams),
        inter_tweak: impl FnOnce(&mut CertificateParams),
        leaf_tweak: impl FnOnce(&mut CertificateParams),
    ) -> Pki {
        let root = ca("Strict Test Root", None, root_tweak);
        let inter = ca("Strict Test Intermediate", Some(&root), inter_tweak);
        let leaf = server_leaf(&inter, leaf_tweak);
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        Pki {
            root: write_file(d, "root.pem", &root.pem),
            inter: write_file(d, "inter.pem", &inter.pem),
            leaf: write_file(d, "leaf.pem", leaf),
            dir,
        }
    }
    fn args(&self) -> Vec<&str> {
        vec![
            "--cacert",
            &self.root,
            "--untrusted",
            &self.inter,
            &self.leaf,
        ]
    }
}

fn nothing(_: &mut CertificateParams) {}

#[test]
fn conforming_chains_pass_strict() {
    let pki = Pki::new(nothing, nothing, nothing);
    let ((v, code), (s, scode)) = both(&pki.args());
    assert_eq!((code, scode), (0, 0), "{v}\n{s}");
    assert_eq!(rules(&s), Vec::<String>::new(), "{s}");
    assert_eq!(s["valid"], true);
    assert_eq!(s["strict"], true);
    // The testdata PKI (openssl-made) conforms too.
    let ((_, code), (s, scode)) = both(&[
        "--cacert",
        &testdata("serving-root.pem"),
        &testdata("server-chain.pem"),
    ]);
    assert_eq!((code, scode), (0, 0), "{s}");
    assert_eq!(rules(&s), Vec::<String>::new(), "{s}");
    drop(pki.dir);
}

#[test]
fn trust_anchor_false_positives_are_gone() {
    // A root with serial 0 and no AKI (rcgen writes none on a self-signed CA), and an
    // intermediate without a keyUsage extension: none of it is a violation.
    let pki = Pki::new(
        |p| p.serial_number = Some(SerialNumber::from(vec![0u8])),
        |p| p.key_usages = vec![],
        nothing,
    );
    let ((v, code), (s, scode)) = both(&pki.args());
    assert_eq!((code, scode), (0, 0), "{v}\n{s}");
    assert_eq!(rules(&s), Vec::<String>::new(), "{s}");
    drop(pki.dir);
}

/// Each case: a chain webpki accepts, the rule it violates and the position of the
/// certificate (0 = leaf, 2 = anchor). Default mode lists it as a warning and passes;
/// `--strict` fails with exit 1 and names the rule, the certificate and the section.
#[test]
fn strict_fails_what_webpki_lets_through() {
    type Tweak = fn(&mut CertificateParams);
    let cases: Vec<(&str, usize, Tweak, Tweak)> = vec![
        ("cn-not-in-san", 0, nothing, |p| {
            p.distinguished_name
                .push(DnType::CommonName, "DB.example.com")
        }),
        ("dns-san-invalid", 0, nothing, |p| {
            p.subject_alt_names.push(SanType::DnsName(
                "under_score.example.com".try_into().unwrap(),
            ))
        }),
        ("wildcard-public-suffix", 0, nothing, |p| {
            p.subject_alt_names
                .push(SanType::DnsName("*.github.io".try_into().unwrap()))
        }),
        ("leaf-any-eku", 0, nothing, |p| {
            p.extended_key_usages.push(ExtendedKeyUsagePurpose::Any)
        }),
        ("leaf-missing-eku", 0, nothing, |p| {
            p.extended_key_usages = vec![]
        }),
        ("missing-aki", 0, nothing, |p| {
            p.use_authority_key_identifier_extension = false
        }),
        ("serial-not-positive", 0, nothing, |p| {
            p.serial_number = Some(SerialNumber::from(vec![0u8]))
        }),
        (
            "unknown-critical-extension",
            2,
            |p| {
                let mut e =
                    CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![5, 0]);
                e.set_criticality(true);
                p.custom_extensions.push(e);
            },
            nothing,
        ),
        (
            "anchor-expired",
            2,
            |p| p.not_after = rcgen::date_time_ymd(2025, 6, 1),
            nothing,
        ),
        (
            "root-has-eku",
            2,
            |p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth],
            nothing,
        ),
    ];
    for (rule, pos, root_tweak, leaf_tweak) in cases {
        let pki = Pki::new(root_tweak, nothing, leaf_tweak);
        let args = pki.args();
        let ((v, code), (s, scode)) = both(&args);
        assert_eq!(code, 0, "{rule}: webpki should accept it: {v}");
        assert!(rules(&v).contains(&rule.to_string()), "{rule}: {v}");
        assert!(
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["severity"] != "error"),
            "{rule}: default mode lists warnings only: {v}"
        );
        assert_eq!(scode, 1, "{rule}: {s}");
        assert_eq!(s["valid"], false);
        assert_eq!(s["error"]["kind"], "strict", "{rule}: {s}");
        assert!(
            s["error"]["message"].as_str().unwrap().contains(rule),
            "{s}"
        );
        let f = s["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule}: {s}"));
        assert_eq!(f["severity"], "error", "{f}");
        assert_eq!(f["cert"], pos, "{rule}: {f}");
        assert_eq!(f["role"], if pos == 0 { "leaf" } else { "anchor" }, "{f}");
        let want_subject = if pos == 0 {
            "db.example.com"
        } else {
            "strict test root"
        };
        let subject = f["subject"].as_str().unwrap().to_ascii_lowercase();
        assert!(subject.contains(want_subject), "{f}");
        assert!(
            f["section"].as_str().unwrap().starts_with("RFC 5280")
                || f["section"].as_str().unwrap().starts_with("CA/B BR"),
            "{f}"
        );
        // Human output: rule id, certificate and section on one line; exit code 1.
        let mut human = vec!["chain", "--strict"];
        human.extend_from_slice(&args);
        let r = run_text(&human);
        assert_eq!(r.code, 1, "{rule}: {}", r.stdout);
        let line = r
            .stdout
            .lines()
            .find(|l| l.contains(rule) && l.contains("error"))
            .unwrap_or_else(|| panic!("{rule}: {}", r.stdout));
        let role = if pos == 0 { "leaf" } else { "anchor" };
        assert!(line.contains(&format!("#{pos} {role} ")), "{line}");
        assert!(line.contains(f["section"].as_str().unwrap()), "{line}");
        assert!(
            r.stdout.contains("verdict  INVALID (strict)"),
            "{}",
            r.stdout
        );
        drop(pki.dir);
    }
}

/// The openssl fixtures of testdata/strict (keys rcgen cannot make).
#[test]
fn openssl_fixtures_fail_their_rules() {
    let root = testdata("serving-root.pem");
    let inter = testdata("intermediate.pem");
    for (file, rule) in [
        ("strict/leaf-dsa.pem", "dsa-key"),
        ("strict/leaf-p192.pem", "weak-key"),
        ("strict/leaf-rsa2052.pem", "rsa-modulus-not-multiple-of-8"),
        ("strict/server-cn-case-chain.pem", "cn-not-in-san"),
    ] {
        let leaf = testdata(file);
        let ((v, code), (s, scode)) = both(&["--cacert", &root, "--untrusted", &inter, &leaf]);
        assert_eq!(code, 0, "{file}: {v}");
        assert_eq!(scode, 1, "{file}: {s}");
        assert_eq!(rules(&s), vec![rule.to_string()], "{file}: {s}");
        assert_eq!(s["findings"][0]["cert"], 0);
    }
}

#[test]
fn crl_rules() {
    let root = testdata("serving-root.pem");
    let leaf = testdata("server-chain.pem");
    let no_number = testdata("strict/crl-intermediate-no-number.pem");
    let root_crl = testdata("strict/crl-root.pem");
    let ((v, code), (s, scode)) = both(&[
        "--cacert", &root, "--crl", &no_number, "--crl", &root_crl, &leaf,
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(scode, 1, "{s}");
    assert_eq!(rules(&s), vec!["crl-missing-number".to_string()], "{s}");
    let f = &s["findings"][0];
    assert!(f["cert"].is_null(), "{f}");
    assert!(
        f["subject"]
            .as_str()
            .unwrap()
            .contains("crl-intermediate-no-number.pem"),
        "{f}"
    );
    assert_eq!(f["section"], "RFC 5280 5.2.3");

    // A CRL signed by an anchor whose keyUsage lacks cRLSign: webpki cannot tell (a trust
    // anchor carries no key usage for it), --strict can.
    let ca = testdata("strict/ca-no-crlsign.pem");
    let crl = testdata("strict/crl-no-crlsign.pem");
    let leaf = testdata("strict/leaf-of-ca-no-crlsign.pem");
    let ((v, code), (s, scode)) = both(&["--cacert", &ca, "--crl", &crl, &leaf]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(scode, 1, "{s}");
    assert_eq!(rules(&s), vec!["crl-issuer-no-crlsign".to_string()], "{s}");
}

/// Chains webpki rejects stay rejected in both modes, with webpki's reason.
#[test]
fn webpki_rejected_chains_stay_rejected() {
    let root = testdata("serving-root.pem");
    let pki = Pki::new(nothing, nothing, |p| {
        let mut e = CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 2], vec![5, 0]);
        e.set_criticality(true);
        p.custom_extensions.push(e);
    });
    let sha1 = testdata("sha1.pem");
    let expired = testdata("server-expired-chain.pem");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--cacert", &root, &sha1],
        vec!["--cacert", &root, &expired],
        pki.args(),
    ];
    for args in cases {
        let ((v, code), (s, scode)) = both(&args);
        assert_eq!((code, scode), (1, 1), "{args:?}: {v}\n{s}");
        assert_eq!(v["valid"], false);
        assert_eq!(s["valid"], false);
        assert_eq!(v["error"]["kind"], s["error"]["kind"], "{args:?}");
        assert_ne!(s["error"]["kind"], "strict");
    }
    // The unknown critical extension on the leaf is named under --strict too.
    let (_, (s, _)) = both(&pki.args());
    assert!(
        rules(&s).contains(&"unknown-critical-extension".to_string()),
        "{s}"
    );
}

/// A real TLS redis-server serving a chain webpki accepts but `cn-not-in-san` rejects.
#[test]
fn verify_strict_against_redis() {
    let server = RedisServer::start(RedisOpts {
        tls: Some((
            "strict/server-cn-case-chain.pem",
            "strict/server-cn-case.key",
        )),
        ..RedisOpts::default()
    });
    let ca = testdata("serving-root.pem");
    let url = server.url();
    let (v, code, stderr) = verify_json(&["--cacert", &ca, &url]);
    assert_eq!(code, 0, "{v}\n{stderr}");
    assert_eq!(v["verdict"], "pass");
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["check"] != "strict"),
        "{v}"
    );

    let (v, code, _) = verify_json(&["--strict", "--cacert", &ca, &url]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["verdict"], "fail");
    assert_eq!(status(&v, "strict"), "fail", "{v}");
    assert_eq!(status(&v, "chain-trust"), "pass", "{v}");
    let msg = message(&v, "strict");
    assert!(msg.contains("cn-not-in-san"), "{msg}");
    assert!(msg.contains("#0 leaf CN=LOCALHOST"), "{msg}");
    assert!(msg.contains("CA/B BR 7.1.2.7.2"), "{msg}");
    // The step sits right after expiry.
    let order: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    let at = order.iter().position(|c| *c == "strict").unwrap();
    assert_eq!(order[at - 1], "expiry", "{order:?}");

    let r = run_text(&["verify", "--strict", "--cacert", &ca, &url]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("fail  strict") && l.contains("cn-not-in-san")),
        "{}",
        r.stdout
    );

    // A conforming server passes the step.
    let good = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        ..RedisOpts::default()
    });
    let (v, code, _) = verify_json(&["--strict", "--cacert", &ca, &good.url()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(status(&v, "strict"), "pass", "{v}");

    // Audit policy strict = true: the same step fails the target.
    let dir = tempfile::tempdir().unwrap();
    let inventory = |strict: bool| {
        format!(
            "[[target]]\nid = \"cn-case\"\nurl = \"{url}\"\ncacert = \"{ca}\"\n\n[policy]\nstrict = {strict}\n"
        )
    };
    for (strict, want) in [(false, 0), (true, 1)] {
        let inv = write_file(dir.path(), "inv.toml", inventory(strict));
        let r = run_text(&["audit", "--quiet", "--format", "json", &inv]);
        assert_eq!(
            r.code, want,
            "strict = {strict}: {}\n{}",
            r.stdout, r.stderr
        );
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        let t = &v["targets"][0];
        let step = t["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "strict");
        match strict {
            false => assert!(step.is_none(), "{t}"),
            true => {
                let step = step.unwrap();
                assert_eq!(step["status"], "fail", "{t}");
                assert!(step["message"].as_str().unwrap().contains("cn-not-in-san"));
            }
        }
    }
}

#[test]
fn strict_key_in_policy_must_be_a_boolean() {
    let dir = tempfile::tempdir().unwrap();
    let inv = write_file(
        dir.path(),
        "inv.toml",
        "[[target]]\nid = \"x\"\nurl = \"rediss://127.0.0.1:1\"\n\n[policy]\nstrict = \"yes\"\n",
    );
    let r = run_text(&["audit", "--quiet", &inv]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    // The line of the `strict` key, and what was wrong.
    assert!(r.stderr.contains("inv.toml:6:"), "{}", r.stderr);
    assert!(r.stderr.contains("expected a boolean"), "{}", r.stderr);
}

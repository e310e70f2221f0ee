//! One test per rule, named after its id: a certificate (or CRL) made for the rule that
//! fails it, and one that passes. `every_rule_has_a_test` keeps the table and the tests in
//! step, and `readme_lists_every_rule` the table and the README.

use super::testcert::*;
use super::*;

/// A path to judge: leaf first.
struct P {
    certs: Vec<Spec>,
    anchor: Option<usize>,
    profile: LeafProfile,
    crls: Vec<Vec<u8>>,
    now: UnixSeconds,
}

/// 2026-01-01T00:00:00Z, inside every fixture's validity.
const NOW: UnixSeconds = 1_767_225_600;

fn p(leaf: Spec, inter: Spec, root: Spec) -> P {
    P {
        certs: vec![leaf, inter, root],
        anchor: Some(2),
        profile: LeafProfile::Server,
        crls: vec![],
        now: NOW,
    }
}

fn good() -> P {
    p(leaf(), inter(), root())
}
fn with_leaf(l: Spec) -> P {
    p(l, inter(), root())
}
fn with_inter(i: Spec) -> P {
    p(leaf(), i, root())
}
fn with_root(r: Spec) -> P {
    p(leaf(), inter(), r)
}

impl P {
    fn findings(&self) -> Vec<ProfileFinding> {
        let ders: Vec<Vec<u8>> = self.certs.iter().map(Spec::der).collect();
        for d in &ders {
            assert!(
                x509_parser::parse_x509_certificate(d).is_ok(),
                "fixture does not parse"
            );
        }
        let refs: Vec<&[u8]> = ders.iter().map(Vec::as_slice).collect();
        let crls: Vec<CrlInput<'_>> = self
            .crls
            .iter()
            .enumerate()
            .map(|(i, d)| CrlInput {
                der: d,
                label: format!("test CRL #{i}"),
            })
            .collect();
        check_path(
            &refs,
            self.anchor,
            &crls,
            &Options {
                profile: self.profile,
                now: self.now,
            },
        )
    }
    /// The positions at which `rule` fires.
    fn at(&self, rule: &str) -> Vec<Option<usize>> {
        self.findings()
            .into_iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.cert)
            .collect()
    }
}

/// `fail` violates `rule` at `pos` (and only there); `pass` does not violate it.
fn check(rule: &str, fail: P, pos: Option<usize>, pass: P) {
    assert!(RULES.iter().any(|r| r.id == rule), "no rule {rule}");
    assert_eq!(fail.at(rule), vec![pos], "{rule}: {:#?}", fail.findings());
    assert!(
        pass.at(rule).is_empty(),
        "{rule} on the passing path: {:#?}",
        pass.findings()
    );
}

#[test]
fn conforming_path_has_no_findings() {
    assert_eq!(good().findings(), vec![]);
    let mut client = good();
    client.profile = LeafProfile::Other;
    assert_eq!(client.findings(), vec![]);
}

#[test]
fn findings_name_rule_cert_subject_and_section() {
    let f = with_leaf(leaf().without(OID_AKI)).findings();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].rule, "missing-aki");
    assert_eq!(f[0].section, "RFC 5280 4.2.1.1");
    assert_eq!(f[0].cert, Some(0));
    assert_eq!(f[0].role, Some(Role::Leaf));
    assert_eq!(f[0].subject, "CN=www.example.com");
    assert_eq!(f[0].about(), "#0 leaf CN=www.example.com");
}

#[test]
fn trust_anchor_false_positives_are_gone() {
    // A real, widely trusted root has serial 0; roots need no AKI; CAs need no keyUsage.
    let r = root().without(OID_AKI).without(OID_KU);
    let mut r = r;
    r.serial = vec![0];
    let i = inter().without(OID_KU);
    assert_eq!(p(leaf(), i, r).findings(), vec![]);
    // Nor does a non-self-signed anchor without AKI (a cross-signed CA trusted directly).
    let mut cross = inter().without(OID_AKI);
    cross.issuer = name(Some("Someone Else"));
    let mut two = P {
        certs: vec![leaf(), cross],
        anchor: Some(1),
        ..good()
    };
    assert_eq!(two.findings(), vec![]);
    two.anchor = None;
    assert_eq!(two.at("missing-aki"), vec![Some(1)]);
}

#[test]
fn aki_critical() {
    check(
        "aki-critical",
        with_leaf(leaf().set(OID_AKI, true, aki(&[2; 20]))),
        Some(0),
        good(),
    );
}

#[test]
fn ski_critical() {
    check(
        "ski-critical",
        with_inter(inter().set(OID_SKI, true, ski(&[2; 20]))),
        Some(1),
        good(),
    );
}

#[test]
fn ca_basic_constraints_missing() {
    check(
        "ca-basic-constraints-missing",
        with_inter(inter().without(OID_BC)),
        Some(1),
        good(),
    );
    check(
        "ca-basic-constraints-missing",
        with_inter(inter().set(OID_BC, true, bc(false))),
        Some(1),
        good(),
    );
}

#[test]
fn ca_basic_constraints_not_critical() {
    check(
        "ca-basic-constraints-not-critical",
        with_inter(inter().set(OID_BC, false, bc(true))),
        Some(1),
        good(),
    );
}

#[test]
fn name_constraints_not_critical() {
    let nc = nc_permitted(&["example.com"]);
    check(
        "name-constraints-not-critical",
        with_inter(inter().set(OID_NC, false, nc.clone())),
        Some(1),
        with_inter(inter().set(OID_NC, true, nc)),
    );
}

#[test]
fn policy_constraints_not_critical() {
    check(
        "policy-constraints-not-critical",
        with_inter(inter().set(OID_PC, false, pc())),
        Some(1),
        with_inter(inter().set(OID_PC, true, pc())),
    );
}

#[test]
fn san_not_critical_empty_subject() {
    let s = san(&[dns("www.example.com")]);
    check(
        "san-not-critical-empty-subject",
        with_leaf(leaf().subject(None).set(OID_SAN, false, s.clone())),
        Some(0),
        with_leaf(leaf().subject(None).set(OID_SAN, true, s)),
    );
    check(
        "san-not-critical-empty-subject",
        with_leaf(leaf().subject(None).without(OID_SAN)),
        Some(0),
        good(),
    );
}

#[test]
fn san_critical_with_subject() {
    check(
        "san-critical-with-subject",
        with_leaf(leaf().set(OID_SAN, true, san(&[dns("www.example.com")]))),
        Some(0),
        good(),
    );
}

#[test]
fn eku_critical() {
    check(
        "eku-critical",
        with_leaf(leaf().set(OID_EKU, true, eku(&[SERVER_AUTH]))),
        Some(0),
        good(),
    );
}

#[test]
fn unknown_critical_extension() {
    let odd = |s: Spec| s.set("1.3.6.1.4.1.55555.1", true, octets(b"x"));
    check(
        "unknown-critical-extension",
        with_root(odd(root())),
        Some(2),
        good(),
    );
    check(
        "unknown-critical-extension",
        with_leaf(odd(leaf())),
        Some(0),
        good(),
    );
    // Not critical: ignorable.
    let fine = leaf().set("1.3.6.1.4.1.55555.1", false, octets(b"x"));
    check(
        "unknown-critical-extension",
        with_inter(odd(inter())),
        Some(1),
        with_leaf(fine),
    );
}

#[test]
fn missing_aki() {
    check(
        "missing-aki",
        with_inter(inter().without(OID_AKI)),
        Some(1),
        with_root(root().without(OID_AKI)),
    );
    // An AKI with only an issuer and serial has no keyIdentifier.
    let no_kid = seq(&[tlv(0x82, &[1, 2])]);
    check(
        "missing-aki",
        with_leaf(leaf().set(OID_AKI, false, no_kid)),
        Some(0),
        good(),
    );
}

#[test]
fn missing_ski() {
    check(
        "missing-ski",
        with_inter(inter().without(OID_SKI)),
        Some(1),
        with_leaf(leaf().without(OID_SKI)),
    );
    check(
        "missing-ski",
        with_root(root().without(OID_SKI).without(OID_AKI)),
        Some(2),
        good(),
    );
}

#[test]
fn root_aki_mismatch() {
    check(
        "root-aki-mismatch",
        with_root(root().set(OID_AKI, false, aki(&[9; 20]))),
        Some(2),
        good(),
    );
    // Issuer and serial besides the keyIdentifier.
    let full = seq(&[
        tlv(0x80, &[1; 20]),
        tlv(0xa1, &tlv(0xa4, &name(Some("Test Root")))),
        tlv(0x82, &[1]),
    ]);
    check(
        "root-aki-mismatch",
        with_root(root().set(OID_AKI, false, full)),
        Some(2),
        good(),
    );
    let no_kid = seq(&[tlv(0x82, &[1])]);
    check(
        "root-aki-mismatch",
        with_root(root().set(OID_AKI, false, no_kid)),
        Some(2),
        with_root(root().without(OID_AKI)),
    );
}

#[test]
fn keycertsign_without_ca() {
    let l = leaf().set(OID_KU, true, ku(KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN));
    check("keycertsign-without-ca", with_leaf(l), Some(0), good());
}

#[test]
fn ca_key_usage_without_keycertsign() {
    check(
        "ca-key-usage-without-keycertsign",
        with_inter(inter().set(OID_KU, true, ku(KU_CRL_SIGN))),
        Some(1),
        with_inter(inter().without(OID_KU)),
    );
}

#[test]
fn root_bc_ku_mismatch() {
    check(
        "root-bc-ku-mismatch",
        with_root(root().without(OID_BC)),
        Some(2),
        with_root(root().without(OID_KU)),
    );
    check(
        "root-bc-ku-mismatch",
        with_root(root().set(OID_KU, true, ku(KU_CRL_SIGN))),
        Some(2),
        good(),
    );
}

#[test]
fn root_has_eku() {
    check(
        "root-has-eku",
        with_root(root().set(OID_EKU, false, eku(&[SERVER_AUTH]))),
        Some(2),
        with_inter(inter().set(OID_EKU, false, eku(&[SERVER_AUTH]))),
    );
}

#[test]
fn ca_empty_subject() {
    check(
        "ca-empty-subject",
        with_inter(inter().subject(None)),
        Some(1),
        good(),
    );
}

#[test]
fn leaf_missing_eku() {
    let mut client = with_leaf(leaf().without(OID_EKU));
    client.profile = LeafProfile::Other;
    check(
        "leaf-missing-eku",
        with_leaf(leaf().without(OID_EKU)),
        Some(0),
        client,
    );
}

#[test]
fn leaf_any_eku() {
    check(
        "leaf-any-eku",
        with_leaf(leaf().set(OID_EKU, false, eku(&[SERVER_AUTH, ANY_EKU]))),
        Some(0),
        good(),
    );
}

fn cn_san(cn: &str, names: &[Vec<u8>]) -> P {
    with_leaf(leaf().subject(Some(cn)).set(OID_SAN, false, san(names)))
}

#[test]
fn cn_not_in_san() {
    let rule = "cn-not-in-san";
    let v4 = ip(&[192, 0, 2, 1]);
    let mut v6 = [0u8; 16];
    v6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    v6[15] = 1;
    let v6 = ip(&v6);
    let idn = dns("xn--bcher-kva.example");
    let cases: &[(&str, Vec<u8>, bool)] = &[
        ("www.example.com", dns("www.example.com"), true),
        ("other.example.com", dns("www.example.com"), false),
        ("WWW.example.com", dns("www.example.com"), false),
        ("192.0.2.1", v4.clone(), true),
        ("192.000.002.001", v4.clone(), false),
        ("0xc0000201", v4.clone(), false),
        ("2001:db8::1", v6.clone(), true),
        ("2001:DB8::1", v6.clone(), false),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", v6.clone(), false),
        ("xn--bcher-kva.example", idn.clone(), true),
        ("bücher.example", idn.clone(), false),
        ("xn--bcher-kva.example", dns("bücher.example"), false),
    ];
    for (cn, name, ok) in cases {
        let fired = cn_san(cn, std::slice::from_ref(name)).at(rule);
        assert_eq!(fired.is_empty(), *ok, "CN {cn:?}: {fired:?}");
    }
    let f = cn_san("2001:DB8::1", &[v6]).findings();
    assert!(
        f.iter().any(|f| f.message.contains("non-canonical")),
        "{f:#?}"
    );
    check(
        rule,
        cn_san("WWW.example.com", &[dns("www.example.com")]),
        Some(0),
        good(),
    );
}

#[test]
fn dns_san_invalid() {
    let rule = "dns-san-invalid";
    for bad in [
        "under_score.example.com",
        "-a.example.com",
        "a..example.com",
        "www.*.example.com",
        "example.com.",
        "*",
    ] {
        assert_eq!(cn_san("x", &[dns(bad)]).at(rule), vec![Some(0)], "{bad}");
    }
    for ok in ["a-b.example.com", "*.example.com", "xn--bcher-kva.example"] {
        assert!(cn_san(ok, &[dns(ok)]).at(rule).is_empty(), "{ok}");
    }
    check(
        rule,
        with_leaf(leaf().set(
            OID_SAN,
            false,
            san(&[dns("www.example.com"), dns("_dmarc.example.com")]),
        )),
        Some(0),
        good(),
    );
}

#[test]
fn wildcard_public_suffix() {
    let rule = "wildcard-public-suffix";
    for bad in ["*.com", "*.co.uk", "*.github.io", "*.localhost"] {
        let f = cn_san(bad, &[dns(bad)]).findings();
        assert!(f.iter().any(|f| f.rule == rule), "{bad}: {f:#?}");
    }
    let private = cn_san("*.github.io", &[dns("*.github.io")]).findings();
    assert!(
        private
            .iter()
            .any(|f| f.message.contains("private section")),
        "{private:#?}"
    );
    for ok in ["*.example.com", "*.example.co.uk", "*.user.github.io"] {
        assert!(cn_san(ok, &[dns(ok)]).at(rule).is_empty(), "{ok}");
    }
    check(
        rule,
        cn_san("*.co.uk", &[dns("*.co.uk")]),
        Some(0),
        cn_san("*.example.co.uk", &[dns("*.example.co.uk")]),
    );
}

#[test]
fn name_constraints_in_leaf() {
    let nc = nc_permitted(&["example.com"]);
    check(
        "name-constraints-in-leaf",
        with_leaf(leaf().set(OID_NC, false, nc.clone())),
        Some(0),
        with_inter(inter().set(OID_NC, true, nc)),
    );
}

#[test]
fn name_constraints_dns_leading_period() {
    check(
        "name-constraints-dns-leading-period",
        with_inter(inter().set(OID_NC, true, nc_permitted(&[".example.com"]))),
        Some(1),
        with_inter(inter().set(OID_NC, true, nc_permitted(&["example.com"]))),
    );
}

#[test]
fn name_constraints_empty() {
    check(
        "name-constraints-empty",
        with_inter(inter().set(OID_NC, true, seq(&[]))),
        Some(1),
        good(),
    );
    // A permitted list that is present but empty.
    check(
        "name-constraints-empty",
        with_inter(inter().set(OID_NC, true, seq(&[tlv(0xa0, &[])]))),
        Some(1),
        with_inter(inter().set(OID_NC, true, nc_permitted(&["example.com"]))),
    );
}

#[test]
fn serial_not_positive() {
    let mut zero = leaf();
    zero.serial = vec![0];
    let mut negative = inter();
    negative.serial = vec![0x80, 1];
    let mut root0 = root();
    root0.serial = vec![0];
    check(
        "serial-not-positive",
        with_leaf(zero),
        Some(0),
        with_root(root0),
    );
    check("serial-not-positive", with_inter(negative), Some(1), good());
}

#[test]
fn serial_too_long() {
    let mut long = leaf();
    long.serial = vec![0x11; 21];
    let mut twenty = leaf();
    twenty.serial = vec![0x11; 20];
    check(
        "serial-too-long",
        with_leaf(long),
        Some(0),
        with_leaf(twenty),
    );
}

fn keyed(spki: Vec<u8>) -> P {
    let mut l = leaf();
    l.spki = spki;
    with_leaf(l)
}

#[test]
fn dsa_key() {
    check(
        "dsa-key",
        keyed(super::testcert::dsa_key()),
        Some(0),
        keyed(rsa_key(2048)),
    );
}

#[test]
fn weak_key() {
    check(
        "weak-key",
        keyed(rsa_key(1024)),
        Some(0),
        keyed(rsa_key(2048)),
    );
    check(
        "weak-key",
        keyed(ec_key(P192)),
        Some(0),
        keyed(ec_key(P256)),
    );
}

#[test]
fn rsa_modulus_not_multiple_of_8() {
    check(
        "rsa-modulus-not-multiple-of-8",
        keyed(rsa_key(2049)),
        Some(0),
        keyed(rsa_key(3072)),
    );
}

#[test]
fn weak_signature() {
    let mut l = leaf();
    l.sig_alg = SHA1_RSA;
    let mut r = root();
    r.sig_alg = SHA1_RSA;
    // A root's self-signature is not used: not a violation.
    check("weak-signature", with_leaf(l), Some(0), with_root(r));
}

#[test]
fn not_v3() {
    let mut v1 = leaf();
    v1.version = 0;
    v1.exts.clear();
    check("not-v3", with_leaf(v1), Some(0), good());
}

#[test]
fn anchor_expired() {
    let mut r = root();
    r.not_after = "20250101000000Z";
    let mut i = inter();
    i.not_after = "20250101000000Z";
    // An expired intermediate is webpki's business (it rejects the path), not this rule's.
    check("anchor-expired", with_root(r), Some(2), with_inter(i));
}

#[test]
fn anchor_not_yet_valid() {
    let mut r = root();
    r.not_before = "21000101000000Z";
    check("anchor-not-yet-valid", with_root(r), Some(2), good());
}

#[test]
fn aia_malformed() {
    let rule = "aia-malformed";
    let good_aia = aia(OCSP, uri("http://ocsp.example.com"));
    let ok = with_leaf(leaf().set(OID_AIA, false, good_aia.clone()));
    check(
        rule,
        with_leaf(leaf().set(OID_AIA, true, good_aia)),
        Some(0),
        ok,
    );
    let cases = [
        aia(OCSP, dns("ocsp.example.com")),
        aia(OCSP, uri("ocsp.example.com")),
        seq(&[]),
        octets(b"not a sequence"),
    ];
    for v in cases {
        let fired = with_leaf(leaf().set(OID_AIA, false, v.clone())).at(rule);
        assert_eq!(fired, vec![Some(0)], "{v:02x?}");
    }
}

fn with_crl(issuer: Spec, crl: Vec<u8>) -> P {
    let mut path = with_inter(issuer);
    path.crls = vec![crl];
    path
}

#[test]
fn crl_issuer_no_crlsign() {
    let rule = "crl-issuer-no-crlsign";
    let good_crl = crl(Some(false), "21240101000000Z");
    let signer = inter().set(OID_KU, true, ku(KU_KEY_CERT_SIGN));
    check(
        rule,
        with_crl(signer, good_crl.clone()),
        None,
        with_crl(inter(), good_crl.clone()),
    );
    // An issuer without the keyUsage extension is fine.
    assert!(with_crl(inter().without(OID_KU), good_crl)
        .at(rule)
        .is_empty());
}

#[test]
fn crl_missing_number() {
    check(
        "crl-missing-number",
        with_crl(inter(), crl(None, "21240101000000Z")),
        None,
        with_crl(inter(), crl(Some(false), "21240101000000Z")),
    );
}

#[test]
fn crl_number_critical() {
    check(
        "crl-number-critical",
        with_crl(inter(), crl(Some(true), "21240101000000Z")),
        None,
        with_crl(inter(), crl(Some(false), "21240101000000Z")),
    );
}

#[test]
fn crl_expired() {
    let f = with_crl(inter(), crl(Some(false), "20250101000000Z")).findings();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].subject, "test CRL #0");
    check(
        "crl-expired",
        with_crl(inter(), crl(Some(false), "20250101000000Z")),
        None,
        with_crl(inter(), crl(Some(false), "21240101000000Z")),
    );
}

#[test]
fn every_rule_has_a_test() {
    let src = include_str!("tests.rs");
    for r in RULES {
        let f = format!("fn {}()", r.id.replace('-', "_"));
        assert!(src.contains(&f), "rule {} has no test `{f}`", r.id);
        assert!(
            src.contains(&format!("\"{}\"", r.id)),
            "the test of {} does not name it",
            r.id
        );
    }
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len(), "duplicate rule id");
}

#[test]
fn readme_lists_every_rule() {
    let readme = include_str!("../../../README.md");
    for r in RULES {
        let row = format!(
            "| `{}` | {} | {} | {} | {} |",
            r.id,
            r.section,
            r.severity.as_str(),
            r.scope.as_str(),
            r.what
        );
        assert!(readme.contains(&row), "README lacks the row {row:?}");
    }
}

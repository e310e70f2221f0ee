//! `--strict`: RFC 5280 and CA/Browser Forum Baseline Requirements profile rules, judged on
//! a certification path that rustls-webpki has built (or tried to build).
//!
//! These rules only ever add failures: the path itself is still judged by webpki, and a
//! chain webpki rejects stays rejected. Every caller (`chain --strict`, `verify --strict`,
//! audit policy `strict = true`) goes through [`check_path`], so a rule is decided in one
//! place. Rules come from one table, [`RULES`]: each has a stable id, the section it comes
//! from, a severity, the certificates it applies to ([`Scope`]) and one judgement function
//! (documented with its section in `rules.rs`, `names.rs` and `crl.rs`).
//!
//! Trust anchors are trusted as given: only the rules scoped to anchors (root rules,
//! unknown critical extensions, dates) look at them; a root with serial 0 or without AKI
//! is not a violation, and neither is a CA or CRL issuer without a keyUsage extension.

mod crl;
mod names;
mod rules;

use serde::Serialize;
use x509_parser::certificate::X509Certificate;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::clock::UnixSeconds;
use crate::finding::Severity;

/// Where a certificate stands on the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Leaf,
    Intermediate,
    Anchor,
}

impl Role {
    /// The id shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Leaf => "leaf",
            Role::Intermediate => "intermediate",
            Role::Anchor => "anchor",
        }
    }
}

/// What the leaf is judged for: the Baseline Requirements' leaf profile is for TLS servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafProfile {
    /// A TLS server certificate: RFC 5280 and the CA/B Forum BR subscriber profile.
    Server,
    /// Any other leaf (TLS client): RFC 5280 only.
    Other,
}

/// Which certificates of the path a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every certificate, the trust anchor included.
    Any,
    /// The leaf and the intermediates (not the trust anchor).
    NotAnchor,
    /// The leaf, whatever it is for.
    Leaf,
    /// The leaf of a TLS server ([`LeafProfile::Server`]).
    ServerLeaf,
    /// Intermediates only.
    Intermediate,
    /// Intermediates, and a trust anchor that is a CA (cA=TRUE or keyCertSign).
    Ca,
    /// The trust anchor.
    Anchor,
    /// A self-issued trust anchor that is a CA: a root.
    Root,
    /// Each `--crl`.
    Crl,
}

impl Scope {
    /// The words used in the README table.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Any => "every certificate",
            Scope::NotAnchor => "leaf, intermediates",
            Scope::Leaf => "leaf",
            Scope::ServerLeaf => "server leaf",
            Scope::Intermediate => "intermediates",
            Scope::Ca => "intermediates, CA anchor",
            Scope::Anchor => "anchor",
            Scope::Root => "root anchor",
            Scope::Crl => "each --crl",
        }
    }

    fn applies(self, c: &CertCtx<'_, '_>) -> bool {
        match self {
            Scope::Any => true,
            Scope::NotAnchor => c.role != Role::Anchor,
            Scope::Leaf => c.role == Role::Leaf,
            Scope::ServerLeaf => c.role == Role::Leaf && c.profile == LeafProfile::Server,
            Scope::Intermediate => c.role == Role::Intermediate,
            Scope::Ca => c.role == Role::Intermediate || (c.role == Role::Anchor && c.ca_like),
            Scope::Anchor => c.role == Role::Anchor,
            Scope::Root => c.role == Role::Anchor && c.ca_like && c.self_issued,
            Scope::Crl => false,
        }
    }
}

/// A certificate as a rule sees it.
pub(crate) struct CertCtx<'a, 'b> {
    pub cert: &'b X509Certificate<'a>,
    pub role: Role,
    pub profile: LeafProfile,
    /// Subject and issuer names are the same bytes.
    pub self_issued: bool,
    /// basicConstraints cA=TRUE, or keyUsage keyCertSign.
    pub ca_like: bool,
    pub now: UnixSeconds,
}

/// A CRL as a rule sees it, with its issuer when that is on the path.
pub(crate) struct CrlCtx<'a, 'b> {
    pub crl: &'b CertificateRevocationList<'a>,
    pub issuer: Option<&'b X509Certificate<'a>>,
    pub now: UnixSeconds,
}

/// A judgement: `Some(why)` when the rule is violated.
#[derive(Clone, Copy)]
enum Judge {
    Cert(fn(&CertCtx<'_, '_>) -> Option<String>),
    Crl(fn(&CrlCtx<'_, '_>) -> Option<String>),
}

/// One profile rule.
#[derive(Clone, Copy)]
pub struct Rule {
    /// Stable id, e.g. `aki-critical`.
    pub id: &'static str,
    /// Where the rule comes from, e.g. `RFC 5280 4.2.1.1`.
    pub section: &'static str,
    /// The severity of a violation under `--strict`.
    pub severity: Severity,
    pub scope: Scope,
    /// What is checked, in a few words (the README table).
    pub what: &'static str,
    judge: Judge,
}

const fn cert_rule(
    id: &'static str,
    section: &'static str,
    scope: Scope,
    what: &'static str,
    f: fn(&CertCtx<'_, '_>) -> Option<String>,
) -> Rule {
    Rule {
        id,
        section,
        severity: Severity::Error,
        scope,
        what,
        judge: Judge::Cert(f),
    }
}

const fn crl_rule(
    id: &'static str,
    section: &'static str,
    what: &'static str,
    f: fn(&CrlCtx<'_, '_>) -> Option<String>,
) -> Rule {
    Rule {
        id,
        section,
        severity: Severity::Error,
        scope: Scope::Crl,
        what,
        judge: Judge::Crl(f),
    }
}

use Scope::*;

/// Every rule, in report order.
pub const RULES: &[Rule] = &[
    // Extension criticality.
    cert_rule(
        "aki-critical",
        "RFC 5280 4.2.1.1",
        NotAnchor,
        "authorityKeyIdentifier is not critical",
        rules::aki_critical,
    ),
    cert_rule(
        "ski-critical",
        "RFC 5280 4.2.1.2",
        NotAnchor,
        "subjectKeyIdentifier is not critical",
        rules::ski_critical,
    ),
    cert_rule(
        "ca-basic-constraints-missing",
        "RFC 5280 4.2.1.9",
        Intermediate,
        "a CA carries basicConstraints cA=TRUE",
        rules::ca_basic_constraints_missing,
    ),
    cert_rule(
        "ca-basic-constraints-not-critical",
        "RFC 5280 4.2.1.9",
        Intermediate,
        "a CA's basicConstraints is critical",
        rules::ca_basic_constraints_not_critical,
    ),
    cert_rule(
        "name-constraints-not-critical",
        "RFC 5280 4.2.1.10",
        NotAnchor,
        "nameConstraints is critical",
        rules::name_constraints_not_critical,
    ),
    cert_rule(
        "policy-constraints-not-critical",
        "RFC 5280 4.2.1.11",
        NotAnchor,
        "policyConstraints is critical",
        rules::policy_constraints_not_critical,
    ),
    cert_rule(
        "san-not-critical-empty-subject",
        "RFC 5280 4.2.1.6",
        NotAnchor,
        "with an empty subject, a subjectAltName is present and critical",
        rules::san_not_critical_empty_subject,
    ),
    cert_rule(
        "san-critical-with-subject",
        "CA/B BR 7.1.2.7.12",
        ServerLeaf,
        "with a non-empty subject, subjectAltName is not critical",
        rules::san_critical_with_subject,
    ),
    cert_rule(
        "eku-critical",
        "CA/B BR 7.1.2.7.6",
        ServerLeaf,
        "extKeyUsage is not critical in a leaf",
        rules::eku_critical,
    ),
    cert_rule(
        "unknown-critical-extension",
        "RFC 5280 4.2",
        Any,
        "no critical extension outside RFC 5280 (anchor included)",
        rules::unknown_critical_extension,
    ),
    // Key identifiers.
    cert_rule(
        "missing-aki",
        "RFC 5280 4.2.1.1",
        NotAnchor,
        "leaf and intermediates carry authorityKeyIdentifier",
        rules::missing_aki,
    ),
    cert_rule(
        "missing-ski",
        "RFC 5280 4.2.1.2",
        Ca,
        "CAs (intermediates and roots) carry subjectKeyIdentifier",
        rules::missing_ski,
    ),
    cert_rule(
        "root-aki-mismatch",
        "RFC 5280 4.2.1.1, CA/B BR 7.1.2.1.3",
        Root,
        "a root's AKI, when present, holds only a keyIdentifier equal to its SKI",
        rules::root_aki_mismatch,
    ),
    // CA consistency.
    cert_rule(
        "keycertsign-without-ca",
        "RFC 5280 4.2.1.3",
        NotAnchor,
        "keyCertSign only with basicConstraints cA=TRUE",
        rules::keycertsign_without_ca,
    ),
    cert_rule(
        "ca-key-usage-without-keycertsign",
        "RFC 5280 4.2.1.3",
        Intermediate,
        "a CA's keyUsage, when present, has keyCertSign",
        rules::ca_key_usage_without_keycertsign,
    ),
    cert_rule(
        "root-bc-ku-mismatch",
        "RFC 5280 4.2.1.3, 4.2.1.9",
        Anchor,
        "an anchor's basicConstraints and keyUsage agree",
        rules::root_bc_ku_mismatch,
    ),
    cert_rule(
        "root-has-eku",
        "CA/B BR 7.1.2.1.2",
        Root,
        "a root carries no extKeyUsage",
        rules::root_has_eku,
    ),
    cert_rule(
        "ca-empty-subject",
        "RFC 5280 4.1.2.6",
        Ca,
        "a CA's subject is not empty",
        rules::ca_empty_subject,
    ),
    // Leaf profile (BR server certificates).
    cert_rule(
        "leaf-missing-eku",
        "CA/B BR 7.1.2.7.10",
        ServerLeaf,
        "the leaf carries extKeyUsage",
        rules::leaf_missing_eku,
    ),
    cert_rule(
        "leaf-any-eku",
        "CA/B BR 7.1.2.7.10",
        ServerLeaf,
        "the leaf's extKeyUsage has no anyExtendedKeyUsage",
        rules::leaf_any_eku,
    ),
    cert_rule(
        "cn-not-in-san",
        "CA/B BR 7.1.2.7.2",
        ServerLeaf,
        "a subject CN is byte for byte one SAN value in its canonical form",
        names::cn_not_in_san,
    ),
    cert_rule(
        "dns-san-invalid",
        "RFC 5280 4.2.1.6, CA/B BR 7.1.2.7.12",
        ServerLeaf,
        "DNS SANs are LDH names (no underscore; `*` only as a whole first label)",
        names::dns_san_invalid,
    ),
    cert_rule(
        "wildcard-public-suffix",
        "CA/B BR 3.2.2.6",
        ServerLeaf,
        "a wildcard SAN does not cover a whole public suffix (PSL, private section included)",
        names::wildcard_public_suffix,
    ),
    // Name constraints well-formedness.
    cert_rule(
        "name-constraints-in-leaf",
        "RFC 5280 4.2.1.10",
        Leaf,
        "no nameConstraints in an end-entity certificate",
        rules::name_constraints_in_leaf,
    ),
    cert_rule(
        "name-constraints-dns-leading-period",
        "RFC 5280 4.2.1.10",
        Any,
        "no dNSName constraint with a leading period",
        rules::name_constraints_dns_leading_period,
    ),
    cert_rule(
        "name-constraints-empty",
        "RFC 5280 4.2.1.10",
        Any,
        "nameConstraints has a non-empty permitted or excluded subtree",
        rules::name_constraints_empty,
    ),
    // Serial numbers.
    cert_rule(
        "serial-not-positive",
        "RFC 5280 4.1.2.2",
        NotAnchor,
        "the serial number is positive and non-zero",
        rules::serial_not_positive,
    ),
    cert_rule(
        "serial-too-long",
        "RFC 5280 4.1.2.2",
        NotAnchor,
        "the serial number is at most 20 octets",
        rules::serial_too_long,
    ),
    // Keys and signatures.
    cert_rule(
        "dsa-key",
        "CA/B BR 6.1.5",
        NotAnchor,
        "no DSA key",
        rules::dsa_key,
    ),
    cert_rule(
        "weak-key",
        "CA/B BR 6.1.5",
        NotAnchor,
        "RSA keys at least 2048 bits; EC keys P-256 or larger (no P-192, P-224)",
        rules::weak_key,
    ),
    cert_rule(
        "rsa-modulus-not-multiple-of-8",
        "CA/B BR 6.1.5",
        NotAnchor,
        "an RSA modulus is a multiple of 8 bits",
        rules::rsa_modulus_not_multiple_of_8,
    ),
    cert_rule(
        "weak-signature",
        "CA/B BR 7.1.3.2",
        NotAnchor,
        "not signed with SHA-1 or MD5",
        rules::weak_signature,
    ),
    cert_rule(
        "not-v3",
        "RFC 5280 4.1.2.1",
        NotAnchor,
        "X.509 version 3",
        rules::not_v3,
    ),
    // Validity.
    cert_rule(
        "anchor-expired",
        "RFC 5280 4.1.2.5",
        Anchor,
        "the trust anchor is not expired (webpki ignores anchor dates)",
        rules::anchor_expired,
    ),
    cert_rule(
        "anchor-not-yet-valid",
        "RFC 5280 4.1.2.5",
        Anchor,
        "the trust anchor's notBefore has passed",
        rules::anchor_not_yet_valid,
    ),
    // Authority information access.
    cert_rule(
        "aia-malformed",
        "RFC 5280 4.2.2.1",
        NotAnchor,
        "authorityInfoAccess is well-formed, not critical, non-empty, with URI locations",
        rules::aia_malformed,
    ),
    // CRLs.
    crl_rule(
        "crl-issuer-no-crlsign",
        "RFC 5280 4.2.1.3, 6.3.3",
        "a CRL issuer with a keyUsage extension has cRLSign",
        crl::issuer_no_crlsign,
    ),
    crl_rule(
        "crl-missing-number",
        "RFC 5280 5.2.3",
        "a CRL carries a CRL Number",
        crl::missing_number,
    ),
    crl_rule(
        "crl-number-critical",
        "RFC 5280 5.2.3",
        "the CRL Number is not critical",
        crl::number_critical,
    ),
    crl_rule(
        "crl-expired",
        "RFC 5280 5.1.2.5",
        "a CRL is not past its nextUpdate (webpki ignores it)",
        crl::expired,
    ),
];

/// A CRL given to [`check_path`].
pub struct CrlInput<'a> {
    pub der: &'a [u8],
    /// How reports name it, e.g. `crl.pem CRL #0`.
    pub label: String,
}

/// What [`check_path`] judges against.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub profile: LeafProfile,
    pub now: UnixSeconds,
}

/// One rule violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ProfileFinding {
    /// The rule id ([`Rule::id`]).
    pub rule: &'static str,
    pub severity: Severity,
    /// The section the rule comes from.
    pub section: &'static str,
    /// Position on the path (0 = leaf); `None` for a CRL.
    pub cert: Option<usize>,
    /// `leaf`, `intermediate` or `anchor`; `None` for a CRL.
    pub role: Option<Role>,
    /// The certificate's subject, or the CRL's label.
    pub subject: String,
    pub message: String,
}

impl ProfileFinding {
    /// "#1 intermediate CN=..." or the CRL label: what the finding is about.
    pub fn about(&self) -> String {
        match (self.cert, self.role) {
            (Some(i), Some(r)) => format!("#{i} {} {}", r.as_str(), self.subject),
            _ => self.subject.clone(),
        }
    }
}

/// Judges a certification path: `path` is DER, leaf first; `anchor` is the position of the
/// trust anchor in `path` when it is on it (the last certificate; `None` when the anchor is
/// known only by name and key, as the built-in roots are, or when no anchor was reached).
/// A certificate that does not parse is skipped: webpki has already judged it.
pub fn check_path(
    path: &[&[u8]],
    anchor: Option<usize>,
    crls: &[CrlInput<'_>],
    opts: &Options,
) -> Vec<ProfileFinding> {
    let parsed: Vec<Option<X509Certificate<'_>>> = path
        .iter()
        .map(|d| x509_parser::parse_x509_certificate(d).ok().map(|(_, c)| c))
        .collect();
    let mut out = Vec::new();
    for (pos, cert) in parsed.iter().enumerate() {
        let Some(cert) = cert else { continue };
        let role = match pos {
            _ if Some(pos) == anchor => Role::Anchor,
            0 => Role::Leaf,
            _ => Role::Intermediate,
        };
        let ctx = CertCtx {
            cert,
            role,
            profile: opts.profile,
            self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
            ca_like: rules::is_ca(cert)
                || rules::key_usage(cert).is_some_and(|k| k.key_cert_sign()),
            now: opts.now,
        };
        let subject = crate::pki::describe::display_name(cert.subject());
        for rule in RULES {
            let Judge::Cert(f) = rule.judge else { continue };
            if !rule.scope.applies(&ctx) {
                continue;
            }
            if let Some(message) = f(&ctx) {
                out.push(ProfileFinding {
                    rule: rule.id,
                    severity: rule.severity,
                    section: rule.section,
                    cert: Some(pos),
                    role: Some(role),
                    subject: subject.clone(),
                    message,
                });
            }
        }
    }
    for input in crls {
        let Ok((_, crl)) = x509_parser::parse_x509_crl(input.der) else {
            continue;
        };
        let issuer = parsed
            .iter()
            .flatten()
            .find(|c| c.subject().as_raw() == crl.issuer().as_raw());
        let ctx = CrlCtx {
            crl: &crl,
            issuer,
            now: opts.now,
        };
        for rule in RULES {
            let Judge::Crl(f) = rule.judge else { continue };
            if let Some(message) = f(&ctx) {
                out.push(ProfileFinding {
                    rule: rule.id,
                    severity: rule.severity,
                    section: rule.section,
                    cert: None,
                    role: None,
                    subject: input.label.clone(),
                    message,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod testcert;
#[cfg(test)]
mod tests;

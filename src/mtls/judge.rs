//! The server's decision on a client certificate, as pure functions of the policy, the
//! trusted list, the presented chain and the evaluation time.
//!
//! Each rule is its own step (`enforcement`, `chain`, `key-usage`, `leaf-in-trusted-list`,
//! `san`, `subject`); the certificate is accepted when no step fails.

use crate::step::Step;
use rustls_pki_types::{CertificateDer, TrustAnchor};
use webpki::EndEntityCert;

use crate::clock::{rfc3339, UnixSeconds};
use crate::domain::Validation;
use crate::finding::{Check, Finding, Severity, Status};
use crate::mtls::subject::{match_san, match_subject, CertSubject};
use crate::mtls::{ConfigSummary, MtlsPolicy};
use crate::pki::describe::{self, CertInfo};
use crate::pki::path::{webpki_reason, PathQuery, Refused, Usage};
use crate::pki::trust::AnchorInfo;
use crate::pki::validity::Validity;

/// A certificate of the server's trusted list, with where it came from.
#[derive(Debug, Clone)]
pub struct TrustedCert {
    /// The `--trusted` path, or `FILE authentication_ssl_client_certs[i]` for --config.
    pub file: String,
    /// 0-based index of the certificate in that file (or entry).
    pub index: usize,
    pub der: CertificateDer<'static>,
    pub info: CertInfo,
}

impl TrustedCert {
    /// An end-entity certificate (not a CA): pasting one makes the server skip subject validation.
    pub fn is_leaf(&self) -> bool {
        !self.info.is_ca && !self.info.raw.key_cert_sign
    }

    /// `FILE #i (subject)`.
    pub fn label(&self) -> String {
        format!("{} #{} ({})", self.file, self.index, self.info.subject)
    }
}

/// The simulated decision.
#[derive(Debug, Clone)]
pub struct Decision {
    pub accepted: bool,
    pub steps: Vec<Check>,
    pub findings: Vec<Finding>,
    /// The presented chain, described (index = position as presented).
    pub chain: Vec<CertInfo>,
    pub anchor: Option<AnchorInfo>,
}

/// A certificate of the client chain that cannot be described.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("client certificate #{index} cannot be parsed: {error}")]
pub struct ChainParseError {
    /// Position in the chain as presented (0: the leaf).
    pub index: usize,
    pub error: describe::DescribeError,
}

/// Describes a presented chain; the first certificate that cannot be parsed is an error.
pub fn describe_chain(
    chain: &[CertificateDer<'_>],
    now: UnixSeconds,
) -> Result<Vec<CertInfo>, ChainParseError> {
    chain
        .iter()
        .enumerate()
        .map(|(index, c)| {
            describe::describe(index, c, now).map_err(|error| ChainParseError { index, error })
        })
        .collect()
}

/// Simulates the server's decision on `chain` (leaf first).
pub fn decide(
    policy: &MtlsPolicy,
    trusted: &[TrustedCert],
    chain: &[CertificateDer<'_>],
    now: UnixSeconds,
) -> Decision {
    let mut steps = Vec::new();
    let mut findings = policy.notes.clone();
    if let Some(step) = policy.config.as_ref().and_then(enforcement_step) {
        steps.push(step);
    }
    let infos = match describe_chain(chain, now) {
        Ok(i) if !i.is_empty() => i,
        other => {
            let why = other
                .err()
                .map_or_else(|| "no client certificate".into(), |e| e.to_string());
            steps.push(Check::new(Step::Chain, Status::Fail, why));
            return Decision {
                accepted: false,
                steps,
                findings,
                chain: vec![],
                anchor: None,
            };
        }
    };
    let (chain_check, anchor) = chain_step(trusted, chain, &infos, policy.allow_outdated, now);
    steps.push(chain_check);
    steps.push(key_usage_step(&infos));
    let (leaf_step, leaf_findings) = leaf_in_trusted_step(trusted, policy.validation);
    findings.extend(leaf_findings);
    let leaves: Vec<&TrustedCert> = trusted.iter().filter(|t| t.is_leaf()).collect();
    let skipped_by = leaves.first().map(|t| t.label());
    steps.push(leaf_step);
    let (san, subject) = rule_steps(policy, &infos[0], skipped_by.as_deref());
    steps.push(san);
    steps.push(subject);
    let accepted = steps.iter().all(|s| s.status != Status::Fail);
    Decision {
        accepted,
        steps,
        findings,
        chain: infos,
        anchor,
    }
}

/// `enforcement`: what the database declares (`tls_mode`, `enforce_client_authentication`).
fn enforcement_step(config: &ConfigSummary) -> Option<Check> {
    if config.tls_mode.is_none() && config.enforce_client_authentication.is_none() {
        return None;
    }
    let tls = config.tls_mode.as_deref();
    let enforce = config.enforce_client_authentication.as_deref();
    let declared = format!(
        "{} declares tls_mode={} enforce_client_authentication={}",
        config.file,
        tls.unwrap_or("(unset)"),
        enforce.unwrap_or("(unset)")
    );
    let mut warnings = Vec::new();
    match tls {
        Some("disabled") => warnings.push(
            "TLS is disabled for this database: clients connect without TLS and no certificate is checked",
        ),
        Some("replica_ssl") => warnings.push(
            "TLS applies only between databases (replica_ssl): clients connect without TLS and no certificate is checked",
        ),
        _ => {}
    }
    if enforce == Some("disabled") {
        warnings.push(
            "client certificates are not required: a client that presents none is accepted too; this decision applies only to clients that present one",
        );
    }
    if warnings.is_empty() {
        Some(Check::new(
            Step::Enforcement,
            Status::Pass,
            format!("{declared}: TLS and client certificates are required"),
        ))
    } else {
        Some(Check::new(
            Step::Enforcement,
            Status::Warn,
            format!("{declared}\n{}", warnings.join("\n")),
        ))
    }
}

/// The leaf's own dates: (status, short message). Expiry is excused when `allow_outdated`.
pub fn leaf_dates(leaf: &CertInfo, allow_outdated: bool, now: UnixSeconds) -> (Status, String) {
    match Validity::of(leaf, now) {
        Validity::NotYetValid { not_before } => (
            Status::Fail,
            format!(
                "the client certificate is not valid before {}",
                rfc3339(not_before)
            ),
        ),
        Validity::Expired {
            not_after,
            days_ago,
        } if allow_outdated => (
            Status::Warn,
            format!(
                "the client certificate expired {} ({days_ago} days ago); accepted because outdated client certificates are allowed (mtls_allow_outdated_certs)",
                rfc3339(not_after)
            ),
        ),
        Validity::Expired {
            not_after,
            days_ago,
        } => (
            Status::Fail,
            format!(
                "the client certificate expired {} ({days_ago} days ago)\nhint: the server accepts outdated client certificates only with mtls_allow_outdated_certs (--allow-outdated)",
                rfc3339(not_after)
            ),
        ),
        Validity::Current { not_after, .. } => {
            (Status::Pass, format!("valid until {}", rfc3339(not_after)))
        }
    }
}

/// `chain`: the presented chain must lead to a trusted certificate (client-auth usage). The
/// leaf's expiry is excused with `allow_outdated` (a warning); a CA's never is.
pub fn chain_step(
    trusted: &[TrustedCert],
    chain: &[CertificateDer<'_>],
    infos: &[CertInfo],
    allow_outdated: bool,
    now: UnixSeconds,
) -> (Check, Option<AnchorInfo>) {
    let fail = |m: String| (Check::new(Step::Chain, Status::Fail, m), None);
    let (Some(leaf_der), Some(leaf)) = (chain.first(), infos.first()) else {
        return fail("no client certificate".into());
    };
    let files = {
        let mut f: Vec<&str> = Vec::new();
        for t in trusted {
            if !f.contains(&t.file.as_str()) {
                f.push(&t.file);
            }
        }
        f.join(", ")
    };
    // A trusted leaf admits exactly itself.
    if let Some(t) = trusted
        .iter()
        .find(|t| t.is_leaf() && t.der.as_ref() == leaf_der.as_ref())
    {
        let anchor = AnchorInfo {
            file: t.file.clone(),
            index: t.index,
            subject: t.info.subject.clone(),
            pinned: true,
            via: vec![],
        };
        let (status, dates) = leaf_dates(leaf, allow_outdated, now);
        let msg = format!(
            "the client certificate is itself in the trusted list: {}\n{dates}",
            t.label()
        );
        return (Check::new(Step::Chain, status, msg), Some(anchor));
    }
    // Built in one pass so that `anchors[i]` came from `anchor_src[i]`.
    let (anchor_src, anchors): (Vec<&TrustedCert>, Vec<TrustAnchor<'_>>) = trusted
        .iter()
        .filter(|t| !t.is_leaf())
        .filter_map(|t| {
            webpki::anchor_from_trusted_cert(&t.der)
                .ok()
                .map(|a| (t, a))
        })
        .unzip();
    let n_leaves = trusted.iter().filter(|t| t.is_leaf()).count();
    if anchors.is_empty() {
        return fail(format!(
            "the client certificate is not one of the {n_leaves} trusted leaf certificate{} in {files}, and the trusted list holds no CA certificate\nhint: a trusted client certificate must be byte-identical (sha256 {})",
            if n_leaves == 1 { "" } else { "s" },
            leaf.sha256
        ));
    }
    let ee = match EndEntityCert::try_from(leaf_der) {
        Ok(ee) => ee,
        Err(e) => {
            return fail(format!(
                "the client certificate is rejected: {}",
                webpki_reason(&e)
            ))
        }
    };
    let mut query = PathQuery {
        leaf: &ee,
        anchors: &anchors,
        intermediates: &chain[1..],
        usage: Usage::Client,
        crls: &[],
        max_depth: None,
        memo: None,
    };
    let mut result = query.at(now);
    if matches!(&result, Err(r) if matches!(r.error, webpki::Error::RequiredEkuNotFoundContext(_)))
    {
        // Reported by `key-usage`; judge the chain apart from it.
        query.usage = Usage::Any;
        result = query.at(now);
    }
    // An outdated leaf is excusable (`allow_outdated`): judge the chain at the leaf's own
    // end of validity; any other refusal there stands.
    let mut leaf_outdated = false;
    if matches!(&result, Err(r) if matches!(r.error, webpki::Error::CertExpired { .. }))
        && matches!(Validity::of(leaf, now), Validity::Expired { .. })
        && leaf.raw.not_before <= leaf.raw.not_after
    {
        match query.at(leaf.raw.not_after) {
            Ok(p) => {
                leaf_outdated = true;
                result = Ok(p);
            }
            Err(r) if !r.is_time() => result = Err(r),
            Err(_) => {}
        }
    }
    let presented = infos
        .iter()
        .map(|c| c.subject.clone())
        .collect::<Vec<_>>()
        .join(" <- ");
    match result {
        Ok(path) => {
            let (ai, inters) = (path.anchor, path.intermediates);
            let src = anchor_src[ai];
            let anchor = AnchorInfo {
                file: src.file.clone(),
                index: src.index,
                subject: src.info.subject.clone(),
                pinned: false,
                via: vec![],
            };
            let mut names = vec![leaf.subject.clone()];
            let mut problems = Vec::new();
            for (k, der) in inters.iter().enumerate() {
                if let Ok(ci) = describe::describe(k + 1, der, now) {
                    if let Some(p) = ca_date_problem(&ci, now) {
                        problems.push(format!("intermediate {} {p}", ci.subject));
                    }
                    names.push(ci.subject);
                }
            }
            if let Some(p) = ca_date_problem(&src.info, now) {
                problems.push(format!(
                    "trusted CA {} {p}; the server (OpenSSL) rejects chains that end at an expired CA",
                    src.label()
                ));
            }
            names.push(src.info.subject.clone());
            let mut msg = format!(
                "chain leads to {}\npath: {}",
                src.label(),
                names.join(" <- ")
            );
            if !problems.is_empty() {
                msg = format!(
                    "{}: the expiry of a CA is never excused\n{msg}",
                    problems.join("; ")
                );
                return (Check::new(Step::Chain, Status::Fail, msg), Some(anchor));
            }
            if leaf_outdated {
                let (status, dates) = leaf_dates(leaf, allow_outdated, now);
                let mut lines = dates.lines();
                let mut text = format!("{}\n{msg}", lines.next().unwrap_or(""));
                for l in lines {
                    text.push('\n');
                    text.push_str(l);
                }
                return (Check::new(Step::Chain, status, text), Some(anchor));
            }
            (Check::new(Step::Chain, Status::Pass, msg), Some(anchor))
        }
        Err(Refused { error: e, .. }) => {
            let mut msg = match &e {
                webpki::Error::UnknownIssuer => format!(
                    "the client chain does not lead to any certificate in the trusted list ({files})"
                ),
                webpki::Error::CertExpired { not_after, .. } => {
                    let t = not_after.as_secs() as i64;
                    match infos.iter().find(|c| c.raw.not_after == t) {
                        Some(c) if c.index == 0 => leaf_dates(c, allow_outdated, now).1,
                        Some(c) => format!(
                            "chain #{} {} expired {}: the expiry of a CA is never excused",
                            c.index,
                            c.subject,
                            rfc3339(t)
                        ),
                        None => format!("a certificate of the path expired {}", rfc3339(t)),
                    }
                }
                webpki::Error::CertNotValidYet { not_before, .. } => {
                    let t = not_before.as_secs() as i64;
                    match infos.iter().find(|c| c.raw.not_before == t) {
                        Some(c) => format!(
                            "{} {} is not valid before {}",
                            if c.index == 0 {
                                "the client certificate".to_string()
                            } else {
                                format!("chain #{}", c.index)
                            },
                            c.subject,
                            rfc3339(t)
                        ),
                        None => format!("a certificate of the path is not valid before {}", rfc3339(t)),
                    }
                }
                other => format!("the client chain is rejected: {}", webpki_reason(other)),
            };
            msg.push_str(&format!("\npresented: {presented}"));
            if matches!(e, webpki::Error::UnknownIssuer) {
                if let Some(top) = infos.last() {
                    msg.push_str(&match anchor_src.len() {
                        1 => format!(
                            "\nhint: the one trusted CA certificate did not issue \"{}\"",
                            top.issuer
                        ),
                        n => format!(
                            "\nhint: none of the {n} trusted CA certificates issued \"{}\"",
                            top.issuer
                        ),
                    });
                }
            }
            fail(msg)
        }
    }
}

fn ca_date_problem(c: &CertInfo, now: UnixSeconds) -> Option<String> {
    match Validity::of(c, now) {
        Validity::Expired { not_after, .. } => Some(format!("expired {}", rfc3339(not_after))),
        Validity::NotYetValid { not_before } => {
            Some(format!("is not valid before {}", rfc3339(not_before)))
        }
        Validity::Current { .. } => None,
    }
}

/// `key-usage`: a client certificate with an extended key usage must list clientAuth (and so
/// must every intermediate that restricts its EKU); a key usage must allow signing.
pub fn key_usage_step(infos: &[CertInfo]) -> Check {
    let Some(leaf) = infos.first() else {
        return Check::new(Step::KeyUsage, Status::Skip, "no client certificate");
    };
    let mut problems = Vec::new();
    let eku = &leaf.extended_key_usage;
    if leaf.raw.has_eku && !eku.iter().any(|e| e == "clientAuth") {
        problems.push(format!(
            "the client certificate's extended key usage is {}, without clientAuth: the server rejects it for client authentication\nhint: reissue it with extendedKeyUsage = clientAuth",
            if eku.is_empty() { "empty".to_string() } else { eku.join(", ") }
        ));
    }
    let ku = &leaf.key_usage;
    if !ku.is_empty()
        && !ku
            .iter()
            .any(|k| k == "digitalSignature" || k == "keyAgreement")
    {
        problems.push(format!(
            "the client certificate's key usage is {}, without digitalSignature: it cannot sign the TLS handshake",
            ku.join(", ")
        ));
    }
    for c in &infos[1..] {
        if c.raw.has_eku && !c.extended_key_usage.iter().any(|e| e == "clientAuth") {
            problems.push(format!(
                "chain #{} {} restricts its extended key usage to {}, without clientAuth",
                c.index,
                c.subject,
                c.extended_key_usage.join(", ")
            ));
        }
    }
    if !problems.is_empty() {
        return Check::new(Step::KeyUsage, Status::Fail, problems.join("\n"));
    }
    let msg = if leaf.raw.has_eku {
        format!("clientAuth in extended key usage ({})", eku.join(", "))
    } else {
        "no extended key usage extension: usable for any purpose, including client authentication"
            .to_string()
    };
    Check::new(Step::KeyUsage, Status::Pass, msg)
}

/// `leaf-in-trusted-list`: a leaf in the trusted list makes the server skip subject validation.
fn leaf_in_trusted_step(trusted: &[TrustedCert], validation: Validation) -> (Check, Vec<Finding>) {
    let leaves: Vec<&TrustedCert> = trusted.iter().filter(|t| t.is_leaf()).collect();
    if leaves.is_empty() {
        return (
            Check::new(
                Step::LeafInTrustedList,
                Status::Pass,
                "no leaf certificate in the trusted list: subject validation applies as configured",
            ),
            vec![],
        );
    }
    let listed = leaves
        .iter()
        .map(|t| t.label())
        .collect::<Vec<_>>()
        .join(", ");
    let findings = leaves
        .iter()
        .map(|t| Finding {
            rule: "leaf-in-trusted-list",
            severity: Severity::Warn,
            cert: Some(t.index),
            message: format!(
                "{} is a leaf (end-entity) certificate: with a leaf in the trusted list the server skips the additional subject validations, so any client whose chain is accepted connects even when no authorized subject matches",
                t.label()
            ),
        })
        .collect();
    let check = if validation == Validation::None {
        Check::new(
            Step::LeafInTrustedList,
            Status::Pass,
            format!("the trusted list holds leaf certificates ({listed}); no subject validation is configured, so nothing is skipped"),
        )
    } else {
        Check::new(
            Step::LeafInTrustedList,
            Status::Warn,
            format!("the trusted list holds leaf certificates ({listed}): the server skips {} validation for every client", validation_name(validation)),
        )
    };
    (check, findings)
}

/// `--validation` as tlsprobe names it.
pub fn validation_name(v: Validation) -> &'static str {
    match v {
        Validation::None => "none",
        Validation::San => "san",
        Validation::Subject => "subject",
    }
}

/// `--validation` as the REST API names it.
pub fn validation_rest_name(v: Validation) -> &'static str {
    match v {
        Validation::None => "disabled",
        Validation::San => "san_cn",
        Validation::Subject => "full_subject",
    }
}

/// The judgement of the configured subject rule alone (`None` when validation is none).
pub fn subject_rule(policy: &MtlsPolicy, leaf: &CertInfo) -> Option<(Status, String)> {
    let cert = CertSubject::from_info(leaf);
    let result = match policy.validation {
        Validation::None => return None,
        Validation::San => match_san(&cert, &policy.authorized),
        Validation::Subject => match_subject(&cert, &policy.authorized),
    };
    Some(match result {
        Ok(m) => (Status::Pass, m.message),
        Err(e) => (Status::Fail, e.message),
    })
}

/// `san` and `subject`: the configured one is judged, the other skipped.
fn rule_steps(policy: &MtlsPolicy, leaf: &CertInfo, skipped_by: Option<&str>) -> (Check, Check) {
    let v = policy.validation;
    let none_msg = "validation is none (REST API: disabled): no subject rule";
    let judged = subject_rule(policy, leaf).map(|(status, msg)| match skipped_by {
        Some(by) => Check::new(
            Step::San,
            Status::Skip,
            format!(
                "skipped by the server: the trusted list holds a leaf certificate ({by})\nwithout it: {} {}",
                status.as_str(),
                msg.replace('\n', "; ")
            ),
        ),
        None => Check::new(Step::San, status, msg),
    });
    let named = |name: Step, c: Check| Check { check: name, ..c };
    match (v, judged) {
        (Validation::San, Some(c)) => (
            named(Step::San, c),
            Check::new(
                Step::Subject,
                Status::Skip,
                "validation is san (san_cn): only the CN or a DNS SAN is compared",
            ),
        ),
        (Validation::Subject, Some(c)) => (
            Check::new(
                Step::San,
                Status::Skip,
                "validation is subject (full_subject): the whole subject is compared",
            ),
            named(Step::Subject, c),
        ),
        _ => (
            Check::new(Step::San, Status::Skip, none_msg),
            Check::new(Step::Subject, Status::Skip, none_msg),
        ),
    }
}

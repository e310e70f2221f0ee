//! Bundle analysis: which certificate of a file issued which, and the findings about
//! the file as a whole (anchors, orphans, duplicates) and each member (dates, keys,
//! signatures, profile).

use crate::clock::{rfc3339, UnixSeconds};
use crate::finding::{Finding, Severity};
use crate::pki::describe::{CertInfo, Role};
use crate::pki::validity::Validity;

/// Options of the analysis.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub now: UnixSeconds,
    pub warn_days: i64,
    /// Verify self-signatures of roots too (links between distinct certificates are
    /// always confirmed by their signature).
    pub check_signatures: bool,
}

/// Links `issued_by` in `certs` (described from `ders`) and returns the findings.
pub fn analyse(certs: &mut [CertInfo], ders: &[&[u8]], opts: Options) -> Vec<Finding> {
    let mut findings = Vec::new();
    link_issuers(certs, ders, &mut findings);
    for c in certs.iter() {
        member_findings(c, opts, &mut findings);
    }
    if opts.check_signatures {
        for (c, der) in certs.iter().zip(ders) {
            if c.self_signed && !self_signature_ok(der) {
                findings.push(Finding {
                    rule: "bad-self-signature",
                    severity: Severity::Error,
                    cert: Some(c.index),
                    message: format!("#{} {}: self-signature does not verify", c.index, c.subject),
                });
            }
        }
    }
    file_findings(certs, ders, &mut findings);
    findings.sort_by_key(|f| (f.cert.unwrap_or(usize::MAX), std::cmp::Reverse(f.severity)));
    findings
}

fn link_issuers(certs: &mut [CertInfo], ders: &[&[u8]], findings: &mut Vec<Finding>) {
    for i in 0..certs.len() {
        if certs[i].self_signed {
            continue;
        }
        let mut name_match = false;
        for j in 0..certs.len() {
            if i == j || certs[j].raw.subject_der != certs[i].raw.issuer_der {
                continue;
            }
            if let (Some(aki), Some(ski)) = (&certs[i].raw.aki, &certs[j].raw.ski) {
                if aki != ski {
                    continue;
                }
            }
            name_match = true;
            if signed_by(ders[i], ders[j]) {
                certs[i].issued_by = Some(j);
                break;
            }
        }
        if name_match && certs[i].issued_by.is_none() {
            findings.push(Finding {
                rule: "issuer-signature-mismatch",
                severity: Severity::Warn,
                cert: Some(i),
                message: format!(
                    "#{i} {}: a certificate named like its issuer is in the file, but its signature does not verify with that key",
                    certs[i].subject
                ),
            });
        }
    }
}

/// Whether `child` carries a valid signature by `issuer`'s key.
pub fn signed_by(child: &[u8], issuer: &[u8]) -> bool {
    let (Ok((_, c)), Ok((_, p))) = (
        x509_parser::parse_x509_certificate(child),
        x509_parser::parse_x509_certificate(issuer),
    ) else {
        return false;
    };
    c.verify_signature(Some(p.public_key())).is_ok() || p521_signed_by(&c, &p)
}

/// ECDSA P-521 signatures, which x509-parser (ring) cannot check: verified with the same
/// algorithms as the handshake and chain validation (`connect::algs`).
fn p521_signed_by(
    c: &x509_parser::certificate::X509Certificate<'_>,
    p: &x509_parser::certificate::X509Certificate<'_>,
) -> bool {
    let spki = p.public_key();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|a| a.as_oid().ok())
        .map(|o| o.to_id_string());
    if spki.algorithm.algorithm.to_id_string() != "1.2.840.10045.2.1"
        || curve.as_deref() != Some("1.3.132.0.35")
    {
        return false;
    }
    crate::pki::algs::verify_p521(
        &c.signature_algorithm.algorithm.to_id_string(),
        &spki.subject_public_key.data,
        c.tbs_certificate.as_ref(),
        &c.signature_value.data,
    )
}

fn self_signature_ok(der: &[u8]) -> bool {
    signed_by(der, der)
}

fn member_findings(c: &CertInfo, opts: Options, out: &mut Vec<Finding>) {
    let i = c.index;
    let who = format!("#{i} {}", c.subject);
    let mut push = |rule, severity, message: String| {
        out.push(Finding {
            rule,
            severity,
            cert: Some(i),
            message,
        })
    };
    match Validity::of(c, opts.now) {
        Validity::Expired {
            not_after,
            days_ago,
        } => push(
            "expired",
            Severity::Error,
            format!(
                "{who}: expired {} ({days_ago} days ago)",
                rfc3339(not_after)
            ),
        ),
        Validity::NotYetValid { not_before } => push(
            "not-yet-valid",
            Severity::Error,
            format!("{who}: not valid before {}", rfc3339(not_before)),
        ),
        v @ Validity::Current {
            not_after,
            days_left,
        } if v.expiring_within(opts.warn_days) => push(
            "expiring-soon",
            Severity::Warn,
            format!(
                "{who}: expires {} ({days_left} days left, warning at {})",
                rfc3339(not_after),
                opts.warn_days
            ),
        ),
        Validity::Current { .. } => {}
    }
    if c.key.is_weak(2048, 256) {
        push(
            "weak-key",
            Severity::Error,
            format!(
                "{who}: {} key is too weak (minimum RSA 2048, EC 256)",
                c.key.summary()
            ),
        );
    }
    if c.raw.sha1_or_md5 && !(c.self_signed && c.role == Role::Root) {
        push(
            "weak-signature",
            Severity::Error,
            format!(
                "{who}: signed with {}, which clients reject",
                c.signature_algorithm
            ),
        );
    } else if c.raw.sha1_or_md5 {
        push("weak-signature", Severity::Info, format!("{who}: self-signature uses {} (harmless on a trust anchor, but a sign of an old root)", c.signature_algorithm));
    }
    if !c.is_ca && (c.role != Role::Leaf || c.raw.key_cert_sign) {
        push("ca-without-basic-constraints", Severity::Error, format!("{who}: used as a CA (keyCertSign) but has no basicConstraints CA:TRUE; RFC 5280 clients reject it as an issuer"));
    }
    let serves = !c.raw.has_eku
        || c.extended_key_usage
            .iter()
            .any(|e| e == "serverAuth" || e == "any");
    if c.role == Role::Leaf && c.sans.is_empty() && serves {
        push("leaf-without-san", Severity::Warn, format!("{who}: leaf without subjectAltName; modern clients ignore the CN and will reject it for any name"));
    }
}

fn file_findings(certs: &[CertInfo], ders: &[&[u8]], out: &mut Vec<Finding>) {
    // Duplicates.
    for i in 0..certs.len() {
        if let Some(j) = (0..i).find(|&j| ders[j] == ders[i]) {
            out.push(Finding {
                rule: "duplicate",
                severity: Severity::Warn,
                cert: Some(i),
                message: format!("#{i} {}: duplicate of #{j}", certs[i].subject),
            });
        }
    }
    // CA certificates whose issuer is not in the file.
    for c in certs {
        if c.role == Role::Intermediate && c.issued_by.is_none() {
            out.push(Finding {
                rule: "issuer-not-in-file",
                severity: Severity::Info,
                cert: Some(c.index),
                message: format!(
                    "#{} {}: its issuer {} is not in this file",
                    c.index, c.subject, c.issuer
                ),
            });
        }
    }
    // Trust anchors: the tops of the chains a client would trust from this file.
    let anchors: Vec<&CertInfo> = certs
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            c.role != Role::Leaf && c.issued_by.is_none() && !(0..*i).any(|j| ders[j] == ders[*i])
        })
        .map(|(_, c)| c)
        .collect();
    if anchors.len() > 1 {
        let first = &certs[0];
        out.push(Finding {
            rule: "multiple-anchors",
            severity: Severity::Warn,
            cert: Some(0),
            message: format!(
                "file holds {} trust anchors ({}); a client that imports only the first certificate trusts only #0 {}",
                anchors.len(),
                anchors.iter().map(|a| format!("#{}", a.index)).collect::<Vec<_>>().join(", "),
                first.subject
            ),
        });
    }
}

//! Audit policy rules judged on a verify report: each violated rule is a finding with its
//! rule id and the target.

use serde::Serialize;

use crate::finding::{Severity, Status};
use crate::inventory::{Policy, TlsVersionReq};
use crate::pki::describe::Role;
use crate::report::VerifyReport;

/// A policy rule violated by a target (or a bundle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyFinding {
    pub rule: &'static str,
    pub severity: Severity,
    pub target: String,
    pub message: String,
}

/// Judges one target's report. `without_client_cert`: a second verification that presented
/// no client certificate, when the policy requires client authentication.
pub fn judge(
    id: &str,
    r: &VerifyReport,
    policy: &Policy,
    without_client_cert: Option<&VerifyReport>,
) -> Vec<PolicyFinding> {
    let mut out = Vec::new();
    let mut push = |rule, severity, message: String| {
        out.push(PolicyFinding {
            rule,
            severity,
            target: id.to_string(),
            message,
        })
    };

    match &r.tls {
        None => push(
            "tls-absent",
            Severity::Error,
            "the target is plaintext (redis://): TLS is not in use".into(),
        ),
        Some(tls) => {
            if let Some(v) = &tls.version {
                let have = if v == "TLS 1.3" {
                    TlsVersionReq::V1_3
                } else {
                    TlsVersionReq::V1_2
                };
                if have < policy.min_tls_version {
                    let min = if policy.min_tls_version == TlsVersionReq::V1_3 {
                        "TLS 1.3"
                    } else {
                        "TLS 1.2"
                    };
                    push(
                        "min-tls-version",
                        Severity::Error,
                        format!("negotiated {v}, policy requires at least {min}"),
                    );
                }
            }
            if let (Some(allowed), Some(cs)) = (&policy.allowed_cipher_suites, &tls.cipher_suite) {
                if !allowed.iter().any(|a| a.eq_ignore_ascii_case(cs)) {
                    push(
                        "cipher-suite",
                        Severity::Error,
                        format!("negotiated {cs}, not in allowed_cipher_suites"),
                    );
                }
            }
        }
    }

    // Dates: the verified path when there is one, otherwise what was presented.
    let certs = if r.verified_path.is_empty() {
        &r.chain
    } else {
        &r.verified_path
    };
    if let Some(c) = certs.iter().min_by_key(|c| c.raw.not_after) {
        if c.days_left < policy.fail_days {
            push(
                "cert-expiry",
                Severity::Error,
                format!(
                    "{} has {} days left (fail_days {})",
                    c.subject, c.days_left, policy.fail_days
                ),
            );
        } else if c.days_left < policy.warn_days {
            push(
                "cert-expiry",
                Severity::Warn,
                format!(
                    "{} has {} days left (warn_days {})",
                    c.subject, c.days_left, policy.warn_days
                ),
            );
        }
    }
    for c in certs {
        let weak = c.key.is_weak(policy.min_rsa_bits, policy.min_ec_bits);
        if weak {
            push(
                "weak-key",
                Severity::Error,
                format!(
                    "{}: {} key (policy: RSA >= {}, EC >= {})",
                    c.subject,
                    c.key.summary(),
                    policy.min_rsa_bits,
                    policy.min_ec_bits
                ),
            );
        }
        if c.role != Role::Root && c.signature_algorithm.to_ascii_lowercase().contains("md5") {
            push(
                "md5-signature",
                Severity::Error,
                format!("{}: signed with {}", c.subject, c.signature_algorithm),
            );
        }
        if policy.forbid_sha1
            && c.role != Role::Root
            && c.signature_algorithm.to_ascii_lowercase().contains("sha1")
        {
            push(
                "sha1-signature",
                Severity::Error,
                format!("{}: signed with {}", c.subject, c.signature_algorithm),
            );
        }
    }

    if policy.require_plaintext_refused {
        match r.checks.iter().find(|c| c.check == "plaintext-refused") {
            Some(c) if c.status == Status::Fail => {
                push("plaintext-allowed", Severity::Error, c.message.clone())
            }
            Some(c) if c.status == Status::Warn => {
                push("plaintext-allowed", Severity::Warn, c.message.clone())
            }
            _ => {}
        }
    }
    if let Some(probe) = without_client_cert {
        match without_client_cert_outcome(probe) {
            WithoutClientCert::Refused => {}
            WithoutClientCert::Served => push(
                "client-auth-not-required",
                Severity::Error,
                "a connection without a client certificate was served: mutual TLS is not enforced"
                    .into(),
            ),
            WithoutClientCert::Unclear(step) => push("client-auth-not-required", Severity::Warn, format!("could not prove that a connection without a client certificate is refused ({step})")),
        }
    }
    out
}

/// What a verification that presented no client certificate shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WithoutClientCert {
    /// The server rejected the connection for the missing certificate.
    Refused,
    /// The server served it (PING or SELECT 1 answered, or Redis asked for AUTH).
    Served,
    /// Neither: the first failing step, as `step: message`.
    Unclear(String),
}

/// Judges a verification made without a client certificate (used by the audit policy's
/// `require_client_auth` and by `verify --expect`).
pub fn without_client_cert_outcome(probe: &VerifyReport) -> WithoutClientCert {
    let rejected = probe
        .checks
        .iter()
        .any(|c| c.check == "client-cert" && c.status == Status::Fail);
    let served = probe
        .checks
        .iter()
        .any(|c| c.check == "ping" && matches!(c.status, Status::Pass | Status::Warn))
        || probe
            .checks
            .iter()
            .any(|c| c.check == "auth" && c.status == Status::Fail && c.message.contains("NOAUTH"));
    if rejected {
        WithoutClientCert::Refused
    } else if served {
        WithoutClientCert::Served
    } else {
        WithoutClientCert::Unclear(
            probe
                .checks
                .iter()
                .find(|c| c.status == Status::Fail)
                .map(|c| format!("{}: {}", c.check, c.message))
                .unwrap_or_else(|| "no failing step".into()),
        )
    }
}

//! Audit policy rules judged on a target's typed facts and step statuses (never on the
//! words of a message): each violated rule is a finding with its rule id and the target.

use serde::Serialize;

use crate::evidence::{suite_name, version_name};
use crate::finding::{Check, Severity, Status};
use crate::pki::describe::{CertInfo, Role, WeakHash};
use crate::pki::validity;
use crate::step::Step;

/// A policy rule violated by a target (or a bundle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PolicyFinding {
    pub rule: &'static str,
    pub severity: Severity,
    pub target: String,
    pub message: String,
}

/// The audit policy (defaults as documented in the README).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Policy {
    pub min_tls_version: TlsVersionReq,
    pub warn_days: i64,
    pub fail_days: i64,
    pub min_rsa_bits: u32,
    pub min_ec_bits: u32,
    pub forbid_sha1: bool,
    pub require_client_auth: bool,
    pub require_plaintext_refused: bool,
    pub allowed_cipher_suites: Option<Vec<String>>,
    /// Every target verified with `--strict` (step `strict`).
    pub strict: bool,
}

/// A minimum TLS version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub enum TlsVersionReq {
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_tls_version: TlsVersionReq::V1_2,
            warn_days: 30,
            fail_days: 0,
            min_rsa_bits: 2048,
            min_ec_bits: 256,
            forbid_sha1: true,
            require_client_auth: false,
            require_plaintext_refused: false,
            allowed_cipher_suites: None,
            strict: false,
        }
    }
}

/// What the policy judges of one verification: typed facts, not rendered text.
#[derive(Debug, Clone, Copy)]
pub struct TargetFacts<'a> {
    /// `None`: a plaintext target.
    pub tls: Option<TlsFacts>,
    /// The verified path when there is one, otherwise the presented chain.
    pub certs: &'a [CertInfo],
    pub checks: &'a [Check],
    /// The server answered a command with NOAUTH: it served the connection and wants a
    /// password.
    pub asked_for_auth: bool,
}

/// The negotiated parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct TlsFacts {
    pub version: Option<rustls::ProtocolVersion>,
    pub suite: Option<rustls::CipherSuite>,
}

impl TargetFacts<'_> {
    fn step(&self, step: Step) -> Option<&Check> {
        self.checks.iter().find(|c| c.check == step)
    }
}

/// Judges one target. `without_client_cert`: a second verification that presented no
/// client certificate, when the policy requires client authentication.
pub fn judge(
    id: &str,
    r: &TargetFacts<'_>,
    policy: &Policy,
    without_client_cert: Option<&TargetFacts<'_>>,
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
            "the target is plaintext (redis://, or sslmode=disable): TLS is not in use".into(),
        ),
        Some(tls) => {
            if let Some(v) = tls.version {
                let have = if v == rustls::ProtocolVersion::TLSv1_3 {
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
                        format!(
                            "negotiated {}, policy requires at least {min}",
                            version_name(v)
                        ),
                    );
                }
            }
            if let (Some(allowed), Some(cs)) = (&policy.allowed_cipher_suites, tls.suite) {
                let cs = suite_name(cs);
                if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&cs)) {
                    push(
                        "cipher-suite",
                        Severity::Error,
                        format!("negotiated {cs}, not in allowed_cipher_suites"),
                    );
                }
            }
        }
    }

    if let Some((_, c)) = validity::earliest(r.certs) {
        if validity::days_left_below(c, policy.fail_days) {
            push(
                "cert-expiry",
                Severity::Error,
                format!(
                    "{} has {} days left (fail_days {})",
                    c.subject, c.days_left, policy.fail_days
                ),
            );
        } else if validity::days_left_below(c, policy.warn_days) {
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
    for c in r.certs {
        if c.key.is_weak(policy.min_rsa_bits, policy.min_ec_bits) {
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
        // A root's self-signature is not relied on: its hash is harmless.
        if c.role == Role::Root {
            continue;
        }
        match c.raw.weak_hash {
            Some(WeakHash::Md5) => push(
                "md5-signature",
                Severity::Error,
                format!("{}: signed with {}", c.subject, c.signature_algorithm),
            ),
            Some(WeakHash::Sha1) if policy.forbid_sha1 => push(
                "sha1-signature",
                Severity::Error,
                format!("{}: signed with {}", c.subject, c.signature_algorithm),
            ),
            _ => {}
        }
    }

    if policy.require_plaintext_refused {
        match r.step(Step::PlaintextRefused) {
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
pub fn without_client_cert_outcome(probe: &TargetFacts<'_>) -> WithoutClientCert {
    let rejected = probe
        .step(Step::ClientCert)
        .is_some_and(|c| c.status == Status::Fail);
    let served = probe
        .step(Step::Ping)
        .is_some_and(|c| matches!(c.status, Status::Pass | Status::Warn))
        || probe.asked_for_auth;
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

//! The server's client-certificate rules (Redis Enterprise mutual TLS), simulated.
//!
//! `tlsprobe mtls` reads what the database trusts (`--trusted`, and the certificates of
//! `authentication_ssl_client_certs` in `--config`), the client's chain (`--cert`) and the
//! rules (`--validation`, `--authorized-subject`, `--config`), then judges every rule as its
//! own step. `verify` uses [`policy_from_rules`] and [`client_policy_check`] to pre-check the
//! client certificate it is about to present (step `client-policy`).
//!
//! # Layout
//!
//! - [`subject`]: authorized subjects, RFC 4514 parsing, the `san` and `subject` comparisons.
//! - [`config`]: the REST API JSON (`--config`).
//! - [`judge`]: the decision, as pure functions of policy, trusted list, chain and time.
//!
//! Precedence: a flag overrides the same setting from `--config` (`--authorized-subject`
//! replaces the file's list); `--allow-outdated` or `mtls_allow_outdated_certs: true` allows
//! outdated client certificates.

pub mod config;
pub mod judge;
pub mod outcome;
pub mod subject;

use std::path::PathBuf;

use rustls_pki_types::CertificateDer;
use serde::Serialize;

use crate::clock::{rfc3339, UnixSeconds};
use crate::domain::{ClientRules, Validation};
use crate::error::InputError;
use crate::finding::{Check, Finding, Severity, Status};
use crate::mtls::outcome::{MtlsReport, PolicyInfo, TrustedInfo};
use crate::pki::pem::read_cert_file;
use crate::pki::{describe, pem};
use crate::step::Step;

pub use judge::TrustedCert;
use subject::AuthorizedSubject;

/// The `--config` file as reported.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConfigSummary {
    pub file: String,
    /// `database`, `cluster` or `unknown`.
    pub kind: &'static str,
    pub tls_mode: Option<String>,
    pub enforce_client_authentication: Option<String>,
    /// How many certificates `authentication_ssl_client_certs` holds.
    pub client_certs: usize,
}

/// The server's client-certificate rules, resolved from flags and `--config`.
#[derive(Debug, Clone)]
pub struct MtlsPolicy {
    pub validation: Validation,
    /// Where the validation type came from: `default`, `--validation`, or the config field.
    pub validation_source: String,
    pub authorized: Vec<AuthorizedSubject>,
    /// Outdated (expired) client certificates are accepted.
    pub allow_outdated: bool,
    pub config: Option<ConfigSummary>,
    /// Certificates of `authentication_ssl_client_certs`: trusted like `--trusted`.
    pub config_certs: Vec<TrustedCert>,
    /// Findings about the rules themselves (deprecated fields, unused subjects).
    pub notes: Vec<Finding>,
    /// The server's rules were given (flags or `--config`). Without them `verify` still
    /// checks the client certificate locally (dates, EKU, key), but cannot know how the
    /// server treats an EKU without clientAuth, so that is a warning.
    pub declared: bool,
    /// Warn when the client leaf expires within this many days (`verify --warn-days`).
    pub warn_days: Option<i64>,
}

impl MtlsPolicy {
    /// No server rules known: only the certificate's own facts are judged.
    pub fn undeclared(allow_outdated: bool) -> Self {
        MtlsPolicy {
            validation: Validation::None,
            validation_source: "default".into(),
            authorized: vec![],
            allow_outdated,
            config: None,
            config_certs: vec![],
            notes: vec![],
            declared: false,
            warn_days: None,
        }
    }
}

/// Resolves the rule flags (`--validation`, `--authorized-subject`, `--config`) into a policy;
/// `allow_outdated` is `--allow-outdated` (`mtls_allow_outdated_certs` in the config also
/// allows). Reads the config file; every bad value is an [`InputError`] naming it.
pub fn policy_from_rules(
    rules: &ClientRules,
    allow_outdated: bool,
) -> Result<MtlsPolicy, InputError> {
    let cfg = match &rules.config {
        Some(p) => Some(config::read_config(p)?),
        None => None,
    };
    policy_from_settings(rules, allow_outdated, cfg)
}

/// [`policy_from_rules`] with the configuration already read (`verify --expect` reads the
/// BDB object once for its TLS fields and its client-certificate rules).
pub fn policy_from_settings(
    rules: &ClientRules,
    allow_outdated: bool,
    cfg: Option<config::ConfigSettings>,
) -> Result<MtlsPolicy, InputError> {
    let mut notes = Vec::new();
    let mut flag_subjects = Vec::new();
    for (i, text) in rules.authorized_subjects.iter().enumerate() {
        let entry = subject::parse_dn(&format!("--authorized-subject #{}", i + 1), text)
            .map_err(|m| InputError::new(format!("--authorized-subject {text:?}"), m))?;
        flag_subjects.push(entry);
    }
    let (validation, validation_source) =
        match (rules.validation, cfg.as_ref().and_then(|c| c.validation)) {
            (Some(v), _) => (v, "--validation".to_string()),
            (None, Some((v, field))) => (
                v,
                format!("{} {field}", cfg.as_ref().map_or("", |c| c.path.as_str())),
            ),
            (None, None) => (Validation::None, "default".to_string()),
        };
    let mut authorized = flag_subjects;
    let mut config_certs = Vec::new();
    let mut summary = None;
    let mut outdated = allow_outdated;
    if let Some(c) = &cfg {
        let mut from_file: Vec<AuthorizedSubject> =
            c.authorized_subjects.clone().unwrap_or_default();
        if let Some(names) = &c.authorized_names {
            notes.push(Finding {
                rule: "authorized-names-deprecated",
                severity: Severity::Warn,
                cert: None,
                message: format!(
                    "{} uses authorized_names, deprecated since Redis Enterprise 6.4.2: move {} to authorized_subjects as {{\"CN\": ...}} entries",
                    c.path,
                    names
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
            from_file.extend(names.iter().enumerate().map(|(i, n)| {
                AuthorizedSubject::with_cn(format!("{} authorized_names[{i}]", c.path), n)
            }));
        }
        if authorized.is_empty() {
            authorized = from_file;
        } else if !from_file.is_empty() {
            notes.push(Finding {
                rule: "subjects-overridden",
                severity: Severity::Info,
                cert: None,
                message: format!(
                    "--authorized-subject replaces the {} authorized subjects of {}",
                    from_file.len(),
                    c.path
                ),
            });
        }
        outdated |= c.allow_outdated.unwrap_or(false);
        for cc in &c.client_certs {
            let info = describe::describe(cc.index, &cc.der, 0).map_err(|e| {
                InputError::new(format!("--config {}", c.path), format!("{}: {e}", cc.label))
            })?;
            let index = config_certs
                .iter()
                .filter(|t: &&TrustedCert| t.file == cc.label)
                .count();
            config_certs.push(TrustedCert {
                file: cc.label.clone(),
                index,
                der: cc.der.clone(),
                info,
            });
        }
        summary = Some(ConfigSummary {
            file: c.path.clone(),
            kind: c.kind.as_str(),
            tls_mode: c.tls_mode.clone(),
            enforce_client_authentication: c.enforce_client_authentication.clone(),
            client_certs: c.client_certs.len(),
        });
    }
    if validation == Validation::None && !authorized.is_empty() {
        notes.push(Finding {
            rule: "subjects-unused",
            severity: Severity::Warn,
            cert: None,
            message: format!(
                "{} authorized subject{} configured but validation is none (disabled): {} not applied; set --validation san|subject (client_cert_subject_validation_type)",
                authorized.len(),
                if authorized.len() == 1 { " is" } else { "s are" },
                if authorized.len() == 1 { "it is" } else { "they are" }
            ),
        });
    }
    Ok(MtlsPolicy {
        validation,
        validation_source,
        authorized,
        allow_outdated: outdated,
        config: summary,
        config_certs,
        notes,
        declared: true,
        warn_days: None,
    })
}

/// The `client-policy` step of `verify`: judges the client chain it is about to present
/// against the server's rules before connecting — the subject rule (`san`/`subject`), the
/// extended key usage, and the leaf's dates (expiry excused when the policy allows outdated
/// certificates). There is no trusted list in `verify`, except the certificates of
/// `authentication_ssl_client_certs` from `--config`: when present, the chain must lead to
/// them, and a leaf among them makes the server skip the subject rule.
///
/// Pass example: `no subject validation configured; clientAuth ok; valid until 2124-01-01T00:00:00Z`.
pub fn client_policy_check(
    policy: &MtlsPolicy,
    client_chain: &[CertificateDer<'_>],
    now: UnixSeconds,
) -> Check {
    const NAME: Step = Step::ClientPolicy;
    let infos = match judge::describe_chain(client_chain, now) {
        Ok(i) if !i.is_empty() => i,
        Ok(_) => return Check::new(NAME, Status::Skip, "no client certificate"),
        Err(e) => return Check::new(NAME, Status::Fail, e.to_string()),
    };
    let leaf = &infos[0];
    let mut parts: Vec<(Status, String)> = Vec::new();
    let trusted_leaf = policy.config_certs.iter().find(|t| t.is_leaf());
    match (judge::subject_rule(policy, leaf), trusted_leaf) {
        (None, _) if !policy.declared => {}
        (None, _) => parts.push((Status::Pass, "no subject validation configured".into())),
        (Some(_), Some(t)) => parts.push((
            Status::Pass,
            format!(
                "{} validation skipped by the server: its trusted list holds a leaf ({})",
                judge::validation_name(policy.validation),
                t.label()
            ),
        )),
        (Some(r), None) => parts.push(r),
    }
    let ku = judge::key_usage_step(&infos);
    parts.push(match ku.status {
        Status::Pass if leaf.raw.has_eku => (Status::Pass, "clientAuth ok".into()),
        Status::Pass => (Status::Pass, "no extended key usage (any purpose)".into()),
        // Without the server's rules, say what most servers will do, as a warning.
        Status::Fail if !policy.declared => (Status::Warn, ku.message),
        s => (s, ku.message),
    });
    if policy.config_certs.is_empty() {
        let (status, msg) = judge::leaf_dates(leaf, policy.allow_outdated, now);
        match policy.warn_days {
            Some(w) if status == Status::Pass && leaf.days_left < w => parts.push((
                Status::Warn,
                format!(
                    "the client certificate expires {} ({} days left; warning threshold {w} days)",
                    rfc3339(leaf.raw.not_after),
                    leaf.days_left
                ),
            )),
            _ => parts.push((status, msg)),
        }
    } else {
        let (c, _) = judge::chain_step(
            &policy.config_certs,
            client_chain,
            &infos,
            policy.allow_outdated,
            now,
        );
        let msg = match c.status {
            Status::Pass => format!(
                "{}; valid until {}",
                c.message.lines().next().unwrap_or(""),
                rfc3339(leaf.raw.not_after)
            ),
            _ => c.message,
        };
        parts.push((c.status, msg));
    }
    if !policy.declared {
        // verify loaded --cert and --key together: a mismatch is an input error (exit 2).
        parts.push((Status::Pass, "key matches the certificate".into()));
    }
    let status = if parts.iter().any(|p| p.0 == Status::Fail) {
        Status::Fail
    } else if parts.iter().any(|p| p.0 == Status::Warn) {
        Status::Warn
    } else {
        Status::Pass
    };
    let first: Vec<&str> = parts
        .iter()
        .map(|(_, m)| m.lines().next().unwrap_or(""))
        .collect();
    let mut message = first.join("; ");
    for (s, m) in &parts {
        if *s != Status::Pass {
            for l in m.lines().skip(1) {
                message.push('\n');
                message.push_str(l);
            }
        }
    }
    Check::new(NAME, status, message)
}

/// Reads `--trusted` files: every certificate of each file.
pub fn load_trusted(paths: &[PathBuf]) -> Result<Vec<TrustedCert>, InputError> {
    let mut out = Vec::new();
    for path in paths {
        let file = read_cert_file(path, "--trusted")?;
        if file.certs.is_empty() {
            return Err(InputError::new(
                format!("--trusted {}", file.path),
                "holds no certificate",
            ));
        }
        for c in &file.certs {
            let info = check_and_describe(c, &file.path, "--trusted")?;
            out.push(TrustedCert {
                file: file.path.clone(),
                index: c.index,
                der: c.der.clone(),
                info,
            });
        }
    }
    Ok(out)
}

fn check_and_describe(
    c: &pem::CertBlock,
    path: &str,
    flag: &str,
) -> Result<describe::CertInfo, InputError> {
    let subject = format!("{flag} {path}");
    if let Some(e) = pem::parse_cert_error(&c.der) {
        return Err(InputError::new(
            subject,
            format!("PEM block {}: {e}", c.block),
        ));
    }
    describe::describe(c.index, &c.der, 0)
        .map_err(|e| InputError::new(subject, format!("PEM block {}: {e}", c.block)))
}

/// Reads `--cert`: the client's chain, leaf first (a private key in the file is ignored).
pub fn load_client_chain(
    path: &std::path::Path,
) -> Result<Vec<CertificateDer<'static>>, InputError> {
    let file = read_cert_file(path, "--cert")?;
    if file.certs.is_empty() {
        return Err(InputError::new(
            format!("--cert {}", file.path),
            "holds no certificate",
        ));
    }
    for c in &file.certs {
        check_and_describe(c, &file.path, "--cert")?;
    }
    Ok(file.certs.iter().map(|c| c.der.clone()).collect())
}

/// What `tlsprobe mtls` is asked, typed (the `mtls` flags convert into it).
#[derive(Debug, Clone)]
pub struct MtlsRequest {
    /// `--trusted`: the server's trusted list.
    pub trusted: Vec<std::path::PathBuf>,
    /// `--cert`: the client chain to judge.
    pub cert: std::path::PathBuf,
    pub rules: ClientRules,
    pub allow_outdated: bool,
}

/// Builds the `mtls` report: reads every input, then judges.
pub fn report(args: &MtlsRequest, now: UnixSeconds) -> Result<MtlsReport, InputError> {
    let policy = policy_from_rules(&args.rules, args.allow_outdated)?;
    // Without --trusted, the certificates of authentication_ssl_client_certs are the list.
    if args.trusted.is_empty() && policy.config_certs.is_empty() {
        return Err(match &policy.config {
            Some(c) => InputError::new(
                "--trusted",
                format!("required: --config {} holds no authentication_ssl_client_certs", c.file),
            ),
            None => InputError::new(
                "--trusted",
                "required (or a --config whose authentication_ssl_client_certs lists the trusted certificates)",
            ),
        });
    }
    let mut trusted = load_trusted(&args.trusted)?;
    trusted.extend(policy.config_certs.iter().cloned());
    let chain = load_client_chain(&args.cert)?;
    let d = judge::decide(&policy, &trusted, &chain, now);
    Ok(MtlsReport {
        client: args.cert.display().to_string(),
        decision: if d.accepted { "accepted" } else { "rejected" },
        accepted: d.accepted,
        evaluated_at: rfc3339(now),
        steps: d.steps,
        findings: d.findings,
        policy: PolicyInfo {
            validation: judge::validation_name(policy.validation),
            validation_rest: judge::validation_rest_name(policy.validation),
            validation_source: policy.validation_source.clone(),
            authorized_subjects: policy.authorized.clone(),
            allow_outdated: policy.allow_outdated,
            config: policy.config.clone(),
        },
        trusted: trusted
            .iter()
            .map(|t| TrustedInfo {
                file: t.file.clone(),
                index: t.index,
                subject: t.info.subject.clone(),
                leaf: t.is_leaf(),
            })
            .collect(),
        chain: d.chain,
        anchor: d.anchor,
    })
}

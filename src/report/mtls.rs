//! `tlsprobe mtls` report: the value every renderer reads, and its human form (JSON is
//! [`crate::report::json::render`] of [`MtlsReport`]).

use std::fmt::Write;

use serde::Serialize;

use crate::finding::{Check, Finding, Status};
use crate::mtls::subject::AuthorizedSubject;
use crate::mtls::ConfigSummary;
use crate::pki::describe::CertInfo;
use crate::report::{AnchorInfo, Style};

/// The result of `tlsprobe mtls`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MtlsReport {
    /// The `--cert` file.
    pub client: String,
    /// `accepted` or `rejected`.
    pub decision: &'static str,
    pub accepted: bool,
    pub evaluated_at: String,
    /// One step per rule, in order.
    pub steps: Vec<Check>,
    pub findings: Vec<Finding>,
    pub policy: PolicyInfo,
    pub trusted: Vec<TrustedInfo>,
    /// The client's chain as presented.
    pub chain: Vec<CertInfo>,
    pub anchor: Option<AnchorInfo>,
}

/// The rules as resolved from flags and `--config`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PolicyInfo {
    /// `none`, `san` or `subject`.
    pub validation: &'static str,
    /// The REST API name: `disabled`, `san_cn` or `full_subject`.
    pub validation_rest: &'static str,
    pub validation_source: String,
    pub authorized_subjects: Vec<AuthorizedSubject>,
    pub allow_outdated: bool,
    pub config: Option<ConfigSummary>,
}

/// One certificate of the server's trusted list.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TrustedInfo {
    pub file: String,
    pub index: usize,
    pub subject: String,
    /// An end-entity certificate (it disables subject validation on the server).
    pub leaf: bool,
}

/// `tlsprobe mtls` for people: steps, findings, decision.
pub fn human(r: &MtlsReport, st: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", st.bold(&format!("tlsprobe mtls {}", r.client)));
    let subject = r.chain.first().map_or("(none)", |c| c.subject.as_str());
    let _ = writeln!(out, "client   {subject}");
    let rules = if r.policy.authorized_subjects.is_empty() {
        String::new()
    } else {
        format!(
            ", {} authorized subject{}",
            r.policy.authorized_subjects.len(),
            if r.policy.authorized_subjects.len() == 1 {
                ""
            } else {
                "s"
            }
        )
    };
    let _ = writeln!(
        out,
        "rules    validation {} ({}){rules}{}",
        r.policy.validation,
        r.policy.validation_rest,
        if r.policy.allow_outdated {
            ", outdated certificates allowed"
        } else {
            ""
        }
    );
    let _ = writeln!(out);
    for c in &r.steps {
        step_line(&mut out, c, st);
    }
    if !r.findings.is_empty() {
        let _ = writeln!(out, "\nfindings:");
        for f in &r.findings {
            crate::report::human::finding_line(&mut out, f, st, "  ");
        }
    }
    let failed: Vec<&str> = r
        .steps
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.check.as_str())
        .collect();
    if r.accepted {
        let _ = writeln!(out, "\ndecision {}", st.status(Status::Pass, "ACCEPTED"));
    } else {
        let _ = writeln!(
            out,
            "\ndecision {}: {}",
            st.status(Status::Fail, "REJECTED"),
            failed.join(", ")
        );
    }
    out
}

/// One step: status, name, first line; further lines indented under the message.
pub fn step_line(out: &mut String, c: &Check, st: Style) {
    let status = format!("{:<4}", c.status.as_str());
    let mut lines = c.message.lines();
    let first = lines.next().unwrap_or("");
    let _ = writeln!(
        out,
        "{}  {:<21} {first}",
        st.status(c.status, &status),
        c.check
    );
    for l in lines {
        let _ = writeln!(out, "{:<28}{l}", "");
    }
}

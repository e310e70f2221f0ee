//! `tlsprobe mtls` report: its human form (JSON is
//! [`crate::report::json::render`] of [`MtlsReport`]).

use std::fmt::Write;

use crate::finding::{Check, Status};
use crate::mtls::outcome::MtlsReport;
use crate::report::Style;

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

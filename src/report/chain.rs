//! `tlsprobe chain` report: its human form (JSON is
//! [`crate::report::json::render`] of [`ChainReport`]).

use std::fmt::Write;

use crate::finding::Status;
use crate::pki::chain_outcome::ChainReport;
use crate::report::Style;

/// `tlsprobe chain` for people.
pub fn human(r: &ChainReport, st: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", st.bold(&format!("tlsprobe chain {}", r.leaf)));
    match (&r.error, &r.anchor) {
        (None, Some(a)) => {
            let _ = writeln!(
                out,
                "{}    path to {} #{} ({})",
                st.status(Status::Pass, "valid"),
                a.file,
                a.index,
                a.subject
            );
        }
        (None, None) => {
            let _ = writeln!(out, "{}    path found", st.status(Status::Pass, "valid"));
        }
        (Some(e), _) => {
            let mut lines = e.message.lines();
            let _ = writeln!(
                out,
                "{}  {}: {}",
                st.status(Status::Fail, "invalid"),
                e.kind,
                lines.next().unwrap_or("")
            );
            for l in lines {
                let _ = writeln!(out, "         {l}");
            }
        }
    }
    if !r.path.is_empty() {
        let _ = writeln!(out, "path");
        for p in &r.path {
            let _ = writeln!(
                out,
                "  {:<12}  {}  {}",
                p.role,
                st.bold(&p.subject),
                st.dim(&format!("{} #{}, until {}", p.file, p.index, p.not_after))
            );
        }
    }
    if !r.findings.is_empty() {
        let _ = writeln!(
            out,
            "findings{}",
            if r.strict {
                ""
            } else {
                " (profile problems fail only with --strict)"
            }
        );
        for f in &r.findings {
            let sev = format!("{:<5}", f.severity.as_str());
            let _ = writeln!(
                out,
                "  {}  {}  {}: {}  {}",
                st.severity(f.severity, &sev),
                f.rule,
                f.about(),
                f.message,
                st.dim(&format!("({})", f.section))
            );
        }
    }
    let verdict = match &r.error {
        None => st.status(Status::Pass, "VALID"),
        Some(e) => format!("{} ({})", st.status(Status::Fail, "INVALID"), e.kind),
    };
    let _ = writeln!(
        out,
        "\nverdict  {verdict}  (evaluated at {})",
        r.evaluated_at
    );
    out
}

//! `tlsprobe chain` report: the value every renderer reads, and its human form (JSON is
//! [`crate::report::json::render`] of [`ChainReport`]).

use std::fmt::Write;

use serde::Serialize;

use crate::finding::Status;
use crate::pki::strict::ProfileFinding;
use crate::report::Style;

/// The result of `tlsprobe chain`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChainReport {
    /// The LEAF file.
    pub leaf: String,
    pub valid: bool,
    pub evaluated_at: String,
    pub strict: bool,
    /// Leaf first, anchor last; empty when webpki found no path (filled when only the
    /// `--name` check or `--strict` failed).
    pub path: Vec<PathEntry>,
    pub anchor: Option<PathAnchor>,
    pub error: Option<ChainError>,
    /// Profile rule violations (`--strict` rules; warnings without `--strict`).
    pub findings: Vec<ProfileFinding>,
}

/// One certificate of the path and where it came from.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PathEntry {
    pub file: String,
    /// 0-based index of the certificate in `file`.
    pub index: usize,
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    /// `leaf`, `intermediate` or `anchor`.
    pub role: &'static str,
}

/// The `--cacert` certificate that anchored the path.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PathAnchor {
    pub file: String,
    pub index: usize,
    pub subject: String,
}

/// Why no valid path was found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChainError {
    /// Stable id: `unknown-issuer`, `expired`, `not-yet-valid`, `name-mismatch`,
    /// `wrong-purpose`, `path-length`, `name-constraints`, `revoked`, `revocation-unknown`,
    /// `max-depth`, `unsupported-algorithm`, `bad-signature`, `ca-as-leaf`, `leaf-as-ca`,
    /// `unsupported-certificate`, `strict`, `rejected`.
    pub kind: &'static str,
    pub message: String,
}

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

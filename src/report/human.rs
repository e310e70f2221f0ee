//! Human renderers: readable at a glance, one block per certificate, one line per step.

use std::fmt::Write;

use crate::pki::describe::CertInfo;
use crate::report::{FileReport, InspectReport, Style, Verdict, VerifyReport};

/// `tlsprobe inspect` for people.
pub fn inspect(report: &InspectReport, warn_days: i64, st: Style) -> String {
    let mut out = String::new();
    for (n, file) in report.files.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        file_block(&mut out, file, warn_days, st);
    }
    out
}

fn file_block(out: &mut String, file: &FileReport, warn_days: i64, st: Style) {
    let nc = file.certificates.len();
    let _ = writeln!(
        out,
        "{}: {} certificate{}{}",
        st.bold(&file.path),
        nc,
        if nc == 1 { "" } else { "s" },
        if file.other_blocks.is_empty() {
            String::new()
        } else {
            format!(
                ", {} other block{}",
                file.other_blocks.len(),
                if file.other_blocks.len() == 1 {
                    ""
                } else {
                    "s"
                }
            )
        }
    );
    for c in &file.certificates {
        cert_block(out, c, warn_days, st, "  ");
    }
    for b in &file.other_blocks {
        let _ = writeln!(out, "  block {}  {}", b.index, b.label);
    }
    if !file.findings.is_empty() {
        let _ = writeln!(out, "  findings:");
        for f in &file.findings {
            finding_line(out, f, st, "    ");
        }
    }
}

/// One finding: `severity  rule  message`, severity coloured.
pub fn finding_line(out: &mut String, f: &crate::finding::Finding, st: Style, indent: &str) {
    let sev = format!("{:<5}", f.severity.as_str());
    let _ = writeln!(
        out,
        "{indent}{}  {}  {}",
        st.severity(f.severity, &sev),
        f.rule,
        f.message
    );
}

/// One certificate as a block of aligned lines.
pub fn cert_block(out: &mut String, c: &CertInfo, warn_days: i64, st: Style, indent: &str) {
    let days = if c.days_left < 0 {
        format!("EXPIRED {} days ago", -c.days_left)
    } else {
        format!("{} days left", c.days_left)
    };
    let _ = writeln!(
        out,
        "{indent}#{} {:<12} {}",
        c.index,
        c.role.as_str(),
        st.bold(&c.subject)
    );
    let issuer = match (c.self_signed, c.issued_by) {
        (true, _) => "(self-signed)".to_string(),
        (false, Some(i)) => format!("{}  (#{i} in this file)", c.issuer),
        (false, None) => c.issuer.clone(),
    };
    let p = format!("{indent}   ");
    let _ = writeln!(out, "{p}issuer   {issuer}");
    let _ = writeln!(
        out,
        "{p}valid    {} .. {}  {}",
        &c.not_before[..10.min(c.not_before.len())],
        &c.not_after[..10.min(c.not_after.len())],
        st.days(c.days_left, warn_days, &days)
    );
    let mut names: Vec<String> = Vec::new();
    names.extend(c.sans.dns.iter().map(|d| format!("DNS:{d}")));
    names.extend(c.sans.ip.iter().map(|d| format!("IP:{d}")));
    names.extend(c.sans.email.iter().map(|d| format!("email:{d}")));
    names.extend(c.sans.uri.iter().map(|d| format!("URI:{d}")));
    if !names.is_empty() {
        let _ = writeln!(out, "{p}sans     {}", names.join(", "));
    }
    let ca = if c.is_ca {
        match c.path_len {
            Some(n) => format!("CA:TRUE pathlen:{n}"),
            None => "CA:TRUE".into(),
        }
    } else {
        "CA:FALSE".into()
    };
    let _ = writeln!(
        out,
        "{p}key      {}  sig {}  {ca}",
        c.key.summary(),
        c.signature_algorithm
    );
    if !c.key_usage.is_empty() || !c.extended_key_usage.is_empty() {
        let _ = writeln!(
            out,
            "{p}usage    {}{}{}",
            c.key_usage.join(","),
            if c.key_usage.is_empty() || c.extended_key_usage.is_empty() {
                ""
            } else {
                "  "
            },
            c.extended_key_usage.join(",")
        );
    }
    let _ = writeln!(out, "{p}serial   {}", c.serial);
    let _ = writeln!(out, "{p}sha256   {}", st.dim(&c.sha256));
}

/// `tlsprobe verify` for people: steps, chain, verdict.
pub fn verify(r: &VerifyReport, warn_days: i64, st: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", st.bold(&format!("tlsprobe verify {}", r.target)));
    for c in &r.checks {
        let status = format!("{:<4}", c.status.as_str());
        let mut lines = c.message.lines();
        let first = lines.next().unwrap_or("");
        let ms = if c.ms > 0.0 {
            format!("  {}", st.dim(&format!("{:.1} ms", c.ms)))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{}  {:<17} {first}{ms}",
            st.status(c.status, &status),
            c.check
        );
        for l in lines {
            let _ = writeln!(out, "{:<24}{l}", "");
        }
    }
    if let Some(tls) = &r.tls {
        if let (Some(v), Some(cs)) = (&tls.version, &tls.cipher_suite) {
            let _ = writeln!(
                out,
                "\ntls      {v}  {cs}  sni={}",
                tls.sni.as_deref().unwrap_or("(none)")
            );
        }
    }
    if !r.chain.is_empty() {
        let _ = writeln!(out, "chain    (as presented by the server)");
        for c in &r.chain {
            let days = if c.days_left < 0 {
                format!("EXPIRED {} days ago", -c.days_left)
            } else {
                format!("{} days left", c.days_left)
            };
            let _ = writeln!(
                out,
                "  #{} {}  {}",
                c.index,
                st.bold(&c.subject),
                st.days(c.days_left, warn_days, &days)
            );
            let _ = writeln!(out, "       issuer {}", c.issuer);
        }
        if let Some(a) = &r.anchor {
            let how = if a.pinned { "pinned leaf" } else { "anchor" };
            let _ = writeln!(out, "  {how}: {} #{}  {}", a.file, a.index, a.subject);
        }
    }
    let verdict = match r.verdict {
        Verdict::Pass => st.status(crate::finding::Status::Pass, "PASS"),
        Verdict::Fail => st.status(crate::finding::Status::Fail, "FAIL"),
    };
    let failed: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.status == crate::finding::Status::Fail)
        .map(|c| c.check.as_str())
        .collect();
    let warned = r
        .checks
        .iter()
        .filter(|c| c.status == crate::finding::Status::Warn)
        .count();
    let attempts = if r.attempts > 1 {
        format!(" after {} attempts", r.attempts)
    } else {
        String::new()
    };
    if failed.is_empty() {
        let _ = writeln!(
            out,
            "\nverdict  {verdict}{attempts}{}",
            if warned > 0 {
                format!(" ({warned} warning{})", if warned == 1 { "" } else { "s" })
            } else {
                String::new()
            }
        );
    } else {
        let _ = writeln!(out, "\nverdict  {verdict}{attempts}: {}", failed.join(", "));
    }
    out
}

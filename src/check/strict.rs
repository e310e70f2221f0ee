//! The `strict` step of `verify --strict` (and audit policy `strict = true`): the profile
//! rules of [`crate::pki::strict`] on the path webpki verified for the server.

use crate::check::trust::ChainJudgement;
use crate::clock::UnixSeconds;
use crate::finding::{Check, Severity, Status};
use crate::pki::strict::{self, LeafProfile, Options};

use crate::step::Step;

/// The step id.
pub const STEP: Step = Step::Strict;

/// Judges the verified server path; `skip` when there is none (chain-trust failed).
pub fn step(judged: &ChainJudgement, now: UnixSeconds) -> Check {
    if judged.verified_der.is_empty() {
        return Check::new(STEP, Status::Skip, "no verified path: chain-trust failed");
    }
    let ders: Vec<&[u8]> = judged.verified_der.iter().map(Vec::as_slice).collect();
    let findings = strict::check_path(
        &ders,
        judged.anchor_position,
        &[],
        &Options {
            profile: LeafProfile::Server,
            now,
        },
    );
    let failing: Vec<_> = findings
        .iter()
        .filter(|f| f.severity >= Severity::Error)
        .collect();
    let lines: Vec<String> = findings
        .iter()
        .map(|f| format!("{} {}: {} ({})", f.rule, f.about(), f.message, f.section))
        .collect();
    let anchor_note = if judged.anchor_position.is_none() {
        " (the anchor is not on the path as a certificate: root rules not applied)"
    } else {
        ""
    };
    if failing.is_empty() {
        let mut msg = format!(
            "{} certificate{} of the verified path meet the {} profile rules{anchor_note}",
            ders.len(),
            if ders.len() == 1 { "" } else { "s" },
            strict::RULES.len()
        );
        for l in &lines {
            msg.push_str(&format!("\n{l}"));
        }
        return Check::new(STEP, Status::Pass, msg);
    }
    let ids: Vec<&str> = failing.iter().map(|f| f.rule).collect();
    let mut msg = format!(
        "the chain is valid for rustls-webpki, but fails {} profile rule{}: {}",
        failing.len(),
        if failing.len() == 1 { "" } else { "s" },
        ids.join(", ")
    );
    for l in &lines {
        msg.push_str(&format!("\n{l}"));
    }
    Check::new(STEP, Status::Fail, msg)
}

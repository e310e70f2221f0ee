//! Findings and check results: judged facts, and how they become an exit code.

use serde::Serialize;

use crate::step::Step;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }
}

/// A finding about a certificate file (inspect) or a policy rule (audit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// Stable rule id, e.g. `expired`, `multiple-anchors`.
    pub rule: &'static str,
    pub severity: Severity,
    /// Index of the certificate concerned, when there is one.
    pub cert: Option<usize>,
    pub message: String,
}

/// `--fail-on`: the lowest severity that makes the run fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warn,
    Never,
}

impl FailOn {
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warn => severity >= Severity::Warn,
            FailOn::Never => false,
        }
    }
}

/// The status of one named verification step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One named step of a verification with its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Check {
    pub check: Step,
    pub status: Status,
    pub message: String,
    /// Time spent in the step (0 for pure judgements of recorded evidence).
    pub ms: f64,
}

impl Check {
    pub fn new(check: Step, status: Status, message: impl Into<String>) -> Self {
        Self {
            check,
            status,
            message: message.into(),
            ms: 0.0,
        }
    }

    pub fn with_ms(mut self, ms: f64) -> Self {
        self.ms = (ms * 100.0).round() / 100.0;
        self
    }
}

/// Process exit codes, the same for every subcommand.
pub mod exit {
    /// Everything passed.
    pub const PASS: u8 = 0;
    /// A check failed (or a finding at or above `--fail-on`).
    pub const FAIL: u8 = 1;
    /// Usage or input error.
    pub const INPUT: u8 = 2;
}

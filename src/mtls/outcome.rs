//! What `tlsprobe mtls` decided: the value its renderers read (`report::mtls` for people,
//! JSON as it is). Built only by [`crate::mtls::report`].

use serde::Serialize;

use crate::finding::{Check, Finding};
use crate::mtls::subject::AuthorizedSubject;
use crate::mtls::ConfigSummary;
use crate::pki::describe::CertInfo;
use crate::pki::trust::AnchorInfo;

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

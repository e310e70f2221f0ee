//! What `tlsprobe chain` found: the value its renderers read (`report::chain` for people,
//! JSON as it is). Built only by [`crate::pki::chain::validate`].

use serde::Serialize;

use crate::pki::strict::ProfileFinding;

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

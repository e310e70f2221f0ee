//! A trust store with the provenance of every anchor: which `--cacert` file and which
//! certificate of it (or the built-in Mozilla roots), and which of them anchored a verified
//! path ([`AnchorInfo`], reported by verify and mtls). Loaded by `truststore`, read by `check`.

use rustls_pki_types::CertificateDer;
use serde::Serialize;

/// Where a trusted certificate came from.
#[derive(Debug, Clone)]
pub struct AnchorSource {
    /// The `--cacert` path, or `webpki-roots`.
    pub file: String,
    /// 0-based index among the file's certificates.
    pub index: usize,
    pub subject: String,
    /// The certificate itself (absent for the built-in roots).
    pub der: Option<CertificateDer<'static>>,
    /// A non-CA certificate: pins a server leaf.
    pub is_leaf: bool,
}

/// Trust anchors with their provenance; `anchors[i]` came from `sources[i]`.
#[derive(Debug, Clone)]
pub struct TrustStore {
    pub anchors: Vec<rustls_pki_types::TrustAnchor<'static>>,
    pub sources: Vec<AnchorSource>,
    /// Per file: how many certificates it holds (for the "not the first" warning).
    pub file_sizes: Vec<(String, usize)>,
    pub builtin: bool,
    /// Which store this is, in words, for `chain-trust`: the Mozilla roots, the `--cacert`
    /// files, a directory, or the system store.
    pub store: String,
    /// Server-path answers already computed against these anchors (shared by every target
    /// and cluster node judged with this store).
    pub memo: crate::pki::path::PathMemo,
}

/// Which trusted certificate anchored the chain.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AnchorInfo {
    /// The `--cacert` file, or `webpki-roots` for the built-in Mozilla roots.
    pub file: String,
    /// 0-based index of the certificate in that file (as in `inspect`).
    pub index: usize,
    pub subject: String,
    /// The presented leaf itself is in the trusted file (pinned), not a CA.
    pub pinned: bool,
    /// Indexes (in the same file) of the bundle certificates crossed between the chain
    /// and the root reported as the anchor, in path order; empty when none.
    pub via: Vec<usize>,
}

//! What one verification was asked for, typed but not resolved: no file read yet, no
//! default applied that depends on the target (ripgrep's `lowargs` to [`crate::plan`]'s
//! `hiargs`).
//!
//! `verify`'s flags (`cli::VerifyArgs`), an inventory `[[target]]` and an exporter module
//! all become a [`RawVerify`]; [`crate::plan::verify_plan`] is the one resolver that
//! turns it into a `VerifyPlan`.

use std::path::PathBuf;
use std::time::Duration;

use crate::clock::UnixSeconds;
use crate::domain::{ClientRules, DiscoverKind, ExpectPlaintext, Protocol, TlsVersion};
use crate::target::Secret;

/// The raw options of one verification. Not `Debug`: `target` may hold a password.
#[derive(Clone)]
pub struct RawVerify {
    /// The target as written (a URL or host:port); `None` until `--expect` names one.
    pub target: Option<String>,
    /// Trust anchors: files, directories or `system`.
    pub cacert: Vec<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub key_pass_file: Option<PathBuf>,
    pub sni: Option<String>,
    /// The identity the server certificate must carry (`--name`, `server_name`).
    pub name: Option<String>,
    pub user: Option<String>,
    pub pass_file: Option<PathBuf>,
    /// The password the environment gives when no URL or file does (`REDISCLI_AUTH`,
    /// an inventory's `pass_env`), as read by the caller.
    pub env_password: Option<Secret>,
    pub tls_version: Option<TlsVersion>,
    pub protocol: Option<Protocol>,
    pub timeout: Duration,
    pub at: Option<UnixSeconds>,
    pub warn_days: i64,
    pub expect_plaintext: Option<ExpectPlaintext>,
    pub plaintext_ports: Vec<u16>,
    pub wait: Option<Duration>,
    pub interval: Duration,
    pub rules: ClientRules,
    pub allow_outdated: bool,
    pub strict: bool,
    pub discover: Option<DiscoverKind>,
    pub sentinel_master: Option<String>,
    pub cluster_bus: bool,
    /// `--resolve` HOST:PORT:ADDR entries.
    pub resolve: Vec<String>,
}

impl RawVerify {
    /// The options of `target` with every flag at its default (verify's defaults).
    pub fn new(target: impl Into<String>) -> Self {
        RawVerify {
            target: Some(target.into()),
            cacert: Vec::new(),
            cert: None,
            key: None,
            key_pass_file: None,
            sni: None,
            name: None,
            user: None,
            pass_file: None,
            env_password: None,
            tls_version: None,
            protocol: None,
            timeout: Duration::from_secs(10),
            at: None,
            warn_days: 30,
            expect_plaintext: None,
            plaintext_ports: Vec::new(),
            wait: None,
            interval: Duration::from_secs(1),
            rules: ClientRules::default(),
            allow_outdated: false,
            strict: false,
            discover: None,
            sentinel_master: None,
            cluster_bus: false,
            resolve: Vec::new(),
        }
    }
}

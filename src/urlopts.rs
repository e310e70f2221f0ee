//! Connection parameters in a database URL's query string, as cloud consoles print them:
//! libpq's for `postgres://` (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`, `sslsni`,
//! `application_name`, `connect_timeout`) and MySQL's URI syntax for `mysql://`
//! (`ssl-mode`, `ssl-ca`, `ssl-cert`, `ssl-key`). Any other parameter is an input error
//! naming it.
//!
//! A mode that asks for less than tlsprobe checks (`require`, `verify-ca`, ...) changes
//! nothing: every check still runs, and one warning says so. Nothing here weakens
//! verification. A mode that turns TLS off is refused: tlsprobe verifies TLS endpoints.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{InputError, Subject};
use crate::target::{Scheme, Target};

/// What the URL's parameters ask for, resolved.
#[derive(Debug, Clone, Default)]
pub struct UrlOptions {
    /// `sslrootcert` / `ssl-ca` (`system` is the system store, as in libpq).
    pub cacert: Option<PathBuf>,
    /// `sslcert` / `ssl-cert`.
    pub cert: Option<PathBuf>,
    /// `sslkey` / `ssl-key`.
    pub key: Option<PathBuf>,
    /// `sslsni=0`: send no SNI.
    pub no_sni: bool,
    /// `connect_timeout` (seconds; 0 or absent: tlsprobe's `--timeout`).
    pub timeout: Option<Duration>,
    /// The one warning about a mode that asks for less than tlsprobe checks.
    pub warning: Option<String>,
    /// `sslmode=disable` / `ssl-mode=DISABLED`: a plaintext target (no TLS at all).
    pub plaintext: bool,
}

const POSTGRES: &[&str] = &[
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslsni",
    "application_name",
    "connect_timeout",
];
const MYSQL: &[&str] = &["ssl-mode", "ssl-ca", "ssl-cert", "ssl-key"];

/// Resolves `target.params`; `shown` is the target as displayed (no password).
pub fn resolve(target: &Target) -> Result<UrlOptions, InputError> {
    let mut out = UrlOptions::default();
    let subject = Subject::Target(target.display());
    let err = |msg: String| InputError::new(&subject, msg);
    let known = match target.scheme {
        Scheme::Postgres => POSTGRES,
        Scheme::Mysql => MYSQL,
        _ => &[],
    };
    for (name, value) in &target.params {
        if !known.contains(&name.as_str()) {
            return Err(err(if known.is_empty() {
                format!(
                    "URL parameter {name:?}: {}:// URLs take no parameters",
                    target.scheme.name()
                )
            } else {
                format!(
                    "unknown URL parameter {name:?} (tlsprobe reads {})",
                    known.join(", ")
                )
            }));
        }
        match name.as_str() {
            "sslmode" | "ssl-mode" => {
                let v = value.to_ascii_lowercase();
                if v == "disable" || v == "disabled" {
                    out.plaintext = true;
                } else {
                    out.warning = mode(name, value).map_err(err)?;
                }
            }
            "sslrootcert" | "ssl-ca" => out.cacert = Some(PathBuf::from(value)),
            "sslcert" | "ssl-cert" => out.cert = Some(PathBuf::from(value)),
            "sslkey" | "ssl-key" => out.key = Some(PathBuf::from(value)),
            "sslsni" => {
                out.no_sni = match value.as_str() {
                    "0" => true,
                    "1" => false,
                    other => return Err(err(format!("sslsni={other:?}: expected 0 or 1"))),
                }
            }
            "connect_timeout" => {
                let secs: i64 = value.trim().parse().map_err(|_| {
                    err(format!("connect_timeout={value:?}: expected whole seconds"))
                })?;
                // libpq: zero or negative waits indefinitely; tlsprobe keeps its deadline.
                out.timeout = (secs > 0).then(|| Duration::from_secs(secs.unsigned_abs()));
            }
            // Accepted so that URLs from consoles work; tlsprobe's login is its own.
            _ => {}
        }
    }
    Ok(out)
}

/// Judges `sslmode` / `ssl-mode`: the warning for a mode weaker than what tlsprobe checks.
fn mode(name: &str, value: &str) -> Result<Option<String>, String> {
    let v = value.to_ascii_lowercase().replace('_', "-");
    match v.as_str() {
        "verify-full" | "verify-identity" => Ok(None),
        "allow" | "prefer" | "preferred" | "require" | "required" | "verify-ca" => Ok(Some(format!(
            "{name}={value} asks for less than tlsprobe checks: every check still runs (trust, server name, dates), as {} would",
            if name == "sslmode" { "sslmode=verify-full" } else { "ssl-mode=VERIFY_IDENTITY" }
        ))),
        "disable" | "disabled" => Err(format!(
            "{name}={value} asks for a plaintext connection, which tlsprobe does not verify (it proves TLS); remove it to verify TLS on this port"
        )),
        _ => Err(format!(
            "{name}={value:?}: expected {}",
            if name == "sslmode" {
                "disable, allow, prefer, require, verify-ca or verify-full"
            } else {
                "DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY"
            }
        )),
    }
}

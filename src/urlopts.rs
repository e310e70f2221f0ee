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
    resolve_params(target)
        .map_err(|e| InputError::new(Subject::Target(target.display()), e.to_string()))
}

/// [`resolve`] without the target's name around the error.
fn resolve_params(target: &Target) -> Result<UrlOptions, UrlParamError> {
    let mut out = UrlOptions::default();
    let known = match target.scheme {
        Scheme::Postgres => POSTGRES,
        Scheme::Mysql => MYSQL,
        _ => &[],
    };
    for (name, value) in &target.params {
        if !known.contains(&name.as_str()) {
            return Err(if known.is_empty() {
                UrlParamError::NoParameters {
                    name: name.clone(),
                    scheme: target.scheme.name(),
                }
            } else {
                UrlParamError::Unknown {
                    name: name.clone(),
                    known,
                }
            });
        }
        match name.as_str() {
            "sslmode" | "ssl-mode" => {
                let v = value.to_ascii_lowercase();
                if v == "disable" || v == "disabled" {
                    out.plaintext = true;
                } else {
                    out.warning = mode(name, value)?;
                }
            }
            "sslrootcert" | "ssl-ca" => out.cacert = Some(PathBuf::from(value)),
            "sslcert" | "ssl-cert" => out.cert = Some(PathBuf::from(value)),
            "sslkey" | "ssl-key" => out.key = Some(PathBuf::from(value)),
            "sslsni" => {
                out.no_sni = match value.as_str() {
                    "0" => true,
                    "1" => false,
                    other => {
                        return Err(UrlParamError::Sni {
                            value: other.into(),
                        })
                    }
                }
            }
            "connect_timeout" => {
                let secs: i64 = value.trim().parse().map_err(|_| UrlParamError::Timeout {
                    value: value.clone(),
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

/// A URL parameter tlsprobe refuses, with the parameter's name and value as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlParamError {
    /// A parameter on a scheme that takes none (`rediss://`, `tls://`).
    #[error("URL parameter {name:?}: {scheme}:// URLs take no parameters")]
    NoParameters { name: String, scheme: &'static str },
    /// A parameter this scheme does not have; `known` are the ones it has.
    #[error("unknown URL parameter {name:?} (tlsprobe reads {})", known.join(", "))]
    Unknown {
        name: String,
        known: &'static [&'static str],
    },
    /// `sslmode` / `ssl-mode` turning TLS off.
    #[error("{name}={value} asks for a plaintext connection, which tlsprobe does not verify (it proves TLS); remove it to verify TLS on this port")]
    Plaintext { name: String, value: String },
    /// `sslmode` / `ssl-mode` with a value neither libpq nor MySQL has.
    #[error("{name}={value:?}: expected {}", mode_choices(name))]
    Mode { name: String, value: String },
    /// `sslsni` other than 0 or 1.
    #[error("sslsni={value:?}: expected 0 or 1")]
    Sni { value: String },
    /// `connect_timeout` that is not whole seconds.
    #[error("connect_timeout={value:?}: expected whole seconds")]
    Timeout { value: String },
}

/// The values `name` (`sslmode` or `ssl-mode`) takes, for its error.
fn mode_choices(name: &str) -> &'static str {
    if name == "sslmode" {
        "disable, allow, prefer, require, verify-ca or verify-full"
    } else {
        "DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY"
    }
}

/// Judges `sslmode` / `ssl-mode`: the warning for a mode weaker than what tlsprobe checks.
fn mode(name: &str, value: &str) -> Result<Option<String>, UrlParamError> {
    let v = value.to_ascii_lowercase().replace('_', "-");
    let fact = || (name.to_string(), value.to_string());
    match v.as_str() {
        "verify-full" | "verify-identity" => Ok(None),
        "allow" | "prefer" | "preferred" | "require" | "required" | "verify-ca" => Ok(Some(format!(
            "{name}={value} asks for less than tlsprobe checks: every check still runs (trust, server name, dates), as {} would",
            if name == "sslmode" { "sslmode=verify-full" } else { "ssl-mode=VERIFY_IDENTITY" }
        ))),
        "disable" | "disabled" => {
            let (name, value) = fact();
            Err(UrlParamError::Plaintext { name, value })
        }
        _ => {
            let (name, value) = fact();
            Err(UrlParamError::Mode { name, value })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(url: &str) -> InputError {
        let target = crate::target::parse(url).expect("a target");
        resolve(&target).unwrap_err()
    }

    #[test]
    fn errors_display_todays_lines() {
        let e = err("postgres://u@h:5432/db?sslmode=bogus");
        assert_eq!(e.subject, "target \"postgres://u@h:5432/db\"");
        assert_eq!(
            e.message,
            "sslmode=\"bogus\": expected disable, allow, prefer, require, verify-ca or verify-full"
        );
        assert_eq!(
            err("mysql://u@h:3306/?ssl-mode=nope").message,
            "ssl-mode=\"nope\": expected DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY"
        );
        assert_eq!(
            err("mysql://u@h:3306/?sslmode=x").message,
            "unknown URL parameter \"sslmode\" (tlsprobe reads ssl-mode, ssl-ca, ssl-cert, ssl-key)"
        );
        assert_eq!(
            err("postgres://u@h:5432/?sslsni=2").message,
            "sslsni=\"2\": expected 0 or 1"
        );
        assert_eq!(
            err("postgres://u@h:5432/?connect_timeout=soon").message,
            "connect_timeout=\"soon\": expected whole seconds"
        );
        assert_eq!(
            mode("ssl-mode", "DISABLED").unwrap_err().to_string(),
            "ssl-mode=DISABLED asks for a plaintext connection, which tlsprobe does not verify (it proves TLS); remove it to verify TLS on this port"
        );
    }

    #[test]
    fn errors_carry_the_parameter() {
        let t = crate::target::parse("postgres://u@h:5432/?sslsni=yes").unwrap();
        assert_eq!(
            resolve_params(&t).unwrap_err(),
            UrlParamError::Sni {
                value: "yes".into()
            }
        );
    }
}

//! Arguments and files resolved into what to do: the trust store, the client identity,
//! the expected server name, the credentials. All file reading happens here, before any
//! connection; every problem is an [`InputError`] (exit 2).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::clock::UnixSeconds;
use crate::domain::{ExpectPlaintext, Protocol, TlsVersion};
use crate::error::{InputError, Subject};
use crate::options::RawVerify;
use crate::pki::pem;
use crate::target::{self, Host, Scheme, Secret, Target};

pub use crate::connect::tls::provider;
pub use crate::pki::trust::TrustStore;

/// The client certificate chain and key, checked to match.
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    pub file: String,
    pub key: Arc<CertifiedKey>,
    pub chain: Vec<CertificateDer<'static>>,
}

impl ClientIdentity {
    /// Loads `--cert` and `--key` (the key may be inside the cert file).
    pub fn load(
        cert: &Path,
        key: Option<&Path>,
        provider: &CryptoProvider,
    ) -> Result<Self, InputError> {
        Self::load_with_pass(cert, key, None, provider)
    }

    /// Like [`ClientIdentity::load`], decrypting an encrypted PKCS#8 key with `pass`
    /// (`--key-pass-file`).
    pub fn load_with_pass(
        cert: &Path,
        key: Option<&Path>,
        pass: Option<&Secret>,
        provider: &CryptoProvider,
    ) -> Result<Self, InputError> {
        use crate::pki::keyfile;
        // The key may be in the --cert file: its encrypted-key errors are judged below.
        let cert_file = pem::read_file(cert)
            .map_err(|e| InputError::new(format!("--cert {}", e.subject), e.message))?;
        if let Some((_, e)) = cert_file.errors.iter().enumerate().find(|(i, _)| {
            key.is_some() || !cert_file.encrypted_keys.iter().any(|k| k.error_index == *i)
        }) {
            return Err(InputError::new(
                format!("--cert {}", e.subject),
                e.message.clone(),
            ));
        }
        if cert_file.certs.is_empty() {
            return Err(InputError::new(
                format!("--cert {}", cert_file.path),
                "holds no certificate",
            ));
        }
        if let Some((block, e)) = cert_file
            .certs
            .iter()
            .find_map(|c| pem::parse_cert_error(&c.der).map(|e| (c.block, e)))
        {
            return Err(InputError::new(
                format!("--cert {}", cert_file.path),
                format!("PEM block {block}: {e}"),
            ));
        }
        let chain: Vec<CertificateDer<'static>> =
            cert_file.certs.iter().map(|c| c.der.clone()).collect();
        let (key_der, key_name): (PrivateKeyDer<'static>, String) = match key {
            Some(kp) => {
                let kf = keyfile::read_key_file(kp)?;
                let k = keyfile::first_key(&kf, "--key", pass)?.ok_or_else(|| {
                    InputError::new(format!("--key {}", kf.path), "holds no private key (expected a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block)")
                })?;
                (k, format!("--key {}", kf.path))
            }
            None => {
                let k = keyfile::first_key(&cert_file, "--cert", pass)?.ok_or_else(|| {
                    InputError::new(
                        format!("--cert {}", cert_file.path),
                        "holds no private key and no --key was given",
                    )
                })?;
                (k, format!("--cert {}", cert_file.path))
            }
        };
        let certified =
            CertifiedKey::from_der(chain.clone(), key_der, provider).map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => InputError::new(
                    key_name.clone(),
                    format!(
                        "does not match the certificate in {} (different public key)",
                        cert_file.path
                    ),
                ),
                other => InputError::new(
                    key_name.clone(),
                    format!("unusable private key: {}", short_rustls_error(&other)),
                ),
            })?;
        Ok(ClientIdentity {
            file: cert_file.path,
            key: Arc::new(certified),
            chain,
        })
    }
}

fn short_rustls_error(e: &rustls::Error) -> String {
    // rustls errors never contain key material; keep the message short.
    e.to_string()
}

/// Everything `verify` needs for one target.
#[derive(Debug, Clone)]
pub struct VerifyPlan {
    /// Warnings about the inputs (files with secrets readable by other users), printed on
    /// stderr by the caller; never fatal.
    pub warnings: Vec<String>,
    pub target: Target,
    pub trust: Arc<TrustStore>,
    /// Shared by every target that names the same files.
    pub client: Option<Arc<ClientIdentity>>,
    /// Name sent in SNI (`None`: no SNI, e.g. for an IP target).
    pub sni: Option<String>,
    /// Identity the server certificate must carry.
    pub expected_name: ServerName<'static>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub tls_version: Option<TlsVersion>,
    pub timeout: Duration,
    pub at: Option<UnixSeconds>,
    pub warn_days: i64,
    /// What plaintext probes must find; `None`: no probe.
    pub expect_plaintext: Option<ExpectPlaintext>,
    /// The expectation is the default one (not asked for): the target's own port is not
    /// probed again when its TLS handshake went unanswered.
    pub plaintext_implicit: bool,
    /// Other ports of the same host probed for plaintext (`--plaintext-port`).
    pub plaintext_ports: Vec<u16>,
    pub wait: Option<Duration>,
    pub interval: Duration,
    /// The server's client-certificate rules, when given: `--cert` is pre-checked.
    pub client_policy: Option<crate::mtls::MtlsPolicy>,
    /// `--strict`: the profile rules of `pki::strict` on the verified path (step `strict`).
    pub strict: bool,
    /// `--resolve`: the address to connect to instead of resolving the target's host.
    pub resolve: Option<crate::connect::tcp::ResolveOverride>,
}

/// Files already read that a plan may share (audit and the exporter read each distinct
/// set once): the trust store of `cacert`, the client identity of `cert`/`key`.
#[derive(Clone, Default)]
pub struct Loaded {
    pub trust: Option<Arc<TrustStore>>,
    pub client: Option<Arc<ClientIdentity>>,
}

/// The one resolver of a verification: [`RawVerify`] (from `verify`'s flags, an inventory
/// target or an exporter module) -> [`VerifyPlan`]. Reads every file it names unless
/// `loaded` has it; errors come in the order the checks are listed here.
pub fn verify_plan(raw: &RawVerify, loaded: Loaded) -> Result<VerifyPlan, InputError> {
    let mut target = parse_target(raw)?;
    // URL parameters (`?sslrootcert=...`) fill in what no flag gave.
    let url_opts = crate::urlopts::resolve(&target)?;
    target.tls_off = url_opts.plaintext;
    let cacert: Vec<PathBuf> = if raw.cacert.is_empty() {
        url_opts.cacert.clone().into_iter().collect()
    } else {
        raw.cacert.clone()
    };
    let cert = raw.cert.clone().or_else(|| url_opts.cert.clone());
    let key = raw.key.clone().or_else(|| url_opts.key.clone());
    let trust = match loaded.trust {
        Some(t) => t,
        None if cacert.is_empty() => Arc::new(TrustStore::builtin()),
        None => Arc::new(TrustStore::from_files(&cacert)?),
    };
    let client = load_client(raw, cert.as_deref(), key.as_deref(), loaded.client)?;
    let expected_name = match &raw.name {
        Some(n) => server_name(n).map_err(|m| InputError::new("--name", m))?,
        None => match &target.host {
            Host::Dns(d) => {
                server_name(d).map_err(|m| InputError::new(Subject::TargetHost(d.clone()), m))?
            }
            Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
        },
    };
    let sni = match &raw.sni {
        None if url_opts.no_sni => None,
        Some(s) => {
            server_name(s).map_err(|m| InputError::new("--sni", m))?;
            Some(s.clone())
        }
        None => match &target.host {
            Host::Dns(d) => Some(d.clone()),
            Host::Ip(_) => None,
        },
    };
    let mut warnings: Vec<String> = url_opts.warning.iter().cloned().collect();
    warnings.extend(secret_file_warnings(raw, cert.as_deref(), key.as_deref()));
    let password = match &raw.pass_file {
        Some(p) => Some(read_password_file(p)?),
        None => target
            .password
            .clone()
            .or_else(|| raw.env_password.clone().filter(|p| !p.expose().is_empty())),
    };
    let user = raw.user.clone().or_else(|| target.user.clone());
    if user.is_some() && password.is_none() && !target.scheme.is_sql() {
        return Err(InputError::new(
            "--user",
            "a user name needs a password (URL, --pass-file or REDISCLI_AUTH)",
        ));
    }
    let client_policy = client_policy(raw, client.is_some())?;
    let expect_plaintext = plaintext_expectation(raw, &target);
    let timeout = url_opts.timeout.unwrap_or(raw.timeout);
    if timeout.is_zero() {
        return Err(InputError::new("--timeout", "must be greater than zero"));
    }
    let resolve = crate::connect::tcp::pick_override(&raw.resolve, &target)?;
    Ok(VerifyPlan {
        resolve,
        target,
        trust,
        client,
        sni,
        expected_name,
        user,
        password,
        tls_version: raw.tls_version,
        timeout,
        at: raw.at,
        warn_days: raw.warn_days,
        expect_plaintext,
        plaintext_implicit: raw.expect_plaintext.is_none(),
        plaintext_ports: raw.plaintext_ports.clone(),
        wait: raw.wait,
        interval: raw.interval,
        client_policy,
        warnings,
        strict: raw.strict,
    })
}

/// The target as written, with `protocol` applied to a host:port target.
fn parse_target(raw: &RawVerify) -> Result<Target, InputError> {
    let text = raw.target.as_deref().ok_or_else(|| {
        InputError::new(
            "TARGET",
            "missing (give one, or --expect with an object that names the endpoint)",
        )
    })?;
    let mut target = target::parse(text)?;
    if let Some(p) = raw.protocol {
        let wanted = protocol_scheme(p);
        if !target.explicit_scheme {
            target.scheme = wanted;
        } else if wanted != target.scheme
            && !(wanted == Scheme::Rediss && target.scheme == Scheme::Redis)
        {
            return Err(InputError::new(
                "--protocol",
                format!(
                    "conflicts with the {}:// target; --protocol is for host:port targets",
                    target.scheme.name()
                ),
            ));
        }
    }
    Ok(target)
}

/// The client identity of `cert` and `key` (`loaded` when already read).
fn load_client(
    raw: &RawVerify,
    cert: Option<&Path>,
    key: Option<&Path>,
    loaded: Option<Arc<ClientIdentity>>,
) -> Result<Option<Arc<ClientIdentity>>, InputError> {
    Ok(match (cert, key) {
        (Some(_), _) if loaded.is_some() => loaded,
        (Some(c), k) => {
            let pass = raw
                .key_pass_file
                .as_deref()
                .map(crate::pki::keyfile::read_pass_file)
                .transpose()?;
            Some(Arc::new(ClientIdentity::load_with_pass(
                c,
                k,
                pass.as_ref(),
                &provider(),
            )?))
        }
        (None, Some(_)) => return Err(InputError::new("--key", "given without --cert")),
        (None, None) if raw.key_pass_file.is_some() => {
            return Err(InputError::new("--key-pass-file", "given without --cert"))
        }
        (None, None) => None,
    })
}

/// Files holding a secret that other users can read.
fn secret_file_warnings(raw: &RawVerify, cert: Option<&Path>, key: Option<&Path>) -> Vec<String> {
    // The key is in --cert when no --key is given: the warning names the file as given.
    let key_file = match (key, cert) {
        (Some(k), _) => Some(("--key", k)),
        (None, Some(c)) => Some(("--cert", c)),
        (None, None) => None,
    };
    let secret_files = [
        key_file.unzip(),
        (Some("--pass-file"), raw.pass_file.as_deref()),
        (Some("--key-pass-file"), raw.key_pass_file.as_deref()),
    ];
    secret_files
        .into_iter()
        .filter_map(|(flag, path)| readable_by_others(flag.unwrap_or("--key"), path?))
        .collect()
}

/// The server's client-certificate rules: always when there is a client certificate
/// (it is checked before connecting), the subject rules only when given.
fn client_policy(
    raw: &RawVerify,
    has_client: bool,
) -> Result<Option<crate::mtls::MtlsPolicy>, InputError> {
    let mut policy = if raw.rules.given() {
        Some(crate::mtls::policy_from_rules(
            &raw.rules,
            raw.allow_outdated,
        )?)
    } else if has_client {
        Some(crate::mtls::MtlsPolicy::undeclared(raw.allow_outdated))
    } else {
        None
    };
    if let Some(p) = policy.as_mut() {
        p.warn_days = Some(raw.warn_days);
    }
    Ok(policy)
}

/// Database targets prove plaintext is refused unless told otherwise; tls:// has no
/// plaintext protocol to try, and a plaintext target is plaintext by definition.
fn plaintext_expectation(raw: &RawVerify, target: &Target) -> Option<ExpectPlaintext> {
    match raw.expect_plaintext {
        Some(ExpectPlaintext::Any) => None,
        Some(e) => Some(e),
        None if target.uses_tls()
            && matches!(
                target.scheme,
                Scheme::Rediss | Scheme::Postgres | Scheme::Mysql
            ) =>
        {
            Some(ExpectPlaintext::Refused)
        }
        None if !raw.plaintext_ports.is_empty() => Some(ExpectPlaintext::Refused),
        None => None,
    }
}

fn protocol_scheme(p: Protocol) -> Scheme {
    match p {
        Protocol::Redis => Scheme::Rediss,
        Protocol::Postgres => Scheme::Postgres,
        Protocol::Mysql => Scheme::Mysql,
        Protocol::Tls => Scheme::Tls,
    }
}

impl VerifyPlan {
    /// What `check::judge` judges this target against.
    pub fn expectations(&self, now: UnixSeconds) -> crate::check::Expectations<'_> {
        use crate::check::PlaintextExpectation as P;
        let client = self.client.as_ref().and_then(|c| {
            let info = crate::pki::describe::describe(0, c.chain.first()?, now).ok()?;
            Some(crate::check::ClientSummary {
                needs_issuer: !info.self_signed,
                subject: info.subject,
                issuer: info.issuer,
                chain_len: c.chain.len(),
                not_after: info.raw.not_after,
            })
        });
        let chain: &[CertificateDer<'static>] =
            self.client.as_ref().map_or(&[], |c| c.chain.as_slice());
        crate::check::Expectations {
            scheme: self.target.scheme,
            uses_tls: self.target.uses_tls(),
            port: self.target.port,
            trust: &self.trust,
            expected_name: &self.expected_name,
            warn_days: self.warn_days,
            had_password: self.password.is_some(),
            client,
            client_policy: self.client_policy.as_ref().map(|p| (p, chain)),
            plaintext: match self.expect_plaintext {
                Some(ExpectPlaintext::Refused) => Some(P::Refused),
                Some(ExpectPlaintext::Allowed) => Some(P::Allowed),
                Some(ExpectPlaintext::Any) | None => None,
            },
            strict: self.strict,
        }
    }

    /// The SQL login: the user from `--user` or the URL (default `postgres` / `root`), the
    /// password, and the database from the URL path.
    pub fn sql_login(&self, with_password: bool) -> crate::evidence::Login {
        let default_user = if self.target.scheme == Scheme::Mysql {
            "root"
        } else {
            "postgres"
        };
        crate::evidence::Login {
            user: self
                .user
                .clone()
                .unwrap_or_else(|| default_user.to_string()),
            password: if with_password {
                self.password.clone()
            } else {
                None
            },
            database: self.target.db.clone(),
        }
    }
}

fn server_name(s: &str) -> Result<ServerName<'static>, InvalidName> {
    ServerName::try_from(s.to_string()).map_err(|_| InvalidName { name: s.into() })
}

/// A `--name`, `--sni` or target host that is not a DNS name or IP address (as given).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a valid DNS name or IP address")]
pub(crate) struct InvalidName {
    name: String,
}

/// A warning when a file holding a secret can be read by other users (as ssh warns).
pub fn readable_by_others(flag: &str, path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        (mode & 0o077 != 0).then(|| {
            format!(
                "{flag} {}: readable by other users (mode {:04o}); restrict it with chmod 600",
                path.display(),
                mode & 0o777
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (flag, path);
        None
    }
}

/// Reads a password file: the first line, without its line ending.
pub fn read_password_file(path: &Path) -> Result<Secret, InputError> {
    let name = format!("--pass-file {}", path.display());
    let text = crate::files::read_bounded(path, 64 * 1024, &name, "a password file")?;
    let text = String::from_utf8(text).map_err(|_| InputError::new(&name, "is not UTF-8 text"))?;
    let first = text.lines().next().unwrap_or("");
    if first.is_empty() {
        return Err(InputError::new(&name, "is empty"));
    }
    Ok(Secret::new(first))
}

/// Where a run's output goes, decided once per run from the environment (verify, audit
/// and the file subcommands read it; nothing else asks the terminal).
#[derive(Debug, Clone, Copy)]
pub struct Console {
    /// Colour on stdout: it is a terminal and `NO_COLOR` is unset or empty.
    pub color: bool,
    /// stderr is a terminal: progress lines may be drawn there.
    pub progress: bool,
}

impl Console {
    /// Reads `NO_COLOR` and whether stdout and stderr are terminals.
    pub fn detect() -> Self {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Console {
            color: std::io::stdout().is_terminal() && !no_color,
            progress: std::io::stderr().is_terminal(),
        }
    }
}

#[cfg(test)]
mod invalid_name_tests {
    #[test]
    fn invalid_name_displays_todays_line() {
        let e = super::server_name("not a name!").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"not a name!\" is not a valid DNS name or IP address"
        );
        assert!(super::server_name("db.example.com").is_ok());
    }
}

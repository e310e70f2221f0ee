//! Arguments and files resolved into what to do: the trust store, the client identity,
//! the expected server name, the credentials. All file reading happens here, before any
//! connection; every problem is an [`InputError`] (exit 2).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::cli::{ExpectPlaintext, TlsVersion, VerifyArgs};
use crate::clock::UnixSeconds;
use crate::error::InputError;
use crate::pki::pem;
use crate::target::{self, Host, Scheme, Secret, Target};

pub use crate::connect::tls::provider;
pub use crate::pki::trust::{AnchorSource, TrustStore};

impl TrustStore {
    /// The Mozilla roots from webpki-roots.
    pub fn builtin() -> Self {
        let anchors: Vec<_> = webpki_roots::TLS_SERVER_ROOTS.to_vec();
        let sources = anchors
            .iter()
            .enumerate()
            .map(|(i, a)| AnchorSource {
                file: "webpki-roots".into(),
                index: i,
                subject: crate::pki::describe::dn_display(a.subject.as_ref()),
                der: None,
                is_leaf: false,
            })
            .collect();
        TrustStore {
            anchors,
            sources,
            file_sizes: vec![("webpki-roots".into(), 0)],
            builtin: true,
            store: "the Mozilla roots (webpki-roots, built in)".into(),
            memo: Default::default(),
        }
    }

    /// Every certificate of every file is an anchor; a directory gives every certificate
    /// file in it, and `system` the operating system's store (see [`crate::truststore`]).
    pub fn from_files(paths: &[PathBuf]) -> Result<Self, InputError> {
        crate::truststore::from_paths(paths)
    }
}

/// Reads a certificate file for a flag: every block must be readable.
pub fn read_cert_file(path: &Path, flag: &str) -> Result<pem::PemFile, InputError> {
    let file = pem::read_file(path)
        .map_err(|e| InputError::new(format!("{flag} {}", e.subject), e.message))?;
    if let Some(e) = file.errors.first() {
        return Err(InputError::new(
            format!("{flag} {}", e.subject),
            e.message.clone(),
        ));
    }
    Ok(file)
}

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

/// Where the password comes from when the URL has none.
pub enum PasswordSource<'a> {
    File(&'a Path),
    Env(Option<String>),
}

/// Resolves `verify` arguments; `env_password` is `REDISCLI_AUTH` as read by the caller.
pub fn verify_plan(
    args: &VerifyArgs,
    env_password: Option<String>,
    trust_cache: Option<Arc<TrustStore>>,
) -> Result<VerifyPlan, InputError> {
    verify_plan_with(args, env_password, trust_cache, None)
}

/// [`verify_plan`] with already-loaded files: the trust store of `--cacert` and the
/// client identity of `--cert`/`--key` (audit loads each distinct set once).
pub fn verify_plan_with(
    args: &VerifyArgs,
    env_password: Option<String>,
    trust_cache: Option<Arc<TrustStore>>,
    client_cache: Option<Arc<ClientIdentity>>,
) -> Result<VerifyPlan, InputError> {
    let text = args.target.as_deref().ok_or_else(|| {
        InputError::new(
            "TARGET",
            "missing (give one, or --expect with an object that names the endpoint)",
        )
    })?;
    let mut target = target::parse(text)?;
    if let Some(p) = args.protocol {
        if target.explicit_scheme {
            let wanted = protocol_scheme(p);
            if wanted != target.scheme
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
        } else {
            target.scheme = protocol_scheme(p);
        }
    }
    let provider = provider();
    // URL parameters (`?sslrootcert=...`) fill in what no flag gave.
    let url_opts = crate::urlopts::resolve(&target)?;
    target.tls_off = url_opts.plaintext;
    let cacert: Vec<PathBuf> = if args.cacert.is_empty() {
        url_opts.cacert.clone().into_iter().collect()
    } else {
        args.cacert.clone()
    };
    let cert = args.cert.clone().or_else(|| url_opts.cert.clone());
    let key = args.key.clone().or_else(|| url_opts.key.clone());
    let trust = match trust_cache {
        Some(t) => t,
        None if cacert.is_empty() => Arc::new(TrustStore::builtin()),
        None => Arc::new(TrustStore::from_files(&cacert)?),
    };
    let client = match (&cert, &key) {
        (Some(_), _) if client_cache.is_some() => client_cache,
        (Some(c), k) => {
            let pass = args
                .key_pass_file
                .as_deref()
                .map(crate::pki::keyfile::read_pass_file)
                .transpose()?;
            Some(Arc::new(ClientIdentity::load_with_pass(
                c,
                k.as_deref(),
                pass.as_ref(),
                &provider,
            )?))
        }
        (None, Some(_)) => return Err(InputError::new("--key", "given without --cert")),
        (None, None) if args.key_pass_file.is_some() => {
            return Err(InputError::new("--key-pass-file", "given without --cert"))
        }
        (None, None) => None,
    };
    let expected_name = match &args.name {
        Some(n) => server_name(n).map_err(|m| InputError::new("--name", m))?,
        None => match &target.host {
            Host::Dns(d) => {
                server_name(d).map_err(|m| InputError::new(format!("target host {d:?}"), m))?
            }
            Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
        },
    };
    let sni = match &args.sni {
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
    // The key is in --cert when no --key is given: the warning names the file as given.
    let key_file = match (&key, &cert) {
        (Some(k), _) => Some(("--key", k.as_path())),
        (None, Some(c)) => Some(("--cert", c.as_path())),
        (None, None) => None,
    };
    let secret_files = [
        key_file.unzip(),
        (Some("--pass-file"), args.pass_file.as_deref()),
        (Some("--key-pass-file"), args.key_pass_file.as_deref()),
    ];
    for (flag, path) in secret_files {
        if let Some(w) = path.and_then(|p| readable_by_others(flag.unwrap_or("--key"), p)) {
            warnings.push(w);
        }
    }
    let password = match &args.pass_file {
        Some(p) => Some(read_password_file(p)?),
        None => target
            .password
            .clone()
            .or_else(|| env_password.filter(|p| !p.is_empty()).map(Secret::new)),
    };
    let user = args.user.clone().or_else(|| target.user.clone());
    if user.is_some() && password.is_none() && !target.scheme.is_sql() {
        return Err(InputError::new(
            "--user",
            "a user name needs a password (URL, --pass-file or REDISCLI_AUTH)",
        ));
    }
    let rules = &args.rules;
    // The client certificate is always checked before connecting when there is one; the
    // server's subject rules only when given.
    let mut client_policy = if rules.validation.is_some()
        || !rules.authorized_subjects.is_empty()
        || rules.config.is_some()
    {
        Some(crate::mtls::policy_from_rules(rules, args.allow_outdated)?)
    } else if client.is_some() {
        Some(crate::mtls::MtlsPolicy::undeclared(args.allow_outdated))
    } else {
        None
    };
    if let Some(p) = client_policy.as_mut() {
        p.warn_days = Some(args.warn_days);
    }
    // Database targets prove plaintext is refused unless told otherwise; tls:// has no
    // plaintext protocol to try, and a plaintext target is plaintext by definition.
    let expect_plaintext = match args.expect_plaintext {
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
        None if !args.plaintext_ports.is_empty() => Some(ExpectPlaintext::Refused),
        None => None,
    };
    let timeout = url_opts.timeout.unwrap_or(args.timeout);
    if timeout.is_zero() {
        return Err(InputError::new("--timeout", "must be greater than zero"));
    }
    let resolve = crate::connect::tcp::pick_override(&args.change.resolve, &target)?;
    Ok(VerifyPlan {
        resolve,
        target,
        trust,
        client,
        sni,
        expected_name,
        user,
        password,
        tls_version: args.tls_version,
        timeout,
        at: args.at,
        warn_days: args.warn_days,
        expect_plaintext,
        plaintext_implicit: args.expect_plaintext.is_none(),
        plaintext_ports: args.plaintext_ports.clone(),
        wait: args.wait,
        interval: args.interval,
        client_policy,
        warnings,
        strict: args.strict,
    })
}

fn protocol_scheme(p: crate::cli::Protocol) -> Scheme {
    match p {
        crate::cli::Protocol::Redis => Scheme::Rediss,
        crate::cli::Protocol::Postgres => Scheme::Postgres,
        crate::cli::Protocol::Mysql => Scheme::Mysql,
        crate::cli::Protocol::Tls => Scheme::Tls,
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

/// The flag's `InputError` takes the message as it is.
impl From<InvalidName> for String {
    fn from(e: InvalidName) -> String {
        e.to_string()
    }
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

#[cfg(test)]
mod invalid_name_tests {
    #[test]
    fn invalid_name_displays_todays_line() {
        let e = super::server_name("not a name!").unwrap_err();
        assert_eq!(
            String::from(e),
            "\"not a name!\" is not a valid DNS name or IP address"
        );
        assert!(super::server_name("db.example.com").is_ok());
    }
}

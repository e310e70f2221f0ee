//! Arguments and files resolved into what to do: the trust store, the client identity,
//! the expected server name, the credentials. All file reading happens here, before any
//! connection; every problem is an [`InputError`] (exit 2).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use webpki::anchor_from_trusted_cert;

use crate::cli::{ExpectPlaintext, TlsVersion, VerifyArgs};
use crate::clock::UnixSeconds;
use crate::error::InputError;
use crate::pki::pem;
use crate::target::{self, Host, Scheme, Secret, Target};

pub use crate::connect::tls::provider;

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
}

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
        }
    }

    /// Every certificate of every file is an anchor.
    pub fn from_files(paths: &[PathBuf]) -> Result<Self, InputError> {
        let mut store = TrustStore {
            anchors: vec![],
            sources: vec![],
            file_sizes: vec![],
            builtin: false,
        };
        for path in paths {
            let file = read_cert_file(path, "--cacert")?;
            if file.certs.is_empty() {
                return Err(InputError::new(
                    path.display().to_string(),
                    "--cacert file holds no certificate",
                ));
            }
            store.file_sizes.push((file.path.clone(), file.certs.len()));
            for c in &file.certs {
                let anchor = anchor_from_trusted_cert(&c.der).map_err(|e| {
                    InputError::new(
                        &file.path,
                        format!(
                            "PEM block {}: cannot be used as a trust anchor: {e}",
                            c.block
                        ),
                    )
                })?;
                let info = crate::pki::describe::describe(c.index, &c.der, 0).map_err(|e| {
                    InputError::new(&file.path, format!("PEM block {}: {e}", c.block))
                })?;
                store.anchors.push(anchor.to_owned());
                store.sources.push(AnchorSource {
                    file: file.path.clone(),
                    index: c.index,
                    subject: info.subject,
                    der: Some(c.der.clone()),
                    is_leaf: !info.is_ca && !info.raw.key_cert_sign,
                });
            }
        }
        Ok(store)
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
        let cert_file = read_cert_file(cert, "--cert")?;
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
                let kf = pem::read_file(kp)
                    .map_err(|e| InputError::new(format!("--key {}", e.subject), e.message))?;
                if let Some(e) = kf.errors.first() {
                    return Err(InputError::new(
                        format!("--key {}", e.subject),
                        e.message.clone(),
                    ));
                }
                let k = kf.private_keys().next().ok_or_else(|| {
                    InputError::new(format!("--key {}", kf.path), "holds no private key (expected a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block)")
                })?;
                (k, kf.path.clone())
            }
            None => {
                let k = cert_file.private_keys().next().ok_or_else(|| {
                    InputError::new(
                        format!("--cert {}", cert_file.path),
                        "holds no private key and no --key was given",
                    )
                })?;
                (k, cert_file.path.clone())
            }
        };
        let certified =
            CertifiedKey::from_der(chain.clone(), key_der, provider).map_err(|e| match e {
                rustls::Error::InconsistentKeys(_) => InputError::new(
                    format!("--key {key_name}"),
                    format!(
                        "does not match the certificate in {} (different public key)",
                        cert_file.path
                    ),
                ),
                other => InputError::new(
                    format!("--key {key_name}"),
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
    pub client: Option<ClientIdentity>,
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
    let trust = match trust_cache {
        Some(t) => t,
        None if args.cacert.is_empty() => Arc::new(TrustStore::builtin()),
        None => Arc::new(TrustStore::from_files(&args.cacert)?),
    };
    let client = match (&args.cert, &args.key) {
        (Some(c), k) => Some(ClientIdentity::load(c, k.as_deref(), &provider)?),
        (None, Some(_)) => return Err(InputError::new("--key", "given without --cert")),
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
        Some(s) => {
            server_name(s).map_err(|m| InputError::new("--sni", m))?;
            Some(s.clone())
        }
        None => match &target.host {
            Host::Dns(d) => Some(d.clone()),
            Host::Ip(_) => None,
        },
    };
    let mut warnings = Vec::new();
    let secret_files = [
        (
            "--key",
            args.key.as_deref().or(if args.key.is_none() {
                args.cert.as_deref()
            } else {
                None
            }),
        ),
        ("--pass-file", args.pass_file.as_deref()),
    ];
    for (flag, path) in secret_files {
        if let Some(w) = path.and_then(|p| readable_by_others(flag, p)) {
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
        None if matches!(
            target.scheme,
            Scheme::Rediss | Scheme::Postgres | Scheme::Mysql
        ) =>
        {
            Some(ExpectPlaintext::Refused)
        }
        None if !args.plaintext_ports.is_empty() => Some(ExpectPlaintext::Refused),
        None => None,
    };
    if args.timeout.is_zero() {
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
        timeout: args.timeout,
        at: args.at,
        warn_days: args.warn_days,
        expect_plaintext,
        plaintext_implicit: args.expect_plaintext.is_none(),
        plaintext_ports: args.plaintext_ports.clone(),
        wait: args.wait,
        interval: args.interval,
        client_policy,
        warnings,
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

fn server_name(s: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(s.to_string())
        .map_err(|_| format!("{s:?} is not a valid DNS name or IP address"))
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

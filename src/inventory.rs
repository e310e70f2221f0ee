//! Audit inventories and policies: TOML files resolved into per-target verify plans.
//!
//! Every error names the file, the line and the key. Passwords are only referenced
//! (`pass_env`, `pass_file`), never inline: an inline password, in a key or inside a URL,
//! is an input error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::cli::{ClientRuleArgs, ExpectPlaintext, Format, Protocol, TlsVersion, VerifyArgs};
use crate::clock::parse_duration;
use crate::error::InputError;
use crate::plan::{self, TrustStore, VerifyPlan};

/// The largest inventory or policy file read.
pub const MAX_INVENTORY_BYTES: u64 = 16 * 1024 * 1024;

/// A string or a list of strings (`cacert = "a.pem"` or `cacert = ["a.pem", "b.pem"]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Keys a `[[target]]` or `[defaults]` may hold: verify's flags with underscores.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    id: Option<String>,
    url: Option<Spanned<String>>,
    cacert: Option<OneOrMany>,
    cert: Option<String>,
    key: Option<String>,
    sni: Option<String>,
    server_name: Option<String>,
    protocol: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    expect_plaintext: Option<Spanned<String>>,
    plaintext_ports: Option<Vec<u16>>,
    /// `--resolve`: HOST:PORT:ADDR entries.
    resolve: Option<OneOrMany>,
    /// `--expect`: a provider's API object (path relative to the inventory).
    expect: Option<Spanned<String>>,
    /// `--expect-format`.
    expect_format: Option<Spanned<String>>,
    allow_outdated: Option<bool>,
    tls_version: Option<Spanned<String>>,
    user: Option<String>,
    pass_env: Option<String>,
    pass_file: Option<String>,
    // Present only to be refused with a clear message.
    pass: Option<Spanned<toml::Value>>,
    password: Option<Spanned<toml::Value>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBundle {
    path: String,
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    defaults: Option<Spanned<RawTarget>>,
    #[serde(default)]
    target: Vec<Spanned<RawTarget>>,
    #[serde(default)]
    bundle: Vec<Spanned<RawBundle>>,
    policy: Option<RawPolicy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    min_tls_version: Option<Spanned<String>>,
    warn_days: Option<i64>,
    fail_days: Option<i64>,
    min_rsa_bits: Option<u32>,
    min_ec_bits: Option<u32>,
    forbid_sha1: Option<bool>,
    require_client_auth: Option<bool>,
    require_plaintext_refused: Option<bool>,
    allowed_cipher_suites: Option<Vec<String>>,
}

/// The audit policy (defaults as documented in the README).
#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    pub min_tls_version: TlsVersionReq,
    pub warn_days: i64,
    pub fail_days: i64,
    pub min_rsa_bits: u32,
    pub min_ec_bits: u32,
    pub forbid_sha1: bool,
    pub require_client_auth: bool,
    pub require_plaintext_refused: bool,
    pub allowed_cipher_suites: Option<Vec<String>>,
}

/// A minimum TLS version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum TlsVersionReq {
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_tls_version: TlsVersionReq::V1_2,
            warn_days: 30,
            fail_days: 0,
            min_rsa_bits: 2048,
            min_ec_bits: 256,
            forbid_sha1: true,
            require_client_auth: false,
            require_plaintext_refused: false,
            allowed_cipher_suites: None,
        }
    }
}

/// One target to audit.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub id: String,
    pub plan: VerifyPlan,
    /// The target's secret could not be had (an unset `pass_env`, an unreadable
    /// `pass_file`): it is verified without credentials and fails a `credentials` step,
    /// while the rest of the fleet runs; the audit then exits 2.
    pub credentials_error: Option<String>,
    /// `expect = "FILE"`: the provider's object the target must match (`verify --expect`).
    pub(crate) expect: Option<crate::expect::Expectations>,
}

/// One bundle to inspect.
#[derive(Debug, Clone)]
pub struct BundleSpec {
    pub id: String,
    pub path: PathBuf,
}

/// A resolved inventory.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub path: String,
    /// Warnings about the inputs (secret files readable by other users), each once.
    pub warnings: Vec<String>,
    pub targets: Vec<TargetSpec>,
    pub bundles: Vec<BundleSpec>,
    pub policy: Policy,
}

/// Line number (1-based) of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    dir: PathBuf,
}

impl Ctx<'_> {
    fn err(&self, offset: usize, key: &str, msg: impl Into<String>) -> InputError {
        let key = if key.is_empty() {
            String::new()
        } else {
            format!(" key `{key}`:")
        };
        InputError::new(
            format!("{}:{}", self.file, line_of(self.text, offset)),
            format!("{key} {}", msg.into()).trim_start().to_string(),
        )
    }

    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }
}

fn read_text(path: &Path) -> Result<String, InputError> {
    let name = path.display().to_string();
    let bytes = crate::files::read_bounded(
        path,
        MAX_INVENTORY_BYTES,
        &name,
        "an inventory or policy file",
    )?;
    String::from_utf8(bytes).map_err(|_| InputError::new(&name, "is not UTF-8 text"))
}

fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> InputError {
    let line = e.span().map_or(1, |s| line_of(text, s.start));
    let msg = e
        .message()
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .to_string();
    InputError::new(format!("{file}:{line}"), msg)
}

/// Loads an inventory; `policy_file` (from `--policy`) replaces its `[policy]`.
pub fn load(path: &Path, policy_file: Option<&Path>) -> Result<Inventory, InputError> {
    let text = read_text(path)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let policy = policy_file.map(load_policy).transpose()?;
    parse_str(&path.display().to_string(), &text, &dir, policy)
}

/// Parses inventory text named `file`, resolving relative paths against `dir`; `policy`
/// (from `--policy`) replaces its `[policy]`. Reads the certificate files it names.
pub fn parse_str(
    file: &str,
    text: &str,
    dir: &Path,
    policy: Option<Policy>,
) -> Result<Inventory, InputError> {
    let file = file.to_string();
    let text = text.to_string();
    let raw: RawInventory = toml::from_str(&text).map_err(|e| toml_error(&file, &text, &e))?;
    let ctx = Ctx {
        file: &file,
        text: &text,
        dir: dir.to_path_buf(),
    };

    let policy = match policy {
        Some(p) => p,
        None => resolve_policy(&ctx, raw.policy.unwrap_or_default())?,
    };
    if raw.target.is_empty() && raw.bundle.is_empty() {
        return Err(InputError::new(
            &file,
            "the inventory has neither [[target]] nor [[bundle]] entries",
        ));
    }
    let defaults = match raw.defaults {
        Some(d) => {
            let start = d.span().start;
            let d = d.into_inner();
            if d.id.is_some() || d.url.is_some() {
                return Err(ctx.err(
                    start,
                    "defaults",
                    "`id` and `url` belong in a [[target]], not in [defaults]",
                ));
            }
            refuse_inline_passwords(&ctx, &d)?;
            d
        }
        None => RawTarget::default(),
    };

    let mut trust_cache: HashMap<Vec<PathBuf>, Arc<TrustStore>> = HashMap::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut warned: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut targets = Vec::with_capacity(raw.target.len());
    for (n, t) in raw.target.into_iter().enumerate() {
        let start = t.span().start;
        let t = t.into_inner();
        refuse_inline_passwords(&ctx, &t)?;
        let spec = resolve_target(&ctx, start, n, t, &defaults, &policy, &mut trust_cache)?;
        for w in &spec.plan.warnings {
            if warned.insert(w.clone()) {
                warnings.push(format!("{}:{}: {w}", file, line_of(&text, start)));
            }
        }
        if let Some(prev) = seen_ids.insert(spec.id.clone(), line_of(&text, start)) {
            return Err(ctx.err(
                start,
                "id",
                format!("{:?} is already used by the target on line {prev}", spec.id),
            ));
        }
        targets.push(spec);
    }
    let mut bundles = Vec::new();
    for b in raw.bundle {
        let b = b.into_inner();
        let path = ctx.path(&b.path);
        bundles.push(BundleSpec {
            id: b.id.unwrap_or_else(|| b.path.clone()),
            path,
        });
    }
    Ok(Inventory {
        warnings,
        path: file,
        targets,
        bundles,
        policy,
    })
}

/// Loads `--policy FILE`: a `[policy]` table or the policy keys at the top level.
pub fn load_policy(path: &Path) -> Result<Policy, InputError> {
    let file = path.display().to_string();
    let text = read_text(path)?;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wrapped {
        policy: RawPolicy,
    }
    let raw = if text.lines().any(|l| l.trim() == "[policy]") {
        toml::from_str::<Wrapped>(&text).map(|w| w.policy)
    } else {
        toml::from_str::<RawPolicy>(&text)
    }
    .map_err(|e| toml_error(&file, &text, &e))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    resolve_policy(
        &Ctx {
            file: &file,
            text: &text,
            dir,
        },
        raw,
    )
}

fn resolve_policy(ctx: &Ctx<'_>, raw: RawPolicy) -> Result<Policy, InputError> {
    let d = Policy::default();
    let min_tls_version = match raw.min_tls_version {
        None => d.min_tls_version,
        Some(v) => match v.get_ref().as_str() {
            "1.2" => TlsVersionReq::V1_2,
            "1.3" => TlsVersionReq::V1_3,
            other => {
                return Err(ctx.err(
                    v.span().start,
                    "min_tls_version",
                    format!("{other:?} is not a TLS version tlsprobe speaks (\"1.2\" or \"1.3\")"),
                ))
            }
        },
    };
    Ok(Policy {
        min_tls_version,
        warn_days: raw.warn_days.unwrap_or(d.warn_days),
        fail_days: raw.fail_days.unwrap_or(d.fail_days),
        min_rsa_bits: raw.min_rsa_bits.unwrap_or(d.min_rsa_bits),
        min_ec_bits: raw.min_ec_bits.unwrap_or(d.min_ec_bits),
        forbid_sha1: raw.forbid_sha1.unwrap_or(d.forbid_sha1),
        require_client_auth: raw.require_client_auth.unwrap_or(d.require_client_auth),
        require_plaintext_refused: raw
            .require_plaintext_refused
            .unwrap_or(d.require_plaintext_refused),
        allowed_cipher_suites: raw.allowed_cipher_suites,
    })
}

fn refuse_inline_passwords(ctx: &Ctx<'_>, t: &RawTarget) -> Result<(), InputError> {
    for (key, v) in [("pass", &t.pass), ("password", &t.password)] {
        if let Some(v) = v {
            return Err(ctx.err(v.span().start, key, "passwords are never written in an inventory: use pass_env = \"VAR\" or pass_file = \"path\""));
        }
    }
    if let Some(url) = &t.url {
        if crate::target::parse(url.get_ref()).is_ok_and(|t| t.password.is_some()) {
            return Err(ctx.err(
                url.span().start,
                "url",
                "the URL holds a password: remove it and use pass_env or pass_file",
            ));
        }
    }
    Ok(())
}

fn resolve_target(
    ctx: &Ctx<'_>,
    start: usize,
    n: usize,
    t: RawTarget,
    d: &RawTarget,
    policy: &Policy,
    trust_cache: &mut HashMap<Vec<PathBuf>, Arc<TrustStore>>,
) -> Result<TargetSpec, InputError> {
    let Some(url) = t.url.clone() else {
        return Err(ctx.err(start, "url", "every [[target]] needs a url"));
    };
    let url_line = url.span().start;
    let id = t.id.clone().unwrap_or_else(|| format!("target-{}", n + 1));
    let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
    let cacert: Vec<PathBuf> = t
        .cacert
        .clone()
        .or_else(|| d.cacert.clone())
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
        .iter()
        .map(|p| ctx.path(p))
        .collect();

    let spanned_enum = |v: &Option<Spanned<String>>, dv: &Option<Spanned<String>>| {
        v.clone().or_else(|| dv.clone())
    };
    let timeout = match spanned_enum(&t.timeout, &d.timeout) {
        Some(s) => {
            parse_duration(s.get_ref()).map_err(|m| ctx.err(s.span().start, "timeout", m))?
        }
        None => std::time::Duration::from_secs(10),
    };
    let expect_plaintext = match spanned_enum(&t.expect_plaintext, &d.expect_plaintext) {
        Some(s) => Some(match s.get_ref().as_str() {
            "refused" => ExpectPlaintext::Refused,
            "allowed" => ExpectPlaintext::Allowed,
            "any" => ExpectPlaintext::Any,
            other => {
                return Err(ctx.err(
                    s.span().start,
                    "expect_plaintext",
                    format!("{other:?}: expected \"refused\", \"allowed\" or \"any\""),
                ))
            }
        }),
        None => None,
    };
    // The policy wins over a target that expects plaintext to be allowed.
    let expect_plaintext = if policy.require_plaintext_refused {
        Some(ExpectPlaintext::Refused)
    } else {
        expect_plaintext
    };
    let tls_version = match spanned_enum(&t.tls_version, &d.tls_version) {
        Some(s) => Some(match s.get_ref().as_str() {
            "1.2" => TlsVersion::V1_2,
            "1.3" => TlsVersion::V1_3,
            other => {
                return Err(ctx.err(
                    s.span().start,
                    "tls_version",
                    format!("{other:?}: expected \"1.2\" or \"1.3\""),
                ))
            }
        }),
        None => None,
    };
    let protocol = match spanned_enum(&t.protocol, &d.protocol) {
        Some(s) => Some(match s.get_ref().as_str() {
            "redis" => Protocol::Redis,
            "postgres" | "postgresql" => Protocol::Postgres,
            "mysql" => Protocol::Mysql,
            "tls" => Protocol::Tls,
            other => {
                return Err(ctx.err(
                    s.span().start,
                    "protocol",
                    format!("{other:?}: expected \"redis\", \"postgres\", \"mysql\" or \"tls\""),
                ))
            }
        }),
        None => None,
    };
    let mut credentials_error = None;
    let mut pass_file = pick(&t.pass_file, &d.pass_file).map(|p| ctx.path(&p));
    if let Some(p) = &pass_file {
        if let Err(e) = plan::read_password_file(p) {
            credentials_error = Some(ctx.err(start, "pass_file", e.to_string()).to_string());
            pass_file = None;
        }
    }
    let env_password = match pick(&t.pass_env, &d.pass_env) {
        Some(var) => {
            match std::env::var(&var) {
                Ok(v) => Some(v),
                Err(_) => {
                    credentials_error = Some(
                    ctx.err(
                        start,
                        "pass_env",
                        format!("environment variable {var} is not set; verified without credentials"),
                    )
                    .to_string(),
                );
                    None
                }
            }
        }
        None => None,
    };
    let args = VerifyArgs {
        target: Some(url.get_ref().clone()),
        cacert: cacert.clone(),
        cert: pick(&t.cert, &d.cert).map(|p| ctx.path(&p)),
        key: pick(&t.key, &d.key).map(|p| ctx.path(&p)),
        sni: pick(&t.sni, &d.sni),
        name: pick(&t.server_name, &d.server_name),
        user: pick(&t.user, &d.user),
        pass_file,
        tls_version,
        protocol,
        timeout,
        at: None,
        warn_days: policy.warn_days,
        expect_plaintext,
        plaintext_ports: t
            .plaintext_ports
            .clone()
            .or_else(|| d.plaintext_ports.clone())
            .unwrap_or_default(),
        wait: None,
        interval: std::time::Duration::from_secs(1),
        format: Format::Json,
        rules: ClientRuleArgs {
            validation: None,
            authorized_subjects: vec![],
            config: None,
        },
        allow_outdated: t.allow_outdated.or(d.allow_outdated).unwrap_or(false),
        change: crate::cli::ChangeArgs {
            resolve: t
                .resolve
                .clone()
                .map(OneOrMany::into_vec)
                .unwrap_or_default(),
            ..Default::default()
        },
    };
    let cached = if cacert.is_empty() {
        None
    } else {
        trust_cache.get(&cacert).cloned()
    };
    let plan = plan::verify_plan(&args, env_password, cached).map_err(|e| {
        let line = if e.subject.starts_with("target") {
            url_line
        } else {
            start
        };
        ctx.err(line, "", format!("target {id:?}: {e}"))
    })?;
    if !cacert.is_empty() {
        trust_cache
            .entry(cacert)
            .or_insert_with(|| plan.trust.clone());
    }
    let mut plan = plan;
    let expect = match t.expect.clone().or_else(|| d.expect.clone()) {
        None => None,
        Some(e) => {
            let at = |err: InputError| ctx.err(e.span().start, "expect", err.to_string());
            let format = match spanned_enum(&t.expect_format, &d.expect_format) {
                None => None,
                Some(f) => Some(
                    <crate::cli::ExpectFormat as clap::ValueEnum>::from_str(f.get_ref(), false)
                        .map_err(|_| ctx.err(f.span().start, "expect_format", format!("{:?}: expected \"upstash\", \"redis-enterprise\", \"dcs\", \"rds\" or \"tlsprobe\"", f.get_ref())))?,
                ),
            };
            let ex = crate::expect::load(&ctx.path(e.get_ref()), format).map_err(at)?;
            crate::expect::run::shape_plan(&mut plan, &ex, &args).map_err(at)?;
            Some(ex)
        }
    };
    Ok(TargetSpec {
        id,
        plan,
        credentials_error,
        expect,
    })
}

#[cfg(test)]
mod tests {
    use super::line_of;

    #[test]
    fn lines_are_one_based() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}

//! Audit inventories and policies: TOML files resolved into per-target verify plans.
//!
//! Every error names the file, the line and the key. Passwords are only referenced
//! (`pass_env`, `pass_file`), never inline: an inline password, in a key or inside a URL,
//! is an input error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::clock::parse_duration;
use crate::domain::{self, ExpectPlaintext, TlsVersion};
use crate::error::{InputError, Subject};
use crate::options::RawVerify;
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

/// Keys a `[[target]]`, `[defaults]` or exporter `[module.NAME]` may hold: verify's flags
/// with underscores.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTarget {
    id: Option<String>,
    url: Option<Spanned<String>>,
    cacert: Option<OneOrMany>,
    cert: Option<String>,
    key: Option<String>,
    key_pass_file: Option<String>,
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
    /// Only in an exporter `[module.NAME]`: the module's own policy table.
    policy: Option<Spanned<RawPolicy>>,
    // Whole-deployment verification (src/discover/).
    discover: Option<Spanned<String>>,
    sentinel_master: Option<String>,
    cluster_bus: Option<bool>,
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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    min_tls_version: Option<Spanned<String>>,
    warn_days: Option<i64>,
    fail_days: Option<i64>,
    min_rsa_bits: Option<u32>,
    min_ec_bits: Option<u32>,
    forbid_sha1: Option<bool>,
    require_client_auth: Option<bool>,
    require_plaintext_refused: Option<bool>,
    allowed_cipher_suites: Option<Vec<String>>,
    strict: Option<bool>,
}

pub use crate::check::policy::{Policy, TlsVersionReq};

/// One target to audit.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub id: String,
    pub plan: VerifyPlan,
    /// The target's secret could not be had (an unset `pass_env`, an unreadable
    /// `pass_file`): it is verified without credentials and fails a `credentials` step,
    /// while the rest of the fleet runs; the audit then exits 2.
    pub credentials_error: Option<String>,
    /// `discover = "cluster" | "sentinel" | "replicas"`: verify every node too.
    pub discover: Option<crate::discover::DiscoverOpts>,
    /// `expect = "FILE"`: the provider's object the target must match (`verify --expect`).
    pub(crate) expect: Option<crate::expect::Expectations>,
}

/// One bundle to inspect.
#[derive(Debug, Clone)]
pub struct BundleSpec {
    pub id: String,
    pub path: PathBuf,
}

/// A loaded inventory.
pub struct Inventory {
    pub path: String,
    /// Warnings about the inputs (secret files readable by other users), each once.
    pub warnings: Vec<String>,
    pub targets: Targets,
    pub bundles: Vec<BundleSpec>,
    pub policy: Policy,
}

/// The targets of an inventory. Every target is resolved once at load (so that every
/// input error is reported before anything runs), then dropped: only its place in the
/// text is kept, and it is resolved again when its turn comes. Files shared by targets
/// (CA bundles, client certificates and keys) are loaded once. Memory therefore grows
/// by a few bytes per target, not by a resolved plan per target.
pub struct Targets {
    shared: Arc<Shared>,
    /// Byte range of each `[[target]]` table in the text, in inventory order.
    chunks: Vec<(usize, usize)>,
    /// Targets whose secret could not be read: `(id, error)`.
    pub credential_errors: Vec<(String, String)>,
}

struct Shared {
    file: String,
    text: String,
    dir: PathBuf,
    defaults: RawTarget,
    policy: Policy,
    cache: std::sync::Mutex<Cache>,
}

/// Loaded once per distinct set of paths.
#[derive(Default)]
struct Cache {
    trust: HashMap<Vec<PathBuf>, Arc<TrustStore>>,
    clients: HashMap<(PathBuf, Option<PathBuf>), Arc<plan::ClientIdentity>>,
}

impl Targets {
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Resolves target `i` (0-based, in inventory order).
    pub fn resolve(&self, i: usize) -> Result<TargetSpec, InputError> {
        let (start, end) = self.chunks[i];
        resolve_chunk(&self.shared, start, end, i)
    }
}

/// Parses one `[[target]]` table (its text at `start..end`) and resolves it.
fn resolve_chunk(
    sh: &Shared,
    start: usize,
    end: usize,
    n: usize,
) -> Result<TargetSpec, InputError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct One {
        target: Vec<Spanned<RawTarget>>,
    }
    let ctx = Ctx {
        file: &sh.file,
        text: &sh.text,
        dir: sh.dir.clone(),
        base: start,
    };
    let chunk = &sh.text[start..end];
    let one: One = toml::from_str(chunk).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        InputError::new(
            Subject::FileLine {
                file: sh.file.clone(),
                line: line_of(&sh.text, start + at),
                key: None,
            },
            e.message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .to_string(),
        )
    })?;
    let Some(t) = one.target.into_iter().next() else {
        return Err(ctx.err(0, "target", "an empty [[target]] table"));
    };
    let at = t.span().start;
    let t = t.into_inner();
    refuse_inline_passwords(&ctx, &t)?;
    t.refuse_policy(&ctx)?;
    let mut cache = sh.cache.lock().unwrap_or_else(|p| p.into_inner());
    resolve_target(&ctx, at, n, t, &sh.defaults, &sh.policy, &mut cache)
}

/// Splits inventory text into the `[[target]]` tables and the rest (the rest keeps its
/// byte offsets: target tables are blanked out, newlines kept). A header is a line that
/// is only a `[table]` or `[[array]]` header (and a comment); `[target.x]` sub-tables
/// belong to the target before them.
fn split_targets(text: &str) -> (String, Vec<(usize, usize)>) {
    let mut chunks = Vec::new();
    let mut open: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(h) = header(line) {
            let is_target = h.array && h.path == ["target"];
            let sub_of_target = !h.array && h.path.len() > 1 && h.path[0] == "target";
            if !sub_of_target {
                if let Some(s) = open.take() {
                    chunks.push((s, offset));
                }
                if is_target {
                    open = Some(offset);
                }
            }
        }
        offset += line.len();
    }
    if let Some(s) = open {
        chunks.push((s, text.len()));
    }
    let mut rest = text.as_bytes().to_vec();
    for &(s, e) in &chunks {
        for b in &mut rest[s..e] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    // Only ASCII bytes were replaced by ASCII spaces inside whole lines.
    let rest = String::from_utf8(rest).unwrap_or_default();
    (rest, chunks)
}

/// A table header line: `[[a.b]]` is an array of tables, `[a.b]` a table; `path` holds
/// its dotted keys, unquoted.
#[derive(Debug, PartialEq)]
struct Header {
    array: bool,
    path: Vec<String>,
}

/// The header a line is, if it is only a header (and a comment).
fn header(line: &str) -> Option<Header> {
    let l = line.split('#').next().unwrap_or("").trim();
    let (array, inner) = if let Some(x) = l.strip_prefix("[[").and_then(|x| x.strip_suffix("]]")) {
        (true, x)
    } else if let Some(x) = l.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        (false, x)
    } else {
        return None;
    };
    let name = inner.trim();
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"' | '\''));
    ok.then(|| Header {
        array,
        path: dotted_keys(name),
    })
}

/// `a."b.c".d` -> `["a", "b.c", "d"]`: dots inside quotes belong to the key.
fn dotted_keys(name: &str) -> Vec<String> {
    let mut keys = vec![String::new()];
    let mut quote = None;
    for c in name.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '.') => keys.push(String::new()),
            (_, c) => keys.last_mut().into_iter().for_each(|k| k.push(c)),
        }
    }
    keys
}

/// Line number (1-based) of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The file being parsed, for error locations and relative paths.
pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a str,
    pub(crate) text: &'a str,
    pub(crate) dir: PathBuf,
    /// Where the text being parsed starts in `text` (a `[[target]]` table is parsed alone).
    pub(crate) base: usize,
}

impl Ctx<'_> {
    /// An error at `offset`, naming `file:line` and `key`.
    pub(crate) fn err(&self, offset: usize, key: &str, msg: impl std::fmt::Display) -> InputError {
        let msg = msg.to_string();
        let (key, msg) = if key.is_empty() {
            (None, msg.trim_start().to_string())
        } else {
            (Some(key.to_string()), msg)
        };
        InputError::new(
            Subject::FileLine {
                file: self.file.to_string(),
                line: line_of(self.text, self.base + offset),
                key,
            },
            msg,
        )
    }

    /// The value of a choice key (`tls_version = "1.3"`), spelled as the domain type's
    /// serde names; a bad spelling is named with the ones expected.
    fn choice<T: serde::de::DeserializeOwned>(
        &self,
        v: Option<&Spanned<String>>,
        key: &str,
    ) -> Result<Option<T>, InputError> {
        v.map(|s| {
            domain::choice(s.get_ref()).map_err(|e| {
                self.err(
                    s.span().start,
                    key,
                    format!("{:?}: expected {e}", s.get_ref()),
                )
            })
        })
        .transpose()
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

pub(crate) fn read_text(path: &Path) -> Result<String, InputError> {
    let name = path.display().to_string();
    let bytes = crate::files::read_bounded(
        path,
        MAX_INVENTORY_BYTES,
        &name,
        "an inventory or policy file",
    )?;
    String::from_utf8(bytes).map_err(|_| InputError::new(&name, "is not UTF-8 text"))
}

pub(crate) fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> InputError {
    let line = e.span().map_or(1, |s| line_of(text, s.start));
    let msg = e
        .message()
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .to_string();
    InputError::new(
        Subject::FileLine {
            file: file.to_string(),
            line,
            key: None,
        },
        msg,
    )
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
    let (rest, chunks) = split_targets(text);
    let raw: RawInventory = toml::from_str(&rest).map_err(|e| toml_error(&file, text, &e))?;
    let ctx = Ctx {
        file: &file,
        text,
        dir: dir.to_path_buf(),
        base: 0,
    };

    let policy = match policy {
        Some(p) => p,
        None => resolve_policy(&ctx, raw.policy.unwrap_or_default())?,
    };
    if chunks.is_empty() && raw.target.is_empty() && raw.bundle.is_empty() {
        return Err(InputError::new(
            &file,
            "the inventory has neither [[target]] nor [[bundle]] entries",
        ));
    }
    if let Some(t) = raw.target.first() {
        // `target = [...]` inline: not the table form the inventory documents.
        return Err(ctx.err(
            t.span().start,
            "target",
            "write each target as a [[target]] table",
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
            d.refuse_policy(&ctx)?;
            d
        }
        None => RawTarget::default(),
    };
    let mut bundles = Vec::new();
    for b in raw.bundle {
        let b = b.into_inner();
        let path = ctx.path(&b.path);
        bundles.push(BundleSpec {
            id: b.id.unwrap_or_else(|| b.path.clone()),
            path,
        });
    }
    let shared = Arc::new(Shared {
        file: file.clone(),
        text: text.to_string(),
        dir: dir.to_path_buf(),
        defaults,
        policy: policy.clone(),
        cache: std::sync::Mutex::new(Cache::default()),
    });

    // Every target resolved once, now: all input errors surface before anything runs.
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut warned: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut credential_errors = Vec::new();
    for (n, &(start, end)) in chunks.iter().enumerate() {
        let spec = resolve_chunk(&shared, start, end, n)?;
        for w in &spec.plan.warnings {
            if warned.insert(w.clone()) {
                warnings.push(format!("{}:{}: {w}", file, line_of(text, start)));
            }
        }
        if let Some(prev) = seen_ids.insert(spec.id.clone(), start) {
            return Err(ctx.err(
                start,
                "id",
                format!(
                    "{:?} is already used by the target on line {}",
                    spec.id,
                    line_of(text, prev)
                ),
            ));
        }
        if let Some(e) = spec.credentials_error {
            credential_errors.push((spec.id, e));
        }
    }
    Ok(Inventory {
        warnings,
        path: file,
        targets: Targets {
            shared,
            chunks,
            credential_errors,
        },
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
            base: 0,
        },
        raw,
    )
}

pub(crate) fn resolve_policy(ctx: &Ctx<'_>, raw: RawPolicy) -> Result<Policy, InputError> {
    let d = Policy::default();
    let min_tls_version = match raw.min_tls_version {
        None => d.min_tls_version,
        Some(v) => match domain::choice(v.get_ref()) {
            Ok(TlsVersion::V1_2) => TlsVersionReq::V1_2,
            Ok(TlsVersion::V1_3) => TlsVersionReq::V1_3,
            Err(e) => {
                return Err(ctx.err(
                    v.span().start,
                    "min_tls_version",
                    format!(
                        "{:?} is not a TLS version tlsprobe speaks ({e})",
                        v.get_ref()
                    ),
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
        strict: raw.strict.unwrap_or(d.strict),
    })
}

pub(crate) fn refuse_inline_passwords(ctx: &Ctx<'_>, t: &RawTarget) -> Result<(), InputError> {
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

impl RawTarget {
    /// `id` or `url` is set (they belong only in a `[[target]]`).
    pub(crate) fn names_a_target(&self) -> bool {
        self.id.is_some() || self.url.is_some()
    }

    /// Takes out the `[module.NAME.policy]` table, with its offset.
    pub(crate) fn take_policy(&mut self) -> Option<(usize, RawPolicy)> {
        self.policy.take().map(|p| (p.span().start, p.into_inner()))
    }

    fn refuse_policy(&self, ctx: &Ctx<'_>) -> Result<(), InputError> {
        match &self.policy {
            Some(p) => Err(ctx.err(
                p.span().start,
                "policy",
                "an inventory has one top-level [policy]; per-entry policy tables are for exporter modules",
            )),
            None => Ok(()),
        }
    }
}

fn resolve_target(
    ctx: &Ctx<'_>,
    start: usize,
    n: usize,
    t: RawTarget,
    d: &RawTarget,
    policy: &Policy,
    cache: &mut Cache,
) -> Result<TargetSpec, InputError> {
    let Some(url) = t.url.clone() else {
        return Err(ctx.err(start, "url", "every [[target]] needs a url"));
    };
    let url_line = url.span().start;
    let id = t.id.clone().unwrap_or_else(|| format!("target-{}", n + 1));
    let (raw, credentials_error) = target_args(ctx, start, url.get_ref(), &t, d, policy)?;
    let cacert = raw.cacert.clone();
    let client_key = raw.cert.clone().map(|c| (c, raw.key.clone()));
    let loaded = plan::Loaded {
        trust: (!cacert.is_empty())
            .then(|| cache.trust.get(&cacert).cloned())
            .flatten(),
        client: client_key
            .as_ref()
            .and_then(|k| cache.clients.get(k).cloned()),
    };
    let mut plan = plan::verify_plan(&raw, loaded).map_err(|e| {
        // A bad URL is blamed on the `url` line, anything else on the table.
        let line = if e.subject.is_target() {
            url_line
        } else {
            start
        };
        ctx.err(line, "", format!("target {id:?}: {e}"))
    })?;
    if !cacert.is_empty() {
        cache
            .trust
            .entry(cacert)
            .or_insert_with(|| plan.trust.clone());
    }
    if let (Some(k), Some(c)) = (client_key, &plan.client) {
        cache.clients.entry(k).or_insert_with(|| c.clone());
    }
    let expect = match t.expect.as_ref().or(d.expect.as_ref()) {
        None => None,
        Some(e) => {
            let at = |err: InputError| ctx.err(e.span().start, "expect", err.to_string());
            let format = ctx.choice(
                t.expect_format.as_ref().or(d.expect_format.as_ref()),
                "expect_format",
            )?;
            let ex = crate::expect::load(&ctx.path(e.get_ref()), format).map_err(at)?;
            crate::expect::run::shape_plan(&mut plan, &ex, &raw).map_err(at)?;
            Some(ex)
        }
    };
    let discover = crate::discover::options(
        raw.discover,
        raw.sentinel_master.as_deref(),
        raw.cluster_bus,
        &plan,
        raw.name.is_some(),
        raw.sni.is_some(),
    )
    .map_err(|e| {
        // discover words its subjects as verify's flags: `--cluster-bus` is `cluster_bus`.
        let key = e.subject.inventory_key().unwrap_or_default();
        ctx.err(
            start,
            "",
            format!("target {id:?}: key `{key}`: {}", e.message),
        )
    })?;
    Ok(TargetSpec {
        id,
        plan,
        credentials_error,
        discover,
        expect,
    })
}

/// The raw verify options of a target table `t` (falling back to `d`, the defaults) for
/// `url`, with the password read from `pass_env`, and why a secret could not be read (the
/// target then runs without it). Shared by audit targets and exporter modules (which pass
/// each probe's target as `url`).
pub(crate) fn target_args(
    ctx: &Ctx<'_>,
    start: usize,
    url: &str,
    t: &RawTarget,
    d: &RawTarget,
    policy: &Policy,
) -> Result<(RawVerify, Option<String>), InputError> {
    let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
    // A choice key of the target, else of the defaults.
    let spanned = |v: &Option<Spanned<String>>, dv: &Option<Spanned<String>>| {
        v.clone().or_else(|| dv.clone())
    };
    let mut raw = RawVerify::new(url);
    raw.cacert = t
        .cacert
        .clone()
        .or_else(|| d.cacert.clone())
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
        .iter()
        // `system` names the OS trust store, not a file beside the inventory.
        .map(|p| {
            if p == "system" {
                PathBuf::from(p)
            } else {
                ctx.path(p)
            }
        })
        .collect();
    if let Some(s) = spanned(&t.timeout, &d.timeout) {
        raw.timeout =
            parse_duration(s.get_ref()).map_err(|m| ctx.err(s.span().start, "timeout", m))?;
    }
    let expect_plaintext: Option<ExpectPlaintext> = ctx.choice(
        spanned(&t.expect_plaintext, &d.expect_plaintext).as_ref(),
        "expect_plaintext",
    )?;
    // The policy wins over a target that expects plaintext to be allowed.
    raw.expect_plaintext = if policy.require_plaintext_refused {
        Some(ExpectPlaintext::Refused)
    } else {
        expect_plaintext
    };
    raw.tls_version = ctx.choice(
        spanned(&t.tls_version, &d.tls_version).as_ref(),
        "tls_version",
    )?;
    raw.protocol = ctx.choice(spanned(&t.protocol, &d.protocol).as_ref(), "protocol")?;
    let mut credentials_error = None;
    raw.pass_file = pick(&t.pass_file, &d.pass_file).map(|p| ctx.path(&p));
    if let Some(p) = &raw.pass_file {
        if let Err(e) = plan::read_password_file(p) {
            credentials_error = Some(ctx.err(start, "pass_file", e.to_string()).to_string());
            raw.pass_file = None;
        }
    }
    if let Some(var) = pick(&t.pass_env, &d.pass_env) {
        match std::env::var(&var) {
            Ok(v) => raw.env_password = Some(crate::target::Secret::new(v)),
            Err(_) => {
                credentials_error = Some(
                    ctx.err(
                        start,
                        "pass_env",
                        format!(
                            "environment variable {var} is not set; verified without credentials"
                        ),
                    )
                    .to_string(),
                )
            }
        }
    }
    raw.discover = ctx.choice(spanned(&t.discover, &d.discover).as_ref(), "discover")?;
    raw.cert = pick(&t.cert, &d.cert).map(|p| ctx.path(&p));
    raw.key = pick(&t.key, &d.key).map(|p| ctx.path(&p));
    raw.key_pass_file = pick(&t.key_pass_file, &d.key_pass_file).map(|p| ctx.path(&p));
    raw.sni = pick(&t.sni, &d.sni);
    raw.name = pick(&t.server_name, &d.server_name);
    raw.user = pick(&t.user, &d.user);
    raw.warn_days = policy.warn_days;
    raw.plaintext_ports = t
        .plaintext_ports
        .clone()
        .or_else(|| d.plaintext_ports.clone())
        .unwrap_or_default();
    raw.allow_outdated = t.allow_outdated.or(d.allow_outdated).unwrap_or(false);
    raw.strict = policy.strict;
    raw.sentinel_master = pick(&t.sentinel_master, &d.sentinel_master);
    raw.cluster_bus = t.cluster_bus.or(d.cluster_bus).unwrap_or(false);
    raw.resolve = t
        .resolve
        .clone()
        .map(OneOrMany::into_vec)
        .unwrap_or_default();
    Ok((raw, credentials_error))
}

#[cfg(test)]
mod tests {
    use super::{header, line_of, parse_str, split_targets, Header};
    use crate::error::Subject;

    #[test]
    fn headers_are_typed_key_paths() {
        assert_eq!(
            header("[[ target ]] # two\n"),
            Some(Header {
                array: true,
                path: vec!["target".into()]
            })
        );
        assert_eq!(
            header("[target.\"a.b\"]\n").unwrap().path,
            ["target", "a.b"]
        );
        assert_eq!(header("[\"target.x\"]\n").unwrap().path, ["target.x"]);
        assert_eq!(header("url = \"[x]\"\n"), None);
    }

    /// The target's own errors are blamed on its `url` line, its flags' on the table.
    #[test]
    fn target_errors_name_the_line_to_blame() {
        let err = |text: &str| match parse_str("inv.toml", text, std::path::Path::new("."), None) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e,
        };
        let e = err("[[target]]\nid = \"a\"\n\nurl = \"rediss://h:99999\"\n");
        assert_eq!(
            e.subject,
            Subject::FileLine {
                file: "inv.toml".into(),
                line: 4,
                key: None
            }
        );
        assert_eq!(
            e.to_string(),
            "inv.toml:4: target \"a\": target \"rediss://h:99999\": not a valid URL: invalid port number"
        );
        let e = err("[[target]]\nid = \"a\"\n\nurl = \"rediss://-bad_host-:1\"\n");
        assert!(
            e.to_string()
                .starts_with("inv.toml:4: target \"a\": target host \"-bad_host-\": "),
            "{e}"
        );
        let e = err("[[target]]\nid = \"a\"\n\nurl = \"h:1\"\nsni = \"a b\"\n");
        assert_eq!(
            e.to_string(),
            "inv.toml:1: target \"a\": --sni: \"a b\" is not a valid DNS name or IP address"
        );
        let e = err("[[target]]\nurl = \"h:1\"\ncluster_bus = true\n");
        assert_eq!(
            e.to_string(),
            "inv.toml:1: target \"target-1\": key `cluster_bus`: needs --discover cluster"
        );
        let e = err("[[target]]\nurl = \"h:1\"\nprotocol = \"pg\"\n");
        assert_eq!(
            e.to_string(),
            "inv.toml:3: key `protocol`: \"pg\": expected \"redis\", \"postgres\", \"mysql\" or \"tls\""
        );
    }

    #[test]
    fn targets_are_split_out_and_the_rest_keeps_its_offsets() {
        let text = "[defaults]\ntimeout = \"1s\"\n\n[[target]]\nid = \"a\"\nurl = \"h:1\"\n[[bundle]]\npath = \"b.pem\"\n[[ target ]] # two\nurl = \"h:2\"\ncacert = [\n  \"x.pem\",\n]\n";
        let (rest, chunks) = split_targets(text);
        assert_eq!(rest.len(), text.len());
        assert_eq!(chunks.len(), 2);
        assert!(text[chunks[0].0..chunks[0].1].starts_with("[[target]]"));
        assert!(text[chunks[0].0..chunks[0].1].ends_with("url = \"h:1\"\n"));
        assert!(text[chunks[1].0..chunks[1].1].contains("x.pem"));
        assert!(rest.contains("[[bundle]]") && rest.contains("[defaults]"));
        assert!(!rest.contains("url"));
        assert_eq!(rest.lines().count(), text.lines().count());
    }

    #[test]
    fn lines_are_one_based() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}

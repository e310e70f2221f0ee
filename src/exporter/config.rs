//! The exporter's configuration file (TOML): `[module.NAME]` tables with the keys of an
//! audit target (and a `[module.NAME.policy]` table with audit's policy keys), optional
//! `[defaults]`, and an optional top-level `allow` list.
//!
//! Parsed with the inventory's own code (`inventory::target_args`, `resolve_policy`,
//! inline-password refusal), so a key means the same in both files and errors name
//! `file:line` and the key. Every file a module names is read at load time (and at each
//! reload), so a broken module is found at start-up, not at the first scrape.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::error::InputError;
use crate::inventory::{self, Ctx, Policy, RawTarget};
use crate::options::RawVerify;
use crate::plan::{self, TrustStore, VerifyPlan};

use super::allow::AllowList;

/// A module's target before a request names one: only its host decides SNI and names,
/// and it is replaced by each probe's target.
const PLACEHOLDER_TARGET: &str = "localhost:1";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    allow: Option<Vec<Spanned<String>>>,
    defaults: Option<Spanned<RawTarget>>,
    #[serde(default)]
    module: BTreeMap<String, Spanned<RawTarget>>,
}

/// One module: how to verify whatever target a request names.
#[derive(Clone)]
pub(crate) struct Module {
    pub(crate) name: String,
    /// The raw verify options with a placeholder target, and the password from
    /// `pass_env` read at load time (not `Debug`: see [`RawVerify`]).
    raw: RawVerify,
    /// The trust store, read once.
    trust: Arc<TrustStore>,
    /// The client certificate and key, read and checked once (not per probe).
    client: Option<std::sync::Arc<plan::ClientIdentity>>,
    pub(crate) policy: Policy,
}

impl Module {
    /// The per-step deadline configured for this module.
    pub(crate) fn timeout(&self) -> Duration {
        self.raw.timeout
    }

    /// The plan for one probe of `target` (whose password, if any, the caller refused),
    /// with each step bounded by `timeout`.
    pub(crate) fn plan(&self, target: &str, timeout: Duration) -> Result<VerifyPlan, InputError> {
        let mut raw = self.raw.clone();
        raw.target = Some(target.to_string());
        raw.timeout = timeout.max(Duration::from_millis(1));
        // The identity loaded at start-up replaces reading and parsing the key per probe.
        raw.cert = None;
        raw.key = None;
        let loaded = plan::Loaded {
            trust: Some(self.trust.clone()),
            client: None,
        };
        let mut plan = plan::verify_plan(&raw, loaded)?;
        plan.client = self.client.clone();
        Ok(plan)
    }
}

/// A loaded configuration.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) modules: BTreeMap<String, Module>,
    /// `None`: no allow list, every target may be probed.
    pub(crate) allow: Option<AllowList>,
    /// Warnings about the inputs (secret files readable by other users), each once.
    pub(crate) warnings: Vec<String>,
}

/// Reads and resolves the configuration file.
pub(crate) fn load(path: &Path) -> Result<Config, InputError> {
    let text = inventory::read_text(path)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse_str(&path.display().to_string(), &text, &dir)
}

/// Parses configuration text named `file`, resolving relative paths against `dir`.
pub(crate) fn parse_str(file: &str, text: &str, dir: &Path) -> Result<Config, InputError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| inventory::toml_error(file, text, &e))?;
    let ctx = Ctx {
        base: 0,
        file,
        text,
        dir: dir.to_path_buf(),
    };
    let allow = match raw.allow {
        None => None,
        Some(entries) => {
            let mut list = AllowList::default();
            for e in entries {
                list.push(e.get_ref())
                    .map_err(|m| ctx.err(e.span().start, "allow", m.to_string()))?;
            }
            Some(list)
        }
    };
    let defaults = match raw.defaults {
        Some(d) => {
            let start = d.span().start;
            let mut d = d.into_inner();
            check_table(&ctx, start, "defaults", &d)?;
            if let Some((at, _)) = d.take_policy() {
                return Err(ctx.err(
                    at,
                    "defaults.policy",
                    "a policy belongs in each [module.NAME.policy]",
                ));
            }
            d
        }
        None => RawTarget::default(),
    };
    if raw.module.is_empty() {
        return Err(InputError::new(
            file,
            "the configuration has no [module.NAME] table",
        ));
    }
    let mut modules = BTreeMap::new();
    let mut warnings: Vec<String> = Vec::new();
    for (name, table) in raw.module {
        let start = table.span().start;
        let module = resolve_module(&ctx, start, &name, table.into_inner(), &defaults)?;
        for w in module.1 {
            let w = format!("{file}:{}: {w}", inventory::line_of(text, start));
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
        modules.insert(name, module.0);
    }
    Ok(Config {
        modules,
        allow,
        warnings,
    })
}

/// Refusals shared by `[defaults]` and modules: no target of their own, no password.
fn check_table(ctx: &Ctx<'_>, start: usize, what: &str, t: &RawTarget) -> Result<(), InputError> {
    if t.names_a_target() {
        return Err(ctx.err(
            start,
            what,
            "`id` and `url` do not belong in an exporter configuration: each /probe request names its target",
        ));
    }
    inventory::refuse_inline_passwords(ctx, t)
}

fn resolve_module(
    ctx: &Ctx<'_>,
    start: usize,
    name: &str,
    mut t: RawTarget,
    d: &RawTarget,
) -> Result<(Module, Vec<String>), InputError> {
    let key = format!("module.{name}");
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(ctx.err(
            start,
            &key,
            "a module name is letters, digits, `_` and `-` (it is a label value)",
        ));
    }
    check_table(ctx, start, &key, &t)?;
    let policy = match t.take_policy() {
        Some((_, raw)) => inventory::resolve_policy(ctx, raw)?,
        None => Policy::default(),
    };
    let (raw, credentials_error) =
        inventory::target_args(ctx, start, PLACEHOLDER_TARGET, &t, d, &policy)?;
    // A module's secret is read at start-up: an exporter without it cannot probe.
    if let Some(e) = credentials_error {
        return Err(InputError::new(format!("module {name:?}"), e));
    }
    // Reads every file now: a broken module stops the start-up (or the reload).
    let trial = plan::verify_plan(&raw, plan::Loaded::default())
        .map_err(|e| ctx.err(start, "", format!("module {name:?}: {e}")))?;
    let module = Module {
        name: name.to_string(),
        raw,
        trust: trial.trust.clone(),
        client: trial.client.clone(),
        policy,
    };
    Ok((module, trial.warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, InputError> {
        parse_str(
            "exporter.toml",
            text,
            &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        )
    }

    #[test]
    fn modules_defaults_policy_and_allow() {
        let c = parse(
            "allow = [\"*.example.net\", \"127.0.0.1\"]\n\
             [defaults]\ntimeout = \"3s\"\n\
             [module.redis]\ncacert = \"testdata/serving-root.pem\"\n\
             [module.redis.policy]\nwarn_days = 14\nrequire_plaintext_refused = true\n\
             [module.pg]\nprotocol = \"postgres\"\ntimeout = \"2s\"\n",
        )
        .unwrap();
        let redis = &c.modules["redis"];
        assert_eq!(redis.timeout(), Duration::from_secs(3));
        assert_eq!(redis.policy.warn_days, 14);
        assert!(redis.policy.require_plaintext_refused);
        let plan = redis
            .plan("rediss://db.example.net:6380", redis.timeout())
            .unwrap();
        assert_eq!(plan.target.port, 6380);
        assert_eq!(plan.sni.as_deref(), Some("db.example.net"));
        assert_eq!(plan.warn_days, 14);
        assert!(plan.expect_plaintext.is_some());
        assert_eq!(c.modules["pg"].timeout(), Duration::from_secs(2));
        assert!(c
            .allow
            .unwrap()
            .allows(&crate::target::Host::Dns("a.example.net".into())));
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn errors_name_the_line_and_key() {
        assert_eq!(
            err("[module.a]\ntimeout = \"3s\"\npassword = \"hunter2\"\n"),
            "exporter.toml:3: key `password`: passwords are never written in an inventory: use pass_env = \"VAR\" or pass_file = \"path\""
        );
        let e = err("allow = [\"10.0.0.0/40\"]\n[module.a]\n");
        assert!(e.starts_with("exporter.toml:1: key `allow`:"), "{e}");
        let e = err("[module.a]\nurl = \"rediss://h:1\"\n");
        assert!(e.starts_with("exporter.toml:1: key `module.a`:"), "{e}");
        let e = err("[module.a]\ntls_version = \"1.1\"\n");
        assert!(e.starts_with("exporter.toml:2: key `tls_version`:"), "{e}");
        let e = err("[module.a]\nbogus = 1\n");
        assert!(e.starts_with("exporter.toml:"), "{e}");
        assert!(e.contains("bogus"), "{e}");
        let e = err("[module.a]\ncacert = \"testdata/nope.pem\"\n");
        assert!(e.contains("module \"a\""), "{e}");
        let e = err("[module.\"a b\"]\n");
        assert!(e.contains("module name"), "{e}");
        assert!(err("allow = []\n").contains("no [module.NAME]"));
        assert!(!err("[module.a]\npassword = \"hunter2\"\n").contains("hunter2"));
    }
}

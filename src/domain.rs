//! The choices a user makes (a TLS version, a protocol, what plaintext must do, an output
//! format...), as the rest of tlsprobe reads them: no clap, no file format.
//!
//! `cli.rs` has a clap value enum beside each (its `--help` text) that converts into the
//! type here; the inventory and the exporter configuration read the same types through
//! serde ([`choice`]), so the spellings a file accepts are the ones derived here, not a
//! copied list.

use std::path::PathBuf;

use serde::de::value::StrDeserializer;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// TLS protocol version (`--tls-version`, `tls_version`, expectation files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum TlsVersion {
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

/// What a plaintext connection to the same port must find (`--expect-plaintext`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpectPlaintext {
    /// Plaintext must be refused (TLS is enforced).
    Refused,
    /// Plaintext must be allowed.
    Allowed,
    /// Do not probe plaintext.
    Any,
}

/// Application protocol spoken after the handshake (`--protocol`, `protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Redis,
    Postgres,
    Mysql,
    Tls,
}

impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The spellings are serde's; a serde alias would also be listed in the error's
        // expected spellings, so PostgreSQL's own name (always accepted by an inventory)
        // is read here, unlisted.
        #[derive(Deserialize)]
        #[serde(rename_all = "kebab-case")]
        enum Name {
            Redis,
            Postgres,
            Mysql,
            Tls,
        }
        let text = String::deserialize(d)?;
        if text == "postgresql" {
            return Ok(Protocol::Postgres);
        }
        Ok(
            match Name::deserialize(StrDeserializer::<D::Error>::new(&text))? {
                Name::Redis => Protocol::Redis,
                Name::Postgres => Protocol::Postgres,
                Name::Mysql => Protocol::Mysql,
                Name::Tls => Protocol::Tls,
            },
        )
    }
}

/// What `--discover` finds from the seed target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiscoverKind {
    Cluster,
    Sentinel,
    Replicas,
}

/// Which provider's object `--expect` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpectFormat {
    Upstash,
    RedisEnterprise,
    Dcs,
    Rds,
    Tlsprobe,
}

/// How the server validates a client certificate's subject (`--validation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// No validation beyond the chain.
    None,
    /// The CN (or a DNS SAN) must equal an authorized entry's CN.
    San,
    /// The subject must equal an authorized entry.
    Subject,
}

/// What a chain is validated for (`chain --purpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Server,
    Client,
}

/// Output format of verify, inspect, chain and mtls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
}

/// Audit report formats (`audit --format`, `--report FORMAT=FILE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    Human,
    Json,
    Jsonl,
    Junit,
    Markdown,
    Prometheus,
    Html,
}

/// The client-certificate rules of the server, as given (`--validation`,
/// `--authorized-subject`, `--config`); `mtls::policy_from_rules` resolves them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientRules {
    pub validation: Option<Validation>,
    pub authorized_subjects: Vec<String>,
    pub config: Option<PathBuf>,
}

impl ClientRules {
    /// Any rule was given (a flag, or a REST API configuration file).
    pub fn given(&self) -> bool {
        self.validation.is_some() || !self.authorized_subjects.is_empty() || self.config.is_some()
    }
}

/// A spelling that names no variant of a choice; displays the spellings that do,
/// as the inventory's errors word them: `"a", "b" or "c"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAChoice {
    /// The spellings serde accepts (aliases aside), in declaration order.
    pub expected: &'static [&'static str],
}

impl std::fmt::Display for NotAChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let quoted: Vec<String> = self.expected.iter().map(|s| format!("{s:?}")).collect();
        match quoted.split_last() {
            None => Ok(()),
            Some((last, [])) => f.write_str(last),
            Some((last, rest)) => write!(f, "{} or {last}", rest.join(", ")),
        }
    }
}

/// The error type serde reports a unit variant's spelling through: it keeps the list of
/// accepted spellings that serde derive hands to `unknown_variant`.
#[derive(Debug)]
struct ChoiceError(Option<&'static [&'static str]>);

impl std::fmt::Display for ChoiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a choice")
    }
}

impl std::error::Error for ChoiceError {}

impl serde::de::Error for ChoiceError {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        ChoiceError(None)
    }

    fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
        ChoiceError(Some(expected))
    }
}

/// Reads one spelling of a serde unit enum (`"1.3"`, `"redis-enterprise"`).
pub fn choice<T: DeserializeOwned>(text: &str) -> Result<T, NotAChoice> {
    T::deserialize(StrDeserializer::<ChoiceError>::new(text)).map_err(|e| NotAChoice {
        expected: e.0.unwrap_or(&[]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_and_the_expected_lists() {
        assert_eq!(choice::<TlsVersion>("1.3"), Ok(TlsVersion::V1_3));
        assert_eq!(choice::<Protocol>("postgresql"), Ok(Protocol::Postgres));
        assert_eq!(
            choice::<ExpectFormat>("redis-enterprise"),
            Ok(ExpectFormat::RedisEnterprise)
        );
        let e = |r: Result<(), NotAChoice>| r.unwrap_err().to_string();
        assert_eq!(
            e(choice::<Protocol>("pg").map(drop)),
            r#""redis", "postgres", "mysql" or "tls""#
        );
        assert_eq!(
            e(choice::<TlsVersion>("1.1").map(drop)),
            r#""1.2" or "1.3""#
        );
        assert_eq!(
            e(choice::<ExpectPlaintext>("Refused").map(drop)),
            r#""refused", "allowed" or "any""#
        );
        assert_eq!(
            e(choice::<DiscoverKind>("").map(drop)),
            r#""cluster", "sentinel" or "replicas""#
        );
        assert_eq!(
            e(choice::<ExpectFormat>("x").map(drop)),
            r#""upstash", "redis-enterprise", "dcs", "rds" or "tlsprobe""#
        );
    }
}

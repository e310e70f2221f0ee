//! Command-line arguments as typed, before any file is read (clap derive only).
//!
//! The `///` comment on each field is its `--help` text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::clock::{parse_duration, parse_time, UnixSeconds};
use crate::domain::{
    AuditFormat, ClientRules, DiscoverKind, ExpectFormat, ExpectPlaintext, Format, Protocol,
    Purpose, TlsVersion, Validation,
};
use crate::finding::FailOn;

/// TLS connectivity verifier and certificate auditor for databases.
/// Not `Debug`: a target URL may hold a password.
#[derive(Parser)]
#[command(name = "tlsprobe", version = crate::packaging::VERSION, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Describe every certificate in PEM/DER files and analyse each file as a bundle.
    Inspect(InspectArgs),
    /// Connect to a database endpoint and prove TLS, trust, names, dates, client cert, AUTH and PING.
    Verify(Box<VerifyArgs>),
    /// Simulate a server's mutual-TLS decision on a client certificate (Redis Enterprise rules).
    Mtls(MtlsArgs),
    /// Validate a certificate chain offline (every certificate of every file), like `openssl verify`.
    Chain(ChainArgs),
    /// Verify a fleet of endpoints and bundles from an inventory against a policy.
    Audit(AuditArgs),
    /// Serve Prometheus: /probe?target=...&module=... runs one verify (multi-target exporter).
    Exporter(ExporterArgs),
    // Conventions of a packaged CLI (see packaging.rs).
    /// Print a shell completion script: `source <(tlsprobe completions bash)`.
    Completions(CompletionsArgs),
    /// Print the man page (roff) of tlsprobe or one subcommand, or write all pages to --dir.
    Man(ManArgs),
    /// Print the JSON Schema (draft 2020-12) of a JSON output.
    Schema(SchemaArgs),
}

/// The exporter's default port, from Prometheus' default port allocation list.
pub const EXPORTER_DEFAULT_LISTEN: &str = "127.0.0.1:9612";

#[derive(Debug, Args)]
pub struct ExporterArgs {
    /// Exporter configuration TOML: [module.NAME] tables (audit target keys), optional allow list.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Address to serve on; use 0.0.0.0:9612 (or a specific interface) in real deployments.
    #[arg(long, value_name = "ADDR:PORT", default_value = EXPORTER_DEFAULT_LISTEN)]
    pub listen: String,
    /// Probes run at the same time; a /probe beyond this is answered 503 at once.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_concurrent: usize,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (tlsprobe-SUBCOMMAND(1)) [default: tlsprobe(1)].
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
    /// Write every page (tlsprobe.1, tlsprobe-verify.1, ...) into DIR instead of printing one.
    #[arg(long, value_name = "DIR", conflicts_with = "subcommand")]
    pub dir: Option<PathBuf>,
}

/// The JSON outputs that have a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// `verify --format json`.
    Verify,
    /// `inspect --format json`.
    Inspect,
    /// `chain --format json`.
    Chain,
    /// `mtls --format json`.
    Mtls,
    /// `audit --format json` (one document).
    Audit,
    /// One line of `audit --format jsonl` (a target or a bundle).
    AuditLine,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which output.
    #[arg(value_enum)]
    pub kind: SchemaKind,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Inventory TOML: [defaults], [[target]], [[bundle]], [policy].
    #[arg(value_name = "INVENTORY")]
    pub inventory: PathBuf,
    /// Policy TOML replacing the inventory's [policy].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Targets verified at the same time.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub concurrency: usize,
    /// Format of the main report.
    #[arg(long, value_parser = value::parser::<value::AuditFormat, AuditFormat>(), default_value = "human")]
    pub format: AuditFormat,
    /// Write the main report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write FORMAT to FILE (repeatable), e.g. --report junit=audit.xml.
    #[arg(long, value_name = "FORMAT=FILE")]
    pub report: Vec<String>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Evaluation time: RFC 3339 or Unix seconds [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<UnixSeconds>,
    /// A previous `audit --format json` output: report what changed per target id (step baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// A change since --baseline fails the target instead of warning.
    #[arg(long, requires = "baseline")]
    pub fail_on_change: bool,
}

/// Client-certificate rules of the server, shared by `mtls` and `verify`.
#[derive(Debug, Clone, Args)]
pub struct ClientRuleArgs {
    /// Subject validation the server applies [default: none, or the value in --config].
    #[arg(long, value_parser = value::parser::<value::Validation, Validation>())]
    pub validation: Option<Validation>,
    /// An authorized subject, e.g. 'CN=redis_user,O=Acme,OU=Ops,OU=Dev' (repeatable; RFC 4514 escaping).
    #[arg(long = "authorized-subject", value_name = "DN")]
    pub authorized_subjects: Vec<String>,
    /// Read validation settings from a database or cluster JSON as the Redis Enterprise REST API returns it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MtlsArgs {
    /// What the server trusts: CA chain and/or client certificates (repeatable) [default: the
    /// authentication_ssl_client_certs of --config; one of the two is required].
    #[arg(long, value_name = "FILE")]
    pub trusted: Vec<PathBuf>,
    /// The client's certificate chain, leaf first.
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,
    #[command(flatten)]
    pub rules: ClientRuleArgs,
    /// Excuse the expiry of the client's own certificate (mtls_allow_outdated_certs), not of CAs.
    #[arg(long)]
    pub allow_outdated: bool,
    /// Evaluation time: RFC 3339 or Unix seconds [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<UnixSeconds>,
    /// Output format.
    #[arg(long, value_parser = value::parser::<value::Format, Format>(), default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ChainArgs {
    /// Trust anchors (repeatable): a file (every certificate), a directory (every certificate
    /// file; an OpenSSL hashed dir works) or `system` (the OS store).
    #[arg(long, value_name = "FILE", required = true)]
    pub cacert: Vec<PathBuf>,
    /// Untrusted intermediates (repeatable; every certificate of each file).
    #[arg(long, value_name = "FILE")]
    pub untrusted: Vec<PathBuf>,
    /// Certificate revocation lists, PEM or DER (repeatable), checked for the whole chain.
    #[arg(long, value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// Maximum number of intermediates in the path.
    #[arg(long, value_name = "N")]
    pub max_depth: Option<usize>,
    /// Evaluation time: RFC 3339 or Unix seconds [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<UnixSeconds>,
    /// DNS name or IP address the leaf must be valid for.
    #[arg(long, value_name = "DNS-or-IP")]
    pub name: Option<String>,
    /// Extended key usage required of the leaf.
    #[arg(long, value_parser = value::parser::<value::Purpose, Purpose>(), default_value = "server")]
    pub purpose: Purpose,
    /// Also fail on RFC 5280 profile problems that webpki tolerates (reported as findings).
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_parser = value::parser::<value::Format, Format>(), default_value = "human")]
    pub format: Format,
    /// The leaf certificate file (its first certificate is the leaf; the others are untrusted intermediates).
    #[arg(value_name = "LEAF")]
    pub leaf: PathBuf,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Certificate files: PEM with any number of blocks, or DER.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_parser = value::parser::<value::Format, Format>(), default_value = "human")]
    pub format: Format,
    /// Evaluation time: RFC 3339 (2024-06-01T00:00:00Z) or Unix seconds [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<UnixSeconds>,
    /// Warn about certificates expiring within this many days.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub warn_days: i64,
    /// Lowest finding severity that makes the exit code 1.
    #[arg(long, value_parser = value::parser::<value::FailOn, FailOn>(), default_value = "error")]
    pub fail_on: FailOn,
    /// Also verify the self-signature of every root (links between distinct certificates are always verified).
    #[arg(long)]
    pub check_signatures: bool,
}

/// Not `Debug`: `target` may hold a password.
#[derive(Args, Clone)]
pub struct VerifyArgs {
    /// host:port, rediss://[user[:password]@]host[:port][/db], redis://... (plaintext),
    /// postgres://, mysql://[user[:password]@]host[:port][/db] or tls://host:port
    /// [default with --expect: the endpoint the object names].
    #[arg(value_name = "TARGET", required_unless_present = "expect")]
    pub target: Option<String>,
    /// Trust anchors (repeatable): a file (every certificate), a directory (every certificate
    /// file; an OpenSSL hashed dir works) or `system` (the OS store; honours SSL_CERT_FILE and
    /// SSL_CERT_DIR) [default: the Mozilla roots].
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,
    /// Client certificate chain (leaf first); may also hold the key.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Client private key (PEM) [default: the key in --cert].
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Passphrase of an encrypted PKCS#8 client key (first line of FILE).
    #[arg(long, value_name = "FILE")]
    pub key_pass_file: Option<PathBuf>,
    /// Server name to send in SNI [default: the host, when it is a DNS name].
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// Identity the server certificate must carry (DNS name or IP) [default: the host].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// User name for AUTH (overrides the one in the URL).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Read the password from this file (first line). Also: the URL, or REDISCLI_AUTH.
    #[arg(long, value_name = "FILE")]
    pub pass_file: Option<PathBuf>,
    /// Pin the TLS protocol version.
    #[arg(long, value_parser = value::parser::<value::TlsVersion, TlsVersion>(), value_name = "VERSION")]
    pub tls_version: Option<TlsVersion>,
    /// Application protocol for host:port targets.
    #[arg(long, value_parser = value::parser::<value::Protocol, Protocol>())]
    pub protocol: Option<Protocol>,
    /// Deadline for each step (resolve, connect, handshake, auth, ping).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Evaluation time: RFC 3339 or Unix seconds [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<UnixSeconds>,
    /// Warn when a certificate of the verified chain expires within this many days.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub warn_days: i64,
    /// Plaintext on the same port (and every --plaintext-port) must be refused or allowed [default: refused for rediss://, postgres://, mysql://; not probed for tls://].
    #[arg(long, value_parser = value::parser::<value::ExpectPlaintext, ExpectPlaintext>(), value_name = "EXPECT")]
    pub expect_plaintext: Option<ExpectPlaintext>,
    /// Another port of the same host that must refuse plaintext too (repeatable), e.g. the `port` of a redis-server that also has a `tls-port`.
    #[arg(long = "plaintext-port", value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub plaintext_ports: Vec<u16>,
    /// Retry the whole verification on fresh connections until it passes or this much time has passed.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<Duration>,
    /// Pause between --wait attempts.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration, requires = "wait")]
    pub interval: Duration,
    /// Output format.
    #[arg(long, value_parser = value::parser::<value::Format, Format>(), default_value = "human")]
    pub format: Format,
    /// The server's client-certificate rules: pre-check --cert before connecting (step client-policy).
    #[command(flatten)]
    pub rules: ClientRuleArgs,
    /// The server accepts expired client certificates (mtls_allow_outdated_certs): client-policy warns instead of failing.
    #[arg(long)]
    pub allow_outdated: bool,
    /// Also fail on RFC 5280 / CA/B Forum profile rules on the verified chain (step strict).
    #[arg(long)]
    pub strict: bool,
    // --- whole-deployment verification (src/discover/) ---
    /// Then discover and verify every node at the address clients are sent to: the Redis
    /// Cluster, the Sentinel's master, replicas and other Sentinels, or the target's replicas.
    #[arg(long, value_parser = value::parser::<value::DiscoverKind, DiscoverKind>(), value_name = "KIND")]
    pub discover: Option<DiscoverKind>,
    /// With --discover sentinel: the master name the Sentinel monitors.
    #[arg(long, value_name = "NAME")]
    pub sentinel_master: Option<String>,
    /// With --discover cluster: also verify each node's cluster bus port (TLS, a valid
    /// certificate, and no connection without a client certificate).
    #[arg(long)]
    pub cluster_bus: bool,
    #[command(flatten)]
    pub change: ChangeArgs,
}

// --- Post-change verification (--expect, --resolve, --baseline) ---

/// Flags that compare the live endpoint with a description of it or with an earlier run.
#[derive(Debug, Clone, Default, Args)]
pub struct ChangeArgs {
    /// What the provider says the endpoint now is: its API object as JSON (`-`: stdin).
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// The kind of object --expect holds [default: detected from its fields].
    #[arg(long, value_parser = value::parser::<value::ExpectFormat, ExpectFormat>(), value_name = "FORMAT", requires = "expect")]
    pub expect_format: Option<ExpectFormat>,
    /// Connect to ADDR for HOST:PORT while the name checked and the SNI stay HOST (curl's --resolve; repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// A previous `--format json` output of the same command: report what changed since (step baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// A change since --baseline fails the run instead of warning.
    #[arg(long, requires = "baseline")]
    pub fail_on_change: bool,
}

impl From<&ClientRuleArgs> for ClientRules {
    fn from(a: &ClientRuleArgs) -> Self {
        ClientRules {
            validation: a.validation,
            authorized_subjects: a.authorized_subjects.clone(),
            config: a.config.clone(),
        }
    }
}

/// `--report FORMAT=FILE`'s FORMAT, spelled as `--format`'s values (any case).
pub(crate) fn audit_format(name: &str) -> Option<AuditFormat> {
    <value::AuditFormat as ValueEnum>::from_str(name, true)
        .ok()
        .map(AuditFormat::from)
}

/// `--format`'s audit values, as `--report` lists them: `human, json, ...`.
pub(crate) fn audit_format_names() -> String {
    value::AuditFormat::value_variants()
        .iter()
        .filter_map(|v| v.to_possible_value())
        .map(|p| p.get_name().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The clap value enums: each is the `--help` text of a flag's values and converts into
/// the [`crate::domain`] type the flag's field holds (clap types stop at this file).
mod value {
    use clap::builder::{EnumValueParser, TypedValueParser};
    use clap::ValueEnum;

    use crate::domain as d;

    /// Parses a flag's value as the clap enum `A`, stored as the domain type `D`.
    pub(super) fn parser<A, D>() -> impl TypedValueParser<Value = D>
    where
        A: ValueEnum + Clone + Send + Sync + 'static,
        D: From<A> + Clone + Send + Sync + 'static,
    {
        EnumValueParser::<A>::new().map(D::from)
    }

    /// `From<value::X> for domain::X`, variant by variant.
    macro_rules! into_domain {
        ($($clap:ident => $domain:path { $($v:ident),* })*) => {$(
            impl From<$clap> for $domain {
                fn from(v: $clap) -> Self {
                    match v { $($clap::$v => <$domain>::$v),* }
                }
            }
        )*};
    }

    into_domain! {
        AuditFormat => d::AuditFormat { Human, Json, Jsonl, Junit, Markdown, Prometheus, Html }
        Validation => d::Validation { None, San, Subject }
        Purpose => d::Purpose { Server, Client }
        Format => d::Format { Human, Json }
        TlsVersion => d::TlsVersion { V1_2, V1_3 }
        ExpectPlaintext => d::ExpectPlaintext { Refused, Allowed, Any }
        Protocol => d::Protocol { Redis, Postgres, Mysql, Tls }
        DiscoverKind => d::DiscoverKind { Cluster, Sentinel, Replicas }
        ExpectFormat => d::ExpectFormat { Upstash, RedisEnterprise, Dcs, Rds, Tlsprobe }
        FailOn => crate::finding::FailOn { Error, Warn, Never }
    }

    /// Audit report formats.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    pub(crate) enum AuditFormat {
        Human,
        Json,
        Jsonl,
        Junit,
        Markdown,
        Prometheus,
        /// One self-contained page: totals, certificate expiry timeline, sortable table, findings.
        Html,
    }

    /// `--validation`: how the server validates a client certificate's subject.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    pub(crate) enum Validation {
        /// No validation beyond the chain (REST API: `disabled`).
        #[value(alias = "disabled")]
        None,
        /// The CN (or a DNS SAN) must equal an authorized entry's CN (REST API: `san_cn`).
        #[value(alias = "san_cn")]
        San,
        /// The subject must equal an authorized entry (REST API: `full_subject`).
        #[value(alias = "full_subject")]
        Subject,
    }

    /// What the chain is validated for.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    pub(crate) enum Purpose {
        Server,
        Client,
    }

    /// Output format.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    pub(crate) enum Format {
        Human,
        Json,
    }

    /// TLS protocol version.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    pub(crate) enum TlsVersion {
        #[value(name = "1.2")]
        V1_2,
        #[value(name = "1.3")]
        V1_3,
    }

    /// What `--expect-plaintext` asserts about a plaintext connection to the same port.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    pub(crate) enum ExpectPlaintext {
        /// Plaintext must be refused (TLS is enforced).
        Refused,
        /// Plaintext must be allowed (e.g. to confirm a change turned TLS off).
        Allowed,
        /// Do not probe plaintext (the default for database targets is `refused`).
        Any,
    }

    /// Application protocol spoken after the handshake.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    pub(crate) enum Protocol {
        /// TLS, then Redis (AUTH, PING).
        Redis,
        /// PostgreSQL SSLRequest, TLS, then login and SELECT 1.
        Postgres,
        /// MySQL/MariaDB greeting and SSL request, TLS, then login and SELECT 1.
        Mysql,
        /// TLS only, no application protocol.
        Tls,
    }

    /// What `--discover` finds from the seed target.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    pub(crate) enum DiscoverKind {
        /// Every Redis Cluster node (CLUSTER SHARDS, or CLUSTER NODES before Redis 7).
        Cluster,
        /// The target is a Sentinel: the master, its replicas and the other Sentinels.
        Sentinel,
        /// The replicas listed by INFO replication.
        Replicas,
    }

    /// `--expect-format`: which provider's object `--expect` holds.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    pub(crate) enum ExpectFormat {
        /// Upstash Database object (`POST /redis/enable-tls/{id}`, `GET /redis/database/{id}`).
        Upstash,
        /// Redis Enterprise BDB object (`GET /v1/bdbs/<uid>`).
        RedisEnterprise,
        /// Huawei DCS SSL body (`PUT .../instances/{id}/ssl {"enabled": bool}`).
        Dcs,
        /// Huawei RDS SSL body (`PUT .../instances/{id}/ssl {"ssl_option": bool}`).
        Rds,
        /// tlsprobe's own expectation file (JSON or TOML).
        Tlsprobe,
    }

    /// `--fail-on`: the lowest severity that makes the run fail.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    pub(crate) enum FailOn {
        Error,
        Warn,
        Never,
    }
}

impl ChainArgs {
    /// What these flags ask `chain` to judge.
    pub fn request(&self) -> crate::pki::chain::ChainRequest {
        crate::pki::chain::ChainRequest {
            leaf: self.leaf.clone(),
            untrusted: self.untrusted.clone(),
            cacert: self.cacert.clone(),
            crl: self.crl.clone(),
            name: self.name.clone(),
            purpose: self.purpose,
            max_depth: self.max_depth,
            strict: self.strict,
        }
    }
}

impl MtlsArgs {
    /// What these flags ask `mtls` to judge.
    pub fn request(&self) -> crate::mtls::MtlsRequest {
        crate::mtls::MtlsRequest {
            trusted: self.trusted.clone(),
            cert: self.cert.clone(),
            rules: ClientRules::from(&self.rules),
            allow_outdated: self.allow_outdated,
        }
    }
}

impl VerifyArgs {
    /// What these flags ask for, before any file is read; `env_password` is
    /// `REDISCLI_AUTH` as read by the caller.
    pub fn raw(&self, env_password: Option<String>) -> crate::options::RawVerify {
        crate::options::RawVerify {
            target: self.target.clone(),
            cacert: self.cacert.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            key_pass_file: self.key_pass_file.clone(),
            sni: self.sni.clone(),
            name: self.name.clone(),
            user: self.user.clone(),
            pass_file: self.pass_file.clone(),
            env_password: env_password.map(crate::target::Secret::new),
            tls_version: self.tls_version,
            protocol: self.protocol,
            timeout: self.timeout,
            at: self.at,
            warn_days: self.warn_days,
            expect_plaintext: self.expect_plaintext,
            plaintext_ports: self.plaintext_ports.clone(),
            wait: self.wait,
            interval: self.interval,
            rules: ClientRules::from(&self.rules),
            allow_outdated: self.allow_outdated,
            strict: self.strict,
            discover: self.discover,
            sentinel_master: self.sentinel_master.clone(),
            cluster_bus: self.cluster_bus,
            resolve: self.change.resolve.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain;

    /// Every clap value arrives as the domain value of the same name.
    #[test]
    fn flags_convert_into_domain_values() {
        let cli = Cli::try_parse_from([
            "tlsprobe",
            "verify",
            "--tls-version",
            "1.3",
            "--protocol",
            "mysql",
            "--expect-plaintext",
            "allowed",
            "--discover",
            "replicas",
            "--expect",
            "f.json",
            "--expect-format",
            "redis-enterprise",
            "--validation",
            "san_cn",
            "--format",
            "json",
            "h:1",
        ])
        .unwrap();
        let Command::Verify(args) = cli.command else {
            panic!("not verify")
        };
        assert_eq!(args.format, domain::Format::Json);
        assert_eq!(
            args.change.expect_format,
            Some(domain::ExpectFormat::RedisEnterprise)
        );
        let raw = args.raw(Some("pw".into()));
        assert_eq!(raw.tls_version, Some(domain::TlsVersion::V1_3));
        assert_eq!(raw.protocol, Some(domain::Protocol::Mysql));
        assert_eq!(raw.expect_plaintext, Some(domain::ExpectPlaintext::Allowed));
        assert_eq!(raw.discover, Some(domain::DiscoverKind::Replicas));
        assert_eq!(raw.rules.validation, Some(domain::Validation::San));
        assert_eq!(
            raw.env_password.map(|p| p.expose().to_string()),
            Some("pw".into())
        );
        assert_eq!(audit_format("JUnit"), Some(domain::AuditFormat::Junit));
        assert_eq!(audit_format("xml"), None);
        assert_eq!(
            audit_format_names(),
            "human, json, jsonl, junit, markdown, prometheus, html"
        );
        let cli = Cli::try_parse_from(["tlsprobe", "chain", "--cacert", "a", "b"]).unwrap();
        let Command::Chain(args) = cli.command else {
            panic!("not chain")
        };
        assert_eq!(args.purpose, domain::Purpose::Server);
    }
}

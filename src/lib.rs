//! tlsprobe: TLS connectivity verifier and certificate auditor for databases.
//!
//! # Layout
//!
//! Data flows one way: `cli` -> `plan` -> `engine::collect` (`connect`, `probe`) ->
//! [`evidence::Evidence`] -> `check::judge` -> `report`. Collection does all the I/O and
//! judges nothing (except asking `check` whether credentials may be sent); judgement is
//! pure (no I/O, the clock is an argument); renderers only render.
//!
//! - `cli`: clap structs, the raw arguments.
//! - `app`: one function per subcommand; the only module that sees everything.
//! - `domain`: the choices a user makes (TLS version, protocol, formats...), typed and
//!   free of clap; `cli` converts into them, inventories read them through serde.
//! - `options` (private): `RawVerify`, what one verification was asked for (flags, an
//!   inventory target, an exporter module), before `plan` resolves it.
//! - `plan`: `verify_plan(&RawVerify)`, the one resolver: arguments and files resolved into
//!   what to do (trust store, client identity, target, expectations); `Console`, the
//!   terminal and `NO_COLOR` asked once per run.
//! - `target`: `host:port`, `rediss://`, `redis://`, `postgres://`, `mysql://`, `tls://`.
//! - `pki`: PEM/DER reading, certificate description, bundle analysis, the trust store,
//!   the one chain validator (`path`, rustls-webpki, used by verify, chain and mtls), the
//!   one expiry judgement (`validity`), offline path validation (`chain`, asked with a
//!   `ChainRequest`, answering a `chain_outcome::ChainReport`) and the `--strict` profile
//!   rules (`strict`). `pki` imports nothing from `cli`, `plan` or `report`.
//! - `inspect`: one certificate file described and analysed (`tlsprobe inspect`, audit
//!   bundles).
//! - `connect`: TCP and TLS; `connect::danger` (private) holds the verifier that records
//!   instead of aborting.
//! - `probe`: application round trips (Redis AUTH and PING; PostgreSQL and MySQL login and
//!   SELECT 1).
//! - `evidence`: everything observed about one target, typed, nothing judged.
//! - `engine` (private): collect -> judge -> report for one target, shared by every
//!   subcommand that connects.
//! - `check` (private): the pure judgements: `judge` for a verify attempt (`trust`,
//!   `session`, `strict`), `policy` for audit rules.
//! - `step` (private): step ids and their report order.
//! - `mtls`: the server's client-certificate rules (Redis Enterprise mutual TLS), simulated:
//!   an `MtlsRequest` in, an `outcome::MtlsReport` out; no import of `cli`, `plan` or
//!   `report`.
//! - `inventory`: audit inventories (TOML) resolved into plans.
//! - `discover` (private): whole-deployment verification: every Cluster node, a Sentinel's
//!   nodes, replicas, each verified at the address clients are sent to.
//! - `expect` (private): `--expect`, a provider's API object read as expectations, checked
//!   as steps; `baseline` (private): `--baseline`, what changed since an earlier report.
//! - `exporter` (private): `tlsprobe exporter`, the Prometheus multi-target exporter (HTTP).
//! - `audit` (private): a fleet of targets verified concurrently, judged against a policy.
//! - `report` (private): renderers, one per format, all fed the same report values.
//! - `finding`: findings, step results, exit codes.
//! - `clock`, `files`, `error` (private): time, bounded file reads, input errors.
//! - `wait_progress` (private): the `verify --wait` status line on a terminal.
//! - `packaging` (private): `--version` with the TLS stack, shell completions, man pages.
//! - `report::schema`: the JSON Schemas of every JSON output (`tlsprobe schema`).
//! - `urlopts` (private): libpq and MySQL URL parameters (`?sslmode=...`) resolved into options.
//! - `truststore` (private): `--cacert` files, directories and `system`, loaded into a trust store.

pub mod app;
mod audit;
mod baseline;
mod check;
pub mod cli;
mod clock;
pub mod connect;
mod discover;
pub mod domain;
mod engine;
mod error;
pub mod evidence;
mod expect;
mod exporter;
mod files;
pub mod finding;
pub mod inspect;
pub mod inventory;
pub mod mtls;
mod options;
pub(crate) mod packaging;
pub mod pki;
pub mod plan;
pub mod probe;
mod report;
mod step;
pub mod target;
mod truststore;
mod urlopts;
pub(crate) mod wait_progress;

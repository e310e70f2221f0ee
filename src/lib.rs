//! tlsprobe: TLS connectivity verifier and certificate auditor for databases.
//!
//! # Layout
//!
//! Data flows one way: `cli` -> `plan` -> `connect` -> `evidence` -> `check` -> `report`.
//!
//! - [`cli`]: clap structs, the raw arguments.
//! - [`app`]: one function per subcommand; the only module that sees everything.
//! - [`plan`]: arguments and files resolved into what to do (trust store, client identity, target).
//! - [`target`]: `host:port`, `rediss://`, `redis://`, `postgres://`, `mysql://`, `tls://` parsing.
//! - [`pki`]: PEM/DER reading, certificate description, bundle analysis.
//! - [`connect`]: TCP and TLS with a verifier that records instead of aborting.
//! - [`probe`]: application round trips (Redis AUTH and PING; PostgreSQL and MySQL login and SELECT 1).
//! - [`evidence`]: everything observed about one target, nothing judged.
//! - [`check`]: pure judgements of evidence at a given time.
//! - [`audit`]: a fleet of targets verified concurrently, judged against a policy.
//! - [`inventory`]: audit inventories and policies (TOML).
//! - [`engine`]: the connect/evidence/check pipeline for one target, shared by every subcommand.
//! - `expect`: `--expect`, a provider's API object read as expectations, checked as steps.
//! - `baseline`: `--baseline`, what changed since an earlier JSON report.
//! - [`mtls`]: the server's client-certificate rules (Redis Enterprise mutual TLS), simulated.
//! - [`files`]: input files read with a size bound.
//! - [`finding`]: findings, step results, exit codes.
//! - [`report`]: renderers, one per format, all fed the same report value.

pub mod app;
pub mod audit;
pub(crate) mod baseline;
pub mod check;
pub mod cli;
pub mod clock;
pub mod connect;
pub mod engine;
pub mod error;
pub mod evidence;
pub(crate) mod expect;
pub mod files;
pub mod finding;
pub mod inventory;
pub mod mtls;
pub mod pki;
pub mod plan;
pub mod probe;
pub mod report;
pub mod target;

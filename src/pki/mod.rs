//! Certificates offline: reading files, describing certificates, analysing bundles,
//! validating paths, and the `--strict` profile rules.

pub mod algs;
pub mod bundle;
pub mod chain;
pub mod chain_outcome;
pub mod describe;
pub mod keyfile;
pub mod path;
pub mod pem;
pub mod strict;
pub mod trust;
pub mod validity;

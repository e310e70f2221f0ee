//! Certificates offline: reading files, describing certificates, analysing bundles.

pub mod bundle;
pub mod chain;
pub mod describe;
pub mod keyfile;
pub mod pem;

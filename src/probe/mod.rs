//! Application round trips over an already-open stream (TLS or plaintext).

pub mod mysql;
pub mod postgres;
pub mod redis;
mod wire;

/// Milliseconds since an instant: every timing in the evidence is measured this way.
pub(crate) use wire::ms_since;

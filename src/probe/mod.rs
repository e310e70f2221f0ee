//! Application round trips over an already-open stream (TLS or plaintext).

pub mod mysql;
pub mod postgres;
pub mod redis;
mod wire;

//! Application round trips over an already-open stream (TLS or plaintext).

pub mod redis;

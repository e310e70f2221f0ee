//! Checks: pure judgements of recorded evidence at a given time. No I/O here.

pub mod policy;
pub mod session;
pub mod strict;
pub mod trust;

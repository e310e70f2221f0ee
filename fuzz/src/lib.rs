//! Shared pieces of the fuzz targets in `fuzz_targets/`: one tokio runtime per process and
//! a fake peer that replays the fuzz input and swallows whatever the probe writes.
//!
//! Run the targets with `scripts/fuzz.sh` (nightly `cargo fuzz`); seed corpora come from
//! `fuzz/seed.sh`.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{Join, Sink};
use tokio::runtime::Runtime;
use tokio::time::Instant;

/// The current-thread runtime every async target runs on, built once per process: building
/// one per input would dominate the time of each run.
pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread tokio runtime")
    })
}

/// A peer that sends `data`, then closes; writes succeed and go nowhere. Reads end when the
/// data does, so no probe can wait on it.
pub fn peer(data: &[u8]) -> Join<&[u8], Sink> {
    tokio::io::join(data, tokio::io::sink())
}

/// How many of its bytes `peer` has not sent yet.
pub fn unsent(peer: &Join<&[u8], Sink>) -> usize {
    peer.reader().len()
}

/// A deadline far enough away never to fire: the fake peer's EOF ends every read first.
pub fn far_deadline() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}

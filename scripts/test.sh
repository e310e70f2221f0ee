#!/usr/bin/env bash
# Installs what the tests need (if missing) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
# Also inside `cargo test --test exporter`; run here too so a failing alert rule is
# named on its own line in CI.
(cd examples/prometheus && promtool test rules alerts.test.yml)

#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser (the targets in fuzz/fuzz_targets/), one target at
# a time, SECONDS each (default 60). Not part of CI.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Builds in release
# mode with debug assertions and overflow checks and without a sanitizer (tlsprobe is safe
# Rust; set FUZZ_SANITIZER=address to add ASan). Seeds corpora with fuzz/seed.sh where one
# is missing. Prints, per target, the executions done, executions per second and whether it
# crashed; exits 1 on any crash (the input is in fuzz/artifacts/TARGET/, the log in
# fuzz/artifacts/logs/TARGET.log). Reproduce with
#   cargo +nightly fuzz run -s none TARGET fuzz/artifacts/TARGET/crash-...
# and minimise with `cargo +nightly fuzz tmin -s none TARGET fuzz/artifacts/TARGET/crash-...`.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

duration=${1:-60}
shift || true
case $duration in
'' | *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
    ;;
esac
all_targets=(pem_bundle der_cert target_url inventory dn redis_reply postgres_session mysql_session)
targets=("${@:-${all_targets[@]}}")
sanitizer=${FUZZ_SANITIZER:-none}

# The longest input worth trying per target: bundles are several certificates, the rest
# are one certificate, one line, one file or one short conversation.
max_len() {
    case $1 in
    pem_bundle) echo 16384 ;;
    target_url) echo 512 ;;
    *) echo 4096 ;;
    esac
}

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "error: needs cargo-fuzz on the nightly toolchain: rustup toolchain install nightly && cargo install cargo-fuzz" >&2
    exit 2
fi
for t in "${targets[@]}"; do
    if [ ! -d "corpus/$t" ] || [ -z "$(ls -A "corpus/$t")" ]; then
        ./seed.sh
        break
    fi
done

echo "building the fuzz targets (sanitizer: $sanitizer)..." >&2
cargo +nightly fuzz build -s "$sanitizer" >&2

# Every target runs the binary built above, so edits made to src/ meanwhile neither
# trigger rebuilds between targets nor mix two versions of the code in one run; this is
# what `cargo fuzz run` executes after its own build.
bin_dir=target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release
mkdir -p artifacts/logs
crashed=0
summary=()
for t in "${targets[@]}"; do
    log=artifacts/logs/$t.log
    echo "fuzzing $t for ${duration}s (log: fuzz/$log)..." >&2
    status=0
    mkdir -p "artifacts/$t"
    "$bin_dir/$t" -artifact_prefix="artifacts/$t/" "corpus/$t" \
        -max_total_time="$duration" -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
        -timeout=30 -print_final_stats=1 >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ -z "$execs" ]; then
        # libFuzzer prints no final stats after a crash: use its last status line.
        execs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    fi
    if [ "$status" -eq 0 ]; then
        result=ok
    else
        crashed=1
        artifact=$(sed -n 's/.*Test unit written to *//p' "$log" | tail -1)
        result="CRASH (exit $status) ${artifact:-see fuzz/$log}"
        grep -m1 -E "panicked at|ERROR: libFuzzer|SUMMARY" "$log" >&2 || true
    fi
    summary+=("$(printf '%-18s %12s execs %8s exec/s  %s' "$t" "${execs:-?}" "${speed:-?}" "$result")")
done

echo
echo "fuzzed each target for ${duration}s:"
printf '%s\n' "${summary[@]}"
exit "$crashed"

#!/usr/bin/env bash
# Fuzzes the router and the owner/repo rules with cargo-fuzz (libFuzzer) for
# FUZZ_SECONDS (default 60). Needs the nightly toolchain; installs the pinned
# cargo-fuzz into .tools/ on first use. Prints libFuzzer's run count.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=0.13.2
tools=.tools/cargo-fuzz
if ! "$tools/bin/cargo-fuzz" --version 2>/dev/null | grep -q "$version"; then
  cargo install cargo-fuzz --version "$version" --locked --root "$tools"
fi
export PATH="$PWD/$tools/bin:$PATH"

corpus=target/fuzz-corpus/route
mkdir -p "$corpus"
cd fuzz
cargo +nightly fuzz run route "../$corpus" seeds/route -- \
  -max_total_time="${FUZZ_SECONDS:-60}" -print_final_stats=1 2>&1 \
  | tee ../target/fuzz-route.log | grep -E '^(Done|stat::number_of_executed_units|==|SUMMARY)' || true
grep -q '^Done' ../target/fuzz-route.log

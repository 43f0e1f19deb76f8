#!/usr/bin/env bash
# Runs the reference workloads through the release binary and prints their
# result lines: W1 and W2 at N (default 10,000,000), RUNS times each (default 3),
# with peak resident memory (from /usr/bin/time when available).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-10000000}"
RUNS="${RUNS:-3}"
cargo build --release --quiet
for wl in w1 w2; do
    for _ in $(seq "$RUNS"); do
        if [ -x /usr/bin/time ]; then
            /usr/bin/time -f "  peak_rss_kib=%M" ./target/release/tradeengine bench w1 --workload "$wl" --n "$N" "$@"
        else
            ./target/release/tradeengine bench w1 --workload "$wl" --n "$N" "$@"
        fi
    done
done

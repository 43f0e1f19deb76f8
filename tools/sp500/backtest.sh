#!/usr/bin/env bash
# End-to-end backtest on real market data: fetch the S&P 500 bars, turn them
# into SMA-cross signals, replay them through the engine into SQLite, and
# write the report (summary, per-account / per-symbol CSVs, equity and
# drawdown PNGs). Usage: tools/sp500/backtest.sh [OUT_DIR] (default results/sp500).
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-results/sp500}"
mkdir -p "$out"
te=${TRADEENGINE:-target/release/tradeengine}
[ -x "$te" ] || cargo build --release --quiet
csv=$(tools/sp500/fetch.sh)
"$te" signals sma-cross --bars "$csv" --out "$out/signals.cap"
rm -f "$out/backtest.db" "$out/backtest.db-wal" "$out/backtest.db-shm"
"$te" --config tools/sp500/backtest.toml replay --feed "$out/signals.cap" --db "$out/backtest.db" --report "$out/report"

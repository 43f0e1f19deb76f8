#!/usr/bin/env bash
# Runs the whole TradeEngine test suite on a fresh machine: checks the
# toolchain, then builds and runs every test of every workspace member.
# (Later issues add the servers the integration tests need — a local Fluss
# cluster and a QuickFIX/J counterparty — started from here.)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    else
        echo "tools/test.sh: cargo not found: install Rust (https://rustup.rs) first" >&2
        exit 2
    fi
fi

echo "== cargo $(cargo --version | cut -d' ' -f2), $(nproc) cores"
# The debug profile (opt-level 1, overflow checks on) keeps the suite fast on 2 cores.
cargo test --workspace --locked "$@"

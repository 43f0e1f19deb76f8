#!/usr/bin/env bash
# Runs the whole TradeEngine test suite on a fresh machine: checks the
# toolchain, installs what the tests need (promtool, a JDK and Maven), then builds and runs
# every test of every workspace member. The FIX integration tests start
# their own QuickFIX/J Executor (tools/fix/executor.sh) and the Fluss tests
# their own local cluster (tools/fluss/cluster.sh: ZooKeeper, coordinator,
# tablet server) on free loopback ports; this script installs what that
# needs (a JDK, Maven) and resolves their jars once.
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

# promtool (Debian package `prometheus`) validates the metrics exposition.
if ! command -v promtool >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing promtool (Debian package prometheus)"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    else
        echo "tools/test.sh: promtool not found and cannot install it (needs root and apt-get): install the Debian package prometheus" >&2
        exit 2
    fi
fi

# A JDK and Maven run the FIX counterparty of the integration tests (the
# QuickFIX/J Executor, resolved from Maven Central by tools/fix/pom.xml).
if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing a JDK and Maven (Debian packages default-jdk-headless maven)"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jdk-headless maven >/dev/null
    else
        echo "tools/test.sh: java and mvn are needed (a JDK 17 and Maven): install them first" >&2
        exit 2
    fi
fi
echo "== resolving the QuickFIX/J Executor and the Fluss server (Maven Central)"
tools/fix/executor.sh classpath >/dev/null
tools/fluss/cluster.sh classpath >/dev/null

echo "== cargo $(cargo --version | cut -d' ' -f2), $(nproc) cores, $(promtool --version 2>&1 | head -n 1), $(java -version 2>&1 | head -n 1)"
# The debug build of every test binary needs a few GB (a linker killed by a
# bus error is usually a full disk): say how much there is before it starts.
echo "== disk free for target/: $(df -h . | awk 'NR == 2 { print $4 }')"
# The debug profile (opt-level 1, overflow checks on) keeps the suite fast on 2 cores.
# `--features fluss` builds the Fluss store into the engine (off by default
# to keep the core build fast) so its tests run against the real cluster.
cargo test --workspace --locked --features fluss "$@"

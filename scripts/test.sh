#!/usr/bin/env bash
# Runs every test of Meta Monitor on a fresh Debian/Ubuntu machine: installs what is missing,
# then the UI's type check, lint, unit tests and build; Rust format and lints; the whole
# workspace's tests (unit, simulator, CLI end to end, the real keychain, the real window through
# WebDriver, the installed .deb, a real Prometheus and Alertmanager); the packages, installed
# and removed; and the month-of-history test, optimized. Nothing is skipped: CI=1.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=1
export PATH="$HOME/.cargo/bin:$PATH"

scripts/setup-debian.sh

echo "== ui";      (cd ui && npm run --silent check && npm run --silent lint && npm run --silent test && npm run --silent build)
echo "== format";  cargo fmt --all -- --check
echo "== clippy";  cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== build";   cargo build --workspace --locked
# The .deb and .rpm (release), installed for real: the tests start the installed app.
echo "== package"; scripts/package.sh && scripts/check-package.sh install
echo "== tests";   cargo test --workspace --locked
echo "== remove";  scripts/check-package.sh remove
# A month of history for 20 accounts is a million scheduler steps: run optimized, with the
# package's features so that the release build above is reused.
echo "== history"; cargo test --release --locked --features tauri/custom-protocol --test history
echo "== all tests passed"

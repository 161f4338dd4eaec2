#!/usr/bin/env bash
# Catalog benchmarks: a 100,000-row feed import and a 10,000-product bulk sync against the
# simulator, each against a baseline measured in the same run (see tests/benches/catalog.rs).
# Needs what scripts/setup-debian.sh installs (GNOME Keyring for the CLI's token).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
exec cargo bench --locked -p meta-monitor-e2e --bench catalog

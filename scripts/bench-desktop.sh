#!/usr/bin/env bash
# The desktop benchmarks: release binary size, launch to first painted tiles and the memory
# of the app with its WebKit processes over MINUTES of demo monitoring (default 10), each
# against a minimal Tauri window built in the same run. Needs what scripts/setup-debian.sh
# installs. `scripts/bench-desktop.sh 120` gives the two-hour figure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
(cd ui && npm run --silent build)
BENCH_MINUTES="${1:-10}" exec cargo bench --locked -p meta-monitor-e2e --bench desktop

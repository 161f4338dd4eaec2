#!/usr/bin/env bash
# Feed-source benchmarks: a 100,000-product RSS feed run by the release CLI against the
# simulator — parse + validate + diff time and peak memory, and the calls a 1 % change makes
# against the minimum (see tests/benches/feeds.rs). Needs what scripts/setup-debian.sh installs
# (GNOME Keyring for the CLI's token).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
exec cargo bench --locked -p meta-monitor-e2e --bench feeds

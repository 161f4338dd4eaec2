#!/usr/bin/env bash
# Opens the Meta Monitor desktop app on a fresh Debian/Ubuntu desktop: installs what it needs
# (scripts/setup-debian.sh), builds the window's front end and starts the app — in demo mode
# against the built-in simulator when no account is configured. Arguments go to the app
# (e.g. `scripts/run.sh --demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/setup-debian.sh
(cd ui && npm run --silent build)
exec cargo run --release --locked -p meta-monitor-desktop -- "$@"

#!/usr/bin/env bash
# Installs what building and testing Meta Monitor needs on a fresh Debian 12 / Ubuntu machine:
# WebKitGTK for the window, Xvfb + WebKitWebDriver + tauri-driver for the WebDriver tests,
# D-Bus + GNOME Keyring + secret-tool for the real keychain, Prometheus + Alertmanager for the
# deploy kit's tests, the appindicator headers and rpm the packaging needs, Python's venv for
# the official SDKs' conformance run, and the window's npm packages.
# Idempotent; skips what is there.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  build-essential pkg-config libwebkit2gtk-4.1-dev
  libfontconfig-dev fonts-dejavu-core libayatana-appindicator3-1 libayatana-appindicator3-dev
  xvfb xauth webkit2gtk-driver dbus gnome-keyring libsecret-tools procps dunst
  prometheus prometheus-alertmanager rpm desktop-file-utils python3 python3-venv
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked --quiet
fi

# The window's front end builds with Node.js ≥ 20.19 (Vite 8); Debian 12's own nodejs is 18.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then
  echo "setup: Node.js >= 20.19 is needed for ui/ (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -d "$here/ui/node_modules" ] || [ "$here/ui/package-lock.json" -nt "$here/ui/node_modules/.package-lock.json" ]; then
  echo "setup: installing the UI's npm packages"
  npm ci --prefix "$here/ui" --no-audit --no-fund --loglevel=error
fi

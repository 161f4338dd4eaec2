#!/usr/bin/env bash
# Builds the installable packages of Meta Monitor with the Tauri CLI (the npm package
# @tauri-apps/cli, a prebuilt binary pinned in ui/package.json): the release desktop app and the
# `meta-monitor` command line, bundled into a .deb and an .rpm in target/release/bundle/
# (under $CARGO_TARGET_DIR when it is set).
# The UI is built by tauri.conf.json's beforeBuildCommand.
#
#   scripts/package.sh               # .deb and .rpm
#   scripts/package.sh appimage      # also an AppImage: its bundler downloads linuxdeploy and
#                                    # its plugins from GitHub at build time, so it needs that
#                                    # network (not available on the project's CI machines)
#
# Icons: every file in icons/ comes from icons/source.svg (1024 px):
#   ui/node_modules/.bin/tauri icon icons/source.svg -o icons   (then drop android/ and ios/)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bundles="deb,rpm"
if [ "${1:-}" = "appimage" ]; then bundles="deb,rpm,appimage"; fi

if [ ! -x ui/node_modules/.bin/tauri ]; then
  npm ci --prefix ui --no-audit --no-fund --loglevel=error
fi

target="${CARGO_TARGET_DIR:-$PWD/target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
# tauri.conf.json names the CLI at target/release/meta-monitor; wherever the target directory
# is, this overlay (merged into the config as a JSON merge patch) names the real file.
cli="$target/release/meta-monitor"
overlay=$(printf '{"bundle":{"linux":{"deb":{"files":{"/usr/bin/meta-monitor":"%s"}},"rpm":{"files":{"/usr/bin/meta-monitor":"%s"}}}}}' "$cli" "$cli")

started=$(date +%s)
# `tauri build` compiles every binary of the workspace (`cargo build --bins --release
# --features tauri/custom-protocol`), so the command line the package carries
# (tauri.conf.json > bundle > linux > */files) is built in the same run, with the same features.
ui/node_modules/.bin/tauri build --ci --bundles "$bundles" --config "$overlay" -- --locked
echo "package: built in $(( $(date +%s) - started )) s"
for f in "$target"/release/bundle/deb/*.deb "$target"/release/bundle/rpm/*.rpm \
         "$target"/release/bundle/appimage/*.AppImage; do
  if [ -e "$f" ]; then echo "package: $f ($(du -k "$f" | cut -f1) KiB)"; fi
done

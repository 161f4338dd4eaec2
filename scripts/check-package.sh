#!/usr/bin/env bash
# The packages, installed for real (run by scripts/test.sh after scripts/package.sh):
#   scripts/check-package.sh install   # installs the .deb with apt, checks that the binaries,
#                                      # the .desktop entry, the icons, the licenses and the
#                                      # unit are where a desktop and systemd expect them, and
#                                      # that the .rpm carries the same files
#   scripts/check-package.sh remove    # removes it with dpkg -r and checks nothing is left
# The installed app itself is started by tests/tests/installed_package.rs (under Xvfb,
# through WebDriver) between the two.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

target="${CARGO_TARGET_DIR:-target}"
deb=$(ls "$target"/release/bundle/deb/*.deb)
rpm=$(ls "$target"/release/bundle/rpm/*.rpm)
expected=(
  /usr/bin/meta-monitor-desktop
  /usr/bin/meta-monitor
  "/usr/share/applications/Meta Monitor.desktop"
  /usr/share/icons/hicolor/32x32/apps/meta-monitor-desktop.png
  /usr/share/icons/hicolor/128x128/apps/meta-monitor-desktop.png
  /usr/share/icons/hicolor/512x512/apps/meta-monitor-desktop.png
  /usr/share/licenses/meta-monitor/LICENSE-MIT
  /usr/share/licenses/meta-monitor/LICENSE-APACHE
  /usr/lib/systemd/system/meta-monitor.service
  /usr/share/meta-monitor/deploy/prometheus/meta-monitor.rules.yml
)
fail() { echo "check-package: $*" >&2; exit 1; }

case "${1:-}" in
  install)
    depends=$(dpkg-deb -f "$deb" Depends)
    for dep in libwebkit2gtk-4.1-0 libgtk-3-0 appindicator3-1; do
      grep -q "$dep" <<<"$depends" || fail "the .deb does not depend on $dep: $depends"
    done
    grep -q gnome-keyring <<<"$(dpkg-deb -f "$deb" Recommends)" \
      || fail "the .deb does not recommend a Secret Service provider"
    started=$(date +%s%N)
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$(realpath "$deb")" >/dev/null
    echo "check-package: installed in $(( ($(date +%s%N) - started) / 1000000 )) ms"
    listed=$(dpkg -L meta-monitor)
    for f in "${expected[@]}"; do
      grep -qxF "$f" <<<"$listed" || fail "dpkg -L does not list $f"
      [ -e "$f" ] || fail "$f is listed but not installed"
    done
    [ -x /usr/bin/meta-monitor-desktop ] && [ -x /usr/bin/meta-monitor ] || fail "binaries not executable"
    desktop-file-validate "/usr/share/applications/Meta Monitor.desktop" \
      || fail "the .desktop entry is invalid"
    /usr/bin/meta-monitor --version | grep -q "meta-monitor" || fail "the installed CLI does not run"
    verify=$(systemd-analyze verify /usr/lib/systemd/system/meta-monitor.service 2>&1) \
      && [ -z "$verify" ] || fail "systemd-analyze verify: $verify"
    # The .rpm carries the same files.
    rpm_files=$(rpm -qpl "$rpm" 2>/dev/null)
    for f in "${expected[@]}"; do
      grep -qxF "$f" <<<"$rpm_files" || fail "rpm -qpl does not list $f"
    done
    echo "check-package: $(basename "$deb") $(( $(stat -c %s "$deb") / 1024 )) KiB," \
      "$(basename "$rpm") $(( $(stat -c %s "$rpm") / 1024 )) KiB," \
      "installed $(dpkg-query -W -f='${Installed-Size}' meta-monitor) KiB"
    ;;
  remove)
    $SUDO dpkg -r meta-monitor >/dev/null
    if dpkg-query -W -f='${Status}' meta-monitor 2>/dev/null | grep -q "ok installed"; then
      fail "still installed after dpkg -r"
    fi
    for f in "${expected[@]}"; do
      [ ! -e "$f" ] || fail "$f is left after dpkg -r"
    done
    echo "check-package: removed cleanly"
    ;;
  *)
    echo "usage: scripts/check-package.sh install|remove" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# What WebKitGTK's web process keeps, hours of load in minutes: the soak page (ui/src/soak.ts)
# in WebKit's own MiniBrowser — the same WebKitGTK the app links, software rendering as the app
# uses — one display per mode, the web process's RSS sampled every 30 s for MINUTES (default 10):
#   app        the real window's components, ten minutes of demo tiles a second;
#   recurring  20 short texts replaced ten times a second, from 50 that come back;
#   unique     the same, every text new.
# Needs what scripts/setup-debian.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
browser="$(ls /usr/lib/*/webkit2gtk-4.1/MiniBrowser | head -n 1)"
(cd ui && node_modules/.bin/vite build --config vite.soak.config.ts --logLevel error)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
(cd ui && exec node_modules/.bin/vite preview --config vite.soak.config.ts --host 127.0.0.1 --port "$port" --strictPort) >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/soak.html" >/dev/null && break; sleep 0.1; done

modes=(app recurring unique)
declare -A web
display=$((200 + RANDOM % 100))
for mode in "${modes[@]}"; do
  display=$((display + 1))
  Xvfb ":$display" -screen 0 1280x800x24 >/dev/null 2>&1 &
  pids+=($!)
  sleep 1
  DISPLAY=":$display" WEBKIT_DISABLE_COMPOSITING_MODE=1 setsid dbus-run-session -- \
    "$browser" "http://127.0.0.1:$port/soak.html?mode=$mode" >/dev/null 2>&1 &
  pids+=($!)
  session=$!
  for _ in $(seq 100); do
    browser_pid="$(pgrep -P "$session" -f MiniBrowser || true)"
    [ -n "$browser_pid" ] && web[$mode]="$(pgrep -P "$browser_pid" WebKitWebProces || true)"
    [ -n "${web[$mode]:-}" ] && break
    sleep 0.2
  done
  [ -n "${web[$mode]:-}" ] || { echo "no web process for $mode" >&2; exit 1; }
  pids+=("${web[$mode]}" "$browser_pid")
done
sleep 10

rss() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
declare -A first last
printf '%6s' second; for mode in "${modes[@]}"; do printf '  %14s' "${mode}_rss_mib"; done; echo
for ((s = 0; s <= minutes * 60; s += 30)); do
  printf '%6d' "$s"
  for mode in "${modes[@]}"; do
    value="$(rss "${web[$mode]}")"
    first[$mode]="${first[$mode]:-$value}"
    last[$mode]="$value"
    printf '  %14s' "$value"
  done
  echo
  [ "$s" -lt $((minutes * 60)) ] && sleep 30
done
for mode in "${modes[@]}"; do
  awk -v m="$mode" -v a="${first[$mode]}" -v b="${last[$mode]}" \
    'BEGIN { printf "%s: web process RSS %.1f -> %.1f MiB (%+.1f)\n", m, a, b, b - a }'
done

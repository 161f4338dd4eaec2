#!/usr/bin/env bash
# The official Python SDK (facebook-business, from PyPI, in a throw-away virtualenv) beside our
# customer-data normalization:
#   scripts/capi-sdk.sh fixtures   re-derives the SDK's answers in tests/fixtures/capi/ (the case
#                                  table and 2,000 random inputs)
#   scripts/capi-sdk.sh bench      1,000,000 records of 9 fields, ours vs the SDK, same file, same run
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet 'facebook-business>=26,<27'

case "${1:-}" in
  fixtures)
    "$venv/bin/python" tests/fixtures/capi/sdk_normalize.py tests/fixtures/capi/normalize-cases.json
    "$venv/bin/python" tests/fixtures/capi/sdk_random.py tests/fixtures/capi/sdk-random.json
    ;;
  bench)
    records="$(dirname "$venv")/records.jsonl"
    CAPI_RECORDS="$records" cargo bench --locked -q -p meta-monitor-e2e --bench capi | tee "$records.ours"
    "$venv/bin/python" tests/fixtures/capi/sdk_bench.py "$records" | tee "$records.sdk"
    ours=$(awk '/^ours_ns_per_record/ {print $2}' "$records.ours")
    floor=$(awk '/^sha256x9_ns_per_record/ {print $2}' "$records.ours")
    sdk=$(awk '/^sdk_ns_per_record/ {print $2}' "$records.sdk")
    [ "$(awk '/first_em_hash/ {print $2}' "$records.ours")" = "$(awk '/first_em_hash/ {print $2}' "$records.sdk")" ] \
      || { echo "the first record's e-mail hash differs from the SDK's" >&2; exit 1; }
    awk -v o="$ours" -v s="$sdk" -v f="$floor" 'BEGIN {
      printf "per record: ours %d ns, Python SDK %d ns (%.1fx faster), 9 x SHA-256 %d ns (ours = %.2fx that floor)\n", o, s, s / o, f, o / f }'
    ;;
  *)
    echo "usage: scripts/capi-sdk.sh fixtures|bench" >&2
    exit 2
    ;;
esac

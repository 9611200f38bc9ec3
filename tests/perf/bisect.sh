#!/usr/bin/env bash
# Benchmark: the wall time of one bisection over 8 commits. The fixture's
# mm-unstable (tests/integration/nightly-fixture.sh) after its rebase: 8
# commits after the merge base with the old head, the 6th slowing swap-out.
# `swapbench bisect` with the nightly's defaults (SPRT, alpha = beta = 0.01,
# 2..12 iterations in batches of 2, ends 5 iterations each), on one anon
# cell on zram, of the workload's elapsed time (--metric M: another). Prints steps, kernel builds, cells, seconds, and the machine
# load. Uses the shared kernel cache (incremental builds of one work tree
# are what a nightly sees); the fixture's commits get fresh ids
# (SB_FIXTURE_SALT) so that every step really builds, and the kernel work
# tree made for the fixture is removed at the end (--keep keeps it and the
# output). Asserts only that the right commit was found.
#   tests/perf/bisect.sh [--slow-patch FILE] [--metric M] [--keep]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${SWAPBENCH:-build/swapbench}")
slow=() keep=0 metric=elapsed
while [ $# -gt 0 ]; do
  case $1 in
    --slow-patch) slow=(--slow-patch "$2"); shift 2 ;;
    --metric) metric=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: tests/perf/bisect.sh [--slow-patch FILE] [--metric M] [--keep]" >&2; exit 2 ;;
  esac
done
"$bin" kernel source 6.12 >/dev/null
out=$(mktemp -d /tmp/swapbench-bisect-perf-XXXXXX)
export SB_FIXTURE_SALT=${SB_FIXTURE_SALT:-perf-$(date +%s)-$$}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/swapbench
# Only the work tree whose clone borrows from this run's fixture.
cleanup() {
  local w a
  for w in "$cache"/work/*/; do
    a=$w/src/.git/objects/info/alternates
    if [ -f "$a" ] && grep -q "^$out/fx/" "$a"; then rm -rf "${w%/}" "${w%/}.lock"; fi
  done
  rm -rf "$out"
}
[ $keep = 1 ] || trap cleanup EXIT
good=$(tests/integration/nightly-fixture.sh "$out/fx" init)
bad=$(tests/integration/nightly-fixture.sh "$out/fx" advance "${slow[@]}")
want=$(cat "$out/fx/slow-commit")
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s.%N)
nice -n 10 "$bin" bisect --tree "$out/fx/tree" --good "$good" --bad "$bad" \
  --suite tests/integration/specs/nightly-suite.json --metric "$metric" \
  --topology zram --workload anon --out "$out/bisect" >"$out/report.txt" 2>"$out/bisect.log"
t1=$(date +%s.%N)
cat "$out/report.txt"
echo
jq -r --arg wall "$(echo "$t1 - $t0" | bc)" --arg load0 "$load0" \
  --arg load1 "$(cut -d' ' -f1-3 /proc/loadavg)" --arg want "$want" '
  "bisect over \(.commits | length) commits: \(.totals.steps) steps (\([.steps[] | select(.role == "midpoint")] | length) midpoints, ends and merge base included), \(.totals.builds) kernel builds, \(.totals.cells) cells, \($wall | tonumber | floor) s wall",
  "per step: " + ([.steps[] | "\(.role) \(.decision) n=\(.n) build \(.build_s | floor)s total \(.seconds | floor)s"] | join("; ")),
  "found: \(.first_bad.commit[0:12]) (want \($want[0:12])); load before \($load0), after \($load1)"' \
  "$out/bisect/bisect.json"
[ "$(jq -r .first_bad.commit "$out/bisect/bisect.json")" = "$want" ]

#!/usr/bin/env bash
# Benchmark: swapbench compare of two runs of N cells each (default 10,000:
# 2 kernels x 50 topologies x 20 workloads x 5 iterations), realistic-size
# result.json files. Prints time and peak memory for the first compare
# (index rebuilt from every result.json) and a second one (index reused).
#   tests/perf/compare-scale.sh [TOPOLOGIES WORKLOADS ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${SWAPBENCH:-build/swapbench}
gen=${GEN:-build/tests/perf_gen_run}
nt=${1:-50} nw=${2:-20} ni=${3:-5}
out=$(mktemp -d /tmp/swapbench-cmpscale-XXXXXX)
trap 'rm -rf "$out"' EXIT
t0=$(date +%s.%N)
"$gen" "$out/a" before 2 "$nt" "$nw" "$ni" 1 &
"$gen" "$out/b" after 2 "$nt" "$nw" "$ni" 2 &
wait
t1=$(date +%s.%N)
cells=$(( 2 * nt * nw * ni ))
echo "two runs of $cells cells each ($(du -sh "$out/a" | cut -f1) per run), generated in $(printf '%.1f' "$(echo "$t1 - $t0" | bc -l)") s"
measure() {
  /usr/bin/time -f "%e %M" -o "$out/time" "$bin" compare "$out/a" "$out/b" --json >/dev/null
  read -r secs kb < "$out/time"
  printf '%-44s %8.3f s  %8.1f MiB peak RSS\n' "$1" "$secs" "$(echo "$kb / 1024" | bc -l)"
}
measure "compare A B, cold (index rebuilt from cells):"
measure "compare A B, warm (summary.json index):"
measure "compare A B, warm again:"

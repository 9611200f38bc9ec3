#!/usr/bin/env bash
# Per-cell overhead of the Slurm executor against a local run: the same
# spec (default tests/integration/specs/slurm.json) run N times each way,
# interleaved (local, slurm, local, ...), on a one-node cluster started by
# tests/integration/slurm-cluster.sh. Prints wall time per run and per cell
# and the difference. Usage: tests/perf/slurm-overhead.sh [BUILD_DIR] [N] [SPEC]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
n=${2:-2}
spec=${3:-$root/tests/integration/specs/slurm.json}
tmp=$(mktemp -d /tmp/swapbench-slurm-perf-XXXXXX)
trap '"$root/tests/integration/slurm-cluster.sh" stop "$tmp/cluster"; rm -rf "$tmp"' EXIT
"$root/tests/integration/slurm-cluster.sh" start "$tmp/cluster"
export SLURM_CONF=$tmp/cluster/slurm.conf
cells=$("$build/swapbench" run "$spec" --dry-run 2>/dev/null | wc -l)
echo "spec $spec: $cells cells; load: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -a local_t slurm_t
for i in $(seq 1 "$n"); do
	for mode in local slurm; do
		args=()
		[ "$mode" = slurm ] && args=(--executor slurm --max-parallel 1)
		t0=$(date +%s.%N)
		"$build/swapbench" run "$spec" --out "$tmp/$mode-$i" "${args[@]}" >/dev/null 2>&1 ||
			echo "  ($mode run $i exited $?)"
		t=$(echo "$(date +%s.%N) - $t0" | bc)
		printf '%-6s run %d: %6.1f s  (%5.1f s per cell)  load %s\n' "$mode" "$i" "$t" \
			"$(echo "$t / $cells" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
		if [ "$mode" = local ]; then local_t+=("$t"); else slurm_t+=("$t"); fi
	done
done
l=$(printf '%s\n' "${local_t[@]}" | awk '{ s += $1 } END { print s / NR }')
s=$(printf '%s\n' "${slurm_t[@]}" | awk '{ s += $1 } END { print s / NR }')
printf 'mean: local %.1f s, slurm %.1f s; Slurm overhead %.1f s per cell\n' "$l" "$s" \
	"$(echo "($s - $l) / $cells" | bc -l)"

#!/usr/bin/env bash
# Benchmark: boot-to-agent time and per-cell overhead (everything but the
# workload) per kernel. Prints numbers; asserts nothing.
#   tests/perf/boot-overhead.sh [--accel auto|kvm|tcg] [--iterations N]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${SWAPBENCH:-build/swapbench}
out=$(mktemp -d /tmp/swapbench-perf-XXXXXX)
trap 'rm -rf "$out"' EXIT
start=$(date +%s.%N)
if ! "$bin" run tests/perf/boot.json --out "$out/run" "$@" >"$out/log" 2>&1; then
  cat "$out/log" >&2; exit 1
fi
end=$(date +%s.%N)
accel=$(jq -r .accel.used "$out/run/run.json")
echo "accelerator: $accel   host: $(nproc) cpus, $(uname -r)   qemu: $(jq -r .qemu_version "$out/run/run.json")"
printf '%-8s %4s %22s %22s %22s %22s\n' kernel n "boot-to-agent s (host)" "agent uptime s (guest)" "cell overhead s" "vm wall s"
for k in $(jq -r '.kernels[].name' "$out/run/run.json"); do
  jq -rs --arg k "$k" '
    def st(f): (map(f) | (add/length) as $m | [$m, (if length>1 then (map((.-$m)*(.-$m))|add/(length-1)|sqrt) else 0 end)]);
    map(select(.kernel==$k and .status=="ok")) as $c |
    [$k, ($c|length),
     ($c|st(.host.boot_to_agent_s)), ($c|st(.uptime_at_agent)),
     ($c|st(.host.vm_wall_s - .workload_s)), ($c|st(.host.vm_wall_s))] |
    "\(.[0]) \(.[1]) \(.[2][0]) \(.[2][1]) \(.[3][0]) \(.[3][1]) \(.[4][0]) \(.[4][1]) \(.[5][0]) \(.[5][1])"' \
    "$out"/run/cells/*/result.json |
  awk '{printf "%-8s %4d %14.2f +- %5.2f %14.2f +- %5.2f %14.2f +- %5.2f %14.2f +- %5.2f\n", $1,$2,$3,$4,$5,$6,$7,$8,$9,$10}'
done
printf 'whole run: %.1f s\n' "$(echo "$end - $start" | bc -l 2>/dev/null || echo 0)"

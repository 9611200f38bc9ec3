#!/usr/bin/env bash
# Benchmark: boot-to-agent time, guest uptime at the agent and per-cell
# overhead (everything but the workload) per kernel, for each boot step of
# vm.fast_boot (docs/boot.md) added one at a time: "none" is how cells
# booted before the steps, each next row adds one step. The variants run
# interleaved (iteration 1 of every variant, then iteration 2, ...), so a
# change in machine load hits them all alike; the load average is printed
# with every figure. Prints numbers; asserts nothing.
#   tests/perf/boot-overhead.sh [--iterations N] [--steps none,pvh,...] [--spec FILE]
#                               [--rows FILE] [swapbench run options, e.g. --accel tcg]
# --rows FILE keeps the per-cell rows (JSON lines, with the load at each run).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${SWAPBENCH:-build/swapbench}
iterations=3
spec=tests/perf/boot.json
all_steps=(none pvh lean_machine lean_initramfs parallel_modules quick_cmdline)
steps=("${all_steps[@]}")
pass=()
rows_copy=
while [ $# -gt 0 ]; do
  case $1 in
    --iterations) iterations=$2; shift 2 ;;
    --steps) IFS=, read -r -a steps <<<"$2"; shift 2 ;;
    --spec) spec=$2; shift 2 ;;
    --rows) rows_copy=$2; shift 2 ;;
    *) pass+=("$1"); shift ;;
  esac
done
for st in "${steps[@]}"; do
  ok=0; for a in "${all_steps[@]}"; do [ "$a" = "$st" ] && ok=1; done
  [ $ok = 1 ] || { echo "boot-overhead.sh: unknown step '$st' (known: ${all_steps[*]})" >&2; exit 2; }
done
out=$(mktemp -d /tmp/swapbench-perf-XXXXXX)
failed=0
# Kept when a run failed, for its consoles.
trap '[ $failed = 0 ] && rm -rf "$out"' EXIT

# The spec of a variant: the steps up to and including $1 on, the rest off
# (in the order of all_steps, whichever of them --steps picked).
variant_spec() {
  local upto=$1 on=1 obj="{}"
  for a in "${all_steps[@]:1}"; do
    [ "$upto" = none ] && on=0
    obj=$(jq -c --arg k "$a" --argjson v $([ $on = 1 ] && echo true || echo false) '.[$k]=$v' <<<"$obj")
    [ "$a" = "$upto" ] && on=0
  done
  jq --argjson fb "$obj" '.vm.fast_boot=$fb | .iterations=1' "$spec" >"$out/spec-$upto.json"
}
for st in "${steps[@]}"; do variant_spec "$st"; done

start=$(date +%s.%N)
for it in $(seq "$iterations"); do
  for st in "${steps[@]}"; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    rc=0
    "$bin" run "$out/spec-$st.json" --out "$out/$st-$it" "${pass[@]}" >"$out/log-$st-$it" 2>&1 || rc=$?
    if [ $rc != 0 ]; then
      # Exit 3 (a cell failed, e.g. timed out on a starved host) still
      # leaves the other cells; anything else is the benchmark's failure.
      failed=1
      echo "step '$st' iteration $it: swapbench exit $rc (load $load; kept in $out/$st-$it)" >&2
      [ $rc = 3 ] || { cat "$out/log-$st-$it" >&2; exit 1; }
    fi
    # The load at the start of each run goes with each of its cells.
    for r in "$out/$st-$it"/cells/*/result.json; do
      jq -c --arg st "$st" --argjson load "$load" '{step:$st, load:$load, kernel, status,
        b2a:.host.boot_to_agent_s, up:.uptime_at_agent, setup:.setup_s,
        over:(if .workload_s then .host.vm_wall_s - .workload_s else null end),
        image:.host.boot.image}' "$r" >>"$out/rows.jsonl"
    done
  done
done
end=$(date +%s.%N)
[ -n "$rows_copy" ] && cp "$out/rows.jsonl" "$rows_copy"

for first in "$out"/*-1; do [ -d "$first" ] && break; done
echo "accelerator: $(jq -r .accel.used "$first/run.json")   host: $(nproc) cpus, $(uname -r)   qemu: $(jq -r .qemu_version "$first/run.json")"
echo "steps are cumulative: each row adds its step to the rows above; n = ok cells"
echo "cells not ok: $(jq -s 'map(select(.status != "ok")) | length' "$out/rows.jsonl")"
printf '%-7s %-17s %3s %20s %20s %20s %11s\n' kernel "step (+)" n "boot-to-agent s" "uptime@agent s" "cell overhead s" "load avg"
for k in $(jq -r '.kernels[].name' "$spec"); do
  for st in "${steps[@]}"; do
    jq -rs --arg k "$k" --arg st "$st" '
      def st(f): (map(f) | if length == 0 then [0, 0] else (add/length) as $m |
        [$m, (if length>1 then (map((.-$m)*(.-$m))|add/(length-1)|sqrt) else 0 end)] end);
      map(select(.kernel==$k and .step==$st and .status=="ok")) as $c |
      [$k, $st, ($c|length), ($c|st(.b2a)), ($c|st(.up)), ($c|st(.over)),
       ($c|map(.load)|if length==0 then [0,0] else [min,max] end),
       ($c|map(.image)|unique|join("/"))] |
      "\(.[0]) \(.[1]) \(.[2]) \(.[3][0]) \(.[3][1]) \(.[4][0]) \(.[4][1]) \(.[5][0]) \(.[5][1]) \(.[6][0]) \(.[6][1]) \(.[7])"' \
      "$out/rows.jsonl" |
    awk '{printf "%-7s %-17s %3d %11.2f +- %5.2f %11.2f +- %5.2f %11.2f +- %5.2f %5.1f-%-5.1f %s\n", $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12}'
  done
done
printf 'whole benchmark: %.1f s (%d iterations x %d steps)\n' "$(echo "$end - $start" | bc -l)" "$iterations" "${#steps[@]}"

#!/usr/bin/env bash
# Benchmark: kernels built from source (docs/kernels.md). Prints, for
# tinyconfig + configs/kernel/swapbench.config on Debian's linux-source-7.3
# (cache:linux-7.3; --series 6.12 for the older tree):
#   cold          empty build cache, empty ccache, new work tree
#   one-line      the same variant plus a one-line patch: the work tree and
#                 make O= directory are reused (make's incremental build)
#   ccache        that patched kernel as a new variant with another local
#                 version (else it would be a cache hit: the cache is by
#                 content, not by name): new work tree, objects from ccache
#   cache hit     the same spec again: no git work, no make
#   two-variant   a spec with both the base and the patched variant, as
#                 configs/suites/variants-ci.json: both cached
# Uses a private cache and ccache directory (removed at the end), so it
# measures a first build whatever the machine has cached. Asserts nothing.
# The source tree itself is the shared one (made once by `swapbench kernel
# source`, not timed here).
#   tests/perf/kernel-build.sh [--jobs N] [--series 7.3|6.12]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "${SWAPBENCH:-build/swapbench}")
jobs=()
series=7.3
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs=(--jobs "$2"); shift 2 ;;
    --series) series=$2; shift 2 ;;
    *) echo "usage: $0 [--jobs N] [--series 7.3|6.12]" >&2; exit 2 ;;
  esac
done

"$bin" kernel source "$series" >/dev/null
tree=$("$bin" kernel source "$series" --print)
if [ "$series" = 6.12 ]; then
  patch=$(realpath configs/patches/0001-swapfile-ci-patched-marker.patch)
else
  patch=$(realpath "configs/patches/0001-swapfile-ci-patched-marker-$series.patch")
fi
out=$(mktemp -d /tmp/swapbench-kbuild-perf-XXXXXX)
trap 'rm -rf "$out"' EXIT
export XDG_CACHE_HOME=$out/cache CCACHE_DIR=$out/ccache

spec() { # NAME VARIANT PATCHES-JSON [LOCALVERSION]
  local lv=""
  [ -n "${4:-}" ] && lv=", \"localversion\": \"$4\""
  cat >"$out/$1.json" <<EOF
{ "kernels": [ { "name": "$2", "git": { "tree": "$tree", "ref": "v$series-debian",
                 "patches": $3 },
               "config": { "base": "tinyconfig", "fragments": ["swapbench"] }
               $lv } ],
  "topologies": ["zram"], "workloads": [ { "kind": "anon" } ] }
EOF
  echo "$out/$1.json"
}

timed() { # LABEL SPEC
  local t0 t1
  t0=$(date +%s.%N)
  if ! "$bin" kernel build "$2" "${jobs[@]}" >"$out/log" 2>&1; then
    cat "$out/log" >&2; exit 1
  fi
  t1=$(date +%s.%N)
  printf '%-12s %8.2f s   %s\n' "$1" "$(echo "$t1 - $t0" | bc -l)" \
    "$(grep -E ' (built|cached) ' "$out/log" | awk '{print $3, $2}' | tr '\n' ' ')"
}

echo "host: $(nproc) cpus, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg);" \
     "$(gcc --version | head -1); tree linux-$series;" \
     "ccache: $(command -v ccache >/dev/null && ccache --version | head -1 || echo none)"
timed cold "$(spec base perf '[]')"
timed one-line "$(spec patched perf "[\"$patch\"]")"
command -v ccache >/dev/null && ccache -z >/dev/null
timed ccache "$(spec other perf-ccache "[\"$patch\"]" -ccache)"
if command -v ccache >/dev/null; then
  ccache --show-stats 2>/dev/null | grep -E '^ *(Hits|Misses):' | head -2 |
    sed 's/^ */  ccache, that build: /'
fi
timed "cache hit" "$out/other.json"
cat >"$out/two.json" <<EOF
{ "kernels": [
    { "name": "perf", "git": { "tree": "$tree", "ref": "v$series-debian", "patches": [] },
      "config": { "base": "tinyconfig", "fragments": ["swapbench"] } },
    { "name": "perf-ccache", "git": { "tree": "$tree", "ref": "v$series-debian",
      "patches": ["$patch"] }, "localversion": "-ccache",
      "config": { "base": "tinyconfig", "fragments": ["swapbench"] } } ],
  "topologies": ["zram"], "workloads": [ { "kind": "anon" } ] }
EOF
timed two-variant "$out/two.json"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

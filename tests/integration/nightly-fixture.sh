#!/usr/bin/env bash
# A local "mm-unstable" for the nightly tests, made offline from the cached
# 6.12 source tree (cache:linux-6.12, swapbench kernel source 6.12).
#
#   nightly-fixture.sh DIR init
#       DIR/upstream: a git clone (--shared) of cache:linux-6.12 with branch
#       mm-unstable = v6.12-debian + 2 harmless commits; DIR/tree: the
#       nightly's tree, a clone of it (remote origin).
#   nightly-fixture.sh DIR advance [--short] [--slow-patch FILE] [--slow-ms N]
#       Rebases mm-unstable the way akpm's tree moves: a new upstream commit
#       under it, the 2 old commits again, then 5 new ones of which the 4th
#       slows the swap-out path. 8 commits after the merge base with the
#       night-1 head. The slow change is FILE (a patch, `git apply`) when
#       given, else an mdelay(N) (default 20 ms) per swap_writepage() call in
#       mm/page_io.c (udelay stops at 20000 us). Under TCG a cell's time
#       varies by 20-70 % on a loaded host, so the slow commit must dominate
#       it: nightly-suite.json swaps out ~2.2k pages, ~44 s more per cell.
#       Prints the slow commit's id to DIR/slow-commit.
#       --short: no rebase, 2 commits on top of the night-1 head, the 2nd
#       the slow one (a bisection of one step, for CI).
#   nightly-fixture.sh DIR break
#       3 more commits on mm-unstable, the 2nd breaking the build (a use of
#       an undeclared identifier in mm/page_io.c). Prints the breaking
#       commit's id to DIR/broken-commit.
#   nightly-fixture.sh DIR crash
#       After break: 4 more commits on mm-unstable: the build fixed, a
#       harmless one, one that makes swapon(2) panic (every cell's guest
#       crashes while it sets up its swap), a harmless one. Prints the
#       crashing commit's id to DIR/crash-commit.
#
# Commit ids are fixed (fixed dates), so a second run finds its kernels in
# the build cache; SB_FIXTURE_SALT=S (env) makes other ids (a trailer in
# every message) for a run that must build them (tests/perf/bisect.sh).
#
# Every commit touches one file, so each bisection step is an incremental
# build of the same work tree (ccache and make's own dependency tracking).
set -euo pipefail

dir=${1:?usage: nightly-fixture.sh DIR init|advance|break|crash [--short] [--slow-patch FILE] [--slow-ms N]}
what=${2:?usage: nightly-fixture.sh DIR init|advance|break|crash}
shift 2
slow_patch= slow_ms=20 short=0
while [ $# -gt 0 ]; do
  case $1 in
    --short) short=1; shift ;;
    --slow-patch) slow_patch=$(realpath "$2"); shift 2 ;;
    --slow-ms) slow_ms=$2; shift 2 ;;
    *) echo "nightly-fixture: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

cache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/swapbench
src=$cache/src/linux-6.12
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Fixture Author" GIT_AUTHOR_EMAIL=fixture@localhost
export GIT_COMMITTER_NAME="Fixture Committer" GIT_COMMITTER_EMAIL=fixture@localhost
up=$dir/upstream
export GIT_INDEX_FILE=$dir/fixture.index
date_n=0 parent=

# Commits are made with plumbing on a bare repository: no checkout of the
# kernel tree. Fixed dates: the same fixture gives the same commit ids.
commit() {
  local tree
  date_n=$((date_n + 1))
  tree=$(git -C "$up" write-tree)
  parent=$(GIT_AUTHOR_DATE="2026-01-01T00:00:${date_n}Z" GIT_COMMITTER_DATE="2026-01-01T00:00:${date_n}Z" \
    git -C "$up" commit-tree "$tree" -p "$parent" -m "$1" ${SB_FIXTURE_SALT:+-m "fixture-salt: $SB_FIXTURE_SALT"})
}

# A harmless change: a comment line at the end of a file.
harmless() {
  local file=$1 subject=$2 blob
  blob=$( { git -C "$up" cat-file -p "$parent:$file"; printf '/* %s */\n' "$subject"; } |
          git -C "$up" hash-object -w --stdin)
  git -C "$up" update-index --cacheinfo "100644,$blob,$file"
  commit "$subject"
}

series_old() {
  harmless mm/swap_state.c "mm: swap_state: note on readahead window"
  harmless Documentation/admin-guide/mm/zswap.rst "docs: zswap: wording"
}

# A TEST commit: FILE becomes BLOB; its id is kept in DIR/NAME.
#   test_commit FILE BLOB SUBJECT NAME
test_commit() {
  git -C "$up" update-index --cacheinfo "100644,$2,$1"
  commit "$3"
  echo "$parent" >"$dir/$4"
}

# mm-unstable moves to the last commit made, whose id is printed.
publish() {
  git -C "$up" update-ref refs/heads/mm-unstable "$parent"
  echo "$parent"
}

start_at() {
  parent=$(git -C "$up" rev-parse "$1^{commit}")
  git -C "$up" read-tree "$parent"
}

case $what in
init)
  [ -d "$src" ] || { echo "nightly-fixture: $src missing: run swapbench kernel source 6.12" >&2; exit 2; }
  rm -rf "$up" "$dir/tree"
  mkdir -p "$dir"
  git clone -q --bare --shared "$src" "$up"
  start_at v6.12-debian
  series_old
  publish
  git clone -q --bare --shared "$up" "$dir/tree"
  ;;
advance)
  date_n=10
  if [ $short = 1 ]; then
    start_at refs/heads/mm-unstable
  else
    start_at v6.12-debian
    harmless mm/swapfile.c "mm: swapfile: upstream moved (Linus's tree)"
    series_old
  fi
  harmless mm/zswap.c "mm: zswap: comment on pool shrinking"
  [ $short = 1 ] ||
    harmless Documentation/admin-guide/mm/concepts.rst "docs: mm: concepts typo"
  if [ -n "$slow_patch" ]; then
    git -C "$up" apply --cached "$slow_patch"
  else
    # The slow swap-out: a busy wait per swap_writepage() call (every page
    # or folio written to swap: zram, zswap, NVMe).
    blob=$(git -C "$up" cat-file -p "$parent:mm/page_io.c" | python3 -c '
import sys
ms = sys.argv[1]
s = sys.stdin.read()
s = s.replace("#include \"swap.h\"\n", "#include \"swap.h\"\n#include <linux/delay.h>\n", 1)
anchor = "int swap_writepage(struct page *page, struct writeback_control *wbc)\n{\n\tstruct folio *folio = page_folio(page);\n\tint ret;\n"
assert anchor in s, "swap_writepage not found"
s = s.replace(anchor, anchor + "\n\tmdelay(%s); /* swapbench test: slow swap-out */\n" % ms, 1)
sys.stdout.write(s)
' "$slow_ms" | git -C "$up" hash-object -w --stdin)
    git -C "$up" update-index --cacheinfo "100644,$blob,mm/page_io.c"
  fi
  commit "mm: page_io: TEST slow down swap-out"
  echo "$parent" >"$dir/slow-commit"
  if [ $short = 0 ]; then
    harmless mm/memcontrol.c "mm: memcg: comment on swap accounting"
    harmless mm/vmscan.c "mm: vmscan: comment on anon aging"
  fi
  publish
  ;;
break)
  date_n=20
  start_at refs/heads/mm-unstable
  harmless mm/swap.c "mm: swap: comment on folio batching"
  blob=$( { git -C "$up" cat-file -p "$parent:mm/page_io.c"
            printf '\nint swapbench_test_broken(void)\n{\n\treturn swapbench_no_such_symbol;\n}\n'; } |
          git -C "$up" hash-object -w --stdin)
  test_commit mm/page_io.c "$blob" "mm: page_io: TEST break the build" broken-commit
  harmless mm/rmap.c "mm: rmap: comment on anon_vma"
  publish
  ;;
crash)
  date_n=30
  start_at refs/heads/mm-unstable
  [ -f "$dir/broken-commit" ] || { echo "nightly-fixture: crash comes after break" >&2; exit 2; }
  # The fix: mm/page_io.c as it was before the breaking commit.
  git -C "$up" update-index --cacheinfo \
    "100644,$(git -C "$up" rev-parse "$(cat "$dir/broken-commit")^:mm/page_io.c"),mm/page_io.c"
  commit "mm: page_io: fix the build"
  harmless mm/filemap.c "mm: filemap: comment on folio lookup"
  blob=$(git -C "$up" cat-file -p "$parent:mm/swapfile.c" | python3 -c '
import sys
s = sys.stdin.read()
anchor = "\tbool inced_nr_rotate_swap = false;\n\n"
i = s.index("SYSCALL_DEFINE2(swapon,")
j = s.index(anchor, i) + len(anchor)
s = s[:j] + "\tpanic(\"swapbench test: swapon panics\");\n" + s[j:]
sys.stdout.write(s)
' | git -C "$up" hash-object -w --stdin)
  test_commit mm/swapfile.c "$blob" "mm: swapfile: TEST panic in swapon" crash-commit
  harmless mm/madvise.c "mm: madvise: comment on MADV_PAGEOUT"
  publish
  ;;
*)
  echo "nightly-fixture: unknown step '$what' (init, advance, break or crash)" >&2; exit 2 ;;
esac

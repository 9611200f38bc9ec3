#!/usr/bin/env bash
# Seven nights against a local "mm-unstable" (nightly-fixture.sh), real
# kernels built from cache:linux-6.12 and booted under qemu:
#   night 1: the first commits: a baseline, exit 0;
#   night 2: the branch advanced and was rebased, one commit slows swap-out:
#            regression, exit 1, bisected to exactly that commit, the database
#            holding both nights and every step;
#   night 3: nothing new: exit 0, nothing built or run.
# Then: history (text, --json, --plot), --rebuild into a new database from
# the night directories, and the faults: a failed fetch (exit 3, no night),
# a newer-schema database (exit 2, untouched), a held lock (exit 4).
# Then night 4: a commit breaks the build: exit 3, reported as a regression
# of the branch, the breaking commit found by a build bisection, the failed
# build's log kept in the night's directory; night 5 on the same head: exit
# 3, "already bisected", nothing built, run or recorded.
# Night 6: the build is fixed, then a commit makes swapon(2) panic: every
# cell crashes: exit 3, reported as a regression of the branch with the
# panic's line, the crashing commit found by a cell bisection (each step
# runs the cell once; the steps that do not build are skipped); night 7 on
# the same head: "already bisected".
#
# Env: SB_BIN (swapbench), SB_SOURCE (source tree), SB_NIGHTLY_OUT (kept for
# test_nightly_html; default a temp dir), SB_SLOW_PATCH (the slow swap-out
# patch; default the fixture's mdelay), SB_NIGHTLY_QUICK=1 (the quick
# variant, opt-in: night 2's branch only grew by a harmless and the slow
# commit, no rebase: a bisection of one step; everything else the same),
# SB_FIXTURE_SALT (new commit ids: every kernel really built, as on a
# fresh machine).
set -euo pipefail

bin=${SB_BIN:?SB_BIN: path of swapbench}
src=${SB_SOURCE:?SB_SOURCE: the source tree}
out=${SB_NIGHTLY_OUT:-$(mktemp -d /tmp/sb-nightly-it-XXXXXX)}
fixture=$src/tests/integration/nightly-fixture.sh
slow_args=()
[ -n "${SB_SLOW_PATCH:-}" ] && slow_args=(--slow-patch "$SB_SLOW_PATCH")
quick=${SB_NIGHTLY_QUICK:-0}
[ "$quick" = 1 ] && slow_args+=(--short)

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $* ($(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg))"; }
q() { sqlite3 "$out/history.db" "$1"; }
cache=${XDG_CACHE_HOME:-$HOME/.cache}/swapbench
# The kernel work tree the nightly made for this test's fixture tree (1.7 GB,
# named after the tree's path): removed once the test passed, it is no use
# to anyone else. Only a work tree whose clone borrows from $out/fx.
remove_work_tree() {
  local w a fx
  fx=$(realpath "$out/fx")
  for w in "$cache"/work/*/; do
    a=$w/src/.git/objects/info/alternates
    if [ -f "$a" ] && grep -q "^$fx/" "$a"; then rm -rf "${w%/}" "${w%/}.lock"; fi
  done
}
# night N CONFIG: run the nightly; its exit code in rc, its report printed
# and kept in $out/nightN.txt (stderr in nightN.err).
night() {
  set +e; "$bin" nightly "$2" >"$out/night$1.txt" 2>"$out/night$1.err"; rc=$?; set -e
  cat "$out/night$1.txt"
}
# A night with nothing to do (night N CONFIG exits WANT and says SAYS):
# no night recorded (the database keeps NIGHTS), nothing built, no night
# directory.
nothing_to_do() {
  local n=$1 config=$2 want=$3 says=$4 nights=$5 builds dirs
  builds=$(ls "$cache/builds" | wc -l)
  dirs=$(ls "$out/nights" | wc -l)
  night "$n" "$config"
  [ $rc = "$want" ] || fail "night $n exited $rc, want $want"
  grep -q "$says" "$out/night$n.txt" || fail "night $n does not say '$says'"
  [ "$(q "SELECT count(*) FROM nights")" = "$nights" ] || fail "night $n was recorded"
  [ "$(ls "$cache/builds" | wc -l)" = "$builds" ] || fail "night $n built a kernel"
  [ "$(ls "$out/nights" | wc -l)" = "$dirs" ] || fail "night $n made a night directory"
}
t0=$(date +%s)

command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 (the CLI) is not installed"; exit 77; }
"$bin" kernel source 6.12 >/dev/null
rm -rf "$out"
mkdir -p "$out"
step "fixture: init"
"$fixture" "$out/fx" init >/dev/null

cat >"$out/nightly.json" <<EOF
{
  "name": "it-mm-unstable",
  "tree": "$out/fx/tree",
  "remote": "origin",
  "branch": "mm-unstable",
  "suite": "$src/tests/integration/specs/nightly-suite.json",
  "database": "$out/history.db",
  "results": "$out/nights",
  "reports": "$out/report",
  "baseline": { "nights": 3 },
  "thresholds": { "default": 1000, "metrics": { "throughput": 10, "elapsed": 10 } },
  "bisect": { "alpha": 0.01, "beta": 0.01, "min_iterations": 2, "max_iterations": 6, "batch": 2 }
}
EOF

step "night 1"
night 1 "$out/nightly.json"
[ $rc = 0 ] || { tail -30 "$out/night1.err"; fail "night 1 exited $rc, want 0"; }
grep -q "night 1: baseline" "$out/night1.txt" || fail "night 1 is not a baseline"
[ "$(q "SELECT count(*) FROM nights WHERE verdict = 'baseline'")" = 1 ] || fail "night 1 not stored"
[ "$(q "SELECT count(*) FROM metric_values")" -ge 3 ] || fail "night 1 has no values"

step "fixture: advance ($([ "$quick" = 1 ] && echo "2 new commits" || echo "rebase + 6 new commits"), one slow)"
"$fixture" "$out/fx" advance "${slow_args[@]}" >/dev/null
slow=$(cat "$out/fx/slow-commit")

step "night 2"
night 2 "$out/nightly.json"
[ $rc = 1 ] || { tail -30 "$out/night2.err"; fail "night 2 exited $rc, want 1 (regression)"; }
grep -q "REGRESSION" "$out/night2.txt" || fail "night 2 names no regression"
if [ "$quick" = 1 ]; then
  grep -q "rebased" "$out/night2.txt" && fail "night 2's bisection says rebased: the branch only grew"
else
  grep -q "rebased" "$out/night2.txt" || fail "night 2's bisection does not say the branch was rebased"
fi
grep -q "first bad commit: ${slow:0:12}" "$out/night2.txt" ||
  fail "night 2 bisected to the wrong commit (want ${slow:0:12})"
[ "$(q "SELECT count(*) FROM nights")" = 2 ] || fail "the database does not hold 2 nights"
[ "$(q "SELECT first_bad FROM bisects")" = "$slow" ] || fail "the database's first bad commit"
steps=$(q "SELECT count(*) FROM bisect_steps")
[ "$steps" -ge $([ "$quick" = 1 ] && echo 1 || echo 3) ] || fail "only $steps bisect steps in the database"
[ "$(q "SELECT count(*) FROM bisect_steps s JOIN runs r ON r.id = s.run_id WHERE s.decision IN ('good','bad')")" = \
  "$(q "SELECT count(*) FROM bisect_steps WHERE decision IN ('good','bad')")" ] || fail "a decided step has no run"
[ "$quick" = 1 ] || [ "$(q "SELECT decision FROM bisect_steps WHERE seq = 0")" = good ] ||
  fail "the merge base was not tested first"
night2_dir=$(q "SELECT dir FROM nights WHERE id = 2")
[ -f "$night2_dir/bisect/bisect.json" ] || fail "no bisect.json"
[ -f "$out/report/index.html" ] || fail "no HTML report"

step "night 3"
nothing_to_do 3 "$out/nightly.json" 0 "was judged on night 2 .*: nothing to do" 2

step "history"
"$bin" history "$out/history.db" | tee "$out/history.txt"
awk 'length > 80 { bad = 1 } END { exit bad }' "$out/history.txt" || fail "history is wider than 80 columns"
grep -q "!" "$out/history.txt" || fail "history marks no regression"
"$bin" history "$out/history.db" --json >"$out/history.json"
jq -e '.nights | length == 2' "$out/history.json" >/dev/null || fail "history --json"
"$bin" history "$out/history.db" --plot "$out/plot"
ls "$out"/plot/trend-*.png >/dev/null || fail "history --plot wrote no PNG"

step "rebuild from the night directories"
"$bin" history "$out/rebuilt.db" --rebuild "$out"/nights/*/
for t in nights runs cells metric_values verdicts bisect_steps; do
  a=$(q "SELECT count(*) FROM $t"); b=$(sqlite3 "$out/rebuilt.db" "SELECT count(*) FROM $t")
  [ "$a" = "$b" ] || fail "rebuild: $t has $b rows, the original $a"
done
[ "$(sqlite3 "$out/rebuilt.db" "SELECT first_bad FROM bisects")" = "$slow" ] || fail "rebuild: bisect"

step "faults"
sed "s#\"remote\": \"origin\"#\"remote\": \"$out/no-such-remote\"#" "$out/nightly.json" >"$out/badfetch.json"
set +e; "$bin" nightly "$out/badfetch.json" >/dev/null 2>"$out/badfetch.err"; rc=$?; set -e
[ $rc = 3 ] || fail "a failed fetch exited $rc, want 3"
grep -q "git fetch" "$out/badfetch.err" || fail "a failed fetch does not show git's message"
[ "$(q "SELECT count(*) FROM nights")" = 2 ] || fail "a failed fetch recorded a night"
cp "$out/history.db" "$out/future.db"
sqlite3 "$out/future.db" "PRAGMA user_version = 7"
sum=$(sha256sum <"$out/future.db")
set +e; "$bin" history "$out/future.db" 2>"$out/future.err"; rc=$?; set -e
[ $rc = 2 ] && grep -q "newer" "$out/future.err" || fail "a newer schema: exit $rc"
[ "$(sha256sum <"$out/future.db")" = "$sum" ] || fail "a newer-schema database was written"
exec 9>"$out/history.db.lock"
flock 9
set +e; "$bin" nightly "$out/nightly.json" >/dev/null 2>"$out/locked.err"; rc=$?; set -e
exec 9>&-
[ $rc = 4 ] || fail "a held lock: exit $rc, want 4"

# failed_night N STEP NAME ID SAYS KIND DECIDED: night N after
# `nightly-fixture.sh DIR STEP` (which keeps its test commit in fx/NAME, set
# as $bad): exit 3, the report says SAYS and names that commit as the first
# bad one, found by a bisection recorded for night ID with metric KIND
# ("build" or "cells") and at least one step decided DECIDED; night.json's
# failure is KIND; the HTML report (its own directory: test_nightly_html
# looks at night 2's) shows it.
failed_night() {
  local n=$1 what=$2 name=$3 id=$4 says=$5 kind=$6 decided=$7
  "$fixture" "$out/fx" "$what" >/dev/null
  bad=$(cat "$out/fx/$name")
  jq --arg r "$out/report$n" '.reports = $r' "$out/nightly.json" >"$out/nightly$n.json"
  night "$n" "$out/nightly$n.json"
  [ $rc = 3 ] || { tail -30 "$out/night$n.err"; fail "night $n exited $rc, want 3 (could not judge)"; }
  grep -q "$says" "$out/night$n.txt" || fail "night $n does not say '$says'"
  grep -q "first bad commit: ${bad:0:12}" "$out/night$n.txt" ||
    fail "night $n bisected to the wrong commit (want ${bad:0:12})"
  [ "$(q "SELECT status || ' ' || verdict FROM nights WHERE id = $id")" = "failed unjudged" ] ||
    fail "night $n is not recorded as failed"
  [ "$(q "SELECT first_bad FROM bisects WHERE night_id = $id AND metric = '$kind'")" = "$bad" ] ||
    fail "night $n: the database's first bad commit"
  [ "$(q "SELECT count(*) FROM bisect_steps s JOIN bisects b ON b.id = s.bisect_id WHERE b.night_id = $id AND s.decision = '$decided'")" -ge 1 ] ||
    fail "night $n: no step was decided $decided"
  jq -e '.failure == "'"$kind"'" and .bisect.first_bad.commit == "'"$bad"'"' \
    "$(q "SELECT dir FROM nights WHERE id = $id")/night.json" >/dev/null || fail "night $n's night.json"
  grep -q 'id="failure"' "$out/report$n/index.html" || fail "night $n's HTML report does not show the failure"
}

step "night 4: a commit breaks the build"
failed_night 4 break broken-commit 3 "REGRESSION of the branch: mm-unstable does not build" \
  build bad
broken=$bad
night4_dir=$(q "SELECT dir FROM nights WHERE id = 3")
grep -q swapbench_no_such_symbol "$night4_dir/build.log" ||
  fail "night 4's build.log does not hold its failed build (overwritten by the bisection?)"
ls "$night4_dir"/bisect/step-*.build.log >/dev/null || fail "night 4's bisection steps kept no build log"

step "night 5: the broken head again"
nothing_to_do 5 "$out/nightly4.json" 3 "already bisected: ${broken:0:12}" 3
[ "$(q "SELECT count(*) FROM bisects")" = 2 ] || fail "night 5 bisected again"

step "night 6: a commit makes swapon panic"
failed_night 6 crash crash-commit 4 "REGRESSION of the branch: a cell of mm-unstable fails" \
  cells good
grep -q "swapbench test: swapon panics" "$out/night6.txt" || fail "night 6 does not quote the panic"

step "night 7: the crashing head again"
nothing_to_do 7 "$out/nightly6.json" 3 "already bisected: ${bad:0:12}" 4

remove_work_tree
echo "PASS$([ "$quick" = 1 ] && echo " (quick)"): seven nights in $(( $(date +%s) - t0 )) s; bisection: $(jq -r '.totals | "\(.steps) steps, \(.builds) builds, \(.cells) cells, \(.seconds|floor) s"' "$night2_dir/bisect/bisect.json")"

#!/usr/bin/env bash
# Turn Debian's linux-source-6.12 tarball into a local git tree that specs can
# name as "tree": "cache:linux-6.12" (= $XDG_CACHE_HOME/swapbench/src/linux-6.12,
# default ~/.cache/swapbench/src/linux-6.12). Idempotent: does nothing when
# the tree is there.
#
# The tree has one commit with a fixed author, committer and date, so its
# commit id depends only on the tarball's contents: the same Debian package
# gives the same id on every machine, and so the same swapbench cache keys.
# Tag: v6.12-debian.
#
#   scripts/linux-git.sh [--print]    (--print: only print the tree's path)
set -euo pipefail

cache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/swapbench
dest=$cache/src/linux-6.12
tarball=/usr/src/linux-source-6.12.tar.xz

if [ "${1:-}" = --print ]; then
  echo "$dest"; exit 0
fi
if git -C "$dest" rev-parse -q --verify refs/tags/v6.12-debian >/dev/null 2>&1; then
  echo "linux-git: $dest is ready ($(git -C "$dest" rev-parse --short v6.12-debian))"
  exit 0
fi

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "linux-git: need root (or sudo) to run: $*" >&2; exit 2; fi
}
if [ ! -r "$tarball" ]; then
  echo "linux-git: installing linux-source-6.12"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    linux-source-6.12 >/dev/null
fi

# Built beside the destination and renamed: an interrupted run never leaves
# something that looks finished.
tmp=$dest.tmp.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp"
echo "linux-git: extracting $tarball"
tar -xJf "$tarball" -C "$tmp" --strip-components=1 --no-same-owner
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=swapbench GIT_AUTHOR_EMAIL=swapbench@localhost
export GIT_COMMITTER_NAME=swapbench GIT_COMMITTER_EMAIL=swapbench@localhost
export GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"
version=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown)
echo "linux-git: committing (linux-source-6.12 $version)"
git -C "$tmp" init -q -b master
# -f: the tarball is the tree, whatever its .gitignore files say.
git -C "$tmp" add -A -f .
git -C "$tmp" commit -q -m "linux-source-6.12 (Debian $version)"
git -C "$tmp" tag v6.12-debian
git -C "$tmp" gc -q --auto
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "linux-git: $dest ready ($(git -C "$dest" rev-parse --short v6.12-debian))"

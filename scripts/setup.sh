#!/usr/bin/env bash
# Install what swapbench needs on Debian 12 (idempotent: skips what is there).
# Never installs kernels on the host: those are fetched into the cache later.
set -euo pipefail

packages=(
  gcc make cmake pkg-config libc6-dev        # build
  libjansson-dev libcmocka-dev               # libraries (jansson is linked statically into the agent)
  libsqlite3-dev sqlite3                     # the nightly history database (docs/nightly.md); the CLI for test_nightly
  chromium                                   # only for the test of the nightly HTML report (headless)
  libcgroup-dev                              # the agent's cgroup set-up (libcgroup.a, static)
  linux-perf                                 # swapbench profile: perf record in the guest, perf script on the host
  qemu-system-x86                            # the VMs
  kmod xz-utils zstd lz4 gzip cpio util-linux # depmod/modprobe on kernel trees, (de)compressing modules and kernels, mkswap
  coreutils apt dpkg debian-archive-keyring   # sha256sum, swapbench's own apt (Debian kernels of any suite), dpkg-deb
  jq bc time                                 # tests/perf benchmark scripts
  gnuplot-nox                                # swapbench plot
  fio stress-ng sysbench                     # workloads fio, stress-ng, sysbench (the guest runs the host's root)
  git flex bison bc libelf-dev libssl-dev ccache linux-source-6.12  # kernels built from source (docs/kernels.md); libperf is built from its tools/lib/perf
  slurm-wlm munge                            # run --executor slurm and its one-node test cluster (docs/slurm.md)
)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root (or sudo) to run: $*" >&2; exit 2; fi
}

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

# Kernels come through swapbench's own apt configuration (its cache's apt/),
# not the host's lists: only the host's own packages need these.
need_update=0
[ ${#missing[@]} -gt 0 ] && need_update=1
if [ $need_update = 1 ]; then
  echo "setup: apt-get update"
  as_root apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all packages present"
fi

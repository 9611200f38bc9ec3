#!/usr/bin/env bash
# Install what swapbench needs on Debian 12 (idempotent: skips what is there).
# Never installs kernels on the host: those are fetched into the cache later.
set -euo pipefail

packages=(
  gcc make cmake pkg-config libc6-dev        # build
  libjansson-dev libcmocka-dev               # libraries (jansson is linked statically into the agent)
  qemu-system-x86                            # the VMs
  kmod xz-utils zstd cpio util-linux         # depmod/modprobe on kernel trees, module decompression, mkswap
  coreutils apt dpkg                         # sha256sum, apt-get download, dpkg-deb
  jq bc time                                 # tests/perf benchmark scripts
  gnuplot-nox                                # swapbench plot
  fio stress-ng sysbench                     # workloads fio, stress-ng, sysbench (the guest runs the host's root)
  git flex bison bc libelf-dev libssl-dev ccache linux-source-6.12  # kernels built from source (docs/kernels.md)
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

# apt must know Debian's 6.1 and 6.12 kernel packages for 'swapbench kernel get'.
need_update=0
[ ${#missing[@]} -gt 0 ] && need_update=1
if [ -z "$(apt-cache pkgnames linux-image-6.12. 2>/dev/null | head -1)" ] ||
   [ -z "$(apt-cache pkgnames linux-image-6.1.0- 2>/dev/null | head -1)" ]; then
  need_update=1
fi
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
if [ -z "$(apt-cache pkgnames linux-image-6.12. 2>/dev/null | head -1)" ]; then
  echo "setup: warning: apt knows no linux-image-6.12.* package; debian:6.12 needs" \
       "bookworm-security or bookworm-backports in the apt sources" >&2
fi

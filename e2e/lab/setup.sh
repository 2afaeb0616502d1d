#!/bin/bash
# One-time, idempotent setup of the e2e lab (Debian 12 bookworm, x86_64, as root).
# Code lives in this directory; everything generated goes to $CSI_E2E_WORK
# (default /var/tmp/csi-driver-e2e):
#   debs/              the downloaded kernel package
#   k/cloud/           the unpacked Debian cloud kernel, its modules, and the vmlinux ELF
#   build/initrd-cloud.cpio
# Steps, each skipped when already done:
#   1. Debian packages (QEMU with the C virtiofsd, busybox-static, NFS tools used inside the
#      guest, nfs-ganesha with its VFS backend)
#   2. the cloud kernel (linux-image-cloud-amd64's current dependency): downloaded, unpacked
#      (not installed), depmod'ed; the vmlinux ELF is cut out of the bzImage so that QEMU can
#      boot it through its PVH note without decompressing under TCG
#   3. the initramfs (mkinitrd.sh), rebuilt when older than mkinitrd.sh, the kernel or busybox
# usage: setup.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(realpath -m "${CSI_E2E_WORK:-/var/tmp/csi-driver-e2e}")
export DEBIAN_FRONTEND=noninteractive
T0=$(date +%s%N)
[ "$(id -u)" = 0 ] || { echo "setup: run as root" >&2; exit 1; }
[ "$(uname -m)" = x86_64 ] || { echo "setup: x86_64 only" >&2; exit 1; }

# Another apt may run at the same time: DPkg::Lock::Timeout makes apt wait for the dpkg lock;
# the lists lock of `apt-get update` is retried here.
APT_OPTS=(-o DPkg::Lock::Timeout=600)
apt_update() {
  local i err
  for i in $(seq 60); do
    err=$(apt-get "${APT_OPTS[@]}" update -qq 2>&1 >/dev/null) && return 0
    case $err in
      *lock*) echo "setup: apt lists are locked by another process, retrying in 10 s" >&2; sleep 10;;
      *) echo "$err" >&2; return 1;;
    esac
  done
  return 1
}

# 1. packages (the guest runs the host's userspace, so guest tools are host packages too)
PKGS="qemu-system-x86 qemu-system-common busybox-static kmod nfs-common nfs-kernel-server
      nfs-ganesha nfs-ganesha-vfs lz4 xz-utils python3 curl iproute2 util-linux"
need=()
for p in $PKGS; do
  [ "$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  apt_update
  apt-get "${APT_OPTS[@]}" install -y -q --no-install-recommends "${need[@]}"
fi
[ -x /usr/lib/qemu/virtiofsd ] || { echo "setup: /usr/lib/qemu/virtiofsd missing (QEMU >= 8 dropped the C virtiofsd)" >&2; exit 1; }
command -v node >/dev/null || echo "setup: warning: node is not on PATH (the guest runs the host's node)" >&2

# 2. the cloud kernel: has virtiofs, overlay, virtio-net/-rng/-mmio and nfs/nfsv4/nfsd as modules
mkdir -p "$WORK/debs" "$WORK/k" "$WORK/build"
K=$WORK/k/cloud
have=$(cat "$K/.pkg" 2>/dev/null || true)          # "package=version" of the unpacked kernel
# The meta package pins the current kernel: "Depends: linux-image-<abi>-cloud-amd64 (= <version>)".
# Asking apt-cache costs 0.5 s, so only when the apt lists changed since the last check.
kwant() {
  apt-cache show --no-all-versions linux-image-cloud-amd64 2>/dev/null |
    sed -n 's/^Depends:.*\(linux-image-[^ ,]*\) (= \([^)]*\)).*/\1=\2/p' | head -1
}
want=$have
if [ -z "$have" ] || [ ! -f "$K/vmlinux" ] || [ ! -f "$K/.checked" ] ||
   [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -newer "$K/.checked" 2>/dev/null | head -1)" ]; then
  w=$(kwant)
  if [ -z "$w" ] && [ -z "$have" ]; then apt_update; w=$(kwant); fi
  [ -n "$w" ] && want=$w
fi
[ -n "$want" ] || { echo "setup: cannot resolve linux-image-cloud-amd64 (apt lists?)" >&2; exit 1; }
if [ "$have" != "$want" ] || [ ! -f "$K/vmlinux" ]; then
  echo "setup: fetching kernel $want" >&2
  deb=$WORK/debs/${want%%=*}_${want#*=}_amd64.deb
  deb=${deb//:/%3a}                                  # apt encodes an epoch's colon like this
  if [ ! -f "$deb" ]; then
    rm -f "$WORK"/debs/*.deb                         # keep one kernel only (about 30 MB)
    ( cd "$WORK/debs" && apt-get -q -o APT::Sandbox::User=root download "$want" )
    deb=$(ls "$WORK"/debs/"${want%%=*}"_*.deb)
  fi
  rm -rf "$K.new"; mkdir -p "$K.new"
  dpkg-deb -x "$deb" "$K.new"
  kver=$(ls "$K.new/lib/modules")
  /sbin/depmod -b "$K.new" "$kver"
  # The bzImage carries the real kernel compressed (LZ4 for Debian cloud): find it by magic.
  python3 - "$K.new/boot/vmlinuz-$kver" "$K.new/vmlinux" <<'PY'
import subprocess, sys
d = open(sys.argv[1], 'rb').read()
for magic, cmd in ((b'\x02\x21\x4c\x18', ['lz4', '-dc']), (b'\xfd7zXZ\x00', ['xz', '-dc']),
                   (b'\x1f\x8b\x08', ['gzip', '-dc'])):
    pos = 0
    while (i := d.find(magic, pos)) >= 0:
        out = subprocess.run(cmd, input=d[i:], capture_output=True).stdout
        if out[:4] == b'\x7fELF':
            open(sys.argv[2], 'wb').write(out); sys.exit(0)
        pos = i + 1
sys.exit('setup: no vmlinux found in ' + sys.argv[1])
PY
  echo "$want" > "$K.new/.pkg"
  rm -rf "$K"; mv "$K.new" "$K"                      # only a complete kernel dir gets the name
fi
touch "$K/.checked"

# 3. the initramfs
ird=$WORK/build/initrd-cloud.cpio
if ! { [ "$ird" -nt "$HERE/mkinitrd.sh" ] && [ "$ird" -nt "$K/vmlinux" ] && [ "$ird" -nt /bin/busybox ]; }; then
  "$HERE/mkinitrd.sh"
fi
echo "setup done: $WORK ($(( ($(date +%s%N)-T0)/1000000 )) ms)"

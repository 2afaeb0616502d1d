#!/bin/bash
# Build the initramfs for the cloud kernel: static busybox plus the few modules needed to mount
# the host root over virtiofs (read-only), lay a tmpfs overlay on it, mount the extra shares
# and switch_root into guest/init.sh. Debian builds virtiofs as a module, hence the initramfs.
# It holds no host paths: run-guest.sh passes them as e2elab.* kernel parameters.
# Output: $CSI_E2E_WORK/build/initrd-cloud.cpio, uncompressed (nothing to inflate under TCG).
# usage: mkinitrd.sh            (setup.sh calls it)
set -euo pipefail
WORK=$(realpath -m "${CSI_E2E_WORK:-/var/tmp/csi-driver-e2e}")
KROOT=$WORK/k/cloud
KVER=$(ls "$KROOT/lib/modules")
MODDIR=$KROOT/lib/modules/$KVER
OUT=$WORK/build/initrd-cloud.cpio

resolve() {  # MODULE... -> "name:relpath" for them and their dependencies, in load order
python3 - "$MODDIR" "$@" <<'PY'
import sys, os
moddir, want = sys.argv[1], sys.argv[2:]
dep = {}
for line in open(os.path.join(moddir, 'modules.dep')):
    k, v = line.split(':', 1)
    dep[os.path.basename(k)[:-3]] = (k, [os.path.basename(x)[:-3] for x in v.split()])
out = []
def add(m):
    if m in out: return
    for d in reversed(dep[m][1]): add(d)   # modules.dep lists the deepest dependency last
    out.append(m)
for w in want:
    if w not in dep: sys.exit(f'mkinitrd: module {w} not in {moddir}')
    add(w)
print(' '.join(f"{m}:{dep[m][0]}" for m in out))
PY
}
# NFS client/server modules load only on request (-N/-D): about 1 s under TCG.
declare -A GROUP=(
  [mods]="$(resolve virtio_pci virtio_mmio virtio-rng virtiofs overlay virtio_net)"
  [mods.nfs]="$(resolve nfsv4)"
  [mods.nfsd]="$(resolve nfsd)")

mkdir -p "$WORK/build"
W=$(mktemp -d "$WORK/build/initrd.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W"/{bin,proc,sys,dev,lower,rw,newroot,m}
cp /bin/busybox "$W/bin/busybox"
for g in mods mods.nfs mods.nfsd; do
  : > "$W/$g"
  for e in ${GROUP[$g]}; do cp "$MODDIR/${e#*:}" "$W/m/${e%%:*}.ko"; echo "${e%%:*}" >> "$W/$g"; done
done

cat > "$W/init" <<'INIT'
#!/bin/busybox sh
# Stage 1, busybox only. Kernel parameters (set by run-guest.sh):
#   e2elab.net=0|1  e2elab.nfs=0|1  e2elab.nfsd=0|1  e2elab.kmods=DIR  e2elab.init=PATH
#   e2elab.share=PATH:TAG:ro|rw (repeatable; mounted at PATH)
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t devtmpfs devtmpfs /dev
NET=0 NFS=0 NFSD=0 SHARES= KMODS= INIT=
for a in $($B cat /proc/cmdline); do
  case $a in
    e2elab.net=*) NET=${a#*=};; e2elab.nfs=*) NFS=${a#*=};; e2elab.nfsd=*) NFSD=${a#*=};;
    e2elab.share=*) SHARES="$SHARES ${a#*=}";; e2elab.kmods=*) KMODS=${a#*=};;
    e2elab.init=*) INIT=${a#*=};;
  esac
done
die() { echo "e2e lab initramfs: $*"; $B poweroff -f; }
L=$($B cat /mods)
[ $NFS = 1 ] && L="$L $($B cat /mods.nfs)"
[ $NFSD = 1 ] && L="$L $($B cat /mods.nfsd)"
seen=" "
for m in $L; do
  case "$seen" in *" $m "*) continue;; esac; seen="$seen$m "
  case $m in virtio_net|failover|net_failover) [ $NET = 1 ] || continue;; esac
  $B insmod /m/$m.ko 2>/dev/null
done
$B mount -t virtiofs -o ro hostroot /lower || die "cannot mount the host root (virtiofs)"
$B mount -t tmpfs -o mode=755 tmpfs /rw
$B mkdir -p /rw/upper /rw/work
$B mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || die "overlay failed"
N=/newroot
$B mount -t sysfs sysfs $N/sys
$B mount --move /dev $N/dev
$B mkdir -p $N/dev/pts $N/dev/shm
$B mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $N/dev/pts
$B mount -t tmpfs -o mode=1777 tmpfs $N/dev/shm
$B mount -t tmpfs -o mode=755 tmpfs $N/run
$B mount -t tmpfs -o mode=1777 tmpfs $N/tmp
$B mkdir -p $N/run/lock
# shares after the tmpfs mounts, so that a share under /tmp or /run is not hidden by them
for s in $SHARES; do
  p=${s%%:*}; s=${s#*:}
  $B mkdir -p "$N$p"; $B mount -t virtiofs -o "${s#*:}" "${s%%:*}" "$N$p" || die "cannot mount share $p"
done
# modprobe in the guest (e.g. sch_netem) needs the unpacked kernel's modules
KV=$($B uname -r)
[ -d "$N$KMODS" ] && $B mkdir -p $N/lib/modules/$KV && $B mount --bind "$N$KMODS" $N/lib/modules/$KV
$B hostname csi-e2e
echo "127.0.1.1 csi-e2e" >> $N/etc/hosts
$B ip link set lo up
if [ $NET = 1 ]; then  # QEMU user network, static: no DHCP client to wait for
  $B ip link set eth0 up
  $B ip addr add 10.0.2.15/24 dev eth0
  $B ip route add default via 10.0.2.2
fi
[ -f "$N$INIT" ] || die "$INIT is not visible in the guest"
$B umount /proc
exec $B switch_root $N /bin/busybox sh "$INIT"
INIT
chmod 755 "$W/init"
( cd "$W" && find . | /bin/busybox cpio -o -H newc 2>/dev/null ) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "built $OUT ($(stat -c %s "$OUT") bytes, kernel $KVER)"

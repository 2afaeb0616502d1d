#!/bin/bash
# Boot a throw-away QEMU/TCG guest running the HOST's userspace (host / shared read-only over
# virtiofs, tmpfs overlay on top, so node, the repo and nfs-common need no image), run one
# command, power off. Exit code: the command's, or 125 when the guest reported none (timeout,
# crash). The command's stdout+stderr arrive on this script's stdout byte for byte; the lab's
# own messages go to stderr. Run as root, after setup.sh.
#
# usage: run-guest.sh [options] [--] CMD [ARGS...]
#   -M microvm|pc    QEMU machine (default microvm: about 0.8 s faster to boot)
#   -m MiB           guest RAM (default 1024)
#   -n               user network: the guest is 10.0.2.15, the host's 127.0.0.1 is 10.0.2.2
#   -p PORT          forward host 127.0.0.1:PORT to guest :PORT (repeatable; implies -n)
#   -w DIR           share host DIR read-write at the same path (repeatable)
#   -r DIR           share host DIR read-only at the same path (repeatable)
#   -N               load the NFS client modules at boot (about +1 s)
#   -D               load the NFS server modules at boot (then run guest/nfsd-up.sh)
#   -e NAME=VALUE    environment variable for CMD (repeatable); CMD starts in the current dir
#   -t SECS          limit for the whole VM (default 300)
#   -v               show kernel boot messages
# The root share does not cross host mounts, and the guest has its own empty /tmp, /run and
# /dev/shm: the lab dir, the repo, the work dir, the current dir and node's dir get a read-only
# share when the root share misses them (see below). Anything else the guest must see there
# needs -r; writes that must reach the host need -w. Paths must not contain spaces or colons
# (they go on the kernel command line).
# Env: CSI_E2E_WORK (default /var/tmp/csi-driver-e2e); CSI_E2E_KEEP=1 keeps the run dir;
#      CSI_E2E_TIMING=1 prints the wall time to stderr.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=$(realpath -m "${CSI_E2E_WORK:-/var/tmp/csi-driver-e2e}")
MACH=microvm MEM=1024 NET=0 NFS=0 NFSD=0 TMO=300 VERB=0
PORTS=() SHARES=() ENVS=()
usage() { sed -n '2,/^set /p' "$0" | sed '$d'; exit 2; }
while getopts "M:m:np:w:r:NDe:t:v" o; do
  case $o in
    M) MACH=$OPTARG;; m) MEM=$OPTARG;; n) NET=1;; p) PORTS+=("$OPTARG"); NET=1;;
    w|r) [ -d "$OPTARG" ] || { echo "run-guest: $OPTARG is not a directory" >&2; exit 2; }
         SHARES+=("$(realpath "$OPTARG"):$([ $o = w ] && echo rw || echo ro)");;
    N) NFS=1;; D) NFSD=1;; e) ENVS+=("$OPTARG");; t) TMO=$OPTARG;; v) VERB=1;;
    *) usage;;
  esac
done
shift $((OPTIND-1)); [ $# -ge 1 ] || usage
KERNEL=$WORK/k/cloud/vmlinux INITRD=$WORK/build/initrd-cloud.cpio
[ -f "$KERNEL" ] && [ -f "$INITRD" ] || { echo "run-guest: no $KERNEL or $INITRD: run setup.sh" >&2; exit 2; }
KMODS=$(echo "$WORK/k/cloud/lib/modules/"*)

T0=$(date +%s%N)
mkdir -p "$WORK/run"
RUN=$(mktemp -d "$WORK/run/r.XXXXXX")
PIDS=() QPID=
cleanup() {  # QEMU first, so that it does not complain about a vanished virtiofsd
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ "${CSI_E2E_KEEP:-0}" = 1 ] || rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The command, run with bash by guest/init.sh; the guest sees host paths unchanged.
{ for e in "${ENVS[@]}"; do printf 'export %q\n' "$e"; done
  printf 'cd %q 2>/dev/null || cd /\n' "$PWD"; printf 'exec'; printf ' %q' "$@"; printf '\n'; } > "$RUN/cmd.sh"
: > "$RUN/rc"

# Directories the guest must see although the root share misses them, shared read-only before
# the user's shares: under /tmp, /run or /dev/shm (fresh tmpfs in the guest) the directory
# itself, so that the guest's /tmp stays writable; on another mount than / (a bind-mounted
# workspace) its whole mount.
NODE_BIN=$(command -v node 2>/dev/null || true)
for d in "$HERE" "$REPO" "$WORK" "$PWD" ${NODE_BIN:+"$(dirname "$(realpath "$NODE_BIN")")"}; do
  case $d/ in
    /tmp/*|/run/*|/dev/shm/*) m=$d;;
    *) m=$(findmnt -n -o TARGET --target "$d");;
  esac
  case $m in /|/tmp|/run|/dev/shm) continue;; esac
  [[ " ${SHARES[*]} " == *" $m:"* ]] || SHARES=("$m:ro" "${SHARES[@]}")
done

# cryptomgr.notests skips the crypto self-tests (about 0.4 s under TCG)
APPEND="console=ttyS0 panic=-1 cryptomgr.notests=1 mitigations=off e2elab.net=$NET e2elab.nfs=$NFS"
APPEND="$APPEND e2elab.nfsd=$NFSD e2elab.kmods=$KMODS e2elab.init=$HERE/guest/init.sh e2elab.cmd=$RUN/cmd.sh"
[ $VERB = 1 ] || APPEND="quiet loglevel=1 $APPEND"
ARGS=(-accel tcg -M "$MACH" -m "$MEM" -smp 1 -nodefaults -no-user-config -display none -no-reboot
      -kernel "$KERNEL" -initrd "$INITRD" -serial stdio)
BUS=pci  # virtio over PCI on pc/q35, over MMIO on microvm
case $MACH in
  microvm*)
    BUS=device
    # microvm has no ttyS1: an explicit ISA UART, whose output (the exit code) goes to a file
    ARGS+=(-chardev "file,id=rcfile,path=$RUN/rc" -device isa-serial,chardev=rcfile,iobase=0x2f8,irq=3)
    # no PIT/HPET/PM timer to calibrate the TSC against: without this most boots hang
    APPEND="$APPEND tsc_early_khz=$(awk -F: '/^cpu MHz/{printf "%d", $2*1000; exit}' /proc/cpuinfo)"
    # vhost-user-fs needs virtio 1.0; microvm defaults to legacy virtio-mmio
    ARGS+=(-global virtio-mmio.force-legacy=false);;
  *) ARGS+=(-serial "file:$RUN/rc");;
esac
# virtio-rng seeds the guest CRNG at once; otherwise getrandom() (node, rpc.nfsd) blocks for
# seconds under TCG
ARGS+=(-object rng-random,id=rng0,filename=/dev/urandom -device "virtio-rng-$BUS,rng=rng0")

start_virtiofsd() {  # SOURCE SOCKET ro|rw
  local o="-o cache=always -o sandbox=chroot -o no_posix_lock -o no_flock"
  if [ "$3" = ro ]; then
    # QEMU 7.2's C virtiofsd has no read-only switch: serve a read-only, non-recursive bind of
    # SOURCE in a private mount namespace (guest writes get EROFS; /proc, /sys, /dev stay hidden)
    mkdir -p "$2.src"
    unshare -m --propagation private sh -c 'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" &&
      exec /usr/lib/qemu/virtiofsd --socket-path="$3" -o source="$2" '"$o" sh "$1" "$2.src" "$2" >"$2.log" 2>&1 &
  else
    /usr/lib/qemu/virtiofsd --socket-path="$2" -o source="$1" $o >"$2.log" 2>&1 &
  fi
  PIDS+=($!)
  for _ in $(seq 300); do [ -S "$2" ] && return 0; sleep 0.01; done
  echo "run-guest: virtiofsd did not start:" >&2; cat "$2.log" >&2; exit 125
}
add_share() {  # TAG SOURCE ro|rw
  start_virtiofsd "$2" "$RUN/$1.sock" "$3"
  ARGS+=(-chardev "socket,id=$1,path=$RUN/$1.sock" -device "vhost-user-fs-$BUS,chardev=$1,tag=$1")
}
add_share hostroot / ro
i=0
for s in "${SHARES[@]}"; do
  i=$((i+1)); add_share "sh$i" "${s%:*}" "${s##*:}"; APPEND="$APPEND e2elab.share=${s%:*}:sh$i:${s##*:}"
done
# vhost-user needs the guest RAM in shared memory
ARGS+=(-object "memory-backend-memfd,id=mem,size=${MEM}M,share=on" -machine memory-backend=mem)
if [ $NET = 1 ]; then
  nd="user,id=n0"
  for p in "${PORTS[@]}"; do nd="$nd,hostfwd=tcp:127.0.0.1:$p-:$p"; done
  ARGS+=(-netdev "$nd" -device "virtio-net-$BUS,netdev=n0")
fi
ARGS+=(-append "$APPEND")

# Background plus `wait`, so a SIGTERM/SIGINT is handled at once and cleanup() takes QEMU down;
# --foreground and <&0 keep the console usable from a terminal (run-guest.sh -- bash -i).
timeout --foreground -k 5 "$TMO" qemu-system-x86_64 "${ARGS[@]}" <&0 &
QPID=$!
wait $QPID
QRC=$?
QPID=
RC=$(tr -dc '0-9' < "$RUN/rc")
[ "${CSI_E2E_TIMING:-0}" = 1 ] && echo "run-guest: $(( ($(date +%s%N)-T0)/1000000 )) ms (qemu rc=$QRC, cmd rc=${RC:-none})" >&2
if [ -z "$RC" ]; then
  [ $QRC = 124 ] && echo "run-guest: timed out after ${TMO}s" >&2
  exit 125
fi
exit "$RC"

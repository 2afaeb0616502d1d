#!/bin/bash
# Inside a guest booted with run-guest.sh -D: start the kernel NFS server, NFSv4.1/4.2 only (no
# rpcbind, lockd or statd), exporting DIR (default /srv/nfs, a fresh tmpfs: nfsd cannot export
# the overlay root) as the NFSv4 pseudo-root. Then: mount -t nfs4 -o nfsvers=4.1 127.0.0.1:/ /mnt/y
# usage: nfsd-up.sh [DIR] [NTHREADS]
set -euo pipefail
D=${1:-/srv/nfs}
modprobe nfsd
mountpoint -q /proc/fs/nfsd || mount -t nfsd nfsd /proc/fs/nfsd
mkdir -p "$D"
mountpoint -q "$D" || mount -t tmpfs -o mode=777 nfsexport "$D"
echo "$D *(rw,fsid=0,no_subtree_check,no_root_squash,insecure,sync)" > /etc/exports
exportfs -r
rpc.mountd -N 2 -N 3                       # answers the kernel's export-cache upcalls
echo 10 > /proc/fs/nfsd/nfsv4leasetime     # the minimum; default 90 s
echo 10 > /proc/fs/nfsd/nfsv4gracetime
rpc.nfsd -N 3 -V 4.1 -V 4.2 --no-udp "${2:-4}"
echo Y > /proc/fs/nfsd/v4_end_grace        # nobody to reclaim: no grace period

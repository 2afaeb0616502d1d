#!/bin/bash
# Start nfs-ganesha on the host (as root) on 127.0.0.1:$CSI_E2E_NFS_PORT (default 12049),
# NFSv4.1/4.2, exporting $CSI_E2E_EXPORT_DIR (default $CSI_E2E_WORK/export) as /export.
# Config (from ganesha.conf.in), log, pid file and recovery state go to $CSI_E2E_WORK/ganesha.
# One ganesha per work dir; does nothing if it is already running.
# Guest side (run-guest.sh -n -N):
#   mount -t nfs4 -o nfsvers=4.1,port=12049 10.0.2.2:/export /mnt/x
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(realpath -m "${CSI_E2E_WORK:-/var/tmp/csi-driver-e2e}")
PORT=${CSI_E2E_NFS_PORT:-12049}
EXPORT=$(realpath -m "${CSI_E2E_EXPORT_DIR:-$WORK/export}")
G=$WORK/ganesha
# the pid file can be stale (after SIGKILL): trust it only for a live ganesha.nfsd
alive() {
  local p; p=$(cat "$G/ganesha.pid" 2>/dev/null) && [ -n "$p" ] &&
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = ganesha.nfsd ] &&
  [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ]
}
if alive; then echo "ganesha already running (pid $(cat "$G/ganesha.pid"))"; exit 0; fi
listening() { [ -n "$(ss -Hltn "sport = :$PORT")" ]; }
listening && { echo "ganesha-up: port $PORT is in use (set CSI_E2E_NFS_PORT)" >&2; exit 1; }
command -v ganesha.nfsd >/dev/null || { echo "ganesha-up: ganesha.nfsd not installed: run setup.sh" >&2; exit 1; }
mkdir -p "$G/state" "$EXPORT"
sed -e "s|@PORT@|$PORT|" -e "s|@EXPORT_DIR@|$EXPORT|" -e "s|@STATE_DIR@|$G/state|" \
    -e "s|@LOG_FILE@|$G/ganesha.log|" "$HERE/ganesha.conf.in" > "$G/ganesha.conf"
rm -f "$G/ganesha.pid"
s=$(date +%s%N)
# Log lines about dbus, rpcbind ("Cannot register NFS V4") and the krb5 keytab are harmless.
# The daemon's stdio goes to a file: it must not hold a caller's pipe open (fault-ctl.js, $(...)).
ganesha.nfsd -f "$G/ganesha.conf" -L "$G/ganesha.log" -p "$G/ganesha.pid" -N NIV_EVENT \
  </dev/null >>"$G/ganesha.out" 2>&1
for _ in $(seq 200); do listening && [ -s "$G/ganesha.pid" ] && break; sleep 0.05; done
listening || { echo "ganesha-up: not listening; end of $G/ganesha.log:" >&2; tail -20 "$G/ganesha.log" "$G/ganesha.out" >&2; exit 1; }
echo "ganesha pid $(cat "$G/ganesha.pid") listening on 127.0.0.1:$PORT after $(( ($(date +%s%N)-s)/1000000 )) ms, export $EXPORT"

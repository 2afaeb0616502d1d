#!/bin/bash
# Stop the ganesha that ganesha-up.sh started for this work dir (found by its pid file).
set -euo pipefail
WORK=$(realpath -m "${CSI_E2E_WORK:-/var/tmp/csi-driver-e2e}")
P=$WORK/ganesha/ganesha.pid
[ -s "$P" ] || exit 0
p=$(cat "$P")
# a stale pid file (ganesha was SIGKILLed) must not make us signal an unrelated process
if [ "$(cat "/proc/$p/comm" 2>/dev/null)" != ganesha.nfsd ] || [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ]; then
  rm -f "$P"; exit 0
fi
kill -CONT "$p" 2>/dev/null || true   # a test may have left it SIGSTOPped
kill -TERM "$p" 2>/dev/null || true
gone() { ! kill -0 "$p" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ]; }
for _ in $(seq 100); do gone && break; sleep 0.1; done
if ! gone; then
  kill -KILL "$p" 2>/dev/null || true
  for _ in $(seq 50); do gone && break; sleep 0.1; done
fi
rm -f "$P"
echo "ganesha $p stopped"

#!/bin/bash
# Smoke test of the lab (host side, as root, after setup.sh). One guest boot (-n -N):
#  1. the guest mounts ganesha's export over NFSv4.1 (10.0.2.2:$CSI_E2E_NFS_PORT), node writes
#     a file on it and reads it back, and the host finds it in the export dir
#  2. from the guest, node reaches the host-side fault-ctl.js (GET /status: ganesha running)
# Starts ganesha and fault-ctl.js when they are not running, and stops what it started.
# Prints "N passed, N failed"; exit 0 only if all passed.
set -uo pipefail
LAB=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$LAB/../.." && pwd)
WORK=$(realpath -m "${CSI_E2E_WORK:-/var/tmp/csi-driver-e2e}")
PORT=${CSI_E2E_NFS_PORT:-12049}
EXPORT=$(realpath -m "${CSI_E2E_EXPORT_DIR:-$WORK/export}")
CTL_PORT=${CSI_E2E_CTL_PORT:-18999}
export CSI_E2E_TIMING=${CSI_E2E_TIMING:-1}
T0=$SECONDS pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }
[ "$(id -u)" = 0 ] || { echo "smoke: run as root"; exit 1; }

alive() { [ "$("$LAB/ganesha/ganesha-ctl.sh" status)" != state=down ]; }
started=0 CTL=
alive || started=1
cleanup() {
  [ -z "$CTL" ] || kill "$CTL" 2>/dev/null
  [ $started = 0 ] || "$LAB/ganesha/ganesha-down.sh" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$LAB/ganesha/ganesha-up.sh" >&2 || { echo "FAIL: cannot start ganesha"; echo "0 passed, 1 failed"; exit 1; }
if ! curl -sf --max-time 2 "http://127.0.0.1:$CTL_PORT/health" >/dev/null; then
  CSI_E2E_CTL_PORT=$CTL_PORT node "$LAB/ganesha/fault-ctl.js" 2>>"$WORK/fault-ctl.log" & CTL=$!
  for _ in $(seq 100); do curl -sf --max-time 1 "http://127.0.0.1:$CTL_PORT/health" >/dev/null && break; sleep 0.05; done
fi

TOKEN=smoke-$$-$RANDOM
NAME=$TOKEN.txt
# Runs in the guest with /mnt/nfs mounted: write, read back, then ask the host's fault-ctl.
JS='
const fs = require("node:fs"), http = require("node:http");
const f = `/mnt/nfs/${process.env.NAME}`;
fs.writeFileSync(f, process.env.TOKEN);
console.log(`nfs ${fs.readFileSync(f, "utf8") === process.env.TOKEN ? "ok" : "MISMATCH"}`);
http.get(process.env.CTL + "/status", { timeout: 5000 }, (res) => {
  let b = ""; res.on("data", (d) => (b += d)); res.on("end", () => console.log(`ctl ${b.trim()}`));
}).on("error", (e) => console.log(`ctl error ${e.message}`));'
out=$("$LAB/run-guest.sh" -n -N -t 120 -e TOKEN="$TOKEN" -e NAME="$NAME" -e JS="$JS" \
  -e CTL="http://10.0.2.2:$CTL_PORT" -- bash -c "set -e
  mkdir -p /mnt/nfs
  timeout -s KILL 60 mount -t nfs4 -o nfsvers=4.1,port=$PORT 10.0.2.2:/export /mnt/nfs
  grep ' /mnt/nfs nfs4 ' /proc/mounts | grep -q 'vers=4.1'
  test -f '$REPO/package.json'
  node -e \"\$JS\"
  timeout -s KILL 30 umount /mnt/nfs")
rc=$?
echo "$out" | sed 's/^/  guest: /'
got=$(cat "$EXPORT/$NAME" 2>/dev/null)
if [ $rc = 0 ] && [[ "$out" == *"nfs ok"* ]] && [ "$got" = "$TOKEN" ]; then
  ok "guest NFSv4.1 mount of 10.0.2.2:/export (port $PORT), node wrote $NAME, host read it back from $EXPORT"
else ko "NFS write/read-back (guest rc=$rc, host read '$got')"; fi
rm -f "$EXPORT/$NAME"
if [[ "$out" == *'ctl {"ok":true,"action":"status"'*'state=running'* ]]; then
  ok "guest reached fault-ctl.js at 10.0.2.2:$CTL_PORT (ganesha running)"
else ko "guest -> fault-ctl.js at 10.0.2.2:$CTL_PORT"; fi

echo "smoke: $((SECONDS-T0)) s"
echo "$pass passed, $fail failed"
[ $fail = 0 ]

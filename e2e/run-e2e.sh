#!/bin/bash
# End-to-end tests of the driver on --backend nfs against a real NFSv4.1 server, in a real
# Linux NFS client (what `npm run test:e2e` runs after `npm run build`; as root, Debian 12).
#   1. e2e/lab/setup.sh (packages, guest kernel, initramfs; a no-op once done)
#   2. nfs-ganesha on the host (127.0.0.1:$CSI_E2E_NFS_PORT) and fault-ctl.js (its HTTP control)
#   3. ONE QEMU guest (-n -N) runs mocha on dist/test/e2e/*.test.js: the tests start the driver
#      on --backend nfs (share: a fresh per-run directory of ganesha's /export) and drive it
#      over CSI, freezing, killing and restarting ganesha through fault-ctl.js
#   4. the host checks that files written in the guest reached ganesha's export dir
# Results (mocha output, driver log, timings) land in test-results/e2e/ of the repo.
# The last line is "N passed, N failed"; the exit code is 0 only when nothing failed.
# Env: CSI_E2E_WORK, CSI_E2E_NFS_PORT, CSI_E2E_EXPORT_DIR, CSI_E2E_CTL_PORT (see e2e/lab/README.md),
#      CSI_E2E_GUEST_TIMEOUT (default 1200 s), CSI_E2E_KEEP=1 (keep the run's share and guest dir),
#      CSI_E2E_GREP (mocha --grep inside the guest).
set -uo pipefail
E2E=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$E2E/.." && pwd)
LAB=$E2E/lab
export CSI_E2E_WORK=$(realpath -m "${CSI_E2E_WORK:-/var/tmp/csi-driver-e2e}")
WORK=$CSI_E2E_WORK
PORT=${CSI_E2E_NFS_PORT:-12049}
EXPORT=$(realpath -m "${CSI_E2E_EXPORT_DIR:-$WORK/export}")
CTL_PORT=${CSI_E2E_CTL_PORT:-18999}
GUEST_TIMEOUT=${CSI_E2E_GUEST_TIMEOUT:-1200}
T0=$SECONDS
say() { echo "e2e: $*" >&2; }
finish() {  # PASSED FAILED
  echo "e2e: total $((SECONDS - T0)) s; results in $OUT" >&2
  echo "$1 passed, $2 failed"
  [ "$2" = 0 ] && [ "$1" -gt 0 ]
  exit $?
}
[ "$(id -u)" = 0 ] || { echo "e2e: run as root (QEMU lab, ganesha)"; echo "0 passed, 1 failed"; exit 1; }
[ -f "$REPO/dist/src/main.js" ] && [ -d "$REPO/dist/test/e2e" ] || { echo "e2e: build first (npm run build)"; echo "0 passed, 1 failed"; exit 1; }

OUT=$REPO/test-results/e2e
RUN_ID=e2e-run-$(date +%Y%m%d-%H%M%S)-$$
RES=$WORK/results/$RUN_ID          # shared read-write with the guest (-w)
SHARE_DIR=$EXPORT/$RUN_ID           # the driver's share: /export/$RUN_ID
rm -rf "$OUT" && mkdir -p "$OUT" "$RES" || exit 1

say "setup"
t=$SECONDS
"$LAB/setup.sh" > "$OUT/setup.log" 2>&1 || { tail -20 "$OUT/setup.log" >&2; echo "e2e: setup.sh failed"; finish 0 1; }
say "setup done in $((SECONDS - t)) s"

ctl_up() { curl -sf --max-time 2 "http://127.0.0.1:$CTL_PORT/health" >/dev/null; }
ganesha_state() { "$LAB/ganesha/ganesha-ctl.sh" status 2>/dev/null; }
started_ganesha=0 CTL_PID=
cleanup() {
  [ -z "$CTL_PID" ] || kill "$CTL_PID" 2>/dev/null
  if [ $started_ganesha = 1 ]; then "$LAB/ganesha/ganesha-down.sh" >&2
  else  # not ours: leave it running as we found it
    case $(ganesha_state) in
      state=stopped*) "$LAB/ganesha/ganesha-ctl.sh" cont >&2;;
      state=down) "$LAB/ganesha/ganesha-up.sh" >&2;;
    esac
  fi
  if [ "${CSI_E2E_KEEP:-0}" != 1 ]; then rm -rf "$SHARE_DIR" "$RES"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Shares of earlier runs that died before their cleanup.
[ "${CSI_E2E_KEEP:-0}" = 1 ] || rm -rf "$EXPORT"/e2e-run-* "$WORK"/results/e2e-run-* 2>/dev/null
mkdir -p "$SHARE_DIR" "$RES"
[ "$(ganesha_state)" = state=down ] && started_ganesha=1
case $(ganesha_state) in state=stopped*) "$LAB/ganesha/ganesha-ctl.sh" cont >&2;; esac
"$LAB/ganesha/ganesha-up.sh" >&2 || { echo "e2e: cannot start ganesha"; finish 0 1; }
if ! ctl_up; then
  CSI_E2E_CTL_PORT=$CTL_PORT node "$LAB/ganesha/fault-ctl.js" 2>>"$OUT/fault-ctl.log" & CTL_PID=$!
  for _ in $(seq 100); do ctl_up && break; sleep 0.05; done
  ctl_up || { echo "e2e: fault-ctl.js did not come up"; finish 0 1; }
fi

say "booting the guest (limit ${GUEST_TIMEOUT} s)"
t=$SECONDS
GREP=()
[ -n "${CSI_E2E_GREP:-}" ] && GREP=(--grep "$CSI_E2E_GREP")
# shellcheck disable=SC2016
CSI_E2E_TIMING=1 "$LAB/run-guest.sh" -n -N -w "$RES" -t "$GUEST_TIMEOUT" \
  -e CSI_E2E_GUEST=1 -e CSI_E2E_RESULTS="$RES" -e CSI_E2E_NFS_SERVER=10.0.2.2 -e CSI_E2E_NFS_PORT="$PORT" \
  -e CSI_E2E_NFS_SHARE="/export/$RUN_ID" -e CSI_E2E_CTL_URL="http://10.0.2.2:$CTL_PORT" \
  -- node "$REPO/node_modules/mocha/bin/mocha.js" --no-config --reporter "$REPO/scripts/mocha-summary-reporter.js" \
     --timeout 120000 --exit "${GREP[@]}" "$REPO"/dist/test/e2e/*.test.js 2>&1 | tee "$OUT/guest-output.txt"
rc=${PIPESTATUS[0]}
say "guest finished in $((SECONDS - t)) s (exit $rc)"

summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/guest-output.txt" | tail -1)
passed=$(echo "$summary" | sed -nE 's/^([0-9]+) passed.*/\1/p')
failed=$(echo "$summary" | sed -nE 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/p')
if [ -z "$summary" ]; then
  echo "e2e: the guest printed no summary (exit $rc: 125 means timeout or crash)"
  passed=0 failed=1
elif [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
  echo "e2e: the guest exited $rc although no test failed"
  failed=1
fi

# The bytes the guest wrote through its NFS mounts must be in ganesha's export dir.
if [ -s "$RES/host-checks.tsv" ]; then
  bad=0 n=0
  while IFS=$'\t' read -r sum rel; do
    n=$((n + 1))
    got=$(sha256sum "$SHARE_DIR/$rel" 2>/dev/null | cut -d' ' -f1)
    [ "$got" = "$sum" ] || { echo "FAIL: host: $SHARE_DIR/$rel does not hold what the guest wrote"; bad=$((bad + 1)); }
  done < "$RES/host-checks.tsv"
  if [ $bad = 0 ]; then echo "PASS: host: $n file(s) written in the guest are in ganesha's export dir"; passed=$((passed + 1))
  else failed=$((failed + 1)); fi
fi

cp -r "$RES"/. "$OUT"/ 2>/dev/null
[ -s "$OUT/timings.tsv" ] && { echo "timings (ms):"; sed 's/^/  /' "$OUT/timings.tsv"; } >&2
finish "$passed" "$failed"

#!/usr/bin/env bash
# Runs the upstream csi-sanity against this driver: starts bin/csi-driver on the local backend in
# a fresh temp directory (--health-api v1.12, the spec csi-sanity v5 knows), runs csi-sanity from
# $CSI_SANITY or PATH, stops the driver and exits with csi-sanity's exit code.
#
#   csi-sanity/run.sh [extra csi-sanity arguments, e.g. --ginkgo.focus=Node --ginkgo.v]
#
# Environment: CSI_SANITY (path of the binary), CSI_SANITY_TMPDIR (where the temp directory goes;
# default $TMPDIR or /tmp), CSI_SANITY_KEEP=1 (keep the temp directory and driver log),
# CSI_SANITY_OPTIONAL=1 (the optional features too: the driver with --enable-attach and
# --max-volumes-per-node 4, csi-sanity with --csi.testvolumemutableparameters mutable-params.yaml
# for ControllerModifyVolume and --csi.testnodevolumeattachlimit).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"

sanity="${CSI_SANITY:-}"
if [[ -z "$sanity" ]]; then
  sanity="$(command -v csi-sanity || true)"
fi
if [[ -z "$sanity" || ! -x "$sanity" ]]; then
  echo "csi-sanity/run.sh: no csi-sanity binary found${CSI_SANITY:+ at CSI_SANITY=$CSI_SANITY}." >&2
  echo "  Put csi-sanity on PATH or set CSI_SANITY=/path/to/csi-sanity; csi-sanity/README.md says where to get it." >&2
  exit 127
fi
if [[ ! -f "$repo/dist/src/main.js" ]]; then
  echo "csi-sanity/run.sh: the driver is not built; run 'npm run build' in $repo first." >&2
  exit 2
fi

work="$(mktemp -d "${CSI_SANITY_TMPDIR:-${TMPDIR:-/tmp}}/csi-sanity.XXXXXX")"
socket="$work/csi.sock"
log="$work/driver.log"
driver_pid=""
driver_extra=()
sanity_extra=()
if [[ "${CSI_SANITY_OPTIONAL:-0}" == "1" ]]; then
  driver_extra=(--enable-attach --max-volumes-per-node 4)
  sanity_extra=(--csi.testvolumemutableparameters "$here/mutable-params.yaml" --csi.testnodevolumeattachlimit)
fi

cleanup() {
  if [[ -n "$driver_pid" ]] && kill -0 "$driver_pid" 2>/dev/null; then
    kill -TERM "$driver_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
  # A failed spec can leave mounts behind: take them off (deepest first) before removing anything.
  grep -F " $work/" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do
    umount -l "$(printf '%b' "$m")" 2>/dev/null || true
  done
  if [[ "${CSI_SANITY_KEEP:-0}" == "1" ]]; then
    echo "csi-sanity/run.sh: kept $work (driver log: $log)" >&2
  else
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$repo/bin/csi-driver" \
  --endpoint "unix://$socket" \
  --node-id node-1 \
  --mode all \
  --backend local \
  --local-dir "$work/share" \
  --state-dir "$work/state" \
  --kubelet-dir "$work" \
  --health-port 0 \
  --health-api v1.12 \
  "${driver_extra[@]}" \
  >"$log" 2>&1 &
driver_pid=$!

for _ in $(seq 1 200); do
  [[ -S "$socket" ]] && break
  if ! kill -0 "$driver_pid" 2>/dev/null; then
    echo "csi-sanity/run.sh: the driver exited before it listened:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ ! -S "$socket" ]]; then
  echo "csi-sanity/run.sh: the driver did not create $socket within 20s:" >&2
  tail -n 40 "$log" >&2
  exit 1
fi

# csi-sanity makes --csi.mountdir and --csi.stagingdir itself (plain mkdir), so they must not exist yet.
"$sanity" \
  --csi.endpoint "unix://$socket" \
  --csi.mountdir "$work/mnt" \
  --csi.stagingdir "$work/stage" \
  --csi.testvolumeparameters "$here/params.yaml" \
  "${sanity_extra[@]}" \
  "$@"
code=$?
if [[ $code -ne 0 ]]; then
  echo "csi-sanity/run.sh: csi-sanity exited $code; last lines of the driver log:" >&2
  tail -n 40 "$log" >&2
fi
exit $code

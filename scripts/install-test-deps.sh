#!/bin/bash
# Installs what the host tests need from Debian: bindfs (a FUSE daemon whose SIGSTOP/SIGKILL
# makes a mount hang or fail exactly like a dead NFS server), util-linux mount tools, tar.
# Idempotent: installs only what is missing, and needs root only then.
set -euo pipefail
need=()
for p in bindfs fuse3 util-linux mount tar; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: missing ${need[*]}; installing needs root (apt-get). The full tests mount volumes and need root anyway: run them as root, or run 'npm run test:unit' (no root)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq -o DPkg::Lock::Timeout=600
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${need[@]}"
fi
command -v bindfs >/dev/null
# Tools of the manifest, alert-rule and status-page tests (promtool, kubectl, Chromium).
if [ -x "$(dirname "$0")/install-deploy-tools.sh" ]; then "$(dirname "$0")/install-deploy-tools.sh"; fi

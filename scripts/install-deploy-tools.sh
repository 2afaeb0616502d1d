#!/usr/bin/env bash
# Installs the Debian tools that the deployment checks use, each only when it is missing:
#   promtool (package prometheus)    promtool check rules / test rules / check metrics
#   chromium                         the status-page test (driven by playwright-core)
#   kubectl (package kubernetes-client, when the release has it)   kubectl kustomize
# Safe to run again; needs root (CI runs as root). Tests that need a tool skip, naming it,
# only when the tool is still absent after this script.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deploy-tools: run as root (apt-get install)" >&2
  exit 1
fi

apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600)
wanted=()

command -v promtool >/dev/null 2>&1 || wanted+=(prometheus)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || wanted+=(chromium)
need_kubectl=0
command -v kubectl >/dev/null 2>&1 || need_kubectl=1

if [ "${#wanted[@]}" -eq 0 ] && [ "$need_kubectl" -eq 0 ]; then
  echo "install-deploy-tools: promtool, chromium and kubectl are already installed"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -q

if [ "$need_kubectl" -eq 1 ]; then
  if apt-cache show kubernetes-client >/dev/null 2>&1; then
    wanted+=(kubernetes-client)
  else
    echo "install-deploy-tools: no kubernetes-client package in this Debian release; the kustomize render checks will skip"
  fi
fi

if [ "${#wanted[@]}" -gt 0 ]; then
  echo "install-deploy-tools: installing ${wanted[*]}"
  apt-get install "${apt_opts[@]}" "${wanted[@]}"
fi

# The prometheus package starts a server through its maintainer scripts where an init system
# runs; the checks need only the promtool binary.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus || true
fi

for tool in promtool chromium kubectl; do
  if command -v "$tool" >/dev/null 2>&1; then
    echo "install-deploy-tools: $tool -> $(command -v "$tool")"
  else
    echo "install-deploy-tools: $tool is not available"
  fi
done

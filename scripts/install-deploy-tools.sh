#!/usr/bin/env bash
# Installs the Debian tools that the deployment checks use, each only when it is missing:
#   promtool (package prometheus)    promtool check rules / test rules / check metrics
#   chromium                         the status-page test (driven by playwright-core)
#   kubectl (package kubernetes-client, when the release has it)   kubectl kustomize
# Safe to run again. Needs root only when something is missing (CI runs as root); without root
# it says what is missing and leaves it: the tests that need a tool skip, naming it.
# The prometheus package is installed for its promtool only: its service is neither started
# during the install nor left enabled at boot.
set -euo pipefail

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

if [ "$(id -u)" -ne 0 ]; then
  missing="${wanted[*]}"
  [ "$need_kubectl" -eq 1 ] && missing="$missing kubectl"
  echo "install-deploy-tools: missing:$missing; installing needs root (apt-get): run 'sudo bash scripts/install-deploy-tools.sh'; the tests that need them will skip" >&2
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

# Services of the packages (the prometheus server) must not start during the install: a
# policy-rc.d that says 101 (action not allowed) for the time of the install, unless one exists.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ "${#wanted[@]}" -gt 0 ] && [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
  trap '[ "$own_policy" -eq 1 ] && rm -f "$policy"' EXIT
fi

if [ "${#wanted[@]}" -gt 0 ]; then
  echo "install-deploy-tools: installing ${wanted[*]}"
  apt-get install "${apt_opts[@]}" "${wanted[@]}"
fi

# The checks need only the promtool binary: the prometheus server the package brings is stopped
# and not started at boot (systemd and sysvinit links alike).
if [[ " ${wanted[*]} " == *" prometheus "* ]]; then
  if command -v systemctl >/dev/null 2>&1; then
    systemctl stop prometheus >/dev/null 2>&1 || true
    systemctl disable prometheus >/dev/null 2>&1 || true
  fi
  if command -v update-rc.d >/dev/null 2>&1 && [ -e /etc/init.d/prometheus ]; then update-rc.d prometheus disable >/dev/null 2>&1 || true; fi
  echo "install-deploy-tools: the prometheus service is disabled (only promtool is used)"
fi

for tool in promtool chromium kubectl; do
  if command -v "$tool" >/dev/null 2>&1; then
    echo "install-deploy-tools: $tool -> $(command -v "$tool")"
  else
    echo "install-deploy-tools: $tool is not available"
  fi
done

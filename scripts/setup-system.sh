#!/usr/bin/env bash
# Installs the Debian packages the tests, the demo and the benchmarks need (real servers and real
# clients: no mocks), when any is missing. Idempotent and quiet when everything is present.
# catatonit: podman's pod infra (pause) container needs it; podman only recommends it.
# Extra packages a component needs are listed one per line in scripts/system-packages.txt.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base=(
  redis-server redis-tools memcached libmemcached-tools nginx-light mariadb-server mariadb-client netcat-openbsd
  nutcracker wrk prometheus nghttp2-client curl openssl ca-certificates procps psmisc iproute2
  podman buildah runc uidmap debootstrap catatonit
)
mapfile -t extra < <(grep -vE '^\s*(#|$)' "$root/scripts/system-packages.txt" 2>/dev/null || true)
missing=()
for p in "${base[@]}" "${extra[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "system packages: all present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "missing Debian packages (run as root to install): ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Package maintainer scripts try to start services; the tests start their own on free ports.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
rm -f /usr/sbin/policy-rc.d
echo "system packages: installed"

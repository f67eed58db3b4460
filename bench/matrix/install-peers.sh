#!/usr/bin/env bash
# bench/matrix/install-peers.sh: installs from Debian (apt-get) the peers and tools the benchmark
# matrix needs that are missing here: crun, runc, systemd-nspawn (systemd-container), QEMU
# (qemu-system-x86), gnuplot (gnuplot-nox), jq and cpio. Installs nothing when all are present;
# when apt-get fails (no network, not Debian) it says so and the matrix skips what is missing.
set -euo pipefail

declare -A package_of=([crun]=crun [runc]=runc [systemd-nspawn]=systemd-container
  [qemu-system-x86_64]=qemu-system-x86 [gnuplot]=gnuplot-nox [jq]=jq [cpio]=cpio)
missing=()
for tool in crun runc systemd-nspawn qemu-system-x86_64 gnuplot jq cpio; do
  command -v "$tool" >/dev/null || missing+=("${package_of[$tool]}")
done
((${#missing[@]})) || exit 0
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "install-peers: missing ${missing[*]}, and cannot apt-get here: those modes will be skipped" >&2
  exit 0
fi
echo "install-peers: apt-get install ${missing[*]}" >&2
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2; then
  echo "install-peers: apt-get failed: what is still missing will be skipped" >&2
fi

#!/usr/bin/env bash
# Installs the Debian packages the test suites and the lab use, only those missing.
# Needs root (it runs apt-get); as another user it says what to install instead.
set -euo pipefail

# command -> Debian package
declare -A needed=(
  [ip]=iproute2
  [bird]=bird2
  [gobgpd]=gobgpd
  [arping]=arping
  [ndisc6]=ndisc6
  [ping]=iputils-ping
  [curl]=curl
  [tcpdump]=tcpdump
  [unzip]=unzip
  [socat]=socat
  [sysctl]=procps
  [setcap]=libcap2-bin
)
[[ " $* " == *" --bench "* ]] && needed[keepalived]=keepalived  # npm run bench:failover's VRRP anchor only

missing=()
for cmd in "${!needed[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${needed[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing Debian packages: ${missing[*]}" >&2
  echo "hint: as root run: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

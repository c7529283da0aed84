#!/usr/bin/env bash
# Installs the Debian packages the test suites and the lab use, only those missing.
# Checks packages, not commands: another package's command of the same name (iputils-arping's
# arping, which takes other options and prints other output) would pass a `command -v` check
# and break the suites; installing `arping` replaces it (the two conflict).
# Needs root (it runs apt-get); as another user it says what to install instead.
#   --bench   also what `npm run bench:failover` needs (keepalived, its VRRP anchor)
#   --list    print the packages this run would check, one a line, and exit
set -euo pipefail

packages=(
  iproute2      # ip, ss, bridge: the namespaces and their links
  bird2         # the router of the lab and of the BGP interop suites
  gobgpd        # the second BGP peer of the interop suites and bench:bgp's anchor
  arping        # ARP requests from a client namespace (Thomas Habets' arping, not iputils')
  ndisc6        # neighbour solicitations from a client namespace
  iputils-ping  # ping
  curl          # HTTP through the VIPs
  tcpdump       # what is on the wire
  unzip         # unpacks kubectl and helm for the kubectl suites
  socat         # the lab's API forwarder
  nginx         # the lab's ingress controller (run by the lab with its own config; the system service stays off)
  procps        # sysctl
  libcap2-bin   # setcap, for the capabilities suites
  nftables      # nft: test/membership/cut-netns.test.ts blocks the membership port between two nodes
)
[[ " $* " == *" --bench "* ]] && packages+=(keepalived)
if [[ " $* " == *" --list "* ]]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$pkg")
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

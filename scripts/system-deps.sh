#!/usr/bin/env bash
# Install the Debian packages named as arguments, once (default: Chromium for the browser tests);
# `make test` asks for chromium postgresql redis-server nginx, `make run-prod` for the last three.
set -eu
packages=("$@")
[ ${#packages[@]} -gt 0 ] || packages=(chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null

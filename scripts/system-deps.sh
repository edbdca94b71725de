#!/usr/bin/env bash
# Install the Debian packages the project needs, once: Chromium for the browser tests by default,
# or the packages named as arguments (the production profile asks for postgresql redis-server nginx).
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

#!/usr/bin/env bash
# Installs what the e2e rig needs when it is missing (a fast no-op otherwise):
#   - Debian packages: kamailio + its WebSocket module, chromium + chromium-driver
#     (kamailio's base package already has htable, auth, nathelper, xhttp, ctl, usrloc...),
#   - the npm dev-dependencies (npm ci) when playwright-core or esbuild is missing,
#   - tests/e2e/build/jssip.js: the jssip npm package bundled for the browser (window.JsSIP).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

say() { printf 'rig-setup: %s\n' "$*"; }

pkgs=(kamailio kamailio-websocket-modules chromium chromium-driver)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for m in websocket xhttp htable auth nathelper ctl usrloc registrar; do
  [ -f "/usr/lib/x86_64-linux-gnu/kamailio/modules/$m.so" ] || [ -n "$(find /usr/lib -path "*/kamailio/modules/$m.so" -print -quit 2>/dev/null)" ] \
    || { echo "rig-setup: kamailio module $m.so not found" >&2; exit 1; }
done

if [ ! -f node_modules/playwright-core/package.json ] || [ ! -x node_modules/.bin/esbuild ] || [ ! -f node_modules/jssip/package.json ]; then
  say "installing npm dev-dependencies"
  npm ci --no-audit --no-fund
fi

out=tests/e2e/build/jssip.js
if [ ! -s "$out" ] || [ node_modules/jssip/package.json -nt "$out" ] || [ package-lock.json -nt "$out" ]; then
  say "bundling jssip -> $out"
  mkdir -p tests/e2e/build
  node_modules/.bin/esbuild node_modules/jssip/lib/JsSIP.js --bundle --format=iife --global-name=JsSIP \
    --platform=browser --target=es2020 --log-level=warning --outfile="$out"
fi

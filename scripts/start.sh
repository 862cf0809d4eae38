#!/usr/bin/env bash
# `npm start`: installs what is missing (the build tools, and Kamailio + Chromium of the e2e rig),
# builds the package, then runs a local SIP server (the rig's Kamailio on ws://127.0.0.1:8088/)
# and serves the demo softphone on http://127.0.0.1:8080/www-demo/ with two demo accounts.
# Ctrl-C stops both. PORT, SIP_WS_PORT and SIP_PORT change the ports (8080, 8088, 5060).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
bash tests/rig/setup.sh
npm run build --silent
exec node scripts/serve.mjs --kamailio "$@"

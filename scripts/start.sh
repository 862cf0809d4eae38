#!/usr/bin/env bash
# Builds the package and serves the demo page on 127.0.0.1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec node scripts/serve.mjs

#!/usr/bin/env bash
# The e2e suite: installs what the rig needs (tests/rig/setup.sh), then runs
# tests/e2e/*.test.mjs with node's test runner, one file at a time (each test starts
# its own Kamailio and Chromium; the machine has 2 cores).
# Extra arguments go to node --test, e.g. tests/e2e/run.sh --test-name-pattern=call
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash tests/rig/setup.sh
exec node --test --test-concurrency=1 --test-timeout=120000 "$@" tests/e2e/

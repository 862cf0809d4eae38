#!/usr/bin/env bash
# Type-checks tests/pkg/consumer.ts against the built package (pkg/: run `npm run build` first)
# with `tsc --strict --noEmit` (TypeScript pinned in the root package.json).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[ -f pkg/index.d.ts ] && [ -f pkg/sipwasm.d.ts ] || { echo "tests/pkg: pkg/ is not built (npm run build)" >&2; exit 1; }
[ -x node_modules/.bin/tsc ] || npm ci --no-audit --no-fund
npx --no-install tsc -p tests/pkg/tsconfig.json
echo "tests/pkg: typings OK (tsc $(npx --no-install tsc --version | awk '{print $2}') --strict)"

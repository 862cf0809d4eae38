#!/usr/bin/env bash
# Every test of the project (what `npm test` and CI run). Installs what is missing first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n=== %s\n' "$*"; }
start=$(date +%s)

step "setup"
bash scripts/setup.sh

step "rustfmt"
cargo fmt --all -- --check

step "clippy (native, all targets)"
cargo clippy --all-targets -- -D warnings

step "clippy (wasm32 shell with its browser tests, and the bench exports)"
cargo clippy --target wasm32-unknown-unknown --features bench --all-targets -- -D warnings

step "cargo test (core: parser, RFC 4475, call flows, digest, transactions, fuzz-style)"
cargo test

step "browser unit tests of the shell (wasm-bindgen-test in headless Chromium)"
bash tests/rig/setup.sh
CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web

step "release wasm build (npm package), its smoke test in Node, the name minifier, its typings under tsc --strict, its size beside JsSIP and SIP.js"
bash scripts/build.sh
node tests/pkg-smoke.mjs
node tests/pkg/minify-names.mjs
bash tests/pkg/run.sh
node bench/size.mjs

step "parser benchmark correctness check (ours, JsSIP, SIP.js on the corpus)"
bash bench/build-wasm.sh >/dev/null
node bench/parse.mjs --check

step "browser end-to-end tests (Kamailio + headless Chromium + JsSIP peers)"
bash tests/e2e/run.sh

printf '\nall tests passed in %ss\n' "$(( $(date +%s) - start ))"

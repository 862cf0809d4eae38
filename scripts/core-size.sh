#!/usr/bin/env bash
# Weighs the SIP core alone: bench/core-size (the core behind a byte-buffer ABI, no
# browser shell, no wasm-bindgen) built with the package's release profile and
# wasm-opt flags. Prints raw / gzip -9 / brotli like scripts/build.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
OUT=target/core-size
# --cfg sipwasm_noweb leaves src/web out of the sipwasm library (src/lib.rs); the
# rustflags of .cargo/config.toml still apply (cargo appends --config arrays).
(cd bench/core-size && CARGO_TARGET_DIR=../../$OUT bash ../../scripts/cargo-wasm-release.sh \
  --config "target.wasm32-unknown-unknown.rustflags=['--cfg','sipwasm_noweb']")
node_modules/.bin/wasm-opt -Oz --converge --low-memory-unused --strip-producers --strip-target-features --strip-debug \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
  --enable-reference-types --enable-multivalue \
  "$OUT/wasm32-unknown-unknown/release/sipwasm_core_size.wasm" -o "$OUT/core.wasm"
node scripts/sizes.mjs "$OUT/core.wasm"

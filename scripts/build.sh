#!/usr/bin/env bash
# Builds the npm package into pkg/: the release wasm, the wasm-bindgen ES-module glue
# (--target web), wasm-opt -Oz (npm `binaryen`), and the files of pkg-template/.
# Prints the size of the .wasm and the JS glue: raw, gzip -9 and brotli.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

cargo build --release --target wasm32-unknown-unknown
rm -rf pkg
wasm-bindgen --target web --out-dir pkg target/wasm32-unknown-unknown/release/sipwasm.wasm
WASM_OPT=node_modules/.bin/wasm-opt
if [ ! -x "$WASM_OPT" ]; then
  echo "build: $WASM_OPT missing: run npm ci (binaryen is a dev-dependency)" >&2
  exit 1
fi
# The features rustc enables by default for wasm32 (bulk memory, sign extension, ...).
# --low-memory-unused lets wasm-opt fold constant offsets into loads and stores: the low
# 1 KiB is the far end of the 1 MiB stack (rustc links wasm32 stack-first), never used.
# --converge repeats -Oz while it still shrinks; --strip-producers drops the toolchain note.
"$WASM_OPT" -Oz --converge --low-memory-unused --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg/sipwasm_bg.wasm -o pkg/sipwasm_bg.wasm
cp -r pkg-template/. pkg/
node scripts/sizes.mjs pkg/sipwasm_bg.wasm pkg/sipwasm.js pkg/index.js | tee pkg/sizes.txt

#!/usr/bin/env bash
# Builds the npm package into pkg/: the release wasm (size-optimised profile), the
# wasm-bindgen ES-module glue (--target web) and the files of pkg-template/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

cargo build --release --target wasm32-unknown-unknown
rm -rf pkg
wasm-bindgen --target web --out-dir pkg target/wasm32-unknown-unknown/release/sipwasm.wasm
cp -r pkg-template/. pkg/
wasm=$(stat -c %s pkg/sipwasm_bg.wasm)
glue=$(stat -c %s pkg/sipwasm.js)
echo "build: pkg/ ready (sipwasm_bg.wasm $wasm bytes, sipwasm.js $glue bytes)"

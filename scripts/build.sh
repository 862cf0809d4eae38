#!/usr/bin/env bash
# Builds the npm package into pkg/: the release wasm (scripts/cargo-wasm-release.sh),
# the wasm-bindgen ES-module glue (--target web), wasm-opt -Oz (npm `binaryen`), short
# import and export names in both (scripts/minify-names.mjs), and the files of
# pkg-template/, with the JS bundled into one minified index.js (npm `esbuild`). Prints
# the size of the .wasm and the JS (raw, gzip -9, brotli): what a page downloads.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/cargo-wasm-release.sh
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
# --converge repeats -Oz while it still shrinks; --strip-producers and
# --strip-target-features drop the toolchain note and the feature list (read by
# wasm-bindgen, which has run; browsers ignore it).
"$WASM_OPT" -Oz --converge --low-memory-unused --strip-producers --strip-target-features --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg/sipwasm_bg.wasm -o pkg/sipwasm_bg.wasm
# Short names for the imports and exports (wasm-bindgen's long names, many with a
# 16-hex-digit hash), in the .wasm, the glue and the typings of the raw exports.
node scripts/minify-names.mjs pkg/sipwasm_bg.wasm pkg/sipwasm.js pkg/sipwasm.d.ts pkg/sipwasm_bg.wasm.d.ts
cp -r pkg-template/. pkg/
# One minified ES module: the entry, the wasm-bindgen glue and its inline snippets
# (esbuild, a dev-dependency). Exports, the wasm import names and
# `new URL('sipwasm_bg.wasm', import.meta.url)` are kept; local names are not
# (--keep-names would cost 1 KB gzip: index.js names the two exported classes itself).
# The glue's typings (sipwasm.d.ts) stay for index.d.ts.
node_modules/.bin/esbuild pkg/index.js --bundle --minify --sourcemap --format=esm \
  --target=es2020 --log-level=warning --outfile=pkg/index.bundle.js
mv pkg/index.bundle.js pkg/index.js
# The source map (with the unminified sources inside) for stack traces and debuggers.
sed -i "s/index.bundle.js.map/index.js.map/" pkg/index.js
mv pkg/index.bundle.js.map pkg/index.js.map
rm -rf pkg/sipwasm.js pkg/snippets
node scripts/sizes.mjs pkg/sipwasm_bg.wasm pkg/index.js | tee pkg/sizes.txt

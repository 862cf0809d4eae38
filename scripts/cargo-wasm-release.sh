#!/usr/bin/env bash
# `cargo build --release --target wasm32-unknown-unknown` as the npm package ships it;
# scripts/build.sh, bench/build-wasm.sh and scripts/core-size.sh build through it, so the
# package, the parser benchmark and the core-size measurement are the same code. Extra
# arguments go to cargo (e.g. --features bench, --config ...).
#
# The standard library is rebuilt with the crate (-Zbuild-std, from the toolchain's
# rust-src component, which scripts/setup.sh adds):
#   - panics abort at once (-Cpanic=immediate-abort) and carry no source locations
#     (-Zlocation-detail=none): std's panic message code (core::fmt) and the location
#     strings leave the wasm. Nothing observable is lost: on wasm32-unknown-unknown std
#     prints a panic message nowhere, and the page sees the same `unreachable` trap;
#   - std goes through the same fat LTO as the crate;
#   - std and the crate are built without the reference-types and multivalue features
#     (-Ctarget-feature): wasm-bindgen then keeps JS objects in its JS-side heap array
#     instead of a wasm externref table, and the wasm's externref shims are gone. With the
#     precompiled std, which declares reference types, wasm-bindgen insisted on them.
# std's crates are built at opt-level 3, as the precompiled std is: at "z" the parser
# was 10–25 % slower (bench/parse.mjs). Cargo says the package specs "did not match any
# packages"; they do apply (they change the size and the speed), so that line is dropped.
# These are -Z flags, taken by the stable toolchain with RUSTC_BOOTSTRAP=1 (the toolchain's
# own escape hatch): a toolchain without them fails here, loudly.
# Measured (scripts/build.sh): −8.8 KB gzip against the precompiled std, and −1.3 KB more
# without reference types and multivalue (wasm −1.6 KB, JS glue +0.3 KB).
set -euo pipefail
std_opt=()
for p in core alloc std compiler_builtins; do
  std_opt+=(--config "profile.release.package.$p.opt-level=3")
done
RUSTC_BOOTSTRAP=1 cargo build --release --target wasm32-unknown-unknown \
  -Zbuild-std=std,panic_abort \
  --config "target.wasm32-unknown-unknown.rustflags=['-Zunstable-options','-Cpanic=immediate-abort','-Zlocation-detail=none','-Ctarget-feature=-reference-types,-multivalue']" \
  "${std_opt[@]}" "$@" 2> >(grep -v 'did not match any packages' >&2)

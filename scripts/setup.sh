#!/usr/bin/env bash
# Installs what the build and the tests need when it is missing, on a fresh Debian
# machine with a Rust toolchain (rustup) and Node.js/npm:
#   - the rustfmt, clippy and rust-src components (rust-src: the release build rebuilds
#     std, scripts/cargo-wasm-release.sh) and the wasm32-unknown-unknown target,
#   - wasm-bindgen-cli of exactly the version that Cargo.lock pins,
#   - the npm dev-dependencies (npm ci).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf 'setup: %s\n' "$*"; }

command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust with rustup first" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup: npm not found: install Node.js 20+ first" >&2; exit 1; }

for c in rustfmt clippy rust-src; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$c"; then
    say "adding rustup component $c"; rustup component add "$c"
  fi
done
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding target wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown
fi

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
[ -n "$want" ] || { echo "setup: wasm-bindgen not found in Cargo.lock" >&2; exit 1; }
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (found: ${have:-none})"
  cargo install wasm-bindgen-cli --version "$want" --force
fi

if [ ! -d node_modules ] || ! npm ls --depth=0 >/dev/null 2>&1; then
  say "installing npm dev-dependencies"; npm ci --no-audit --no-fund
fi
say "ok (wasm-bindgen $want)"

#!/usr/bin/env bash
# Build the sipwasm crate for the parse benchmark (bench/parse.mjs):
#   bash scripts/cargo-wasm-release.sh --features bench   (the package's release build)
#   wasm-bindgen --target web --out-dir bench/wasm target/wasm32-unknown-unknown/release/sipwasm.wasm
# The output (bench/wasm/, git-ignored) is loaded in Node with initSync().
#
# Environment:
#   CARGO_PROFILE  cargo profile to build (default: release, built as the package
#                  is; another profile is a plain cargo build).
#   WASM_BINDGEN   wasm-bindgen binary (default: wasm-bindgen on PATH, then
#                  ~/.cargo/bin/wasm-bindgen). Must match the crate's pinned
#                  wasm-bindgen version (0.2.130).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PROFILE="${CARGO_PROFILE:-release}"
OUT_DIR="bench/wasm"
WANT_BINDGEN="0.2.130"

die() { echo "build-wasm.sh: error: $*" >&2; exit 1; }

BINDGEN="${WASM_BINDGEN:-}"
if [[ -z "$BINDGEN" ]]; then
  if command -v wasm-bindgen >/dev/null 2>&1; then
    BINDGEN="$(command -v wasm-bindgen)"
  elif [[ -x "$HOME/.cargo/bin/wasm-bindgen" ]]; then
    BINDGEN="$HOME/.cargo/bin/wasm-bindgen"
  else
    die "wasm-bindgen not found (expected wasm-bindgen-cli $WANT_BINDGEN on PATH or in ~/.cargo/bin)"
  fi
fi
HAVE_BINDGEN="$("$BINDGEN" --version | awk '{print $2}')"
[[ "$HAVE_BINDGEN" == "$WANT_BINDGEN" ]] \
  || die "$BINDGEN is version $HAVE_BINDGEN, the crate pins wasm-bindgen =$WANT_BINDGEN"

set -x
if [[ "$PROFILE" == "release" ]]; then
  # Built as the package is (std rebuilt, see the script): the parser measured is the shipped one.
  bash scripts/cargo-wasm-release.sh --features bench
  PROFILE_DIR=release
else
  cargo build --profile "$PROFILE" --target wasm32-unknown-unknown --features bench
  PROFILE_DIR="$PROFILE"
fi
rm -rf "$OUT_DIR"
"$BINDGEN" --target web --out-dir "$OUT_DIR" "target/wasm32-unknown-unknown/$PROFILE_DIR/sipwasm.wasm"
{ set +x; } 2>/dev/null

# Recorded so the benchmark output says exactly what was measured.
cat > "$OUT_DIR/build-info.json" <<EOF
{
  "profile": "$PROFILE",
  "features": ["bench"],
  "rustc": "$(rustc --version)",
  "wasmBindgen": "$HAVE_BINDGEN",
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
EOF

ls -l "$OUT_DIR"
for f in sipwasm.js sipwasm_bg.wasm; do
  [[ -f "$OUT_DIR/$f" ]] || die "wasm-bindgen did not produce $OUT_DIR/$f"
done
echo "build-wasm.sh: OK ($PROFILE) -> $OUT_DIR/ ; now: npm run bench:parse"

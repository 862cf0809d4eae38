#!/bin/sh
# Fills the libFuzzer corpus of parse_message with the project's SIP messages:
# bench/corpus/*.sip, tests/vectors/rfc4475/*.dat and any hand-made fuzz/seeds/*.
# Usage (from anywhere): sh fuzz/seed.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/fuzz/corpus/parse_message"
mkdir -p "$dest"
for f in "$root"/bench/corpus/*.sip "$root"/tests/vectors/rfc4475/*.dat "$root"/fuzz/seeds/*; do
    [ -f "$f" ] || continue
    cp "$f" "$dest/seed-$(basename "$f")"
    chmod u+w "$dest/seed-$(basename "$f")"
done
echo "$(ls "$dest" | wc -l) files in $dest"

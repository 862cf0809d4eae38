// Gives the wasm's imports from the glue short names, in the .wasm and in the glue alike:
//   node scripts/minify-imports.mjs pkg/sipwasm_bg.wasm pkg/sipwasm.js
// wasm-bindgen names each import `__wbg_<name>_<16 hex digits>` (the digits keep
// imports of different crates apart). ~130 such names, once in the .wasm's import
// section and once as keys of the glue's import object, are 4 KB of gzip (random hex
// does not compress). Both files are rewritten in place: each import of the glue's
// module gets a name `_0`, `_1`, ... (base 36), as does its key in the glue's import
// object; the script fails rather than write a pair that does not link (see below).
// Exports (what the typings name) keep theirs. Tested by tests/pkg/minify-imports.mjs.
import fs from 'node:fs';

const [wasmPath, gluePath] = process.argv.slice(2);
const MODULE = './sipwasm_bg.js';
const b = fs.readFileSync(wasmPath);

function leb(i) {
  let r = 0, s = 0, x;
  do { x = b[i++]; r += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80);
  return [r, i];
}
function enc(n) {
  const out = [];
  do { let x = n % 128; n = Math.floor(n / 128); out.push(n ? x | 0x80 : x); } while (n);
  return Buffer.from(out);
}
function str(i) {
  const [len, j] = leb(i);
  return [b.subarray(j, j + len).toString('utf8'), j + len];
}
const encStr = (s) => { const e = Buffer.from(s, 'utf8'); return Buffer.concat([enc(e.length), e]); };

if (b.readUInt32LE(0) !== 0x6d736100) throw new Error(`${wasmPath}: not a wasm module`);
const parts = [b.subarray(0, 8)];
const mapping = new Map();
let i = 8;
while (i < b.length) {
  const id = b[i];
  const [size, start] = leb(i + 1);
  const end = start + size;
  if (id !== 2) {
    parts.push(b.subarray(i, end));
    i = end;
    continue;
  }
  const [count, first] = leb(start);
  const sec = [enc(count)];
  let k = first;
  for (let n = 0; n < count; n++) {
    let mod, name;
    [mod, k] = str(k);
    [name, k] = str(k);
    const descStart = k;
    const kind = b[k++];
    if (kind === 0) [, k] = leb(k); // function: type index
    else if (kind === 1 || kind === 2) { // table (ref type + limits) or memory (limits)
      if (kind === 1) k++;
      let flags; [flags, k] = leb(k); [, k] = leb(k);
      if (flags & 1) [, k] = leb(k);
    } else if (kind === 3) k += 2; // global: value type + mutability
    else if (kind === 4) { k++; [, k] = leb(k); } // tag
    else throw new Error(`import kind ${kind}`);
    if (mod === MODULE) {
      if (!mapping.has(name)) mapping.set(name, `_${mapping.size.toString(36)}`);
      name = mapping.get(name);
    }
    sec.push(encStr(mod), encStr(name), b.subarray(descStart, k));
  }
  if (k !== end) throw new Error('import section: unexpected length');
  const body = Buffer.concat(sec);
  parts.push(Buffer.from([2]), enc(body.length), body);
  i = end;
}

let glue = fs.readFileSync(gluePath, 'utf8');
if (mapping.size === 0) throw new Error(`${wasmPath}: no imports from ${MODULE} (has wasm-bindgen's layout changed?)`);
// Only keys of the import object are rewritten (`    name: function(` at the start of a
// line, wasm-bindgen's layout); each import must have exactly one such key and appear
// nowhere else in the glue, else the rename could leave the wasm an import the glue does
// not provide.
const seen = new Map();
glue = glue.replace(/^(\s+)([A-Za-z_$][\w$]*)(: function\()/gm, (m, indent, w, rest) => {
  const to = mapping.get(w);
  if (to === undefined) return m;
  seen.set(w, (seen.get(w) ?? 0) + 1);
  return indent + to + rest;
});
for (const name of mapping.keys()) {
  if (seen.get(name) !== 1) throw new Error(`glue: import ${name} is a key ${seen.get(name) ?? 0} times, not once`);
  if (new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`).test(glue)) {
    throw new Error(`glue: import ${name} is named outside the import object`);
  }
}
const out = Buffer.concat(parts);
if (!WebAssembly.validate(out)) throw new Error('the rewritten module does not validate');
fs.writeFileSync(wasmPath, out);
fs.writeFileSync(gluePath, glue);
console.log(`minify-imports: ${mapping.size} imports renamed`);

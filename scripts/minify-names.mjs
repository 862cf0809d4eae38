// Gives the wasm's imports and exports short names, in the .wasm, the glue and the glue's
// typings alike:
//   node scripts/minify-names.mjs pkg/sipwasm_bg.wasm pkg/sipwasm.js [TYPINGS.d.ts ...]
// wasm-bindgen names each import `__wbg_<name>_<16 hex digits>` (the digits keep imports
// of different crates apart) and each export after its Rust item
// (`phoneoperator_setSessionStaticStatus`, closure shims with a hash). ~130 imports and
// ~90 exports, each once in the .wasm and once or more in the glue, are several KB of
// gzip (random hex does not compress). The files are rewritten in place:
// - each import of the glue's module gets a name `_0`, `_1`, ... (base 36), as does its key
//   in the glue's import object;
// - each export the glue uses (`wasm.NAME`) gets `$0`, `$1`, ..., at every `wasm.NAME` of
//   the glue and in the typings of the raw exports (`readonly NAME:` of `InitOutput`,
//   `export const NAME:` of `sipwasm_bg.wasm.d.ts`); `memory` and exports the glue does
//   not use keep their names. The package's API (classes, methods, typings) is the
//   glue's, not the raw exports', and does not change.
// The script fails, writing nothing, rather than write a set of files that does not link
// (see the checks below). Tested by tests/pkg/minify-names.mjs.
import fs from 'node:fs';

const [wasmPath, gluePath, ...typingPaths] = process.argv.slice(2);
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
const word = (name) => name.replace(/\$/g, '\\$');

let glue = fs.readFileSync(gluePath, 'utf8');
if (b.readUInt32LE(0) !== 0x6d736100) throw new Error(`${wasmPath}: not a wasm module`);
const imports = new Map();
const exports = new Map();
const parts = [b.subarray(0, 8)];
let i = 8;
while (i < b.length) {
  const id = b[i];
  const [size, start] = leb(i + 1);
  const end = start + size;
  if (id !== 2 && id !== 7) {
    parts.push(b.subarray(i, end));
    i = end;
    continue;
  }
  const [count, first] = leb(start);
  const sec = [enc(count)];
  let k = first;
  for (let n = 0; n < count; n++) {
    if (id === 2) {
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
        if (!imports.has(name)) imports.set(name, `_${imports.size.toString(36)}`);
        name = imports.get(name);
      }
      sec.push(encStr(mod), encStr(name), b.subarray(descStart, k));
    } else {
      let name;
      [name, k] = str(k);
      const descStart = k;
      k++; // kind
      [, k] = leb(k); // index
      if (name !== 'memory' && new RegExp(`(?<![\\w$])wasm\\.${word(name)}(?![\\w$])`).test(glue)) {
        exports.set(name, `$${exports.size.toString(36)}`);
        name = exports.get(name);
      }
      sec.push(encStr(name), b.subarray(descStart, k));
    }
  }
  if (k !== end) throw new Error(`section ${id}: unexpected length`);
  const body = Buffer.concat(sec);
  parts.push(Buffer.from([id]), enc(body.length), body);
  i = end;
}

if (imports.size === 0) throw new Error(`${wasmPath}: no imports from ${MODULE} (has wasm-bindgen's layout changed?)`);
if (exports.size === 0) throw new Error(`${wasmPath}: no export is used as wasm.NAME by the glue (has wasm-bindgen's layout changed?)`);
// Imports: only keys of the import object are rewritten (`    name: function(` at the
// start of a line, wasm-bindgen's layout); each import must have exactly one such key and
// appear nowhere else in the glue, else the rename could leave the wasm an import the glue
// does not provide.
const seen = new Map();
glue = glue.replace(/^(\s+)([A-Za-z_$][\w$]*)(: function\()/gm, (m, indent, w, rest) => {
  const to = imports.get(w);
  if (to === undefined) return m;
  seen.set(w, (seen.get(w) ?? 0) + 1);
  return indent + to + rest;
});
for (const name of imports.keys()) {
  if (seen.get(name) !== 1) throw new Error(`glue: import ${name} is a key ${seen.get(name) ?? 0} times, not once`);
  if (new RegExp(`(?<![\\w$])${word(name)}(?![\\w$])`).test(glue)) {
    throw new Error(`glue: import ${name} is named outside the import object`);
  }
}
// Exports: every `wasm.NAME` is rewritten. The glue must reach exports no other way (a
// `wasm[...]` lookup, a destructuring or an alias would miss the rename): besides
// `wasm.NAME`, `wasm` may only be declared, assigned the instance's exports, compared
// with undefined or returned (as `InitOutput`, whose typings are renamed below).
for (const [name, to] of exports) {
  glue = glue.replace(new RegExp(`(?<![\\w$])wasm\\.${word(name)}(?![\\w$])`, 'g'), () => `wasm.${to}`);
}
const ALLOWED = [/^let (?:[\w$]+, )*wasm;/, /^wasm = instance\.exports;/, /^return wasm;/, /^wasm !== undefined/];
for (const line of glue.split('\n')) {
  for (const m of line.matchAll(/(?<![\w$./])wasm(?![\w$])/g)) {
    const at = line.slice(m.index);
    const from = line.slice(0, m.index).match(/(?:let (?:[\w$]+, )*|return )$/)?.[0] ?? '';
    if (/^wasm\.[A-Za-z_$]/.test(at) || ALLOWED.some((re) => re.test(from + at))) continue;
    throw new Error(`glue: wasm used other than as wasm.NAME: ${line.trim()}`);
  }
}
// Typings of the raw exports (`InitOutput` of the glue's typings, all of
// `sipwasm_bg.wasm.d.ts`): the declarations are renamed; any other mention there fails.
// (Outside `InitOutput` the glue's typings name the API, e.g. `inspectMessage()`.)
const typings = typingPaths.map((p) => {
  const text = fs.readFileSync(p, 'utf8');
  const m = text.match(/^export interface InitOutput \{\n[\s\S]*?^\}/m);
  const [from, to] = m ? [m.index, m.index + m[0].length] : [0, text.length];
  let t = text.slice(from, to);
  for (const [name, short] of exports) {
    t = t.replace(new RegExp(`^(\\s*(?:readonly|export const) )${word(name)}:`, 'gm'), (_, decl) => `${decl}${short}:`);
    if (new RegExp(`(?<![\\w$])${word(name)}(?![\\w$])`).test(t)) {
      throw new Error(`${p}: export ${name} is named other than in a declaration`);
    }
  }
  return [p, text.slice(0, from) + t + text.slice(to)];
});
const out = Buffer.concat(parts);
if (!WebAssembly.validate(out)) throw new Error('the rewritten module does not validate');
fs.writeFileSync(wasmPath, out);
fs.writeFileSync(gluePath, glue);
for (const [p, t] of typings) fs.writeFileSync(p, t);
console.log(`minify-names: ${imports.size} imports and ${exports.size} exports renamed`);

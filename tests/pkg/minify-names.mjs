// scripts/minify-names.mjs on a hand-made module with two imports and two exports: the
// imports renamed in the .wasm and at the glue's import-object keys, the export the glue
// uses renamed in the .wasm, at `wasm.NAME` and in the raw-export typings (the one it does
// not use and `memory` keep their names); and refused (exit 1, files untouched) when an
// import name also appears elsewhere in the glue or is not a key there, or when the glue
// could reach an export other than as `wasm.NAME`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const script = new URL('../../scripts/minify-names.mjs', import.meta.url).pathname;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minify-names-'));
const str = (s) => [s.length, ...Buffer.from(s)];
const sec = (id, body) => [id, body.length, ...body];
const A = '__wbg_alpha_0123456789abcdef', B = '__wbg_beta_fedcba9876543210';
const F = 'phoneoperator_hold', G = '__unused_export';
const wasm = Buffer.from([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
  ...sec(1, [1, 0x60, 0, 0]), // one type: () -> ()
  ...sec(2, [2, ...str('./sipwasm_bg.js'), ...str(A), 0, 0, ...str('./sipwasm_bg.js'), ...str(B), 0, 0]),
  ...sec(3, [2, 0, 0]), // two functions of type 0
  ...sec(5, [1, 0, 1]), // a memory of one page
  ...sec(7, [3, ...str('memory'), 2, 0, ...str(F), 0, 2, ...str(G), 0, 3]),
  ...sec(10, [2, 2, 0, 0x0b, 2, 0, 0x0b]), // two empty bodies
]);
const glue = `let wasm;
function getImports() {
    const import0 = {
        ${A}: function() {},
        ${B}: function(arg0) {},
    };
    return { './sipwasm_bg.js': import0 };
}
export class PhoneOperator { hold() { return wasm.${F}(); } }
function finish(instance) {
    wasm = instance.exports;
    return wasm;
}
`;
const dts = `export class PhoneOperator { hold(): void; }
export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly ${F}: () => void;
}
`;
const bgDts = `export const memory: WebAssembly.Memory;\nexport const ${F}: () => void;\n`;

function run(glueText) {
  const files = { 'm.wasm': wasm, 'g.js': glueText, 'g.d.ts': dts, 'bg.d.ts': bgDts };
  for (const [f, c] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), c);
  let ok = true;
  try {
    execFileSync('node', [script, ...Object.keys(files).map((f) => path.join(dir, f))], { stdio: 'pipe' });
  } catch {
    ok = false;
  }
  const read = (f) => fs.readFileSync(path.join(dir, f), f.endsWith('.wasm') ? undefined : 'utf8');
  return { ok, wasm: read('m.wasm'), glue: read('g.js'), dts: read('g.d.ts'), bgDts: read('bg.d.ts') };
}

assert.ok(WebAssembly.validate(wasm));
const good = run(glue);
assert.ok(good.ok);
const mod = new WebAssembly.Module(good.wasm);
assert.deepEqual(WebAssembly.Module.imports(mod).map((i) => i.name), ['_0', '_1']);
assert.deepEqual(WebAssembly.Module.exports(mod).map((e) => e.name), ['memory', '$0', G]);
assert.match(good.glue, /^ {8}_0: function\(\) \{\},\n {8}_1: function\(arg0\) \{\},$/m);
assert.ok(!good.glue.includes('__wbg_'));
assert.ok(good.glue.includes('hold() { return wasm.$0(); }'));
assert.ok(!good.glue.includes(F));
assert.ok(good.dts.includes('    readonly $0: () => void;') && good.dts.includes('hold(): void;'));
assert.equal(good.bgDts, 'export const memory: WebAssembly.Memory;\nexport const $0: () => void;\n');
// the renamed pair links and runs
const inst = new WebAssembly.Instance(mod, { './sipwasm_bg.js': { _0() {}, _1() {} } });
assert.equal(typeof inst.exports.$0, 'function');

for (const bad of [
  `// see ${B}\n${glue}`,
  glue.replace(`${A}: function`, `["${A}"]: function`),
  glue.replace(`${B}: function(arg0) {},`, ''),
  `${glue}const h = wasm['${F}'];\n`,
  `${glue}const { ${F}: h } = wasm;\n`,
  `${glue}const w = wasm;\n`,
]) {
  const r = run(bad);
  assert.ok(!r.ok, bad);
  assert.deepEqual(r.wasm, wasm);
  assert.equal(r.glue, bad);
  assert.equal(r.dts, dts);
  assert.equal(r.bgDts, bgDts);
}
fs.rmSync(dir, { recursive: true });
console.log('minify-names: OK');

// scripts/minify-imports.mjs on a hand-made module with two imports: renamed in the
// .wasm and at the glue's import-object keys, and refused (exit 1, files untouched) when
// an import name also appears elsewhere in the glue or is not a key there.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const script = new URL('../../scripts/minify-imports.mjs', import.meta.url).pathname;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minify-imports-'));
const str = (s) => [s.length, ...Buffer.from(s)];
const A = '__wbg_alpha_0123456789abcdef', B = '__wbg_beta_fedcba9876543210';
const imports = [2, ...str('./sipwasm_bg.js'), ...str(A), 0, 0, ...str('./sipwasm_bg.js'), ...str(B), 0, 0];
const wasm = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 2, imports.length, ...imports]);
const glue = `function getImports() {\n    const import0 = {\n        ${A}: function() {},\n        ${B}: function(arg0) {},\n    };\n    return { './sipwasm_bg.js': import0 };\n}\n`;

function run(glueText) {
  fs.writeFileSync(path.join(dir, 'm.wasm'), wasm);
  fs.writeFileSync(path.join(dir, 'g.js'), glueText);
  try {
    execFileSync('node', [script, path.join(dir, 'm.wasm'), path.join(dir, 'g.js')], { stdio: 'pipe' });
    return { ok: true, wasm: fs.readFileSync(path.join(dir, 'm.wasm')), glue: fs.readFileSync(path.join(dir, 'g.js'), 'utf8') };
  } catch {
    return { ok: false, wasm: fs.readFileSync(path.join(dir, 'm.wasm')), glue: fs.readFileSync(path.join(dir, 'g.js'), 'utf8') };
  }
}

assert.ok(WebAssembly.validate(wasm));
const good = run(glue);
assert.ok(good.ok);
assert.deepEqual(WebAssembly.Module.imports(new WebAssembly.Module(good.wasm)).map((i) => i.name), ['_0', '_1']);
assert.match(good.glue, /^ {8}_0: function\(\) \{\},\n {8}_1: function\(arg0\) \{\},$/m);
assert.ok(!good.glue.includes('__wbg_'));

for (const bad of [`// see ${B}\n${glue}`, glue.replace(`${A}: function`, `["${A}"]: function`), glue.replace(`${B}: function(arg0) {},`, '')]) {
  const r = run(bad);
  assert.ok(!r.ok, bad);
  assert.deepEqual(r.wasm, wasm);
  assert.equal(r.glue, bad);
}
fs.rmSync(dir, { recursive: true });
console.log('minify-imports: OK');

// Download size of a softphone SDK, ours beside JsSIP and SIP.js, measured in one run:
//   npm run bench:size            (after npm run build; prints the table)
//   node bench/size.mjs --json F   (also writes the figures as JSON)
// Each library is bundled from a small entry in bench/size/ the way an app would ship it
// (esbuild --bundle --minify, ES module, browser platform); ours adds the .wasm the
// package fetches. Sizes: raw, gzip -9 and brotli (quality 11), by scripts/sizes.mjs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sizes } from '../scripts/sizes.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const wasm = path.join(root, 'pkg/sipwasm_bg.wasm');
if (!fs.existsSync(wasm)) {
  console.error('bench/size: pkg/ is missing: run npm run build first');
  process.exit(2);
}
const esbuild = path.join(root, 'node_modules/.bin/esbuild');
const version = (name) => JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-size-'));

function bundle(entry) {
  const file = path.join(out, `${entry}.js`);
  execFileSync(esbuild, [path.join(root, 'bench/size', `${entry}.mjs`), '--bundle', '--minify', '--format=esm',
    '--platform=browser', '--target=es2020', '--log-level=error', `--outfile=${file}`]);
  return fs.readFileSync(file);
}

const rows = [];
const js = sizes(bundle('ours'));
const bin = sizes(fs.readFileSync(wasm));
rows.push({ name: 'ours: JS', ...js });
rows.push({ name: 'ours: .wasm', ...bin });
rows.push({ name: 'ours (JS + .wasm)', raw: js.raw + bin.raw, gzip: js.gzip + bin.gzip, brotli: js.brotli + bin.brotli });
rows.push({ name: `JsSIP ${version('jssip')}`, ...sizes(bundle('jssip')) });
rows.push({ name: `SIP.js ${version('sip.js')}`, ...sizes(bundle('sipjs')) });
fs.rmSync(out, { recursive: true });

const base = rows.find((r) => r.name.startsWith('JsSIP')).gzip;
const n = (x) => x.toLocaleString('en-US').padStart(9);
console.log(`${'bundle'.padEnd(20)} ${'raw'.padStart(9)} ${'gzip -9'.padStart(9)} ${'brotli'.padStart(9)}  gzip vs JsSIP`);
for (const r of rows) console.log(`${r.name.padEnd(20)} ${n(r.raw)} ${n(r.gzip)} ${n(r.brotli)}  ${(r.gzip / base).toFixed(2)}x`);
const json = process.argv.indexOf('--json');
if (json > 0) fs.writeFileSync(process.argv[json + 1], JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));

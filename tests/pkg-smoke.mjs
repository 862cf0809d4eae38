// The built npm package (pkg/) loads as an ES module and its parser answers.
import fs from 'node:fs';
import assert from 'node:assert/strict';
import { initSync, inspectMessage, PhoneOperator, Session } from '../pkg/index.js';

initSync({ module: fs.readFileSync(new URL('../pkg/sipwasm_bg.wasm', import.meta.url)) });
const ok = inspectMessage(fs.readFileSync(new URL('../bench/corpus/05-invite.sip', import.meta.url), 'utf8'));
assert.match(ok, /^OK: /);
assert.match(ok, /Call-ID 8jqa3ndcmv0uf0a2ncb4/);
assert.match(ok, /\r\nContent-Length: 2059\r\n/);
const bad = inspectMessage('OPTIONS sip:a@b SIP/7.0\r\nCSeq: 1 OPTIONS\r\n\r\n');
assert.match(bad, /^MALFORMED: .*505/);
assert.equal(inspectMessage('\r\n\r\n').startsWith('keep-alive ping'), true);
assert.match(inspectMessage(42), /^MALFORMED/);
assert.match(inspectMessage('x'.repeat(70000)), /^MALFORMED/);
const pkg = JSON.parse(fs.readFileSync(new URL('../pkg/package.json', import.meta.url), 'utf8'));
assert.equal(pkg.type, 'module');
for (const f of pkg.files.filter((f) => !f.endsWith('/'))) assert.ok(fs.existsSync(new URL(`../pkg/${f}`, import.meta.url)), f);
// The JS is minified; the exported classes keep their names (pkg-template/index.js).
assert.equal(PhoneOperator.name, 'PhoneOperator');
assert.equal(Session.name, 'Session');
console.log('pkg smoke test: OK');

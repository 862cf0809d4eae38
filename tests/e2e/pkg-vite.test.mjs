// The npm package as an npm user gets it: pkg/ packed (`npm pack`, so package.json's "files"
// are what ships), installed into a copy of tests/pkg/vite-app, built with `vite build`
// (production), served as static files and opened in Chromium, where the app registers
// through Kamailio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startKamailio, USERS, DOMAIN } from '../rig/kamailio.mjs';
import { launchBrowser, startStaticServer, REPO } from '../rig/browser.mjs';
import { until } from './helpers.mjs';

const run = promisify(execFile);
const APP = path.join(REPO, 'tests/pkg/vite-app');
const VITE = path.join(REPO, 'node_modules/vite/bin/vite.js');

/** Packs pkg/, installs the tarball into a temp copy of the app, runs `vite build`; returns { dir, dist, log }. */
async function buildApp() {
  assert.ok(fs.existsSync(path.join(REPO, 'pkg/package.json')), 'pkg/ is not built (npm run build)');
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sipwasm-vite-'));
  for (const f of ['index.html', 'main.js']) await fsp.copyFile(path.join(APP, f), path.join(dir, f));
  const { stdout: packed } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: path.join(REPO, 'pkg') });
  const tarball = JSON.parse(packed)[0].filename;
  const manifest = JSON.parse(await fsp.readFile(path.join(APP, 'package.json'), 'utf8'));
  manifest.dependencies = { sipwasm: `file:./${tarball}` };
  await fsp.writeFile(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: dir });
  const { stdout, stderr } = await run(process.execPath, [VITE, 'build', '--logLevel', 'info'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
  return { dir, dist: path.join(dir, 'dist'), log: stdout + stderr };
}

test('vite build of an app importing the package; it registers through Kamailio', async () => {
  const t0 = Date.now();
  const app = await buildApp();
  let kam = null;
  let server = null;
  let browser = null;
  try {
    // the wasm went through Vite's asset pipeline (hashed name) and the glue points at it
    const assets = await fsp.readdir(path.join(app.dist, 'assets'));
    const wasm = assets.find((f) => /^sipwasm_bg-.*\.wasm$/.test(f));
    assert.ok(wasm, `no hashed .wasm among the built assets: ${assets}\n${app.log}`);
    const js = assets.filter((f) => f.endsWith('.js')).map((f) => fs.readFileSync(path.join(app.dist, 'assets', f), 'utf8')).join('\n');
    assert.ok(js.includes(wasm), 'the bundle does not reference the emitted .wasm');
    const buildMs = Date.now() - t0;

    kam = await startKamailio();
    server = await startStaticServer({ root: app.dist });
    browser = await launchBrowser({ server });
    const q = new URLSearchParams({ server: kam.wsUrl, uri: `sip:1001@${DOMAIN}`, password: USERS['1001'] });
    const page = await browser.newPage(`/?${q}`, 'vite-app');
    await until(() => page.evaluate(() => window.app?.state), { what: 'the app to start' });
    await until(() => page.evaluate(() => window.app.state === 'registered' || window.app.state.startsWith('error') || window.app.state.startsWith('failed')),
      { timeoutMs: 15000, what: 'registered' });
    assert.equal(await page.evaluate(() => window.app.error), null);
    assert.equal(await page.textContent('#state'), 'registered');
    assert.deepEqual((await page.evaluate(() => window.app.events)).map(([n]) => n), ['connected', 'registered', 'isRegisteredChange']);
    assert.equal(await page.evaluate(() => window.app.ResultCode.INVALID_NUMBER), -209);

    const ul = await kam.ulDump();
    assert.deepEqual(Object.keys(ul), ['1001']);
    assert.equal(ul['1001'][0].userAgent, 'sipwasm-vite-app');
    // the page fetched the wasm from the bundle's assets, nothing failed to load
    const failed = browser.console.filter((l) => l.type === 'requestfailed' || l.type === 'pageerror');
    assert.deepEqual(failed, []);
    console.log(`vite build ${buildMs} ms; registered after ${Date.now() - t0} ms in all`);
  } catch (e) {
    if (kam) console.error(`---- kamailio log ----\n${kam.log(200)}`);
    if (browser) browser.printConsole();
    console.error(`---- vite build ----\n${app.log}`);
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.close();
    if (kam) await kam.dispose().catch(() => {});
    await fsp.rm(app.dir, { recursive: true, force: true });
  }
});

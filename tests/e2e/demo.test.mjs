// The demo as `npm start` runs it (scripts/serve.mjs --kamailio: the rig's Kamailio + the demo
// server, as a child process), driven like a person would in the rig's Chromium.
// The screenshot tests/e2e/screenshots/demo-registered.png is written when missing or with
// UPDATE_SCREENSHOTS=1 (so a test run leaves the work tree clean).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { USERS, DOMAIN } from '../rig/kamailio.mjs';
import { launchBrowser, REPO } from '../rig/browser.mjs';
import { until, FAILURE_DIR, startDemoProcess } from './helpers.mjs';

const SCREENSHOT = path.join(REPO, 'tests/e2e/screenshots/demo-registered.png');

/** Ctrl-C: the process exits 0 and Kamailio is gone with its temp dir. */
async function interrupt(demo) {
  demo.child.kill('SIGINT');
  const { code } = await demo.exited;
  assert.equal(code, 0, demo.output());
  assert.match(demo.output(), /SIGINT: stopping Kamailio\.\.\.\nstopped\./);
  assert.equal(fs.existsSync(demo.kamDir), false, 'Kamailio temp dir removed');
}

async function withDemo(fn) {
  const demo = await startDemoProcess();
  let browser = null;
  let page = null;
  try {
    const origin = new URL(demo.demoUrl).origin;
    browser = await launchBrowser({ server: { url: origin, close: async () => {} } });
    await browser.context.pages()[0]?.setViewportSize({ width: 1000, height: 760 });
    page = await browser.newPage('/www-demo/', 'demo');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
    await fn({ demo, browser, page });
    await browser.close();
    browser = null;
    await interrupt(demo);
  } catch (e) {
    console.error(`---- serve.mjs output ----\n${demo.output()}`);
    try { console.error(`---- kamailio log ----\n${fs.readFileSync(path.join(demo.kamDir, 'kamailio.log'), 'utf8').split('\n').slice(-150).join('\n')}`); } catch { /* gone */ }
    if (browser) {
      browser.printConsole();
      fs.mkdirSync(FAILURE_DIR, { recursive: true });
      if (page && !page.isClosed()) console.error(`screenshot: ${await browser.screenshot(page, 'demo', FAILURE_DIR).catch(() => '-')}`);
    }
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill('SIGINT');
      await demo.exited;
    }
  }
}

const text = (page, sel) => page.textContent(sel).then((t) => t.trim());

test('demo: prefilled for the local server; Connect registers 1001, Disconnect removes the contact', async () => {
  await withDemo(async ({ demo, page }) => {
    // npm start's defaults: the local server and the first demo account
    assert.equal(await page.inputValue('#server'), demo.wsUrl);
    assert.equal(await page.inputValue('#uri'), `sip:1001@${DOMAIN}`);
    assert.equal(await text(page, '#badge'), 'offline');
    assert.equal(await page.isDisabled('#disconnect'), true);

    await page.fill('#server', demo.wsUrl);
    await page.fill('#uri', `sip:1001@${DOMAIN}`);
    await page.fill('#password', USERS['1001']);
    await page.fill('#displayName', 'Alice Demo');
    await page.click('#connect');
    await page.waitForFunction(() => document.getElementById('reg-state').textContent === 'registered', null, { timeout: 15000 });
    assert.equal(await text(page, '#conn-state'), 'connected');
    assert.equal(await text(page, '#badge'), 'registered');
    assert.equal(await text(page, '#last-failure'), 'none');
    assert.equal(await page.isDisabled('#connect'), true);
    assert.equal(await page.isDisabled('#uri'), true);
    const log = await page.$$eval('#log li b', (bs) => bs.map((b) => b.textContent));
    assert.deepEqual(log, ['start', 'connected', 'registered', 'isRegisteredChange']);

    const ul = await demo.ulDump();
    assert.deepEqual(Object.keys(ul), ['1001']);
    assert.equal(ul['1001'][0].userAgent, 'sipwasm-demo');

    // settings kept, the password not ("remember password" is off)
    const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('sipwasm-demo.settings')));
    assert.deepEqual(stored, { server: demo.wsUrl, uri: `sip:1001@${DOMAIN}`, displayName: 'Alice Demo', dtmfMode: 'rfc4733', recordPermissions: 2, rememberPassword: false });

    // the inspector panel still works
    await page.click('#inspector summary');
    assert.match(await text(page, '#inspect-out'), /^OK: /);
    await page.click('#inspector summary');

    if (!fs.existsSync(SCREENSHOT) || process.env.UPDATE_SCREENSHOTS === '1') {
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
    }

    await page.click('#disconnect');
    await until(async () => Object.keys(await demo.ulDump()).length === 0, { what: 'contact removed' });
    await page.waitForFunction(() => document.getElementById('badge').textContent === 'offline', null, { timeout: 5000 });
    assert.equal(await text(page, '#reg-state'), 'not registered');
    assert.equal(await text(page, '#conn-state'), 'disconnected');
    assert.equal(await page.isDisabled('#connect'), false);
    const tail = (await page.$$eval('#log li b', (bs) => bs.map((b) => b.textContent))).slice(4);
    assert.deepEqual(tail, ['disconnect', 'isRegisteredChange', 'disconnected']);
  });
});

test('demo: a wrong password shows the failure; the remembered password comes back after a reload', async () => {
  await withDemo(async ({ demo, page }) => {
    await page.click('#account-buttons button:has-text("1002")');
    assert.equal(await page.inputValue('#uri'), `sip:1002@${DOMAIN}`);
    await page.fill('#password', 'wrong');
    await page.click('#connect');
    await page.waitForFunction(() => /^401\b/.test(document.getElementById('last-failure').textContent), null, { timeout: 15000 });
    assert.equal(await text(page, '#reg-state'), 'not registered');
    assert.equal(await text(page, '#badge'), 'registration failed');
    assert.deepEqual(await demo.ulDump(), {});
    await page.click('#disconnect');
    await page.waitForFunction(() => document.getElementById('badge').textContent === 'offline', null, { timeout: 5000 });

    // a bad config is reported in the page, nothing is started
    await page.fill('#server', 'ws://pbx.example.com/ws');
    await page.click('#connect');
    assert.match(await text(page, '#form-error'), /PhoneConfig\.server/);
    assert.equal(await text(page, '#badge'), 'offline');

    await page.fill('#server', demo.wsUrl);
    await page.fill('#password', USERS['1002']);
    await page.check('#rememberPassword');
    await page.click('#connect');
    await page.waitForFunction(() => document.getElementById('reg-state').textContent === 'registered', null, { timeout: 15000 });
    assert.deepEqual(Object.keys(await demo.ulDump()), ['1002']);

    // reloading (pagehide destroys the phone: un-REGISTER) keeps the settings and the password
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
    await until(async () => Object.keys(await demo.ulDump()).length === 0, { what: 'un-REGISTER on reload' });
    assert.equal(await page.inputValue('#uri'), `sip:1002@${DOMAIN}`);
    assert.equal(await page.inputValue('#password'), USERS['1002']);
    assert.equal(await page.isChecked('#rememberPassword'), true);
    // unticking forgets it at once
    await page.uncheck('#rememberPassword');
    const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('sipwasm-demo.settings')));
    assert.equal('password' in stored, false);
  });
});

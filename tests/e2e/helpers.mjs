// Shared plumbing of the e2e tests: one Kamailio + one Chromium per test, everything
// cleaned up afterwards, and on failure Kamailio's log, the browser console and a
// screenshot of every page are printed / saved.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFile } from 'node:child_process';
import assert from 'node:assert/strict';
import { startKamailio, parseUlDump, USERS, DOMAIN } from '../rig/kamailio.mjs';
import { launchBrowser, REPO } from '../rig/browser.mjs';

export { USERS, DOMAIN };
export const PEER_PAGE = '/tests/e2e/peer.html';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Where failing tests leave their screenshots. */
export const FAILURE_DIR = path.join(os.tmpdir(), 'sipwasm-e2e-failures');

/**
 * Runs fn({ kam, browser, openPeer }) with a fresh Kamailio and Chromium (launched with
 * `browserOptions`, see launchBrowser).
 * openPeer(user) opens tests/e2e/peer.html in a new tab named after the user.
 */
export async function withRig(fn, { kamailio = {}, browser = true, browserOptions = {} } = {}) {
  let kam = null;
  let b = null;
  const pages = [];
  try {
    kam = await startKamailio(kamailio);
    if (browser) b = await launchBrowser(browserOptions);
    const openPeer = async (name) => {
      const page = await b.newPage(PEER_PAGE, name);
      pages.push({ name, page });
      await page.waitForFunction(() => window.peer !== undefined, null, { timeout: 10000 });
      return page;
    };
    return await fn({ kam, browser: b, openPeer });
  } catch (err) {
    await report(err, kam, b, pages);
    throw err;
  } finally {
    if (b) await b.close().catch((e) => console.error('closing the browser:', e));
    if (kam) await kam.dispose().catch((e) => console.error('stopping kamailio:', e));
  }
}

async function report(err, kam, b, pages) {
  const out = [`\n======== e2e failure: ${err?.message?.split('\n')[0]}`];
  if (kam) out.push(`---- kamailio log (${kam.logFile}) ----`, kam.log(400), '---- end of kamailio log ----');
  if (b) out.push(`---- browser console ----`, b.consoleText(), '---- end of browser console ----');
  if (b && pages.length) {
    fs.mkdirSync(FAILURE_DIR, { recursive: true });
    for (const { name, page } of pages) {
      if (page.isClosed()) continue;
      try { out.push(`screenshot ${name}: ${await b.screenshot(page, name, FAILURE_DIR)}`); } catch { /* page gone */ }
    }
  }
  console.error(out.join('\n'));
}

/** Registers `user` (password from USERS unless given) from `page`; returns peer.register()'s result. */
export function register(page, kam, user, password = USERS[user], extra = {}) {
  const debug = process.env.JSSIP_DEBUG === '1'; // JsSIP's own logs (every SIP message) in the console
  return page.evaluate((o) => window.peer.register(o), { wsUrl: kam.wsUrl, user, password, domain: DOMAIN, debug, ...extra });
}

/** Polls fn() until it returns a truthy value (returned) or the timeout passes (throws). */
export async function until(fn, { timeoutMs = 5000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(intervalMs);
  }
  throw new Error(`timeout waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** Starts `node scripts/serve.mjs --kamailio` on free ports; resolves once it printed its URLs. */
export async function startDemoProcess() {
  const child = spawn(process.execPath, ['scripts/serve.mjs', '--kamailio', '--port', '0', '--ws-port', '0', '--sip-port', '0'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await until(() => /Ctrl-C stops/.test(out) || child.exitCode !== null, { timeoutMs: 20000, intervalMs: 50, what: 'serve.mjs to start' });
  assert.match(out, /Ctrl-C stops/, `serve.mjs did not start:\n${out}`);
  const demoUrl = /open\s+(http:\S+)/.exec(out)[1];
  const wsUrl = /SIP server\s+(ws:\S+)/.exec(out)[1];
  const ctlSock = /kamcmd -s unix:(\S+) ul\.dump/.exec(out)[1];
  const ulDump = () => new Promise((resolve, reject) => execFile('kamcmd', ['-s', `unix:${ctlSock}`, 'ul.dump'], { timeout: 5000 },
    (err, stdout) => (err ? reject(err) : resolve(parseUlDump(stdout)))));
  return { child, exited, output: () => out, demoUrl, wsUrl, kamDir: path.dirname(ctlSock), ulDump };
}

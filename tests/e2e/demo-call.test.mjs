// Calls in the demo (www-demo/, as `npm start` runs it: scripts/serve.mjs --kamailio), driven
// like a person would: 1001 registers in the demo, a JsSIP peer page (tests/e2e/peer.html,
// served by the rig's static server: serve.mjs serves only the demo) registers 1002.
// Out: dial 1002 on the dial pad, the peer auto-answers, the call list shows 'talking' with a
// running timer, Hang up ends the peer's call. In: the peer calls 1001, the incoming panel
// shows it, Answer, talking, Hang up. Video: remote <video> and the local preview shown.
// In-call controls (second test, DTMF mode 'SIP INFO' in the settings): Hold/Resume seen by
// the JsSIP peer, Mute, the keypad's digits arriving as INFO in order, the callReport line,
// and a blind transfer to a second JsSIP peer (1003) that ends our call.
// The screenshots tests/e2e/screenshots/demo-talking.png and demo-incall.png are written when
// missing or with UPDATE_SCREENSHOTS=1 (so a test run leaves the work tree clean).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { USERS, DOMAIN } from '../rig/kamailio.mjs';
import { launchBrowser, startStaticServer, REPO } from '../rig/browser.mjs';
import { until, register, FAILURE_DIR, PEER_PAGE, startDemoProcess } from './helpers.mjs';

const SCREENSHOT = path.join(REPO, 'tests/e2e/screenshots/demo-talking.png');
const SCREENSHOT_INCALL = path.join(REPO, 'tests/e2e/screenshots/demo-incall.png');

async function withDemo(fn) {
  const demo = await startDemoProcess();
  const rigServer = await startStaticServer(); // for the peer page
  let browser = null;
  const pages = [];
  try {
    const origin = new URL(demo.demoUrl).origin;
    browser = await launchBrowser({ server: { url: origin, close: async () => {} } });
    await browser.context.pages()[0]?.setViewportSize({ width: 1000, height: 760 });
    const page = await browser.newPage('/www-demo/', 'demo');
    pages.push(['demo', page]);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
    const openPeer = async (user) => {
      const p = await browser.newPage(new URL(PEER_PAGE, rigServer.url).href, `peer-${user}`);
      pages.push([`peer-${user}`, p]);
      await p.waitForFunction(() => window.peer !== undefined, null, { timeout: 10000 });
      const r = await register(p, { wsUrl: demo.wsUrl }, user);
      assert.equal(r.ok, true, `peer ${user} registration: ${JSON.stringify(r)}`);
      return p;
    };
    await fn({ demo, browser, page, openPeer });
    await browser.close();
    browser = null;
    demo.child.kill('SIGINT');
    const { code } = await demo.exited;
    assert.equal(code, 0, demo.output());
  } catch (e) {
    console.error(`---- serve.mjs output ----\n${demo.output()}`);
    try { console.error(`---- kamailio log ----\n${fs.readFileSync(path.join(demo.kamDir, 'kamailio.log'), 'utf8').split('\n').slice(-150).join('\n')}`); } catch { /* gone */ }
    if (browser) {
      browser.printConsole();
      fs.mkdirSync(FAILURE_DIR, { recursive: true });
      for (const [name, p] of pages) {
        if (!p.isClosed()) console.error(`screenshot ${name}: ${await browser.screenshot(p, name, FAILURE_DIR).catch(() => '-')}`);
      }
    }
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await rigServer.close();
    if (demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill('SIGINT');
      await demo.exited;
    }
  }
}

const text = (page, sel) => page.textContent(sel).then((t) => t.trim());
/** The rows of the call list as the page shows them. */
const rows = (page) => page.$$eval('#calls li', (lis) => lis.map((li) => ({
  callId: li.dataset.callId,
  status: li.querySelector('.status').textContent,
  direction: li.querySelector('.dir').textContent,
  name: li.querySelector('.name').textContent,
  number: li.querySelector('.number').textContent,
  timer: li.querySelector('.timer').textContent,
  seconds: Number(li.querySelector('.timer').dataset.seconds),
  audioBound: li.querySelector('audio').srcObject instanceof MediaStream,
  remoteVideoShown: !li.querySelector('.remote-video').hidden,
})));

/** Waits until the only call row has `status`; returns the row. */
async function rowStatus(page, status) {
  return until(async () => {
    const r = await rows(page);
    return r.length === 1 && r[0].status === status ? r[0] : null;
  }, { timeoutMs: 15000, intervalMs: 100, what: `call row '${status}'` });
}

/** Waits until the timer of the only row shows at least `seconds` of talk time. */
const timerAt = (page, seconds) => until(async () => {
  const [r] = await rows(page);
  return r && r.seconds >= seconds ? r : null;
}, { timeoutMs: 10000, intervalMs: 100, what: `timer >= ${seconds}` });

test('demo calls: dial 1002 from the pad, talking with a running timer, hang up; then 1002 calls, Answer, hang up; a video call', async (t) => {
  const t0 = Date.now();
  await withDemo(async ({ demo, page, openPeer }) => {
    const peer = await openPeer('1002');
    await peer.evaluate(() => { window.peer.autoAnswer = { video: false }; });
    await page.bringToFront(); // clicks in a background tab wait for animation frames that never come

    // register 1001 in the demo
    assert.equal(await page.isDisabled('#call'), true, 'Call is disabled before registration');
    await page.fill('#server', demo.wsUrl);
    await page.fill('#uri', `sip:1001@${DOMAIN}`);
    await page.fill('#password', USERS['1001']);
    await page.fill('#displayName', 'Alice Demo');
    await page.click('#connect');
    await page.waitForFunction(() => document.getElementById('reg-state').textContent === 'registered', null, { timeout: 15000 });
    assert.equal(await page.isDisabled('#call'), false);
    assert.equal(await text(page, '#no-calls'), 'No calls.');
    assert.equal(await page.isVisible('#incoming'), false);

    // ---- outbound: the dial pad, 1-0-0-2, Call ----
    for (const d of '1002') await page.click(`#pad button:text-is("${d}")`);
    assert.equal(await page.inputValue('#number'), '1002');
    await page.click('#call');
    const inc = await peer.evaluate(() => window.peer.waitFor('incoming'));
    assert.equal(inc.from, `sip:1001@${DOMAIN}`);
    await rowStatus(page, 'talking');
    // the remote stream is bound once it exists (streamAdded / confirmed)
    const out = await until(async () => ((await rows(page))[0]?.audioBound ? (await rows(page))[0] : null),
      { timeoutMs: 5000, what: 'remote audio bound to <audio>' });
    assert.equal(out.direction, '↗ outbound');
    assert.equal(out.name, '1002');
    assert.equal(out.remoteVideoShown, false, 'no video element for an audio call');
    assert.equal(await page.isHidden('#no-calls'), true);
    assert.equal(await page.evaluate(() => window.demo.phone.currentSessionID), out.callId);
    // the timer advances (updateTimer, once a second)
    const a = await timerAt(page, 1);
    const b = await timerAt(page, a.seconds + 1);
    assert.match(b.timer, /^0:0[2-9]$/);
    t.diagnostic(`outbound talking, timer ${a.timer} -> ${b.timer}`);
    // the <audio> is playing the remote stream
    assert.equal(await page.$eval('#calls audio', (el) => !el.paused && el.srcObject.getAudioTracks().length === 1), true);

    if (!fs.existsSync(SCREENSHOT) || process.env.UPDATE_SCREENSHOTS === '1') {
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }

    await page.click('#calls li .hangup');
    const ended = await peer.evaluate(() => window.peer.waitFor('ended'));
    assert.equal(ended.originator, 'remote');
    await page.waitForFunction(() => document.querySelectorAll('#calls li').length === 0, null, { timeout: 5000 });
    assert.equal(await page.isVisible('#no-calls'), true);

    // ---- inbound: 1002 calls 1001, the incoming panel, Answer ----
    await peer.evaluate(() => { window.peer.autoAnswer = null; });
    const calling = peer.evaluate(() => window.peer.call('sip:1001@sipwasm.test'));
    await page.waitForSelector('#incoming:not([hidden])', { timeout: 15000 });
    assert.equal(await text(page, '#incoming-name'), 'peer 1002');
    assert.equal(await text(page, '#incoming-number'), '1002');
    const ring = await rowStatus(page, 'ringing');
    assert.equal(ring.direction, '↙ inbound');
    assert.equal(await page.getAttribute('#incoming', 'data-call-id'), ring.callId);
    await page.click('#answer');
    assert.deepEqual(await calling, { ok: true });
    await rowStatus(page, 'talking');
    const talking = await until(async () => ((await rows(page))[0]?.audioBound ? (await rows(page))[0] : null),
      { timeoutMs: 5000, what: 'remote audio bound (inbound)' });
    assert.equal(talking.callId, ring.callId);
    assert.equal(talking.name, 'peer 1002');
    assert.equal(talking.number, '1002');
    assert.equal(await page.isVisible('#incoming'), false, 'the incoming panel is gone once answered');
    await timerAt(page, 1);

    await page.click('#calls li .hangup');
    const ended2 = await peer.evaluate(() => window.peer.waitFor('ended', { count: 2 }));
    assert.equal(ended2.originator, 'remote');
    await page.waitForFunction(() => document.querySelectorAll('#calls li').length === 0, null, { timeout: 5000 });

    // ---- a video call: remote <video> and the local preview ----
    await peer.evaluate(() => { window.peer.autoAnswer = { video: true }; });
    await page.check('#video');
    await page.click('#call');
    await rowStatus(page, 'talking');
    await page.waitForFunction(() => {
      const li = document.querySelector('#calls li');
      const v = li?.querySelector('.remote-video');
      const l = li?.querySelector('.local-video');
      return v && !v.hidden && v.videoWidth > 0 && l && !l.hidden && l.srcObject?.getVideoTracks().length === 1;
    }, null, { timeout: 10000 });
    await page.click('#calls li .hangup');
    await peer.evaluate(() => window.peer.waitFor('ended', { count: 3 }));
    await page.waitForFunction(() => document.querySelectorAll('#calls li').length === 0, null, { timeout: 5000 });

    const names = await page.$$eval('#log li b', (bs) => bs.map((x) => x.textContent));
    for (const n of ['call', 'newRTCSession', 'confirmed', 'hangup', 'ended', 'deleteSession', 'incoming', 'answer']) {
      assert.ok(names.includes(n), `event log has ${n}: ${names.join()}`);
    }
    assert.deepEqual(await page.evaluate(() => window.demo.phone.sessions.size), 0);
  });
  t.diagnostic(`runtime ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

test('demo in-call controls: Hold / Resume seen by JsSIP, Mute, the DTMF keypad by SIP INFO, the quality report, a blind transfer to 1003', async (t) => {
  const t0 = Date.now();
  await withDemo(async ({ demo, page, openPeer }) => {
    const b = await openPeer('1002');
    const c = await openPeer('1003');
    for (const p of [b, c]) await p.evaluate(() => { window.peer.autoAnswer = {}; });
    await page.bringToFront();

    await page.fill('#server', demo.wsUrl);
    await page.fill('#uri', `sip:1001@${DOMAIN}`);
    await page.fill('#password', USERS['1001']);
    await page.selectOption('#dtmfMode', 'info');
    await page.click('#connect');
    await page.waitForFunction(() => document.getElementById('reg-state').textContent === 'registered', null, { timeout: 15000 });
    assert.equal(await page.isDisabled('#dtmfMode'), true, 'DTMF mode is fixed while connected');

    await page.fill('#number', '1002');
    await page.click('#call');
    await rowStatus(page, 'talking');
    const li = '#calls li';
    assert.equal(await page.isVisible(`${li} .controls`), true, 'the controls show once talking');

    // ---- Hold, then Resume: JsSIP sees both ----
    await page.click(`${li} .hold`);
    assert.equal((await b.evaluate(() => window.peer.waitFor('hold'))).originator, 'remote');
    await page.waitForSelector(`${li}[data-hold="true"]`, { timeout: 10000 });
    assert.equal(await text(page, `${li} .hold`), 'Resume');
    assert.match(await text(page, `${li} .flags`), /on hold/);
    await page.click(`${li} .hold`);
    assert.equal((await b.evaluate(() => window.peer.waitFor('unhold'))).originator, 'remote');
    await page.waitForSelector(`${li}[data-hold="false"]`, { timeout: 10000 });
    assert.equal(await text(page, `${li} .hold`), 'Hold');

    // ---- Mute / Unmute ----
    await page.click(`${li} .mute`);
    await page.waitForSelector(`${li}[data-mute="true"]`, { timeout: 5000 });
    assert.equal(await text(page, `${li} .mute`), 'Unmute');
    await page.click(`${li} .mute`);
    await page.waitForSelector(`${li}[data-mute="false"]`, { timeout: 5000 });

    // ---- the keypad: 1, 2, # arrive at JsSIP as INFO, in order ----
    await page.click(`${li} .keypad summary`);
    for (const d of '12#') await page.click(`${li} .dtmf-keys button:text-is("${d}")`);
    const tones = await until(async () => {
      const d = await b.evaluate(() => window.peer.events.filter((e) => e.type === 'dtmf' && e.originator === 'remote').map((e) => e.tone));
      return d.length >= 3 ? d : null;
    }, { timeoutMs: 8000, what: '3 DTMF INFO at JsSIP' });
    assert.deepEqual(tones, ['1', '2', '#']);
    assert.equal(await text(page, `${li} .dtmf-sent`), '12#');

    // ---- the quality report (callReport every 3 s) ----
    await page.waitForFunction((sel) => {
      const r = document.querySelector(sel);
      return r && !r.hidden && /rx \d+ pkts/.test(r.textContent);
    }, `${li} .report`, { timeout: 10000 });
    t.diagnostic(`report: ${await text(page, `${li} .report`)}`);

    await page.fill(`${li} .transfer-number`, '1003');
    if (!fs.existsSync(SCREENSHOT_INCALL) || process.env.UPDATE_SCREENSHOTS === '1') {
      fs.mkdirSync(path.dirname(SCREENSHOT_INCALL), { recursive: true });
      await page.screenshot({ path: SCREENSHOT_INCALL, fullPage: true });
    }

    // ---- blind transfer to 1003: 1002 calls 1003, our call ends ----
    await page.click(`${li} .blind-transfer`);
    const refer = await b.evaluate(() => window.peer.waitFor('refer'));
    assert.equal(refer.target, `sip:1003@${DOMAIN}`);
    const inc = await c.evaluate(() => window.peer.waitFor('incoming', { timeoutMs: 15000 }));
    assert.equal(inc.from, `sip:1002@${DOMAIN}`);
    await c.evaluate(() => window.peer.waitFor('confirmed'));
    await page.waitForFunction(() => document.querySelectorAll('#calls li').length === 0, null, { timeout: 10000 });
    const ended = await b.evaluate(() => window.peer.waitFor('ended'));
    assert.equal(ended.originator, 'remote');
    await until(async () => (await c.evaluate(() => window.peer.stats()))?.inboundBytes > 2000, { timeoutMs: 8000, what: '1003 hears 1002' });

    const names = await page.$$eval('#log li b', (bs) => bs.map((x) => x.textContent));
    for (const n of ['hold', 'unhold', 'mute', 'unmute', 'dtmf 1', 'dtmf #', 'blindTransfer', 'ended', 'deleteSession']) {
      assert.ok(names.includes(n), `event log has ${n}: ${names.join()}`);
    }
    const bad = await page.$$eval('#log li[data-tone="bad"]', (ls) => ls.map((x) => x.textContent));
    assert.deepEqual(bad, [], 'no failure in the log');
  });
  t.diagnostic(`runtime ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

// Registration with our SDK (the built package in Chromium) through Kamailio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { withRig, until, sleep, USERS, DOMAIN } from './helpers.mjs';

const SDK_PAGE = '/tests/e2e/sdk.html';

async function openSdk(browser, name) {
  const page = await browser.newPage(SDK_PAGE, name);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 15000 });
  return page;
}

function config(kam, user, extra = {}) {
  return { server: kam.wsUrl, uri: `sip:${user}@${DOMAIN}`, password: USERS[user], log: 'warn', ...extra };
}

const events = (page) => page.evaluate(() => window.events.map(([n, p]) => [n, p]));
const names = async (page) => (await events(page)).map(([n]) => n);
const waitEvent = (page, name, what = name) =>
  until(async () => (await names(page)).includes(name), { timeoutMs: 15000, what });

test('SDK registers: events, isRegistered, Kamailio holds the contact; disconnect() removes it', async () => {
  await withRig(async ({ kam, browser }) => {
    const page = await openSdk(browser, 'sdk-1001');
    await page.evaluate((c) => window.makePhone(c), config(kam, '1001', { userAgent: 'sipwasm-e2e' }));
    await page.evaluate(() => window.phone.start());
    await waitEvent(page, 'registered');
    assert.deepEqual(await names(page), ['connected', 'registered', 'isRegisteredChange']);
    assert.equal((await events(page))[2][1], true);
    assert.equal(await page.evaluate(() => window.phone.isRegistered), true);

    const ul = await kam.ulDump();
    assert.deepEqual(Object.keys(ul), ['1001']);
    const c = ul['1001'][0];
    assert.match(c.address, /\.invalid;transport=ws\b/i, c.address);
    assert.equal(c.userAgent, 'sipwasm-e2e');
    assert.match(c.received, /^sip:127\.0\.0\.1:\d+;transport=ws$/i);

    assert.equal(await page.evaluate(() => window.phone.disconnect()), true);
    await until(async () => Object.keys(await kam.ulDump()).length === 0, { what: 'contact removed' });
    await waitEvent(page, 'disconnected');
    assert.equal(await page.evaluate(() => window.phone.isRegistered), false);
    const tail = (await names(page)).slice(3);
    assert.deepEqual(tail, ['isRegisteredChange', 'disconnected'], `events after disconnect: ${tail}`);
  });
});

test('wrong password: registrationFailed 401 at once, no retries; reRegister with the right HA1 registers', async () => {
  await withRig(async ({ kam, browser }) => {
    const page = await openSdk(browser, 'sdk-bad');
    await page.evaluate((c) => window.makePhone(c), config(kam, '1002', { password: 'wrong' }));
    await page.evaluate(() => window.phone.start());
    await waitEvent(page, 'registrationFailed');
    const failed = (await events(page)).find(([n]) => n === 'registrationFailed')[1];
    assert.equal(failed.code, 401);
    await sleep(3000); // no hammering the server with a bad password
    const fails = (await names(page)).filter((n) => n === 'registrationFailed');
    assert.equal(fails.length, 1, 'one failure, no retry');
    assert.deepEqual(await kam.ulDump(), {});

    const ha1 = crypto.createHash('md5').update(`1002:${DOMAIN}:${USERS['1002']}`).digest('hex');
    const r = await page.evaluate((h) => window.phone.reRegister('1002', h), ha1);
    assert.equal(r.code, 200, JSON.stringify(r));
    await waitEvent(page, 'registered');
    assert.deepEqual(Object.keys(await kam.ulDump()), ['1002']);
    const bad = await page.evaluate(() => window.phone.reRegister(42, null));
    assert.equal(bad.code, -201);
  });
});

test('short expiry from the registrar: the SDK refreshes before it lapses', async () => {
  await withRig(async ({ kam, browser }) => {
    const page = await openSdk(browser, 'sdk-refresh');
    await page.evaluate((c) => window.makePhone(c), config(kam, '1003'));
    await page.evaluate(() => window.phone.start());
    await waitEvent(page, 'registered');
    const first = (await kam.ulDump())['1003'][0];
    assert.ok(Number(first.expires) <= 10, `granted ${first.expires} s`);
    await sleep(14000); // beyond the 10 s granted: only a refresh keeps the binding
    const ul = await kam.ulDump();
    assert.ok(ul['1003'], 'still registered after the first expiry');
    assert.equal(await page.evaluate(() => window.phone.isRegistered), true);
    // a refresh is not a new registration for the app
    assert.equal((await names(page)).filter((n) => n === 'registered').length, 1);
  }, { kamailio: { maxExpires: 10 } });
});

test('Kamailio stops: disconnected + isRegisteredChange(false); restarts: registered again with no API call', async () => {
  await withRig(async ({ kam, browser }) => {
    const page = await openSdk(browser, 'sdk-reconnect');
    await page.evaluate((c) => window.makePhone(c), config(kam, '1004'));
    await page.evaluate(() => window.phone.start());
    await waitEvent(page, 'registered');
    await page.evaluate(() => { window.events.length = 0; });
    await kam.stop();
    await waitEvent(page, 'disconnected');
    const ev = await events(page);
    assert.deepEqual(ev.find(([n]) => n === 'isRegisteredChange'), ['isRegisteredChange', false]);
    assert.equal(await page.evaluate(() => window.phone.isRegistered), false);
    await kam.restart();
    await waitEvent(page, 'registered', 'registered again after the restart');
    assert.equal(await page.evaluate(() => window.phone.isRegistered), true);
    assert.deepEqual(Object.keys(await kam.ulDump()), ['1004']);
  });
});

test('destroy(): unregisters, closes the socket, leaves no timer and no listener', async () => {
  await withRig(async ({ kam, browser }) => {
    const page = await openSdk(browser, 'sdk-destroy');
    await page.evaluate((c) => window.makePhone(c), config(kam, '1005', { keepAliveInterval: 10 }));
    await page.evaluate(() => window.phone.start());
    await waitEvent(page, 'registered');
    assert.ok(await page.evaluate(() => window.liveTimers()) > 0, 'the SDK has a timer armed');
    await page.evaluate(() => { window.events.length = 0; window.phone.destroy(); });
    await until(async () => Object.keys(await kam.ulDump()).length === 0, { what: 'un-REGISTER' });
    await until(async () => (await page.evaluate(() => window.liveTimers())) === 0, { what: 'no live timers' });
    // CLOSING (2) or CLOSED (3): the socket is let go
    assert.ok((await page.evaluate(() => window.socketStates())).every((s) => s >= 2), 'socket closed');
    await sleep(1500);
    assert.deepEqual(await events(page), [], 'no event after destroy');
    assert.equal(await page.evaluate(() => window.liveTimers()), 0);
    assert.equal(await page.evaluate(() => { window.phone.start(); return window.phone.isRegistered; }), false);
  });
});

test('config errors: the constructor throws a clear Error and nothing is sent', async () => {
  await withRig(async ({ kam, browser }) => {
    const page = await openSdk(browser, 'sdk-config');
    const cases = [
      [{ uri: 'sip:1001@sipwasm.test', password: 'x' }, /server/],
      [{ server: 'ws://pbx.example.com/ws', uri: 'sip:1001@sipwasm.test', password: 'x' }, /server.*(ws|insecure|loopback)/i],
      [{ server: kam.wsUrl, uri: 'bob', password: 'x' }, /uri/],
      [{ server: kam.wsUrl, uri: 'sip:1001@sipwasm.test' }, /password|ha1/],
      [{ server: kam.wsUrl, uri: 'sip:1001@sipwasm.test', password: 'x', extraHeaders: ['X-A: 1\r\nVia: evil'] }, /extraHeaders/],
      [{ server: kam.wsUrl, uri: 'sip:1001@sipwasm.test', password: 'x', registerExpires: 'soon' }, /registerExpires/],
    ];
    for (const [cfg, re] of cases) {
      const e = await page.evaluate((c) => window.configError(c), cfg);
      assert.ok(e && e.startsWith('Error: PhoneConfig.'), `expected an Error for ${JSON.stringify(cfg)}, got ${e}`);
      assert.match(e, re);
    }
    assert.deepEqual(await page.evaluate(() => window.socketStates()), [], 'no WebSocket was opened');
  });
});

test("log 'debug' prints the SIP traffic but never the password or a digest response", async () => {
  await withRig(async ({ kam, browser }) => {
    const page = await openSdk(browser, 'sdk-log');
    await page.evaluate((c) => window.makePhone(c), config(kam, '1006', { log: 'debug', password: USERS['1006'] }));
    await page.evaluate(() => window.phone.start());
    await waitEvent(page, 'registered');
    const text = browser.console.filter((l) => l.page === 'sdk-log').map((l) => l.text).join('\n');
    assert.match(text, /REGISTER sip:sipwasm\.test SIP\/2\.0/, 'the REGISTER is traced');
    assert.match(text, /SIP\/2\.0 401 /, 'the challenge is traced');
    assert.match(text, /Authorization: Digest <redacted>/, 'credentials are redacted');
    assert.equal(text.includes(USERS['1006']), false, 'the password never appears');
    assert.equal(/response="?[0-9a-f]{32}/i.test(text), false, 'no digest response appears');
    // 'warn' (the default) prints none of it
    const quiet = await openSdk(browser, 'sdk-quiet');
    await quiet.evaluate((c) => window.makePhone(c), config(kam, '1005'));
    await quiet.evaluate(() => window.phone.start());
    await waitEvent(quiet, 'registered');
    assert.equal(browser.console.some((l) => l.page === 'sdk-quiet' && /REGISTER/.test(l.text)), false);
  });
});

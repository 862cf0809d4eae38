// Plumbing shared by the sdk-call*.test.mjs files: our SDK in tests/e2e/sdk.html,
// registered through the rig's Kamailio, and its recorded events.
import assert from 'node:assert/strict';
import { until, register, USERS, DOMAIN } from './helpers.mjs';

export const SDK_PAGE = '/tests/e2e/sdk.html';

/** Opens sdk.html in a new tab and waits for the package to load. */
export async function openSdk(browser, name) {
  const page = await browser.newPage(SDK_PAGE, name);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 15000 });
  return page;
}

export function sdkConfig(kam, user, extra = {}) {
  return { server: kam.wsUrl, uri: `sip:${user}@${DOMAIN}`, password: USERS[user], displayName: `sdk ${user}`, log: 'warn', ...extra };
}

/** Opens an SDK page, creates the phone for `user` and waits until it is registered. */
export async function sdkPhone(browser, kam, user, extra = {}) {
  const page = await openSdk(browser, `sdk-${user}`);
  await page.evaluate((c) => window.makePhone(c), sdkConfig(kam, user, extra));
  await page.evaluate(() => window.phone.start());
  await waitEvent(page, 'registered');
  return page;
}

/** Opens a JsSIP peer page and registers `user`. */
export async function peerPhone(openPeer, kam, user) {
  const page = await openPeer(user);
  const r = await register(page, kam, user);
  assert.equal(r.ok, true, `peer ${user} registration: ${JSON.stringify(r)}`);
  return page;
}

/** Every recorded event as [name, payload]. */
export const events = (page) => page.evaluate(() => window.events.map(([n, p]) => [n, p]));
export const names = async (page) => (await events(page)).map(([n]) => n);

/** Waits for the count-th event `name` (matching `match(payload)` if given); returns its payload. */
export async function waitEvent(page, name, { count = 1, match = () => true, timeoutMs = 15000 } = {}) {
  const hits = await until(async () => {
    const h = (await events(page)).filter(([n, p]) => n === name && match(p));
    return h.length >= count ? h : null;
  }, { timeoutMs, intervalMs: 50, what: `${name} x${count}` });
  return hits[count - 1][1];
}

/** The payloads of the session events of `callId`, as [name, payload]. */
export async function sessionEvents(page, callId) {
  return (await events(page)).filter(([n, p]) => n.startsWith('s:') && (p?.callId === callId || p?.[0]?.callId === callId));
}

/** Counters of the page: live (not closed) and reachable (not collected) RTCPeerConnections, live getUserMedia tracks, live setTimeouts, wasm memory. */
export const counters = (page) => page.evaluate(() => ({
  pcs: window.livePeerConnections(),
  reachablePcs: window.reachablePeerConnections(),
  tracks: window.liveTracks(),
  timers: window.liveTimers(),
  memory: window.wasmMemory(),
}));

/** Waits until the page has no live RTCPeerConnection and no live local track. */
export async function mediaReleased(page, what = 'media released') {
  let last = null;
  try {
    await until(async () => {
      last = await counters(page);
      return last.pcs === 0 && last.tracks === 0 ? last : null;
    }, { timeoutMs: 5000, intervalMs: 50, what });
  } catch (e) {
    throw new Error(`${e.message}: ${JSON.stringify(last)}`);
  }
}

/** Waits until RTP bytes of `field` grow by more than `min` over `ms` on `stats()`. */
export async function flowing(stats, field, { min = 2000, ms = 1500, what = field } = {}) {
  await until(async () => (await stats())?.[field] > 0, { timeoutMs: 10000, what: `first ${what}` });
  const a = (await stats())[field];
  await new Promise((r) => setTimeout(r, ms));
  const b = (await stats())[field];
  assert.ok(b - a > min, `${what}: ${a} -> ${b} bytes in ${ms} ms`);
  return b - a;
}

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

/** Waits `settleMs`, then checks that RTP bytes of `field` grow by at most `max` over `ms` on `stats()`. */
export async function still(stats, field, { max = 1000, ms = 1500, settleMs = 500, what = field } = {}) {
  await new Promise((r) => setTimeout(r, settleMs));
  const a = (await stats())[field];
  await new Promise((r) => setTimeout(r, ms));
  const b = (await stats())[field];
  assert.ok(b - a <= max, `${what} should have stopped: ${a} -> ${b} bytes in ${ms} ms`);
  return b - a;
}

/** The m-sections of an SDP by kind: { audio, video } each { port, direction, telephoneEvent, codecs } or null. */
export function sdpMedia(sdp) {
  assert.equal(typeof sdp, 'string', 'an SDP');
  const [session, ...sections] = sdp.split(/\r?\n(?=m=)/);
  const dirRe = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m;
  const sessionDir = dirRe.exec(session)?.[1] ?? 'sendrecv';
  const ms = sections.map((s) => {
    const m = /^m=(\w+) (\d+)/.exec(s);
    return {
      kind: m[1],
      port: Number(m[2]),
      direction: dirRe.exec(s)?.[1] ?? sessionDir,
      telephoneEvent: /^a=rtpmap:\d+ telephone-event\//im.test(s),
      codecs: [...s.matchAll(/^a=rtpmap:\d+ ([^/\s]+)/gim)].map((x) => x[1].toLowerCase()),
    };
  });
  return { audio: ms.find((m) => m.kind === 'audio') ?? null, video: ms.find((m) => m.kind === 'video') ?? null };
}

/** The session's current status (a plain object), or null when it is gone. */
export const statusOf = (page, callId) => page.evaluate((id) => window.phone.getSession(id)?.status ?? null, callId);

/** Waits until the status of `callId` satisfies `pred`; returns it. */
export const statusUntil = (page, callId, pred, what = 'status') => until(async () => {
  const st = await statusOf(page, callId);
  return st && pred(st) ? st : null;
}, { timeoutMs: 10000, what: `${callId}: ${what}` });

/**
 * call(number, option, transferId?) from the SDK page; waits until the call is confirmed.
 * Returns the callId.
 */
export async function callUp(page, number, option = {}, transferId = null) {
  const r = await page.evaluate(([n, o, tid]) => (tid === null ? window.phone.call(n, o) : window.phone.call(n, o, tid)), [number, option, transferId]);
  assert.equal(r.code, 200, `call(${number}): ${JSON.stringify(r)}`);
  await waitEvent(page, 's:confirmed', { match: (p) => p.callId === r.callId, timeoutMs: 20000 });
  return r.callId;
}

/** The JsSIP page's RTP counters (of its current call, or of `sid`) as a function for flowing()/still(). */
export const peerStats = (page, sid) => () => page.evaluate((s) => window.peer.stats(s === null ? {} : { sid: s }), sid ?? null);
/** The SDK page's RTP counters of `callId` as a function for flowing()/still(). */
export const sdkStats = (page, callId) => () => page.evaluate((id) => window.statsOf(id), callId);
/** The JsSIP page's events of `type` (after index `since`). */
export const peerEvents = (page, type, since = 0) => page.evaluate(([ty, s]) => window.peer.events.slice(s).filter((e) => e.type === ty), [type, since]);

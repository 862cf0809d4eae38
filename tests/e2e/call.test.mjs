// Calls through the rig between two JsSIP peers (two tabs of one Chromium), with audio
// from the fake capture device; and calls that Kamailio must refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRig, register, until, sleep, DOMAIN } from './helpers.mjs';

const stats = (page) => page.evaluate(() => window.peer.stats());

test('1002 calls 1003 through Kamailio: answered, audio both ways, hang-up ends both', async (t) => {
  await withRig(async ({ kam, openPeer }) => {
    const a = await openPeer('1002');
    const b = await openPeer('1003');
    assert.equal((await register(a, kam, '1002')).ok, true);
    assert.equal((await register(b, kam, '1003')).ok, true);
    assert.deepEqual(Object.keys(await kam.ulDump()).sort(), ['1002', '1003']);

    const calling = a.evaluate((t) => window.peer.call(t), `sip:1003@${DOMAIN}`);
    const inc = await b.evaluate(() => window.peer.waitFor('incoming'));
    assert.equal(inc.from, `sip:1002@${DOMAIN}`);
    // record_route(): the INVITE reached 1003 with Kamailio's WS socket in Record-Route
    assert.equal(inc.recordRoute.length, 1, JSON.stringify(inc.recordRoute));
    assert.match(inc.recordRoute[0], new RegExp(`^<sip:127\\.0\\.0\\.1:${kam.port};transport=ws;lr[;>]`));

    assert.deepEqual(await b.evaluate(() => window.peer.answer()), { ok: true });
    assert.deepEqual(await calling, { ok: true });
    const acc = await a.evaluate(() => window.peer.waitFor('accepted'));
    assert.equal(acc.recordRoute.length, 1);

    // audio flows both ways: inbound-rtp bytes grow on both sides over 2 s
    await until(async () => (await stats(a))?.inboundBytes > 0 && (await stats(b))?.inboundBytes > 0,
      { timeoutMs: 8000, what: 'first RTP on both sides' });
    const [a1, b1] = [await stats(a), await stats(b)];
    await sleep(2000);
    const [a2, b2] = [await stats(a), await stats(b)];
    for (const [who, s1, s2] of [['1002', a1, a2], ['1003', b1, b2]]) {
      t.diagnostic(`${who}: inbound ${s1.inboundBytes} -> ${s2.inboundBytes} bytes, ${s1.inboundPackets} -> ${s2.inboundPackets} packets in 2 s`);
      assert.ok(s2.inboundBytes - s1.inboundBytes > 2000, `${who}: inbound bytes ${s1.inboundBytes} -> ${s2.inboundBytes}`);
      assert.ok(s2.inboundPackets - s1.inboundPackets >= 50, `${who}: inbound packets ${s1.inboundPackets} -> ${s2.inboundPackets}`);
    }

    // BYE from 1002 goes through Kamailio (loose_route) and ends 1003's side
    const bye = await a.evaluate(() => window.peer.hangup());
    assert.equal(bye.type, 'ended');
    const endedB = await b.evaluate(() => window.peer.waitFor('ended'));
    assert.equal(endedB.originator, 'remote');
    assert.match(kam.log(), /BYE sip:\S+ from 127\.0\.0\.1:\d+/);
  });
});

test('calls Kamailio refuses: 480 for a known user not registered, 404 for an unknown one, 480 after the callee tab closed', async () => {
  await withRig(async ({ kam, openPeer }) => {
    const a = await openPeer('1002');
    assert.equal((await register(a, kam, '1002')).ok, true);

    const r1 = await a.evaluate((t) => window.peer.call(t), `sip:1004@${DOMAIN}`);
    assert.deepEqual(r1, { ok: false, status: 480, cause: 'Unavailable' });

    const r2 = await a.evaluate((t) => window.peer.call(t), `sip:1999@${DOMAIN}`);
    assert.deepEqual(r2, { ok: false, status: 404, cause: 'Not Found' });

    // 1005 registers, then its tab is closed: the call fails fast, not after a timeout
    const c = await openPeer('1005');
    assert.equal((await register(c, kam, '1005')).ok, true);
    await c.close();
    await until(async () => !(await kam.ulDump())['1005'], { what: '1005 gone from ul.dump' });
    const t0 = Date.now();
    const r3 = await a.evaluate((t) => window.peer.call(t), `sip:1005@${DOMAIN}`);
    assert.equal(r3.ok, false);
    assert.equal(r3.status, 480);
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  });
});

// The requests of the in-call features (re-INVITE for hold, INFO, REFER and its NOTIFYs,
// INVITE with Replaces) go through the rig as they should: proven between JsSIP peers,
// which also proves the peer's own hold/INFO/REFER/Replaces handling the SDK tests rely on.
test('in-dialog requests through Kamailio between JsSIP peers: hold, INFO (DTMF, Record), REFER with NOTIFY, INVITE with Replaces', async (t) => {
  await withRig(async ({ kam, openPeer }) => {
    const [a, b, c] = [await openPeer('1002'), await openPeer('1003'), await openPeer('1004')];
    for (const [p, u] of [[a, '1002'], [b, '1003'], [c, '1004']]) assert.equal((await register(p, kam, u)).ok, true, u);
    await b.evaluate(() => { window.peer.autoAnswer = {}; });
    await c.evaluate(() => { window.peer.autoAnswer = {}; });
    assert.deepEqual(await a.evaluate((u) => window.peer.call(u), `sip:1003@${DOMAIN}`), { ok: true });
    await b.evaluate(() => window.peer.waitFor('confirmed'));

    // hold and unhold (re-INVITE with a=sendonly, then a=sendrecv)
    assert.deepEqual(await a.evaluate(() => window.peer.hold()), { ok: true });
    assert.equal((await b.evaluate(() => window.peer.waitFor('hold'))).originator, 'remote');
    assert.equal(await b.evaluate(() => window.peer.sdp().audioDirection), 'sendonly');
    assert.deepEqual(await b.evaluate(() => window.peer.isOnHold()), { local: false, remote: true });
    assert.deepEqual(await a.evaluate(() => window.peer.unhold()), { ok: true });
    assert.equal((await b.evaluate(() => window.peer.waitFor('unhold'))).originator, 'remote');
    assert.equal(await b.evaluate(() => window.peer.sdp().audioDirection), 'sendrecv');

    // INFO: DTMF (application/dtmf-relay), another body type, and a body-less one with Record
    await a.evaluate(() => window.peer.sendDTMF('1#'));
    await a.evaluate(() => window.peer.sendInfo('application/x-rig', 'hello', { extraHeaders: ['Record: on'] }));
    await a.evaluate(() => window.peer.session.sendRequest('INFO', { extraHeaders: ['Record: off'] }));
    const dtmf = await until(async () => {
      const d = await b.evaluate(() => window.peer.events.filter((e) => e.type === 'dtmf' && e.originator === 'remote'));
      return d.length >= 2 ? d : null;
    }, { what: '2 DTMF at 1003' });
    assert.deepEqual(dtmf.map((d) => d.tone), ['1', '#']);
    assert.match(dtmf[0].body, /^Signal=1\r\nDuration=100/);
    const infos = await until(async () => {
      const i = await b.evaluate(() => window.peer.events.filter((e) => e.type === 'info' && e.originator === 'remote'));
      return i.length >= 2 ? i : null;
    }, { what: '2 INFO at 1003' });
    assert.deepEqual(infos.map((i) => [i.contentType, i.body, i.record]), [['application/x-rig', 'hello', 'on'], [null, '', 'off']]);

    // attended transfer by 1002: consultation call to 1004, REFER to 1003 with Replaces of it;
    // 1003 calls 1004 with Replaces, 1004 takes it and ends its call with 1002
    assert.deepEqual(await a.evaluate((u) => window.peer.call(u), `sip:1004@${DOMAIN}`), { ok: true });
    const consult = await c.evaluate(() => window.peer.waitFor('incoming'));
    const refer = await a.evaluate(() => window.peer.refer('sip:1004@sipwasm.test', { sid: 0, replacesSid: 1, hangupOnAccepted: true }));
    assert.deepEqual(refer, { ok: true, type: 'accepted', status: 200 });
    const got = await b.evaluate(() => window.peer.waitFor('refer'));
    assert.equal(got.target, `sip:1004@${DOMAIN}`);
    assert.ok(got.replaces.startsWith(`${consult.sipCallId};`), `${got.replaces} replaces ${consult.sipCallId}`);
    assert.match(got.referredBy, /sip:1002@/);
    const newB = await b.evaluate(() => window.peer.waitFor('outgoing', { count: 1 }));
    assert.equal(newB.referredBy, 0);
    const rep = await c.evaluate(() => window.peer.waitFor('replaces'));
    assert.equal(rep.from, `sip:1003@${DOMAIN}`);
    const newC = await c.evaluate(() => window.peer.waitFor('incoming', { count: 2 }));
    assert.equal(newC.replacing, 0);
    await c.evaluate((sid) => window.peer.waitFor('confirmed', { sid }), newC.sid);
    await b.evaluate((sid) => window.peer.waitFor('confirmed', { sid }), newB.sid);
    // 1002's two calls are over: the one with 1003 by its own BYE, the one with 1004 by 1004's
    for (const sid of [0, 1]) await a.evaluate((s) => window.peer.waitFor('ended', { sid: s }), sid);
    await b.evaluate(() => window.peer.waitFor('ended', { sid: 0 }));
    await c.evaluate(() => window.peer.waitFor('ended', { sid: 0 }));
    // NOTIFYs (message/sipfrag) reached 1002 through Kamailio, ending with 200
    const notifies = await a.evaluate(() => window.peer.events.filter((e) => e.type === 'sip-in' && e.method === 'NOTIFY'));
    assert.ok(notifies.length >= 2, JSON.stringify(notifies));
    assert.match(notifies.at(-1).body, /^SIP\/2\.0 200/);
    assert.match(notifies.at(-1).contentType, /^message\/sipfrag/);
    // 1003 and 1004 talk
    await until(async () => {
      const [sb, sc] = [await b.evaluate((sid) => window.peer.stats({ sid }), newB.sid), await c.evaluate((sid) => window.peer.stats({ sid }), newC.sid)];
      return sb?.inboundBytes > 2000 && sc?.inboundBytes > 2000;
    }, { timeoutMs: 8000, what: 'audio between 1003 and 1004' });
    t.diagnostic(`1003 and 1004 talking after the transfer; ${notifies.length} NOTIFYs at 1002`);
  });
});

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

// Registration through the rig with the independent peer (JsSIP in Chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRig, register, until } from './helpers.mjs';

test('JsSIP registers 1001 over WebSocket; ul.dump shows a ws contact; unregister removes it', async () => {
  await withRig(async ({ kam, openPeer }) => {
    const page = await openPeer('1001');
    const r = await register(page, kam, '1001');
    assert.deepEqual(r, { ok: true, status: 200 });

    const ul = await kam.ulDump();
    assert.deepEqual(Object.keys(ul), ['1001']);
    assert.equal(ul['1001'].length, 1);
    const c = ul['1001'][0];
    assert.match(c.address, /;transport=ws\b/i, `contact: ${c.address}`);
    // fix_nated_register: the real source of the WebSocket connection
    assert.match(c.received, /^sip:127\.0\.0\.1:\d+;transport=ws$/i, `received: ${c.received}`);
    assert.equal(c.userAgent, 'rig-peer JsSIP');
    assert.ok(Number(c.expires) > 0 && Number(c.expires) <= 300, `expires ${c.expires}`);

    const u = await page.evaluate(() => window.peer.unregister());
    assert.deepEqual(u, { ok: true, status: 200 });
    assert.deepEqual(await kam.ulDump(), {});
  });
});

test('wrong password: registration fails with 401 (JsSIP: Authentication Error); unknown user: 403', async () => {
  await withRig(async ({ kam, openPeer }) => {
    const page = await openPeer('1001-bad');
    const r = await register(page, kam, '1001', 'wrong-password');
    assert.equal(r.ok, false);
    assert.equal(r.status, 401);
    assert.equal(r.cause, 'Authentication Error');
    assert.deepEqual(await kam.ulDump(), {});

    const page2 = await openPeer('1999');
    const r2 = await register(page2, kam, '1999', 'pass1999');
    assert.equal(r2.ok, false);
    assert.equal(r2.status, 403);
    assert.equal(r2.cause, 'Rejected'); // JsSIP's cause for 403
    assert.deepEqual(await kam.ulDump(), {});
  });
});

test('closing the tab drops the registration (lost WebSocket -> contact removed)', async () => {
  await withRig(async ({ kam, openPeer }) => {
    const page = await openPeer('1006');
    assert.equal((await register(page, kam, '1006')).ok, true);
    assert.ok((await kam.ulDump())['1006']);
    await page.close();
    await until(async () => !(await kam.ulDump())['1006'], { timeoutMs: 5000, what: '1006 removed from ul.dump' });
  });
});

// Kamailio going away and coming back: the peer sees the WebSocket drop, reconnects to
// the same URL after restart() and registers again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRig, register, until } from './helpers.mjs';

test('Kamailio stopped -> JsSIP disconnected; restarted on the same port -> JsSIP reconnects and re-registers', async () => {
  await withRig(async ({ kam, openPeer }) => {
    const page = await openPeer('1001');
    assert.equal((await register(page, kam, '1001')).ok, true);
    const { wsUrl, pid } = kam;
    const count = (type) => page.evaluate((ty) => window.peer.events.filter((e) => e.type === ty).length, type);
    assert.equal(await count('connected'), 1);

    await kam.stop();
    const disc = await page.evaluate(() => window.peer.waitFor('disconnected', { timeoutMs: 5000 }));
    assert.ok(disc, 'no disconnected event');
    assert.equal(await page.evaluate(() => window.peer.isConnected()), false);

    await kam.restart();
    assert.equal(kam.wsUrl, wsUrl);
    assert.notEqual(kam.pid, pid);
    // JsSIP retries every 1-2 s (connection_recovery_*_interval set by the peer page)
    await page.evaluate(() => window.peer.waitFor('connected', { count: 2, timeoutMs: 10000 }));
    await page.evaluate(() => window.peer.waitFor('registered', { count: 2, timeoutMs: 5000 }));
    // the new Kamailio knows nothing of the old registration: this one is the re-REGISTER
    const ul = await until(async () => (await kam.ulDump())['1001'], { what: '1001 in ul.dump after restart' });
    assert.match(ul[0].address, /;transport=ws\b/i);
  });
});

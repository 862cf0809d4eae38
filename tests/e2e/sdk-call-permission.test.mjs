// Local media that cannot be had. Microphone access really denied: our SDK runs in a
// second Chromium launched without --use-fake-ui-for-media-stream and with no permission
// granted, so getUserMedia fails with NotAllowedError as it does when a user clicks
// "Block" (the JsSIP peer runs in the rig's normal browser). Missing devices: the page's
// enumerateDevices is filtered, as on a machine without a camera or microphone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRig, sleep } from './helpers.mjs';
import { launchBrowser } from '../rig/browser.mjs';
import { sdkPhone, peerPhone, names, waitEvent, counters, mediaReleased } from './sdk-call-helpers.mjs';

test('permission denied: call() is -202 with nothing left; answer() is -202 with clientError and the call still rings', async () => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    const denied = await launchBrowser({ dropArgs: ['--use-fake-ui-for-media-stream'], permissions: [] });
    try {
      const sdk = await sdkPhone(denied, kam, '1001');
      const r = await sdk.evaluate(() => window.phone.call('1002'));
      assert.equal(r.code, -202, JSON.stringify(r));
      assert.match(r.message, /NotAllowedError/);
      assert.equal(r.callId, undefined);
      await sleep(500);
      assert.deepEqual((await names(sdk)).filter((n) => n !== 'connected' && n !== 'registered' && n !== 'isRegisteredChange'), [],
        'no session was ever created');
      assert.deepEqual(await sdk.evaluate(() => [window.phone.sessions.size, window.phone.currentSessionID]), [0, null]);
      const c = await counters(sdk);
      assert.deepEqual([c.pcs, c.tracks], [0, 0]);
      assert.equal(await peer.evaluate(() => window.peer.events.some((e) => e.type === 'incoming')), false, 'no INVITE reached the peer');
      // the reservation was released: the next call is refused for media again, not -210
      await sleep(1100);
      assert.equal((await sdk.evaluate(() => window.phone.call('1002'))).code, -202);

      // inbound: answer() fails with -202, the app hears clientError, the call keeps ringing
      const calling = peer.evaluate(() => window.peer.call('sip:1001@sipwasm.test'));
      const inc = await waitEvent(sdk, 'incoming');
      const a = await sdk.evaluate((id) => window.phone.answer(id), inc.callId);
      assert.equal(a.code, -202, JSON.stringify(a));
      const ce = await waitEvent(sdk, 's:clientError');
      assert.equal(ce.callId, inc.callId);
      assert.deepEqual(await sdk.evaluate((id) => [window.phone.getSession(id).status.callStatus, window.phone.incomingList.length], inc.callId),
        ['ringing', 1]);
      assert.equal(await sdk.evaluate((id) => window.phone.reject(id), inc.callId), true);
      const res = await calling;
      assert.deepEqual([res.ok, res.status], [false, 486]);
      await waitEvent(sdk, 'deleteSession');
      const after = await counters(sdk);
      assert.deepEqual([after.pcs, after.tracks], [0, 0]);
    } catch (e) {
      console.error(`---- console of the denied browser ----\n${denied.consoleText()}`);
      throw e;
    } finally {
      await denied.close();
    }
  });
});

test('no camera: video call() is -291, a video answer() goes on with audio unless allowNoneCamera is false; no microphone: -290', async () => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    const sdk = await sdkPhone(browser, kam, '1001');
    const hide = (kinds) => sdk.evaluate((k) => {
      const md = navigator.mediaDevices;
      md.realEnumerate ??= md.enumerateDevices.bind(md);
      md.enumerateDevices = async () => (await md.realEnumerate()).filter((d) => !k.includes(d.kind));
      md.dispatchEvent(new Event('devicechange'));
    }, kinds);
    assert.equal(await sdk.evaluate(() => window.phone.isNoneCamera), false);
    await hide(['videoinput']);
    await sleep(200);
    assert.equal(await sdk.evaluate(() => window.phone.isNoneCamera), true, 'isNoneCamera follows devicechange');

    const v = await sdk.evaluate(() => window.phone.call('1002', { video: true }));
    assert.equal(v.code, -291, JSON.stringify(v));
    assert.equal(await peer.evaluate(() => window.peer.events.some((e) => e.type === 'incoming')), false);

    // inbound video call: answer(.., false) refuses, answer() falls back to audio
    const calling = peer.evaluate(() => window.peer.call('sip:1001@sipwasm.test', { video: true }));
    const inc = await waitEvent(sdk, 'incoming');
    const refused = await sdk.evaluate((id) => window.phone.answer(id, { video: true }, false), inc.callId);
    assert.equal(refused.code, -291);
    const ok = await sdk.evaluate((id) => window.phone.answer(id, { video: true }), inc.callId);
    assert.equal(ok.code, 200, JSON.stringify(ok));
    assert.deepEqual(await calling, { ok: true });
    assert.deepEqual(await sdk.evaluate((id) => {
      const s = window.phone.getSession(id);
      return [s.localStream, s.remoteStream?.getTracks().map((t) => t.kind).sort()];
    }, inc.callId), [null, ['audio', 'video']], 'no local video; the caller\'s video is received');
    await sdk.evaluate((id) => window.phone.hangup(id), inc.callId);
    await waitEvent(sdk, 'deleteSession');
    await mediaReleased(sdk);

    await hide(['videoinput', 'audioinput']);
    await sleep(1100);
    const m = await sdk.evaluate(() => window.phone.call('1002'));
    assert.equal(m.code, -290, JSON.stringify(m));
    assert.equal(await sdk.evaluate(() => window.phone.sessions.size), 0);
    await mediaReleased(sdk);
  });
});

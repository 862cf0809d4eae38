// Calls with our SDK (the built package in Chromium) through Kamailio, against JsSIP peers
// in other tabs of the same browser: audio and video both ways, the ways a call fails or
// ends, concurrent calls, re-entrant listeners, result codes. After every call the page
// must be back to no live RTCPeerConnection and no live local track.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRig, until, sleep, DOMAIN } from './helpers.mjs';
import {
  sdkPhone, peerPhone, events, names, waitEvent, sessionEvents, counters, mediaReleased, flowing,
  statusUntil, callUp,
} from './sdk-call-helpers.mjs';

const peerStats = (page) => () => page.evaluate(() => window.peer.stats());
const sdkStats = (page, callId) => () => page.evaluate((id) => window.statsOf(id), callId);
const status = (page, callId) => page.evaluate((id) => window.phone.getSession(id)?.status ?? null, callId);

test('outbound audio call: Session, events, status and timer; RTP both ways; our hangup ends JsSIP; media released', async (t) => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    const sdk = await sdkPhone(browser, kam, '1001');
    const before = await counters(sdk);

    const r = await sdk.evaluate(() => window.phone.call('1002'));
    assert.equal(r.code, 200, JSON.stringify(r));
    assert.equal(typeof r.callId, 'string');
    const id = r.callId;
    // The Session existed when call() resolved, and the INVITE reached JsSIP.
    const inc = await peer.evaluate(() => window.peer.waitFor('incoming'));
    assert.equal(inc.from, `sip:1001@${DOMAIN}`);
    assert.deepEqual((await names(sdk)).filter((n) => !n.startsWith('s:')).slice(3), ['newRTCSession', 'startSession']);
    assert.deepEqual(await sdk.evaluate(() => [window.phone.currentSessionID, window.phone.sessions.size,
      window.phone.getSessions().length, window.phone.incomingList.length, window.phone.getCurrentSession() === window.phone.currentSession]),
    [id, 1, 1, 0, true]);

    const progress = await waitEvent(sdk, 's:progress');
    assert.deepEqual(progress, { callId: id, code: 180 });
    const ringing = await status(sdk, id);
    assert.equal(ringing.callStatus, 'calling');
    assert.equal(ringing.communicationType, 'outbound');
    assert.equal(ringing.isRing, true);
    assert.equal(ringing.number, '1002');
    assert.equal(ringing.name, '1002', 'no display name known: the user part');
    assert.equal(ringing.callStartTime, 0);

    assert.deepEqual(await peer.evaluate(() => window.peer.answer()), { ok: true });
    await waitEvent(sdk, 's:confirmed');
    const talking = await status(sdk, id);
    assert.equal(talking.callStatus, 'talking');
    assert.equal(talking.isRing, false);
    assert.ok(Math.abs(talking.callStartTime - Date.now()) < 10000, `callStartTime ${talking.callStartTime}`);
    assert.deepEqual([talking.isHold, talking.isMute, talking.isVideo, talking.recordStatus, talking.isTransfer, talking.isConference],
      [false, false, false, 'stop', false, false]);

    // RTP both ways: our page (the session's RTCPeerConnection) and JsSIP's.
    const ours = await flowing(sdkStats(sdk, id), 'audioIn', { what: 'SDK inbound audio' });
    const theirs = await flowing(peerStats(peer), 'inboundBytes', { what: 'JsSIP inbound audio' });
    t.diagnostic(`audio bytes in 1.5 s: SDK received ${ours}, JsSIP received ${theirs}`);
    assert.deepEqual(await sdk.evaluate((i) => {
      const s = window.phone.getSession(i);
      // callReport: null until the first report (every 3 s), then the latest one of this call
      return [s.localStream, s.remoteStream?.getAudioTracks().length, s.callReport === null || s.callReport.callId === i];
    }, id), [null, 1, true]);

    // updateTimer once a second, with callDuration counting.
    await until(async () => (await sdk.evaluate(() => window.lastTimer?.callDuration ?? 0)) >= 1, { what: 'callDuration >= 1' });
    const timer = await sdk.evaluate((i) => window.phone.getSession(i).timer, id);
    assert.ok(timer.callingDuration >= 0 && timer.ringDuration >= 0 && timer.holdDuration === 0, JSON.stringify(timer));

    assert.equal(await sdk.evaluate((i) => window.phone.hangup(i), id), true);
    const ended = await peer.evaluate(() => window.peer.waitFor('ended'));
    assert.equal(ended.originator, 'remote');
    const ourEnd = await waitEvent(sdk, 's:ended');
    assert.equal(ourEnd.callId, id);
    assert.equal(ourEnd.originator, 'local');
    const del = await waitEvent(sdk, 'deleteSession');
    assert.deepEqual(del, { callId: id, cause: ourEnd.cause });

    const seq = (await sessionEvents(sdk, id)).map(([n]) => n).filter((n) => n !== 's:statusChange');
    assert.deepEqual(seq.filter((n) => ['s:progress', 's:accepted', 's:confirmed', 's:ended'].includes(n)),
      ['s:progress', 's:accepted', 's:confirmed', 's:ended'], seq.join());
    assert.ok(seq.includes('s:streamAdded'), seq.join());
    const remote = await waitEvent(sdk, 's:updateRemoteStream');
    assert.deepEqual(remote.tracks, ['audio']);
    assert.deepEqual(await sdk.evaluate(() => [window.phone.sessions.size, window.phone.currentSessionID, window.phone.currentSession]), [0, null, null]);
    await mediaReleased(sdk);
    // The one-second tick is gone with the call: only the registration's timers remain.
    await until(async () => (await counters(sdk)).timers <= before.timers, { what: 'no call timers left' });
    assert.equal(await sdk.evaluate((i) => window.phone.hangup(i), id), false, 'hangup of an ended call');
  });
});

test('inbound audio call answered inside the incoming listener: ringing → connecting → talking; RTP both ways; JsSIP hangs up', async (t) => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    const sdk = await sdkPhone(browser, kam, '1001');
    await sdk.evaluate(() => {
      window.phone.on('incoming', ({ callId, session }) => {
        // re-entrant: answer() from inside the listener
        window.seenInListener = { incoming: window.phone.incomingList.map((s) => s.callId), current: window.phone.currentSessionID, status: session.status };
        window.answered = null;
        session.answer().then((r) => { window.answered = r; });
        window.afterAnswer = { incoming: window.phone.incomingList.length, callStatus: session.status.callStatus, callId };
      });
    });
    const calling = peer.evaluate(() => window.peer.call('sip:1001@sipwasm.test'));
    assert.deepEqual(await calling, { ok: true });
    const answered = await until(() => sdk.evaluate(() => window.answered), { what: 'answer() resolved' });
    assert.equal(answered.code, 200, JSON.stringify(answered));
    const id = answered.callId;
    const seen = await sdk.evaluate(() => window.seenInListener);
    assert.deepEqual(seen.incoming, [id]);
    assert.equal(seen.current, id, 'a new call is the current one');
    assert.equal(seen.status.callStatus, 'ringing');
    assert.equal(seen.status.communicationType, 'inbound');
    assert.equal(seen.status.isRing, true);
    assert.equal(seen.status.number, '1002');
    assert.equal(seen.status.name, 'peer 1002');
    assert.deepEqual(await sdk.evaluate(() => window.afterAnswer), { incoming: 0, callStatus: 'connecting', callId: id });

    await waitEvent(sdk, 's:confirmed');
    const changes = (await sessionEvents(sdk, id)).filter(([n]) => n === 's:statusChange').map(([, [nu]]) => nu.callStatus);
    assert.deepEqual([...new Set(changes)], ['connecting', 'talking'], changes.join());
    assert.deepEqual((await names(sdk)).filter((n) => ['newRTCSession', 'startSession', 'incoming'].includes(n)),
      ['newRTCSession', 'startSession', 'incoming']);

    const ours = await flowing(sdkStats(sdk, id), 'audioIn', { what: 'SDK inbound audio' });
    const theirs = await flowing(peerStats(peer), 'inboundBytes', { what: 'JsSIP inbound audio' });
    t.diagnostic(`audio bytes in 1.5 s: SDK received ${ours}, JsSIP received ${theirs}`);

    await peer.evaluate(() => window.peer.hangup());
    const ended = await waitEvent(sdk, 's:ended');
    assert.equal(ended.originator, 'remote');
    assert.equal(ended.cause, 'Terminated');
    await waitEvent(sdk, 'deleteSession');
    await mediaReleased(sdk);
  });
});

test('video call with the fake camera: JsSIP receives our video, we receive its video; localStream is video only', async (t) => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    await peer.evaluate(() => { window.peer.autoAnswer = { video: true }; });
    const sdk = await sdkPhone(browser, kam, '1001');
    const r = await sdk.evaluate(() => window.phone.call('1002', { video: true }));
    assert.equal(r.code, 200, JSON.stringify(r));
    await waitEvent(sdk, 's:confirmed');
    const local = await waitEvent(sdk, 's:updateLocalStream');
    assert.deepEqual(local.tracks, ['video'], 'no local audio echoed back');
    const kinds = await until(async () => {
      const k = (await peer.evaluate(() => window.peer.events.filter((e) => e.type === 'track').map((e) => e.kind))).sort();
      return k.length >= 2 ? k : null;
    }, { what: 'JsSIP got audio and video tracks' });
    assert.deepEqual(kinds, ['audio', 'video']);
    const vidIn = await flowing(peerStats(peer), 'videoInboundBytes', { min: 5000, what: 'JsSIP inbound video' });
    const ourVid = await flowing(sdkStats(sdk, r.callId), 'videoIn', { min: 5000, what: 'SDK inbound video' });
    t.diagnostic(`video bytes in 1.5 s: JsSIP received ${vidIn}, SDK received ${ourVid}`);
    const st = await sdk.evaluate((id) => {
      const s = window.phone.getSession(id);
      return { isVideo: s.status.isVideo, local: s.localStream?.getTracks().map((x) => x.kind), remote: s.remoteStream?.getTracks().map((x) => x.kind).sort() };
    }, r.callId);
    assert.deepEqual(st, { isVideo: true, local: ['video'], remote: ['audio', 'video'] });
    assert.equal(await sdk.evaluate(() => window.play(window.phone.currentSession)), true, 'the remote stream plays');
    assert.equal(await sdk.evaluate((id) => window.phone.terminate(id), r.callId), true);
    const ended = await waitEvent(sdk, 's:ended');
    assert.equal(ended.cause, 'terminate', "terminate(): the type is the cause");
    await peer.evaluate(() => window.peer.waitFor('ended'));
    await mediaReleased(sdk);
  });
});

test('calls that never come up: 486 from the callee, CANCEL while ringing, unregistered and unknown users', async () => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    const sdk = await sdkPhone(browser, kam, '1001');
    const failedOf = async (callId) => waitEvent(sdk, 's:failed', { match: (p) => p.callId === callId });

    // the callee rejects with 486
    const r1 = await sdk.evaluate(() => window.phone.call('1002'));
    assert.equal(r1.code, 200);
    await peer.evaluate(() => window.peer.waitFor('incoming'));
    await peer.evaluate(() => window.peer.reject(486));
    const f1 = await failedOf(r1.callId);
    assert.deepEqual([f1.code, f1.cause, f1.originator], [486, 'Busy', 'remote']);
    assert.deepEqual(await waitEvent(sdk, 'deleteSession', { match: (p) => p.callId === r1.callId }), { callId: r1.callId, cause: 'Busy' });
    await mediaReleased(sdk, 'media released after 486');

    // we cancel while it rings: JsSIP sees the CANCEL
    await sleep(1100); // call() within 1 s of the previous one is -208
    const since = await peer.evaluate(() => window.peer.events.length);
    const r2 = await sdk.evaluate(() => window.phone.call('1002'));
    assert.equal(r2.code, 200);
    await peer.evaluate((s) => window.peer.waitFor('incoming', { since: s }), since);
    await waitEvent(sdk, 's:progress', { match: (p) => p.callId === r2.callId });
    assert.equal(await sdk.evaluate((id) => window.phone.hangup(id), r2.callId), true);
    const pf = await peer.evaluate((s) => window.peer.waitFor('failed', { since: s }), since);
    assert.equal(pf.cause, 'Canceled');
    assert.equal(pf.originator, 'remote');
    const f2 = await failedOf(r2.callId);
    assert.equal(f2.originator, 'local');
    assert.equal(f2.cause, 'Canceled');
    await mediaReleased(sdk, 'media released after CANCEL');

    // a known user that is not registered: 480; an unknown one: 404
    for (const [user, code, cause] of [['1004', 480, 'Unavailable'], ['1999', 404, 'Not Found']]) {
      await sleep(1100);
      const r = await sdk.evaluate((u) => window.phone.call(u), user);
      assert.equal(r.code, 200, `${user}: ${JSON.stringify(r)}`);
      const f = await failedOf(r.callId);
      assert.deepEqual([f.code, f.cause], [code, cause], `${user}: ${JSON.stringify(f)}`);
      await mediaReleased(sdk, `media released after ${code}`);
    }
    assert.equal((await names(sdk)).filter((n) => n === 's:ended').length, 0, 'none of them was ever up');
  });
});

test('two concurrent calls, a refused third (-205) and an inbound third (486); result codes in API order; currentSession', async () => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const p2 = await peerPhone(openPeer, kam, '1002');
    const p3 = await peerPhone(openPeer, kam, '1003');
    const p4 = await peerPhone(openPeer, kam, '1004');
    const sdk = await sdkPhone(browser, kam, '1001', { maxCalls: 2 });
    const call = (...a) => sdk.evaluate((args) => window.phone.call(...args), a);

    // arguments first, whatever the state
    for (const bad of ['', 'a b', '10<02>', '"x"', 'line\r\nVia: x', 42, null]) {
      assert.equal((await call(bad)).code, -209, `number ${JSON.stringify(bad)}`);
    }
    assert.equal((await call('1002', {}, 'no-such-call')).code, -207);
    assert.equal((await sdk.evaluate(() => window.phone.answer('no-such-call'))).code, -211);
    assert.deepEqual(await sdk.evaluate(() => [window.phone.hangup('x'), window.phone.reject('x'), window.phone.terminate('x'),
      window.phone.getSession('x'), window.phone.setCurrentSession('x')]), [false, false, false, null, false]);

    // first call rings: a second one is -210 (not answered yet)
    const r1 = await call('1002');
    assert.equal(r1.code, 200);
    await p2.evaluate(() => window.peer.waitFor('incoming'));
    assert.equal((await call('1003')).code, -210);
    assert.equal((await call('a b')).code, -209, '-209 before -210');
    await p2.evaluate(() => window.peer.answer());
    await waitEvent(sdk, 's:confirmed');
    // answered, but within 1 s of the previous call(): -208
    const quick = await call('1003');
    if (quick.code !== -208) assert.fail(`expected -208 right after the first call, got ${JSON.stringify(quick)}`);
    await sleep(1100);
    await p3.evaluate(() => { window.peer.autoAnswer = {}; });
    const r2 = await call('1003');
    assert.equal(r2.code, 200);
    await waitEvent(sdk, 's:confirmed', { count: 2 });
    assert.deepEqual(await sdk.evaluate(() => [window.phone.sessions.size, window.phone.isMaxCall, window.phone.currentSessionID]), [2, true, r2.callId]);
    // placing the second call put the first (talking) one on hold
    assert.equal((await p2.evaluate(() => window.peer.waitFor('hold'))).originator, 'remote');
    await statusUntil(sdk, r1.callId, (s) => s.isHold === true, 'the first call held by the second call()');

    // a third call: -205 (before -208, and nothing is left of it)
    const pcs = (await counters(sdk)).pcs;
    assert.equal((await call('1004')).code, -205);
    assert.equal((await call('a b')).code, -209, '-209 before -205');
    assert.equal((await counters(sdk)).pcs, pcs);
    assert.equal(pcs, 2);

    // an inbound third: 486 from the SDK, no session
    const r4 = await p4.evaluate(() => window.peer.call('sip:1001@sipwasm.test'));
    assert.equal(r4.ok, false);
    assert.equal(r4.status, 486);
    assert.equal((await names(sdk)).includes('incoming'), false);
    assert.equal(await sdk.evaluate(() => window.phone.sessions.size), 2);

    // currentSession: set, then when it goes, the most recent remaining
    assert.equal(await sdk.evaluate((id) => window.phone.setCurrentSession(id), r1.callId), true);
    assert.equal(await sdk.evaluate(() => window.phone.currentSessionID), r1.callId);
    await p2.evaluate(() => window.peer.hangup());
    await waitEvent(sdk, 'deleteSession');
    assert.deepEqual(await sdk.evaluate(() => [window.phone.currentSessionID, window.phone.isMaxCall]), [r2.callId, false]);
    assert.equal(await sdk.evaluate((id) => window.phone.getSession(id).hangup(), r2.callId), true, 'Session.hangup()');
    await waitEvent(sdk, 'deleteSession', { count: 2 });
    await mediaReleased(sdk);
  });
});

test('answering a second call holds the talking one; unhold brings it back', async () => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const p2 = await peerPhone(openPeer, kam, '1002');
    const p3 = await peerPhone(openPeer, kam, '1003');
    await p2.evaluate(() => { window.peer.autoAnswer = {}; });
    const sdk = await sdkPhone(browser, kam, '1001');
    const first = await callUp(sdk, '1002');
    await p2.evaluate(() => window.peer.waitFor('confirmed'));
    const ringing = p3.evaluate(() => window.peer.call('sip:1001@sipwasm.test'));
    const inc = await waitEvent(sdk, 'incoming');
    assert.equal((await sdk.evaluate((id) => window.phone.answer(id), inc.callId)).code, 200);
    assert.equal((await ringing).ok, true, 'JsSIP 1003 talks to us');
    assert.equal((await p2.evaluate(() => window.peer.waitFor('hold'))).originator, 'remote', '1002 is held');
    await statusUntil(sdk, first, (s) => s.isHold === true && s.callStatus === 'talking', 'the first call held');
    await statusUntil(sdk, inc.callId, (s) => s.isHold === false && s.callStatus === 'talking', 'the answered call');
    // the answered call ends; the held one is taken off hold by the app
    assert.equal(await sdk.evaluate((id) => window.phone.hangup(id), inc.callId), true);
    await waitEvent(sdk, 'deleteSession', { match: (p) => p.callId === inc.callId });
    assert.equal(await sdk.evaluate((id) => window.phone.unhold(id), first), true);
    assert.equal((await p2.evaluate(() => window.peer.waitFor('unhold'))).originator, 'remote');
    await statusUntil(sdk, first, (s) => s.isHold === false, 'unheld');
    await flowing(peerStats(p2), 'inboundBytes', { what: '1002 hears us again' });
    assert.equal(await sdk.evaluate((id) => window.phone.hangup(id), first), true);
    await waitEvent(sdk, 'deleteSession', { match: (p) => p.callId === first });
    await mediaReleased(sdk);
  });
});

test('call() inside an ended listener starts the next call; reject() of a ringing call sends rejectCode', async () => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const p2 = await peerPhone(openPeer, kam, '1002');
    const p3 = await peerPhone(openPeer, kam, '1003');
    await p2.evaluate(() => { window.peer.autoAnswer = {}; });
    await p3.evaluate(() => { window.peer.autoAnswer = {}; });
    const sdk = await sdkPhone(browser, kam, '1001', { rejectCode: 603 });
    const r1 = await sdk.evaluate(() => window.phone.call('1002'));
    assert.equal(r1.code, 200);
    await waitEvent(sdk, 's:confirmed');
    await sleep(1100);
    await sdk.evaluate((id) => {
      window.phone.getSession(id).once('ended', () => {
        window.next = null;
        window.phone.call('1003').then((r) => { window.next = r; });
        window.sizeInEnded = window.phone.sessions.size;
      });
    }, r1.callId);
    await p2.evaluate(() => window.peer.hangup());
    const next = await until(() => sdk.evaluate(() => window.next), { what: 'call() from ended resolved' });
    assert.equal(next.code, 200, JSON.stringify(next));
    // the ended call is already gone; the new one shows once its media is ready
    assert.equal(await sdk.evaluate(() => window.sizeInEnded), 0);
    await waitEvent(sdk, 's:confirmed', { match: (p) => p.callId === next.callId });
    await p3.evaluate(() => window.peer.waitFor('confirmed'));
    await sdk.evaluate((id) => window.phone.hangup(id), next.callId);
    await waitEvent(sdk, 'deleteSession', { count: 2 });

    // an inbound call rejected with rejectCode 603
    const calling = p2.evaluate(() => window.peer.call('sip:1001@sipwasm.test'));
    const inc = await waitEvent(sdk, 'incoming');
    assert.equal(await sdk.evaluate((id) => window.phone.reject(id), inc.callId), true);
    const r = await calling;
    assert.deepEqual([r.ok, r.status], [false, 603]);
    const f = await waitEvent(sdk, 's:failed', { match: (p) => p.callId === inc.callId });
    assert.equal(f.originator, 'local');
    await mediaReleased(sdk);
    assert.deepEqual(await events(sdk).then((e) => e.filter(([n]) => n === 's:clientError')), []);
  });
});

test('disconnect() during a call ends it on both sides; destroy() with a call ringing refuses it and leaves nothing running', async () => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    await peer.evaluate(() => { window.peer.autoAnswer = {}; });
    const sdk = await sdkPhone(browser, kam, '1001');
    const r = await sdk.evaluate(() => window.phone.call('1002'));
    assert.equal(r.code, 200);
    await waitEvent(sdk, 's:confirmed');
    assert.equal(await sdk.evaluate(() => window.phone.disconnect()), true);
    const ended = await waitEvent(sdk, 's:ended');
    assert.equal(ended.callId, r.callId);
    const theirs = await peer.evaluate(() => window.peer.waitFor(['ended', 'failed']));
    assert.equal(theirs.type, 'ended', JSON.stringify(theirs));
    await waitEvent(sdk, 'deleteSession');
    await mediaReleased(sdk);

    await sdk.evaluate(() => window.phone.start());
    await waitEvent(sdk, 'registered', { count: 2 });
    await peer.evaluate(() => { window.peer.autoAnswer = null; });
    const since = await peer.evaluate(() => window.peer.events.length);
    const calling = peer.evaluate(() => window.peer.call('sip:1001@sipwasm.test'));
    await waitEvent(sdk, 'incoming');
    await sdk.evaluate(() => window.phone.destroy());
    const res = await calling;
    assert.equal(res.ok, false, JSON.stringify(res));
    assert.ok(res.status >= 400, JSON.stringify(res));
    await mediaReleased(sdk);
    await until(async () => (await counters(sdk)).timers === 0, { what: 'no timer after destroy' });
    assert.deepEqual(await sdk.evaluate(() => [window.phone.sessions.size, window.phone.currentSessionID]), [0, null]);
    assert.ok(await peer.evaluate((s) => window.peer.events.slice(s).some((e) => e.type === 'failed'), since));
  });
});

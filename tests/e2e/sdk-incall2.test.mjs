// More in-call features of our SDK (the built package in Chromium) against JsSIP peers through
// Kamailio, beyond sdk-incall.test.mjs: static status (phone and Session forms, partial updates,
// setStatus, bad arguments), Session.stopTimer() and Session.destroy(), renegotiate() with and
// without offerToReceiveVideo, video added and removed by the peer (JsSIP's own re-INVITEs), and
// hold of a second call while the first one is held, and recordControl as DTMF feature codes.
//
// Beyond ../shared/spec/API.md these tests rely on the README: Session.destroy() drops the session's
// listeners before it ends the call (they get no `ended`; the phone's `deleteSession` reports it), and
// `status.isVideo` is true only while both sides' SDP has active video.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRig, until, sleep } from './helpers.mjs';
import {
  sdkPhone, peerPhone, events, waitEvent, mediaReleased, sdpMedia, statusOf, statusUntil,
  callUp, peerStats, sdkStats, peerEvents,
} from './sdk-call-helpers.mjs';

const mediaOf = (page, callId) => page.evaluate((id) => window.mediaOf(id), callId);
/** The recorded events `name` from index `since` on, as payloads. */
const named = async (page, name, since = 0) => (await events(page)).slice(since).filter(([n]) => n === name).map(([, p]) => p);
const eventCount = async (page) => (await events(page)).length;
/** The session version of an SDP's o= line. */
const sdpVersion = (sdp) => BigInt(/^o=\S+ \S+ (\d+)/m.exec(sdp)[1]);

/** Our call to a JsSIP peer that answers at once, with audio flowing both ways; returns the callId. */
async function talking(sdk, peer, number) {
  await peer.evaluate(() => { window.peer.autoAnswer = {}; });
  const id = await callUp(sdk, number);
  await peer.evaluate(() => window.peer.waitFor('confirmed'));
  await allFlowing([[sdkStats(sdk, id), 'audioIn', 'SDK inbound audio'], [peerStats(peer), 'inboundBytes', 'JsSIP inbound audio']]);
  return id;
}

/** flowing() for several counters sampled over the same `ms`: each of `list` is [stats, field, what]. */
async function allFlowing(list, { min = 2000, ms = 1500 } = {}) {
  for (const [stats, field, what] of list) {
    await until(async () => (await stats())?.[field] > 0, { timeoutMs: 10000, what: `first ${what}` });
  }
  const sample = () => Promise.all(list.map(async ([stats, field]) => (await stats())[field]));
  const a = await sample();
  await sleep(ms);
  const b = await sample();
  list.forEach(([, , what], i) => assert.ok(b[i] - a[i] > min, `${what}: ${a[i]} -> ${b[i]} bytes in ${ms} ms`));
  return b.map((x, i) => x - a[i]);
}

/** still() for several counters over the same `ms` (after `settleMs`): each of `list` is [stats, field, what]. */
async function allStill(list, { max = 1000, ms = 1500, settleMs = 500 } = {}) {
  await sleep(settleMs);
  const sample = () => Promise.all(list.map(async ([stats, field]) => (await stats())[field]));
  const a = await sample();
  await sleep(ms);
  const b = await sample();
  list.forEach(([, , what], i) => assert.ok(b[i] - a[i] <= max, `${what} should have stopped: ${a[i]} -> ${b[i]} bytes in ${ms} ms`));
}

/** Every Session event name of API.md (and the SDK's hold/unhold). */
const SESSION_EVENTS = ['progress', 'accepted', 'confirmed', 'ended', 'failed', 'clientError', 'reinvite', 'streamAdded',
  'updateLocalStream', 'updateRemoteStream', 'statusChange', 'staticStatusChange', 'updateTimer', 'callReport',
  'newDTMF', 'newInfo', 'hold', 'unhold'];

test('static status (phone and Session, partial, setStatus, non-objects refused); stopTimer stops updateTimer; renegotiate() and renegotiate(id, true) re-INVITE with audio going on; destroy() ends the call and silences the session', async (t) => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    const sdk = await sdkPhone(browser, kam, '1001');
    const id = await talking(sdk, peer, '1002');
    // updateTimer of this session, counted in the page with the page's clock
    await sdk.evaluate((i) => {
      window.ticksAt = [];
      window.phone.getSession(i).on('updateTimer', () => window.ticksAt.push(performance.now()));
      window.ticksFrom = performance.now();
    }, id);

    // ---- setSessionStaticStatus(id, { name, avatar, company }, true) ----
    const before = await statusOf(sdk, id);
    const oldStatic = { name: before.name, avatar: before.avatar, company: before.company };
    const full = { name: 'Alice Example', avatar: 'https://example.test/alice.png', company: 'ACME' };
    let mark = await eventCount(sdk);
    assert.equal(await sdk.evaluate(([i, s]) => window.phone.setSessionStaticStatus(i, s, true), [id, full]), true);
    const [ssc] = await named(sdk, 's:staticStatusChange', mark);
    assert.ok(ssc, 'staticStatusChange emitted');
    assert.deepEqual(ssc, [full, oldStatic], 'staticStatusChange(new, old) with { name, avatar, company }');
    let st = await statusOf(sdk, id);
    assert.deepEqual([st.name, st.avatar, st.company], [full.name, full.avatar, full.company]);
    assert.equal(st.number, before.number);
    const sc = (await named(sdk, 's:statusChange', mark)).filter((p) => p[0].callId === id);
    assert.equal(sc.length, 1, `one statusChange: ${JSON.stringify(sc)}`);
    assert.deepEqual([sc[0][0].name, sc[0][0].avatar, sc[0][0].company], [full.name, full.avatar, full.company]);
    assert.deepEqual([sc[0][1].name, sc[0][1].avatar, sc[0][1].company], [before.name, before.avatar, before.company]);

    // ---- session.setStaticStatus({ company }): the others stay ----
    mark = await eventCount(sdk);
    assert.equal(await sdk.evaluate((i) => window.phone.getSession(i).setStaticStatus({ company: 'Initech' }), id), true);
    const [ssc2] = await named(sdk, 's:staticStatusChange', mark);
    assert.deepEqual(ssc2, [{ ...full, company: 'Initech' }, full], 'partial staticStatusChange(new, old)');
    st = await statusOf(sdk, id);
    assert.deepEqual([st.name, st.avatar, st.company], [full.name, full.avatar, 'Initech']);
    assert.equal((await named(sdk, 's:statusChange', mark)).length, 1);

    // ---- session.setStatus({ number }) ----
    mark = await eventCount(sdk);
    assert.equal(await sdk.evaluate((i) => window.phone.getSession(i).setStatus({ number: 'x' }), id), true);
    st = await statusOf(sdk, id);
    assert.equal(st.number, 'x');
    assert.deepEqual([st.name, st.avatar, st.company], [full.name, full.avatar, 'Initech'], 'setStatus({ number }) leaves the rest');
    const sc3 = await named(sdk, 's:statusChange', mark);
    assert.equal(sc3.length, 1);
    assert.deepEqual([sc3[0][0].number, sc3[0][1].number], ['x', before.number]);
    assert.deepEqual(await named(sdk, 's:staticStatusChange', mark), [], 'number is not static status');

    // ---- not an object: false, nothing changes ----
    mark = await eventCount(sdk);
    const refused = await sdk.evaluate((i) => {
      const p = window.phone;
      const s = p.getSession(i);
      return [p.setSessionStaticStatus(i, 'Bob'), p.setSessionStaticStatus(i, null), p.setSessionStaticStatus(i),
        p.setSessionStaticStatus(i, 42, true), s.setStaticStatus('Bob'), s.setStaticStatus(undefined),
        s.setStatus('x'), s.setStatus(null), s.setStatus(7)];
    }, id);
    assert.deepEqual(refused, Array(9).fill(false));
    assert.deepEqual(await statusOf(sdk, id), st, 'status unchanged');
    assert.deepEqual((await events(sdk)).slice(mark).filter(([n]) => ['s:statusChange', 's:staticStatusChange'].includes(n)), []);

    // ---- stopTimer(): updateTimer events stop (counted over >= 2.5 s before and after) ----
    const since = await sdk.evaluate(() => performance.now() - window.ticksFrom);
    if (since < 2500) await sleep(2500 - since);
    const ticking = await sdk.evaluate((i) => {
      const r = window.phone.getSession(i).stopTimer();
      window.stoppedAt = performance.now();
      return { r: r ?? null, n: window.ticksAt.length, ms: window.stoppedAt - window.ticksFrom };
    }, id);
    assert.ok(ticking.n >= 2, `updateTimer before stopTimer(): ${ticking.n} in ${Math.round(ticking.ms)} ms`);

    // ---- renegotiate(id): a re-INVITE with a fresh offer, the call stays up ----
    const reinvites = () => peerEvents(peer, 'reinvite');
    const invitesIn = async () => (await peerEvents(peer, 'sip-in')).filter((e) => e.method === 'INVITE').length;
    const ours0 = await mediaOf(sdk, id);
    assert.equal(await sdk.evaluate((i) => window.phone.renegotiate(i), id), true);
    const r1 = await until(async () => (await reinvites())[0] ?? null, { what: 're-INVITE at JsSIP' });
    assert.equal(await invitesIn(), 1, 'JsSIP got one in-dialog INVITE');
    assert.equal(r1.sdp.audio.direction, 'sendrecv');
    assert.equal(r1.sdp.video, null, 'renegotiate() of an audio call offers no video');
    await allFlowing([[sdkStats(sdk, id), 'audioIn', 'SDK inbound audio after renegotiate()'],
      [peerStats(peer), 'inboundBytes', 'JsSIP inbound audio after renegotiate()']]);
    const ours1 = await mediaOf(sdk, id);
    assert.ok(sdpVersion(ours1.local) > sdpVersion(ours0.local), 'a new local offer (o= version)');
    st = await statusOf(sdk, id);
    assert.deepEqual([st.callStatus, st.isHold, st.isVideo], ['talking', false, false]);

    // ---- renegotiate(id, true): the offer asks to receive video (we have no camera track) ----
    assert.equal(await sdk.evaluate((i) => window.phone.renegotiate(i, true), id), true);
    const r2 = await until(async () => (await reinvites())[1] ?? null, { what: 'second re-INVITE at JsSIP' });
    assert.equal(await invitesIn(), 2);
    assert.equal(r2.sdp.audio.direction, 'sendrecv');
    assert.ok(r2.sdp.video && r2.sdp.video.port > 0, `an active m=video: ${JSON.stringify(r2.sdp)}`);
    assert.equal(r2.sdp.video.direction, 'recvonly', 'receive only: we send no video');
    await allFlowing([[sdkStats(sdk, id), 'audioIn', 'SDK inbound audio after renegotiate(id, true)'],
      [peerStats(peer), 'inboundBytes', 'JsSIP inbound audio after renegotiate(id, true)']]);
    const ours2 = await mediaOf(sdk, id);
    assert.equal(sdpMedia(ours2.local).video.direction, 'recvonly', 'our offer, applied');
    // JsSIP sends no video (it has no camera track): its answer is inactive, so the call is not a video call
    const theirVideo = sdpMedia(ours2.remote).video;
    assert.equal(theirVideo.direction, 'inactive', `JsSIP's answer: ${JSON.stringify(theirVideo)}`);
    st = await statusOf(sdk, id);
    assert.deepEqual([st.callStatus, st.isHold, st.isVideo], ['talking', false, false]);

    // ---- no updateTimer since stopTimer() ----
    const wait = await sdk.evaluate(() => 2500 - (performance.now() - window.stoppedAt));
    if (wait > 0) await sleep(wait);
    const after = await sdk.evaluate(() => ({ n: window.ticksAt.filter((x) => x > window.stoppedAt).length, ms: performance.now() - window.stoppedAt }));
    assert.equal(after.n, 0, `updateTimer after stopTimer(): ${after.n} in ${Math.round(after.ms)} ms`);
    t.diagnostic(`updateTimer: ${ticking.n} in ${Math.round(ticking.ms)} ms before stopTimer(), ${after.n} in ${Math.round(after.ms)} ms after`);

    // ---- destroy(): the call ends (BYE), the phone says deleteSession, the session's listeners hear nothing more ----
    mark = await eventCount(sdk);
    const during = await sdk.evaluate(([i, names]) => {
      const s = window.phone.getSession(i);
      window.heard = [];
      window.destroyPhase = 'before';
      for (const n of names) s.on(n, () => window.heard.push([window.destroyPhase, n]));
      window.destroyPhase = 'during';
      const r = s.destroy();
      window.destroyPhase = 'after';
      window.destroyedAt = performance.now();
      return { r: r ?? null, heard: window.heard.slice() };
    }, [id, SESSION_EVENTS]);
    assert.equal(during.r, null, 'destroy() returns nothing');
    const ended = await peer.evaluate(() => window.peer.waitFor('ended'));
    assert.equal(ended.originator, 'remote', 'JsSIP: BYE from us');
    const del = await waitEvent(sdk, 'deleteSession', { match: (p) => p.callId === id });
    await mediaReleased(sdk);
    assert.equal(await sdk.evaluate((i) => window.phone.getSession(i), id), null);
    assert.equal(await sdk.evaluate(() => window.phone.sessions.size), 0);
    const wait2 = await sdk.evaluate(() => 2500 - (performance.now() - window.destroyedAt));
    if (wait2 > 0) await sleep(wait2);
    // destroy() drops the session's listeners first (as the phone's destroy() does): they do not
    // even get `ended`; the phone's deleteSession reports the end
    assert.deepEqual(during.heard, [], 'no session event while destroy() runs');
    assert.deepEqual(await sdk.evaluate(() => window.heard), [], 'no session event after destroy()');
    assert.deepEqual((await events(sdk)).slice(mark).filter(([n]) => n.startsWith('s:')).map(([n]) => n), [],
      "not to the page's own session listeners either");
    t.diagnostic(`destroy(): deleteSession cause ${JSON.stringify(del.cause)}, JsSIP ended (${ended.cause})`);
    assert.deepEqual(await named(sdk, 's:clientError'), []);
  });
});

test('JsSIP adds video to our audio call and removes it (isVideo, updateRemoteStream, video received); a second call holds the first, then hold() of the second: both held, unhold() each: both flow', async (t) => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const p2 = await peerPhone(openPeer, kam, '1002');
    const p3 = await peerPhone(openPeer, kam, '1003');
    const sdk = await sdkPhone(browser, kam, '1001');
    const first = await talking(sdk, p2, '1002');
    await sdk.evaluate((i) => {
      window.remoteUpdates = [];
      window.phone.getSession(i).on('updateRemoteStream', (s) => window.remoteUpdates.push({
        video: s.getVideoTracks().map((x) => x.readyState), audio: s.getAudioTracks().map((x) => x.readyState),
      }));
    }, first);
    const remoteVideo = () => sdk.evaluate((i) => window.phone.getSession(i).remoteStream?.getVideoTracks().map((x) => x.readyState) ?? null, first);
    assert.deepEqual(await remoteVideo(), []);

    // ---- JsSIP adds its camera: re-INVITE with m=video sendrecv ----
    let mark = await eventCount(sdk);
    assert.deepEqual(await p2.evaluate(() => window.peer.addVideo()), { ok: true });
    assert.deepEqual((await peerEvents(p2, 'sip-in')).filter((e) => e.method === 'INVITE'), [], 'JsSIP sent the re-INVITE, we sent none');
    await statusUntil(sdk, first, (s) => s.isVideo === true, 'isVideo');
    assert.ok((await named(sdk, 's:statusChange', mark)).some((p) => p[0].isVideo === true && p[1].isVideo === false), 'statusChange to isVideo');
    const withVideo = await until(async () => (await sdk.evaluate(() => window.remoteUpdates)).find((u) => u.video.includes('live')),
      { what: 'updateRemoteStream with a live video track' });
    assert.deepEqual(withVideo.audio, ['live'], 'the remote stream keeps its audio');
    assert.deepEqual(await remoteVideo(), ['live']);
    const ours = await mediaOf(sdk, first);
    assert.equal(sdpMedia(ours.remote).video.direction, 'sendrecv', "JsSIP's offer");
    assert.equal(sdpMedia(ours.local).video.direction, 'recvonly', 'our answer: receive only (no camera of ours)');
    const [vid] = await allFlowing([[sdkStats(sdk, first), 'videoIn', 'SDK inbound video'],
      [sdkStats(sdk, first), 'audioIn', 'SDK inbound audio with video'], [peerStats(p2), 'inboundBytes', 'JsSIP inbound audio with video']],
    { min: 2000 });
    assert.ok(vid > 5000, `SDK inbound video: ${vid} bytes in 1.5 s`);

    // ---- JsSIP removes it: re-INVITE with m=video recvonly; isVideo false, the track leaves the remote stream ----
    mark = await eventCount(sdk);
    assert.deepEqual(await p2.evaluate(() => window.peer.removeVideo()), { ok: true });
    await statusUntil(sdk, first, (s) => s.isVideo === false, 'isVideo false');
    assert.ok((await named(sdk, 's:statusChange', mark)).some((p) => p[0].isVideo === false && p[1].isVideo === true), 'statusChange to no video');
    await until(async () => (await remoteVideo())?.length === 0, { what: 'no video track in remoteStream' });
    assert.ok((await named(sdk, 's:updateRemoteStream', mark)).some((p) => !p.tracks.includes('video')), 'updateRemoteStream without video');
    await allStill([[sdkStats(sdk, first), 'videoIn', 'SDK inbound video after JsSIP removed it']], { max: 2000 });
    await allFlowing([[sdkStats(sdk, first), 'audioIn', 'SDK inbound audio after video'], [peerStats(p2), 'inboundBytes', 'JsSIP inbound audio after video']]);
    t.diagnostic(`SDK received ${vid} video bytes in 1.5 s while JsSIP sent video`);

    // ---- a second call (to 1003) holds the first ----
    await p3.evaluate(() => { window.peer.autoAnswer = {}; });
    const second = await callUp(sdk, '1003');
    await p3.evaluate(() => window.peer.waitFor('confirmed'));
    assert.equal((await p2.evaluate(() => window.peer.waitFor('hold'))).originator, 'remote', '1002 is held');
    await statusUntil(sdk, first, (s) => s.isHold === true && s.callStatus === 'talking', 'the first call held');
    await statusUntil(sdk, second, (s) => s.isHold === false && s.callStatus === 'talking', 'the second call up');

    // ---- hold() of the second while the first is held ----
    assert.equal(await sdk.evaluate((i) => window.phone.hold(i), second), true);
    assert.equal((await p3.evaluate(() => window.peer.waitFor('hold'))).originator, 'remote', '1003 is held');
    await statusUntil(sdk, second, (s) => s.isHold === true, 'the second call held');
    const both = await sdk.evaluate(() => window.phone.getSessions().map((s) => [s.callId, s.status.isHold, s.status.callStatus]));
    assert.deepEqual(both.sort(), [[first, true, 'talking'], [second, true, 'talking']].sort());
    assert.deepEqual(await p2.evaluate(() => window.peer.isOnHold()), { local: false, remote: true });
    assert.deepEqual(await p3.evaluate(() => window.peer.isOnHold()), { local: false, remote: true });
    assert.equal(await p3.evaluate(() => window.peer.sdp().audioDirection), 'sendonly');
    await allStill([[peerStats(p2), 'outboundBytes', 'JsSIP 1002 outbound audio while held'],
      [peerStats(p3), 'outboundBytes', 'JsSIP 1003 outbound audio while held']]);

    // ---- unhold() each: both flow again ----
    assert.equal(await sdk.evaluate((i) => window.phone.unhold(i), first), true);
    assert.equal((await p2.evaluate(() => window.peer.waitFor('unhold'))).originator, 'remote');
    await statusUntil(sdk, first, (s) => s.isHold === false, 'the first call unheld');
    assert.equal(await sdk.evaluate((i) => window.phone.unhold(i), second), true);
    assert.equal((await p3.evaluate(() => window.peer.waitFor('unhold'))).originator, 'remote');
    await statusUntil(sdk, second, (s) => s.isHold === false, 'the second call unheld');
    assert.equal((await statusOf(sdk, first)).isHold, false, 'unhold() of the second leaves the first unheld');
    await allFlowing([
      [sdkStats(sdk, first), 'audioIn', 'SDK inbound audio of the first call'], [peerStats(p2), 'inboundBytes', 'JsSIP 1002 inbound audio'],
      [sdkStats(sdk, second), 'audioIn', 'SDK inbound audio of the second call'], [peerStats(p3), 'inboundBytes', 'JsSIP 1003 inbound audio'],
    ]);

    for (const [id, peer] of [[first, p2], [second, p3]]) {
      assert.equal(await sdk.evaluate((i) => window.phone.hangup(i), id), true);
      await peer.evaluate(() => window.peer.waitFor('ended'));
      await waitEvent(sdk, 'deleteSession', { match: (p) => p.callId === id });
    }
    await mediaReleased(sdk);
    assert.deepEqual(await named(sdk, 's:clientError'), []);
  });
});

test("recordControl { start, pause } as DTMF feature codes: sent as digits (here by INFO) with no Record INFO; recordStatus changes at once", async () => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    const sdk = await sdkPhone(browser, kam, '1001', {
      dtmfMode: 'info', recordPermissions: 2, recordControl: { start: '*1', pause: '#2' },
    });
    const id = await talking(sdk, peer, '1002');
    const tonesAt = async () => (await peerEvents(peer, 'dtmf')).filter((e) => e.originator === 'remote').map((e) => e.tone);
    const recordInfos = async () => (await peerEvents(peer, 'sip-in')).filter((e) => e.method === 'INFO' && e.record !== null);

    assert.equal((await statusOf(sdk, id)).recordStatus, 'stop');
    assert.equal(await sdk.evaluate((i) => window.phone.startRecord(i), id), true);
    assert.equal((await statusOf(sdk, id)).recordStatus, 'recording', 'recordStatus changes at once for feature codes');
    await until(async () => (await tonesAt()).length === 2, { timeoutMs: 8000, what: 'start code at JsSIP' });
    assert.deepEqual(await tonesAt(), ['*', '1']);

    assert.equal(await sdk.evaluate((i) => window.phone.pauseRecord(i), id), true);
    assert.equal((await statusOf(sdk, id)).recordStatus, 'pause');
    await until(async () => (await tonesAt()).length === 4, { timeoutMs: 8000, what: 'pause code at JsSIP' });
    assert.deepEqual(await tonesAt(), ['*', '1', '#', '2']);
    assert.equal(await sdk.evaluate((i) => window.phone.pauseRecord(i), id), false, 'pause while paused is refused');
    await sleep(300);
    assert.deepEqual(await recordInfos(), [], 'no INFO with a Record header');
    assert.deepEqual(await tonesAt(), ['*', '1', '#', '2'], 'nothing more sent');
    await sdk.evaluate((i) => window.phone.hangup(i), id);
    await waitEvent(sdk, 's:ended', { match: (p) => p.callId === id });
    await mediaReleased(sdk);
  });
});

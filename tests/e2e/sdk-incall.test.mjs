// In-call features of our SDK (the built package in Chromium) against JsSIP peers through
// Kamailio: hold and unhold both ways (with the media that stops and resumes), mute,
// DTMF by RFC 4733 (RTCDTMFSender; the digits decoded from the telephone-event packets JsSIP
// receives) and by SIP INFO, INFO received (newDTMF / newInfo),
// recording control by INFO (Record: on / off), callReport, audio → video → audio, and the
// result of the methods for bad digits and unknown calls.
//
// Beyond ../shared/spec/API.md these tests rely on: the Session events `hold` / `unhold`
// { callId, originator: 'local' | 'remote' } and `status.isRemoteHold` (a hold by the peer;
// `status.isHold` is our own hold only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRig, until, sleep } from './helpers.mjs';
import {
  sdkPhone, peerPhone, events, waitEvent, sessionEvents, counters, mediaReleased, flowing, still,
  sdpMedia, statusOf, statusUntil, callUp, peerStats, sdkStats, peerEvents,
} from './sdk-call-helpers.mjs';

const timerOf = (page, callId) => page.evaluate((id) => window.phone.getSession(id)?.timer ?? null, callId);
const mediaOf = (page, callId) => page.evaluate((id) => window.mediaOf(id), callId);
const named = async (page, name) => (await events(page)).filter(([n]) => n === name).map(([, p]) => p);

/** Our call to a JsSIP peer that answers at once, with audio flowing both ways; returns the callId. */
async function talking(sdk, peer, number) {
  await peer.evaluate(() => { window.peer.autoAnswer = {}; });
  const id = await callUp(sdk, number);
  await peer.evaluate(() => window.peer.waitFor('confirmed'));
  await flowing(sdkStats(sdk, id), 'audioIn', { what: 'SDK inbound audio' });
  await flowing(peerStats(peer), 'inboundBytes', { what: 'JsSIP inbound audio' });
  return id;
}

async function hangupAll(sdk, peer, id) {
  assert.equal(await sdk.evaluate((i) => window.phone.hangup(i), id), true);
  await peer.evaluate(() => window.peer.waitFor('ended'));
  await waitEvent(sdk, 'deleteSession', { match: (p) => p.callId === id });
  await mediaReleased(sdk);
}

test('hold: JsSIP sees our hold (sendonly) and unhold, its audio to us stops and resumes; we see JsSIP hold us and resume', async (t) => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    const sdk = await sdkPhone(browser, kam, '1001');
    const id = await talking(sdk, peer, '1002');

    // ---- our hold: re-INVITE with a=sendonly ----
    assert.equal(await sdk.evaluate((i) => window.phone.hold(i), id), true);
    const held = await peer.evaluate(() => window.peer.waitFor('hold'));
    assert.equal(held.originator, 'remote', 'JsSIP: held by the other side');
    const st = await statusUntil(sdk, id, (s) => s.isHold === true, 'isHold');
    assert.equal(st.callStatus, 'talking');
    assert.equal(st.isRemoteHold, false);
    const ourHold = await waitEvent(sdk, 's:hold', { match: (p) => p.callId === id });
    assert.equal(ourHold.originator, 'local');
    assert.equal(await peer.evaluate(() => window.peer.sdp().audioDirection), 'sendonly', 'our offer as JsSIP applied it');
    assert.deepEqual(await peer.evaluate(() => window.peer.isOnHold()), { local: false, remote: true });
    // JsSIP answered recvonly: its audio to us stops (ours to it may go on: sendonly is ours to decide)
    const jsIn0 = (await peerStats(peer)()).inboundBytes;
    const outHeld = await still(peerStats(peer), 'outboundBytes', { what: 'JsSIP outbound audio while held' });
    const inHeld = await still(sdkStats(sdk, id), 'audioIn', { ms: 1000, settleMs: 0, what: 'SDK inbound audio while held' });
    const jsIn = (await peerStats(peer)()).inboundBytes - jsIn0;
    t.diagnostic(`while held (3 s): JsSIP sent ${outHeld} bytes in 1.5 s, we received ${inHeld} in 1 s; JsSIP received ${jsIn} (not checked: sendonly lets us send)`);
    const heldTimer = await timerOf(sdk, id);
    assert.ok(heldTimer.holdDuration >= 1, `holdDuration counts while held: ${JSON.stringify(heldTimer)}`);

    // ---- our unhold: a=sendrecv again, audio both ways ----
    assert.equal(await sdk.evaluate((i) => window.phone.unhold(i), id), true);
    assert.equal((await peer.evaluate(() => window.peer.waitFor('unhold'))).originator, 'remote');
    await statusUntil(sdk, id, (s) => s.isHold === false, 'isHold false');
    assert.equal((await waitEvent(sdk, 's:unhold', { match: (p) => p.callId === id })).originator, 'local');
    assert.equal(await peer.evaluate(() => window.peer.sdp().audioDirection), 'sendrecv');
    await flowing(peerStats(peer), 'outboundBytes', { what: 'JsSIP outbound audio after unhold' });
    await flowing(sdkStats(sdk, id), 'audioIn', { what: 'SDK inbound audio after unhold' });
    await flowing(peerStats(peer), 'inboundBytes', { what: 'JsSIP inbound audio after unhold' });

    // ---- JsSIP holds us: we report it (event, isRemoteHold), our answer stops our audio to it ----
    assert.deepEqual(await peer.evaluate(() => window.peer.hold()), { ok: true });
    const remoteHold = await waitEvent(sdk, 's:hold', { match: (p) => p.callId === id && p.originator === 'remote' });
    assert.equal(remoteHold.callId, id);
    const st2 = await statusUntil(sdk, id, (s) => s.isRemoteHold === true, 'isRemoteHold');
    assert.equal(st2.isHold, false, 'isHold is our own hold only');
    assert.ok((await sessionEvents(sdk, id)).some(([n, p]) => n === 's:statusChange' && p[0].isRemoteHold === true && p[1].isRemoteHold === false),
      'a statusChange reports the remote hold');
    const ourAnswer = await peer.evaluate(() => window.peer.sdp().remote.audio.direction);
    assert.ok(['recvonly', 'inactive'].includes(ourAnswer), `our answer to a sendonly offer: ${ourAnswer}`);
    await still(peerStats(peer), 'inboundBytes', { what: 'JsSIP inbound audio while it holds us' });
    assert.deepEqual(await peer.evaluate(() => window.peer.unhold()), { ok: true });
    assert.equal((await waitEvent(sdk, 's:unhold', { match: (p) => p.callId === id && p.originator === 'remote' })).callId, id);
    await statusUntil(sdk, id, (s) => s.isRemoteHold === false && s.isHold === false, 'isRemoteHold false');
    await flowing(peerStats(peer), 'inboundBytes', { what: 'JsSIP inbound audio after it resumed' });

    await hangupAll(sdk, peer, id);
    assert.deepEqual(await named(sdk, 's:clientError'), []);
  });
});

test('mute (track disabled, no re-INVITE); RFC 4733 DTMF through the RTCDTMFSender with telephone-event negotiated; bad digits and unknown calls refused', async () => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    await peer.evaluate(() => { window.peer.rtpEvents = true; }); // JsSIP reports telephone-events received
    const sdk = await sdkPhone(browser, kam, '1001'); // dtmfMode: the default, 'rfc4733'
    const id = await talking(sdk, peer, '1002');

    // ---- mute / unmute: the local audio track, nothing on the wire ----
    const reoffers = () => peer.evaluate(() => window.peer.events.filter((e) => ['reinvite', 'update'].includes(e.type)).length);
    const before = await reoffers();
    assert.equal((await mediaOf(sdk, id)).audioTrack.enabled, true);
    assert.equal(await sdk.evaluate((i) => window.phone.mute(i), id), true);
    const muted = await statusUntil(sdk, id, (s) => s.isMute === true, 'isMute');
    assert.equal(muted.isHold, false);
    assert.equal((await mediaOf(sdk, id)).audioTrack.enabled, false, 'the local audio track is disabled');
    await sleep(800);
    assert.equal(await sdk.evaluate((i) => window.phone.unmute(i), id), true);
    await statusUntil(sdk, id, (s) => s.isMute === false, 'isMute false');
    assert.equal((await mediaOf(sdk, id)).audioTrack.enabled, true, 'the local audio track is enabled again');
    await sleep(500);
    assert.equal(await reoffers(), before, 'mute and unmute send no re-INVITE or UPDATE');
    assert.equal(await sdk.evaluate((i) => window.phone.getSession(i).mute(), id), true, 'Session.mute()');
    await statusUntil(sdk, id, (s) => s.isMute === true, 'isMute by Session.mute()');
    assert.equal(await sdk.evaluate((i) => window.phone.getSession(i).unmute(), id), true, 'Session.unmute()');
    await statusUntil(sdk, id, (s) => s.isMute === false, 'isMute false by Session.unmute()');

    // ---- RFC 4733: telephone-event in both SDPs, tones played by the RTCDTMFSender ----
    const ours = await mediaOf(sdk, id);
    assert.equal(sdpMedia(ours.local).audio.telephoneEvent, true, 'telephone-event in our SDP');
    assert.equal(sdpMedia(ours.remote).audio.telephoneEvent, true, "telephone-event in JsSIP's SDP");
    assert.equal(ours.dtmf, true, 'the audio sender can insert DTMF');
    const theirs = await peer.evaluate(() => window.peer.sdp());
    assert.equal(theirs.local.audio.telephoneEvent && theirs.remote.audio.telephoneEvent, true, JSON.stringify(theirs));

    assert.equal(await sdk.evaluate((i) => window.phone.dtmf(i, '12#'), id), true);
    const tones = await until(async () => {
      const all = (await named(sdk, 'dtmf:tone')).map((p) => p.tone);
      return all.filter(Boolean).length >= 3 && all.at(-1) === '' ? all : null;
    }, { timeoutMs: 8000, what: "tonechange '1', '2', '#' and the end" });
    assert.deepEqual(tones.filter(Boolean), ['1', '2', '#']);
    // ... and JsSIP received them on the wire: telephone-event packets with those event codes
    const rtpDigits = () => peerEvents(peer, 'rtp-dtmf').then((e) => e.map((x) => x.digit));
    assert.deepEqual(await until(async () => {
      const d = await rtpDigits();
      return d.length >= 3 ? d : null;
    }, { what: 'telephone-events at JsSIP' }), ['1', '2', '#']);
    for (const ins of await named(sdk, 'dtmf:insert')) {
      if (ins.duration !== null) assert.ok(ins.duration >= 40 && ins.duration <= 6000, `tone duration ${ins.duration}`);
      if (ins.interToneGap !== null) assert.ok(ins.interToneGap >= 30 && ins.interToneGap <= 6000, `gap ${ins.interToneGap}`);
    }
    assert.deepEqual(await peerEvents(peer, 'sip-in').then((e) => e.filter((x) => x.method === 'INFO')), [], 'no INFO in rfc4733 mode');
    // the Session method does the same
    assert.equal(await sdk.evaluate((i) => window.phone.getSession(i).dtmf('*'), id), true);
    await until(async () => (await named(sdk, 'dtmf:tone')).some((p) => p.tone === '*'), { what: "tone '*'" });
    await until(async () => ((await rtpDigits()).at(-1) === '*' ? true : null), { what: "'*' at JsSIP" });

    // ---- digits outside 0-9 * # A-D: false, nothing sent ----
    await until(async () => (await named(sdk, 'dtmf:tone')).at(-1)?.tone === '', { what: 'tones done' });
    const inserts = (await named(sdk, 'dtmf:insert')).length;
    for (const bad of ['12x', 'E', '1 2', '5\r\n', 'p', ',']) {
      assert.equal(await sdk.evaluate(([i, d]) => window.phone.dtmf(i, d), [id, bad]), false, `dtmf(${JSON.stringify(bad)})`);
    }
    await sleep(300);
    assert.equal((await named(sdk, 'dtmf:insert')).length, inserts, 'no insertDTMF for bad digits');

    // ---- an unknown callId: false / NOT_FOUND_CALL_ID, and the call is untouched ----
    const unknown = await sdk.evaluate(async () => {
      const p = window.phone;
      const x = 'no-such-call';
      return {
        booleans: [p.hold(x), p.unhold(x), p.mute(x), p.unmute(x), p.dtmf(x, '1'), p.blindTransfer(x, '1003'),
          p.attendedTransfer(x, '1003'), p.startRecord(x), p.pauseRecord(x), p.renegotiate(x), p.videoToAudio(x),
          p.setSessionStaticStatus(x, { name: 'x' })],
        audioToVideo: await p.audioToVideo(x),
      };
    });
    assert.deepEqual(unknown.booleans, Array(12).fill(false));
    assert.equal(unknown.audioToVideo.code, -211, JSON.stringify(unknown.audioToVideo));
    assert.equal((await statusOf(sdk, id)).callStatus, 'talking');

    await hangupAll(sdk, peer, id);
    assert.equal(await sdk.evaluate((i) => window.phone.dtmf(i, '1'), id), false, 'dtmf() of an ended call');
  });
});

test("dtmfMode 'info': one INFO per digit in order; INFO from JsSIP → newDTMF / newInfo; recording by INFO Record: on/off; callReport grows", async (t) => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    const sdk = await sdkPhone(browser, kam, '1001', { dtmfMode: 'info', recordPermissions: 2 });
    const id = await talking(sdk, peer, '1002');
    const infosAt = async (since = 0) => (await peerEvents(peer, 'sip-in', since)).filter((e) => e.method === 'INFO');

    // ---- DTMF by INFO: '1', '2', '#' arrive at JsSIP in that order ----
    assert.equal(await sdk.evaluate((i) => window.phone.dtmf(i, '12#'), id), true);
    const dtmf = await until(async () => {
      const d = (await peerEvents(peer, 'dtmf')).filter((e) => e.originator === 'remote');
      return d.length >= 3 ? d : null;
    }, { timeoutMs: 8000, what: '3 DTMF INFO at JsSIP' });
    assert.deepEqual(dtmf.map((d) => d.tone), ['1', '2', '#']);
    for (const d of dtmf) {
      assert.match(d.contentType, /^application\/dtmf-relay\s*$/i);
      const m = /^Signal=(.)\r\nDuration=(\d+)\r\n$/.exec(d.body);
      assert.ok(m, `body ${JSON.stringify(d.body)}`);
      assert.equal(m[1], d.tone);
      assert.ok(Number(m[2]) >= 40 && Number(m[2]) <= 6000, `Duration=${m[2]}`);
    }
    await sleep(300);
    assert.equal((await infosAt()).length, 3, 'one INFO per digit');
    assert.deepEqual(await named(sdk, 'dtmf:insert'), [], "no RTCDTMFSender in 'info' mode");
    assert.equal(await sdk.evaluate((i) => window.phone.dtmf(i, '9z'), id), false);
    await sleep(300);
    assert.equal((await infosAt()).length, 3, 'nothing sent for bad digits');

    // ---- INFO from JsSIP: DTMF → newDTMF, anything else → newInfo ----
    await peer.evaluate(() => window.peer.sendDTMF('5'));
    const nd = await waitEvent(sdk, 's:newDTMF', { match: (p) => p.callId === id });
    assert.deepEqual([nd.callId, nd.digit, nd.originator], [id, '5', 'remote']);
    await peer.evaluate(() => window.peer.sendInfo('application/x-rig-test', 'hello sipwasm'));
    const ni = await waitEvent(sdk, 's:newInfo', { match: (p) => p.callId === id });
    assert.deepEqual([ni.callId, ni.contentType, ni.body, ni.originator], [id, 'application/x-rig-test', 'hello sipwasm', 'remote']);
    assert.equal((await named(sdk, 's:newInfo')).length, 1, 'the DTMF INFO is not a newInfo');
    assert.equal((await named(sdk, 's:newDTMF')).length, 1, 'the other INFO is not a newDTMF');

    // ---- recording: INFO with Record: on / off; recordStatus changes on the 200 ----
    const records = async () => (await infosAt()).filter((e) => e.record !== null).map((e) => e.record.trim().toLowerCase());
    assert.equal((await statusOf(sdk, id)).recordStatus, 'stop');
    assert.equal(await sdk.evaluate((i) => window.phone.startRecord(i), id), true);
    await until(async () => (await records()).length === 1, { what: 'Record INFO 1' });
    assert.deepEqual(await records(), ['on']);
    await statusUntil(sdk, id, (s) => s.recordStatus === 'recording', "recordStatus 'recording'");
    assert.equal(await sdk.evaluate((i) => window.phone.pauseRecord(i), id), true);
    await until(async () => (await records()).length === 2, { what: 'Record INFO 2' });
    assert.deepEqual(await records(), ['on', 'off']);
    await statusUntil(sdk, id, (s) => s.recordStatus === 'pause', "recordStatus 'pause'");
    assert.equal(await sdk.evaluate((i) => window.phone.startRecord(i), id), true, 'startRecord() resumes');
    await until(async () => (await records()).length === 3, { what: 'Record INFO 3' });
    assert.deepEqual(await records(), ['on', 'off', 'on']);
    await statusUntil(sdk, id, (s) => s.recordStatus === 'recording', "recordStatus 'recording' again");
    // the server refuses: the status stays
    await peer.evaluate(() => { window.peer.infoReply = 403; });
    assert.equal(await sdk.evaluate((i) => window.phone.pauseRecord(i), id), true);
    await until(async () => (await records()).length === 4, { what: 'Record INFO 4 (refused)' });
    await sleep(700);
    assert.equal((await statusOf(sdk, id)).recordStatus, 'recording', 'a 403 to the INFO changes nothing');
    await peer.evaluate(() => { window.peer.infoReply = null; });
    // recordPermissions 0: no control at all; 1: pause and resume only
    await sdk.evaluate(() => {
      window.permChanges = [];
      window.phone.on('recordPermissionsChange', (n) => window.permChanges.push(n));
      window.phone.recordPermissions = 0;
    });
    assert.equal(await sdk.evaluate(() => window.phone.recordPermissions), 0);
    await until(async () => (await sdk.evaluate(() => window.permChanges)).length === 1, { what: 'recordPermissionsChange(0)' });
    assert.deepEqual(await sdk.evaluate(() => window.permChanges), [0]);
    assert.deepEqual(await sdk.evaluate((i) => [window.phone.startRecord(i), window.phone.pauseRecord(i)], id), [false, false]);
    await sdk.evaluate(() => { window.phone.recordPermissions = 1; });
    assert.equal(await sdk.evaluate((i) => window.phone.pauseRecord(i), id), true, 'permission 1: pause');
    await statusUntil(sdk, id, (s) => s.recordStatus === 'pause', "recordStatus 'pause' (permission 1)");
    assert.equal(await sdk.evaluate((i) => window.phone.startRecord(i), id), true, 'permission 1: resume');
    await statusUntil(sdk, id, (s) => s.recordStatus === 'recording', "recordStatus 'recording' (permission 1)");
    assert.deepEqual(await records(), ['on', 'off', 'on', 'off', 'off', 'on']);
    assert.deepEqual(await sdk.evaluate(() => window.permChanges), [0, 1]);

    // ---- callReport every 3 s, with growing counters ----
    const reports = await until(async () => {
      const r = (await named(sdk, 's:callReport')).filter((p) => p.callId === id);
      return r.length >= 2 ? r : null;
    }, { timeoutMs: 10000, what: '2 callReports' });
    const [r1, r2] = reports.slice(-2).map((p) => p.callReport);
    for (const r of [r1, r2]) {
      for (const [k, v] of Object.entries(r)) assert.equal(typeof v, 'string', `Report.${k} is a string`);
      assert.equal(r.callId, id);
      assert.equal(r.extension, '1001');
      assert.equal(r.lksDeviceType, 'web');
      assert.equal(r.iceResult, 'local', 'host candidates on loopback');
      assert.match(r.lksAudioCodec, /opus/i);
      assert.match(r.lksAudioRxLost, /^\d+\.\d{6}$/);
      assert.match(r.lksDate, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.equal(r.lksVideoRx, '', 'no video: empty strings');
    }
    assert.ok(Number(r1.lksAudioRx) > 0, `lksAudioRx ${r1.lksAudioRx}`);
    assert.ok(Number(r2.lksAudioRx) > Number(r1.lksAudioRx), `lksAudioRx ${r1.lksAudioRx} -> ${r2.lksAudioRx}`);
    assert.ok(Number(r2.lksAudioTx) > Number(r1.lksAudioTx), `lksAudioTx ${r1.lksAudioTx} -> ${r2.lksAudioTx}`);
    const dt = Number(r2.lksTimestamp) - Number(r1.lksTimestamp);
    assert.ok(dt >= 2000 && dt <= 4500, `reports ${dt} ms apart`);
    const latest = await sdk.evaluate((i) => window.phone.getSession(i).callReport, id);
    assert.equal(latest?.callId, id, 'Session.callReport holds the latest report');
    t.diagnostic(`callReport: lksAudioRx ${r1.lksAudioRx} -> ${r2.lksAudioRx}, lksAudioTx ${r1.lksAudioTx} -> ${r2.lksAudioTx}, codec ${r2.lksAudioCodec}`);

    await hangupAll(sdk, peer, id);
    const n = (await named(sdk, 's:callReport')).length;
    await sleep(3500);
    assert.equal((await named(sdk, 's:callReport')).length, n, 'no callReport after the call');
  });
});

test('audioToVideo adds a camera track that JsSIP receives; videoToAudio removes it and releases the camera', async (t) => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const peer = await peerPhone(openPeer, kam, '1002');
    const sdk = await sdkPhone(browser, kam, '1001');
    const id = await talking(sdk, peer, '1002');
    assert.equal((await statusOf(sdk, id)).isVideo, false);
    const tracksBefore = (await counters(sdk)).tracks;
    const reinvites = () => peerEvents(peer, 'reinvite');

    const r = await sdk.evaluate((i) => window.phone.audioToVideo(i), id);
    assert.equal(r.code, 200, JSON.stringify(r));
    const offer = await until(async () => (await reinvites()).at(-1) ?? null, { what: 're-INVITE at JsSIP' });
    assert.ok(offer.sdp?.video && offer.sdp.video.port > 0, `the re-INVITE offers video: ${JSON.stringify(offer.sdp)}`);
    assert.ok(['sendrecv', 'sendonly'].includes(offer.sdp.video.direction), offer.sdp.video.direction);
    await until(async () => (await peerEvents(peer, 'track')).some((e) => e.kind === 'video'), { what: 'JsSIP got a video track' });
    const vid = await flowing(peerStats(peer), 'videoInboundBytes', { min: 5000, what: 'JsSIP inbound video' });
    await statusUntil(sdk, id, (s) => s.isVideo === true, 'isVideo');
    const local = await sdk.evaluate((i) => window.phone.getSession(i).localStream?.getVideoTracks().map((x) => x.readyState) ?? [], id);
    assert.deepEqual(local, ['live'], 'localStream: the camera');
    assert.ok((await counters(sdk)).tracks > tracksBefore, 'a camera track is live');
    await flowing(peerStats(peer), 'inboundBytes', { what: 'JsSIP inbound audio with video' });

    assert.equal(await sdk.evaluate((i) => window.phone.videoToAudio(i), id), true);
    await until(async () => (await reinvites()).length >= 2, { what: 'second re-INVITE at JsSIP' });
    await statusUntil(sdk, id, (s) => s.isVideo === false, 'isVideo false');
    await still(peerStats(peer), 'videoInboundBytes', { max: 2000, what: 'JsSIP inbound video after videoToAudio' });
    await until(async () => (await counters(sdk)).tracks === tracksBefore, { what: 'the camera track stopped' });
    await flowing(peerStats(peer), 'inboundBytes', { what: 'JsSIP inbound audio after videoToAudio' });
    await flowing(sdkStats(sdk, id), 'audioIn', { what: 'SDK inbound audio after videoToAudio' });
    t.diagnostic(`JsSIP received ${vid} video bytes in 1.5 s while video was on`);

    await hangupAll(sdk, peer, id);
  });
});

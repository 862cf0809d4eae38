// Transfers with our SDK (the built package in Chromium) and JsSIP peers through Kamailio:
// our blind transfer (REFER, the peer calls the target, NOTIFY 200 ends our call with cause
// 'Transferred'; a failed one leaves the call up with a clientError), our attended transfer
// (consultation call with transferId, REFER with Replaces, JsSIP's two parties end up talking),
// JsSIP transferring us (we call the Refer-To target and NOTIFY the progress), and an INVITE
// with Replaces taking over one of our calls (the `reinvite` event).
//
// Assumptions beyond ../shared/spec/API.md: the INVITE with Replaces of a call that is up is
// taken at once (no `answer()` needed, RFC 3891 §3); attendedTransfer() for a number with no
// consultation call returns false.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRig, until, sleep, DOMAIN } from './helpers.mjs';
import {
  sdkPhone, peerPhone, events, waitEvent, mediaReleased, flowing,
  statusOf, statusUntil, callUp, peerStats, sdkStats, peerEvents,
} from './sdk-call-helpers.mjs';

const named = async (page, name) => (await events(page)).filter(([n]) => n === name).map(([, p]) => p);
const since = (peer) => peer.evaluate(() => window.peer.events.length);
const waitPeer = (peer, type, opts = {}) => peer.evaluate(([ty, o]) => window.peer.waitFor(ty, o), [type, opts]);
const autoAnswer = (peer) => peer.evaluate(() => { window.peer.autoAnswer = {}; });

/** Audio both ways between the JsSIP calls `sidA` of pageA and `sidB` of pageB. */
async function peersTalking(pageA, sidA, pageB, sidB, what) {
  const a = await flowing(peerStats(pageA, sidA), 'inboundBytes', { what: `${what}: first side inbound audio` });
  const b = await flowing(peerStats(pageB, sidB), 'inboundBytes', { what: `${what}: second side inbound audio` });
  return [a, b];
}

test('blind transfer: to an unregistered number it fails (clientError, the call stays up); to 1003 JsSIP 1002 calls 1003, they talk, our call ends Transferred', async (t) => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const b = await peerPhone(openPeer, kam, '1002');
    const c = await peerPhone(openPeer, kam, '1003');
    await autoAnswer(b);
    await autoAnswer(c);
    const sdk = await sdkPhone(browser, kam, '1001');
    const id = await callUp(sdk, '1002');
    const bCall = await waitPeer(b, 'confirmed');

    // ---- to 1004 (known, not registered): B's INVITE gets 480, its NOTIFY says so ----
    let s0 = await since(b);
    assert.equal(await sdk.evaluate((i) => window.phone.blindTransfer(i, '1004'), id), true);
    const refer1 = await waitPeer(b, 'refer', { since: s0 });
    assert.equal(refer1.target, `sip:1004@${DOMAIN}`);
    assert.match(refer1.referredBy ?? '', /sip:1001@/, 'Referred-By: us');
    const failed = await waitPeer(b, 'failed', { since: s0, timeoutMs: 15000 });
    assert.equal(failed.status, 480);
    const err = await waitEvent(sdk, 's:clientError', { match: (p) => p.callId === id });
    assert.equal(typeof err.cause, 'string');
    await sleep(500);
    assert.equal((await statusOf(sdk, id))?.callStatus, 'talking', 'the call stays up');
    assert.equal((await named(sdk, 's:ended')).length, 0);
    assert.equal((await peerEvents(b, 'ended')).length, 0, "B's call with us is still up");
    await flowing(peerStats(b, bCall.sid), 'inboundBytes', { what: 'B inbound audio after the failed transfer' });
    await flowing(sdkStats(sdk, id), 'audioIn', { what: 'SDK inbound audio after the failed transfer' });

    // ---- to 1003: B calls C, NOTIFY 200, our call ends ----
    s0 = await since(b);
    assert.equal(await sdk.evaluate((i) => window.phone.getSession(i).blindTransfer('1003'), id), true, 'Session.blindTransfer()');
    const refer2 = await waitPeer(b, 'refer', { since: s0 });
    assert.equal(refer2.target, `sip:1003@${DOMAIN}`);
    assert.equal(refer2.replaces, null);
    const out = await waitPeer(b, 'outgoing', { since: s0 });
    assert.equal(out.referredBy, bCall.sid);
    await waitPeer(b, 'confirmed', { sid: out.sid, timeoutMs: 15000 });
    const inc = await waitPeer(c, 'incoming');
    assert.equal(inc.from, `sip:1002@${DOMAIN}`);
    await waitPeer(c, 'confirmed');

    const ended = await waitEvent(sdk, 's:ended', { match: (p) => p.callId === id });
    assert.equal(ended.cause, 'Transferred');
    await waitEvent(sdk, 'deleteSession', { match: (p) => p.callId === id });
    const bEnded = await waitPeer(b, 'ended', { sid: bCall.sid });
    assert.equal(bEnded.originator, 'remote', 'we hang up B after the transfer');
    assert.equal(await sdk.evaluate(() => window.phone.sessions.size), 0);
    await mediaReleased(sdk);

    const [ab, ac] = await peersTalking(b, out.sid, c, inc.sid, 'B and C');
    t.diagnostic(`after the transfer: B received ${ab}, C received ${ac} audio bytes in 1.5 s`);
    assert.equal((await named(sdk, 's:clientError')).length, 1, 'one clientError: the failed transfer');
  });
});

test('attended transfer: consultation call to 1003 holds 1002; attendedTransfer sends REFER with Replaces; JsSIP 1002 and 1003 talk; both our calls end', async (t) => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const b = await peerPhone(openPeer, kam, '1002');
    const c = await peerPhone(openPeer, kam, '1003');
    await autoAnswer(b);
    await autoAnswer(c);
    const sdk = await sdkPhone(browser, kam, '1001');
    const idB = await callUp(sdk, '1002');
    const bCall = await waitPeer(b, 'confirmed');
    await sleep(1100); // call() within 1 s of the previous one is -208

    // ---- the consultation call: the first is put on hold ----
    const idC = await callUp(sdk, '1003', {}, idB);
    assert.notEqual(idC, idB);
    assert.equal((await waitPeer(b, 'hold')).originator, 'remote', 'B is held');
    await statusUntil(sdk, idB, (s) => s.isHold === true, 'the first call is on hold');
    const cs = await statusOf(sdk, idC);
    assert.equal(cs.isTransfer, true);
    assert.equal(cs.transferParent?.callId, idB);
    assert.equal(cs.transferParent?.number, '1002');
    assert.equal(cs.callStatus, 'talking');
    const cCall = await waitPeer(c, 'incoming');
    await waitPeer(c, 'confirmed');
    await flowing(peerStats(c), 'inboundBytes', { what: 'C inbound audio (consultation)' });

    // a number with no consultation call: refused, nothing sent
    assert.equal(await sdk.evaluate((i) => window.phone.attendedTransfer(i, '1005'), idB), false);
    await sleep(300);
    assert.deepEqual(await peerEvents(b, 'refer'), []);

    // ---- complete it ----
    const s0 = await since(b);
    assert.equal(await sdk.evaluate((i) => window.phone.attendedTransfer(i, '1003'), idB), true);
    const refer = await waitPeer(b, 'refer', { since: s0 });
    assert.equal(refer.target, `sip:1003@${DOMAIN}`);
    assert.ok(refer.replaces, `Refer-To with Replaces: ${refer.referTo}`);
    const [rCallId, ...rParams] = refer.replaces.split(';').map((x) => x.trim());
    assert.equal(rCallId, cCall.sipCallId, 'Replaces names the consultation dialog');
    assert.ok(rParams.some((p) => /^to-tag=./i.test(p)) && rParams.some((p) => /^from-tag=./i.test(p)), refer.replaces);
    const out = await waitPeer(b, 'outgoing', { since: s0 });
    assert.equal(out.referredBy, bCall.sid);
    const rep = await waitPeer(c, 'replaces');
    assert.equal(rep.sid, cCall.sid, 'the INVITE with Replaces names C\'s call with us');
    const newC = await waitPeer(c, 'incoming', { count: 2 });
    assert.equal(newC.replacing, cCall.sid);
    assert.equal(newC.from, `sip:1002@${DOMAIN}`);
    await waitPeer(b, 'confirmed', { sid: out.sid, timeoutMs: 15000 });
    await waitPeer(c, 'confirmed', { sid: newC.sid, timeoutMs: 15000 });

    // ---- both our calls end; B and C talk ----
    for (const id of [idB, idC]) {
      await waitEvent(sdk, 's:ended', { match: (p) => p.callId === id });
      await waitEvent(sdk, 'deleteSession', { match: (p) => p.callId === id });
    }
    await waitPeer(b, 'ended', { sid: bCall.sid });
    await waitPeer(c, 'ended', { sid: cCall.sid });
    assert.equal(await sdk.evaluate(() => window.phone.sessions.size), 0);
    await mediaReleased(sdk);
    const [ab, ac] = await peersTalking(b, out.sid, c, newC.sid, 'B and C');
    t.diagnostic(`after the attended transfer: B received ${ab}, C received ${ac} audio bytes in 1.5 s`);
    const causes = (await named(sdk, 's:ended')).map((p) => `${p.callId === idB ? 'original' : 'consultation'}: ${p.cause}`);
    t.diagnostic(`our calls ended with ${causes.join(', ')}`);
    assert.deepEqual(causes.sort(), ['consultation: Transferred', 'original: Transferred'], 'both our calls end Transferred');
    assert.deepEqual(await named(sdk, 's:clientError'), []);
  });
});

test('JsSIP 1002 transfers us to 1003: we call 1003 and NOTIFY 1002 the progress; we end up talking to 1003', async (t) => {
  await withRig(async ({ kam, browser, openPeer }) => {
    const b = await peerPhone(openPeer, kam, '1002');
    const c = await peerPhone(openPeer, kam, '1003');
    await autoAnswer(c);
    const sdk = await sdkPhone(browser, kam, '1001');
    await sdk.evaluate(() => { window.phone.on('incoming', ({ session }) => { session.answer(); }); });
    assert.deepEqual(await b.evaluate((u) => window.peer.call(u), `sip:1001@${DOMAIN}`), { ok: true });
    const first = await waitEvent(sdk, 's:confirmed');
    const idOld = first.callId;
    await flowing(peerStats(b), 'inboundBytes', { what: 'B inbound audio' });

    const res = await b.evaluate(() => window.peer.refer('sip:1003@sipwasm.test', { hangupOnAccepted: true }));
    assert.deepEqual(res, { ok: true, type: 'accepted', status: 200 });
    const accepted = await peerEvents(b, 'refer:requestSucceeded');
    assert.equal(accepted[0]?.status, 202, 'REFER answered 202');
    // the NOTIFYs: message/sipfrag, Event: refer, ending with 200 and a terminated subscription
    const notifies = (await peerEvents(b, 'sip-in')).filter((e) => e.method === 'NOTIFY');
    assert.ok(notifies.length >= 1, 'at least the final NOTIFY');
    for (const n of notifies) {
      assert.match(n.contentType, /^message\/sipfrag/i);
      assert.match(n.event, /^refer\b/i);
      assert.match(n.body, /^SIP\/2\.0 \d{3}/);
    }
    assert.match(notifies.at(-1).body, /^SIP\/2\.0 200/);
    assert.match(notifies.at(-1).subscriptionState, /^terminated/i);

    // our new outbound call to 1003 is up
    const created = await until(async () => (await named(sdk, 'newRTCSession')).find((p) => p.callId !== idOld) ?? null, { what: 'a new Session' });
    const idNew = created.callId;
    await waitEvent(sdk, 's:confirmed', { match: (p) => p.callId === idNew });
    const st = await statusOf(sdk, idNew);
    assert.equal(st.communicationType, 'outbound');
    assert.equal(st.number, '1003');
    assert.equal(st.callStatus, 'talking');
    const inc = await waitPeer(c, 'incoming');
    assert.equal(inc.from, `sip:1001@${DOMAIN}`);
    await waitPeer(c, 'confirmed');
    // the old call is gone (the transferor hung up)
    await waitEvent(sdk, 's:ended', { match: (p) => p.callId === idOld });
    await waitEvent(sdk, 'deleteSession', { match: (p) => p.callId === idOld });
    const ours = await flowing(sdkStats(sdk, idNew), 'audioIn', { what: 'SDK inbound audio from 1003' });
    const theirs = await flowing(peerStats(c), 'inboundBytes', { what: '1003 inbound audio from us' });
    t.diagnostic(`talking to 1003: we received ${ours}, 1003 received ${theirs} audio bytes in 1.5 s`);

    assert.equal(await sdk.evaluate((i) => window.phone.hangup(i), idNew), true);
    await waitPeer(c, 'ended');
    await waitEvent(sdk, 'deleteSession', { match: (p) => p.callId === idNew });
    await mediaReleased(sdk);
    assert.deepEqual(await named(sdk, 's:clientError'), []);
  });
});

for (const video of [false, true]) {
  test(`an INVITE with Replaces takes over our ${video ? 'video' : 'audio'} call: reinvite event with the new Session, the old call ends, we talk to the new party${video ? ' with video both ways' : ''}`, async (t) => {
    await withRig(async ({ kam, browser, openPeer }) => {
      // 1002 (JsSIP) talks to 1003 and to us, then refers 1003 to us with Replaces of its call with us
      const a = await peerPhone(openPeer, kam, '1002');
      const b = await peerPhone(openPeer, kam, '1003');
      await autoAnswer(b);
      await b.evaluate((v) => { window.peer.referVideo = v; }, video);
      const sdk = await sdkPhone(browser, kam, '1001');
      // answer the first call only: the replacing INVITE must be taken by the SDK itself
      await sdk.evaluate((v) => {
        window.answeredFirst = false;
        window.phone.on('incoming', ({ session }) => {
          if (window.answeredFirst) return;
          window.answeredFirst = true;
          session.answer({ video: v });
        });
      }, video);
      assert.deepEqual(await a.evaluate((u) => window.peer.call(u), `sip:1003@${DOMAIN}`), { ok: true });
      assert.deepEqual(await a.evaluate(([u, v]) => window.peer.call(u, { video: v }), [`sip:1001@${DOMAIN}`, video]), { ok: true });
      const idOld = (await waitEvent(sdk, 's:confirmed')).callId;
      assert.equal((await statusOf(sdk, idOld)).isVideo, video);
      const [toB, toUs] = await a.evaluate(() => window.peer.sessionList().map((s) => s.sid));

      const res = await a.evaluate(([sid, replacesSid]) => window.peer.refer('sip:1001@sipwasm.test', { sid, replacesSid, hangupOnAccepted: true }), [toB, toUs]);
      assert.deepEqual(res, { ok: true, type: 'accepted', status: 200 });
      const out = await waitPeer(b, 'outgoing');
      assert.ok(out.referredBy !== undefined);

      const re = await waitEvent(sdk, 's:reinvite', { match: (p) => p.callId !== idOld });
      const idNew = re.callId;
      assert.deepEqual(re.session, { session: idNew }, 'the payload carries the new Session');
      const reEvents = (await events(sdk)).filter(([n]) => n === 's:reinvite');
      assert.equal(reEvents.length, 1);
      await waitEvent(sdk, 's:confirmed', { match: (p) => p.callId === idNew });
      await waitEvent(sdk, 's:ended', { match: (p) => p.callId === idOld });
      await waitEvent(sdk, 'deleteSession', { match: (p) => p.callId === idOld });
      const st = await statusOf(sdk, idNew);
      assert.equal(st.callStatus, 'talking');
      assert.equal(st.number, '1003');
      // RFC 3891 §3: taken without asking the user, with the media of the call it replaces
      assert.equal(st.isVideo, video);
      assert.deepEqual(await sdk.evaluate(() => [window.phone.sessions.size, window.phone.currentSessionID]), [1, idNew]);
      await waitPeer(b, 'confirmed', { sid: out.sid });
      // 1002's two calls are over: ours ended by our BYE, its own by hangupOnAccepted
      await waitPeer(a, 'ended', { sid: toUs });
      await waitPeer(a, 'ended', { sid: toB });
      const ours = await flowing(sdkStats(sdk, idNew), 'audioIn', { what: 'SDK inbound audio from 1003' });
      const theirs = await flowing(peerStats(b, out.sid), 'inboundBytes', { what: '1003 inbound audio from us' });
      t.diagnostic(`replaced: we received ${ours}, 1003 received ${theirs} audio bytes in 1.5 s`);
      if (video) {
        const ourVid = await flowing(sdkStats(sdk, idNew), 'videoIn', { min: 5000, what: 'SDK inbound video from 1003' });
        const theirVid = await flowing(peerStats(b, out.sid), 'videoInboundBytes', { min: 5000, what: '1003 inbound video from us' });
        t.diagnostic(`replaced video: we received ${ourVid}, 1003 received ${theirVid} bytes in 1.5 s`);
      }

      await b.evaluate(() => window.peer.hangup());
      await waitEvent(sdk, 'deleteSession', { match: (p) => p.callId === idNew });
      await mediaReleased(sdk);
      assert.deepEqual(await named(sdk, 's:clientError'), []);
    });
  });
}

// The rig's independent SIP peer: JsSIP in the page, driven through window.peer.
//
//   await peer.register({ wsUrl, user, password, domain })  -> { ok, status?, cause? }
//   await peer.unregister()                                  -> { ok }
//   peer.call('sip:1003@sipwasm.test', { video })            -> { ok, status?, cause? } when confirmed / failed
//   await peer.waitFor('incoming'); await peer.answer()      -> { ok } when confirmed
//   peer.autoAnswer = { video, hangupAfterMs } | null        -> answer every incoming call (and hang up later)
//   await peer.hangup()                                      -> { ok } when ended
//   await peer.stats()                                       -> { inboundBytes, outboundBytes, audio, video, ... }
//   peer.events                                              -> [{ t, type, sid?, ... }] (everything that happened)
//   await peer.waitFor(type, { count, timeoutMs, since, sid }) -> the count-th event of that type
//
// Several calls at once: every JsSIP RTCSession gets a number, `sid` (0, 1, 2, ... in the
// order they appear), carried by each of its events. `peer.session` is the most recent live
// one; the methods below act on it unless given `{ sid }`.
//
// In-call features (for the SDK's hold/DTMF/INFO/transfer tests):
//   await peer.hold() / peer.unhold()            -> { ok } once the re-INVITE is answered
//   await peer.addVideo() / peer.removeVideo()    -> { ok } once the re-INVITE is answered: the fake
//                                                   camera added to (stopped and removed from) the call
//   peer.isOnHold()                               -> { local, remote } (JsSIP's view)
//   peer.sendDTMF('12#', { transportType: 'INFO' | 'RFC2833', duration, interToneGap })
//   peer.sendInfo(contentType, body, { extraHeaders })
//   await peer.refer(target, { replacesSid, hangupOnAccepted }) -> { ok, type, status } on the final NOTIFY
//   await peer.sdp()                              -> directions / ports / telephone-event of both descriptions
//   peer.sessionList()                            -> [{ sid, direction, status, from, to, hold }]
//   peer.referPolicy = 'accept' | 'reject' | null  incoming REFER: call the target (default), 603, or nothing
//   peer.referVideo = false | true                 the call for an accepted REFER with video
//   peer.rtpEvents = false | true                  new calls report RFC 4733 events received on the wire
//   peer.replacesPolicy = 'accept' | 'reject'     incoming INVITE with Replaces: take it (answered at once) or 486
//   peer.infoReply = null | status                answer INFO carrying a `Record` header with this status
// Events recorded on top of the call ones: hold / unhold { originator }, reinvite { directions },
// update, dtmf { originator, tone, duration, contentType, body }, info { originator, contentType,
// body, record }, sip-in { method, ... } (every in-dialog request received, raw), refer (received:
// referTo, referredBy, replaces), replaces (received INVITE with Replaces), refer:<state> (our own
// REFER: requestSucceeded, requestFailed, trying, progress, accepted, failed, with the sipfrag status),
// rtp-dtmf { digit, pt } (with peer.rtpEvents: a telephone-event received in the RTP).
//
// Audio comes from Chromium's fake capture device (--use-fake-device-for-media-stream).
/* global JsSIP */

const t0 = performance.now();
const events = [];
const waiters = new Set();
let ua = null;
let session = null;
let incoming = null;
let nextSid = 0;
/** sid -> live RTCSession (removed when it ends, so ended calls can be collected). */
const live = new Map();
/** sid -> what is known of a session (kept after it ends; plain data only). */
const info = new Map();

function emit(type, data = {}) {
  const ev = { t: Math.round(performance.now() - t0), type, ...data };
  events.push(ev);
  console.log(`peer: ${type} ${JSON.stringify(data)}`);
  document.getElementById('state').textContent = type;
  const line = document.createElement('div');
  line.textContent = `${(ev.t / 1000).toFixed(3)} ${type} ${Object.keys(data).length ? JSON.stringify(data) : ''}`;
  document.getElementById('log').append(line);
  for (const w of [...waiters]) w();
}

function waitFor(type, { count = 1, timeoutMs = 10000, since = 0, sid } = {}) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const hits = events.filter((e, i) => i >= since && (Array.isArray(type) ? type.includes(e.type) : e.type === type)
        && (sid === undefined || e.sid === sid));
      if (hits.length >= count) { cleanup(); resolve(hits[count - 1]); return true; }
      return false;
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`peer: timeout waiting for ${type} (x${count}${sid === undefined ? '' : `, sid ${sid}`}); events: ${events.map((e) => e.type).join(',')}`));
    }, timeoutMs);
    const cleanup = () => { clearTimeout(timer); waiters.delete(check); };
    if (!check()) waiters.add(check);
  });
}

const statusOf = (e) => e?.response?.status_code ?? e?.message?.status_code ?? null;

const media = (video) => ({ audio: true, video: !!video });
const PC_CONFIG_BASE = { iceServers: [] };
/** The RTCPeerConnection config of every call; with `peer.rtpEvents`, encoded streams (see below). */
const pcConfig = () => (peer.rtpEvents ? { ...PC_CONFIG_BASE, encodedInsertableStreams: true } : PC_CONFIG_BASE);

/**
 * With `peer.rtpEvents` (set before the call), the call's RTP passes through encoded streams
 * (Chromium's `encodedInsertableStreams`): every sender's frames unchanged, and every received
 * audio frame looked at. A telephone-event packet (RFC 4733 §2.3: the payload type that the
 * remote SDP maps to telephone-event; the event code in the first byte, 0-9, 10 '*', 11 '#',
 * 12-15 'A'-'D') gives one `rtp-dtmf { sid, digit, pt }` per event (its packets share an RTP
 * timestamp). This is what JsSIP's side received on the wire, independent of the sender's API.
 */
const DIGITS = '0123456789*#ABCD';
function watchRtp(pc, sid) {
  const piped = new WeakSet();
  const pipeSender = (sender) => {
    if (piped.has(sender)) return;
    piped.add(sender);
    const { readable, writable } = sender.createEncodedStreams();
    readable.pipeTo(writable).catch(() => {});
  };
  const addTrack = pc.addTrack.bind(pc);
  pc.addTrack = (...args) => { const sender = addTrack(...args); pipeSender(sender); return sender; };
  pc.getSenders().forEach(pipeSender);
  const seen = new Set();
  pc.addEventListener('track', (ev) => {
    if (piped.has(ev.receiver)) return;
    piped.add(ev.receiver);
    const { readable, writable } = ev.receiver.createEncodedStreams();
    const audio = ev.track.kind === 'audio';
    readable.pipeThrough(new TransformStream({
      transform(frame, out) {
        if (audio) {
          const pts = [...(pc.remoteDescription?.sdp ?? '').matchAll(/a=rtpmap:(\d+) telephone-event\//g)].map((m) => Number(m[1]));
          const { payloadType, rtpTimestamp } = frame.getMetadata();
          const key = `${payloadType}/${rtpTimestamp ?? frame.timestamp}`;
          if (pts.includes(payloadType) && frame.data.byteLength >= 4 && !seen.has(key)) {
            seen.add(key);
            emit('rtp-dtmf', { sid, digit: DIGITS[new Uint8Array(frame.data)[0]] ?? null, pt: payloadType });
          }
        }
        out.enqueue(frame);
      },
    })).pipeTo(writable).catch(() => {});
  });
}

const rr = (m) => (m?.getHeaders ? m.getHeaders('record-route') : []);
const header = (m, name) => (m?.hasHeader?.(name) ? m.getHeader(name) : null);

/** The m-sections of an SDP: [{ kind, port, direction, telephoneEvent, codecs }]. */
function parseSdp(sdp) {
  if (!sdp) return null;
  const [session, ...sections] = sdp.split(/\r?\n(?=m=)/);
  const dirRe = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m;
  const sessionDir = dirRe.exec(session)?.[1] ?? 'sendrecv';
  return sections.map((s) => {
    const m = /^m=(\w+) (\d+)/.exec(s);
    return {
      kind: m?.[1] ?? null,
      port: m ? Number(m[2]) : null,
      direction: dirRe.exec(s)?.[1] ?? sessionDir,
      telephoneEvent: /^a=rtpmap:\d+ telephone-event\//im.test(s),
      codecs: [...s.matchAll(/^a=rtpmap:\d+ ([^/\s]+)/gim)].map((x) => x[1].toLowerCase()),
    };
  });
}
/** { audio: first audio m-section, video: first video m-section } of an SDP (null when absent). */
function byKind(sdp) {
  const ms = parseSdp(sdp);
  if (!ms) return null;
  return { audio: ms.find((m) => m.kind === 'audio') ?? null, video: ms.find((m) => m.kind === 'video') ?? null, sections: ms };
}

/** The session a method acts on: `sid` when given, else the current one. */
function pick(sid) {
  if (sid === undefined || sid === null) return session;
  return live.get(sid) ?? null;
}

function endSession(s) {
  live.delete(s._peerSid);
  const i = info.get(s._peerSid);
  if (i) i.ended = true;
  if (session === s) session = [...live.values()].pop() ?? null;
  if (incoming === s && s.isEnded()) incoming = null;
}

/** Records every in-dialog request the session receives; answers INFO JsSIP itself would refuse. */
function tapRequests(s) {
  const orig = s.receiveRequest.bind(s);
  s.receiveRequest = (request) => {
    const sid = s._peerSid;
    const m = request.method;
    if (m !== 'ACK') {
      emit('sip-in', {
        sid, method: m,
        contentType: header(request, 'Content-Type'),
        body: m === 'INVITE' || m === 'UPDATE' ? undefined : (request.body || ''),
        record: header(request, 'Record'),
        referTo: header(request, 'Refer-To'),
        referredBy: header(request, 'Referred-By'),
        replaces: header(request, 'Replaces'),
        event: header(request, 'Event'),
        subscriptionState: header(request, 'Subscription-State'),
      });
    }
    if (m === 'INFO' && request.hasHeader('Record')) {
      if (peer.infoReply) {
        request.reply(peer.infoReply);
        return undefined;
      }
      if (!request.hasHeader('Content-Type')) {
        // JsSIP answers an INFO without a body type with 415: a recording control INFO may have none
        request.reply(200);
        emit('info', { sid, originator: 'remote', contentType: null, body: request.body || '', record: request.getHeader('Record') });
        return undefined;
      }
    }
    return orig(request);
  };
}

function watchSession(s, originator, request) {
  const sid = nextSid++;
  s._peerSid = sid;
  session = s;
  live.set(sid, s);
  info.set(sid, { sid, direction: originator === 'remote' ? 'incoming' : 'outgoing', from: s.remote_identity?.uri?.toString() ?? null });
  tapRequests(s);
  s.on('progress', (e) => emit('progress', { sid, status: statusOf(e) }));
  s.on('accepted', (e) => emit('accepted', { sid, recordRoute: rr(e.response) }));
  s.on('confirmed', () => emit('confirmed', { sid }));
  s.on('ended', (e) => { endSession(s); emit('ended', { sid, originator: e.originator, cause: e.cause }); });
  s.on('failed', (e) => { endSession(s); emit('failed', { sid, originator: e.originator, cause: e.cause, status: statusOf(e) }); });
  s.on('hold', (e) => emit('hold', { sid, originator: e.originator }));
  s.on('unhold', (e) => emit('unhold', { sid, originator: e.originator }));
  s.on('reinvite', (e) => emit('reinvite', { sid, sdp: byKind(e.request?.body) }));
  s.on('update', (e) => emit('update', { sid, sdp: byKind(e.request?.body) }));
  s.on('newDTMF', (e) => emit('dtmf', {
    sid, originator: e.originator, tone: e.dtmf?.tone ?? null, duration: e.dtmf?.duration ?? null,
    contentType: header(e.request, 'Content-Type'), body: e.originator === 'remote' ? e.request?.body ?? null : null,
  }));
  s.on('newInfo', (e) => emit('info', {
    sid, originator: e.originator, contentType: e.info?.contentType ?? null, body: e.info?.body ?? null,
    record: e.originator === 'remote' ? header(e.request, 'Record') : null,
  }));
  s.on('refer', (e) => {
    const uri = e.request.refer_to?.uri;
    emit('refer', {
      sid,
      referTo: header(e.request, 'Refer-To'),
      referredBy: header(e.request, 'Referred-By'),
      target: uri ? `${uri.scheme}:${uri.user}@${uri.host}${uri.port ? `:${uri.port}` : ''}` : null,
      replaces: uri?.hasHeader('replaces') ? decodeURIComponent(uri.getHeader('replaces')) : null,
      policy: peer.referPolicy,
    });
    if (peer.referPolicy === 'accept') {
      e.accept((ns) => { ns._peerReferredBy = sid; },
        { mediaConstraints: media(peer.referVideo), pcConfig: pcConfig(), rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: peer.referVideo } });
    } else if (peer.referPolicy === 'reject') {
      e.reject();
    }
  });
  s.on('replaces', (e) => {
    emit('replaces', { sid, from: e.request.from?.uri?.toString() ?? null, replaces: header(e.request, 'Replaces'), policy: peer.replacesPolicy });
    if (peer.replacesPolicy === 'accept') {
      // JsSIP terminate()s the replaced call when the new one is confirmed; if the other side
      // already ended it (a transferor may BYE it first) that throws and the new call's other
      // 'confirmed' listeners never run: make it a no-op then
      const terminate = s.terminate.bind(s);
      s.terminate = (o) => (s.isEnded() ? undefined : terminate(o));
      e.accept((ns) => { ns._peerReplaces = sid; });
    } else {
      e.reject();
    }
  });
  const attach = (pc) => {
    pc.addEventListener('track', (ev) => {
      if (ev.track.kind === 'audio') {
        const audio = document.getElementById('remote');
        audio.srcObject = ev.streams[0] ?? new MediaStream([ev.track]);
        audio.play().catch(() => {});
      }
      emit('track', { sid, kind: ev.track.kind });
    });
    pc.addEventListener('iceconnectionstatechange', () => emit('ice', { sid, state: pc.iceConnectionState }));
  };
  const rtp = peer.rtpEvents;
  const attachAll = (pc) => { if (rtp) watchRtp(pc, sid); attach(pc); };
  if (s.connection) attachAll(s.connection);
  else s.on('peerconnection', (e) => attachAll(e.peerconnection));
  emit(originator === 'remote' ? 'incoming' : 'outgoing', {
    sid,
    from: s.remote_identity?.uri?.toString(),
    sipCallId: s._request?.call_id ?? null,
    recordRoute: originator === 'remote' ? rr(request) : undefined,
    referredBy: s._peerReferredBy, // the sid whose incoming REFER made this call
    replacing: s._peerReplaces, // the sid this incoming INVITE with Replaces replaces
    replacesHeader: originator === 'remote' ? header(request, 'Replaces') ?? undefined : undefined,
  });
  const auto = peer.autoAnswer;
  if (originator === 'remote' && s._peerReplaces !== undefined) {
    // an INVITE with Replaces takes over a call that is up: no ringing (RFC 3891 §3)
    s.answer({ mediaConstraints: media(false), pcConfig: pcConfig() });
  } else if (originator === 'remote' && auto) {
    s.answer({ mediaConstraints: media(auto.video), pcConfig: pcConfig() });
    if (auto.hangupAfterMs !== undefined) {
      s.on('confirmed', () => setTimeout(() => { if (!s.isEnded()) s.terminate(); }, auto.hangupAfterMs));
    }
  }
}

/** Resolves { ok } when JsSIP's hold()/unhold()/renegotiate() re-INVITE is answered. */
function reoffer(method, { sid, timeoutMs = 10000 } = {}) {
  const s = pick(sid);
  if (!s) return Promise.resolve({ ok: false, cause: 'no session' });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, cause: 'timeout' }), timeoutMs);
    const started = s[method]({}, () => { clearTimeout(timer); resolve({ ok: true }); });
    if (!started) { clearTimeout(timer); resolve({ ok: false, cause: `${method}() refused` }); }
  });
}

const peer = {
  events,
  waitFor,
  /** { video?, hangupAfterMs? }: answer every incoming call at once (and hang up after that long). */
  autoAnswer: null,
  /** Incoming REFER: 'accept' (call the Refer-To target, NOTIFY the progress), 'reject' (NOTIFY 603), null (leave it). */
  referPolicy: 'accept',
  /** Calls from now on run their RTP through encoded streams and report `rtp-dtmf` (see watchRtp). */
  rtpEvents: false,
  /** The call made for an accepted REFER carries video (camera and a video offer). */
  referVideo: false,
  /** Incoming INVITE with Replaces: 'accept' (answered at once, the replaced call ends) or 'reject' (486). */
  replacesPolicy: 'accept',
  /** A status to answer INFO requests carrying a `Record` header with (null: 200). */
  infoReply: null,
  get ua() { return ua; },
  get session() { return session; },

  /** Starts a UA and registers. Resolves with { ok: true } or { ok: false, status, cause }. */
  async register({ wsUrl, user, password, domain = 'sipwasm.test', expires = 300, debug = false, recovery = [1, 2] }) {
    if (debug) JsSIP.debug.enable('JsSIP:*'); else JsSIP.debug.disable();
    if (ua) { ua.stop(); ua = null; }
    const socket = new JsSIP.WebSocketInterface(wsUrl);
    ua = new JsSIP.UA({
      sockets: [socket],
      uri: `sip:${user}@${domain}`,
      authorization_user: user,
      password,
      display_name: `peer ${user}`,
      register: false,
      register_expires: expires,
      session_timers: false,
      connection_recovery_min_interval: recovery[0],
      connection_recovery_max_interval: recovery[1],
      user_agent: 'rig-peer JsSIP',
    });
    ua.on('connecting', () => emit('connecting'));
    ua.on('connected', () => emit('connected'));
    ua.on('disconnected', (e) => emit('disconnected', { error: !!e.error, code: e.code ?? null }));
    ua.on('registered', (e) => emit('registered', { status: statusOf(e) }));
    ua.on('unregistered', (e) => emit('unregistered', { status: statusOf(e) }));
    ua.on('registrationFailed', (e) => emit('registrationFailed', { status: statusOf(e), cause: e.cause }));
    ua.on('newRTCSession', (e) => {
      if (e.originator === 'remote') incoming = e.session;
      watchSession(e.session, e.originator, e.request);
    });
    ua.on('newMessage', (e) => emit('message', { originator: e.originator, body: e.request?.body }));
    let since = events.length;
    ua.start();
    // JsSIP fails a REGISTER sent before the WebSocket is open: wait for it first
    const conn = await waitFor(['connected', 'disconnected'], { since, timeoutMs: 10000 });
    if (conn.type !== 'connected') return { ok: false, status: null, cause: 'WebSocket not connected' };
    since = events.length;
    ua.register();
    const ev = await waitFor(['registered', 'registrationFailed'], { since });
    return ev.type === 'registered' ? { ok: true, status: ev.status } : { ok: false, status: ev.status, cause: ev.cause };
  },

  /** REGISTER with Expires: 0. */
  async unregister() {
    const since = events.length;
    ua.unregister();
    const ev = await waitFor(['unregistered', 'registrationFailed'], { since });
    return { ok: ev.type === 'unregistered', status: ev.status };
  },

  /** Calls `target` (sip URI or user); resolves when the call is confirmed or has failed. */
  async call(target, { timeoutMs = 20000, video = false, firstCandidate = false } = {}) {
    const since = events.length;
    const uri = target.includes(':') ? target : `sip:${target}@${ua.configuration.uri.host}`;
    // firstCandidate: send the INVITE with the first ICE candidate instead of waiting for
    // gathering to complete (loopback is all the rig needs)
    const eventHandlers = firstCandidate ? { icecandidate: (e) => e.ready() } : {};
    const s = ua.call(uri, { mediaConstraints: media(video), pcConfig: pcConfig(), rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: !!video }, eventHandlers });
    const ev = await waitFor(['confirmed', 'failed', 'ended'], { since, timeoutMs, sid: s._peerSid });
    return ev.type === 'confirmed' ? { ok: true } : { ok: false, status: ev.status ?? null, cause: ev.cause };
  },

  /** Answers the last incoming call; resolves when confirmed (ACK received) or failed. */
  async answer({ timeoutMs = 20000, video = false } = {}) {
    const s = incoming;
    if (!s) throw new Error('peer: no incoming call');
    const since = events.length;
    s.answer({ mediaConstraints: media(video), pcConfig: pcConfig() });
    const ev = await waitFor(['confirmed', 'failed', 'ended'], { since, timeoutMs, sid: s._peerSid });
    return ev.type === 'confirmed' ? { ok: true } : { ok: false, cause: ev.cause };
  },

  /** Rejects the last incoming call with `status`. */
  reject(status = 486) {
    incoming?.terminate({ status_code: status });
  },

  /** BYE (or CANCEL / reject, depending on the call state); resolves when ended. */
  async hangup({ timeoutMs = 10000, sid } = {}) {
    const s = pick(sid);
    if (!s) return { ok: true, already: true };
    const since = events.length;
    s.terminate();
    const ev = await waitFor(['ended', 'failed'], { since, timeoutMs, sid: s._peerSid });
    return { ok: true, type: ev.type, cause: ev.cause };
  },

  /** JsSIP's hold(): re-INVITE with a=sendonly; { ok } once answered. */
  hold: (opts) => reoffer('hold', opts),
  /** JsSIP's unhold(): re-INVITE with a=sendrecv; { ok } once answered. */
  unhold: (opts) => reoffer('unhold', opts),
  /**
   * Video from JsSIP on an audio call: getUserMedia({ video: true }) on the fake camera,
   * addTrack on the call's RTCPeerConnection, then JsSIP's renegotiate() (a re-INVITE with
   * its new offer); { ok } once it is answered.
   */
  async addVideo({ sid, timeoutMs } = {}) {
    const s = pick(sid);
    if (!s?.connection) return { ok: false, cause: 'no session' };
    if (s._peerVideo) return { ok: false, cause: 'already sends video' };
    const stream = await navigator.mediaDevices.getUserMedia({ audio: false, video: true });
    const track = stream.getVideoTracks()[0];
    const sender = s.connection.addTrack(track, stream);
    s._peerVideo = { track, sender };
    return reoffer('renegotiate', { sid: s._peerSid, timeoutMs });
  },
  /** Undoes addVideo(): the camera track stopped, removeTrack(sender), renegotiate(); { ok } once answered. */
  removeVideo({ sid, timeoutMs } = {}) {
    const s = pick(sid);
    const v = s?._peerVideo;
    if (!v) return Promise.resolve({ ok: false, cause: 'no video added' });
    v.track.stop();
    s.connection.removeTrack(v.sender);
    s._peerVideo = null;
    return reoffer('renegotiate', { sid: s._peerSid, timeoutMs });
  },
  /** JsSIP's own idea of the hold state: { local, remote }. */
  isOnHold({ sid } = {}) { return pick(sid)?.isOnHold() ?? null; },

  /** DTMF from JsSIP: SIP INFO (application/dtmf-relay) by default, or RFC2833 (RTCDTMFSender). */
  sendDTMF(tones, { sid, transportType = 'INFO', duration = 100, interToneGap = 100 } = {}) {
    const s = pick(sid);
    if (!s) return false;
    s.sendDTMF(tones, { transportType, duration, interToneGap });
    return true;
  },

  /** An INFO with any body. */
  sendInfo(contentType, body, { sid, extraHeaders = [] } = {}) {
    const s = pick(sid);
    if (!s) return false;
    s.sendInfo(contentType, body, { extraHeaders });
    return true;
  },

  /**
   * REFER on the current call (or `sid`) to `target`; `replacesSid`: attended transfer, the
   * Refer-To carries Replaces of that call's dialog. Resolves on the final NOTIFY or the REFER's
   * failure: { ok, type, status }. hangupOnAccepted: BYE this call once the NOTIFY says 2xx
   * (what a transferor does).
   */
  refer(target, { sid, replacesSid, hangupOnAccepted = false, timeoutMs = 20000 } = {}) {
    const s = pick(sid);
    if (!s) return Promise.resolve({ ok: false, type: 'no session' });
    const mySid = s._peerSid;
    const uri = target.includes(':') ? target : `sip:${target}@${ua.configuration.uri.host}`;
    const options = {};
    if (replacesSid !== undefined) {
      options.replaces = live.get(replacesSid);
      if (!options.replaces) return Promise.resolve({ ok: false, type: `no session ${replacesSid}` });
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, type: 'timeout' }), timeoutMs);
      const done = (r) => { clearTimeout(timer); resolve(r); };
      const sub = s.refer(uri, options);
      if (!sub) { done({ ok: false, type: 'refer() refused' }); return; }
      sub.on('requestSucceeded', (e) => emit('refer:requestSucceeded', { sid: mySid, status: e.response?.status_code ?? null }));
      sub.on('requestFailed', (e) => {
        emit('refer:requestFailed', { sid: mySid, status: e.response?.status_code ?? null, cause: e.cause });
        done({ ok: false, type: 'requestFailed', status: e.response?.status_code ?? null });
      });
      for (const state of ['trying', 'progress']) {
        sub.on(state, (e) => emit(`refer:${state}`, { sid: mySid, status: e.status_line?.status_code ?? null }));
      }
      sub.on('accepted', (e) => {
        emit('refer:accepted', { sid: mySid, status: e.status_line?.status_code ?? null });
        if (hangupOnAccepted && !s.isEnded()) s.terminate();
        done({ ok: true, type: 'accepted', status: e.status_line?.status_code ?? null });
      });
      sub.on('failed', (e) => {
        emit('refer:failed', { sid: mySid, status: e.status_line?.status_code ?? null });
        done({ ok: false, type: 'failed', status: e.status_line?.status_code ?? null });
      });
    });
  },

  /** RTP counters of the current call's (or `sid`'s) peer connection, in total and by kind. */
  async stats({ sid } = {}) {
    const pc = pick(sid)?.connection;
    if (!pc) return null;
    const kind = () => ({ inBytes: 0, inPackets: 0, outBytes: 0, outPackets: 0 });
    const out = {
      inboundBytes: 0, inboundPackets: 0, outboundBytes: 0, outboundPackets: 0, candidatePair: null,
      videoInboundBytes: 0, videoOutboundBytes: 0, videoInboundPackets: 0, videoOutboundPackets: 0,
      audio: kind(), video: kind(),
    };
    (await pc.getStats()).forEach((r) => {
      if ((r.type === 'inbound-rtp' || r.type === 'outbound-rtp') && (r.kind === 'audio' || r.kind === 'video')) {
        const k = out[r.kind];
        if (r.type === 'inbound-rtp') { k.inBytes += r.bytesReceived ?? 0; k.inPackets += r.packetsReceived ?? 0; }
        else { k.outBytes += r.bytesSent ?? 0; k.outPackets += r.packetsSent ?? 0; }
      }
      if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') out.candidatePair = r.id;
    });
    out.inboundBytes = out.audio.inBytes;
    out.inboundPackets = out.audio.inPackets;
    out.outboundBytes = out.audio.outBytes;
    out.outboundPackets = out.audio.outPackets;
    out.videoInboundBytes = out.video.inBytes;
    out.videoOutboundBytes = out.video.outBytes;
    out.videoInboundPackets = out.video.inPackets;
    out.videoOutboundPackets = out.video.outPackets;
    return out;
  },

  /**
   * The negotiated media of the current call (or `sid`): for the remote and the local
   * description (current ones, i.e. after the last completed offer/answer), per kind
   * { port, direction, telephoneEvent, codecs }; `audioDirection` is the remote audio's.
   */
  sdp({ sid } = {}) {
    const pc = pick(sid)?.connection;
    if (!pc) return null;
    const remote = byKind(pc.currentRemoteDescription?.sdp);
    const local = byKind(pc.currentLocalDescription?.sdp);
    return { remote, local, audioDirection: remote?.audio?.direction ?? null };
  },

  /** What the peer knows of its calls (live and ended). */
  sessionList() {
    return [...info.values()].map((i) => {
      const s = live.get(i.sid);
      return { ...i, status: s ? s.status : null, hold: s ? s.isOnHold() : null, current: s !== undefined && s === session };
    });
  },

  /** Stops the UA (unregisters if registered, closes the WebSocket). */
  async stop() {
    if (!ua) return;
    const u = ua;
    ua = null;
    const since = events.length;
    u.stop();
    await waitFor('disconnected', { since, timeoutMs: 3000 }).catch(() => {});
  },

  isConnected: () => !!ua?.isConnected(),
  isRegistered: () => !!ua?.isRegistered(),
};

window.peer = peer;
document.getElementById('title').textContent = `JsSIP ${JsSIP.version} peer`;
emit('ready', { jssip: JsSIP.version });

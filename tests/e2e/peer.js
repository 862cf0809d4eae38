// The rig's independent SIP peer: JsSIP in the page, driven through window.peer.
//
//   await peer.register({ wsUrl, user, password, domain })  -> { ok, status?, cause? }
//   await peer.unregister()                                  -> { ok }
//   peer.call('sip:1003@sipwasm.test', { video })            -> { ok, status?, cause? } when confirmed / failed
//   await peer.waitFor('incoming'); await peer.answer()      -> { ok } when confirmed
//   peer.autoAnswer = { video, hangupAfterMs } | null        -> answer every incoming call (and hang up later)
//   await peer.hangup()                                      -> { ok } when ended
//   await peer.stats()                                       -> { inboundBytes, outboundBytes, ... }
//   peer.events                                              -> [{ t, type, ... }] (everything that happened)
//   await peer.waitFor(type, { count, timeoutMs })           -> the count-th event of that type
//
// Audio comes from Chromium's fake capture device (--use-fake-device-for-media-stream).
/* global JsSIP */

const t0 = performance.now();
const events = [];
const waiters = new Set();
let ua = null;
let session = null;
let incoming = null;

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

function waitFor(type, { count = 1, timeoutMs = 10000, since = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const hits = events.filter((e, i) => i >= since && (Array.isArray(type) ? type.includes(e.type) : e.type === type));
      if (hits.length >= count) { cleanup(); resolve(hits[count - 1]); return true; }
      return false;
    };
    const timer = setTimeout(() => { cleanup(); reject(new Error(`peer: timeout waiting for ${type} (x${count}); events: ${events.map((e) => e.type).join(',')}`)); }, timeoutMs);
    const cleanup = () => { clearTimeout(timer); waiters.delete(check); };
    if (!check()) waiters.add(check);
  });
}

const statusOf = (e) => e?.response?.status_code ?? e?.message?.status_code ?? null;

const media = (video) => ({ audio: true, video: !!video });
const PC_CONFIG = { iceServers: [] };

const rr = (m) => (m?.getHeaders ? m.getHeaders('record-route') : []);

function watchSession(s, originator, request) {
  session = s;
  s.on('progress', (e) => emit('progress', { status: statusOf(e) }));
  s.on('accepted', (e) => emit('accepted', { recordRoute: rr(e.response) }));
  s.on('confirmed', () => emit('confirmed'));
  s.on('ended', (e) => { emit('ended', { originator: e.originator, cause: e.cause }); if (session === s) session = null; });
  s.on('failed', (e) => { emit('failed', { originator: e.originator, cause: e.cause, status: statusOf(e) }); if (session === s) session = null; });
  const attach = (pc) => {
    pc.addEventListener('track', (ev) => {
      const audio = document.getElementById('remote');
      audio.srcObject = ev.streams[0] ?? new MediaStream([ev.track]);
      audio.play().catch(() => {});
      emit('track', { kind: ev.track.kind });
    });
    pc.addEventListener('iceconnectionstatechange', () => emit('ice', { state: pc.iceConnectionState }));
  };
  if (s.connection) attach(s.connection);
  else s.on('peerconnection', (e) => attach(e.peerconnection));
  emit(originator === 'remote' ? 'incoming' : 'outgoing', {
    from: s.remote_identity?.uri?.toString(),
    recordRoute: originator === 'remote' ? rr(request) : undefined,
  });
  const auto = peer.autoAnswer;
  if (originator === 'remote' && auto) {
    s.answer({ mediaConstraints: media(auto.video), pcConfig: PC_CONFIG });
    if (auto.hangupAfterMs !== undefined) {
      s.on('confirmed', () => setTimeout(() => { if (!s.isEnded()) s.terminate(); }, auto.hangupAfterMs));
    }
  }
}

const peer = {
  events,
  waitFor,
  /** { video?, hangupAfterMs? }: answer every incoming call at once (and hang up after that long). */
  autoAnswer: null,
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
    ua.call(uri, { mediaConstraints: media(video), pcConfig: PC_CONFIG, rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: !!video }, eventHandlers });
    const ev = await waitFor(['confirmed', 'failed', 'ended'], { since, timeoutMs });
    return ev.type === 'confirmed' ? { ok: true } : { ok: false, status: ev.status ?? null, cause: ev.cause };
  },

  /** Answers the last incoming call; resolves when confirmed (ACK received) or failed. */
  async answer({ timeoutMs = 20000, video = false } = {}) {
    const s = incoming;
    if (!s) throw new Error('peer: no incoming call');
    const since = events.length;
    s.answer({ mediaConstraints: media(video), pcConfig: PC_CONFIG });
    const ev = await waitFor(['confirmed', 'failed', 'ended'], { since, timeoutMs });
    return ev.type === 'confirmed' ? { ok: true } : { ok: false, cause: ev.cause };
  },

  /** Rejects the last incoming call with `status`. */
  reject(status = 486) {
    incoming?.terminate({ status_code: status });
  },

  /** BYE (or CANCEL / reject, depending on the call state); resolves when ended. */
  async hangup({ timeoutMs = 10000 } = {}) {
    if (!session) return { ok: true, already: true };
    const since = events.length;
    session.terminate();
    const ev = await waitFor(['ended', 'failed'], { since, timeoutMs });
    return { ok: true, type: ev.type, cause: ev.cause };
  },

  /** RTP counters of the current call's peer connection. */
  async stats() {
    const pc = session?.connection;
    if (!pc) return null;
    const out = { inboundBytes: 0, inboundPackets: 0, outboundBytes: 0, outboundPackets: 0, candidatePair: null, videoInboundBytes: 0, videoOutboundBytes: 0 };
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') out.videoInboundBytes += r.bytesReceived ?? 0;
      if (r.type === 'outbound-rtp' && r.kind === 'video') out.videoOutboundBytes += r.bytesSent ?? 0;
      if (r.type === 'inbound-rtp' && r.kind === 'audio') { out.inboundBytes += r.bytesReceived ?? 0; out.inboundPackets += r.packetsReceived ?? 0; }
      if (r.type === 'outbound-rtp' && r.kind === 'audio') { out.outboundBytes += r.bytesSent ?? 0; out.outboundPackets += r.packetsSent ?? 0; }
      if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') out.candidatePair = r.id;
    });
    return out;
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

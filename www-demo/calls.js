// The calls part of the demo: the dial pad, the incoming-call panel and the list of calls
// with their status, timers, Hang up and media (remote audio/video, local video preview),
// and per call the in-call controls: hold, mute, a DTMF keypad, blind and attended transfer,
// video on/off, recording, and the latest quality report.
//
//   const calls = setupCalls({ log, codeName });
//   calls.attach(phone);   // after new PhoneOperator(...), before start()
//   calls.refresh();       // the registration state changed (enables Call)
//   calls.detach();        // the phone is going away: rows and media cleared
const $ = (id) => document.getElementById(id);

/** Seconds as m:ss (h:mm:ss from an hour on). */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The timer that matters for the call's state. */
function timerText(status, timer) {
  if (!timer) return '0:00';
  if (status.callStatus === 'talking' || status.callStatus === 'connecting') {
    const held = status.isHold && timer.holdDuration ? ` (held ${clock(timer.holdDuration)})` : '';
    return clock(timer.callDuration) + held;
  }
  return clock(status.communicationType === 'inbound' ? timer.ringDuration : timer.callingDuration);
}

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

const button = (cls, text, title) => {
  const b = el('button', cls, text);
  b.type = 'button';
  if (title) b.title = title;
  return b;
};

const RECORD_TEXT = { stop: '', recording: '● recording', pause: 'recording paused' };

/** One line for a callReport: codec, packets, loss, jitter, ICE. */
export function reportText(r) {
  if (!r) return '';
  const loss = (x) => (x === '' || x === undefined ? '–' : `${(Number(x) * 100).toFixed(1)}%`);
  const parts = [
    `${r.lksAudioCodec || 'audio'}: rx ${r.lksAudioRx} pkts (loss ${loss(r.lksAudioRxLost)}, jitter ${r.lksAudioRxAvgjitter}/${r.lksAudioRxMaxjitter} ms)`,
    `tx ${r.lksAudioTx}`,
  ];
  if (r.lksVideoCodec) parts.push(`${r.lksVideoCodec}: rx ${r.lksVideoRx} tx ${r.lksVideoTx}`);
  parts.push(`ICE ${r.iceResult || '?'}`);
  return parts.join(' · ');
}

export function setupCalls({ log, codeName }) {
  let phone = null;
  let dialing = false; // a call() is pending
  const rows = new Map(); // callId -> { session, li, parts }

  // ---- the dial pad ----

  const number = $('number');
  for (const b of $('pad').querySelectorAll('button')) {
    b.addEventListener('click', () => {
      number.value += b.textContent;
      number.focus();
    });
  }
  $('backspace').addEventListener('click', () => { number.value = number.value.slice(0, -1); number.focus(); });
  $('dial-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const target = number.value.trim();
    if (!phone || dialing || !target) return;
    $('call-error').hidden = true;
    dialing = true;
    refresh();
    const video = $('video').checked;
    log('call', `${target}${video ? ' (video)' : ''}`);
    let r;
    try {
      r = await phone.call(target, { video });
    } catch (err) { // the API resolves with a Result; this is only a safety net
      r = { code: -200, message: String(err?.message ?? err) };
    }
    dialing = false;
    if (r.code !== 200) {
      $('call-error').textContent = `Call failed: ${r.code}${codeName(r.code)} ${r.message ?? ''}`;
      $('call-error').hidden = false;
      log('call failed', r, 'bad');
    }
    refresh();
  });

  // ---- the incoming panel ----

  const ringing = () => (phone ? phone.incomingList : []);

  function renderIncoming() {
    const list = ringing();
    const panel = $('incoming');
    if (!list.length) {
      panel.hidden = true;
      delete panel.dataset.callId;
      return;
    }
    const s = list[0];
    const st = s.status;
    panel.hidden = false;
    panel.dataset.callId = s.callId;
    $('incoming-name').textContent = st.name || st.number;
    $('incoming-number').textContent = st.name && st.name !== st.number ? st.number : '';
    $('incoming-video').hidden = !st.isVideo;
    $('answer-video').hidden = !st.isVideo;
    $('incoming-more').textContent = list.length > 1 ? `+${list.length - 1} more ringing` : '';
  }

  async function answer(video) {
    const id = $('incoming').dataset.callId;
    if (!phone || !id) return;
    log('answer', id);
    const r = await phone.answer(id, { video });
    if (r.code !== 200) log('answer failed', r, 'bad');
    renderIncoming();
  }
  $('answer').addEventListener('click', () => answer(false));
  $('answer-video').addEventListener('click', () => answer(true));
  $('reject').addEventListener('click', () => {
    const id = $('incoming').dataset.callId;
    if (phone && id) {
      log('reject', id);
      phone.reject(id);
    }
    renderIncoming();
  });

  // ---- the call list ----

  function addRow(callId, session) {
    if (rows.has(callId)) return;
    const li = el('li', 'call');
    li.dataset.callId = callId;
    const who = el('div', 'who');
    const name = el('b', 'name');
    const num = el('span', 'number muted');
    who.append(name, num);
    const meta = el('div', 'meta');
    const dir = el('span', 'dir');
    const status = el('span', 'status pill');
    const timer = el('span', 'timer');
    const flags = el('span', 'flags muted');
    meta.append(dir, status, timer, flags);
    const hangup = el('button', 'danger hangup', 'Hang up');
    hangup.type = 'button';
    hangup.addEventListener('click', () => {
      log('hangup', callId);
      phone?.hangup(callId);
    });
    const controls = buildControls(callId);
    const report = el('div', 'report muted');
    report.hidden = true;
    const media = el('div', 'media');
    const audio = el('audio', 'remote-audio');
    audio.autoplay = true;
    const video = el('video', 'remote-video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true; // the sound plays from the <audio>
    video.hidden = true;
    const local = el('video', 'local-video');
    local.autoplay = true;
    local.playsInline = true;
    local.muted = true;
    local.hidden = true;
    media.append(audio, video, local);
    li.append(who, meta, hangup, controls.box, report, media);
    $('calls').append(li);
    const row = { session, li, controls, parts: { name, num, dir, status, timer, flags, hangup, report, audio, video, local } };
    rows.set(callId, row);

    session.on('statusChange', () => { renderRow(row); bindMedia(row); renderIncoming(); });
    session.on('updateTimer', (t) => renderTimer(row, t));
    session.on('streamAdded', () => bindMedia(row));
    session.on('updateRemoteStream', () => bindMedia(row));
    session.on('updateLocalStream', () => bindMedia(row));
    session.on('progress', (e) => log('progress', e));
    session.on('accepted', (e) => log('accepted', { callId: e.callId }, 'ok'));
    session.on('confirmed', (e) => { log('confirmed', { callId: e.callId }, 'ok'); bindMedia(row); });
    session.on('ended', (e) => log('ended', e));
    session.on('failed', (e) => log('failed', e, 'bad'));
    session.on('clientError', (e) => log('clientError', e, 'bad'));
    session.on('hold', (e) => { log('hold', e); renderRow(row); });
    session.on('unhold', (e) => { log('unhold', e); renderRow(row); });
    session.on('newDTMF', (e) => log('newDTMF', e));
    session.on('newInfo', (e) => log('newInfo', e));
    session.on('callReport', (e) => renderReport(row, e.callReport));
    session.on('reinvite', (e) => {
      // an attended transfer replaced this call: the new one gets its row
      log('reinvite', { callId, replacedBy: e.callId });
      if (e.session) addRow(e.callId, e.session);
    });
    renderRow(row);
    bindMedia(row);
    $('no-calls').hidden = true;
  }

  function renderRow(row) {
    const st = row.session.status;
    const p = row.parts;
    row.li.dataset.status = st.callStatus;
    row.li.dataset.direction = st.communicationType;
    p.name.textContent = st.name || st.number;
    p.num.textContent = st.name && st.name !== st.number ? st.number : '';
    p.dir.textContent = st.communicationType === 'inbound' ? '↙ inbound' : '↗ outbound';
    p.status.textContent = st.callStatus;
    p.status.dataset.on = String(st.callStatus === 'talking');
    p.flags.textContent = [
      st.isVideo && 'video',
      st.isHold && 'on hold',
      st.isRemoteHold && 'held by the other side',
      st.isMute && 'muted',
      RECORD_TEXT[st.recordStatus],
      st.isTransfer && st.transferParent && `consulting for ${st.transferParent.name || st.transferParent.number}`,
    ].filter(Boolean).join(' · ');
    p.hangup.textContent = st.communicationType === 'inbound' && st.callStatus === 'ringing' ? 'Reject' : 'Hang up';
    row.li.dataset.hold = String(!!st.isHold);
    row.li.dataset.mute = String(!!st.isMute);
    row.li.dataset.record = st.recordStatus ?? 'stop';
    renderControls(row, st);
    renderTimer(row, row.session.timer, st);
  }

  function renderReport(row, report) {
    row.parts.report.textContent = reportText(report);
    row.parts.report.hidden = !report;
  }

  // ---- the in-call controls of a row ----

  /** Runs an SDK method for the call: logs what it returned (or that this build lacks it). */
  async function act(name, fn) {
    if (!phone) return false;
    let r;
    try {
      r = await fn(phone);
    } catch (err) {
      r = { code: -200, message: String(err?.message ?? err) };
    }
    const ok = r === true || r?.code === 200;
    const shown = typeof r === 'object' && r ? `${r.code}${codeName(r.code)} ${r.message ?? ''}`.trim() : String(r);
    log(name, shown, ok ? '' : 'bad');
    return ok;
  }

  function buildControls(callId) {
    const box = el('div', 'controls');
    const line1 = el('div', 'control-line');
    const hold = button('hold', 'Hold', 'Put the call on hold / resume it');
    const mute = button('mute', 'Mute', 'Mute / unmute your microphone');
    const video = button('video-toggle', 'Video on', 'Add / drop video');
    const record = button('record', 'Record', 'Start / pause / resume recording');
    line1.append(hold, mute, video, record);

    const keypad = el('details', 'keypad');
    const sum = el('summary', null, 'Keypad');
    const keys = el('div', 'dtmf-keys');
    for (const d of '123456789*0#') {
      const k = button('dtmf', d, `Send DTMF ${d}`);
      k.addEventListener('click', () => act(`dtmf ${d}`, (p) => p.dtmf(callId, d)));
      keys.append(k);
    }
    const sent = el('span', 'dtmf-sent muted');
    keypad.append(sum, keys, sent);
    keys.addEventListener('click', (e) => {
      if (e.target instanceof HTMLButtonElement) sent.textContent = (sent.textContent + e.target.textContent).slice(-16);
    });

    const transfer = el('div', 'control-line transfer');
    const target = el('input', 'transfer-number');
    target.type = 'text';
    target.placeholder = 'transfer to…';
    target.spellcheck = false;
    target.setAttribute('aria-label', 'Transfer target');
    const blind = button('blind-transfer', 'Transfer', 'Blind transfer: the other side calls this number');
    const consult = button('consult', 'Consult', 'Attended transfer, step 1: hold this call and call the target');
    const complete = button('complete-transfer primary', 'Complete transfer', 'Attended transfer, step 2: connect the held call to this one');
    complete.hidden = true;
    transfer.append(target, blind, consult, complete);
    box.append(line1, keypad, transfer);

    const st = () => phone?.getSession(callId)?.status;
    hold.addEventListener('click', () => {
      const s = st();
      if (s) act(s.isHold ? 'unhold' : 'hold', (p) => (s.isHold ? p.unhold(callId) : p.hold(callId)));
    });
    mute.addEventListener('click', () => {
      const s = st();
      if (s) act(s.isMute ? 'unmute' : 'mute', (p) => (s.isMute ? p.unmute(callId) : p.mute(callId)));
    });
    video.addEventListener('click', () => {
      const s = st();
      if (s) act(s.isVideo ? 'videoToAudio' : 'audioToVideo', (p) => (s.isVideo ? p.videoToAudio(callId) : p.audioToVideo(callId)));
    });
    record.addEventListener('click', () => {
      const s = st();
      if (s) act(s.recordStatus === 'recording' ? 'pauseRecord' : 'startRecord', (p) => (s.recordStatus === 'recording' ? p.pauseRecord(callId) : p.startRecord(callId)));
    });
    blind.addEventListener('click', () => {
      const n = target.value.trim();
      if (n) act('blindTransfer', (p) => p.blindTransfer(callId, n));
    });
    consult.addEventListener('click', () => {
      const n = target.value.trim();
      if (n) act('consult', (p) => p.call(n, {}, callId));
    });
    complete.addEventListener('click', () => {
      const s = st();
      if (s?.transferParent) act('attendedTransfer', (p) => p.attendedTransfer(s.transferParent.callId, s.number));
    });
    return { box, hold, mute, video, record, keypad, target, blind, consult, complete };
  }

  function renderControls(row, st) {
    const c = row.controls;
    const up = st.callStatus === 'talking';
    c.box.hidden = !(up || st.callStatus === 'connecting');
    c.hold.textContent = st.isHold ? 'Resume' : 'Hold';
    c.hold.setAttribute('aria-pressed', String(!!st.isHold));
    c.mute.textContent = st.isMute ? 'Unmute' : 'Mute';
    c.mute.setAttribute('aria-pressed', String(!!st.isMute));
    c.video.textContent = st.isVideo ? 'Video off' : 'Video on';
    c.video.disabled = !up || (!st.isVideo && phone?.videoPlan === 'disabled');
    const perm = phone?.recordPermissions ?? 0;
    const rs = st.recordStatus ?? 'stop';
    c.record.textContent = rs === 'recording' ? 'Pause rec' : rs === 'pause' ? 'Resume rec' : 'Record';
    // 0: no control; 1: pause and resume only; 2: start, pause, resume
    c.record.disabled = !up || perm === 0 || (perm === 1 && rs === 'stop');
    for (const b of [c.hold, c.mute, c.blind, c.consult]) b.disabled = !up;
    for (const k of c.keypad.querySelectorAll('button')) k.disabled = !up;
    // a consultation call (isTransfer) completes the attended transfer; it cannot start another
    c.complete.hidden = !st.isTransfer;
    c.complete.disabled = !up;
    c.consult.hidden = !!st.isTransfer;
  }

  function renderTimer(row, timer, status = row.session.status) {
    row.parts.timer.textContent = timerText(status, timer);
    row.parts.timer.dataset.seconds = String(timer?.callDuration ?? 0);
  }

  /** Binds the session's streams to the row's media elements. */
  function bindMedia(row) {
    const { audio, video, local } = row.parts;
    const remote = row.session.remoteStream;
    if (audio.srcObject !== remote) audio.srcObject = remote;
    const hasVideo = !!remote && remote.getVideoTracks().length > 0;
    if (hasVideo && video.srcObject !== remote) video.srcObject = remote;
    if (!hasVideo && video.srcObject) video.srcObject = null;
    video.hidden = !hasVideo;
    const mine = row.session.localStream;
    if (local.srcObject !== mine) local.srcObject = mine;
    local.hidden = !mine;
    row.li.dataset.video = String(hasVideo || !!mine);
    for (const m of [audio, video, local]) if (m.srcObject && m.paused) m.play().catch(() => {});
  }

  function removeRow(callId) {
    const row = rows.get(callId);
    if (!row) return;
    rows.delete(callId);
    for (const m of Object.values(row.parts)) if (m instanceof HTMLMediaElement) m.srcObject = null;
    row.li.remove();
    $('no-calls').hidden = rows.size > 0;
  }

  function refresh() {
    const ok = !!phone?.isRegistered;
    $('call').disabled = !ok || dialing;
    $('call').textContent = dialing ? 'Calling…' : 'Call';
  }

  return {
    attach(p) {
      phone = p;
      phone
        .on('newRTCSession', ({ callId, session }) => { log('newRTCSession', callId); addRow(callId, session); })
        .on('incoming', ({ callId, session }) => { log('incoming', callId); addRow(callId, session); renderIncoming(); })
        .on('deleteSession', (e) => { log('deleteSession', e); removeRow(e.callId); renderIncoming(); })
        .on('recordPermissionsChange', (n) => { log('recordPermissionsChange', n); for (const r of rows.values()) renderRow(r); });
      refresh();
    },
    detach() {
      for (const id of [...rows.keys()]) removeRow(id);
      phone = null;
      dialing = false;
      renderIncoming();
      refresh();
    },
    refresh,
  };
}

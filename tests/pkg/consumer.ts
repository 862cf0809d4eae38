// A strict TypeScript consumer of the package's typings (tests/pkg/run.sh compiles it with
// `tsc --strict --noEmit`; nothing runs). Each `@ts-expect-error` line must NOT compile:
// if the typings ever accept it, tsc fails with "Unused '@ts-expect-error' directive".
import init, {
  PhoneOperator,
  ResultCode,
  Session,
  inspectMessage,
  type CallStatus,
  type PhoneConfig,
  type PhoneEventMap,
  type Result,
  type TimerType,
} from 'sipwasm';

/** Compile-time equality of two types. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): void {}

export async function main(): Promise<void> {
  await init();

  const config: PhoneConfig = {
    server: ['wss://pbx.example.com:8089/ws', 'wss://backup.example.com/ws'],
    uri: 'sip:1001@pbx.example.com',
    password: 'secret',
    displayName: 'Alice',
    registerExpires: 600,
    extraHeaders: ['X-Tenant: 42'],
    recordPermissions: 2,
    dtmfMode: 'info',
    rejectCode: 603,
    recordControl: { start: '*1', pause: '*2' },
    iceServers: [{ urls: 'stun:stun.example.com' }],
    log: 'debug',
  };
  const phone = new PhoneOperator(config);

  // Listener payloads are typed by event name.
  phone.on('registrationFailed', (e) => {
    const code: number = e.code;
    const cause: string = e.cause;
    assertType<Equal<typeof e.code, number>>();
    console.log(code.toFixed(0), cause);
  });
  phone.on('isRegisteredChange', (b: boolean) => console.log(b ? 'registered' : 'not registered'));
  phone.on('disconnected', ({ code, reason }) => console.log(code + 1, reason.trim()));

  // on/once/off return the phone, so they chain.
  const same: PhoneOperator = phone
    .on('connected', () => {})
    .on('registered', () => {})
    .once('isRegisteredChange', (b) => assertType<Equal<typeof b, boolean>>())
    .off('connected');
  same.start();

  // Listeners can be kept and removed by reference.
  const onRegistered: PhoneEventMap['registered'] = () => {};
  phone.on('registered', onRegistered).off('registered', onRegistered);

  // Result codes are literal, read-only numbers.
  const invalid: -209 = ResultCode.INVALID_NUMBER;
  assertType<Equal<typeof ResultCode.SUCCESS, 200>>();
  const r: Result = phone.reRegister('1001', '0123456789abcdef0123456789abcdef');
  if (r.code !== ResultCode.SUCCESS) console.log(r.code, r.message, invalid);

  // Attributes.
  const registered: boolean = phone.isRegistered;
  const extra: string[] = phone.extraHeaders;
  phone.reRegistryPhoneTimes = 3;
  console.log(registered, extra, phone.videoPlan, phone.sessions.size, phone.incomingList.length);
  console.log(inspectMessage('OPTIONS sip:a@b SIP/2.0\r\n\r\n').startsWith('OK'));
  // Calls: promises of Result, Sessions with typed events.
  const placed: Result = await phone.call('1002', { video: true, extraHeaders: ['X-Tag: 1'] });
  if (placed.code === ResultCode.SUCCESS && placed.callId) {
    const s: Session | null = phone.getSession(placed.callId);
    s?.on('statusChange', (now: CallStatus, before: CallStatus) => console.log(now.callStatus, before.isRing))
      .on('failed', ({ code, cause, originator }) => console.log(code + 1, cause, originator))
      .on('updateTimer', (t: TimerType) => console.log(t.callDuration))
      .once('streamAdded', ({ stream }) => console.log(stream.getTracks().length));
    console.log(s?.status.communicationType, s?.localStream?.id, s?.remoteStream, s?.terminate('hangup'));
  }
  phone.on('incoming', ({ session }) => {
    void session.answer({ offerToReceiveVideo: true }).then((r) => console.log(r.code));
  });
  phone.on('deleteSession', ({ callId, cause }) => console.log(callId, cause));
  const sessions: Map<string, Session> = phone.sessions;
  const answered: Result = await phone.answer('id', undefined, false);
  console.log(sessions.size, answered, phone.currentSession?.callId, phone.currentSessionID, phone.isNoneCamera,
    phone.hangup('id'), phone.reject('id'), phone.terminate('id', 'reject'), phone.getSessions().length);
  // In-call features: booleans, a Promise<Result>, typed session events.
  const flags: boolean[] = [phone.hold('id'), phone.unhold('id'), phone.mute('id'), phone.unmute('id'),
    phone.dtmf('id', '12#'), phone.blindTransfer('id', '1003'), phone.attendedTransfer('id', '1003'),
    phone.startRecord('id'), phone.pauseRecord('id'), phone.renegotiate('id'), phone.renegotiate('id', true),
    phone.videoToAudio('id'), phone.setSessionStaticStatus('id', { name: 'Bob' }, true)];
  const video: Result = await phone.audioToVideo('id');
  const cur = phone.currentSession;
  if (cur) {
    cur.on('hold', ({ callId, originator }) => console.log(callId, originator === 'remote'))
      .on('newDTMF', ({ digit }) => console.log(digit.length))
      .on('newInfo', ({ contentType, body }) => console.log(contentType, body))
      .on('reinvite', ({ session }) => console.log(session.callId))
      .on('callReport', ({ callReport }) => console.log(callReport.lksAudioRx))
      .on('staticStatusChange', (now, before) => console.log(now.name, before.company));
    console.log(cur.hold(), cur.dtmf('5'), cur.blindTransfer('1003'), cur.setStaticStatus({ avatar: 'a.png' }),
      cur.setStatus({ number: '1002' }), cur.status.isHold, cur.status.recordStatus, cur.callReport);
    cur.stopTimer();
    void cur.audioToVideo(false).then((r: Result) => console.log(r.code));
  }
  console.log(flags.length, video.code);
  console.log(phone.disconnect() === true);
  phone.destroy();

  // ---- what must not compile ----

  // @ts-expect-error: an event name that does not exist
  phone.on('registred', () => {});

  // @ts-expect-error: isRegisteredChange delivers a boolean, not a string
  phone.on('isRegisteredChange', (b: string) => console.log(b));

  // @ts-expect-error: registrationFailed's code is a number
  phone.on('registrationFailed', (e: { code: string; cause: string }) => console.log(e));

  phone.on('registrationFailed', (e) => {
    // @ts-expect-error: e.cause is a string, it has no toFixed
    e.cause.toFixed();
  });

  // @ts-expect-error: a config without `uri`
  const noUri: PhoneConfig = { server: 'wss://pbx.example.com/ws', password: 'x' };

  // @ts-expect-error: a config without `uri`, straight into the constructor
  new PhoneOperator({ server: 'wss://pbx.example.com/ws', password: 'x' });

  // @ts-expect-error: `server` is a string or string[]
  new PhoneOperator({ server: 8089, uri: 'sip:1001@pbx.example.com' });

  // @ts-expect-error: a misspelt config field (excess property)
  new PhoneOperator({ server: 'wss://pbx.example.com/ws', uri: 'sip:1@x', pasword: 'x' });

  // @ts-expect-error: ResultCode is read-only
  ResultCode.INVALID_NUMBER = -1;

  // @ts-expect-error: a result code that is not in the table
  const notACode: -209 = ResultCode.MAX_LIMIT_CALL;

  // @ts-expect-error: isRegistered is read-only
  phone.isRegistered = true;

  // @ts-expect-error: not a Session event
  phone.currentSession?.on('registered', () => {});
  // @ts-expect-error: dtmf digits are a string
  phone.dtmf('id', 5);
  // @ts-expect-error: newDTMF has no `tone` field
  phone.currentSession?.on('newDTMF', ({ tone }) => console.log(tone));

  // @ts-expect-error: terminate types are 'hangup' | 'reject' | 'terminate'
  phone.terminate('id', 'drop');

  console.log(noUri, notACode);
}

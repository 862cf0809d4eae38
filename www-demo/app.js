// The demo softphone: the sipwasm package as a plain ES module (no bundler).
// Registration (app.js) and calls (calls.js: dial pad, incoming panel, call list, media).
import { setupInspector } from './inspector.js';
import { setupCalls } from './calls.js';

const $ = (id) => document.getElementById(id);
const STORE_KEY = 'sipwasm-demo.settings';
const FIELDS = ['server', 'uri', 'displayName'];
const DTMF_MODES = ['rfc4733', 'info'];

let sdk = null; // the package module, once loaded
let phone = null; // the PhoneOperator while connected or connecting
let closing = null; // timer while waiting for `disconnected` after Disconnect
let failed = false; // the last registration attempt failed

const demo = { get phone() { return phone; }, events: [] };
let calls = null; // the calls UI (calls.js), set up at start-up
window.demo = demo; // for the console (and the tests)

// ---- the event log and the state shown ----

function time() {
  const d = new Date();
  return d.toTimeString().slice(0, 8) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

function log(name, payload, tone = '') {
  demo.events.push([name, payload ?? null]);
  const li = document.createElement('li');
  if (tone) li.dataset.tone = tone;
  const t = document.createElement('time');
  t.textContent = time();
  const n = document.createElement('b');
  n.textContent = name;
  li.append(t, n);
  if (payload !== undefined) {
    const p = document.createElement('span');
    p.textContent = typeof payload === 'string' ? payload : JSON.stringify(payload);
    li.append(p);
  }
  const list = $('log');
  list.append(li);
  while (list.children.length > 200) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

function setPill(el, on, text) {
  el.dataset.on = String(on);
  el.textContent = text;
}

/** The badge in the header: one word for the overall state. */
function setBadge(text, tone) {
  const b = $('badge');
  b.textContent = text;
  b.dataset.tone = tone;
}

function refresh() {
  const registered = !!phone?.isRegistered;
  const connected = $('conn-state').dataset.on === 'true';
  if (!phone) setBadge('offline', 'idle');
  else if (closing) setBadge('disconnecting…', 'busy');
  else if (registered) setBadge('registered', 'ok');
  else if (failed) setBadge('registration failed', 'bad');
  else if (connected) setBadge('connected', 'busy');
  else setBadge('connecting…', 'busy');
  $('connect').disabled = !sdk || !!phone;
  $('disconnect').disabled = !phone || !!closing;
  for (const id of [...FIELDS, 'password', 'dtmfMode']) $(id).disabled = !!phone;
  for (const b of $('account-buttons').querySelectorAll('button')) b.disabled = !!phone;
  calls?.refresh();
}

function codeName(code) {
  const entry = Object.entries(sdk?.ResultCode ?? {}).find(([, v]) => v === code);
  return entry && code < 0 ? ` (${entry[0]})` : '';
}

// ---- settings: the form, localStorage, the local server's defaults ----

function loadStored() {
  try { return JSON.parse(localStorage.getItem(STORE_KEY)) ?? {}; } catch { return {}; }
}

/** Saves the form; the password only when "remember password" is ticked. */
function store() {
  const s = Object.fromEntries(FIELDS.map((f) => [f, $(f).value.trim()]));
  s.dtmfMode = $('dtmfMode').value;
  s.recordPermissions = Number($('recordPermissions').value);
  s.rememberPassword = $('rememberPassword').checked;
  if (s.rememberPassword) s.password = $('password').value;
  try { localStorage.setItem(STORE_KEY, JSON.stringify(s)); } catch { /* private mode: not kept */ }
}

function fill(account, server) {
  if (server) $('server').value = server;
  $('uri').value = account.uri;
  $('password').value = account.password ?? '';
  $('displayName').value = account.displayName ?? '';
}

/** Form values: what was stored, else the local server's defaults (npm start), else empty. */
async function initForm() {
  let defaults = null;
  try {
    const r = await fetch('defaults.json', { cache: 'no-store' });
    if (r.ok) defaults = await r.json();
  } catch { /* served without a local SIP server */ }
  const stored = loadStored();
  if (defaults?.accounts?.length) {
    fill(defaults.accounts[0], defaults.server);
    $('accounts').hidden = false;
    for (const a of defaults.accounts) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'chip';
      b.textContent = a.user;
      b.title = `${a.uri}, password ${a.password}`;
      b.onclick = () => fill(a, defaults.server);
      $('account-buttons').append(b);
    }
  }
  for (const f of FIELDS) if (stored[f]) $(f).value = stored[f];
  if (DTMF_MODES.includes(stored.dtmfMode)) $('dtmfMode').value = stored.dtmfMode;
  if ([0, 1, 2].includes(stored.recordPermissions)) $('recordPermissions').value = String(stored.recordPermissions);
  // recording permissions can change during a session (recordPermissionsChange)
  $('recordPermissions').addEventListener('change', () => {
    if (!phone) return; // used by the next Connect
    try {
      phone.recordPermissions = Number($('recordPermissions').value);
    } catch (e) { // a build without the setter
      log('recordPermissions', e.message, 'bad');
    }
    store();
  });
  $('rememberPassword').checked = !!stored.rememberPassword;
  if (stored.rememberPassword && stored.password) $('password').value = stored.password;
  else if (stored.uri) {
    // a local demo account keeps its known password; any other account starts empty
    const known = defaults?.accounts?.find((a) => a.uri === stored.uri);
    $('password').value = known ? known.password : '';
  }
  $('rememberPassword').addEventListener('change', () => { if (!$('rememberPassword').checked) store(); });
}

// ---- the phone ----

function connect() {
  $('form-error').hidden = true;
  const servers = $('server').value.split(/[\s,]+/).filter(Boolean);
  const config = {
    server: servers.length > 1 ? servers : servers[0] ?? '',
    uri: $('uri').value.trim(),
    password: $('password').value,
    userAgent: 'sipwasm-demo',
    log: 'warn',
    dtmfMode: $('dtmfMode').value,
    recordPermissions: Number($('recordPermissions').value),
  };
  const displayName = $('displayName').value.trim();
  if (displayName) config.displayName = displayName;
  try {
    phone = new sdk.PhoneOperator(config);
  } catch (e) {
    $('form-error').textContent = e.message;
    $('form-error').hidden = false;
    log('config error', e.message, 'bad');
    return;
  }
  store();
  calls.attach(phone);
  phone
    .on('connected', () => {
      setPill($('conn-state'), true, 'connected');
      log('connected', undefined, 'ok');
      refresh();
    })
    .on('disconnected', (e) => {
      setPill($('conn-state'), false, 'disconnected');
      log('disconnected', e, closing ? '' : 'bad');
      if (closing) finishDisconnect();
      else refresh();
    })
    .on('registered', () => {
      failed = false;
      log('registered', undefined, 'ok');
      refresh();
    })
    .on('registrationFailed', (e) => {
      failed = true;
      $('last-failure').textContent = `${e.code}${codeName(e.code)} ${e.cause} at ${time()}`;
      $('last-failure').classList.remove('muted');
      log('registrationFailed', e, 'bad');
      refresh();
    })
    .on('isRegisteredChange', (registered) => {
      setPill($('reg-state'), registered, registered ? 'registered' : 'not registered');
      log('isRegisteredChange', registered);
      refresh();
    });
  $('aor').textContent = displayName ? `${displayName} <${config.uri}>` : config.uri;
  $('aor').classList.remove('muted');
  log('start', `${config.uri} via ${servers.join(', ')}`);
  phone.start();
  refresh();
}

/** Unregisters and closes; the phone is destroyed once `disconnected` arrives. */
function disconnect() {
  if (!phone || closing) return;
  log('disconnect');
  const was = phone.disconnect();
  if (!was) return finishDisconnect();
  closing = setTimeout(finishDisconnect, 3000); // in case `disconnected` never comes
  refresh();
}

function finishDisconnect() {
  clearTimeout(closing);
  closing = null;
  calls.detach();
  if (phone) phone.destroy();
  phone = null;
  failed = false;
  $('aor').textContent = '—';
  $('aor').classList.add('muted');
  setPill($('conn-state'), false, 'disconnected');
  setPill($('reg-state'), false, 'not registered');
  refresh();
}

// ---- start-up ----

$('settings').addEventListener('submit', (e) => { e.preventDefault(); if (!phone) connect(); });
$('disconnect').addEventListener('click', disconnect);
$('clear-log').addEventListener('click', () => { $('log').replaceChildren(); demo.events.length = 0; });
// closing the tab unregisters (best effort: the un-REGISTER goes out before the socket closes)
window.addEventListener('pagehide', () => { if (phone) finishDisconnect(); });

calls = setupCalls({ log, codeName });
await initForm();
try {
  sdk = await import('../pkg/index.js');
  await sdk.default();
} catch (e) {
  sdk = null;
  setBadge('package missing', 'bad');
  $('form-error').textContent = `Cannot load ../pkg/index.js (${e.message}). Build it: npm run build`;
  $('form-error').hidden = false;
  throw e;
}
setupInspector(sdk.inspectMessage);
refresh();
document.body.dataset.ready = 'true';

// Uses the package exactly as an npm user would: a bare import, `await init()`, a phone.
// Config from the query string: ?server=ws://...&uri=sip:1001@domain&password=...
import init, { PhoneOperator, ResultCode } from 'sipwasm';

const q = new URLSearchParams(location.search);
const stateEl = document.getElementById('state');
const eventsEl = document.getElementById('events');
const app = { state: 'loading', events: [], error: null, phone: null, ResultCode };
window.app = app;

function setState(s) {
  app.state = s;
  stateEl.textContent = s;
  stateEl.dataset.state = s;
}
function logEvent(name, payload) {
  app.events.push([name, payload ?? null]);
  const li = document.createElement('li');
  li.textContent = payload === undefined ? name : `${name} ${JSON.stringify(payload)}`;
  eventsEl.append(li);
}

try {
  await init(); // fetches sipwasm_bg.wasm from where the bundler put it
  if (ResultCode.SUCCESS !== 200) throw new Error('ResultCode not exported');
  const phone = new PhoneOperator({
    server: q.get('server'),
    uri: q.get('uri'),
    password: q.get('password'),
    userAgent: 'sipwasm-vite-app',
  });
  app.phone = phone;
  phone
    .on('connected', () => { logEvent('connected'); setState('connected'); })
    .on('registered', () => { logEvent('registered'); setState('registered'); })
    .on('registrationFailed', (e) => { logEvent('registrationFailed', e); setState(`failed ${e.code}`); })
    .on('disconnected', (e) => { logEvent('disconnected', e); setState('disconnected'); })
    .on('isRegisteredChange', (b) => logEvent('isRegisteredChange', b));
  setState('connecting');
  phone.start();
} catch (e) {
  app.error = String(e?.stack || e);
  setState(`error: ${e?.message || e}`);
}

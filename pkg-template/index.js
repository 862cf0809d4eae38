// The package entry: the wasm-bindgen ES module (`init` as the default export,
// `PhoneOperator` and the types) plus the few things that are simpler in JS.
import init, { PhoneOperator, Session } from './sipwasm.js';

export * from './sipwasm.js';
export default init;

// `start`, `on`, `once` and `off` return the phone (and a Session's `on`, `once`, `off`
// the session), so calls chain (`phone.on(..).on(..)`).
for (const [cls, names] of [[PhoneOperator, ['start', 'on', 'once', 'off']], [Session, ['on', 'once', 'off']]]) {
  // The package's JS is minified (scripts/build.sh): keep the classes' own names.
  Object.defineProperty(cls, 'name', { value: cls === Session ? 'Session' : 'PhoneOperator' });
  for (const name of names) {
    const method = cls.prototype[name];
    cls.prototype[name] = function (...args) {
      method.apply(this, args);
      return this;
    };
  }
}

/** Result codes (see the README). */
export const ResultCode = Object.freeze({
  SUCCESS: 200,
  UNKNOWN_ERROR: -200,
  REGISTRY_FAILED: -201,
  GET_AGREE_CHROME_USER_MEDIA_ROLE_ERROR: -202,
  GET_LOCAL_STREAM_ERROR: -203,
  RE_REGISTRY_MAX_LIMIT_TIMES: -204,
  MAX_LIMIT_CALL: -205,
  GET_LOCAL_MEDIA_INFO_ERROR: -206,
  ATTENDED_PARENT_NOT_FOUND: -207,
  CALL_TOO_MANY_TIMES: -208,
  INVALID_NUMBER: -209,
  CURRENT_CALL_HAS_NOT_CONNECTED: -210,
  NOT_FOUND_CALL_ID: -211,
  NOT_FOUND_AUDIO_INPUT_DEVICE: -290,
  NOT_FOUND_VIDEO_INPUT_DEVICE: -291,
});

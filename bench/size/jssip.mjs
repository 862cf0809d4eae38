// A softphone's import of JsSIP 3.13.8: the UA (registration, calls, hold, DTMF, INFO,
// REFER/transfer, Replaces, WebRTC sessions). JsSIP is CommonJS and one object, so the
// bundle holds all of it whatever the app uses.
import JsSIP from 'jssip';

export default JsSIP;

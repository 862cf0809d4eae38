// A softphone's import of SIP.js 0.21.2: the core API (UserAgent, Registerer, Inviter,
// Invitation, Referral, sessions) and its browser media layer (Web: the WebRTC session
// description handler, SimpleUser). ES modules: the bundler keeps what these reach.
export { UserAgent, Registerer, Inviter, Invitation, Referral, SessionState, RegistererState, Web } from 'sip.js';

//! REGISTER lifecycle (RFC 3261 §10.2) with SIP Outbound (RFC 5626 §4.2), sans-IO.
//!
//! [`Registration`] builds REGISTER requests and digests their responses; the
//! [`Ua`](crate::sip::ua::Ua) sends them through the transaction layer and routes the
//! responses back. Decisions:
//!
//! - **Request** (RFC 3261 §10.2): Request-URI `sip:<domain of the AOR>`, To and From
//!   the AOR (From with the display name and a fresh tag), Contact
//!   `<sip:<random>@<random>.invalid;transport=ws>;reg-id=1;+sip.instance="<urn:uuid:..>";expires=N`
//!   plus `Expires: N`, `Supported: path, gruu, outbound`. The Contact URI has no `ob`
//!   parameter: RFC 5626 §4.3 puts `ob` in the Contact of *dialog-forming* requests
//!   (and the REGISTER examples of §3.2 and RFC 7118 §8 carry none); a REGISTER
//!   identifies its flow with `reg-id` and `+sip.instance` (§4.2.1).
//! - **Call-ID** (RFC 3261 §10.2.4): one random Call-ID for the life of the UA, kept
//!   across reconnects, with CSeq +1 on every REGISTER (refreshes, retries, auth
//!   answers, the un-REGISTER), as a UA "SHOULD use the same Call-ID for all
//!   registrations during a single boot cycle". The registrar then orders every
//!   request by CSeq.
//! - **Refresh**: at `max(expires/2, expires − 32 s)` after the 2xx, where expires is
//!   the value granted in our Contact's `expires` (matched by `+sip.instance`/`reg-id` or
//!   URI), else the `Expires` header, else the value asked for (RFC 3261 §10.2.4).
//!   32 s is Timer F (64·T1), so even a refresh that times out ends before the binding
//!   lapses. Deterministic, unlike JsSIP's random point between expires/2 and
//!   expires − 32 s; reconnect storms are spread by the connection back-off instead.
//! - **Digest**: [`Authenticator::authorize`] before each new REGISTER, so refreshes
//!   reuse the nonce with nc+1 (RFC 7616 §3.4); 401/407 answered through
//!   [`Authenticator::handle_challenges`] (one stale retry); wrong credentials, an
//!   unusable challenge and 403 fail at once and are not retried (they stay failed
//!   across reconnects until `re_register` gives new credentials).
//! - **423** (RFC 3261 §10.2.8): retry at once with `Min-Expires` (at most 3 times).
//! - **Other failures** (Timer F → 408, 5xx, 4xx, 6xx): `RegistrationFailed` for each,
//!   retry after `min(2 s · 2^(n-1), 60 s)` ± 25 % (or `Retry-After`, RFC 3261 §21.5.4,
//!   capped at 1 h), up to `re_register_times` retries; then `RegistrationFailed(-204)`
//!   once and no more retries until the next reconnect or `re_register`.
//! - **Registered** means "a binding the registrar granted has not expired": set by
//!   the first 2xx (events `Registered`, `IsRegisteredChange(true)`), cleared when the
//!   WebSocket drops, when the binding expires without a successful refresh, or after
//!   the un-REGISTER (events `Unregistered`, `IsRegisteredChange(false)`).

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::sip::auth::{AuthDecision, Authenticator, ChallengeKind, Credentials};
use crate::sip::message::{scan, Contact, HeaderName, Incoming, Message, Method};
use crate::sip::time::Instant;
use crate::sip::ua::{Env, LogLevel, UaEvent, RE_REGISTRY_MAX_LIMIT_TIMES};
use crate::sip::{fill, Print};
use std::time::Duration;

/// The `reg-id` of our one flow (RFC 5626 §4.2.1).
pub const REG_ID: u32 = 1;
/// Registration retries start here ...
pub const RETRY_BASE: Duration = Duration::from_secs(2);
/// ... double per failure, and stop growing here.
pub const RETRY_MAX: Duration = Duration::from_secs(60);
/// Jitter on registration retries, percent either way.
pub const RETRY_JITTER_PCT: u32 = 25;
/// Longest `Retry-After` honoured.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);
/// How long before expiry a refresh is sent at most: Timer F, 64·T1.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(32);
/// Granted intervals below this are treated as this (no refresh storm on `expires=0`).
pub const MIN_GRANTED_SECS: u32 = 10;
const MAX_423_RETRIES: u8 = 3;
/// 401/407 rounds per attempt; the [`Authenticator`] normally stops after two.
const MAX_AUTH_ROUNDS: u8 = 4;

/// The retry delay before jitter after `failures` failures (1-based).
pub fn retry_backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    RETRY_BASE.saturating_mul(1 << exp).min(RETRY_MAX)
}

/// When to refresh a binding granted for `granted` seconds: `max(granted/2,
/// granted − 32 s)` after the 2xx.
pub fn refresh_delay(granted: u32) -> Duration {
    let g = Duration::from_secs(u64::from(granted));
    (g / 2).max(g.saturating_sub(REFRESH_MARGIN))
}

/// The `cause` for a failure status, as JsSIP names them (`Utils.sipErrorCause`).
pub fn cause_for(code: u16) -> &'static str {
    match code {
        300..=399 => "Redirected",
        401 | 407 => "Authentication Error",
        403 | 603 => "Rejected",
        404 | 604 => "Not Found",
        408 => "Request Timeout",
        410 | 430 | 480 => "Unavailable",
        423 => "Interval Too Brief",
        484 => "Address Incomplete",
        486 | 600 => "Busy",
        488 | 606 => "Incompatible SDP",
        _ => "SIP Failure Code",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing in flight, nothing scheduled (not connected, or not started).
    Idle,
    /// A REGISTER is in flight.
    Registering,
    /// Registered; a refresh is scheduled.
    Bound,
    /// A retry is scheduled after a failure.
    Backoff,
    /// Retries used up (-204 emitted).
    GaveUp,
    /// Credentials refused (401/407 after answering, 403): no retries.
    Rejected,
    /// The un-REGISTER is in flight.
    Unregistering,
}

/// What a response to a REGISTER asks of the UA.
#[derive(Debug, Default)]
pub struct Outcome {
    /// A REGISTER to send now (an auth answer or a 423 retry).
    pub send: Option<Message>,
    /// A 2xx arrived: did it `Require: outbound`, and with which `Flow-Timer`?
    pub outbound: Option<(bool, Option<u32>)>,
    /// The un-REGISTER is over (any final response, or it failed).
    pub unregistered: bool,
}

/// The REGISTER state of one UA.
#[derive(Debug)]
pub struct Registration {
    call_id: String,
    cseq: u32,
    expires: u32,
    auth: Authenticator,
    phase: Phase,
    registered: bool,
    binding_expiry: Option<Instant>,
    refresh_at: Option<Instant>,
    retry_at: Option<Instant>,
    failures: u32,
    max_retries: u32,
    brief_retries: u8,
    auth_rounds: u8,
}

impl Registration {
    /// A registration that will ask for `expires` seconds and retry failures
    /// `max_retries` times.
    pub fn new(call_id: String, credentials: Credentials, expires: u32, max_retries: u32) -> Self {
        Registration {
            call_id,
            cseq: 0,
            expires,
            auth: Authenticator::new(credentials),
            phase: Phase::Idle,
            registered: false,
            binding_expiry: None,
            refresh_at: None,
            retry_at: None,
            failures: 0,
            max_retries,
            brief_retries: 0,
            auth_rounds: 0,
        }
    }

    /// A granted binding has not expired.
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// The Call-ID of every REGISTER.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The last CSeq number used.
    pub fn cseq(&self) -> u32 {
        self.cseq
    }

    /// True while a REGISTER (not the un-REGISTER) is in flight.
    pub fn is_registering(&self) -> bool {
        self.phase == Phase::Registering
    }

    /// The retry budget.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// Sets the retry budget (effective from the next failure).
    pub fn set_max_retries(&mut self, n: u32) {
        self.max_retries = n;
    }

    /// Clears a refusal or exhausted retries (a fresh `start`).
    pub fn clear_refusal(&mut self) {
        self.failures = 0;
        if matches!(self.phase, Phase::Rejected | Phase::GaveUp) {
            self.phase = Phase::Idle;
        }
    }

    /// New credentials: forget cached challenges, clear a refusal and the retry count.
    pub fn set_credentials(&mut self, credentials: Credentials) {
        self.auth.set_credentials(credentials);
        self.clear_refusal();
    }

    /// The earliest of the refresh, retry and binding-expiry deadlines.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let expiry = self.binding_expiry.filter(|_| self.registered);
        [self.refresh_at, self.retry_at, expiry]
            .into_iter()
            .flatten()
            .min()
    }

    /// The connection opened: register, unless credentials were refused before.
    pub(crate) fn on_connected(&mut self, now: Instant, env: &mut Env<'_>) -> Option<Message> {
        self.failures = 0;
        if self.phase == Phase::Rejected {
            env.log(
                LogLevel::Warn,
                "not registering: the credentials were refused; call re_register",
            );
            return None;
        }
        Some(self.begin(now, env))
    }

    /// Starts a new REGISTER attempt (first, refresh, retry or with new credentials).
    pub(crate) fn begin(&mut self, _now: Instant, env: &mut Env<'_>) -> Message {
        self.phase = Phase::Registering;
        self.refresh_at = None;
        self.retry_at = None;
        self.auth_rounds = 0;
        self.build(env, self.expires, None)
    }

    /// Fires the refresh, retry and expiry timers due at `now`; returns a REGISTER to
    /// send when one is due.
    pub(crate) fn handle_timeout(&mut self, now: Instant, env: &mut Env<'_>) -> Option<Message> {
        if self.registered && self.binding_expiry.is_some_and(|t| t <= now) {
            self.binding_expiry = None;
            env.log(
                LogLevel::Warn,
                "the registration expired without a successful refresh",
            );
            self.set_registered(false, env);
        }
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if due(self.refresh_at) || due(self.retry_at) {
            return Some(self.begin(now, env));
        }
        None
    }

    /// Builds a REGISTER for `expires` seconds (0 removes the binding). With `auth`
    /// the given credentials are used, else the cached challenges pre-emptively.
    fn build(
        &mut self,
        env: &mut Env<'_>,
        expires: u32,
        auth: Option<Vec<(ChallengeKind, String)>>,
    ) -> Message {
        self.cseq = self.cseq.wrapping_add(1).max(1);
        let registrar = env.config.registrar.clone();
        let aor = fill("<{}>", &[&env.config.aor]);
        let mut m = env.request(Method::Register, &registrar, &aor, &self.call_id, self.cseq);
        m.headers
            .push(HeaderName::Contact, env.local.register_contact(expires));
        m.headers.push_typed(HeaderName::Expires, &expires);
        m.headers
            .push(HeaderName::Supported, "path, gruu, outbound");
        env.finish_request(&mut m);
        let uri = registrar.to_text();
        let headers = match auth {
            Some(h) => h,
            None => {
                let rng = &mut *env.rng;
                self.auth
                    .authorize("REGISTER", &uri, b"", &mut || rng.token(16))
            }
        };
        for (kind, value) in headers {
            m.headers.push(auth_header(kind), value);
        }
        m.headers.push(HeaderName::ContentLength, "0");
        m
    }

    /// A response to the current REGISTER or un-REGISTER.
    pub(crate) fn on_response(
        &mut self,
        now: Instant,
        resp: &Incoming,
        env: &mut Env<'_>,
    ) -> Outcome {
        let Some(code) = resp.msg.status() else {
            return Outcome::default();
        };
        if code < 200 {
            return Outcome::default();
        }
        match self.phase {
            Phase::Registering => self.on_register_response(now, code, resp, env),
            Phase::Unregistering => self.on_unregister_response(code, resp, env),
            _ => Outcome::default(),
        }
    }

    fn on_register_response(
        &mut self,
        now: Instant,
        code: u16,
        resp: &Incoming,
        env: &mut Env<'_>,
    ) -> Outcome {
        match code {
            200..=299 => self.on_success(now, resp, env),
            401 | 407 => {
                let send = self.answer_challenge(code, resp, env);
                if send.is_none() {
                    self.reject(code, cause_for(code), env);
                }
                Outcome {
                    send,
                    ..Outcome::default()
                }
            }
            423 => {
                let min = resp
                    .msg
                    .headers
                    .typed::<u32>(HeaderName::MinExpires)
                    .and_then(Result::ok);
                match min {
                    Some(m) if m > self.expires && self.brief_retries < MAX_423_RETRIES => {
                        self.brief_retries += 1;
                        self.expires = m.min(crate::sip::config::MAX_REGISTER_EXPIRES);
                        env.log(
                            LogLevel::Info,
                            fill("423 Interval Too Brief: retrying with expires={}", &[&m]),
                        );
                        Outcome {
                            send: Some(self.begin(now, env)),
                            ..Outcome::default()
                        }
                    }
                    _ => {
                        self.fail(now, code, cause_for(code), None, env);
                        Outcome::default()
                    }
                }
            }
            403 => {
                self.reject(code, cause_for(code), env);
                Outcome::default()
            }
            _ => {
                let retry_after = retry_after(&resp.msg);
                self.fail(now, code, cause_for(code), retry_after, env);
                Outcome::default()
            }
        }
    }

    /// Answers a 401/407 (RFC 3261 §22.2, §22.3); `None` when the credentials or the
    /// challenge cannot succeed.
    fn answer_challenge(
        &mut self,
        code: u16,
        resp: &Incoming,
        env: &mut Env<'_>,
    ) -> Option<Message> {
        self.auth_rounds = self.auth_rounds.saturating_add(1);
        if self.auth_rounds > MAX_AUTH_ROUNDS {
            env.log(LogLevel::Warn, "too many authentication rounds");
            return None;
        }
        let headers = &resp.msg.headers;
        let mut challenges: Vec<(ChallengeKind, &str)> = Vec::new();
        for h in headers.iter() {
            match h.name {
                HeaderName::WwwAuthenticate => challenges.push((ChallengeKind::Www, h.value)),
                HeaderName::ProxyAuthenticate => challenges.push((ChallengeKind::Proxy, h.value)),
                _ => {}
            }
        }
        let uri = env.config.registrar.to_text();
        let rng = &mut *env.rng;
        let decision =
            self.auth
                .handle_challenges(code, &challenges, "REGISTER", &uri, b"", &mut || {
                    rng.token(16)
                });
        match decision {
            AuthDecision::Retry(auth) => {
                let expires = if self.phase == Phase::Unregistering {
                    0
                } else {
                    self.expires
                };
                Some(self.build(env, expires, Some(auth)))
            }
            AuthDecision::Fail(f) => {
                env.log(LogLevel::Warn, fill("authentication failed: {}", &[&f]));
                None
            }
        }
    }

    fn on_success(&mut self, now: Instant, resp: &Incoming, env: &mut Env<'_>) -> Outcome {
        let granted = granted_expires(resp, env).unwrap_or(self.expires);
        let granted = granted.max(MIN_GRANTED_SECS);
        self.phase = Phase::Bound;
        self.failures = 0;
        self.brief_retries = 0;
        self.retry_at = None;
        self.binding_expiry = Some(now + Duration::from_secs(u64::from(granted)));
        let refresh = refresh_delay(granted);
        self.refresh_at = Some(now + refresh);
        env.log(
            LogLevel::Info,
            fill(
                "registered for {} s; refreshing in {} s",
                &[&granted, &refresh.as_secs()],
            ),
        );
        self.set_registered(true, env);
        let headers = &resp.msg.headers;
        let require_outbound = crate::sip::tokens(headers, &HeaderName::Require)
            .is_some_and(|tags| tags.iter().any(|t| t.eq_ignore_ascii_case("outbound")));
        let flow_timer = headers
            .typed::<u32>(HeaderName::from_wire("Flow-Timer"))
            .and_then(Result::ok);
        Outcome {
            outbound: Some((require_outbound, flow_timer)),
            ..Outcome::default()
        }
    }

    fn on_unregister_response(&mut self, code: u16, resp: &Incoming, env: &mut Env<'_>) -> Outcome {
        if matches!(code, 401 | 407) {
            if let Some(m) = self.answer_challenge(code, resp, env) {
                return Outcome {
                    send: Some(m),
                    ..Outcome::default()
                };
            }
        }
        if !(200..=299).contains(&code) {
            env.log(
                LogLevel::Warn,
                fill("un-REGISTER answered {}; closing anyway", &[&code]),
            );
        }
        Outcome {
            unregistered: true,
            ..Outcome::default()
        }
    }

    /// The REGISTER timed out (Timer F, RFC 3261 §17.1.2.2): a 408 failure.
    pub(crate) fn on_timeout(&mut self, now: Instant, env: &mut Env<'_>) -> Outcome {
        match self.phase {
            Phase::Registering => {
                self.fail(now, 408, cause_for(408), None, env);
                Outcome::default()
            }
            Phase::Unregistering => Outcome {
                unregistered: true,
                ..Outcome::default()
            },
            _ => Outcome::default(),
        }
    }

    /// A failure that is retried with back-off until the budget is spent.
    fn fail(
        &mut self,
        now: Instant,
        code: u16,
        cause: &str,
        retry_after: Option<Duration>,
        env: &mut Env<'_>,
    ) {
        self.failures = self.failures.saturating_add(1);
        env.event(UaEvent::RegistrationFailed {
            code: i32::from(code),
            cause: cause.to_owned(),
        });
        if self.failures > self.max_retries {
            self.phase = Phase::GaveUp;
            self.retry_at = None;
            env.log(
                LogLevel::Warn,
                fill(
                    "registration failed {} times; giving up until reconnect or re_register",
                    &[&self.failures],
                ),
            );
            env.event(UaEvent::RegistrationFailed {
                code: RE_REGISTRY_MAX_LIMIT_TIMES,
                cause: "RE_REGISTRY_MAX_LIMIT_TIMES".to_owned(),
            });
            return;
        }
        let wait = match retry_after {
            Some(d) => d.min(RETRY_AFTER_MAX),
            None => env
                .rng
                .jitter(retry_backoff(self.failures), RETRY_JITTER_PCT),
        };
        env.log(
            LogLevel::Info,
            fill(
                "registration failed ({} {}); retry {} of {} in {} ms",
                &[
                    &code,
                    &cause,
                    &self.failures,
                    &self.max_retries,
                    &crate::sip::time::millis(wait),
                ],
            ),
        );
        self.phase = Phase::Backoff;
        self.retry_at = Some(now + wait);
    }

    /// A failure that retrying cannot fix (refused credentials).
    fn reject(&mut self, code: u16, cause: &str, env: &mut Env<'_>) {
        self.phase = Phase::Rejected;
        self.retry_at = None;
        self.refresh_at = None;
        env.event(UaEvent::RegistrationFailed {
            code: i32::from(code),
            cause: cause.to_owned(),
        });
    }

    /// The connection is gone: the binding is unreachable, every timer stops, and the
    /// retry budget is restored for the next connection.
    pub(crate) fn on_flow_lost(&mut self, env: &mut Env<'_>) {
        if self.phase != Phase::Rejected {
            self.phase = Phase::Idle;
        }
        self.refresh_at = None;
        self.retry_at = None;
        self.binding_expiry = None;
        self.failures = 0;
        self.set_registered(false, env);
    }

    /// Builds the un-REGISTER (Contact `expires=0`, same Call-ID, CSeq+1, RFC 3261
    /// §10.2.2) when there is a binding or a REGISTER in flight; `None` otherwise.
    pub(crate) fn unregister(&mut self, env: &mut Env<'_>) -> Option<Message> {
        if !self.registered && self.phase != Phase::Registering {
            return None;
        }
        self.phase = Phase::Unregistering;
        self.refresh_at = None;
        self.retry_at = None;
        self.auth_rounds = 0;
        Some(self.build(env, 0, None))
    }

    /// The un-REGISTER ended (or was skipped): not registered any more.
    pub(crate) fn finish(&mut self, env: &mut Env<'_>) {
        self.phase = Phase::Idle;
        self.refresh_at = None;
        self.retry_at = None;
        self.binding_expiry = None;
        self.set_registered(false, env);
    }

    fn set_registered(&mut self, on: bool, env: &mut Env<'_>) {
        if self.registered == on {
            return;
        }
        self.registered = on;
        env.event(if on {
            UaEvent::Registered
        } else {
            UaEvent::Unregistered
        });
        env.event(UaEvent::IsRegisteredChange(on));
    }
}

fn auth_header(kind: ChallengeKind) -> HeaderName {
    match kind {
        ChallengeKind::Www => HeaderName::Authorization,
        ChallengeKind::Proxy => HeaderName::ProxyAuthorization,
    }
}

/// The expiry granted to our binding: our Contact's `expires` (matched by instance and
/// reg-id, or by URI), else the Expires header (RFC 3261 §10.2.4).
fn granted_expires(resp: &Incoming, env: &Env<'_>) -> Option<u32> {
    let ours = resp.base.contacts.iter().find(|c| match c {
        Contact::Star => false,
        Contact::Addr(a) => env.local.is_ours(a),
    });
    match ours {
        Some(c) => c.expires().or(resp.base.expires),
        None => resp.base.expires,
    }
}

/// `Retry-After: <seconds> [(comment)] [;params]` (RFC 3261 §20.33).
fn retry_after(m: &Message) -> Option<Duration> {
    let v = m.headers.get(&HeaderName::RetryAfter)?;
    let v = scan::trim_ws(v);
    let end = v
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(v.len());
    let secs = scan::parse_decimal(v.get(..end)?, u64::from(u32::MAX))?;
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_rule() {
        assert_eq!(refresh_delay(600), Duration::from_secs(568));
        assert_eq!(refresh_delay(3600), Duration::from_secs(3568));
        assert_eq!(refresh_delay(60), Duration::from_secs(30));
        assert_eq!(refresh_delay(10), Duration::from_secs(5));
    }

    #[test]
    fn retry_schedule() {
        let s: Vec<u64> = (1..=7).map(|n| retry_backoff(n).as_secs()).collect();
        assert_eq!(s, [2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn causes() {
        assert_eq!(cause_for(401), "Authentication Error");
        assert_eq!(cause_for(503), "SIP Failure Code");
        assert_eq!(cause_for(408), "Request Timeout");
    }
}

//! The user agent core the browser shell drives: registration, connection and calls.
//!
//! # Driving it (the single-mutation rule)
//!
//! One [`Ua`] owns the transaction layer, the connection state machine
//! ([`Connection`]), the registration ([`Registration`]) and the calls (the
//! [`session`](crate::sip::session) layer). The shell:
//!
//! 1. calls exactly one mutation — [`Ua::handle_input`] or a command ([`Ua::start`],
//!    [`Ua::re_register`], [`Ua::disconnect`], [`Ua::destroy`],
//!    [`Ua::set_re_register_times`], [`Ua::call`], [`Ua::answer`], [`Ua::reject`],
//!    [`Ua::hangup`], [`Ua::terminate`], [`Ua::hold`], [`Ua::unhold`],
//!    [`Ua::renegotiate`], [`Ua::dtmf_info`], [`Ua::record_info`], [`Ua::transfer`],
//!    [`Ua::handle_media`]) — with the current time;
//! 2. drains [`Ua::poll_output`] until it returns `None`: [`Output::Connect`] opens a
//!    WebSocket (`new WebSocket(url, "sip")`), [`Output::Send`] sends one text frame,
//!    [`Output::Close`] closes the socket, [`Output::Event`] goes to the app,
//!    [`Output::Media`] is media work for a call (answered later with
//!    [`Ua::handle_media`], see [`session`](crate::sip::session));
//! 3. arms its one timer at [`Ua::poll_timeout`] and feeds [`Input::Timeout`] when it
//!    fires (early or spurious timeouts are harmless no-ops).
//!
//! Socket callbacks become [`Input::Connected`], [`Input::Received`] (one frame) and
//! [`Input::Closed`] (closed, or failed to open). After the core emits
//! [`Output::Close`] it has forgotten that socket: the shell should detach its
//! handlers before closing, and any `Closed` that still arrives while no connection is
//! pending is ignored.
//!
//! Every `Output::Connect` is matched by exactly one [`UaEvent::Disconnected`] (when
//! the attempt fails, the connection drops, or the UA stops).
//!
//! ```
//! use sipwasm::sip::config::UaConfig;
//! use sipwasm::sip::time::Instant;
//! use sipwasm::sip::ua::{Input, Output, Ua, UaEvent};
//!
//! let config = UaConfig {
//!     servers: vec!["wss://pbx.example.com/ws".into()],
//!     uri: "sip:1001@pbx.example.com".into(),
//!     password: Some("secret".into()),
//!     ..UaConfig::default()
//! }
//! .validate()?;
//! let mut ua = Ua::new(config, [7; 32], Instant::ZERO);
//! // The shell's drain loop, reduced to collecting what it would do.
//! fn drain(ua: &mut Ua) -> Vec<Output> {
//!     std::iter::from_fn(|| ua.poll_output())
//!         .filter(|o| !matches!(o, Output::Event(UaEvent::Log { .. })))
//!         .collect()
//! }
//! ua.start(Instant::ZERO);
//! assert_eq!(
//!     drain(&mut ua),
//!     [Output::Connect { url: "wss://pbx.example.com/ws".into() }]
//! );
//! ua.handle_input(Instant::from_millis(80), Input::Connected);
//! let out = drain(&mut ua);
//! assert_eq!(out[0], Output::Event(UaEvent::Connected));
//! let Output::Send(register) = &out[1] else { panic!() }; // invariant: doc example
//! assert!(register.starts_with("REGISTER sip:pbx.example.com SIP/2.0\r\n"));
//! assert!(ua.poll_timeout().is_some()); // Timer F of the REGISTER, keep-alive ...
//! # Ok::<(), sipwasm::sip::config::ConfigError>(())
//! ```
//!
//! # Incoming requests
//!
//! Frames are parsed with [`parse_frame`]; CRLF pings are answered with a pong and
//! pongs feed the keep-alive (RFC 5626 §4.4.1). Responses go to their client
//! transaction (unmatched ones are dropped with a warning). Requests go through server
//! transactions to the call layer ([`session`](crate::sip::session)), which applies
//! the RFC 3261 §8.2 checks and runs the calls. A request that fails to parse, or
//! fails [`Incoming::check_request`], gets a stateless 400 (505, 513) when enough of
//! it can be read to build a response (RFC 3261 §8.2), and is otherwise dropped with
//! a warning.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::sip::auth::Credentials;
use crate::sip::config::{
    validate_extra_headers, validate_reregister, ConfigError, ValidConfig, MAX_RE_REGISTER_TIMES,
};
use crate::sip::connection::{Action, ConnState, Connection};
use crate::sip::message::{
    parse_frame, scan, valid_value, CSeq, CallId, Frame, HeaderName, Incoming, Message, Method,
    NameAddr, NameAddrHeader, ParseError, StartLine, TypedHeader, Uri, Via, BRANCH_MAGIC,
};
use crate::sip::registration::{Outcome, Registration, REG_ID};
use crate::sip::rng::Rng;
pub use crate::sip::session::{
    alerting, causes, succeeded, valid_dtmf, CallError, CallEvent, Direction, Hold, InfoKind,
    MediaRequest, MediaResult, Originator, Reoffer,
};
use crate::sip::session::{Calls, Ctx};
use crate::sip::time::Instant;
use crate::sip::transaction::{build_response, Disposition, TransactionLayer, TsxEvent, TsxKey};
use crate::sip::{fill, Print};
use std::collections::VecDeque;
use std::time::Duration;

/// The result code reported when registration retries are used up (API result code
/// RE_REGISTRY_MAX_LIMIT_TIMES).
pub const RE_REGISTRY_MAX_LIMIT_TIMES: i32 = -204;
/// How long `disconnect`/`destroy` wait for the un-REGISTER's final response before
/// closing anyway. Short, because the page may be going away; far below Timer F.
pub const UNREGISTER_WAIT: Duration = Duration::from_secs(2);
/// The methods the SDK handles (RFC 3261 §20.5), sent in Allow.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY";
/// The option tags we support (RFC 3261 §20.37): SIP Outbound (RFC 5626 §4.2.1), Path
/// (RFC 3327), GRUU (RFC 5627).
pub const SUPPORTED: &str = "path, gruu, outbound";
/// The body types we accept (RFC 3261 §20.1).
pub const ACCEPT: &str = "application/sdp";

/// An input from the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input<'a> {
    /// The WebSocket asked for by [`Output::Connect`] opened.
    Connected,
    /// One WebSocket frame (text as UTF-8 bytes, or binary).
    Received(&'a [u8]),
    /// The WebSocket closed, or failed to open.
    Closed {
        /// The close code (1006 for an abnormal close, 0 when unknown).
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// The timer armed at [`Ua::poll_timeout`] fired.
    Timeout,
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Open a WebSocket to `url` with subprotocol `sip` (RFC 7118 §4).
    Connect {
        /// The server URL.
        url: String,
    },
    /// Send one text frame on the open WebSocket.
    Send(String),
    /// Close the WebSocket (opened or opening).
    Close,
    /// Tell the app.
    Event(UaEvent),
    /// Media work for a call; answer with [`Ua::handle_media`] (except `Close`).
    Media {
        /// The call id.
        call_id: String,
        /// What to do.
        request: MediaRequest,
    },
}

/// Severity of a [`UaEvent::Log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// SIP traces and details.
    Debug,
    /// State changes.
    Info,
    /// Something unexpected that the UA recovered from.
    Warn,
    /// Something that needs the app's attention.
    Error,
}

/// What happened, for the app.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UaEvent {
    /// The WebSocket opened.
    Connected,
    /// The WebSocket closed, failed to open, or was closed by the UA (code 0: the UA
    /// decided, see `reason`).
    Disconnected {
        /// WebSocket close code, 0 when unknown.
        code: u16,
        /// Close reason.
        reason: String,
    },
    /// The first successful REGISTER (not emitted for refreshes).
    Registered,
    /// The binding is gone: un-REGISTERed, expired, or the WebSocket dropped.
    Unregistered,
    /// A REGISTER failed: its SIP status (408 for a timeout), or
    /// [`RE_REGISTRY_MAX_LIMIT_TIMES`] once retries are used up.
    RegistrationFailed {
        /// SIP status or -204.
        code: i32,
        /// A short cause (JsSIP's names, or `RE_REGISTRY_MAX_LIMIT_TIMES`).
        cause: String,
    },
    /// [`Ua::is_registered`] changed.
    IsRegisteredChange(bool),
    /// Something happened to a call.
    Call(CallEvent),
    /// A log line. SIP traces are at Debug, with Authorization values redacted.
    Log {
        /// Severity.
        level: LogLevel,
        /// The text.
        message: String,
    },
}

/// What identifies this UA instance on the wire, fixed for its lifetime.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    /// `<random>.invalid`, the Via sent-by and Contact host (RFC 7118 §5.2).
    pub(crate) via_host: String,
    /// The random Contact user part.
    pub(crate) contact_user: String,
    /// `urn:uuid:...` (RFC 5626 §4.1).
    pub(crate) instance_id: String,
}

impl Local {
    /// `sip:<user>@<host>.invalid;transport=ws` (RFC 7118 §5.2 uses `ws` for both WS
    /// and WSS).
    pub(crate) fn contact_uri(&self) -> String {
        fill(
            "sip:{}@{};transport=ws",
            &[&self.contact_user, &self.via_host],
        )
    }

    /// The Contact value of dialog-forming requests and responses: the contact URI
    /// with `ob` (RFC 5626 §4.3).
    pub(crate) fn dialog_contact(&self) -> String {
        fill("<{};ob>", &[&self.contact_uri()])
    }

    /// The REGISTER Contact value (RFC 5626 §4.2.1): no `ob` (see the
    /// [`registration`](crate::sip::registration) docs).
    pub(crate) fn register_contact(&self, expires: u32) -> String {
        fill(
            "<{}>;reg-id={};+sip.instance=\"<{}>\";expires={}",
            &[&self.contact_uri(), &REG_ID, &self.instance_id, &expires],
        )
    }

    /// True when a Contact of a REGISTER response is our binding: same instance and
    /// reg-id (RFC 5626 §6), or same URI user and host.
    pub(crate) fn is_ours(&self, a: &NameAddrHeader) -> bool {
        let instance = a
            .params
            .get_unquoted("+sip.instance")
            .map(|v| v.trim_matches(['<', '>']).to_ascii_lowercase());
        let reg_id_ok = a.params.get("reg-id").flatten().is_none_or(|r| r == "1");
        if instance.as_deref() == Some(self.instance_id.as_str()) && reg_id_ok {
            return true;
        }
        a.addr.uri.as_sip().is_some_and(|u| {
            u.user() == Some(self.contact_user.as_str())
                && u.host().eq_ignore_ascii_case(&self.via_host)
        })
    }
}

/// What the registration (and the request builders) borrow from the [`Ua`].
pub(crate) struct Env<'a> {
    pub(crate) config: &'a ValidConfig,
    pub(crate) local: &'a Local,
    /// The current server is `wss://` (Via transport WSS, RFC 7118 §5.2).
    pub(crate) secure: bool,
    pub(crate) rng: &'a mut Rng,
    pub(crate) out: &'a mut VecDeque<Output>,
}

impl Env<'_> {
    /// Queues an event.
    pub(crate) fn event(&mut self, e: UaEvent) {
        self.out.push_back(Output::Event(e));
    }

    /// Whether a log line at `level` is emitted ([`Ua::set_log_level`]): check it
    /// before building an expensive message.
    pub(crate) fn logs(&self, level: LogLevel) -> bool {
        self.config.log_min.is_some_and(|min| level >= min)
    }

    /// Queues a log line (dropped below the level set by [`Ua::set_log_level`]).
    pub(crate) fn log(&mut self, level: LogLevel, message: impl Into<String>) {
        if self.logs(level) {
            self.event(UaEvent::Log {
                level,
                message: message.into(),
            });
        }
    }

    /// An out-of-dialog request (RFC 3261 §8.1.1): Via `SIP/2.0/WS(S)
    /// <random>.invalid` with a fresh branch (RFC 7118 §5.2), Max-Forwards 70, To,
    /// From (AOR with display name and a fresh tag), Call-ID, CSeq. The caller adds
    /// its own headers, then [`Env::finish_request`], then Content-Length.
    pub(crate) fn request(
        &mut self,
        method: Method,
        uri: &Uri,
        to: &str,
        call_id: &str,
        cseq: u32,
    ) -> Message {
        let mut m = Message::request(method.clone(), uri.clone());
        let mut branch = self.rng.token(16);
        branch.insert_str(0, BRANCH_MAGIC);
        let transport = if self.secure { "WSS" } else { "WS" };
        let via = Via::new(transport, &self.local.via_host, None, &branch);
        m.headers.push_typed(HeaderName::Via, &via);
        m.headers.push(HeaderName::MaxForwards, "70");
        m.headers.push(HeaderName::To, to);
        let from = NameAddr {
            display: self.config.display_name.clone(),
            uri: Uri::Sip(self.config.aor.clone()),
        };
        m.headers.push(
            HeaderName::From,
            fill("{};tag={}", &[&from, &self.rng.token(10)]),
        );
        m.headers.push(HeaderName::CallId, call_id);
        m.headers
            .push_typed(HeaderName::CSeq, &CSeq { seq: cseq, method });
        m
    }

    /// Adds Allow, User-Agent and the configured extra headers.
    pub(crate) fn finish_request(&self, m: &mut Message) {
        m.headers.push(HeaderName::Allow, ALLOW);
        m.headers
            .push(HeaderName::UserAgent, &self.config.user_agent);
        for (name, value) in &self.config.extra_headers {
            m.headers.push(name.clone(), value);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    /// Created, not started.
    Idle,
    /// Started: connecting, connected or reconnecting.
    Running,
    /// `disconnect`/`destroy`: waiting for the un-REGISTER until `deadline`.
    Stopping { deadline: Instant, destroy: bool },
    /// Stopped by `disconnect`; `start` runs it again.
    Stopped,
    /// Destroyed: ignores everything.
    Destroyed,
}

/// The SIP user agent core: registration and connection (see the module docs).
#[derive(Debug)]
pub struct Ua {
    config: ValidConfig,
    local: Local,
    rng: Rng,
    layer: TransactionLayer,
    conn: Connection,
    reg: Registration,
    out: VecDeque<Output>,
    life: Life,
    /// The REGISTER (or un-REGISTER) client transaction in flight, and when it went.
    reg_tsx: Option<(TsxKey, Instant)>,
    /// The OPTIONS liveness probe in flight, and when it went.
    probe: Option<(TsxKey, Instant)>,
    /// The calls.
    calls: Calls,
    /// Route values from the last REGISTER 2xx's Service-Route (RFC 3608 §6).
    service_route: Vec<String>,
}

/// Builds an [`Env`] from the fields of a [`Ua`] (split borrows).
macro_rules! env {
    ($ua:ident) => {{
        let secure = $ua.conn.current().is_none_or(|s| s.secure);
        Env {
            config: &$ua.config,
            local: &$ua.local,
            secure,
            rng: &mut $ua.rng,
            out: &mut $ua.out,
        }
    }};
}

/// Builds the call layer's [`Ctx`] from the fields of a [`Ua`] (split borrows).
macro_rules! ctx {
    ($ua:ident) => {{
        let registered = $ua.reg.is_registered() && $ua.life == Life::Running;
        Ctx {
            env: env!($ua),
            layer: &mut $ua.layer,
            service_route: &$ua.service_route,
            registered,
        }
    }};
}

impl Ua {
    /// A UA for `config`. `seed` seeds every random choice (use 32 bytes from
    /// `crypto.getRandomValues`); `now` is the shell's clock. Nothing happens until
    /// [`Ua::start`].
    pub fn new(config: ValidConfig, seed: [u8; 32], _now: Instant) -> Ua {
        let mut rng = Rng::from_seed(seed);
        let instance_id = config.instance_id.clone().unwrap_or_else(|| rng.uuid_urn());
        let local = Local {
            via_host: fill("{}.invalid", &[&rng.token(12)]),
            contact_user: rng.token(8),
            instance_id,
        };
        let reg = Registration::new(
            rng.token(22),
            config.credentials.clone(),
            config.register_expires,
            config.re_register_times,
        );
        let conn = Connection::new(
            config.servers.clone(),
            config.keepalive_interval,
            config.heartbeat,
        );
        Ua {
            config,
            local,
            rng,
            layer: TransactionLayer::default(),
            conn,
            reg,
            out: VecDeque::new(),
            life: Life::Idle,
            reg_tsx: None,
            probe: None,
            calls: Calls::default(),
            service_route: Vec::new(),
        }
    }

    // ---------------------------------------------------------------- getters

    /// A binding granted by the registrar is in force.
    pub fn is_registered(&self) -> bool {
        self.reg.is_registered()
    }

    /// The WebSocket is open.
    pub fn is_connected(&self) -> bool {
        self.conn.is_open()
    }

    /// The `urn:uuid:` instance ID (RFC 5626 §4.1), generated when the config had
    /// none. Persist it so the next page load registers as the same instance.
    pub fn instance_id(&self) -> &str {
        &self.local.instance_id
    }

    /// The Contact URI for dialog-forming requests, with `ob` (RFC 5626 §4.3), for the
    /// call layer.
    pub fn dialog_contact(&self) -> String {
        self.local.dialog_contact()
    }

    /// The next output, in order. Drain until `None` after every mutation.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The one deadline the shell arms; `None` when nothing is pending (after
    /// `destroy`, always `None` once the un-REGISTER is over).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let stopping = match self.life {
            Life::Destroyed | Life::Stopped | Life::Idle => return self.layer.poll_timeout(),
            Life::Stopping { deadline, .. } => Some(deadline),
            Life::Running => None,
        };
        [
            self.layer.poll_timeout(),
            self.conn.poll_timeout(),
            self.reg.poll_timeout(),
            self.calls.poll_timeout(),
            stopping,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---------------------------------------------------------------- commands

    /// Connects to the first server and registers once connected. No-op while running
    /// or after `destroy`; after `disconnect` it starts afresh.
    pub fn start(&mut self, now: Instant) {
        if !matches!(self.life, Life::Idle | Life::Stopped) {
            return;
        }
        self.life = Life::Running;
        self.reg.clear_refusal();
        if let Some(url) = self.conn.start(now) {
            self.log(LogLevel::Info, fill("connecting to {}", &[&url]));
            self.out.push_back(Output::Connect { url });
        }
    }

    /// New digest credentials (HA1 for the configured realm, if any): the cached
    /// challenges are forgotten, a refusal or exhausted retries are cleared, and a
    /// REGISTER goes out now if connected (else on the next connection).
    pub fn re_register(
        &mut self,
        now: Instant,
        authorization_user: &str,
        ha1: &str,
    ) -> Result<(), ConfigError> {
        let creds: Credentials =
            validate_reregister(authorization_user, ha1, self.config.realm.as_deref())?;
        if self.life == Life::Destroyed {
            return Ok(());
        }
        self.config.credentials = creds.clone();
        self.reg.set_credentials(creds);
        if self.life == Life::Running && self.conn.is_open() {
            let m = self.reg.begin(now, &mut env!(self));
            self.send_register(now, m);
        }
        self.pump(now);
        Ok(())
    }

    /// Un-REGISTERs (Contact `expires=0`), waits for the final response (at most
    /// [`UNREGISTER_WAIT`]), then closes. No reconnect until [`Ua::start`].
    pub fn disconnect(&mut self, now: Instant) {
        self.stop(now, false);
    }

    /// Like [`Ua::disconnect`], then nothing ever again: no outputs, no timers.
    pub fn destroy(&mut self, now: Instant) {
        self.stop(now, true);
    }

    /// How many times a failed registration is retried (capped at 1000), from the next
    /// failure on.
    pub fn set_re_register_times(&mut self, n: u32) {
        self.reg.set_max_retries(n.min(MAX_RE_REGISTER_TIMES));
    }

    /// The least severe [`UaEvent::Log`] level to emit from now on (`None`: no
    /// log events). The default emits every level, SIP traces included; a shell
    /// that shows fewer sets its level here, so the UA does not format lines that
    /// would be dropped (a trace copies every message sent or received).
    pub fn set_log_level(&mut self, min: Option<LogLevel>) {
        self.config.log_min = min;
    }

    /// How many times a failed registration is retried.
    pub fn re_register_times(&self) -> u32 {
        self.reg.max_retries()
    }

    /// Replaces the extra headers sent on every request from now on (validated as
    /// [`UaConfig::extra_headers`](crate::sip::config::UaConfig::extra_headers); on
    /// error nothing changes).
    pub fn set_extra_headers(&mut self, headers: Vec<String>) -> Result<(), ConfigError> {
        self.config.extra_headers = validate_extra_headers(&headers)?;
        Ok(())
    }

    // ---------------------------------------------------------------- calls

    /// Places a call to `target`: a user part (→ `sip:<target>@<AOR domain>`),
    /// `user@host`, or a full `sip:`/`sips:`/`tel:` URI. `extra_headers` (`Name:
    /// value`, validated like the configured ones) go on this call's INVITE. Returns
    /// the call id (the SIP Call-ID); `CallEvent::NewSession` and
    /// `Output::Media{CreateOffer}` follow, and the INVITE goes out when the shell
    /// answers with [`Ua::handle_media`]`(.., MediaResult::Sdp(offer))`.
    pub fn call(
        &mut self,
        now: Instant,
        target: &str,
        extra_headers: &[String],
    ) -> Result<String, CallError> {
        let r = self.calls.call(now, &mut ctx!(self), target, extra_headers);
        self.pump(now);
        r
    }

    /// Answers a ringing inbound call: `Output::Media{CreateAnswer{offer}}` (or
    /// `CreateOffer` when the INVITE had no offer), then the 200 OK once the shell
    /// gives the SDP.
    pub fn answer(&mut self, now: Instant, call_id: &str) -> Result<(), CallError> {
        let r = self.calls.answer(&mut ctx!(self), call_id);
        self.pump(now);
        r
    }

    /// Rejects an unanswered inbound call with `code` (300–699).
    pub fn reject(&mut self, now: Instant, call_id: &str, code: u16) -> Result<(), CallError> {
        let r = self.calls.reject(now, &mut ctx!(self), call_id, code);
        self.pump(now);
        r
    }

    /// Hangs up: CANCEL an unanswered outbound call, reject an unanswered inbound one
    /// with the configured reject code, BYE an answered one.
    pub fn hangup(&mut self, now: Instant, call_id: &str) -> Result<(), CallError> {
        let r = self.calls.hangup(now, &mut ctx!(self), call_id, None);
        self.pump(now);
        r
    }

    /// Ends the call whatever its state, as [`Ua::hangup`] does, reporting `cause`
    /// (e.g. the API's `'hangup'`, `'reject'`, `'terminate'`) as the Ended/Failed
    /// cause; an empty `cause` reports the usual one.
    pub fn terminate(&mut self, now: Instant, call_id: &str, cause: &str) -> Result<(), CallError> {
        let cause = (!cause.is_empty()).then_some(cause);
        let r = self.calls.hangup(now, &mut ctx!(self), call_id, cause);
        self.pump(now);
        r
    }

    /// Puts the peer on hold: `Output::Media{CreateOffer{hold: SendOnly}}` (`Inactive`
    /// when the peer holds us), then a re-INVITE with that offer (RFC 3264 §8.4).
    /// `CallEvent::Hold` follows its 2xx, `CallEvent::Renegotiated` reports the outcome;
    /// on failure the media is rolled back (`MediaRequest::Rollback`). Refused when the
    /// call is not up, is held already, or another offer/answer exchange runs.
    pub fn hold(&mut self, now: Instant, call_id: &str) -> Result<(), CallError> {
        self.reoffer(now, call_id, Reoffer::Hold)
    }

    /// Takes the hold off (re-INVITE with `sendrecv`); as [`Ua::hold`].
    pub fn unhold(&mut self, now: Instant, call_id: &str) -> Result<(), CallError> {
        self.reoffer(now, call_id, Reoffer::Unhold)
    }

    /// A re-INVITE with a fresh offer (the shell changed its tracks, e.g. added video);
    /// as [`Ua::hold`].
    pub fn renegotiate(&mut self, now: Instant, call_id: &str) -> Result<(), CallError> {
        self.reoffer(now, call_id, Reoffer::Renegotiate)
    }

    fn reoffer(&mut self, now: Instant, call_id: &str, kind: Reoffer) -> Result<(), CallError> {
        let r = self.calls.reoffer(&mut ctx!(self), call_id, kind);
        self.pump(now);
        r
    }

    /// Sends `digits` (see [`valid_dtmf`]) as SIP INFO, one `application/dtmf-relay`
    /// INFO per digit, each after the previous one's final response (RFC 6086);
    /// `CallEvent::InfoDone` reports each. Nothing is sent when a digit is invalid.
    pub fn dtmf_info(
        &mut self,
        now: Instant,
        call_id: &str,
        digits: &str,
        duration_ms: u32,
    ) -> Result<(), CallError> {
        if !valid_dtmf(digits) {
            return Err(CallError::InvalidArgument("DTMF digits are 0-9 * # A-D"));
        }
        let mut infos = Vec::with_capacity(digits.len());
        for digit in digits.chars() {
            infos.push(InfoKind::Dtmf {
                digit,
                duration: duration_ms,
            });
        }
        self.info(now, call_id, infos)
    }

    /// Recording control by SIP INFO with `Record: on` / `Record: off`; its final
    /// response comes as `CallEvent::InfoDone`.
    pub fn record_info(&mut self, now: Instant, call_id: &str, on: bool) -> Result<(), CallError> {
        self.info(now, call_id, vec![InfoKind::Record(on)])
    }

    fn info(&mut self, now: Instant, call_id: &str, infos: Vec<InfoKind>) -> Result<(), CallError> {
        let r = self.calls.info(now, &mut ctx!(self), call_id, infos);
        self.pump(now);
        r
    }

    /// Transfers the call (RFC 3515 REFER with Referred-By): blind to `target` (as for
    /// [`Ua::call`]), or attended when `consult` names our confirmed call to the
    /// target (Refer-To = that call's URI with Replaces of its dialog, RFC 5589 §7).
    /// `CallEvent::Transfer` reports progress; a final 2xx ends this call (and the
    /// consultation call) with cause "Transferred".
    pub fn transfer(
        &mut self,
        now: Instant,
        call_id: &str,
        target: &str,
        consult: Option<&str>,
    ) -> Result<(), CallError> {
        let r = self
            .calls
            .transfer(now, &mut ctx!(self), call_id, target, consult);
        self.pump(now);
        r
    }

    /// The shell's answer to an `Output::Media` request. Results for calls that ended
    /// (or never existed) are ignored.
    pub fn handle_media(&mut self, now: Instant, call_id: &str, result: MediaResult) {
        if matches!(self.life, Life::Destroyed | Life::Idle | Life::Stopped) {
            return;
        }
        self.calls
            .handle_media(now, &mut ctx!(self), call_id, result);
        self.pump(now);
    }

    /// The user part of our address of record (e.g. the extension).
    pub fn user(&self) -> &str {
        self.config.aor.user().unwrap_or("")
    }

    /// The ids of the live calls (not yet Ended/Failed), oldest first.
    pub fn calls(&self) -> impl Iterator<Item = &str> {
        self.calls.ids()
    }

    // ---------------------------------------------------------------- input

    /// Feeds one input (see [`Input`]); then drain [`Ua::poll_output`].
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        match self.life {
            Life::Destroyed => return,
            Life::Idle | Life::Stopped => {
                if let Input::Received(_) | Input::Connected = input {
                    self.log(LogLevel::Debug, "input while not running; ignored");
                }
                return;
            }
            Life::Running | Life::Stopping { .. } => {}
        }
        match input {
            Input::Connected => self.on_connected(now),
            Input::Received(bytes) => self.on_frame(now, bytes),
            Input::Closed { code, reason } => self.on_closed(now, code, reason),
            Input::Timeout => self.on_timeout(now),
        }
        self.pump(now);
    }

    fn on_connected(&mut self, now: Instant) {
        if !matches!(self.conn.state(), ConnState::Connecting { .. }) {
            self.log(LogLevel::Warn, "Connected while not connecting; ignored");
            return;
        }
        self.conn.on_connected(now, &mut self.rng);
        let url = self
            .conn
            .current()
            .map(|s| s.url.clone())
            .unwrap_or_default();
        self.log(LogLevel::Info, fill("connected to {}", &[&url]));
        self.event(UaEvent::Connected);
        match self.life {
            Life::Running => {
                if let Some(m) = self.reg.on_connected(now, &mut env!(self)) {
                    self.send_register(now, m);
                }
            }
            // Stopped while the socket was opening: close it straight away.
            _ => self.finish_stop(now, 1000, "disconnect", false),
        }
    }

    fn on_closed(&mut self, now: Instant, code: u16, reason: String) {
        if let Life::Stopping { .. } = self.life {
            self.finish_stop(now, code, &reason, true);
            return;
        }
        match self.conn.state() {
            ConnState::Connecting { .. } | ConnState::Open { .. } => {
                self.fail_connection(now, code, reason, false)
            }
            _ => self.log(
                LogLevel::Debug,
                "Closed for a socket already given up; ignored",
            ),
        }
    }

    fn on_timeout(&mut self, now: Instant) {
        self.layer.handle_timeout(now);
        self.pump(now);
        self.calls.handle_timeout(now, &mut ctx!(self));
        self.pump(now);
        if let Life::Stopping { deadline, .. } = self.life {
            if deadline <= now {
                self.log(LogLevel::Warn, "no answer to the un-REGISTER; closing");
                self.finish_stop(now, 1000, "disconnect", false);
            }
            return;
        }
        if self.life != Life::Running {
            return;
        }
        for action in self.conn.handle_timeout(now, &mut self.rng) {
            match action {
                Action::Connect(url) => {
                    self.log(LogLevel::Info, fill("connecting to {}", &[&url]));
                    self.out.push_back(Output::Connect { url });
                }
                Action::ConnectTimeout => {
                    self.fail_connection(now, 0, "connect timeout".into(), true);
                    return;
                }
                Action::PongTimeout => {
                    self.log(LogLevel::Warn, "no keep-alive pong within 10 s");
                    self.fail_connection(now, 0, "keep-alive timeout".into(), true);
                    return;
                }
                Action::Ping => {
                    self.log(LogLevel::Debug, "send keep-alive ping (CRLFCRLF)");
                    self.out.push_back(Output::Send("\r\n\r\n".into()));
                }
                Action::Heartbeat => {
                    self.log(LogLevel::Debug, "send heartbeat");
                    self.out.push_back(Output::Send("heartbeat".into()));
                }
                Action::Probe => self.send_probe(now),
            }
        }
        if self.conn.is_open() {
            if let Some(m) = self.reg.handle_timeout(now, &mut env!(self)) {
                self.send_register(now, m);
            }
        }
    }

    fn on_frame(&mut self, now: Instant, bytes: &[u8]) {
        if !self.conn.is_open() {
            self.log(LogLevel::Debug, "frame while not connected; ignored");
            return;
        }
        self.conn.on_rx(now);
        match parse_frame(bytes) {
            Ok(Frame::Ping) => {
                // RFC 5626 §4.4.1: a double-CRLF ping is answered with one CRLF.
                self.out.push_back(Output::Send("\r\n".into()));
            }
            Ok(Frame::Pong) => {
                self.conn.on_pong(now);
                self.log(LogLevel::Debug, "keep-alive pong received");
            }
            Ok(Frame::Message(m)) => {
                if self.logs(LogLevel::Debug) {
                    self.log(LogLevel::Debug, trace("received", &m.msg));
                }
                if m.msg.is_request() {
                    self.on_request(now, m);
                } else {
                    use crate::sip::transaction::ResponseDisposition as R;
                    if self.layer.handle_response(now, m) == R::Dropped {
                        self.log(LogLevel::Warn, "response matching no transaction; dropped");
                    }
                }
            }
            Err(e) => self.on_bad_frame(bytes, &e),
        }
    }

    fn on_request(&mut self, now: Instant, m: Box<Incoming>) {
        if let Err(e) = m.check_request() {
            self.reject_stateless(&m.msg, &e);
            return;
        }
        if let Disposition::Invalid(e) = self.layer.handle_request(now, m) {
            self.log(LogLevel::Warn, fill("request refused: {}", &[&e]));
        }
    }

    fn on_bad_frame(&mut self, bytes: &[u8], e: &ParseError) {
        match salvage_bad_request(bytes) {
            Some(req) => self.reject_stateless(&req, e),
            None if self.config.heartbeat => self.log(
                LogLevel::Debug,
                fill("ignored a frame that is not SIP ({})", &[e]),
            ),
            None => self.log(
                LogLevel::Warn,
                fill(
                    "dropped a malformed frame of {} bytes: {}",
                    &[&bytes.len(), e],
                ),
            ),
        }
    }

    /// Answers a malformed request without a transaction (RFC 3261 §8.2): 400, 505 or
    /// 513 as the parser decided, with the problem in a Warning header (§20.43).
    fn reject_stateless(&mut self, req: &Message, e: &ParseError) {
        if req.method() == Some(&Method::Ack) || req.headers.get(&HeaderName::Via).is_none() {
            self.log(LogLevel::Warn, fill("malformed request dropped: {}", &[e]));
            return;
        }
        let reason = match e.status {
            505 => "Version Not Supported",
            513 => "Message Too Large",
            _ => "Bad Request",
        };
        let tag = self.rng.token(10);
        let mut resp = build_response(req, e.status, reason, Some(&tag));
        let mut text = fill("399 {} ", &[&self.local.via_host]);
        scan::quote(&e.to_text(), &mut text);
        resp.headers.push(HeaderName::Warning, text);
        self.log(
            LogLevel::Warn,
            fill("malformed request answered {}: {}", &[&e.status, e]),
        );
        self.emit_message(&resp);
    }

    // ---------------------------------------------------------------- the layer

    /// Moves the transaction layer's transmits and events out, in order.
    fn pump(&mut self, now: Instant) {
        // Bounded: each event produces at most a few transmits.
        for _ in 0..100_000 {
            if let Some(m) = self.layer.poll_transmit() {
                self.emit_message(&m);
            } else if let Some(ev) = self.layer.poll_event() {
                self.on_tsx_event(now, ev);
            } else {
                return;
            }
        }
    }

    fn on_tsx_event(&mut self, now: Instant, ev: TsxEvent) {
        match ev {
            TsxEvent::Request { key, request } => {
                self.calls.on_request(now, &mut ctx!(self), key, request);
            }
            TsxEvent::Ack { request, .. } => {
                self.calls.on_ack(now, &mut ctx!(self), &request);
            }
            TsxEvent::Response { key, response } => {
                let final_ = response.msg.status().is_some_and(|c| c >= 200);
                if self
                    .calls
                    .on_response(now, &mut ctx!(self), &key, &response)
                {
                    return;
                }
                if self.reg_tsx.as_ref().is_some_and(|(k, _)| *k == key) {
                    if final_ {
                        self.reg_tsx = None;
                    }
                    if response
                        .msg
                        .status()
                        .is_some_and(|c| (200..=299).contains(&c))
                    {
                        self.service_route = service_route(&response.msg);
                    }
                    let outcome = self.reg.on_response(now, &response, &mut env!(self));
                    self.apply(now, outcome);
                } else if self.probe.as_ref().is_some_and(|(k, _)| *k == key) && final_ {
                    self.probe = None;
                }
            }
            TsxEvent::Cancel {
                key,
                target,
                request,
            } => {
                // RFC 3261 §9.2: 200 to the CANCEL; 487 to the request if still open.
                let tag = self.rng.token(10);
                let ok = build_response(&request.msg, 200, "OK", Some(&tag));
                let _ = self.layer.respond(now, &key, ok);
                if self.calls.on_cancel(now, &mut ctx!(self), &target) {
                    return;
                }
                if let Some(req) = self.layer.request(&target) {
                    let resp = build_response(req, 487, "Request Terminated", Some(&tag));
                    let _ = self.layer.respond(now, &target, resp);
                }
            }
            TsxEvent::Timeout { key, .. } => {
                if self.calls.on_timeout(now, &mut ctx!(self), &key) {
                    return;
                }
                if let Some((k, sent)) = self.reg_tsx.take() {
                    if k == key {
                        let silent = self.conn.last_rx().is_none_or(|t| t < sent);
                        let outcome = self.reg.on_timeout(now, &mut env!(self));
                        self.apply(now, outcome);
                        if silent && self.life == Life::Running && self.conn.is_open() {
                            self.log(LogLevel::Warn, "REGISTER timed out on a silent connection");
                            self.fail_connection(now, 0, "no response from server".into(), true);
                        }
                        return;
                    }
                    self.reg_tsx = Some((k, sent));
                }
                if let Some((k, sent)) = self.probe.take() {
                    if k == key {
                        let silent = self.conn.last_rx().is_none_or(|t| t < sent);
                        if silent && self.life == Life::Running && self.conn.is_open() {
                            self.log(LogLevel::Warn, "OPTIONS probe timed out: connection dead");
                            self.fail_connection(now, 0, "no response from server".into(), true);
                        }
                        return;
                    }
                    self.probe = Some((k, sent));
                }
            }
            TsxEvent::Stray2xx { response } => {
                let taken = self.calls.on_stray_2xx(now, &mut ctx!(self), &response);
                if !taken {
                    self.log(LogLevel::Warn, "2xx to an unknown INVITE; ignored");
                }
            }
            TsxEvent::Terminated { key } => self.calls.on_terminated(&key),
            _ => {}
        }
    }

    fn apply(&mut self, now: Instant, outcome: Outcome) {
        if let Some((require_outbound, flow_timer)) = outcome.outbound {
            self.conn
                .on_registrar_outbound(now, &mut self.rng, require_outbound, flow_timer);
        }
        if let Some(m) = outcome.send {
            self.send_register(now, m);
        }
        if outcome.unregistered {
            if let Life::Stopping { .. } = self.life {
                self.finish_stop(now, 1000, "disconnect", false);
            }
        }
    }

    fn send_register(&mut self, now: Instant, m: Message) {
        match self.layer.send_request(now, m) {
            Ok(key) => self.reg_tsx = Some((key, now)),
            Err(e) => self.log(LogLevel::Error, fill("cannot send REGISTER: {}", &[&e])),
        }
    }

    /// An OPTIONS to the registrar's domain (RFC 3261 §11.1) to learn whether a silent
    /// connection is alive: any response will do.
    fn send_probe(&mut self, now: Instant) {
        if self.probe.is_some() {
            return;
        }
        let mut env = env!(self);
        let call_id = env.rng.token(22);
        let uri = env.config.registrar.clone();
        let to = fill("<{}>", &[&uri]);
        let mut m = env.request(Method::Options, &uri, &to, &call_id, 1);
        m.headers.push(HeaderName::Accept, ACCEPT);
        m.headers.push(HeaderName::Supported, SUPPORTED);
        env.finish_request(&mut m);
        m.headers.push(HeaderName::ContentLength, "0");
        self.log(LogLevel::Debug, "connection silent; probing with OPTIONS");
        match self.layer.send_request(now, m) {
            Ok(key) => self.probe = Some((key, now)),
            Err(e) => self.log(LogLevel::Error, fill("cannot send OPTIONS: {}", &[&e])),
        }
    }

    // ---------------------------------------------------------------- failures and stops

    /// The connection failed (closed by the peer, or given up by us when `close`):
    /// transactions end with a transport error (RFC 3261 §17.1.4), the binding is
    /// unreachable, and a reconnect is scheduled.
    fn fail_connection(&mut self, now: Instant, code: u16, reason: String, close: bool) {
        if close {
            self.out.push_back(Output::Close);
        }
        self.log(
            LogLevel::Warn,
            fill(
                "disconnected (code {}, {})",
                &[&code, &crate::sip::Quoted(&reason)],
            ),
        );
        self.event(UaEvent::Disconnected { code, reason });
        self.end_transactions(now);
        self.calls.connection_lost(&mut ctx!(self));
        self.reg.on_flow_lost(&mut env!(self));
        if self.life == Life::Running {
            let wait = self.conn.on_failure(now, &mut self.rng);
            let next = self
                .conn
                .current()
                .map(|s| s.url.clone())
                .unwrap_or_default();
            self.log(
                LogLevel::Info,
                fill(
                    "reconnecting to {} in {} ms",
                    &[&next, &crate::sip::time::millis(wait)],
                ),
            );
        } else {
            self.conn.stop();
        }
    }

    /// Ends every transaction silently (their owners were told already).
    fn end_transactions(&mut self, now: Instant) {
        self.layer.handle_transport_error(now);
        while self.layer.poll_event().is_some() {}
        self.reg_tsx = None;
        self.probe = None;
    }

    fn stop(&mut self, now: Instant, destroy: bool) {
        match self.life {
            Life::Destroyed => return,
            Life::Idle | Life::Stopped => {
                if destroy {
                    self.life = Life::Destroyed;
                }
                return;
            }
            Life::Stopping { deadline, .. } => {
                if destroy {
                    self.life = Life::Stopping {
                        deadline,
                        destroy: true,
                    };
                }
                return;
            }
            Life::Running => {}
        }
        self.life = Life::Stopping {
            deadline: now + UNREGISTER_WAIT,
            destroy,
        };
        match self.conn.state() {
            ConnState::Open { .. } => {
                self.conn.stop_keepalive();
                // Calls end first: their BYE/CANCEL go out before the un-REGISTER.
                self.calls.hangup_all(now, &mut ctx!(self));
                match self.reg.unregister(&mut env!(self)) {
                    Some(m) => self.send_register(now, m),
                    None => self.finish_stop(now, 1000, "disconnect", false),
                }
            }
            ConnState::Connecting { .. } => self.finish_stop(now, 1000, "disconnect", false),
            ConnState::Idle | ConnState::Waiting { .. } => {
                self.finish_stop(now, 1000, "disconnect", true)
            }
        }
        self.pump(now);
    }

    /// The end of `disconnect`/`destroy`: not registered, socket closed (unless
    /// `socket_gone`), every timer stopped.
    fn finish_stop(&mut self, now: Instant, code: u16, reason: &str, socket_gone: bool) {
        let had_socket = matches!(
            self.conn.state(),
            ConnState::Open { .. } | ConnState::Connecting { .. }
        );
        self.reg.finish(&mut env!(self));
        self.end_transactions(now);
        self.calls.connection_lost(&mut ctx!(self));
        self.service_route.clear();
        if had_socket {
            if !socket_gone {
                self.out.push_back(Output::Close);
            }
            self.event(UaEvent::Disconnected {
                code,
                reason: reason.to_owned(),
            });
        }
        self.conn.stop();
        self.life = match self.life {
            Life::Stopping { destroy: true, .. } | Life::Destroyed => Life::Destroyed,
            _ => Life::Stopped,
        };
        self.log(LogLevel::Info, "stopped");
    }

    // ---------------------------------------------------------------- output helpers

    fn event(&mut self, e: UaEvent) {
        self.out.push_back(Output::Event(e));
    }

    fn logs(&self, level: LogLevel) -> bool {
        self.config.log_min.is_some_and(|min| level >= min)
    }

    fn log(&mut self, level: LogLevel, message: impl Into<String>) {
        if self.logs(level) {
            self.event(UaEvent::Log {
                level,
                message: message.into(),
            });
        }
    }

    fn emit_message(&mut self, m: &Message) {
        send(&self.config, &mut self.out, m);
    }
}

/// Queues `m` as one text frame, after its trace at Debug when `config` logs it (the
/// UA's transmits and the call layer's ACKs share it).
pub(crate) fn send(config: &ValidConfig, out: &mut VecDeque<Output>, m: &Message) {
    if config.log_min.is_some_and(|min| LogLevel::Debug >= min) {
        out.push_back(Output::Event(UaEvent::Log {
            level: LogLevel::Debug,
            message: trace("send", m),
        }));
    }
    let text = crate::sip::message::scan::lossy(&m.to_bytes());
    out.push_back(Output::Send(text));
}

/// A SIP trace with Authorization and Proxy-Authorization values redacted (only the
/// scheme is kept), so logs never carry digest responses.
pub(crate) fn trace(dir: &str, m: &Message) -> String {
    let mut s = String::with_capacity(512);
    s.push_str(dir);
    s.push_str(":\n");
    match &m.start {
        StartLine::Request(r) => {
            s.push_str(r.method.as_str());
            s.push(' ');
            r.uri.print(&mut s);
            s.push_str(" SIP/2.0\n");
        }
        StartLine::Response(r) => {
            s.push_str("SIP/2.0 ");
            r.code.print(&mut s);
            s.push(' ');
            s.push_str(&r.reason);
            s.push('\n');
        }
    }
    for h in m.headers.iter() {
        s.push_str(h.name.as_str());
        s.push_str(": ");
        match h.name {
            HeaderName::Authorization | HeaderName::ProxyAuthorization => {
                s.push_str(h.value.split_whitespace().next().unwrap_or(""));
                s.push_str(" <redacted>");
            }
            _ => s.push_str(h.value),
        }
        s.push('\n');
    }
    if !m.body.is_empty() {
        s.push('\n');
        s.push_str(&crate::sip::message::scan::lossy(&m.body));
    }
    s
}

/// Reads enough of a request that failed to parse to answer it (RFC 3261 §8.2): the
/// request line and the headers a response copies (§8.2.6.2: Via, From, To, Call-ID,
/// CSeq), each of which must parse. `None` for responses, ACKs and anything else.
fn salvage_bad_request(bytes: &[u8]) -> Option<Message> {
    let start = bytes.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let bytes = bytes.get(start..)?;
    let head = bytes.get(..bytes.len().min(16 * 1024))?;
    let text = crate::sip::message::scan::lossy(head);
    let head = crate::sip::split_once_str(&text, "\r\n\r\n").map_or(&*text, |(h, _)| h);
    let head = crate::sip::split_once_str(head, "\n\n").map_or(head, |(h, _)| h);
    // Unfold continuation lines (RFC 3261 §7.3.1).
    let mut lines: Vec<String> = Vec::new();
    for raw in head.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        match lines.last_mut() {
            Some(prev) if line.starts_with([' ', '\t']) => {
                prev.push(' ');
                prev.push_str(line.trim());
            }
            _ => lines.push(line.to_owned()),
        }
    }
    let mut it = lines.into_iter();
    let first = it.next()?;
    let mut parts = first.split(' ').filter(|p| !p.is_empty());
    let (method, _uri, version) = (parts.next()?, parts.next()?, parts.next()?);
    if !scan::is_token_str(method)
        || method == "ACK"
        || method.len() > 64
        || !version
            .get(..4)
            .is_some_and(|v| v.eq_ignore_ascii_case("SIP/"))
    {
        return None;
    }
    let mut vias = Vec::new();
    let (mut from, mut to, mut call_id, mut cseq) = (None, None, None, None);
    for line in it {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        let value = value.trim().to_owned();
        if !scan::is_token_str(name) || !valid_value(&value) || value.is_empty() {
            continue;
        }
        match HeaderName::from_wire(name) {
            HeaderName::Via => vias.push(value),
            HeaderName::From => {
                from.get_or_insert(value);
            }
            HeaderName::To => {
                to.get_or_insert(value);
            }
            HeaderName::CallId => {
                call_id.get_or_insert(value);
            }
            HeaderName::CSeq => {
                cseq.get_or_insert(value);
            }
            _ => {}
        }
    }
    // Everything copied into the response must parse, or the answer would itself be
    // malformed; then the request is not answerable.
    if vias.is_empty()
        || !vias
            .iter()
            .all(|v| scan::split_list(v).all(|e| Via::parse(e).is_ok()))
    {
        return None;
    }
    let (from, to, call_id, cseq) = (from?, to?, call_id?, cseq?);
    CSeq::parse(&cseq).ok()?;
    NameAddrHeader::parse(&from).ok()?;
    NameAddrHeader::parse(&to).ok()?;
    CallId::parse(&call_id).ok()?;
    let mut m = Message::request(Method::from_token(method), Uri::parse("sip:invalid").ok()?);
    for v in &vias {
        m.headers.push(HeaderName::Via, v);
    }
    m.headers.push(HeaderName::From, from);
    m.headers.push(HeaderName::To, to);
    m.headers.push(HeaderName::CallId, call_id);
    m.headers.push(HeaderName::CSeq, cseq);
    Some(m)
}

/// The Route values of a REGISTER 2xx's Service-Route (RFC 3608 §6): every element,
/// in order, each a valid name-addr.
fn service_route(m: &Message) -> Vec<String> {
    crate::sip::dialog::name_addrs(m, &HeaderName::from_wire("Service-Route"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn salvage() {
        let bad = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bK1\r\nFrom: <sip:b@x>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContact: <sip:a@b\r\n\r\n";
        assert!(parse_frame(bad).is_err());
        let m = salvage_bad_request(bad).unwrap();
        assert_eq!(m.headers.get(&HeaderName::CallId), Some("c"));
        // Responses and ACKs are never answered; a missing CSeq makes it unanswerable.
        assert!(salvage_bad_request(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n").is_none());
        assert!(salvage_bad_request(
            b"ACK sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS h;branch=z9hG4bK1\r\nCSeq: 1 ACK\r\n"
        )
        .is_none());
        assert!(salvage_bad_request(b"INFO sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS h;branch=z9hG4bK1\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\n").is_none());
        assert!(salvage_bad_request(b"").is_none());
        assert!(salvage_bad_request(&[0xff; 40]).is_none());
    }

    #[test]
    fn redaction() {
        let m = Message::parse(b"REGISTER sip:b SIP/2.0\r\nAuthorization: Digest username=\"a\", response=\"deadbeef\"\r\nProxy-Authorization: Digest response=\"cafe\"\r\n\r\n").unwrap();
        let t = trace("send", &m);
        assert!(!t.contains("deadbeef") && !t.contains("cafe"), "{t}");
        assert!(t.contains("Authorization: Digest <redacted>"), "{t}");
    }
}

//! Test harness: drives a sans-IO core against a scripted peer on a virtual clock.
//!
//! - The clock only moves when the test says so: [`Harness::advance_to`] and
//!   [`Harness::run_until_idle`] jump straight to the core's `poll_timeout()`, so 32 s
//!   of protocol time takes microseconds and every run is identical.
//! - Everything the core transmits and every event is logged with the time it came
//!   out ([`Harness::sent`], [`Harness::events`]); `take_*` return what is new.
//! - The peer is the test: it writes messages as text ([`msg`], [`fill`]) and hands
//!   them to [`Harness::peer`], which passes them through a [`Link`] that can drop,
//!   duplicate or reorder them. A dropped socket is [`Harness::drop_socket`].
//!
//! Any core implementing [`Driven`] can be driven; the transaction layer is the first.
//! A bigger core (dialogs, registration) implements `Driven` the same way.

#![allow(dead_code)]

pub mod call;
pub mod ua;

use sipwasm::sip::message::{parse_frame, Frame, Incoming, Message};
use sipwasm::sip::time::Instant;
use sipwasm::sip::transaction::{Disposition, ResponseDisposition, TransactionLayer, TsxEvent};
use std::collections::VecDeque;
use std::fmt::Debug;
use std::time::Duration;

/// A sans-IO core as the harness sees it.
pub trait Driven {
    /// What the core reports to the layer above.
    type Event: Debug + Clone;
    /// What the core says about one delivered message.
    type Outcome: Debug + Clone;
    /// A message arrives from the network.
    fn deliver(&mut self, now: Instant, msg: Box<Incoming>) -> Self::Outcome;
    /// The transport failed.
    fn transport_error(&mut self, now: Instant);
    /// Timers due at `now` fire.
    fn handle_timeout(&mut self, now: Instant);
    /// The next deadline.
    fn poll_timeout(&self) -> Option<Instant>;
    /// The next message to send.
    fn poll_transmit(&mut self) -> Option<Message>;
    /// The next event.
    fn poll_event(&mut self) -> Option<Self::Event>;
    /// A one-line description of an event, for exact assertions on sequences.
    fn describe(event: &Self::Event) -> String;
}

/// What the transaction layer did with a delivered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsxOutcome {
    /// `handle_request` returned this.
    Request(Disposition),
    /// `handle_response` returned this.
    Response(ResponseDisposition),
}

impl Driven for TransactionLayer {
    type Event = TsxEvent;
    type Outcome = TsxOutcome;

    fn deliver(&mut self, now: Instant, msg: Box<Incoming>) -> TsxOutcome {
        if msg.msg.is_request() {
            TsxOutcome::Request(self.handle_request(now, msg))
        } else {
            TsxOutcome::Response(self.handle_response(now, msg))
        }
    }
    fn transport_error(&mut self, now: Instant) {
        self.handle_transport_error(now)
    }
    fn handle_timeout(&mut self, now: Instant) {
        TransactionLayer::handle_timeout(self, now)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        TransactionLayer::poll_timeout(self)
    }
    fn poll_transmit(&mut self) -> Option<Message> {
        TransactionLayer::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<TsxEvent> {
        TransactionLayer::poll_event(self)
    }
    fn describe(e: &TsxEvent) -> String {
        let line = |i: &Incoming| first_line(&i.msg);
        match e {
            TsxEvent::Request { key, request } => format!("Request {} @ {key}", line(request)),
            TsxEvent::Response { key, response } => {
                format!("Response {} @ {key}", line(response))
            }
            TsxEvent::Cancel { key, target, .. } => format!("Cancel {target} @ {key}"),
            TsxEvent::Ack { key: Some(k), .. } => format!("Ack @ {k}"),
            TsxEvent::Ack { key: None, .. } => "Ack".to_owned(),
            TsxEvent::Stray2xx { response } => format!("Stray2xx {}", line(response)),
            TsxEvent::CancelDropped { key, invite } => format!("CancelDropped {invite} @ {key}"),
            TsxEvent::Timeout { key, timer } => format!("Timeout {timer:?} @ {key}"),
            TsxEvent::TransportError { key } => format!("TransportError @ {key}"),
            TsxEvent::Terminated { key } => format!("Terminated @ {key}"),
            other => format!("{other:?}"),
        }
    }
}

/// What the link does to the next message the peer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The message is lost.
    Drop,
    /// The message arrives twice.
    Duplicate,
    /// The message is held back and arrives right after the next one (a swap).
    Reorder,
}

/// The peer-to-core direction of the link, with scripted faults.
#[derive(Debug, Default)]
pub struct Link {
    faults: VecDeque<Fault>,
    held: Option<Incoming>,
}

impl Link {
    /// Applies `fault` to the next message sent (faults queue up in order).
    pub fn inject(&mut self, fault: Fault) {
        self.faults.push_back(fault);
    }

    /// The messages that reach the core when the peer sends `m`: a held message
    /// (see [`Fault::Reorder`]) follows whatever the next send delivers.
    fn carry(&mut self, m: Incoming) -> Vec<Incoming> {
        let mut out = match self.faults.pop_front() {
            Some(Fault::Drop) => Vec::new(),
            Some(Fault::Duplicate) => vec![m.clone(), m],
            Some(Fault::Reorder) => return self.held.replace(m).into_iter().collect(),
            None => vec![m],
        };
        out.extend(self.held.take());
        out
    }
}

/// A core, its virtual clock and the logs of what it did.
pub struct Harness<C: Driven> {
    /// The core under test.
    pub core: C,
    /// The virtual time.
    pub now: Instant,
    /// The peer-to-core link.
    pub link: Link,
    /// Every transmitted message, with when.
    pub sent: Vec<(Instant, Message)>,
    /// Every event, with when.
    pub events: Vec<(Instant, C::Event)>,
    /// What the core said about each delivered message, in order.
    pub outcomes: Vec<C::Outcome>,
    seen_sent: usize,
    seen_events: usize,
}

impl<C: Driven> Harness<C> {
    /// Starts at `t = 0`.
    pub fn new(core: C) -> Self {
        Harness {
            core,
            now: Instant::ZERO,
            link: Link::default(),
            sent: Vec::new(),
            events: Vec::new(),
            outcomes: Vec::new(),
            seen_sent: 0,
            seen_events: 0,
        }
    }

    /// Drains transmits and events into the logs (the shell's job after any input).
    pub fn drain(&mut self) {
        while let Some(m) = self.core.poll_transmit() {
            self.sent.push((self.now, m));
        }
        while let Some(e) = self.core.poll_event() {
            self.events.push((self.now, e));
        }
    }

    /// Runs a command on the core at the current time, then drains.
    pub fn act<R>(&mut self, f: impl FnOnce(&mut C, Instant) -> R) -> R {
        let r = f(&mut self.core, self.now);
        self.drain();
        r
    }

    /// The peer sends `m` (text as in [`msg`]) over the link; what gets through is
    /// delivered now. Returns the outcomes of the deliveries.
    pub fn peer(&mut self, text: &str) -> Vec<C::Outcome> {
        self.peer_incoming(incoming(text))
    }

    /// As [`Harness::peer`], for a parsed message.
    pub fn peer_incoming(&mut self, m: Box<Incoming>) -> Vec<C::Outcome> {
        let mut outs = Vec::new();
        for m in self.link.carry(*m) {
            let o = self.core.deliver(self.now, Box::new(m));
            self.drain();
            self.outcomes.push(o.clone());
            outs.push(o);
        }
        outs
    }

    /// The socket drops.
    pub fn drop_socket(&mut self) {
        self.core.transport_error(self.now);
        self.drain();
    }

    /// Moves the clock to `t`, firing every timer due on the way at its own time.
    pub fn advance_to(&mut self, t: Instant) {
        for _ in 0..100_000 {
            match self.core.poll_timeout() {
                Some(d) if d <= t => {
                    self.now = self.now.max(d);
                    self.core.handle_timeout(self.now);
                    self.drain();
                }
                _ => break,
            }
        }
        self.now = self.now.max(t);
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&mut self, d: Duration) {
        self.advance_to(self.now + d);
    }

    /// Fires timers until none is armed; panics if that takes more than `limit` of
    /// protocol time (a leak). Returns the time it stopped at.
    pub fn run_until_idle(&mut self, limit: Duration) -> Instant {
        let end = self.now + limit;
        self.advance_to(end);
        assert_eq!(
            self.core.poll_timeout(),
            None,
            "timers still armed after {limit:?}"
        );
        self.now
    }

    /// Messages sent since the last call.
    pub fn take_sent(&mut self) -> Vec<Message> {
        let new = self.sent.get(self.seen_sent..).unwrap_or(&[]).to_vec();
        self.seen_sent = self.sent.len();
        new.into_iter().map(|(_, m)| m).collect()
    }

    /// First lines of the messages sent since the last `take_*_sent` call.
    pub fn take_sent_lines(&mut self) -> Vec<String> {
        self.take_sent().iter().map(first_line).collect()
    }

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<C::Event> {
        let new = self.events.get(self.seen_events..).unwrap_or(&[]).to_vec();
        self.seen_events = self.events.len();
        new.into_iter().map(|(_, e)| e).collect()
    }

    /// [`Driven::describe`] of the events since the last `take_*events` call.
    pub fn take_briefs(&mut self) -> Vec<String> {
        self.take_events().iter().map(C::describe).collect()
    }

    /// When the first event whose description starts with `prefix` happened.
    pub fn time_of(&self, prefix: &str) -> Option<Instant> {
        self.events
            .iter()
            .find(|(_, e)| C::describe(e).starts_with(prefix))
            .map(|(t, _)| *t)
    }
}

/// `ms` milliseconds after the origin.
pub fn ms(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// Replaces each `{name}` in `template` with its value.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(template.to_owned(), |s, (k, v)| {
        s.replace(&format!("{{{k}}}"), v)
    })
}

/// Message text as written in a test: lines separated by `\n`, leading indentation
/// removed, no need for the final empty line. Returns the wire form (CRLF).
pub fn wire(text: &str) -> String {
    let mut out = String::new();
    for line in text.trim().lines() {
        out.push_str(line.trim_start());
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out
}

/// Parses message text (see [`wire`]); panics on a malformed test message.
pub fn incoming(text: &str) -> Box<Incoming> {
    match parse_frame(wire(text).as_bytes()) {
        Ok(Frame::Message(m)) => m,
        other => panic!("bad test message {text:?}: {other:?}"),
    }
}

/// Parses message text into a `Message`.
pub fn msg(text: &str) -> Message {
    incoming(text).msg
}

/// The start line of a message, e.g. `INVITE sip:bob@b.example SIP/2.0` → `INVITE`,
/// `SIP/2.0 180 Ringing` → `180`.
pub fn first_line(m: &Message) -> String {
    match (m.method(), m.status()) {
        (Some(meth), _) => meth.to_string(),
        (None, Some(code)) => code.to_string(),
        _ => String::new(),
    }
}

/// Every value of header `name` (case-insensitive, compact forms included) in `m`.
pub fn header_values(m: &Message, name: &str) -> Vec<String> {
    let n = sipwasm::sip::message::HeaderName::from_wire(name);
    m.headers.get_all(&n).map(str::to_owned).collect()
}

/// The single value of header `name`; panics unless there is exactly one line.
pub fn header(m: &Message, name: &str) -> String {
    let v = header_values(m, name);
    assert_eq!(v.len(), 1, "{name} lines in\n{m}");
    v.into_iter().next().unwrap_or_default()
}

// ---------------------------------------------------------------------------------
// SIP message templates. `{name}` placeholders are filled with [`fill`].

/// An INVITE from us (a1.invalid) to bob through two proxies. `{branch}`.
pub const UAC_INVITE: &str = r#"
    INVITE sip:bob@b.example SIP/2.0
    Via: SIP/2.0/WSS a1.invalid;branch={branch}
    Max-Forwards: 70
    Route: <sip:edge.b.example;transport=ws;lr>
    Route: <sip:core.b.example;lr>
    From: "Alice" <sip:alice@a.example>;tag=atag
    To: <sip:bob@b.example>
    Call-ID: call1@a.example
    CSeq: 101 INVITE
    Contact: <sip:alice@a1.invalid;transport=ws>
    Content-Length: 0
"#;

/// A non-INVITE request from us: `{method}`, `{branch}`.
pub const UAC_REQUEST: &str = r#"
    {method} sip:b.example SIP/2.0
    Via: SIP/2.0/WSS a1.invalid;branch={branch}
    Max-Forwards: 70
    From: <sip:alice@a.example>;tag=atag
    To: <sip:alice@a.example>
    Call-ID: req1@a.example
    CSeq: 5 {method}
    Content-Length: 0
"#;

/// A response the peer sends to one of our requests: `{code}`, `{branch}`, `{cseq}`
/// (e.g. `101 INVITE`), `{to}` (the whole To value).
pub const PEER_RESPONSE: &str = r#"
    SIP/2.0 {code} Whatever
    Via: SIP/2.0/WSS a1.invalid;branch={branch};received=192.0.2.1
    From: "Alice" <sip:alice@a.example>;tag=atag
    To: {to}
    Call-ID: call1@a.example
    CSeq: {cseq}
    Content-Length: 0
"#;

/// A response to [`UAC_INVITE`] with To tag `to_tag` (empty: no tag).
pub fn invite_response(code: u16, branch: &str, to_tag: &str) -> String {
    let to = if to_tag.is_empty() {
        "<sip:bob@b.example>".to_owned()
    } else {
        format!("<sip:bob@b.example>;tag={to_tag}")
    };
    fill(
        PEER_RESPONSE,
        &[
            ("code", &code.to_string()),
            ("branch", branch),
            ("cseq", "101 INVITE"),
            ("to", &to),
        ],
    )
}

/// A response to a CANCEL of [`UAC_INVITE`].
pub fn cancel_response(code: u16, branch: &str) -> String {
    fill(
        PEER_RESPONSE,
        &[
            ("code", &code.to_string()),
            ("branch", branch),
            ("cseq", "101 CANCEL"),
            ("to", "<sip:bob@b.example>;tag=btag"),
        ],
    )
}

/// A response to [`UAC_REQUEST`] with method `method`.
pub fn request_response(code: u16, branch: &str, method: &str) -> String {
    fill(
        PEER_RESPONSE,
        &[
            ("code", &code.to_string()),
            ("branch", branch),
            ("cseq", &format!("5 {method}")),
            ("to", "<sip:alice@a.example>;tag=srv"),
        ],
    )
}

/// A request the peer sends us through its edge proxy: `{method}`, `{branch}`,
/// `{sentby}`, `{cseq}` (number and method), `{totag}` (`;tag=x` or empty).
pub const PEER_REQUEST: &str = r#"
    {method} sip:alice@a1.invalid;transport=ws SIP/2.0
    Via: SIP/2.0/WSS {sentby};branch={branch}
    Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKdeep
    Max-Forwards: 69
    From: <sip:bob@b.example>;tag=btag
    To: <sip:alice@a.example>{totag}
    Call-ID: call2@b.example
    CSeq: {cseq}
    Content-Length: 0
"#;

/// [`PEER_REQUEST`] from `edge.b.example` with CSeq number 7.
pub fn peer_request(method: &str, branch: &str, totag: &str) -> String {
    let cseq_method = method;
    fill(
        PEER_REQUEST,
        &[
            ("method", method),
            ("branch", branch),
            ("sentby", "edge.b.example"),
            ("cseq", &format!("7 {cseq_method}")),
            ("totag", totag),
        ],
    )
}

/// A harness around a transaction layer with default timers.
pub fn layer() -> Harness<TransactionLayer> {
    Harness::new(TransactionLayer::default())
}

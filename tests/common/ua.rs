//! Driving a [`Ua`] with the virtual-clock [`Harness`], and a scripted registrar.
//!
//! [`UaDriver`] adapts the UA's `Input`/`Output` interface to [`Driven`]: every output
//! is logged in order as an event (so sequences like "un-REGISTER, then Close" can be
//! asserted), and every SIP message sent is also a transmit (so headers can be
//! checked). The peer side is the test itself: it reads what the UA sent and answers
//! with [`response_to`] / [`ok_register`].

use super::{first_line, header, Driven, Harness};
use sipwasm::sip::config::UaConfig;
use sipwasm::sip::message::{parse_frame, Frame, Incoming, Message};
use sipwasm::sip::time::Instant;
use sipwasm::sip::ua::{Input, Output, Ua, UaEvent};
use std::collections::{HashMap, VecDeque};

/// A UA plus the queues the harness drains.
pub struct UaDriver {
    /// The core under test.
    pub ua: Ua,
    sends: VecDeque<Message>,
    outs: VecDeque<Output>,
}

impl UaDriver {
    /// Wraps a UA.
    pub fn new(ua: Ua) -> Self {
        UaDriver {
            ua,
            sends: VecDeque::new(),
            outs: VecDeque::new(),
        }
    }

    /// Drains the UA's outputs into the queues (the shell's drain loop).
    pub fn collect(&mut self) {
        while let Some(o) = self.ua.poll_output() {
            if let Output::Send(text) = &o {
                if let Ok(Frame::Message(m)) = parse_frame(text.as_bytes()) {
                    self.sends.push_back(m.msg);
                }
            }
            self.outs.push_back(o);
        }
    }

    /// Feeds an input and drains.
    pub fn input(&mut self, now: Instant, input: Input<'_>) {
        self.ua.handle_input(now, input);
        self.collect();
    }

    /// Runs a command on the UA and drains.
    pub fn cmd<R>(&mut self, f: impl FnOnce(&mut Ua) -> R) -> R {
        let r = f(&mut self.ua);
        self.collect();
        r
    }
}

impl Driven for UaDriver {
    type Event = Output;
    type Outcome = ();

    fn deliver(&mut self, now: Instant, msg: Box<Incoming>) {
        let bytes = msg.msg.to_bytes();
        self.input(now, Input::Received(&bytes));
    }
    fn transport_error(&mut self, now: Instant) {
        self.input(
            now,
            Input::Closed {
                code: 1006,
                reason: String::new(),
            },
        );
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.input(now, Input::Timeout);
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.ua.poll_timeout()
    }
    fn poll_transmit(&mut self) -> Option<Message> {
        self.sends.pop_front()
    }
    fn poll_event(&mut self) -> Option<Output> {
        self.outs.pop_front()
    }
    fn describe(o: &Output) -> String {
        match o {
            Output::Connect { url } => format!("Connect {url}"),
            Output::Send(t) if t == "\r\n\r\n" => "Send ping".into(),
            Output::Send(t) if t == "\r\n" => "Send pong".into(),
            Output::Send(t) => match parse_frame(t.as_bytes()) {
                Ok(Frame::Message(m)) => format!("Send {}", first_line(&m.msg)),
                _ => format!("Send {t}"),
            },
            Output::Close => "Close".into(),
            Output::Event(UaEvent::Log { level, message }) => {
                format!("Log {level:?} {}", message.lines().next().unwrap_or(""))
            }
            Output::Event(UaEvent::Call(e)) => super::call::describe_call(e),
            Output::Event(e) => format!("{e:?}"),
            Output::Media { request, .. } => super::call::describe_media(request),
        }
    }
}

/// The harness type of these tests.
pub type H = Harness<UaDriver>;

/// Servers of the default configuration.
pub const EDGE1: &str = "wss://edge1.example.com/ws";
/// The failover server.
pub const EDGE2: &str = "wss://edge2.example.com/ws";

/// Alice at example.com with a password, two servers, keep-alive off.
pub fn config() -> UaConfig {
    UaConfig {
        servers: vec![EDGE1.into(), EDGE2.into()],
        uri: "sip:alice@example.com".into(),
        password: Some("secret".into()),
        display_name: Some("Alice".into()),
        keepalive_interval_secs: 0,
        ..UaConfig::default()
    }
}

/// A harness around a UA for `cfg`, seeded with `seed`.
pub fn ua_with(cfg: UaConfig, seed: u8) -> H {
    let valid = cfg.validate().unwrap_or_else(|e| panic!("config: {e}"));
    Harness::new(UaDriver::new(Ua::new(valid, [seed; 32], Instant::ZERO)))
}

/// A harness around a UA for [`config`].
pub fn ua() -> H {
    ua_with(config(), 1)
}

/// Extra steps for UA harnesses.
pub trait UaHarnessExt {
    /// `start`, then the socket opens at once.
    fn start_and_connect(&mut self);
    /// `Input::Connected`.
    fn connected(&mut self);
    /// `Input::Closed` with `code`.
    fn closed(&mut self, code: u16);
    /// `Input::Received(bytes)`.
    fn raw(&mut self, bytes: &[u8]);
    /// Descriptions of the outputs since the last call, without log lines.
    fn outs(&mut self) -> Vec<String>;
    /// The single message sent since the last `take_sent*` call; panics otherwise.
    fn one_sent(&mut self) -> Message;
    /// Starts, connects, answers the REGISTER 200 (`expires`), drains. Returns the
    /// REGISTER.
    fn register_ok(&mut self, expires: u32) -> Message;
    /// Every log line at `level` or above so far.
    fn logs(&self, level: sipwasm::sip::ua::LogLevel) -> Vec<String>;
}

impl UaHarnessExt for H {
    fn start_and_connect(&mut self) {
        self.act(|d, now| d.cmd(|ua| ua.start(now)));
        self.connected();
    }
    fn connected(&mut self) {
        self.act(|d, now| d.input(now, Input::Connected));
    }
    fn closed(&mut self, code: u16) {
        self.act(|d, now| {
            d.input(
                now,
                Input::Closed {
                    code,
                    reason: "gone".into(),
                },
            )
        });
    }
    fn raw(&mut self, bytes: &[u8]) {
        self.act(|d, now| d.input(now, Input::Received(bytes)));
    }
    fn outs(&mut self) -> Vec<String> {
        self.take_briefs()
            .into_iter()
            .filter(|b| !b.starts_with("Log "))
            .collect()
    }
    fn one_sent(&mut self) -> Message {
        let mut s = self.take_sent();
        assert_eq!(s.len(), 1, "expected one message, got {s:#?}");
        s.remove(0)
    }
    fn register_ok(&mut self, expires: u32) -> Message {
        self.start_and_connect();
        let reg = self.one_sent();
        self.peer(&ok_register(&reg, expires));
        reg
    }
    fn logs(&self, level: sipwasm::sip::ua::LogLevel) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|(_, o)| match o {
                Output::Event(UaEvent::Log { level: l, message }) if *l >= level => {
                    Some(message.clone())
                }
                _ => None,
            })
            .collect()
    }
}

/// A response to `req` as a registrar writes it: the Vias, From, To (with a tag),
/// Call-ID and CSeq copied (RFC 3261 §8.2.6.2), then `extra` header lines.
pub fn response_to(req: &Message, code: u16, reason: &str, extra: &[String]) -> String {
    let mut s = format!("SIP/2.0 {code} {reason}\n");
    for v in super::header_values(req, "Via") {
        s.push_str(&format!("Via: {v}\n"));
    }
    s.push_str(&format!("From: {}\n", header(req, "From")));
    let to = header(req, "To");
    if to.contains(";tag=") {
        s.push_str(&format!("To: {to}\n"));
    } else {
        s.push_str(&format!("To: {to};tag=registrar1\n"));
    }
    s.push_str(&format!("Call-ID: {}\n", header(req, "Call-ID")));
    s.push_str(&format!("CSeq: {}\n", header(req, "CSeq")));
    for e in extra {
        s.push_str(e);
        s.push('\n');
    }
    s.push_str("Content-Length: 0\n");
    s
}

/// The REGISTER's Contact value with its `expires` parameter set to `expires`.
pub fn contact_with_expires(req: &Message, expires: u32) -> String {
    let c = header(req, "Contact");
    let base = match c.find(";expires=") {
        Some(i) => {
            let rest = &c[i + 9..];
            let end = rest.find(';').map_or(c.len(), |j| i + 9 + j);
            format!("{}{}", &c[..i], &c[end..])
        }
        None => c,
    };
    format!("{base};expires={expires}")
}

/// A 200 OK to a REGISTER granting `expires` seconds in the Contact (RFC 3261 §10.3).
pub fn ok_register(req: &Message, expires: u32) -> String {
    response_to(
        req,
        200,
        "OK",
        &[format!("Contact: {}", contact_with_expires(req, expires))],
    )
}

/// The parameters of a Digest Authorization value, unquoted.
pub fn digest_params(value: &str) -> HashMap<String, String> {
    let body = value.trim_start_matches("Digest").trim();
    let mut out = HashMap::new();
    let mut rest = body;
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let name = rest[..eq].trim().trim_start_matches(',').trim().to_owned();
        let after = &rest[eq + 1..];
        let (val, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (q[..end].to_owned(), &q[(end + 1).min(q.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        out.insert(name, val);
        rest = next.trim_start_matches([',', ' ']);
    }
    out
}

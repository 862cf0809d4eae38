//! SIP messages: parsing, printing and typed header access (RFC 3261 §7, §20, §25).
//!
//! One WebSocket message carries exactly one SIP message (RFC 7118 §5.3), so
//! [`parse_frame`] takes a whole frame. Parsing validates the start line and the
//! headers every layer relies on (Via, From, To, Call-ID, CSeq, Max-Forwards,
//! Contact, Content-Length, Expires) and extracts them into [`Base`]; every other
//! header is kept raw, in order, and parsed on demand with [`Headers::typed`].
//! Printing ([`Message::to_bytes`]) is the inverse: `parse(print(m)) == m` (printing
//! may lengthen a message, e.g. compact names print long, so the frame size limit of
//! [`parse_frame`] is not part of [`Message::parse`]).

/// Text output without `core::fmt`, whose machinery (`fmt::write`, `Formatter::pad`,
/// `Arguments`) is large in wasm: printable values append themselves to a `String`.
///
/// The impls the SDK calls (not those of URIs, which [`Message::write_head`] prints)
/// are `#[inline]`, so that they are compiled in the caller's crate, at its
/// opt-level ("z"), rather than this crate's 3.
pub trait Print {
    /// Appends the text to `out`.
    fn print(&self, out: &mut String);

    /// The text as a new string (`to_string` without `Display`).
    fn to_text(&self) -> String
    where
        Self: Sized,
    {
        printed(self)
    }
}

/// [`Print::to_text`], one copy for all types.
#[inline(never)]
fn printed(p: &dyn Print) -> String {
    let mut s = String::new();
    p.print(&mut s);
    s
}

impl Print for str {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Print for String {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Print for char {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push(*self);
    }
}

impl<T: Print + ?Sized> Print for &T {
    #[inline]
    fn print(&self, out: &mut String) {
        (**self).print(out);
    }
}

impl<T: Print + ?Sized> Print for Box<T> {
    #[inline]
    fn print(&self, out: &mut String) {
        (**self).print(out);
    }
}

macro_rules! print_decimal {
    ($($t:ty),*) => {$(
        /// In decimal.
        impl Print for $t {
            #[inline]
            fn print(&self, out: &mut String) {
                scan::push_decimal(out, *self as u64);
            }
        }
    )*};
}

print_decimal!(u8, u16, u32, u64, usize);

/// `impl Display` by [`Print`] for the listed types, for tests and `format!` users
/// (`#[inline]` like the impls of [`Print`]); unused in a release build, it is
/// dropped at link time.
#[macro_export]
macro_rules! display_by_print {
    ($($t:ty),* $(,)?) => {$(
        impl ::std::fmt::Display for $t {
            #[inline]
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&$crate::Print::to_text(self))
            }
        }
    )*};
}

mod headers;
mod name_addr;
mod params;
mod parse;
pub mod scan;
mod typed;
mod uri;
mod via;

pub use headers::{valid_value, Header, HeaderName, Headers};
pub use name_addr::{Contact, NameAddr, NameAddrHeader};
pub use params::{ParamIter, Params, ParamsRef};
pub use parse::{parse_frame, Base, Frame, Incoming, MAX_MESSAGE_SIZE};
pub use typed::{CSeq, CallId, DeltaParams, MediaType, Replaces, Token, TokenParams};
pub use uri::{SipUri, TelUri, Uri};
pub use via::{Via, BRANCH_MAGIC};

use std::fmt;

/// Why bytes are not a valid SIP message, and the status a request gets for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong, in a few words.
    pub reason: &'static str,
    /// The status to answer a request with: 400, 505 (RFC 3261 §8.2.2... §21.5.20),
    /// or 513 for an oversized message (§21.5.14).
    pub status: u16,
    /// The header where the problem is, if it is in one.
    pub header: Option<HeaderName>,
}

impl ParseError {
    /// A 400 Bad Request error.
    pub(crate) const fn bad(reason: &'static str) -> Self {
        ParseError {
            reason,
            status: 400,
            header: None,
        }
    }

    pub(crate) fn in_header(mut self, name: HeaderName) -> Self {
        self.header = Some(name);
        self
    }
}

/// `reason [in Header] (status N)`.
impl Print for ParseError {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(self.reason);
        if let Some(h) = &self.header {
            out.push_str(" in ");
            out.push_str(h.as_str());
        }
        out.push_str(" (status ");
        scan::push_decimal(out, u64::from(self.status));
        out.push(')');
    }
}

impl std::error::Error for ParseError {}

/// A header that is present but malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderError {
    /// Which header.
    pub name: HeaderName,
    /// What is wrong with it.
    pub error: ParseError,
}

/// `Header: reason`.
impl Print for HeaderError {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(self.name.as_str());
        out.push_str(": ");
        out.push_str(self.error.reason);
    }
}

display_by_print!(ParseError, HeaderError, Message);

impl std::error::Error for HeaderError {}

/// A header value type: parses one value (one element of a comma-separated list).
pub trait TypedHeader: Sized {
    /// Parses a value with folding already undone.
    fn parse(value: &str) -> Result<Self, ParseError>;
}

/// A request method (RFC 3261 §7.1, case-sensitive). Extension methods keep their text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// INVITE (RFC 3261)
    Invite,
    /// ACK (RFC 3261)
    Ack,
    /// BYE (RFC 3261)
    Bye,
    /// CANCEL (RFC 3261)
    Cancel,
    /// REGISTER (RFC 3261)
    Register,
    /// OPTIONS (RFC 3261)
    Options,
    /// INFO (RFC 6086)
    Info,
    /// UPDATE (RFC 3311)
    Update,
    /// REFER (RFC 3515)
    Refer,
    /// NOTIFY (RFC 6665)
    Notify,
    /// SUBSCRIBE (RFC 6665)
    Subscribe,
    /// MESSAGE (RFC 3428)
    Message,
    /// PRACK (RFC 3262)
    Prack,
    /// PUBLISH (RFC 3903)
    Publish,
    /// Any other token.
    Other(Box<str>),
}

impl Method {
    /// The method for a token (already checked to be a token).
    pub fn from_token(t: &str) -> Method {
        match t {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "REFER" => Method::Refer,
            "NOTIFY" => Method::Notify,
            "SUBSCRIBE" => Method::Subscribe,
            "MESSAGE" => Method::Message,
            "PRACK" => Method::Prack,
            "PUBLISH" => Method::Publish,
            other => Method::Other(other.into()),
        }
    }

    /// The method name.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Message => "MESSAGE",
            Method::Prack => "PRACK",
            Method::Publish => "PUBLISH",
            Method::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Print for Method {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(self.as_str());
    }
}

/// `Method SP Request-URI SP SIP/2.0` (RFC 3261 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    /// The method.
    pub method: Method,
    /// The Request-URI.
    pub uri: Uri,
}

/// `SIP/2.0 SP Status-Code SP Reason-Phrase` (RFC 3261 §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    /// 100–699.
    pub code: u16,
    /// The reason phrase (UTF-8, may be empty).
    pub reason: String,
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// A request.
    Request(RequestLine),
    /// A response.
    Response(StatusLine),
}

/// A SIP message: start line, headers in order, body bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Request or status line.
    pub start: StartLine,
    /// The headers, in order.
    pub headers: Headers,
    /// The body (bounded by Content-Length when present).
    pub body: Vec<u8>,
}

impl Message {
    /// A request with no headers and no body.
    pub fn request(method: Method, uri: Uri) -> Self {
        Message {
            start: StartLine::Request(RequestLine { method, uri }),
            headers: Headers::with_capacity(12),
            body: Vec::new(),
        }
    }

    /// A response with no headers and no body.
    pub fn response(code: u16, reason: &str) -> Self {
        Message {
            start: StartLine::Response(StatusLine {
                code,
                reason: reason.to_owned(),
            }),
            headers: Headers::with_capacity(12),
            body: Vec::new(),
        }
    }

    /// Parses one whole message (see [`Incoming::parse`]).
    pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
        Incoming::parse_boxed(bytes).map(|m| m.msg)
    }

    /// The method of a request.
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request(r) => Some(&r.method),
            StartLine::Response(_) => None,
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Request(_) => None,
            StartLine::Response(s) => Some(s.code),
        }
    }

    /// True for a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request(_))
    }

    /// Replaces the body and sets Content-Type (when given) and Content-Length.
    pub fn set_body(&mut self, content_type: Option<&str>, body: Vec<u8>) {
        match content_type {
            Some(ct) => self.headers.set(HeaderName::ContentType, ct),
            None => {
                self.headers.remove(&HeaderName::ContentType);
            }
        }
        let mut len = String::with_capacity(8);
        scan::push_decimal(&mut len, body.len() as u64);
        self.headers.set(HeaderName::ContentLength, len);
        self.body = body;
    }

    /// Writes the start line and headers, up to and including the empty line.
    pub fn write_head(&self, out: &mut String) {
        match &self.start {
            StartLine::Request(r) => {
                scan::push_all(out, &[r.method.as_str(), " "]);
                r.uri.print(out);
                out.push_str(" SIP/2.0\r\n");
            }
            StartLine::Response(s) => {
                out.push_str("SIP/2.0 ");
                scan::push_decimal(out, u64::from(s.code));
                scan::push_all(out, &[" ", &s.reason, "\r\n"]);
            }
        }
        for h in self.headers.iter() {
            out.push_str(h.name.as_str());
            out.push_str(": ");
            out.push_str(h.value);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
    }

    /// The message as bytes on the wire (CRLF line ends).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = String::with_capacity(512 + self.headers.len() * 48);
        self.write_head(&mut head);
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// The message as text; a body that is not UTF-8 is shown lossily.
impl Print for Message {
    fn print(&self, out: &mut String) {
        self.write_head(out);
        out.push_str(&scan::lossy(&self.body));
    }
}

//! Header names and the order-preserving header multimap (RFC 3261 §7.3).

use super::scan;
use super::{HeaderError, Print, TypedHeader};
use std::fmt;

macro_rules! header_names {
    ($( $(#[$doc:meta])* $var:ident = $name:literal, $lower:literal $(, $compact:literal)? ; )*) => {
        /// The known long names, lower-case, in declaration order.
        const KNOWN_LOWER: &[&[u8]] = &[$( $lower as &[u8], )*];

        /// A header field name. Known names compare by variant; compact forms
        /// (RFC 3261 §7.3.3) map to their long names; unknown names keep their spelling.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum HeaderName {
            $( $(#[$doc])* $var, )*
            /// Any other header, spelled as received.
            Other(Box<str>),
        }

        impl HeaderName {
            /// The canonical long name.
            pub fn as_str(&self) -> &str {
                match self {
                    $( HeaderName::$var => $name, )*
                    HeaderName::Other(s) => s,
                }
            }

            /// The known name for `s` (case-insensitive), if any: one hash
            /// probe on (length, first and last letter), then one comparison.
            #[inline]
            fn known(s: &[u8]) -> Option<HeaderName> {
                static KNOWN: &[HeaderName] = &[$( HeaderName::$var, )*];
                let i = usize::from(*SLOTS.get(name_hash(s)?)?).checked_sub(1)?;
                KNOWN_LOWER
                    .get(i)
                    .filter(|n| eq_name(s, n))
                    .and(KNOWN.get(i))
                    .cloned()
            }

            /// The long name of a one-letter compact form.
            fn compact(c: u8) -> Option<HeaderName> {
                match c.to_ascii_lowercase() {
                    $( $( x if x == $compact => Some(HeaderName::$var), )? )*
                    _ => None,
                }
            }
        }
    };
}

header_names! {
    /// Via (§20.42).
    Via = "Via", b"via", b'v';
    /// From (§20.20).
    From = "From", b"from", b'f';
    /// To (§20.39).
    To = "To", b"to", b't';
    /// Call-ID (§20.8).
    CallId = "Call-ID", b"call-id", b'i';
    /// CSeq (§20.16).
    CSeq = "CSeq", b"cseq";
    /// Max-Forwards (§20.22).
    MaxForwards = "Max-Forwards", b"max-forwards";
    /// Contact (§20.10).
    Contact = "Contact", b"contact", b'm';
    /// Route (§20.34).
    Route = "Route", b"route";
    /// Record-Route (§20.30).
    RecordRoute = "Record-Route", b"record-route";
    /// Content-Type (§20.15).
    ContentType = "Content-Type", b"content-type", b'c';
    /// Content-Length (§20.14).
    ContentLength = "Content-Length", b"content-length", b'l';
    /// Content-Encoding (§20.12).
    ContentEncoding = "Content-Encoding", b"content-encoding", b'e';
    /// Content-Disposition (§20.11).
    ContentDisposition = "Content-Disposition", b"content-disposition";
    /// WWW-Authenticate (§20.44).
    WwwAuthenticate = "WWW-Authenticate", b"www-authenticate";
    /// Proxy-Authenticate (§20.27).
    ProxyAuthenticate = "Proxy-Authenticate", b"proxy-authenticate";
    /// Authorization (§20.7).
    Authorization = "Authorization", b"authorization";
    /// Proxy-Authorization (§20.28).
    ProxyAuthorization = "Proxy-Authorization", b"proxy-authorization";
    /// Authentication-Info (§20.6).
    AuthenticationInfo = "Authentication-Info", b"authentication-info";
    /// Allow (§20.5).
    Allow = "Allow", b"allow";
    /// Supported (§20.37).
    Supported = "Supported", b"supported", b'k';
    /// Require (§20.32).
    Require = "Require", b"require";
    /// Proxy-Require (§20.29).
    ProxyRequire = "Proxy-Require", b"proxy-require";
    /// Unsupported (§20.40).
    Unsupported = "Unsupported", b"unsupported";
    /// Expires (§20.19).
    Expires = "Expires", b"expires";
    /// Min-Expires (§20.23).
    MinExpires = "Min-Expires", b"min-expires";
    /// Refer-To (RFC 3515 §2.1).
    ReferTo = "Refer-To", b"refer-to", b'r';
    /// Referred-By (RFC 3892 §3).
    ReferredBy = "Referred-By", b"referred-by", b'b';
    /// Replaces (RFC 3891 §6.1).
    Replaces = "Replaces", b"replaces";
    /// Event (RFC 6665 §8.2.1).
    Event = "Event", b"event", b'o';
    /// Allow-Events (RFC 6665 §8.2.2).
    AllowEvents = "Allow-Events", b"allow-events", b'u';
    /// Subscription-State (RFC 6665 §8.2.3).
    SubscriptionState = "Subscription-State", b"subscription-state";
    /// Session-Expires (RFC 4028 §4).
    SessionExpires = "Session-Expires", b"session-expires", b'x';
    /// Min-SE (RFC 4028 §5).
    MinSe = "Min-SE", b"min-se";
    /// Reason (RFC 3326).
    Reason = "Reason", b"reason";
    /// Accept (§20.1).
    Accept = "Accept", b"accept";
    /// Accept-Encoding (§20.2).
    AcceptEncoding = "Accept-Encoding", b"accept-encoding";
    /// Accept-Language (§20.3).
    AcceptLanguage = "Accept-Language", b"accept-language";
    /// User-Agent (§20.41).
    UserAgent = "User-Agent", b"user-agent";
    /// Server (§20.35).
    Server = "Server", b"server";
    /// Subject (§20.36).
    Subject = "Subject", b"subject", b's';
    /// Date (§20.17).
    Date = "Date", b"date";
    /// Retry-After (§20.33).
    RetryAfter = "Retry-After", b"retry-after";
    /// Timestamp (§20.38).
    Timestamp = "Timestamp", b"timestamp";
    /// Warning (§20.43).
    Warning = "Warning", b"warning";
    /// Path (RFC 3327).
    Path = "Path", b"path";
    /// RSeq (RFC 3262).
    RSeq = "RSeq", b"rseq";
    /// RAck (RFC 3262).
    RAck = "RAck", b"rack";
    /// Identity (RFC 8224).
    Identity = "Identity", b"identity", b'y';
    /// Accept-Contact (RFC 3841).
    AcceptContact = "Accept-Contact", b"accept-contact", b'a';
    /// Reject-Contact (RFC 3841).
    RejectContact = "Reject-Contact", b"reject-contact", b'j';
    /// Request-Disposition (RFC 3841).
    RequestDisposition = "Request-Disposition", b"request-disposition", b'd';
}

/// Multiplier of [`name_hash`], chosen so that the known names do not collide
/// ([`SLOTS`] fails to compile otherwise).
const HASH_MUL: u32 = 0x2603_a911;

/// A 7-bit hash of a name's length and its first and last letters (lower-cased).
const fn name_hash(s: &[u8]) -> Option<usize> {
    let (Some(&f), Some(&l)) = (s.first(), s.last()) else {
        return None;
    };
    let key = (s.len() as u32) << 16 | ((f | 0x20) as u32) << 8 | (l | 0x20) as u32;
    Some((key.wrapping_mul(HASH_MUL) >> 25) as usize)
}

/// Hash slot -> 1 + index in `KNOWN_LOWER` (0: no known name).
static SLOTS: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < KNOWN_LOWER.len() {
        let Some(h) = name_hash(KNOWN_LOWER[i]) else {
            panic!("empty header name") // invariant: evaluated at compile time
        };
        assert!(t[h] == 0, "header name hash collision: change HASH_MUL");
        t[h] = (i + 1) as u8;
        i += 1;
    }
    t
};

/// True when `s` equals the lower-case name `n` (letters and '-') with its letters
/// in any case; compared a word at a time (overlapping words at the end). The case
/// bit is ignored only where `n` has a letter, so any other byte must match exactly.
fn eq_name(s: &[u8], n: &[u8]) -> bool {
    fn word<const W: usize>(b: &[u8], i: usize) -> [u8; W] {
        b.get(i..i + W)
            .and_then(|w| <[u8; W]>::try_from(w).ok())
            .unwrap_or([0; W])
    }
    // 0x20 in each byte where `n` has a letter (>= 0x61; no carry between bytes).
    let eq = |i| {
        let (w, k) = (
            u64::from_le_bytes(word(s, i)),
            u64::from_le_bytes(word(n, i)),
        );
        w | (k.wrapping_add(0x1f1f_1f1f_1f1f_1f1f) & 0x8080_8080_8080_8080) >> 2 == k
    };
    let len = s.len();
    if len != n.len() {
        return false;
    }
    if len >= 8 {
        let mut i = 0;
        while i + 8 < len {
            if !eq(i) {
                return false;
            }
            i += 8;
        }
        eq(len - 8)
    } else {
        s.iter()
            .zip(n)
            .all(|(&c, &k)| c == k || (k.is_ascii_lowercase() && c | 0x20 == k))
    }
}

impl HeaderName {
    /// The name for a received field name: a compact form, a known long name in any
    /// case, or an unknown name kept as spelled. The caller has checked it is a token.
    pub fn from_wire(s: &str) -> HeaderName {
        if scan::is_token_str(s) {
            HeaderName::from_bytes(s.as_bytes())
        } else {
            HeaderName::Other(s.into())
        }
    }

    /// The known name (long or compact form) that the token `s` spells, if any; any
    /// other bytes give `None`.
    #[inline]
    pub(crate) fn known_bytes(s: &[u8]) -> Option<HeaderName> {
        match s {
            [c] => HeaderName::compact(*c),
            _ => HeaderName::known(s),
        }
    }

    /// [`HeaderName::from_wire`] for the bytes of a token (ASCII).
    #[inline]
    pub(crate) fn from_bytes(s: &[u8]) -> HeaderName {
        if let [c] = s {
            if let Some(h) = HeaderName::compact(*c) {
                return h;
            }
        }
        HeaderName::known(s).unwrap_or_else(|| HeaderName::Other(crate::scan::lossy(s).into()))
    }

    /// Case-insensitive comparison (unknown names included).
    pub fn matches(&self, other: &HeaderName) -> bool {
        match (self, other) {
            (HeaderName::Other(a), HeaderName::Other(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Print for HeaderName {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(self.as_str());
    }
}

/// One header line: its name and its value with folding undone (RFC 3261 §7.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The field name.
    pub name: &'a HeaderName,
    /// The field value, trimmed, each fold replaced by one space.
    pub value: &'a str,
}

#[derive(Debug, Clone)]
struct Entry {
    name: HeaderName,
    start: u32,
    end: u32,
}

/// The headers of a message in their received order. Several lines of the same
/// name, and comma-separated values on one line, are both kept as they came.
///
/// Values live in one text buffer (for a parsed message, a copy of its head) and
/// entries point into it, so parsing costs two allocations however many headers
/// there are.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    buf: String,
    entries: Vec<Entry>,
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl Eq for Headers {}

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers::default()
    }

    /// With room for `n` headers.
    pub fn with_capacity(n: usize) -> Self {
        Headers {
            buf: String::with_capacity(n * 40),
            entries: Vec::with_capacity(n),
        }
    }

    /// For the parser: values will be spans of `buf`, added with [`Headers::push_span`].
    pub(crate) fn from_buffer(buf: String, n: usize) -> Self {
        Headers {
            buf,
            entries: Vec::with_capacity(n),
        }
    }

    /// For the parser: appends a header whose value is `buf[start..end]`.
    pub(crate) fn push_span(&mut self, name: HeaderName, start: usize, end: usize) {
        self.entries.push(Entry {
            name,
            start: start as u32,
            end: end as u32,
        });
    }

    /// For the parser: the text the spans of [`Headers::push_span`] point into.
    pub(crate) fn set_buffer(&mut self, buf: String) {
        self.buf = buf;
    }

    fn value_of(&self, e: &Entry) -> &str {
        self.buf.get(e.start as usize..e.end as usize).unwrap_or("")
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no header.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All header lines in order.
    pub fn iter(&self) -> impl Iterator<Item = Header<'_>> {
        self.entries.iter().map(|e| Header {
            name: &e.name,
            value: self.value_of(e),
        })
    }

    fn entry(&mut self, name: HeaderName, value: &str) -> Entry {
        // Keep the buffer from growing without bound when values are replaced often.
        if self.buf.len() > 4 * 65_536 {
            self.compact();
        }
        let start = self.buf.len();
        self.buf.push_str(value);
        Entry {
            name,
            start: start as u32,
            end: self.buf.len() as u32,
        }
    }

    fn compact(&mut self) {
        let mut buf = String::with_capacity(self.buf.len() / 2);
        for e in &mut self.entries {
            let v = self.buf.get(e.start as usize..e.end as usize).unwrap_or("");
            let start = buf.len();
            buf.push_str(v);
            e.start = start as u32;
            e.end = buf.len() as u32;
        }
        self.buf = buf;
    }

    /// Appends a header line. The value must not contain CR or LF (callers building
    /// messages from API input check this with [`valid_value`]).
    pub fn push(&mut self, name: HeaderName, value: impl AsRef<str>) {
        self.push_str(name, value.as_ref());
    }

    // The generic methods only convert and call these, so each caller's type adds a
    // call, not a copy of the body.
    fn push_str(&mut self, name: HeaderName, value: &str) {
        let e = self.entry(name, value);
        self.entries.push(e);
    }

    /// Appends a typed value, printed straight into the buffer (no intermediate
    /// `String`).
    pub fn push_typed<T: Print>(&mut self, name: HeaderName, value: &T) {
        self.push_printed(name, value);
    }

    fn push_printed(&mut self, name: HeaderName, value: &dyn Print) {
        if self.buf.len() > 4 * 65_536 {
            self.compact();
        }
        let start = self.buf.len();
        value.print(&mut self.buf);
        self.entries.push(Entry {
            name,
            start: start as u32,
            end: self.buf.len() as u32,
        });
    }

    /// Inserts a header line at the top (e.g. a new Via, RFC 3261 §8.1.1.7).
    pub fn push_front(&mut self, name: HeaderName, value: impl AsRef<str>) {
        self.push_front_str(name, value.as_ref());
    }

    fn push_front_str(&mut self, name: HeaderName, value: &str) {
        let e = self.entry(name, value);
        self.entries.insert(0, e);
    }

    /// Replaces every line of `name` by one line with `value`, keeping the position
    /// of the first one.
    pub fn set(&mut self, name: HeaderName, value: impl AsRef<str>) {
        self.set_str(name, value.as_ref());
    }

    fn set_str(&mut self, name: HeaderName, value: &str) {
        let e = self.entry(name, value);
        match self.entries.iter().position(|h| h.name.matches(&e.name)) {
            Some(i) => {
                let mut idx = 0;
                self.entries.retain(|h| {
                    let keep = idx <= i || !h.name.matches(&e.name);
                    idx += 1;
                    keep
                });
                if let Some(slot) = self.entries.get_mut(i) {
                    *slot = e;
                }
            }
            None => self.entries.push(e),
        }
    }

    /// Removes every line of `name`; returns how many were removed.
    pub fn remove(&mut self, name: &HeaderName) -> usize {
        let before = self.entries.len();
        self.entries.retain(|h| !h.name.matches(name));
        before - self.entries.len()
    }

    /// The raw value of the first line of `name`.
    pub fn get(&self, name: &HeaderName) -> Option<&str> {
        self.entries
            .iter()
            .find(|h| h.name.matches(name))
            .map(|e| self.value_of(e))
    }

    /// The raw values of every line of `name`.
    pub fn get_all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |h| h.name.matches(name))
            .map(|e| self.value_of(e))
    }

    /// How many lines of `name` there are.
    pub fn count(&self, name: &HeaderName) -> usize {
        self.entries.iter().filter(|h| h.name.matches(name)).count()
    }

    /// The first line of `name`, typed: `None` when absent.
    pub fn typed<T: TypedHeader>(&self, name: HeaderName) -> Option<Result<T, HeaderError>> {
        let v = self.get(&name)?;
        Some(T::parse(v).map_err(|error| HeaderError { name, error }))
    }

    /// Every element of every line of `name`, splitting comma-separated lists
    /// (RFC 3261 §7.3.1). An empty element is an error.
    pub fn typed_list<T: TypedHeader>(&self, name: HeaderName) -> Result<Vec<T>, HeaderError> {
        let mut out = Vec::new();
        for v in self.get_all(&name) {
            for item in scan::split_list(v) {
                out.push(T::parse(item).map_err(|e| HeaderError {
                    name: name.clone(),
                    error: e,
                })?);
            }
        }
        Ok(out)
    }
}

/// True when `value` can go into a header line we send: no CR, LF or NUL, so an API
/// argument can never inject a header (RFC 3261 §7.3.1).
pub fn valid_value(value: &str) -> bool {
    !value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(HeaderName::from_wire("v"), HeaderName::Via);
        assert_eq!(
            HeaderName::from_wire("MaX-fOrWaRdS"),
            HeaderName::MaxForwards
        );
        assert_eq!(HeaderName::from_wire("call-id"), HeaderName::CallId);
        assert_eq!(HeaderName::from_wire("o"), HeaderName::Event);
        let x = HeaderName::from_wire("NewFangledHeader");
        assert_eq!(x.as_str(), "NewFangledHeader");
        assert!(x.matches(&HeaderName::Other("newfangledheader".into())));
        assert_eq!(HeaderName::from_wire("q"), HeaderName::Other("q".into()));
    }

    #[test]
    fn every_known_name_and_near_misses() {
        for lower in KNOWN_LOWER {
            let s = std::str::from_utf8(lower).unwrap();
            for spelled in [s.to_owned(), s.to_ascii_uppercase()] {
                let h = HeaderName::from_wire(&spelled);
                assert!(h.as_str().eq_ignore_ascii_case(s), "{spelled} -> {h:?}");
            }
            // near misses, including bytes that equal a letter or '-' but for 0x20
            let upper = s.to_ascii_uppercase();
            let mut misses = vec![format!("{s}x"), format!("x{upper}")];
            if s.contains('-') {
                misses.extend([
                    s.replace('-', "_"),
                    s.replace('-', "\r"),
                    upper.replace('-', "\r"),
                ]);
            }
            for other in misses {
                assert_eq!(HeaderName::known_bytes(other.as_bytes()), None, "{other:?}");
            }
        }
        assert_eq!(HeaderName::known_bytes(b"V"), Some(HeaderName::Via));
        assert_eq!(HeaderName::known_bytes(b"\x16"), None);
    }

    #[test]
    fn multimap() {
        let mut h = Headers::new();
        h.push(HeaderName::Via, "SIP/2.0/WS a.invalid;branch=z9hG4bK1");
        h.push(HeaderName::To, "<sip:b@x>");
        h.push(
            HeaderName::Via,
            "SIP/2.0/WS b.invalid;branch=z9hG4bK2, SIP/2.0/WS c;branch=z9hG4bK3",
        );
        assert_eq!(h.count(&HeaderName::Via), 2);
        let vias: Vec<crate::Via> = h.typed_list(HeaderName::Via).unwrap();
        assert_eq!(vias.len(), 3);
        h.set(HeaderName::Via, "SIP/2.0/WS z;branch=z9hG4bK9");
        assert_eq!(h.count(&HeaderName::Via), 1);
        assert_eq!(*h.iter().next().unwrap().name, HeaderName::Via);
        h.push_front(HeaderName::MaxForwards, "70");
        assert_eq!(h.typed::<u8>(HeaderName::MaxForwards).unwrap().unwrap(), 70);
        assert_eq!(h.remove(&HeaderName::To), 1);
        assert!(h.typed::<u8>(HeaderName::Expires).is_none());
        assert!(!valid_value("a\r\nVia: x"));
        // names outside the known set: kept as spelled, looked up case-insensitively
        let other = |s: &str| HeaderName::Other(s.into());
        let mut h = Headers::new();
        h.push(other("X-Foo"), "1");
        h.push(HeaderName::Via, "v");
        h.push(other("x-foo"), "2");
        h.push(other("X-Bar"), "3");
        assert_eq!(
            (h.count(&other("X-FOO")), h.get(&other("x-FOO"))),
            (2, Some("1"))
        );
        h.set(other("X-FOO"), "4");
        let all: Vec<_> = h.iter().map(|h| (h.name.as_str(), h.value)).collect();
        assert_eq!(all, [("X-FOO", "4"), ("Via", "v"), ("X-Bar", "3")]);
        assert_eq!(h.remove(&other("x-bar")), 1);
        assert_eq!(h.get(&HeaderName::Via), Some("v"));
    }
}

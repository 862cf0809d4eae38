//! Parsing one WebSocket frame into a message (RFC 3261 §7, RFC 7118 §5, RFC 5626 §4.4.1).

use super::scan;
use super::{
    CSeq, CallId, Contact, HeaderName, Headers, Message, Method, NameAddrHeader, ParseError,
    RequestLine, StartLine, StatusLine, TypedHeader, Uri, Via,
};

/// Largest frame accepted: messages above this get 513 (RFC 3261 §21.5.14). SIP over
/// TCP/WebSocket implementations commonly cap messages at 64 KiB.
pub const MAX_MESSAGE_SIZE: usize = 65_535;

/// What one WebSocket frame carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A SIP message with its base headers extracted.
    Message(Box<Incoming>),
    /// A double-CRLF keep-alive ping (RFC 5626 §4.4.1): answer with a single CRLF.
    Ping,
    /// A single-CRLF keep-alive pong (RFC 5626 §4.4.1).
    Pong,
}

/// A received message and the headers extracted while validating it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The message.
    pub msg: Message,
    /// Its base headers, typed.
    pub base: Base,
}

/// The headers every layer reads, typed once at ingress. Single-valued headers
/// hold their first occurrence; [`Incoming::check_request`] reports duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Base {
    /// Every Via value, top first (RFC 3261 §20.42).
    pub vias: Vec<Via>,
    /// From (§20.20).
    pub from: Option<NameAddrHeader>,
    /// To (§20.39).
    pub to: Option<NameAddrHeader>,
    /// Call-ID (§20.8).
    pub call_id: Option<String>,
    /// CSeq (§20.16).
    pub cseq: Option<CSeq>,
    /// Max-Forwards (§20.22).
    pub max_forwards: Option<u8>,
    /// Every Contact value (§20.10).
    pub contacts: Vec<Contact>,
    /// Content-Length (§20.14).
    pub content_length: Option<u32>,
    /// Expires (§20.19).
    pub expires: Option<u32>,
}

impl Base {
    /// Extracts and validates the base headers of `headers`. `method` is the request
    /// method, which the CSeq method must equal (RFC 3261 §8.1.1.5).
    pub fn extract(headers: &Headers, method: Option<&Method>) -> Result<Base, ParseError> {
        let mut b = Base::default();
        b.fill(headers, method)?;
        Ok(b)
    }

    /// [`Base::extract`] into `self` (which starts empty), so the parser fills the
    /// `Base` inside its boxed [`Incoming`] instead of moving one around.
    fn fill(&mut self, headers: &Headers, method: Option<&Method>) -> Result<(), ParseError> {
        let b = self;
        for h in headers.iter() {
            let v = h.value;
            let ctx = |e: ParseError| e.in_header(h.name.clone());
            match h.name {
                HeaderName::Via => list(v, |i| {
                    let (via, end) = Via::parse_at(v, i)?;
                    if b.vias.capacity() == 0 {
                        b.vias = Vec::with_capacity(4);
                    }
                    b.vias.push(via);
                    Ok(end)
                })
                .map_err(ctx)?,
                HeaderName::From if b.from.is_none() => {
                    b.from = Some(NameAddrHeader::parse(v).map_err(ctx)?)
                }
                HeaderName::To if b.to.is_none() => {
                    b.to = Some(NameAddrHeader::parse(v).map_err(ctx)?)
                }
                HeaderName::CallId if b.call_id.is_none() => {
                    b.call_id = Some(CallId::parse(v).map_err(ctx)?.0)
                }
                HeaderName::CSeq if b.cseq.is_none() => {
                    let c = CSeq::parse(v).map_err(ctx)?;
                    if let Some(m) = method {
                        if *m != c.method {
                            return Err(ctx(ParseError::bad(
                                "CSeq method differs from the request method",
                            )));
                        }
                    }
                    b.cseq = Some(c);
                }
                HeaderName::MaxForwards if b.max_forwards.is_none() => {
                    b.max_forwards = Some(u8::parse(v).map_err(ctx)?)
                }
                HeaderName::Contact => list(v, |i| {
                    let (contact, end) = Contact::parse_at(v, i)?;
                    if b.contacts.capacity() == 0 {
                        b.contacts = Vec::with_capacity(4);
                    }
                    b.contacts.push(contact);
                    Ok(end)
                })
                .map_err(ctx)?,
                HeaderName::ContentLength if b.content_length.is_none() => {
                    b.content_length = Some(u32::parse(v).map_err(ctx)?)
                }
                HeaderName::Expires if b.expires.is_none() => {
                    b.expires = Some(u32::parse(v).map_err(ctx)?)
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Parses a comma-separated list (RFC 3261 §7.3.1) element by element, each at a
/// byte offset of `v` (`each` returns where it ended), so a single value (the common
/// case) is read once.
fn list(
    v: &str,
    mut each: impl FnMut(usize) -> Result<usize, ParseError>,
) -> Result<(), ParseError> {
    let b = v.as_bytes();
    let mut i = 0;
    loop {
        i = scan::skip_ws(b, each(i)?);
        match b.get(i) {
            None => return Ok(()),
            Some(b',') => i += 1,
            Some(_) => return Err(ParseError::bad("unexpected text after list element")),
        }
    }
}

impl Incoming {
    /// The checks of RFC 3261 §8.2 that concern message form, for a request: the
    /// mandatory headers (§8.1.1) are present and the single-valued ones are not
    /// repeated (RFC 4475 §3.3.x). An error here means a 400 answer.
    pub fn check_request(&self) -> Result<(), ParseError> {
        let b = &self.base;
        if b.vias.is_empty() {
            return Err(ParseError::bad("missing Via").in_header(HeaderName::Via));
        }
        for (present, name) in [
            (b.from.is_some(), HeaderName::From),
            (b.to.is_some(), HeaderName::To),
            (b.call_id.is_some(), HeaderName::CallId),
            (b.cseq.is_some(), HeaderName::CSeq),
        ] {
            if !present {
                return Err(ParseError::bad("missing mandatory header").in_header(name));
            }
        }
        for name in [
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
            HeaderName::MaxForwards,
            HeaderName::ContentLength,
            HeaderName::ContentType,
            HeaderName::Expires,
        ] {
            let n = self
                .msg
                .headers
                .get_all(&name)
                .map(|v| scan::split_list(v).count())
                .sum::<usize>();
            if n > 1 {
                return Err(ParseError::bad("single-valued header repeated").in_header(name));
            }
        }
        Ok(())
    }
}

fn is_crlf_only(b: &[u8]) -> bool {
    b.iter().all(|&c| c == b'\r' || c == b'\n')
}

/// Parses one WebSocket frame: a keep-alive (RFC 5626 §4.4.1) or one SIP message.
///
/// This is the transport edge: frames over [`MAX_MESSAGE_SIZE`] are refused with 513
/// before any parsing, then the frame is parsed with [`Incoming::parse`]. Never panics,
/// whatever the bytes.
pub fn parse_frame(bytes: &[u8]) -> Result<Frame, ParseError> {
    if bytes.len() > MAX_MESSAGE_SIZE {
        return Err(ParseError {
            reason: "message too large",
            status: 513,
            header: None,
        });
    }
    if is_crlf_only(bytes) {
        return match bytes.len() {
            0 => Err(ParseError::bad("empty frame")),
            1..=2 => Ok(Frame::Pong),
            _ => Ok(Frame::Ping),
        };
    }
    Incoming::parse_boxed(bytes).map(Frame::Message)
}

impl Incoming {
    /// Parses one SIP message (no size limit: that is the transport's, see
    /// [`parse_frame`]), validating and extracting its [`Base`] headers.
    ///
    /// Leading CRLFs are skipped (RFC 3261 §7.5). The body is bounded by Content-Length
    /// when present (bytes after it are ignored); without it the body is the rest of
    /// the input, as one WebSocket message is one SIP message (RFC 7118 §5.3). Bare LF
    /// line ends are tolerated. Never panics, whatever the bytes.
    pub fn parse(bytes: &[u8]) -> Result<Incoming, ParseError> {
        Incoming::parse_boxed(bytes).map(|m| *m)
    }

    /// [`Incoming::parse`], built in its box (what [`parse_frame`] returns), which
    /// saves moving the large structs around.
    pub(crate) fn parse_boxed(bytes: &[u8]) -> Result<Box<Incoming>, ParseError> {
        let skip = bytes
            .iter()
            .position(|&c| c != b'\r' && c != b'\n')
            .unwrap_or(0);
        let b = bytes.get(skip..).unwrap_or(&[]);
        let not_utf8 = |_| ParseError::bad("header section is not UTF-8");

        // The start line, with its line end.
        let first_len = scan::find_lf(b, 0).map_or(b.len(), |lf| lf + 1);
        let first_raw = std::str::from_utf8(b.get(..first_len).unwrap_or(&[])).map_err(not_utf8)?;
        let first = first_raw.strip_suffix('\n').unwrap_or(first_raw);
        let start = parse_start_line(first.strip_suffix('\r').unwrap_or(first))?;

        // One pass over the header lines, up to the empty line that ends the head (or
        // the end of the frame). Values become spans of one copy of the head; only
        // folded values (rare) are unfolded into extra text after it.
        let mut headers = Headers::from_buffer(String::new(), 20);
        let mut unfolded = String::new();
        let mut unfolded_at = None;
        let mut pos = first_len;
        let (head_end, body_start) = loop {
            match (b.get(pos), b.get(pos + 1)) {
                (None, _) => break (b.len(), b.len()),
                (Some(b'\n'), _) => break (pos, pos + 1),
                (Some(b'\r'), Some(b'\n')) => break (pos, pos + 2),
                _ => {}
            }
            // field-name, then optional SP/HTAB before the colon (RFC 3261 §7.3.1). The
            // colon is found a word at a time; a known name's comparison checks its
            // characters, any other name is checked to be a token.
            let i = match scan::find2(b, pos, b':', b'\n') {
                Some(i) if b.get(i) == Some(&b':') => i,
                _ => return Err(ParseError::bad("header line without ':'")),
            };
            let mut n = i;
            while n > pos && b.get(n - 1).is_some_and(|&c| scan::is_ws(c)) {
                n -= 1;
            }
            let raw = b.get(pos..n).unwrap_or(&[]);
            let name = match HeaderName::known_bytes(raw) {
                Some(h) => h,
                None if !raw.is_empty() && raw.iter().all(|&c| scan::is_token(c)) => {
                    HeaderName::from_bytes(raw)
                }
                None => {
                    return Err(ParseError::bad(
                        if b.get(pos).is_some_and(|&c| scan::is_ws(c)) {
                            "continuation line before any header"
                        } else {
                            "invalid header name"
                        },
                    ))
                }
            };
            let end = scan::find_lf(b, i + 1).unwrap_or(b.len());
            let (s, e) = trim_line(b, i + 1, end);
            let mut next = end + 1;
            if b.get(next).is_some_and(|&c| scan::is_ws(c)) {
                // Folded value: the LWS becomes one space (RFC 3261 §7.3.1).
                let at = *unfolded_at.get_or_insert_with(|| find_head_end(b).0);
                let from = unfolded.len();
                unfolded
                    .push_str(std::str::from_utf8(b.get(s..e).unwrap_or(&[])).map_err(not_utf8)?);
                while b.get(next).is_some_and(|&c| scan::is_ws(c)) {
                    let end = scan::find_lf(b, next).unwrap_or(b.len());
                    let (s, e) = trim_line(b, next, end);
                    if s < e {
                        if unfolded.len() > from {
                            unfolded.push(' ');
                        }
                        unfolded.push_str(
                            std::str::from_utf8(b.get(s..e).unwrap_or(&[])).map_err(not_utf8)?,
                        );
                    }
                    next = end + 1;
                }
                headers.push_span(name, at + from, at + unfolded.len());
            } else {
                headers.push_span(name, s, e);
            }
            pos = next;
        };
        let rest = std::str::from_utf8(b.get(first_len.min(head_end)..head_end).unwrap_or(&[]))
            .map_err(not_utf8)?;
        let mut buf = String::with_capacity(first_raw.len() + rest.len() + unfolded.len());
        buf.push_str(first_raw);
        buf.push_str(rest);
        debug_assert!(unfolded.is_empty() || unfolded_at == Some(buf.len()));
        buf.push_str(&unfolded);
        headers.set_buffer(buf);

        let mut m = Box::new(Incoming {
            msg: Message {
                start,
                headers,
                body: Vec::new(),
            },
            base: Base::default(),
        });
        let Incoming { msg, base } = &mut *m;
        base.fill(&msg.headers, msg.method())?;
        let rest = b.get(body_start..).unwrap_or(&[]);
        msg.body = match base.content_length {
            Some(n) => rest
                .get(..n as usize)
                .ok_or(
                    ParseError::bad("Content-Length larger than the body")
                        .in_header(HeaderName::ContentLength),
                )?
                .to_vec(),
            None => rest.to_vec(),
        };
        Ok(m)
    }
}

/// The span of `b[from..end]` without the CR before the line's LF and without
/// leading and trailing SP/HTAB.
fn trim_line(b: &[u8], mut from: usize, mut end: usize) -> (usize, usize) {
    if end > from && b.get(end - 1) == Some(&b'\r') {
        end -= 1;
    }
    while from < end && b.get(from).is_some_and(|&c| scan::is_ws(c)) {
        from += 1;
    }
    while end > from && b.get(end - 1).is_some_and(|&c| scan::is_ws(c)) {
        end -= 1;
    }
    (from, end)
}

/// Returns (end of the head, start of the body). A head that runs to the end of the
/// frame without an empty line is accepted with an empty body.
fn find_head_end(b: &[u8]) -> (usize, usize) {
    let mut i = 0;
    while let Some(off) = b.get(i..).and_then(|s| s.iter().position(|&c| c == b'\n')) {
        let nl = i + off;
        // The line after this LF is empty when it is "\r\n" or "\n".
        match (b.get(nl + 1), b.get(nl + 2)) {
            (Some(b'\n'), _) => return (nl + 1, nl + 2),
            (Some(b'\r'), Some(b'\n')) => return (nl + 1, nl + 3),
            (None, _) => return (nl + 1, nl + 1),
            _ => i = nl + 1,
        }
    }
    (b.len(), b.len())
}

/// `SIP/2.0`, case-insensitively. Another version gives 505 (RFC 3261 §8.2.2... §21.5.20).
fn check_version(v: &str) -> Result<(), ParseError> {
    if v == "SIP/2.0" || v.eq_ignore_ascii_case("SIP/2.0") {
        return Ok(());
    }
    let looks_like_version = v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
        && v.get(4..).is_some_and(|n| {
            n.split_once('.').is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.bytes().all(|c| c.is_ascii_digit())
                    && b.bytes().all(|c| c.is_ascii_digit())
            })
        });
    Err(if looks_like_version {
        ParseError {
            reason: "SIP version not supported",
            status: 505,
            header: None,
        }
    } else {
        ParseError::bad("invalid SIP version")
    })
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    if line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let sp = line
            .bytes()
            .position(|c| c == b' ')
            .ok_or(ParseError::bad("status line without status code"))?;
        check_version(line.get(..sp).unwrap_or(""))?;
        let rest = line.get(sp + 1..).unwrap_or("");
        let (code, reason) = match rest.bytes().position(|c| c == b' ') {
            Some(sp) => (
                rest.get(..sp).unwrap_or(""),
                rest.get(sp + 1..).unwrap_or(""),
            ),
            None => (rest, ""),
        };
        if code.len() != 3 {
            return Err(ParseError::bad("status code is not 3 digits"));
        }
        let code = scan::parse_decimal(code, 699)
            .filter(|c| *c >= 100)
            .ok_or(ParseError::bad("status code out of range"))? as u16;
        if reason.bytes().any(|b| b < 0x20 && b != b'\t') {
            return Err(ParseError::bad("control character in reason phrase"));
        }
        return Ok(StartLine::Response(StatusLine {
            code,
            reason: reason.to_owned(),
        }));
    }
    // Request-Line = Method SP Request-URI SP SIP-Version; extra SP is tolerated
    // (RFC 4475 §3.1.2.1 lwsstart, §3.1.2.2 trws) but not LWS inside the URI.
    let b = line.as_bytes();
    let mut parts = [""; 3];
    let (mut n, mut i) = (0, 0);
    while i < b.len() {
        if b.get(i) == Some(&b' ') {
            i += 1;
            continue;
        }
        let end = b
            .get(i..)
            .and_then(|r| r.iter().position(|&c| c == b' '))
            .map_or(b.len(), |e| i + e);
        let slot = parts
            .get_mut(n)
            .ok_or(ParseError::bad("malformed request line"))?;
        *slot = line.get(i..end).unwrap_or("");
        n += 1;
        i = end;
    }
    let [method, uri, version] = parts;
    if n != 3 {
        return Err(ParseError::bad("malformed request line"));
    }
    if !scan::is_token_str(method) {
        return Err(ParseError::bad("invalid method"));
    }
    check_version(version)?;
    let uri = Uri::parse(uri)?;
    Ok(StartLine::Request(RequestLine {
        method: Method::from_token(method),
        uri,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_names() {
        // comma-separated Via and Contact values, each element read in place
        let m = Incoming::parse(
            b"NOTIFY sip:a@b SIP/2.0\r\nv: SIP/2.0/WS a.invalid;branch=z9hG4bK1 , SIP/2.0/UDP 192.0.2.1:5060\t,SIP/2.0/TCP [::1];received=\"x,y\"\r\nm: <sip:a@b>;q=0.5, \"A, B\" <sip:c@d>,sip:e@f;expires=9\r\n\r\n",
        )
        .unwrap();
        let hosts: Vec<_> = m.base.vias.iter().map(|v| (v.host(), v.port)).collect();
        assert_eq!(
            hosts,
            [
                ("a.invalid", None),
                ("192.0.2.1", Some(5060)),
                ("[::1]", None)
            ]
        );
        assert_eq!(m.base.contacts.len(), 3);
        assert_eq!(m.base.contacts[2].expires(), Some(9));
        for bad in [
            "v: SIP/2.0/WS a;branch=1,",
            "v: SIP/2.0/WS a b",
            "m: <sip:a@b> x",
            "m: *,",
        ] {
            let wire = format!("OPTIONS sip:a@b SIP/2.0\r\n{bad}\r\n\r\n");
            assert!(Message::parse(wire.as_bytes()).is_err(), "{bad}");
        }
        assert_eq!(
            Incoming::parse(b"OPTIONS sip:a@b SIP/2.0\r\nm: * \r\n\r\n")
                .unwrap()
                .base
                .contacts,
            [Contact::Star]
        );
        // a header name is a token, found a word at a time up to its colon
        for bad in ["Call\rID: x", "Via x: y", "Via\n: x", ": x", "Max-Forwards"] {
            let wire = format!("OPTIONS sip:a@b SIP/2.0\r\n{bad}\r\n\r\n");
            assert!(Message::parse(wire.as_bytes()).is_err(), "{bad:?}");
        }
        let m =
            Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nMAX-forwards \t: 70\r\nX-A.b!: 1\r\n\r\n")
                .unwrap();
        assert_eq!(m.headers.get(&HeaderName::MaxForwards), Some("70"));
        assert_eq!(
            m.headers.get(&HeaderName::Other("x-a.B!".into())),
            Some("1")
        );
    }

    #[test]
    fn folded_values() {
        let m = Incoming::parse(b"OPTIONS sip:a@b SIP/2.0\r\nSubject: a\r\n  b \r\n\tc\r\nTo:\r\n <sip:b@c>\r\nl: 0\r\n\r\n").unwrap();
        assert_eq!(m.msg.headers.get(&HeaderName::Subject), Some("a b c"));
        assert_eq!(
            m.base.to.as_ref().map(|t| t.uri().to_string()).as_deref(),
            Some("sip:b@c")
        );
        assert_eq!(Message::parse(&m.msg.to_bytes()).unwrap(), m.msg);
    }

    #[test]
    fn keepalives() {
        assert_eq!(parse_frame(b"\r\n\r\n").unwrap(), Frame::Ping);
        assert_eq!(parse_frame(b"\r\n").unwrap(), Frame::Pong);
        assert!(parse_frame(b"").is_err());
    }

    #[test]
    fn minimal_and_lf() {
        let m = Message::parse(b"OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\nCSeq: 1 OPTIONS\n\n").unwrap();
        assert_eq!(m.method(), Some(&Method::Options));
        assert_eq!(Message::parse(&m.to_bytes()).unwrap(), m);
        // no empty line at all: head runs to the end
        let m = Message::parse(b"SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n").unwrap();
        assert_eq!(m.status(), Some(200));
    }

    #[test]
    fn start_lines() {
        assert!(Message::parse(b"SIP/2.0 4294967301 x\r\n\r\n").is_err());
        assert!(Message::parse(b"SIP/2.0 099 x\r\n\r\n").is_err());
        assert_eq!(
            Message::parse(b"OPTIONS sip:a@b SIP/7.0\r\n\r\n")
                .unwrap_err()
                .status,
            505
        );
        assert_eq!(
            Message::parse(b"SIP/3.0 200 OK\r\n\r\n")
                .unwrap_err()
                .status,
            505
        );
        assert_eq!(
            Message::parse(b"OPTIONS sip:a@b HTTP/1.1\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
        assert!(Message::parse(b"INVITE <sip:a@b> SIP/2.0\r\n\r\n").is_err());
        assert!(Message::parse(b"INVITE sip:a@b; lr SIP/2.0\r\n\r\n").is_err());
        let big = vec![b'a'; MAX_MESSAGE_SIZE + 1];
        assert_eq!(parse_frame(&big).unwrap_err().status, 513);
    }

    #[test]
    fn a_message_at_the_limit_round_trips() {
        // Printing lengthens it (`f:` prints as `From: `), past the frame limit: the
        // limit belongs to the transport edge, not to Message::parse.
        let mut wire = b"MESSAGE sip:a@b SIP/2.0\r\nf:<sip:a@b>\r\n\r\n".to_vec();
        wire.resize(MAX_MESSAGE_SIZE, b'x');
        let Ok(Frame::Message(m)) = parse_frame(&wire) else {
            panic!("accepted at the limit")
        };
        let printed = m.msg.to_bytes();
        assert!(printed.len() > MAX_MESSAGE_SIZE);
        assert_eq!(Message::parse(&printed), Ok(m.msg));
    }

    #[test]
    fn content_length_bounds_body() {
        let m = Message::parse(b"MESSAGE sip:a@b SIP/2.0\r\nl: 3\r\n\r\nabcdef").unwrap();
        assert_eq!(m.body, b"abc");
        assert!(Message::parse(b"MESSAGE sip:a@b SIP/2.0\r\nl: 9\r\n\r\nabc").is_err());
        let m = Message::parse(b"MESSAGE sip:a@b SIP/2.0\r\n\r\nabcdef").unwrap();
        assert_eq!(m.body, b"abcdef");
    }
}

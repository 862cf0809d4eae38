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
        for h in headers.iter() {
            let v = h.value;
            let ctx = |e: ParseError| e.in_header(h.name.clone());
            match h.name {
                HeaderName::Via => {
                    for item in scan::split_list(v) {
                        b.vias.push(Via::parse(item).map_err(ctx)?);
                    }
                }
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
                HeaderName::Contact => {
                    for item in scan::split_list(v) {
                        b.contacts.push(Contact::parse(item).map_err(ctx)?);
                    }
                }
                HeaderName::ContentLength if b.content_length.is_none() => {
                    b.content_length = Some(u32::parse(v).map_err(ctx)?)
                }
                HeaderName::Expires if b.expires.is_none() => {
                    b.expires = Some(u32::parse(v).map_err(ctx)?)
                }
                _ => {}
            }
        }
        Ok(b)
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
    Incoming::parse(bytes).map(|m| Frame::Message(Box::new(m)))
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
        let start = bytes
            .iter()
            .position(|&c| c != b'\r' && c != b'\n')
            .unwrap_or(0);
        let bytes = bytes.get(start..).unwrap_or(&[]);

        // Find the empty line that ends the head.
        let (head_end, body_start) = find_head_end(bytes);
        let head = std::str::from_utf8(bytes.get(..head_end).unwrap_or(&[]))
            .map_err(|_| ParseError::bad("header section is not UTF-8"))?;
        let rest = bytes.get(body_start..).unwrap_or(&[]);

        let hb = head.as_bytes();
        let line_end = |from: usize| {
            hb.get(from..)
                .and_then(|r| r.iter().position(|&c| c == b'\n'))
                .map_or(hb.len(), |i| from + i)
        };
        let strip_cr = |from: usize, end: usize| {
            if end > from && hb.get(end - 1) == Some(&b'\r') {
                end - 1
            } else {
                end
            }
        };
        let first_end = line_end(0);
        let first = head
            .get(..strip_cr(0, first_end))
            .ok_or(ParseError::bad("missing start line"))?;
        let start = parse_start_line(first)?;

        // One pass over the header lines. Values become spans of one copy of the head;
        // only folded values (rare) are unfolded into extra text at its end.
        let mut headers = Headers::from_buffer(String::with_capacity(head.len() + 64), 20);
        headers.append_text(head);
        let mut pos = first_end + 1;
        while pos < hb.len() {
            let end = line_end(pos);
            let content_end = strip_cr(pos, end);
            // field-name, then optional SP/HTAB before the colon (RFC 3261 §7.3.1)
            let mut i = pos;
            while i < content_end && hb.get(i).is_some_and(|&c| scan::is_token(c)) {
                i += 1;
            }
            if i == pos {
                return Err(ParseError::bad(
                    if hb.get(pos).is_some_and(|&c| scan::is_ws(c)) {
                        "continuation line before any header"
                    } else {
                        "invalid header name"
                    },
                ));
            }
            let name = head.get(pos..i).unwrap_or("");
            while hb.get(i).is_some_and(|&c| scan::is_ws(c)) && i < content_end {
                i += 1;
            }
            if hb.get(i) != Some(&b':') || i >= content_end {
                return Err(ParseError::bad("header line without ':'"));
            }
            let value = scan::trim_ws(head.get(i + 1..content_end).unwrap_or(""));
            let name = HeaderName::from_wire(name);
            let mut next = end + 1;
            if hb.get(next).is_some_and(|&c| scan::is_ws(c)) {
                // Folded value: the LWS becomes one space (RFC 3261 §7.3.1).
                let mut acc = String::from(value);
                while hb.get(next).is_some_and(|&c| scan::is_ws(c)) {
                    let e = line_end(next);
                    let piece = scan::trim_ws(head.get(next..strip_cr(next, e)).unwrap_or(""));
                    if !piece.is_empty() {
                        if !acc.is_empty() {
                            acc.push(' ');
                        }
                        acc.push_str(piece);
                    }
                    next = e + 1;
                }
                let (s, e) = headers.append_text(&acc);
                headers.push_span(name, s, e);
            } else {
                let s = value.as_ptr() as usize - head.as_ptr() as usize;
                headers.push_span(name, s, s + value.len());
            }
            pos = next;
        }

        let base = Base::extract(
            &headers,
            match &start {
                StartLine::Request(r) => Some(&r.method),
                StartLine::Response(_) => None,
            },
        )?;
        let body = match base.content_length {
            Some(n) => rest
                .get(..n as usize)
                .ok_or(
                    ParseError::bad("Content-Length larger than the body")
                        .in_header(HeaderName::ContentLength),
                )?
                .to_vec(),
            None => rest.to_vec(),
        };
        Ok(Incoming {
            msg: Message {
                start,
                headers,
                body,
            },
            base,
        })
    }
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
    if v.eq_ignore_ascii_case("SIP/2.0") {
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
        let (version, rest) = line
            .split_once(' ')
            .ok_or(ParseError::bad("status line without status code"))?;
        check_version(version)?;
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
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
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::bad("malformed request line"));
    };
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

//! URIs: `sip:`/`sips:` (RFC 3261 §19.1, §25.1), `tel:` (RFC 3966) and any other
//! absolute URI kept as it is.

use super::params::{self, Params, ParamsRef};
use super::scan;
use super::{ParseError, Print};

/// A URI as carried in a Request-URI or a name-addr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    /// `sip:` or `sips:`.
    Sip(SipUri),
    /// `tel:` (RFC 3966).
    Tel(TelUri),
    /// Any other scheme (RFC 3261 §19.1.6 absoluteURI): kept as text.
    Other {
        /// The scheme, as written.
        scheme: String,
        /// Everything after `scheme:`.
        rest: String,
    },
}

/// A SIP or SIPS URI (RFC 3261 §19.1.1). The user part, password, parameters and
/// headers keep their `%HH` escapes. Everything but the scheme and port is one
/// string, read through accessors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// `sips:` rather than `sip:`.
    pub secure: bool,
    /// Port, if given.
    pub port: Option<u16>,
    /// `[user[:password]@]host[;params][?headers]` as written, without the port.
    text: String,
    /// End of the user part (0 without userinfo: a user part is never empty).
    user_end: u32,
    /// Start of the host: 0, or just after the `@`.
    host_start: u32,
    /// End of the host, where the parameters start.
    host_end: u32,
    /// Start of `?headers`, or the text length.
    params_end: u32,
}

/// A `tel:` URI (RFC 3966 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelUri {
    /// The telephone number, including `+` for a global number and visual separators.
    pub number: String,
    /// Parameters (`;phone-context=...;ext=...`).
    pub params: Params,
}

/// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` (RFC 3261 §25.1).
fn valid_scheme(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

impl Uri {
    /// Parses a URI with no surrounding whitespace or angle brackets.
    pub fn parse(s: &str) -> Result<Uri, ParseError> {
        // Fast path for the common schemes (compared case-insensitively, RFC 3261 §19.1.4).
        let lower = |c: u8| c | 0x20;
        match s.as_bytes() {
            [a, b, c, b':', ..] if [lower(*a), lower(*b), lower(*c)] == *b"sip" => {
                return SipUri::parse_after_scheme(s.get(4..).unwrap_or(""), false).map(Uri::Sip)
            }
            [a, b, c, d, b':', ..] if [lower(*a), lower(*b), lower(*c), lower(*d)] == *b"sips" => {
                return SipUri::parse_after_scheme(s.get(5..).unwrap_or(""), true).map(Uri::Sip)
            }
            _ => {}
        }
        let colon = s
            .bytes()
            .position(|c| c == b':')
            .ok_or(ParseError::bad("URI without a scheme"))?;
        let (scheme, rest) = (
            s.get(..colon).unwrap_or(""),
            s.get(colon + 1..).unwrap_or(""),
        );
        if !valid_scheme(scheme) {
            return Err(ParseError::bad("invalid URI scheme"));
        }
        if scheme.eq_ignore_ascii_case("sip") {
            SipUri::parse_after_scheme(rest, false).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_after_scheme(rest, true).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_after_scheme(rest).map(Uri::Tel)
        } else {
            // absoluteURI: printable ASCII without LWS, angle brackets or quotes.
            if rest.is_empty()
                || !rest
                    .bytes()
                    .all(|b| b > 0x20 && b < 0x7f && !matches!(b, b'<' | b'>' | b'"'))
            {
                return Err(ParseError::bad("invalid absolute URI"));
            }
            Ok(Uri::Other {
                scheme: scheme.to_owned(),
                rest: rest.to_owned(),
            })
        }
    }

    /// The SIP URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// `sip`, `sips`, `tel` or the other scheme.
    pub fn scheme(&self) -> &str {
        match self {
            Uri::Sip(u) if u.secure => "sips",
            Uri::Sip(_) => "sip",
            Uri::Tel(_) => "tel",
            Uri::Other { scheme, .. } => scheme,
        }
    }

    /// The user part of a SIP URI or the number of a tel URI.
    pub fn user(&self) -> Option<&str> {
        match self {
            Uri::Sip(u) => u.user(),
            Uri::Tel(t) => Some(&t.number),
            Uri::Other { .. } => None,
        }
    }

    /// The host of a SIP URI.
    pub fn host(&self) -> Option<&str> {
        self.as_sip().map(SipUri::host)
    }

    /// A URI parameter (SIP and tel URIs).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        match self {
            Uri::Sip(u) => u.params().get(name),
            Uri::Tel(t) => t.params.get(name),
            Uri::Other { .. } => None,
        }
    }
}

impl SipUri {
    /// `sip:user@host` with no port, parameters or headers. `user` must be in escaped
    /// form and `host` a valid host (callers pass validated values).
    pub fn new(user: Option<&str>, host: &str) -> Self {
        let mut text = String::with_capacity(host.len() + user.map_or(0, |u| u.len() + 1));
        if let Some(u) = user {
            text.push_str(u);
            text.push('@');
        }
        let host_start = text.len() as u32;
        text.push_str(host);
        let end = text.len() as u32;
        SipUri {
            secure: false,
            port: None,
            text,
            user_end: user.map_or(0, |u| u.len() as u32),
            host_start,
            host_end: end,
            params_end: end,
        }
    }

    fn part(&self, from: u32, to: u32) -> &str {
        self.text.get(from as usize..to as usize).unwrap_or("")
    }

    /// The user part, escaped form (RFC 3261 §19.1.2).
    pub fn user(&self) -> Option<&str> {
        (self.host_start > 0).then(|| self.part(0, self.user_end))
    }

    /// The password (deprecated but legal, RFC 3261 §19.1.1).
    pub fn password(&self) -> Option<&str> {
        (self.host_start > self.user_end + 1)
            .then(|| self.part(self.user_end + 1, self.host_start - 1))
    }

    /// Host name, IPv4 address or bracketed IPv6 reference.
    pub fn host(&self) -> &str {
        self.part(self.host_start, self.host_end)
    }

    /// URI parameters (`;transport=ws;lr`).
    pub fn params(&self) -> ParamsRef<'_> {
        ParamsRef::new(self.part(self.host_end, self.params_end))
    }

    /// URI headers after `?`, escaped form, without the `?`.
    pub fn headers(&self) -> &str {
        self.text.get(self.params_end as usize + 1..).unwrap_or("")
    }

    /// Appends or replaces a URI parameter; `name` and `value` must be valid
    /// `paramchar` runs (RFC 3261 §19.1.1).
    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        let params = self.params().with(name, Some(value));
        let (h, e) = (self.host_end as usize, self.params_end as usize);
        self.text.replace_range(h..e.min(self.text.len()), &params);
        self.params_end = (h + params.len()) as u32;
    }

    fn parse_after_scheme(s: &str, secure: bool) -> Result<SipUri, ParseError> {
        let b = s.as_bytes();
        // userinfo = user [ ":" password ] "@". Neither part may contain '@' or ':' and
        // nothing after the userinfo may contain '@' (RFC 3261 §25.1), so the userinfo is
        // there exactly when these runs end at an '@'.
        let u = scan::escaped_run_end(b, 0, scan::is_user);
        let at = match u.map(|u| (u, b.get(u))) {
            Some((u, Some(b'@'))) => Some((u, u)),
            Some((u, Some(b':'))) => scan::escaped_run_end(b, u + 1, scan::is_password)
                .filter(|&p| b.get(p) == Some(&b'@'))
                .map(|p| (u, p)),
            _ => None,
        };
        let (user_end, host_start) = match at {
            Some((0, _)) => return Err(ParseError::bad("invalid user part in SIP URI")),
            Some((u, at)) => (u, at + 1),
            None => (0, 0),
        };
        let mut i = host_start;
        if b.get(i) == Some(&b'[') {
            i += 1;
            while b
                .get(i)
                .is_some_and(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
            {
                i += 1;
            }
            if i == host_start + 1 || b.get(i) != Some(&b']') {
                return Err(ParseError::bad("invalid IPv6 reference"));
            }
            i += 1;
        } else {
            while b.get(i).is_some_and(|&c| scan::is_host(c)) {
                i += 1;
            }
        }
        let host_end = i;
        if host_end == host_start {
            return Err(ParseError::bad("SIP URI without a host"));
        }
        let mut port = None;
        if b.get(i) == Some(&b':') {
            let d = i + 1;
            i = d;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            port = Some(
                s.get(d..i)
                    .and_then(|p| scan::parse_decimal(p, u64::from(u16::MAX)))
                    .ok_or(ParseError::bad("invalid port in SIP URI"))? as u16,
            );
        }
        let port_end = i;
        let params_end = params::uri_params_end(b, i)?;
        i = params_end;
        if b.get(i) == Some(&b'?') {
            // headers = "?" header *( "&" header ), header = hname "=" hvalue
            loop {
                let n = scan::escaped_run_end(b, i + 1, scan::is_hnv)
                    .filter(|&n| n > i + 1 && b.get(n) == Some(&b'='))
                    .ok_or(ParseError::bad("invalid URI header"))?;
                i = scan::escaped_run_end(b, n + 1, scan::is_hnv)
                    .ok_or(ParseError::bad("invalid URI header"))?;
                if b.get(i) != Some(&b'&') {
                    break;
                }
            }
        }
        if i != b.len() {
            return Err(ParseError::bad("invalid character in SIP URI"));
        }
        let (head, tail) = (
            s.get(..host_end).unwrap_or(""),
            s.get(port_end..).unwrap_or(""),
        );
        let mut text = String::with_capacity(head.len() + tail.len());
        text.push_str(head);
        text.push_str(tail);
        let cut = (port_end - host_end) as u32;
        Ok(SipUri {
            secure,
            port,
            text,
            user_end: user_end as u32,
            host_start: host_start as u32,
            host_end: host_end as u32,
            params_end: params_end as u32 - cut,
        })
    }

    /// The user part with escapes decoded.
    pub fn user_unescaped(&self) -> Option<String> {
        self.user().map(scan::unescape)
    }

    /// The URI headers as `(name, value)` pairs, still escaped.
    pub fn header_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers()
            .split('&')
            .filter(|h| !h.is_empty())
            .map(|h| h.split_once('=').unwrap_or((h, "")))
    }
}

impl TelUri {
    fn parse_after_scheme(s: &str) -> Result<TelUri, ParseError> {
        let (number, params) = match s.find(';') {
            Some(i) => (s.get(..i).unwrap_or(""), s.get(i..).unwrap_or("")),
            None => (s, ""),
        };
        let digits_ok = if let Some(global) = number.strip_prefix('+') {
            // global-number-digits = "+" *phonedigit DIGIT *phonedigit (RFC 3966 §3)
            global.bytes().any(|c| c.is_ascii_digit())
                && global
                    .bytes()
                    .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'.' | b'(' | b')'))
        } else {
            // local-number-digits: HEXDIG, "*", "#" and visual separators
            number
                .bytes()
                .any(|c| c.is_ascii_hexdigit() || c == b'*' || c == b'#')
                && number.bytes().all(|c| {
                    c.is_ascii_hexdigit() || matches!(c, b'*' | b'#' | b'-' | b'.' | b'(' | b')')
                })
        };
        if !digits_ok {
            return Err(ParseError::bad("invalid tel URI number"));
        }
        Ok(TelUri {
            number: number.to_owned(),
            params: Params::parse_uri(params)?,
        })
    }
}

impl Print for SipUri {
    fn print(&self, out: &mut String) {
        out.push_str(if self.secure { "sips:" } else { "sip:" });
        out.push_str(self.part(0, self.host_end));
        if let Some(p) = self.port {
            out.push(':');
            scan::push_decimal(out, u64::from(p));
        }
        out.push_str(self.text.get(self.host_end as usize..).unwrap_or(""));
    }
}

impl Print for Uri {
    fn print(&self, out: &mut String) {
        match self {
            Uri::Sip(u) => u.print(out),
            Uri::Tel(t) => {
                out.push_str("tel:");
                out.push_str(&t.number);
                t.params.print(out);
            }
            Uri::Other { scheme, rest } => {
                out.push_str(scheme);
                out.push(':');
                out.push_str(rest);
            }
        }
    }
}

display_by_print!(SipUri, Uri);

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(s: &str) -> Uri {
        let u = Uri::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(Uri::parse(&u.to_string()).unwrap(), u, "round trip of {s}");
        u
    }

    #[test]
    fn sip_uris() {
        let u = rt("sip:alice:@[::1]:05060;lr?x=1");
        let s = u.as_sip().unwrap();
        assert_eq!(
            (s.user(), s.password(), s.host()),
            (Some("alice"), Some(""), "[::1]")
        );
        assert_eq!(
            (s.port, s.params().as_str(), s.headers()),
            (Some(5060), ";lr", "x=1")
        );
        assert_eq!(u.to_string(), "sip:alice:@[::1]:5060;lr?x=1");
        let mut s = SipUri::new(Some("bob"), "example.com");
        assert_eq!(
            (s.user(), s.password(), s.headers()),
            (Some("bob"), None, "")
        );
        s.port = Some(5070);
        s.set_param("transport", Some("ws"));
        s.set_param("lr", None);
        s.set_param("transport", Some("wss"));
        assert_eq!(s.to_string(), "sip:bob@example.com:5070;lr;transport=wss");
        assert_eq!(Uri::parse(&s.to_string()).unwrap(), Uri::Sip(s));
        let h = SipUri::new(None, "example.com");
        assert_eq!((h.user(), h.host()), (None, "example.com"));
        let u =
            rt("sip:alice:secret@[2001:db8::10]:5070;transport=ws;lr?Subject=hi&Priority=urgent");
        let s = u.as_sip().unwrap();
        assert_eq!(s.user(), Some("alice"));
        assert_eq!(s.password(), Some("secret"));
        assert_eq!(s.host(), "[2001:db8::10]");
        assert_eq!(s.port, Some(5070));
        assert_eq!(u.param("transport"), Some(Some("ws")));
        assert_eq!(u.param("lr"), Some(None));
        assert_eq!(
            s.header_pairs().collect::<Vec<_>>(),
            [("Subject", "hi"), ("Priority", "urgent")]
        );
        let u = rt("SIPS:k4h0ru8a@df7jal23ls0d.invalid;transport=ws");
        assert_eq!(u.scheme(), "sips");
        let u = rt("sip:sips%3Auser%40example.com@example.net");
        assert_eq!(
            u.as_sip().unwrap().user_unescaped().as_deref(),
            Some("sips:user@example.com")
        );
        rt("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
        rt("sip:example.com");
    }

    #[test]
    fn tel_and_other() {
        let u = rt("tel:+1-201-555-0123;ext=42");
        assert_eq!(u.user(), Some("+1-201-555-0123"));
        rt("tel:7042;phone-context=example.com");
        assert!(Uri::parse("tel:+").is_err());
        let u = rt("urn:service:sos");
        assert_eq!(u.scheme(), "urn");
        rt("soap.beep://192.0.2.103:3002");
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "sip:",
            "<sip:a@b>",
            "sip:a@b; lr",
            "sip:a b@c",
            "sip:@host",
            "sip:a@host:99999",
            "sip:a@[::1",
            "1sip:x",
            "sip:a@b;=x",
            "sip:a@b?x",
            "sip:a@b;p=%zz",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad:?} must be rejected");
        }
    }
}

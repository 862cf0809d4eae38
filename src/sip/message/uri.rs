//! URIs: `sip:`/`sips:` (RFC 3261 §19.1, §25.1), `tel:` (RFC 3966) and any other
//! absolute URI kept as it is.

use super::params::Params;
use super::scan;
use super::ParseError;
use std::fmt;

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

/// A SIP or SIPS URI (RFC 3261 §19.1.1). `user` and `password` keep their `%HH` escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// `sips:` rather than `sip:`.
    pub secure: bool,
    /// The user part, escaped form (RFC 3261 §19.1.2).
    pub user: Option<String>,
    /// The password part (deprecated but legal).
    pub password: Option<String>,
    /// Host name, IPv4 address or bracketed IPv6 reference.
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
    /// URI parameters (`;transport=ws;lr`).
    pub params: Params,
    /// URI headers after `?`, escaped form, without the `?`.
    pub headers: String,
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
        let (scheme, rest) = s
            .split_once(':')
            .ok_or(ParseError::bad("URI without a scheme"))?;
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
            Uri::Sip(u) => u.user.as_deref(),
            Uri::Tel(t) => Some(&t.number),
            Uri::Other { .. } => None,
        }
    }

    /// The host of a SIP URI.
    pub fn host(&self) -> Option<&str> {
        self.as_sip().map(|u| u.host.as_str())
    }

    /// A URI parameter (SIP and tel URIs).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        match self {
            Uri::Sip(u) => u.params.get(name),
            Uri::Tel(t) => t.params.get(name),
            Uri::Other { .. } => None,
        }
    }
}

impl SipUri {
    /// `sip:user@host` with no port, parameters or headers.
    pub fn new(user: Option<&str>, host: &str) -> Self {
        SipUri {
            secure: false,
            user: user.map(str::to_owned),
            password: None,
            host: host.to_owned(),
            port: None,
            params: Params::new(),
            headers: String::new(),
        }
    }

    fn parse_after_scheme(s: &str, secure: bool) -> Result<SipUri, ParseError> {
        let (userinfo, hostpart) = match s.split_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, s),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(ui) => {
                let (u, p) = match ui.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (ui, None),
                };
                if u.is_empty() || !scan::is_escaped_run(u, scan::is_user) {
                    return Err(ParseError::bad("invalid user part in SIP URI"));
                }
                if let Some(p) = p {
                    if !scan::is_escaped_run(p, scan::is_password) {
                        return Err(ParseError::bad("invalid password in SIP URI"));
                    }
                }
                (Some(u.to_owned()), p.map(str::to_owned))
            }
        };
        let (hostport_params, headers) = match hostpart.split_once('?') {
            Some((a, h)) => (a, h),
            None => (hostpart, ""),
        };
        if !headers.is_empty() || hostpart.ends_with('?') {
            for h in headers.split('&') {
                let (n, v) = h
                    .split_once('=')
                    .ok_or(ParseError::bad("URI header without '='"))?;
                if n.is_empty()
                    || !scan::is_escaped_run(n, scan::is_hnv)
                    || !scan::is_escaped_run(v, scan::is_hnv)
                {
                    return Err(ParseError::bad("invalid URI header"));
                }
            }
        }
        let b = hostport_params.as_bytes();
        let host_end = if b.first() == Some(&b'[') {
            let close = hostport_params
                .find(']')
                .ok_or(ParseError::bad("unterminated IPv6 reference"))?;
            let inner = hostport_params.get(1..close).unwrap_or("");
            if inner.is_empty()
                || !inner
                    .bytes()
                    .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
            {
                return Err(ParseError::bad("invalid IPv6 reference"));
            }
            close + 1
        } else {
            b.iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_')))
                .unwrap_or(b.len())
        };
        let host = hostport_params.get(..host_end).unwrap_or("");
        if host.is_empty() {
            return Err(ParseError::bad("SIP URI without a host"));
        }
        let mut rest = hostport_params.get(host_end..).unwrap_or("");
        let mut port = None;
        if let Some(r) = rest.strip_prefix(':') {
            let end = r
                .bytes()
                .position(|c| !c.is_ascii_digit())
                .unwrap_or(r.len());
            let digits = r.get(..end).unwrap_or("");
            port = Some(
                scan::parse_decimal(digits, u64::from(u16::MAX))
                    .ok_or(ParseError::bad("invalid port in SIP URI"))? as u16,
            );
            rest = r.get(end..).unwrap_or("");
        }
        let params = Params::parse_uri(rest)?;
        Ok(SipUri {
            secure,
            user,
            password,
            host: host.to_owned(),
            port,
            params,
            headers: headers.to_owned(),
        })
    }

    /// The user part with escapes decoded.
    pub fn user_unescaped(&self) -> Option<String> {
        self.user.as_deref().map(scan::unescape)
    }

    /// The URI headers as `(name, value)` pairs, still escaped.
    pub fn header_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
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

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(u) = &self.user {
            f.write_str(u)?;
            if let Some(p) = &self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        f.write_str(self.params.as_str())?;
        if !self.headers.is_empty() {
            write!(f, "?{}", self.headers)?;
        }
        Ok(())
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => u.fmt(f),
            Uri::Tel(t) => write!(f, "tel:{}{}", t.number, t.params),
            Uri::Other { scheme, rest } => write!(f, "{scheme}:{rest}"),
        }
    }
}

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
        let u =
            rt("sip:alice:secret@[2001:db8::10]:5070;transport=ws;lr?Subject=hi&Priority=urgent");
        let s = u.as_sip().unwrap();
        assert_eq!(s.user.as_deref(), Some("alice"));
        assert_eq!(s.password.as_deref(), Some("secret"));
        assert_eq!(s.host, "[2001:db8::10]");
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

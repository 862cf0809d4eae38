//! The Via header (RFC 3261 §20.42, §18.2.2; RFC 3581 rport; RFC 7118 §5 WS/WSS).

use super::params::{self, ParamsRef};
use super::scan::{self, Cursor};
use super::{ParseError, Print, TypedHeader};
use std::borrow::Cow;

/// The `magic cookie` that starts every RFC 3261 branch (§8.1.1.7).
pub const BRANCH_MAGIC: &str = "z9hG4bK";

/// One Via value: `SIP/2.0/WSS host:port;branch=..;rport`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Protocol name and version, normally `SIP/2.0`.
    pub protocol: Cow<'static, str>,
    /// Transport: `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS` (upper-cased, as the
    /// comparison is case-insensitive), or any other token as written.
    pub transport: Cow<'static, str>,
    /// The sent-by port.
    pub port: Option<u16>,
    /// The sent-by host followed by the normalised `via-params`, in one string.
    text: String,
    /// End of the host in `text`.
    host_end: u32,
}

impl Via {
    /// `SIP/2.0/<transport> <host>;branch=<branch>`.
    pub fn new(transport: &str, host: &str, port: Option<u16>, branch: &str) -> Self {
        let mut text = String::with_capacity(host.len() + branch.len() + 8);
        text.push_str(host);
        text.push_str(";branch=");
        text.push_str(branch);
        Via {
            protocol: Cow::Borrowed("SIP/2.0"),
            transport: known_transport(transport),
            port,
            text,
            host_end: host.len() as u32,
        }
    }

    /// The sent-by host.
    pub fn host(&self) -> &str {
        self.text.get(..self.host_end as usize).unwrap_or("")
    }

    /// `via-params`: branch, received, rport, maddr, ttl, others.
    pub fn params(&self) -> ParamsRef<'_> {
        ParamsRef::new(self.text.get(self.host_end as usize..).unwrap_or(""))
    }

    /// Appends or replaces a parameter (a token, host or quoted-string value), e.g.
    /// `received` (RFC 3261 §18.2.1).
    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        let params = self.params().with(name, Some(value));
        self.text.truncate(self.host_end as usize);
        self.text.push_str(&params);
    }

    /// The branch parameter (RFC 3261 §20.42).
    pub fn branch(&self) -> Option<&str> {
        self.params().get("branch").flatten()
    }

    /// True when the branch carries the RFC 3261 magic cookie (§17.2.3).
    pub fn is_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(BRANCH_MAGIC))
    }

    /// `received` (RFC 3261 §18.2.1).
    pub fn received(&self) -> Option<&str> {
        self.params().get("received").flatten()
    }

    /// `rport` with its value, if any (RFC 3581 §4).
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params()
            .get("rport")
            .map(|v| v.and_then(|v| scan::parse_decimal(v, 65535).map(|p| p as u16)))
    }

    /// Parses one `via-parm` at byte `i` of `s` (RFC 3261 §20.42, LWS-tolerant),
    /// returning it and where its parameters end: the caller checks what follows (end
    /// of value or comma).
    pub(crate) fn parse_at(s: &str, i: usize) -> Result<(Via, usize), ParseError> {
        let b = s.as_bytes();
        let mut i = scan::skip_ws(b, i);
        // sent-protocol = protocol-name SLASH protocol-version SLASH transport
        let protocol = match b.get(i..i + 8) {
            Some(p) if p == b"SIP/2.0/" || p.eq_ignore_ascii_case(b"SIP/2.0/") => {
                i = scan::skip_ws(b, i + 8);
                Cow::Borrowed("SIP/2.0")
            }
            _ => {
                let mut c = Cursor::new(s);
                c.set_pos(i);
                let p = sent_protocol(&mut c)?;
                i = c.pos();
                p
            }
        };
        let t = scan::token_end(b, i);
        if t == i {
            return Err(ParseError::bad("Via without transport"));
        }
        let transport = known_transport(s.get(i..t).unwrap_or(""));
        // LWS sent-by
        let h = scan::skip_ws(b, t);
        if h == t {
            return Err(ParseError::bad("Via without space before sent-by"));
        }
        let mut e = h;
        if b.get(h) == Some(&b'[') {
            e += 1;
            while b
                .get(e)
                .is_some_and(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
            {
                e += 1;
            }
            if b.get(e) != Some(&b']') {
                return Err(ParseError::bad("bad IPv6 reference in Via"));
            }
            e += 1;
        } else {
            while b.get(e).is_some_and(|&c| scan::is_host(c)) {
                e += 1;
            }
        }
        let host = s.get(h..e).unwrap_or("");
        if host.is_empty() {
            return Err(ParseError::bad("Via without host"));
        }
        // [ COLON port ], LWS allowed around the colon
        let mut i = e;
        let mut port = None;
        let colon = scan::skip_ws(b, e);
        if b.get(colon) == Some(&b':') {
            let d = scan::skip_ws(b, colon + 1);
            i = d;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            port = Some(
                s.get(d..i)
                    .and_then(|d| scan::parse_decimal(d, 65535))
                    .ok_or(ParseError::bad("bad Via port"))? as u16,
            );
        }
        let mut text = String::with_capacity(host.len() + s.len().saturating_sub(i));
        text.push_str(host);
        let end = params::generic_at(s, i, &mut text)?;
        let via = Via {
            protocol,
            transport,
            port,
            text,
            host_end: host.len() as u32,
        };
        Ok((via, end))
    }
}

/// `protocol-name SLASH protocol-version SLASH` with LWS around the slashes.
fn sent_protocol(c: &mut Cursor<'_>) -> Result<Cow<'static, str>, ParseError> {
    let name = c.token().ok_or(ParseError::bad("Via without protocol"))?;
    if !c.eat(b'/') {
        return Err(ParseError::bad("Via protocol without '/'"));
    }
    let version = c.token().ok_or(ParseError::bad("Via without version"))?;
    if !c.eat(b'/') {
        return Err(ParseError::bad("Via without transport"));
    }
    Ok(if name.eq_ignore_ascii_case("SIP") && version == "2.0" {
        Cow::Borrowed("SIP/2.0")
    } else {
        let mut p = String::new();
        scan::push_all(&mut p, &[name, "/", version]);
        Cow::Owned(p)
    })
}

/// Known transports as static strings (no allocation per Via).
fn known_transport(t: &str) -> Cow<'static, str> {
    match t {
        "WSS" => return Cow::Borrowed("WSS"),
        "WS" => return Cow::Borrowed("WS"),
        "UDP" => return Cow::Borrowed("UDP"),
        _ => {}
    }
    for k in ["WSS", "WS", "UDP", "TCP", "TLS", "SCTP"] {
        if t.eq_ignore_ascii_case(k) {
            return Cow::Borrowed(k);
        }
    }
    Cow::Owned(t.to_owned())
}

impl TypedHeader for Via {
    fn parse(value: &str) -> Result<Self, ParseError> {
        let (via, end) = Via::parse_at(value, 0)?;
        if scan::skip_ws(value.as_bytes(), end) != value.len() {
            return Err(ParseError::bad("unexpected text in Via"));
        }
        Ok(via)
    }
}

impl Print for Via {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(&self.protocol);
        out.push('/');
        out.push_str(&self.transport);
        out.push(' ');
        out.push_str(self.host());
        if let Some(p) = self.port {
            out.push(':');
            scan::push_decimal(out, u64::from(p));
        }
        out.push_str(self.params().as_str());
    }
}

display_by_print!(Via);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_spaces() {
        let v = Via::parse("SIP  /   2.0 /UDP     192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(v.protocol, "SIP/2.0");
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host(), "192.0.2.2");
        assert_eq!(v.branch(), Some("390skdjuw"));
        assert!(!v.is_rfc3261_branch());
        assert_eq!(Via::parse(&v.to_string()).unwrap(), v);
    }

    #[test]
    fn ws_and_rport() {
        let mut v = Via::new("wss", "a.invalid", Some(443), "z9hG4bK1");
        assert_eq!(v.transport, "WSS");
        v.set_param("received", Some("192.0.2.1"));
        v.set_param("branch", Some("z9hG4bK2"));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/WSS a.invalid:443;received=192.0.2.1;branch=z9hG4bK2"
        );
        assert_eq!(Via::parse(&v.to_string()).unwrap(), v);
        let v = Via::parse("sip / 2.0 / ws  h.invalid : 80 ; branch = z9hG4bKx ;rport").unwrap();
        assert_eq!((v.host(), v.port), ("h.invalid", Some(80)));
        assert_eq!(v.params().as_str(), ";branch=z9hG4bKx;rport");
        let v = Via::parse(
            "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK123;rport=54321;received=198.51.100.23",
        )
        .unwrap();
        assert_eq!(v.transport, "WSS");
        assert_eq!(v.rport(), Some(Some(54321)));
        assert_eq!(v.received(), Some("198.51.100.23"));
        assert!(v.is_rfc3261_branch());
        let v = Via::parse("SIP/2.0/UDP [2001:db8::1]:5060;rport").unwrap();
        assert_eq!(v.host(), "[2001:db8::1]");
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.rport(), Some(None));
    }

    #[test]
    fn rejects() {
        for bad in [
            "SIP/2.0/UDP 192.0.2.15;;",
            "SIP/2.0 host",
            "SIP/2.0/UDP",
            "SIP/2.0/UDPhost",
            "SIP/2.0/UDP h:99999",
            "SIP/2.0/UDP h x",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad:?}");
        }
    }
}

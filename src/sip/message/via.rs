//! The Via header (RFC 3261 §20.42, §18.2.2; RFC 3581 rport; RFC 7118 §5 WS/WSS).

use super::params::Params;
use super::scan::{self, Cursor};
use super::{ParseError, TypedHeader};
use std::borrow::Cow;
use std::fmt;

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
    /// The sent-by host.
    pub host: String,
    /// The sent-by port.
    pub port: Option<u16>,
    /// `via-params`: branch, received, rport, maddr, ttl, others.
    pub params: Params,
}

impl Via {
    /// `SIP/2.0/<transport> <host>;branch=<branch>`.
    pub fn new(transport: &str, host: &str, port: Option<u16>, branch: &str) -> Self {
        let mut params = Params::new();
        params.push("branch", Some(branch));
        Via {
            protocol: Cow::Borrowed("SIP/2.0"),
            transport: known_transport(transport),
            host: host.to_owned(),
            port,
            params,
        }
    }

    /// The branch parameter (RFC 3261 §20.42).
    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch").flatten()
    }

    /// True when the branch carries the RFC 3261 magic cookie (§17.2.3).
    pub fn is_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(BRANCH_MAGIC))
    }

    /// `received` (RFC 3261 §18.2.1).
    pub fn received(&self) -> Option<&str> {
        self.params.get("received").flatten()
    }

    /// `rport` with its value, if any (RFC 3581 §4).
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|v| scan::parse_decimal(v, 65535).map(|p| p as u16)))
    }
}

/// Known transports as static strings (no allocation per Via).
fn known_transport(t: &str) -> Cow<'static, str> {
    for k in ["WSS", "WS", "UDP", "TCP", "TLS", "SCTP"] {
        if t.eq_ignore_ascii_case(k) {
            return Cow::Borrowed(k);
        }
    }
    Cow::Owned(t.to_owned())
}

impl TypedHeader for Via {
    fn parse(value: &str) -> Result<Self, ParseError> {
        let mut c = Cursor::new(value);
        c.skip_ws();
        // sent-protocol = protocol-name SLASH protocol-version SLASH transport
        let name = c.token().ok_or(ParseError::bad("Via without protocol"))?;
        if !c.eat(b'/') {
            return Err(ParseError::bad("Via protocol without '/'"));
        }
        let version = c.token().ok_or(ParseError::bad("Via without version"))?;
        if !c.eat(b'/') {
            return Err(ParseError::bad("Via without transport"));
        }
        let transport = c.token().ok_or(ParseError::bad("Via without transport"))?;
        // LWS sent-by
        let before = c.pos();
        c.skip_ws();
        if c.pos() == before {
            return Err(ParseError::bad("Via without space before sent-by"));
        }
        let host = match c.ipv6_reference() {
            Some(v6) => v6.ok_or(ParseError::bad("bad IPv6 reference in Via"))?,
            None => c.take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')),
        };
        if host.is_empty() {
            return Err(ParseError::bad("Via without host"));
        }
        let port = if c.eat(b':') {
            let d = c.take_while(|b| b.is_ascii_digit());
            Some(scan::parse_decimal(d, 65535).ok_or(ParseError::bad("bad Via port"))? as u16)
        } else {
            None
        };
        let params = Params::parse_generic(&mut c)?;
        c.skip_ws();
        if !c.at_end() {
            return Err(ParseError::bad("unexpected text in Via"));
        }
        let protocol = if name.eq_ignore_ascii_case("SIP") && version == "2.0" {
            Cow::Borrowed("SIP/2.0")
        } else {
            Cow::Owned(format!("{name}/{version}"))
        };
        Ok(Via {
            protocol,
            transport: known_transport(transport),
            host: host.to_owned(),
            port,
            params,
        })
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} {}", self.protocol, self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        f.write_str(self.params.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_spaces() {
        let v = Via::parse("SIP  /   2.0 /UDP     192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(v.protocol, "SIP/2.0");
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host, "192.0.2.2");
        assert_eq!(v.branch(), Some("390skdjuw"));
        assert!(!v.is_rfc3261_branch());
        assert_eq!(Via::parse(&v.to_string()).unwrap(), v);
    }

    #[test]
    fn ws_and_rport() {
        let v = Via::parse(
            "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK123;rport=54321;received=198.51.100.23",
        )
        .unwrap();
        assert_eq!(v.transport, "WSS");
        assert_eq!(v.rport(), Some(Some(54321)));
        assert_eq!(v.received(), Some("198.51.100.23"));
        assert!(v.is_rfc3261_branch());
        let v = Via::parse("SIP/2.0/UDP [2001:db8::1]:5060;rport").unwrap();
        assert_eq!(v.host, "[2001:db8::1]");
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

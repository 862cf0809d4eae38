//! `name-addr` / `addr-spec` (RFC 3261 §20.10, §25.1) and the headers built from them:
//! From, To, Contact, Route, Record-Route, Refer-To, Referred-By.

use super::params::Params;
use super::scan;
use super::uri::Uri;
use super::{ParseError, Print, TypedHeader};

/// An address with an optional display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name without quotes or escapes (`Some("")` for `""`).
    pub display: Option<String>,
    /// The address.
    pub uri: Uri,
}

impl NameAddr {
    /// An address with no display name.
    pub fn new(uri: Uri) -> Self {
        NameAddr { display: None, uri }
    }

    /// Parses `name-addr` or `addr-spec` at byte `i` of `s`, returning it and where it
    /// ends. For an `addr-spec` (no angle brackets) the URI ends at the first `;`, `,`
    /// or whitespace, since the parameters that follow belong to the header (RFC 3261
    /// §20.10).
    pub(crate) fn parse_at(s: &str, i: usize) -> Result<(NameAddr, usize), ParseError> {
        let b = s.as_bytes();
        let mut i = scan::skip_ws(b, i);
        let mut display = None;
        match b.get(i) {
            Some(b'"') => {
                let e = scan::quoted_end(b, i)
                    .ok_or(ParseError::bad("unterminated quoted display name"))?;
                display = Some(scan::unquote(s.get(i..e).unwrap_or("")));
                i = scan::skip_ws(b, e);
                if b.get(i) != Some(&b'<') {
                    return Err(ParseError::bad("display name not followed by <URI>"));
                }
            }
            Some(b'<') => {}
            _ => {
                // `*(token LWS)` followed by `<`, or else an addr-spec.
                let (start, mut end, mut j) = (i, i, i);
                loop {
                    let t = scan::token_end(b, j);
                    if t == j {
                        break;
                    }
                    end = t;
                    j = scan::skip_ws(b, t);
                }
                if b.get(j) == Some(&b'<') {
                    display = Some(collapse_ws(s.get(start..end).unwrap_or("")));
                    i = j;
                } else {
                    let e = b
                        .get(start..)
                        .and_then(|r| {
                            r.iter()
                                .position(|c| matches!(c, b';' | b',' | b' ' | b'\t'))
                        })
                        .map_or(b.len(), |e| start + e);
                    let uri = Uri::parse(s.get(start..e).unwrap_or(""))?;
                    return Ok((NameAddr { display: None, uri }, e));
                }
            }
        }
        // LAQUOT addr-spec RAQUOT
        let close =
            scan::find2(b, i + 1, b'>', b'>').ok_or(ParseError::bad("missing '>' after URI"))?;
        let uri = Uri::parse(s.get(i + 1..close).unwrap_or(""))?;
        Ok((NameAddr { display, uri }, close + 1))
    }
}

/// Token display names keep single spaces between their words.
fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split([' ', '\t']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

impl Print for NameAddr {
    #[inline]
    fn print(&self, out: &mut String) {
        if let Some(d) = &self.display {
            scan::quote(d, out);
            out.push(' ');
        }
        out.push('<');
        self.uri.print(out);
        out.push('>');
    }
}

/// A name-addr followed by header parameters: the value of From, To, Route,
/// Record-Route, Refer-To, Referred-By and of each Contact (RFC 3261 §20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddrHeader {
    /// The address.
    pub addr: NameAddr,
    /// Header parameters (`;tag=..`, `;expires=..`, `;q=..`).
    pub params: Params,
}

impl NameAddrHeader {
    /// An address without parameters.
    pub fn new(uri: Uri) -> Self {
        NameAddrHeader {
            addr: NameAddr::new(uri),
            params: Params::new(),
        }
    }

    /// The `tag` parameter of From/To (RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag").flatten()
    }

    /// The URI.
    pub fn uri(&self) -> &Uri {
        &self.addr.uri
    }
}

impl NameAddrHeader {
    /// Parses `name-addr / addr-spec` and its header parameters at byte `i` of `s`,
    /// returning it and where it ends: the caller checks what follows (end of value
    /// or comma).
    pub(crate) fn parse_at(s: &str, i: usize) -> Result<(Self, usize), ParseError> {
        let (addr, i) = NameAddr::parse_at(s, i)?;
        let mut params = String::new();
        let end = super::params::generic_at(s, i, &mut params)?;
        Ok((
            NameAddrHeader {
                addr,
                params: Params::from_normalised(params),
            },
            end,
        ))
    }
}

impl TypedHeader for NameAddrHeader {
    fn parse(value: &str) -> Result<Self, ParseError> {
        let (h, end) = NameAddrHeader::parse_at(value, 0)?;
        if scan::skip_ws(value.as_bytes(), end) != value.len() {
            return Err(ParseError::bad("unexpected text after address"));
        }
        Ok(h)
    }
}

impl Print for NameAddrHeader {
    #[inline]
    fn print(&self, out: &mut String) {
        self.addr.print(out);
        self.params.print(out);
    }
}

/// One Contact value (RFC 3261 §20.10): `*` or an address with parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    /// `Contact: *` (only in a REGISTER removing all bindings, RFC 3261 §10.2.2).
    Star,
    /// An address.
    Addr(NameAddrHeader),
}

impl Contact {
    /// The address, unless this is `*`.
    pub fn addr(&self) -> Option<&NameAddrHeader> {
        match self {
            Contact::Star => None,
            Contact::Addr(a) => Some(a),
        }
    }

    /// The `expires` parameter, which must fit `delta-seconds` (RFC 3261 §20.10).
    pub fn expires(&self) -> Option<u32> {
        let v = self.addr()?.params.get("expires").flatten()?;
        scan::parse_decimal(v, u64::from(u32::MAX)).map(|v| v as u32)
    }
}

impl Contact {
    /// Parses one Contact element at byte `i` of `s` (see [`NameAddrHeader::parse_at`]).
    pub(crate) fn parse_at(s: &str, i: usize) -> Result<(Self, usize), ParseError> {
        let b = s.as_bytes();
        let i = scan::skip_ws(b, i);
        if b.get(i) == Some(&b'*') {
            let after = scan::skip_ws(b, i + 1);
            if matches!(b.get(after), None | Some(b',')) {
                return Ok((Contact::Star, after));
            }
        }
        NameAddrHeader::parse_at(s, i).map(|(h, e)| (Contact::Addr(h), e))
    }
}

impl TypedHeader for Contact {
    fn parse(value: &str) -> Result<Self, ParseError> {
        let (h, end) = Contact::parse_at(value, 0)?;
        if scan::skip_ws(value.as_bytes(), end) != value.len() {
            return Err(ParseError::bad("unexpected text after address"));
        }
        Ok(h)
    }
}

impl Print for Contact {
    #[inline]
    fn print(&self, out: &mut String) {
        match self {
            Contact::Star => out.push('*'),
            Contact::Addr(a) => a.print(out),
        }
    }
}

display_by_print!(NameAddr, NameAddrHeader, Contact);

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(s: &str) -> NameAddrHeader {
        let h = NameAddrHeader::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(
            NameAddrHeader::parse(&h.to_string()).unwrap(),
            h,
            "round trip of {s}"
        );
        h
    }

    #[test]
    fn forms() {
        let h = rt(r#""J Rosenberg \\\""       <sip:jdrosen@example.com>  ;  tag = 98asjd8"#);
        assert_eq!(h.addr.display.as_deref(), Some(r#"J Rosenberg \""#));
        assert_eq!(h.tag(), Some("98asjd8"));
        let h = rt("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
        assert_eq!(h.addr.display, None);
        assert_eq!(h.uri().host(), Some("chair-dnrc.example.com"));
        assert_eq!(h.tag(), Some("1918181833n"));
        let h = rt("caller<sip:caller@example.com>;tag=323");
        assert_eq!(h.addr.display.as_deref(), Some("caller"));
        let h =
            rt("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-=value");
        assert_eq!(
            h.addr.display.as_deref(),
            Some("token1~` token2'+_ token3*%!.-")
        );
        let h = rt(r#""" <sip:a@b;lr>"#);
        assert_eq!(h.addr.display.as_deref(), Some(""));
        assert_eq!(h.uri().param("lr"), Some(None));
    }

    #[test]
    fn rejects() {
        for bad in [
            r#""Mr. J. User <sip:j.user@example.com>"#,
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "<sip:a@b",
            "<sip:a@b>;;",
            "\"x\" sip:a@b",
            "<sip:a@b> junk",
            "",
        ] {
            assert!(
                NameAddrHeader::parse(bad).is_err(),
                "{bad:?} must be rejected"
            );
        }
    }

    #[test]
    fn contacts() {
        assert_eq!(Contact::parse(" * ").unwrap(), Contact::Star);
        let c = Contact::parse("<sip:u@h;transport=ws>;expires=600;+sip.instance=\"<urn:uuid:1>\"")
            .unwrap();
        assert_eq!(c.expires(), Some(600));
        assert!(Contact::parse("<sip:u@h>;expires=280297596632815")
            .unwrap()
            .expires()
            .is_none());
    }
}

//! Typed values of the smaller headers a UA reads (RFC 3261 §20 and the RFCs that
//! define the extension headers). Each type parses one header value (one element of a
//! comma-separated list) and prints back to a value that parses to the same thing.

use super::params::Params;
use super::scan::{self, Cursor};
use super::{Method, ParseError, Print, TypedHeader};

/// `CSeq: 4711 INVITE` (RFC 3261 §20.16): a 32-bit sequence number and the method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number, less than 2**31 when we choose it, up to 2**32-1 accepted.
    pub seq: u32,
    /// The request method.
    pub method: Method,
}

impl TypedHeader for CSeq {
    fn parse(value: &str) -> Result<Self, ParseError> {
        let b = value.as_bytes();
        let d = scan::skip_ws(b, 0);
        let mut n = d;
        while b.get(n).is_some_and(u8::is_ascii_digit) {
            n += 1;
        }
        let seq = value
            .get(d..n)
            .and_then(|n| scan::parse_decimal(n, u64::from(u32::MAX)))
            .ok_or(ParseError::bad("CSeq number missing or above 2**32-1"))?
            as u32;
        let m = scan::skip_ws(b, n);
        if m == n {
            return Err(ParseError::bad("CSeq without space before the method"));
        }
        let e = scan::token_end(b, m);
        if e == m {
            return Err(ParseError::bad("CSeq without method"));
        }
        if scan::skip_ws(b, e) != b.len() {
            return Err(ParseError::bad("unexpected text in CSeq"));
        }
        Ok(CSeq {
            seq,
            method: Method::from_token(value.get(m..e).unwrap_or("")),
        })
    }
}

impl Print for CSeq {
    #[inline]
    fn print(&self, out: &mut String) {
        scan::push_decimal(out, u64::from(self.seq));
        out.push(' ');
        out.push_str(self.method.as_str());
    }
}

/// Call-ID (RFC 3261 §20.8): `word [ "@" word ]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallId(pub String);

impl TypedHeader for CallId {
    fn parse(value: &str) -> Result<Self, ParseError> {
        let v = scan::trim_ws(value);
        // word [ "@" word ]: `word` excludes '@'; non-empty on both sides.
        let b = v.as_bytes();
        let w = b.iter().position(|&c| !scan::is_word(c)).unwrap_or(b.len());
        let ok = w > 0
            && (w == b.len()
                || (b.get(w) == Some(&b'@')
                    && w + 1 < b.len()
                    && b.get(w + 1..)
                        .is_some_and(|r| r.iter().all(|&c| scan::is_word(c)))));
        if !ok {
            return Err(ParseError::bad("invalid Call-ID"));
        }
        Ok(CallId(v.to_owned()))
    }
}

impl Print for CallId {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

/// Content-Length, Expires, Min-Expires (`1*DIGIT`, up to 2**32-1, RFC 3261 §20.14,
/// §20.19, §20.23).
impl TypedHeader for u32 {
    fn parse(value: &str) -> Result<Self, ParseError> {
        scan::parse_decimal(scan::trim_ws(value), u64::from(u32::MAX))
            .map(|v| v as u32)
            .ok_or(ParseError::bad("number missing or out of range"))
    }
}

/// Max-Forwards: `1*DIGIT` from 0 to 255 (RFC 3261 §20.22).
impl TypedHeader for u8 {
    fn parse(value: &str) -> Result<Self, ParseError> {
        scan::parse_decimal(scan::trim_ws(value), 255)
            .map(|v| v as u8)
            .ok_or(ParseError::bad("Max-Forwards missing or above 255"))
    }
}

/// Free text (User-Agent, Server, Subject, Organization...): the value as it is.
impl TypedHeader for String {
    fn parse(value: &str) -> Result<Self, ParseError> {
        Ok(scan::trim_ws(value).to_owned())
    }
}

/// An element of Allow (RFC 3261 §20.5).
impl TypedHeader for Method {
    fn parse(value: &str) -> Result<Self, ParseError> {
        let v = scan::trim_ws(value);
        if !scan::is_token_str(v) {
            return Err(ParseError::bad("invalid method"));
        }
        Ok(Method::from_token(v))
    }
}

/// An option tag of Supported, Require, Proxy-Require, Unsupported (RFC 3261 §20.37),
/// or any other single-token list element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token(pub String);

impl TypedHeader for Token {
    fn parse(value: &str) -> Result<Self, ParseError> {
        let v = scan::trim_ws(value);
        if !scan::is_token_str(v) {
            return Err(ParseError::bad("invalid token"));
        }
        Ok(Token(v.to_owned()))
    }
}

impl Print for Token {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

/// A media type with parameters: Content-Type (RFC 3261 §20.15) and each Accept
/// element (§20.1, where `*` is allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    /// `application`, `multipart`, `*`...
    pub mtype: String,
    /// `sdp`, `mixed`, `*`...
    pub subtype: String,
    /// `;boundary=..`, `;q=..`
    pub params: Params,
}

impl MediaType {
    /// True when `type/subtype` equals (case-insensitively) or is matched by wildcards.
    pub fn matches(&self, mtype: &str, subtype: &str) -> bool {
        (self.mtype == "*" || self.mtype.eq_ignore_ascii_case(mtype))
            && (self.subtype == "*" || self.subtype.eq_ignore_ascii_case(subtype))
    }
}

impl TypedHeader for MediaType {
    fn parse(value: &str) -> Result<Self, ParseError> {
        let mut c = Cursor::new(value);
        c.skip_ws();
        let t = c.token().ok_or(ParseError::bad("media type missing"))?;
        if !c.eat(b'/') {
            return Err(ParseError::bad("media type without '/'"));
        }
        let s = c.token().ok_or(ParseError::bad("media subtype missing"))?;
        let params = Params::parse_generic(&mut c)?;
        c.skip_ws();
        if !c.at_end() {
            return Err(ParseError::bad("unexpected text in media type"));
        }
        Ok(MediaType {
            mtype: t.to_owned(),
            subtype: s.to_owned(),
            params,
        })
    }
}

impl Print for MediaType {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(&self.mtype);
        out.push('/');
        out.push_str(&self.subtype);
        self.params.print(out);
    }
}

/// A token followed by parameters: Event (RFC 6665 §8.2.1), Subscription-State
/// (RFC 6665 §8.2.3), Reason (RFC 3326 §2), Content-Disposition (RFC 3261 §20.11),
/// Allow-Events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenParams {
    /// The event package, state, protocol or disposition.
    pub value: String,
    /// Its parameters (`;id=`, `;expires=`, `;cause=`, `;text=`, `;handling=`).
    pub params: Params,
}

impl TypedHeader for TokenParams {
    fn parse(value: &str) -> Result<Self, ParseError> {
        let mut c = Cursor::new(value);
        c.skip_ws();
        let v = c.token().ok_or(ParseError::bad("token missing"))?;
        let params = Params::parse_generic(&mut c)?;
        c.skip_ws();
        if !c.at_end() {
            return Err(ParseError::bad("unexpected text after parameters"));
        }
        Ok(TokenParams {
            value: v.to_owned(),
            params,
        })
    }
}

impl Print for TokenParams {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(&self.value);
        self.params.print(out);
    }
}

/// Seconds followed by parameters: Session-Expires (`;refresher=uac|uas`,
/// RFC 4028 §4) and Min-SE (RFC 4028 §5), Retry-After (RFC 3261 §20.33).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaParams {
    /// Delta-seconds.
    pub seconds: u32,
    /// Parameters.
    pub params: Params,
}

impl TypedHeader for DeltaParams {
    fn parse(value: &str) -> Result<Self, ParseError> {
        let mut c = Cursor::new(value);
        c.skip_ws();
        let n = c.take_while(|b| b.is_ascii_digit());
        let seconds = scan::parse_decimal(n, u64::from(u32::MAX))
            .ok_or(ParseError::bad("delta-seconds missing or out of range"))?
            as u32;
        let params = Params::parse_generic(&mut c)?;
        c.skip_ws();
        if !c.at_end() {
            return Err(ParseError::bad("unexpected text after delta-seconds"));
        }
        Ok(DeltaParams { seconds, params })
    }
}

impl Print for DeltaParams {
    #[inline]
    fn print(&self, out: &mut String) {
        scan::push_decimal(out, u64::from(self.seconds));
        self.params.print(out);
    }
}

/// Replaces (RFC 3891 §6.1): the Call-ID of a dialog with `to-tag`, `from-tag` and
/// optional `early-only`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaces {
    /// The Call-ID of the dialog to replace.
    pub call_id: String,
    /// `;to-tag=..;from-tag=..;early-only`.
    pub params: Params,
}

impl Replaces {
    /// The `to-tag` parameter.
    pub fn to_tag(&self) -> Option<&str> {
        self.params.get("to-tag").flatten()
    }
    /// The `from-tag` parameter.
    pub fn from_tag(&self) -> Option<&str> {
        self.params.get("from-tag").flatten()
    }
    /// `early-only` (RFC 3891 §3).
    pub fn early_only(&self) -> bool {
        self.params.has("early-only")
    }
}

impl TypedHeader for Replaces {
    fn parse(value: &str) -> Result<Self, ParseError> {
        let mut c = Cursor::new(value);
        c.skip_ws();
        let id = c.take_while(|b| scan::is_word(b) || b == b'@');
        CallId::parse(id)?;
        let params = Params::parse_generic(&mut c)?;
        c.skip_ws();
        if !c.at_end() {
            return Err(ParseError::bad("unexpected text in Replaces"));
        }
        let r = Replaces {
            call_id: id.to_owned(),
            params,
        };
        if r.to_tag().is_none() || r.from_tag().is_none() {
            return Err(ParseError::bad("Replaces needs to-tag and from-tag"));
        }
        Ok(r)
    }
}

impl Print for Replaces {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(&self.call_id);
        self.params.print(out);
    }
}

display_by_print!(
    CSeq,
    CallId,
    Token,
    MediaType,
    TokenParams,
    DeltaParams,
    Replaces
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    fn rt<T: TypedHeader + fmt::Display + PartialEq + fmt::Debug>(s: &str) -> T {
        let v = T::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(T::parse(&v.to_string()).unwrap(), v);
        v
    }

    #[test]
    fn cseq() {
        let c: CSeq = rt("0009\tINVITE");
        assert_eq!((c.seq, c.method), (9, Method::Invite));
        assert!(CSeq::parse("36893488147419103232 REGISTER").is_err());
        assert!(CSeq::parse("4294967296 REGISTER").is_err());
        assert_eq!(CSeq::parse("4294967295 REGISTER").unwrap().seq, u32::MAX);
        assert!(CSeq::parse("1INVITE").is_err());
        assert!(CSeq::parse("-1 INVITE").is_err());
    }

    #[test]
    fn small_headers() {
        assert_eq!(
            CallId::parse("wsinv.ndaksdj@192.0.2.1").unwrap().0,
            "wsinv.ndaksdj@192.0.2.1"
        );
        assert!(CallId::parse("a b").is_err());
        assert!(CallId::parse("a@").is_err());
        assert_eq!(u8::parse("0068").unwrap(), 68);
        assert!(u8::parse("300").is_err());
        assert!(u32::parse("-999").is_err());
        let m: MediaType = rt("multipart/mixed;boundary=7a9cbec02ceef655");
        assert!(m.matches("MULTIPART", "mixed"));
        assert_eq!(m.params.get("boundary"), Some(Some("7a9cbec02ceef655")));
        let e: TokenParams = rt("refer;id=93809824");
        assert_eq!(e.value, "refer");
        let s: TokenParams = rt("terminated;reason=noresource");
        assert_eq!(s.params.get("reason"), Some(Some("noresource")));
        let r: TokenParams = rt("Q.850 ;cause=16 ;text=\"Normal call clearing\"");
        assert_eq!(
            r.params.get_unquoted("text").as_deref(),
            Some("Normal call clearing")
        );
        let se: DeltaParams = rt("1800;refresher=uac");
        assert_eq!(se.seconds, 1800);
        let rep: Replaces = rt("8jqa3ndcmv0uf0a2ncb4;to-tag=b1;from-tag=a1;early-only");
        assert!(rep.early_only());
        assert_eq!(rep.to_tag(), Some("b1"));
        assert!(Replaces::parse("abc;to-tag=1").is_err());
        assert_eq!(Method::parse("INFO").unwrap(), Method::Info);
        assert!(Token::parse("100rel").is_ok());
        assert!(Token::parse("a b").is_err());
    }
}

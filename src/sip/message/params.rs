//! Parameter lists: `;name=value` after URIs (RFC 3261 §19.1.1) and after header
//! values (`generic-param`, RFC 3261 §25.1).

use super::scan::{self, Cursor};
use super::ParseError;
use std::fmt;

/// An ordered parameter list kept in its normalised text form (`;a=b;lr`), which
/// is cheap to parse, compare and print. Names compare case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params(String);

impl Params {
    /// An empty list.
    pub fn new() -> Self {
        Params(String::new())
    }

    /// True when there is no parameter.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The normalised text, each parameter preceded by `;`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Iterates `(name, value)`; a flag parameter (`;lr`) has no value.
    pub fn iter(&self) -> ParamIter<'_> {
        ParamIter { s: &self.0 }
    }

    /// The value of `name`: `None` when absent, `Some(None)` for a flag.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The value of `name`, with the quotes of a quoted-string removed.
    pub fn get_unquoted(&self, name: &str) -> Option<String> {
        self.get(name).flatten().map(|v| {
            if v.starts_with('"') {
                scan::unquote(v)
            } else {
                v.to_owned()
            }
        })
    }

    /// True when `name` is present (with or without a value).
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Appends or replaces `name`. The caller passes a value valid for the context
    /// (a token, host or quoted-string).
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        self.remove(name);
        self.push(name, value);
    }

    /// Appends without checking for an existing one.
    pub fn push(&mut self, name: &str, value: Option<&str>) {
        self.0.push(';');
        self.0.push_str(name);
        if let Some(v) = value {
            self.0.push('=');
            self.0.push_str(v);
        }
    }

    /// Removes every parameter called `name`.
    pub fn remove(&mut self, name: &str) {
        if !self.has(name) {
            return;
        }
        let mut out = String::with_capacity(self.0.len());
        for (n, v) in self.iter() {
            if !n.eq_ignore_ascii_case(name) {
                out.push(';');
                out.push_str(n);
                if let Some(v) = v {
                    out.push('=');
                    out.push_str(v);
                }
            }
        }
        self.0 = out;
    }

    /// Parses header parameters (`*( SEMI generic-param )`, RFC 3261 §25.1) at the
    /// cursor, tolerating LWS around `;` and `=`. Stops before anything else.
    pub(crate) fn parse_generic(c: &mut Cursor<'_>) -> Result<Params, ParseError> {
        let mut out = String::new();
        while c.eat(b';') {
            let name = c
                .token()
                .ok_or(ParseError::bad("empty or invalid header parameter"))?;
            out.push(';');
            out.push_str(name);
            if c.eat(b'=') {
                let v = if c.peek() == Some(b'"') {
                    c.quoted()
                        .ok_or(ParseError::bad("unterminated quoted parameter value"))?
                } else if let Some(v6) = c.ipv6_reference() {
                    v6.ok_or(ParseError::bad("bad IPv6 parameter value"))?
                } else {
                    c.token()
                        .ok_or(ParseError::bad("invalid header parameter value"))?
                };
                out.push('=');
                out.push_str(v);
            }
        }
        Ok(Params(out))
    }

    /// Parses URI parameters (`*( ";" uri-parameter )`, RFC 3261 §19.1.1): no LWS,
    /// `paramchar`s and escapes only, non-empty names.
    pub(crate) fn parse_uri(s: &str) -> Result<Params, ParseError> {
        if s.is_empty() {
            return Ok(Params::new());
        }
        let body = s
            .strip_prefix(';')
            .ok_or(ParseError::bad("URI parameters must start with ';'"))?;
        for p in body.split(';') {
            let (n, v) = match p.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (p, None),
            };
            if n.is_empty() || !scan::is_escaped_run(n, scan::is_paramchar) {
                return Err(ParseError::bad("invalid URI parameter name"));
            }
            if let Some(v) = v {
                if v.is_empty() || !scan::is_escaped_run(v, scan::is_paramchar) {
                    return Err(ParseError::bad("invalid URI parameter value"));
                }
            }
        }
        Ok(Params(s.to_owned()))
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Iterator over a [`Params`] list.
#[derive(Debug)]
pub struct ParamIter<'a> {
    s: &'a str,
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = (&'a str, Option<&'a str>);
    fn next(&mut self) -> Option<Self::Item> {
        let s = self.s.strip_prefix(';')?;
        // The next ';' outside a quoted string ends this parameter.
        let b = s.as_bytes();
        let mut i = 0;
        let mut in_q = false;
        while let Some(&c) = b.get(i) {
            match c {
                b'\\' if in_q => i += 1,
                b'"' => in_q = !in_q,
                b';' if !in_q => break,
                _ => {}
            }
            i += 1;
        }
        let end = i.min(s.len());
        let (p, rest) = (s.get(..end)?, s.get(end..)?);
        self.s = rest;
        Some(match p.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (p, None),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_with_lws() {
        let mut c = Cursor::new(" ;   tag    = 1918181833n ; lr;x=\"a;b\"");
        let p = Params::parse_generic(&mut c).unwrap();
        assert_eq!(p.as_str(), ";tag=1918181833n;lr;x=\"a;b\"");
        assert_eq!(p.get("TAG"), Some(Some("1918181833n")));
        assert_eq!(p.get("lr"), Some(None));
        assert_eq!(p.get_unquoted("x").as_deref(), Some("a;b"));
        assert!(c.at_end());
    }

    #[test]
    fn generic_rejects_empty() {
        assert!(Params::parse_generic(&mut Cursor::new(";;")).is_err());
        assert!(Params::parse_generic(&mut Cursor::new(";a=")).is_err());
        assert!(Params::parse_generic(&mut Cursor::new(";a=\"x")).is_err());
    }

    #[test]
    fn ipv6_value() {
        let mut c = Cursor::new(";received=[2001:db8::9:1];rport=5060");
        let p = Params::parse_generic(&mut c).unwrap();
        assert_eq!(p.get("received"), Some(Some("[2001:db8::9:1]")));
        assert_eq!(p.get("rport"), Some(Some("5060")));
    }

    #[test]
    fn set_remove() {
        let mut p = Params::parse_uri(";transport=ws;lr").unwrap();
        p.set("transport", Some("tcp"));
        assert_eq!(p.as_str(), ";lr;transport=tcp");
        p.remove("LR");
        assert_eq!(p.as_str(), ";transport=tcp");
        assert!(Params::parse_uri(";a b").is_err());
        assert!(Params::parse_uri(";=x").is_err());
    }
}

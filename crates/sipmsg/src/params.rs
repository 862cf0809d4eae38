//! Parameter lists: `;name=value` after URIs (RFC 3261 §19.1.1) and after header
//! values (`generic-param`, RFC 3261 §25.1).

use super::scan::{self, Cursor};
use super::{ParseError, Print};

/// An ordered parameter list kept in its normalised text form (`;a=b;lr`), which
/// is cheap to parse, compare and print. Names compare case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params(String);

/// A borrowed parameter list in normalised text form: the parameters of a
/// [`SipUri`](super::SipUri) or [`Via`](super::Via), which keep them in the same
/// string as their other parts, or [`Params::view`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ParamsRef<'a>(&'a str);

impl<'a> ParamsRef<'a> {
    /// A view of normalised parameter text (each parameter preceded by `;`).
    pub(crate) fn new(s: &'a str) -> Self {
        ParamsRef(s)
    }

    /// True when there is no parameter.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The normalised text, each parameter preceded by `;`.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// Iterates `(name, value)`; a flag parameter (`;lr`) has no value.
    pub fn iter(&self) -> ParamIter<'a> {
        ParamIter { s: self.0 }
    }

    /// The value of `name`: `None` when absent, `Some(None)` for a flag.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.iter()
            .find(|(n, _)| *n == name || n.eq_ignore_ascii_case(name))
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

    /// The list with `name` removed and then, when `set`, `;name[=value]` appended.
    pub(crate) fn with(&self, name: &str, set: Option<Option<&str>>) -> String {
        let mut out = String::with_capacity(self.0.len() + name.len() + 16);
        for (n, v) in self.iter().filter(|(n, _)| !n.eq_ignore_ascii_case(name)) {
            push_param(&mut out, n, v);
        }
        if let Some(v) = set {
            push_param(&mut out, name, v);
        }
        out
    }
}

fn push_param(out: &mut String, name: &str, value: Option<&str>) {
    out.push(';');
    out.push_str(name);
    if let Some(v) = value {
        out.push('=');
        out.push_str(v);
    }
}

impl Print for ParamsRef<'_> {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(self.0);
    }
}

impl Params {
    /// An empty list.
    pub fn new() -> Self {
        Params(String::new())
    }

    /// The list as a borrowed view.
    pub fn view(&self) -> ParamsRef<'_> {
        ParamsRef(&self.0)
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
        self.view().iter()
    }

    /// The value of `name`: `None` when absent, `Some(None)` for a flag.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.view().get(name)
    }

    /// The value of `name`, with the quotes of a quoted-string removed.
    pub fn get_unquoted(&self, name: &str) -> Option<String> {
        self.view().get_unquoted(name)
    }

    /// True when `name` is present (with or without a value).
    pub fn has(&self, name: &str) -> bool {
        self.view().has(name)
    }

    /// Appends or replaces `name`. The caller passes a value valid for the context
    /// (a token, host or quoted-string).
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        self.0 = self.view().with(name, Some(value));
    }

    /// Appends without checking for an existing one.
    pub fn push(&mut self, name: &str, value: Option<&str>) {
        push_param(&mut self.0, name, value);
    }

    /// Removes every parameter called `name`.
    pub fn remove(&mut self, name: &str) {
        if self.has(name) {
            self.0 = self.view().with(name, None);
        }
    }

    /// Parameters already in normalised form (from [`generic_at`]).
    pub(crate) fn from_normalised(s: String) -> Self {
        Params(s)
    }

    /// Parses header parameters (`*( SEMI generic-param )`, RFC 3261 §25.1) at the
    /// cursor, tolerating LWS around `;` and `=`. Stops before anything else.
    pub(crate) fn parse_generic(c: &mut Cursor<'_>) -> Result<Params, ParseError> {
        let mut out = String::new();
        generic_into(c, &mut out)?;
        Ok(Params(out))
    }

    /// Parses URI parameters (`*( ";" uri-parameter )`, RFC 3261 §19.1.1): no LWS,
    /// `paramchar`s and escapes only, non-empty names.
    pub(crate) fn parse_uri(s: &str) -> Result<Params, ParseError> {
        if uri_params_end(s.as_bytes(), 0)? != s.len() {
            return Err(ParseError::bad("invalid URI parameter"));
        }
        Ok(Params(s.to_owned()))
    }
}

/// Checks header parameters at the cursor (see [`Params::parse_generic`]) and appends
/// their normalised text to `out`: the text as written when it has no LWS (the common
/// case, one copy), rebuilt without it otherwise.
pub(crate) fn generic_into(c: &mut Cursor<'_>, out: &mut String) -> Result<(), ParseError> {
    let end = generic_at(c.all(), c.pos(), out)?;
    c.set_pos(end);
    Ok(())
}

/// [`generic_into`] for the parameters at byte `start` of `s`; returns their end.
pub(crate) fn generic_at(s: &str, start: usize, out: &mut String) -> Result<usize, ParseError> {
    if let Some(end) = clean_generic_end(s.as_bytes(), start) {
        let text = s.get(start..end).unwrap_or("");
        if out.is_empty() {
            // One exact allocation rather than growing an empty string.
            *out = String::from(text);
        } else {
            out.push_str(text);
        }
        return Ok(end);
    }
    let mut c = Cursor::new(s);
    c.set_pos(start);
    if scan_generic(&mut c, None)? {
        out.push_str(c.rest_from(start));
    } else {
        let mut again = Cursor::new(s);
        again.set_pos(start);
        scan_generic(&mut again, Some(out))?;
    }
    Ok(c.pos())
}

/// The fast path of [`generic_at`]: the end of `*( ";" token [ "=" ( token /
/// quoted-string ) ] )` at `i` when it is valid, has no LWS and is not followed by
/// LWS; `None` sends the caller to the general walk (which also reports errors).
fn clean_generic_end(b: &[u8], mut i: usize) -> Option<usize> {
    while b.get(i) == Some(&b';') {
        let n = scan::token_end(b, i + 1);
        if n == i + 1 {
            return None;
        }
        i = n;
        if b.get(i) == Some(&b'=') {
            i = if b.get(i + 1) == Some(&b'"') {
                scan::quoted_end(b, i + 1)?
            } else {
                Some(scan::token_end(b, i + 1)).filter(|&e| e > i + 1)?
            };
        }
    }
    (!b.get(i).is_some_and(|&c| scan::is_ws(c))).then_some(i)
}

/// Walks `*( SEMI generic-param )`, pushing each parameter in normalised form to `out`
/// when given; returns true when no LWS was skipped.
fn scan_generic(c: &mut Cursor<'_>, mut out: Option<&mut String>) -> Result<bool, ParseError> {
    let mut clean = true;
    loop {
        let p = c.pos();
        if !c.eat(b';') {
            return Ok(clean);
        }
        clean &= c.pos() == p + 1;
        let name = c
            .token()
            .ok_or(ParseError::bad("empty or invalid header parameter"))?;
        let p = c.pos();
        let value = if c.eat(b'=') {
            clean &= c.pos() == p + 1;
            Some(if c.peek() == Some(b'"') {
                c.quoted()
                    .ok_or(ParseError::bad("unterminated quoted parameter value"))?
            } else if let Some(v6) = c.ipv6_reference() {
                v6.ok_or(ParseError::bad("bad IPv6 parameter value"))?
            } else {
                c.token()
                    .ok_or(ParseError::bad("invalid header parameter value"))?
            })
        } else {
            None
        };
        if let Some(o) = out.as_deref_mut() {
            push_param(o, name, value);
        }
    }
}

/// The end of the URI parameters (`*( ";" pname [ "=" pvalue ] )`, RFC 3261 §19.1.1)
/// starting at `i`: non-empty `paramchar` runs with escapes, no LWS.
pub(crate) fn uri_params_end(b: &[u8], mut i: usize) -> Result<usize, ParseError> {
    while b.get(i) == Some(&b';') {
        let n = scan::escaped_run_end(b, i + 1, scan::is_paramchar)
            .filter(|&e| e > i + 1)
            .ok_or(ParseError::bad("invalid URI parameter name"))?;
        i = n;
        if b.get(i) == Some(&b'=') {
            i = scan::escaped_run_end(b, i + 1, scan::is_paramchar)
                .filter(|&e| e > i + 1)
                .ok_or(ParseError::bad("invalid URI parameter value"))?;
        }
    }
    Ok(i)
}

impl Print for Params {
    #[inline]
    fn print(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

display_by_print!(ParamsRef<'_>, Params);

/// Iterator over a [`Params`] list.
#[derive(Debug)]
pub struct ParamIter<'a> {
    s: &'a str,
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = (&'a str, Option<&'a str>);
    fn next(&mut self) -> Option<Self::Item> {
        let s = self.s.strip_prefix(';')?;
        // The next ';' outside a quoted string ends this parameter (found a word at a
        // time up to the first quote, if any); its first '=' ends the name.
        let b = s.as_bytes();
        let mut end = scan::find2(b, 0, b';', b'"').unwrap_or(b.len());
        if b.get(end) == Some(&b'"') {
            let mut in_q = false;
            while let Some(&c) = b.get(end) {
                match c {
                    b'\\' if in_q => end += 1,
                    b'"' => in_q = !in_q,
                    b';' if !in_q => break,
                    _ => {}
                }
                end += 1;
            }
        }
        let end = end.min(b.len());
        self.s = s.get(end..)?;
        let p = s.get(..end)?;
        Some(match p.bytes().position(|c| c == b'=') {
            Some(e) => (p.get(..e)?, Some(p.get(e + 1..)?)),
            None => (p, None),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_with_lws() {
        let p = ParamsRef::new(";a=\"x;y=z\";b;C=1=2");
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            [("a", Some("\"x;y=z\"")), ("b", None), ("C", Some("1=2"))]
        );
        assert_eq!((p.get("c"), p.get("y")), (Some(Some("1=2")), None));
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

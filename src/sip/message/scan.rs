//! Character classes and small lexers of the SIP grammar (RFC 3261 §25.1).
//!
//! Everything here works on `&str` slices and returns `None`/errors instead of
//! panicking: these functions see raw network input.

/// Character class bits, one table lookup per byte.
const ALNUM: u8 = 1;
/// `mark` (RFC 3261 §25.1): `- _ . ! ~ * ' ( )`.
const MARK: u8 = 2;
/// token characters besides alphanumerics: `- . ! % * _ + ` ' ~`.
const TOKEN: u8 = 4;
/// `user-unreserved`: `& = + $ , ; ? /`.
const USER: u8 = 8;
/// `param-unreserved`: `[ ] / : & + $`.
const PARAM: u8 = 16;
/// `hnv-unreserved`: `[ ] / ? : + $`.
const HNV: u8 = 32;
/// `word` characters besides token ones: `( ) < > : \ " / [ ] ? { }`.
const WORD: u8 = 64;

/// Sets `bit` for every byte of `chars`.
const fn mark(mut t: [u8; 256], chars: &[u8], bit: u8) -> [u8; 256] {
    let mut i = 0;
    while i < chars.len() {
        t[chars[i] as usize] |= bit;
        i += 1;
    }
    t
}

const fn build_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        if (c as u8).is_ascii_alphanumeric() {
            t[c] |= ALNUM | TOKEN | WORD;
        }
        c += 1;
    }
    t = mark(t, b"-_.!~*'()", MARK);
    t = mark(t, b"-.!%*_+`'~", TOKEN | WORD);
    t = mark(t, b"&=+$,;?/", USER);
    t = mark(t, b"[]/:&+$", PARAM);
    t = mark(t, b"[]/?:+$", HNV);
    mark(t, b"()<>:\\\"/[]?{}", WORD)
}

static TABLE: [u8; 256] = build_table();

#[inline]
fn class(b: u8) -> u8 {
    TABLE[b as usize]
}

/// `token` character (RFC 3261 §25.1).
#[inline]
pub fn is_token(b: u8) -> bool {
    class(b) & TOKEN != 0
}

/// `unreserved` = alphanum / mark.
#[inline]
pub fn is_unreserved(b: u8) -> bool {
    class(b) & (ALNUM | MARK) != 0
}

/// A character allowed (unescaped) in the `user` part of a SIP URI.
#[inline]
pub fn is_user(b: u8) -> bool {
    class(b) & (ALNUM | MARK | USER) != 0
}

/// A character allowed in the `password` part of a SIP URI.
#[inline]
pub fn is_password(b: u8) -> bool {
    is_unreserved(b) || matches!(b, b'&' | b'=' | b'+' | b'$' | b',')
}

/// `paramchar` of a SIP URI parameter.
#[inline]
pub fn is_paramchar(b: u8) -> bool {
    class(b) & (ALNUM | MARK | PARAM) != 0
}

/// `hname`/`hvalue` characters of a SIP URI header.
#[inline]
pub fn is_hnv(b: u8) -> bool {
    class(b) & (ALNUM | MARK | HNV) != 0
}

/// `word` character (Call-ID, RFC 3261 §25.1).
#[inline]
pub fn is_word(b: u8) -> bool {
    class(b) & WORD != 0
}

/// A whole non-empty string of `token` characters.
pub fn is_token_str(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token)
}

/// Checks a run of characters of class `ok`, where `%HH` escapes are also allowed.
pub fn is_escaped_run(s: &str, ok: fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return false,
            }
        } else if ok(c) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// Decodes `%HH` escapes (RFC 3261 §19.1.2); invalid escapes are kept as they are.
pub fn unescape(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|x| (*x as char).to_digit(16)),
                b.get(i + 2).and_then(|x| (*x as char).to_digit(16)),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whitespace inside a header value after unfolding: SP or HTAB.
#[inline]
pub fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trims SP/HTAB (not other Unicode whitespace) from both ends.
pub fn trim_ws(s: &str) -> &str {
    let b = s.as_bytes();
    let start = b.iter().position(|&c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !is_ws(c)).map_or(start, |e| e + 1);
    // SP/HTAB are ASCII, so both ends are char boundaries.
    s.get(start..end.max(start)).unwrap_or("")
}

/// Parses a decimal number of at most `max`; `1*DIGIT`, nothing else (no sign, no spaces).
pub fn parse_decimal(s: &str, max: u64) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: u64 = 0;
    for b in s.bytes() {
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    (v <= max).then_some(v)
}

/// A cursor over a header value, for the LWS-tolerant parts of the grammar.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Starts at the beginning of `s`.
    pub fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    /// What is left.
    pub fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    /// The byte at the cursor.
    pub fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    /// True when everything was consumed.
    pub fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// Skips SP/HTAB (values are already unfolded, so this is `SWS`).
    pub fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    /// Consumes `c` (after optional whitespace) if it is next; `SEMI`, `COMMA`, `EQUAL`, ...
    pub fn eat(&mut self, c: u8) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            self.skip_ws();
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// Takes the longest run of bytes matching `f`.
    pub fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let b = self.s.as_bytes();
        while b.get(self.pos).is_some_and(|&c| f(c)) {
            self.pos += 1;
        }
        // Only ASCII-class predicates are used, so the slice ends on a char boundary;
        // `get` keeps that from ever panicking anyway.
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// Takes a non-empty token.
    pub fn token(&mut self) -> Option<&'a str> {
        let t = self.take_while(is_token);
        (!t.is_empty()).then_some(t)
    }

    /// Takes a quoted-string (RFC 3261 §25.1) including its quotes, validating
    /// `qdtext`/`quoted-pair`. Returns the raw text, quotes included.
    pub fn quoted(&mut self) -> Option<&'a str> {
        let b = self.s.as_bytes();
        if b.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos;
        let mut i = self.pos + 1;
        loop {
            match b.get(i)? {
                b'"' => {
                    self.pos = i + 1;
                    return self.s.get(start..self.pos);
                }
                b'\\' => match b.get(i + 1)? {
                    b'\n' | b'\r' => return None,
                    c if *c <= 0x7f => i += 2,
                    _ => return None,
                },
                // qdtext: LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
                c if *c == b' ' || *c == b'\t' || *c >= 0x21 => i += 1,
                _ => return None,
            }
        }
    }

    /// Takes an `IPv6reference` (`[` hex, `:` and `.` `]`, RFC 3261 §25.1) if one
    /// starts at the cursor: `None` if none starts here, `Some(None)` if it is broken.
    pub fn ipv6_reference(&mut self) -> Option<Option<&'a str>> {
        if self.peek() != Some(b'[') {
            return None;
        }
        let start = self.pos;
        self.pos += 1;
        self.take_while(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if self.peek() != Some(b']') {
            return Some(None);
        }
        self.pos += 1;
        Some(Some(self.rest_from(start)))
    }

    /// Moves the cursor to `pos` (an absolute byte offset).
    pub fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.s.len());
    }

    /// The text from absolute offset `start` to the cursor.
    pub fn rest_from(&self, start: usize) -> &'a str {
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// The absolute byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }
}

/// Removes the quotes and `\` escapes of a quoted-string.
pub fn unquote(q: &str) -> String {
    let inner = q
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(q);
    let mut out = String::with_capacity(inner.len());
    let mut esc = false;
    for ch in inner.chars() {
        if esc {
            out.push(ch);
            esc = false;
        } else if ch == '\\' {
            esc = true;
        } else {
            out.push(ch);
        }
    }
    out
}

/// Wraps `s` in quotes, escaping `"` and `\` (RFC 3261 §25.1 quoted-pair).
pub fn quote(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
}

/// Splits a header value at the commas that separate list elements (RFC 3261 §7.3.1),
/// ignoring commas inside quoted strings and `<...>`. Empty elements are kept so the
/// caller can reject them.
pub fn split_list(s: &str) -> ListSplit<'_> {
    ListSplit {
        s,
        pos: 0,
        done: false,
    }
}

/// Iterator returned by [`split_list`].
#[derive(Debug)]
pub struct ListSplit<'a> {
    s: &'a str,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for ListSplit<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let b = self.s.as_bytes();
        let start = self.pos;
        if start == 0 && !b.contains(&b',') {
            // The common case: a single element.
            self.done = true;
            return Some(trim_ws(self.s));
        }
        let mut i = start;
        let mut in_quote = false;
        let mut in_angle = false;
        while let Some(&c) = b.get(i) {
            if in_quote {
                match c {
                    b'\\' => i += 1,
                    b'"' => in_quote = false,
                    _ => {}
                }
            } else {
                match c {
                    b'"' => in_quote = true,
                    b'<' => in_angle = true,
                    b'>' => in_angle = false,
                    b',' if !in_angle => {
                        self.pos = i + 1;
                        return self.s.get(start..i).map(trim_ws);
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        self.done = true;
        self.s.get(start..).map(trim_ws)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(is_token_str("INVITE"));
        assert!(is_token_str("!interesting-Method0123456789_*+`.%indeed'~"));
        assert!(!is_token_str("a b"));
        assert!(!is_token_str(""));
        assert!(is_escaped_run("null-%00-null", is_user));
        assert!(!is_escaped_run("bad%0", is_user));
        assert!(!is_escaped_run("a@b", is_user));
    }

    #[test]
    fn quoted_strings() {
        let mut c = Cursor::new(r#""J Rosenberg \\\"" <sip:x>"#);
        assert_eq!(c.quoted(), Some(r#""J Rosenberg \\\"""#));
        assert_eq!(unquote(r#""J Rosenberg \\\"""#), r#"J Rosenberg \""#);
        assert_eq!(Cursor::new("\"open").quoted(), None);
        let mut s = String::new();
        quote(r#"a"b\c"#, &mut s);
        assert_eq!(s, r#""a\"b\\c""#);
    }

    #[test]
    fn lists() {
        let v: Vec<_> = split_list(r#"<sip:a,b@x>;q=1 , "x,y" <sip:c>,sip:d"#).collect();
        assert_eq!(v, [r#"<sip:a,b@x>;q=1"#, r#""x,y" <sip:c>"#, "sip:d"]);
        let v: Vec<_> = split_list("a,,b,").collect();
        assert_eq!(v, ["a", "", "b", ""]);
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("0068", 255), Some(68));
        assert_eq!(parse_decimal("300", 255), None);
        assert_eq!(parse_decimal("-1", 255), None);
        assert_eq!(parse_decimal("36893488147419103232", u64::MAX), None);
        assert_eq!(
            unescape("sips%3Auser%40example.com"),
            "sips:user@example.com"
        );
    }
}

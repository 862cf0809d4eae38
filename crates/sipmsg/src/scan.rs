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
/// Host name and IPv4 address characters: alphanumerics, `- . _`.
const HOST: u8 = 128;

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
            t[c] |= ALNUM | TOKEN | WORD | HOST;
        }
        c += 1;
    }
    t = mark(t, b"-_.!~*'()", MARK);
    t = mark(t, b"-._", HOST);
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

/// A character of a host name or IPv4 address (`hostname`, `IPv4address`, with `_`
/// tolerated as many implementations do).
#[inline]
pub fn is_host(b: u8) -> bool {
    class(b) & HOST != 0
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
    escaped_run_end(s.as_bytes(), 0, ok) == Some(s.len())
}

/// The end of the run of class-`ok` characters and valid `%HH` escapes that starts at
/// `i`, or `None` at a malformed escape (RFC 3261 §25.1 `escaped`).
#[inline]
pub(crate) fn escaped_run_end(b: &[u8], mut i: usize, ok: impl Fn(u8) -> bool) -> Option<usize> {
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return None,
            }
        } else if ok(c) {
            i += 1;
        } else {
            break;
        }
    }
    Some(i)
}

/// The index of the first LF at or after `from`.
pub(crate) fn find_lf(b: &[u8], from: usize) -> Option<usize> {
    find2(b, from, b'\n', b'\n')
}

/// The index of the first `x` or `y` (neither NUL) at or after `from`, eight bytes
/// at a time (a SWAR `memchr`: header lines are long enough for it to pay, in wasm
/// as natively). The last partial word is read overlapping, or zero-padded.
#[inline]
pub(crate) fn find2(b: &[u8], from: usize, x: u8, y: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    let (xs, ys) = (LO * u64::from(x), LO * u64::from(y));
    // Flags the bytes equal to `x` or `y`; the lowest flag is always a true one.
    let hits = |w: [u8; 8]| {
        let w = u64::from_le_bytes(w);
        let zeros = |v: u64| v.wrapping_sub(LO) & !v & (LO << 7);
        zeros(w ^ xs) | zeros(w ^ ys)
    };
    let at = |off: usize, m: u64| off + (m.trailing_zeros() / 8) as usize;
    let tail = b.get(from..)?;
    let mut chunks = tail.chunks_exact(8);
    let mut off = from;
    for c in &mut chunks {
        let m = hits(<[u8; 8]>::try_from(c).unwrap_or([0; 8]));
        if m != 0 {
            return Some(at(off, m));
        }
        off += 8;
    }
    let rest = chunks.remainder();
    if rest.is_empty() {
        return None;
    }
    let m = match b.len().checked_sub(8).filter(|&last| last >= from) {
        // The bytes before `off` are known not to match.
        Some(last) => {
            off = last;
            hits(b.get(last..).and_then(|w| <[u8; 8]>::try_from(w).ok())?)
        }
        None => {
            let mut w = [0; 8];
            for (d, s) in w.iter_mut().zip(rest) {
                *d = *s;
            }
            hits(w)
        }
    };
    (m != 0).then(|| at(off, m))
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
    lossy(&out)
}

/// `String::from_utf8_lossy(bytes).into_owned()`: each invalid sequence becomes
/// U+FFFD, as `Utf8Error::error_len` delimits it (the same sequences std replaces),
/// with a fraction of the code of std's chunk iterator.
pub fn lossy(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let valid = rest.get(..e.valid_up_to()).unwrap_or_default();
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                out.push(char::REPLACEMENT_CHARACTER);
                let skip = e.valid_up_to() + e.error_len().unwrap_or(rest.len());
                rest = rest.get(skip..).unwrap_or_default();
            }
        }
    }
}

/// Whitespace inside a header value after unfolding: SP or HTAB.
#[inline]
pub fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trims SP/HTAB (not other Unicode whitespace) from both ends.
pub fn trim_ws(s: &str) -> &str {
    let b = s.as_bytes();
    let start = skip_ws(b, 0);
    let mut end = b.len();
    while end > start && b.get(end - 1).is_some_and(|&c| is_ws(c)) {
        end -= 1;
    }
    // SP/HTAB are ASCII, so both ends are char boundaries.
    s.get(start..end).unwrap_or("")
}

/// Appends the pieces: one out-of-line loop where inlined `push_str`s would each
/// take their own capacity check and copy (this crate is built at opt-level "s", not "z").
#[inline(never)]
pub fn push_all(out: &mut String, parts: &[&str]) {
    for p in parts {
        out.push_str(p);
    }
}

/// Appends `n` in decimal: what `{n}` prints, without the formatting machinery.
#[inline(never)]
pub fn push_decimal(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    for d in buf.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
        start -= 1;
        if n == 0 {
            break;
        }
    }
    out.extend(
        buf.get(start..)
            .unwrap_or_default()
            .iter()
            .map(|&d| char::from(d)),
    );
}

/// Parses a decimal number of at most `max`; `1*DIGIT`, nothing else (no sign, no spaces).
pub fn parse_decimal(s: &str, max: u64) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digit = |b: u8| u64::from(b - b'0');
    let v = if s.len() < 20 {
        // At most 19 digits cannot overflow: no 128-bit checked multiply (wasm32).
        s.bytes().fold(0, |v, b| v * 10 + digit(b))
    } else {
        s.bytes()
            .try_fold(0u64, |v, b| v.checked_mul(10)?.checked_add(digit(b)))?
    };
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

    /// The whole text, from its start (positions are offsets into it).
    pub fn all(&self) -> &'a str {
        self.s
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
        let start = self.pos;
        self.pos = quoted_end(self.s.as_bytes(), start)?;
        self.s.get(start..self.pos)
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

/// The end of the quoted-string (RFC 3261 §25.1) that starts at `i`, after its
/// closing quote, validating `qdtext`/`quoted-pair`; `None` if there is none.
pub(crate) fn quoted_end(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    i += 1;
    loop {
        match b.get(i)? {
            b'"' => return Some(i + 1),
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

/// The index of the first byte at or after `i` that is not SP or HTAB.
#[inline]
pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|&c| is_ws(c)) {
        i += 1;
    }
    i
}

/// The end of the run of `token` characters that starts at `i`.
#[inline]
pub(crate) fn token_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|&c| is_token(c)) {
        i += 1;
    }
    i
}

/// Removes the quotes and `\` escapes of a quoted-string.
pub fn unquote(q: &str) -> String {
    let inner = q
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(q);
    if !inner.bytes().any(|c| c == b'\\') {
        return inner.to_owned();
    }
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
    #[test]
    fn push_decimal_matches_format() {
        for n in [
            0u64,
            7,
            10,
            99,
            100,
            65_535,
            4_294_967_295,
            u64::MAX / 10,
            u64::MAX,
        ] {
            let mut s = String::from("x");
            super::push_decimal(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }

    #[test]
    fn lossy_is_from_utf8_lossy() {
        let cases: [&[u8]; 12] = [
            b"",
            b"plain",
            "é🙂".as_bytes(),
            b"\xff",
            b"a\xffb",
            b"\xe2\x82",
            b"\xe2\x82a",
            b"\xf0\x9f\x99",
            b"\xc0\x80\xed\xa0\x80",
            b"\xf4\x90\x80\x80x",
            b"ok\xe2\x82\xac\xe2",
            b"\x80\x80\x80",
        ];
        for c in cases {
            assert_eq!(lossy(c), String::from_utf8_lossy(c), "{c:?}");
        }
        // Every byte pair and triple over bytes that matter to UTF-8.
        let bytes = [
            0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed,
            0xef, 0xf0, 0xf4, 0xf5, 0xff,
        ];
        for a in bytes {
            for b in bytes {
                for c in bytes {
                    for d in [0x41, 0x80, 0xbf] {
                        let v = [a, b, c, d];
                        assert_eq!(lossy(&v), String::from_utf8_lossy(&v), "{v:?}");
                    }
                }
            }
        }
    }

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
        assert_eq!(
            parse_decimal("9999999999999999999", u64::MAX),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(
            parse_decimal("18446744073709551615", u64::MAX),
            Some(u64::MAX)
        );
        assert_eq!(parse_decimal("18446744073709551616", u64::MAX), None);
        assert_eq!(parse_decimal("000000000000000000001", u64::MAX), None);
        assert_eq!(parse_decimal("300", 255), None);
        assert_eq!(parse_decimal("-1", 255), None);
        assert_eq!(parse_decimal("36893488147419103232", u64::MAX), None);
        assert_eq!(
            unescape("sips%3Auser%40example.com"),
            "sips:user@example.com"
        );
    }

    #[test]
    fn word_at_a_time_search() {
        // every position of the hit, in the 8-byte words and in the tail
        for len in 0..40 {
            for at in 0..len {
                let mut b = vec![b'a'; len];
                b[at] = b'\n';
                assert_eq!(find_lf(&b, 0), Some(at), "len {len} at {at}");
                assert_eq!(find_lf(&b, at + 1), None);
                b[at] = b':';
                assert_eq!(find2(&b, 0, b':', b'\n'), Some(at));
                if at > 0 {
                    b[at - 1] = b'\n';
                    assert_eq!(find2(&b, 0, b':', b'\n'), Some(at - 1));
                }
            }
            assert_eq!(find_lf(&vec![0x8a; len], 0), None);
        }
        assert_eq!(find_lf(b"ab", 5), None);
        assert_eq!(skip_ws(b" \t x", 0), 3);
        assert_eq!(escaped_run_end(b"ab%41c@", 0, is_user), Some(6));
        assert_eq!(escaped_run_end(b"ab%4", 0, is_user), None);
        assert_eq!(quoted_end(br#""a\"b" x"#, 0), Some(6));
        assert_eq!(quoted_end(br#""open"#, 0), None);
    }
}

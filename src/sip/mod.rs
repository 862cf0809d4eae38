//! The sans-IO SIP core: no browser types, no clock, no randomness of its own.

pub mod auth;
pub mod config;
pub mod connection;
pub mod dialog;
pub use sipwasm_message as message;
pub mod registration;
pub mod rng;
pub mod sdp;
pub mod session;
pub mod time;
pub mod transaction;
pub mod ua;

pub use message::Print;

/// The elements of every `name` line (RFC 3261 §7.3.1 lists), trimmed, when each is a
/// token, as `typed_list::<Token>` reads them but borrowed; `None` when one is not.
pub(crate) fn tokens<'a>(
    headers: &'a message::Headers,
    name: &'a message::HeaderName,
) -> Option<Vec<&'a str>> {
    let mut out = Vec::new();
    for line in headers.get_all(name) {
        for item in message::scan::split_list(line) {
            let v = message::scan::trim_ws(item);
            if !message::scan::is_token_str(v) {
                return None;
            }
            out.push(v);
        }
    }
    Some(out)
}

/// `s.split_once(pat)` by a byte loop: `str`'s substring search (two-way) is much
/// more code, and the haystacks here are short.
pub(crate) fn split_once_str<'a>(s: &'a str, pat: &str) -> Option<(&'a str, &'a str)> {
    let (h, p) = (s.as_bytes(), pat.as_bytes());
    let i = (0..=h.len().checked_sub(p.len())?).find(|&i| h.get(i..i + p.len()) == Some(p))?;
    Some((s.get(..i)?, s.get(i + p.len()..)?))
}

/// `format!` for text and numbers without `core::fmt`: `template` with each `{}`
/// replaced by the next of `args`, e.g. `fill("call {} ended", &[&id])`.
pub fn fill(template: &str, args: &[&dyn Print]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    push_fill(&mut out, template, args);
    out
}

/// [`fill`] appending to `out`.
pub fn push_fill(out: &mut String, template: &str, args: &[&dyn Print]) {
    let mut args = args.iter();
    let mut rest = template;
    while let Some((text, after)) = split_once_str(rest, "{}") {
        out.push_str(text);
        if let Some(a) = args.next() {
            a.print(out);
        }
        rest = after;
    }
    out.push_str(rest);
}

/// Appends the low `digits` hex digits of `v`, lowercase and zero-padded: what
/// `{v:0<digits>x}` prints for a `v` that fits, without the formatting machinery.
pub(crate) fn push_hex(out: &mut String, v: u64, digits: u32) {
    for i in (0..digits).rev() {
        let nibble = v.checked_shr(4 * i).unwrap_or(0) & 0xf;
        out.push(char::from_digit(nibble as u32, 16).unwrap_or('0'));
    }
}

/// Shows a string in double quotes for error and log texts, escaped as `{:?}` escapes
/// it for ASCII: `\"`, `\\`, `\t`, `\r`, `\n`, `\0`, other control characters as
/// `\u{..}`. Beyond ASCII only the invisible characters that most often hide in pasted
/// text are escaped (soft hyphen, zero-width and direction marks, line and paragraph
/// separators, word joiners, BOM); the rest is kept as it is. (`char::escape_debug`
/// would escape every non-printable character, at the cost of core's Unicode tables.)
#[derive(Clone, Copy)]
pub(crate) struct Quoted<'a>(pub(crate) &'a str);

impl Print for Quoted<'_> {
    fn print(&self, out: &mut String) {
        out.push('"');
        for c in self.0.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                '\n' => out.push_str("\\n"),
                '\0' => out.push_str("\\0"),
                c if c.is_control()
                    || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
                        | '\u{2060}'..='\u{2064}' | '\u{feff}') =>
                {
                    let v = u64::from(u32::from(c));
                    out.push_str("\\u{");
                    push_hex(out, v, (64 - v.leading_zeros()).div_ceil(4).max(1));
                    out.push('}');
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

message::display_by_print!(Quoted<'_>);

#[cfg(test)]
mod tests {
    /// The characters `Quoted` escapes beyond ASCII.
    fn invisible(c: char) -> bool {
        matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}' | '\u{feff}')
    }

    /// As `{:?}` for ASCII, control characters and the invisible ones; every other
    /// character as it is.
    #[test]
    fn quoted_escapes_like_debug_where_it_escapes() {
        for c in (0..0x11_0000u32).filter_map(char::from_u32) {
            let one = c.to_string();
            let got = super::Quoted(&one).to_string();
            if c.is_ascii() || c.is_control() || invisible(c) {
                assert_eq!(got, format!("{one:?}"), "U+{:04X}", c as u32);
            } else if c != '\'' {
                assert_eq!(got, format!("\"{c}\""), "U+{:04X}", c as u32);
            }
        }
        for s in [
            "",
            "plain",
            "it's \"q\" \\ \t\r\n\0\x7f\u{1b}",
            "\u{200b}\u{feff}x\u{2028}",
            "🙂é ñ 日本",
        ] {
            assert_eq!(super::Quoted(s).to_string(), format!("{s:?}"));
        }
        // kept as they are where `{:?}` would escape them
        assert_eq!(super::Quoted("e\u{301}").to_string(), "\"e\u{301}\"");
        assert_eq!(super::Quoted("\u{301}x").to_string(), "\"\u{301}x\"");
    }

    #[test]
    fn fill_matches_format() {
        let (id, n, q) = ("a1", 42u32, super::Quoted("x\"y"));
        assert_eq!(
            super::fill("call {}: {} ({})", &[&id, &n, &q]),
            format!("call {id}: {n} ({q})")
        );
        assert_eq!(super::fill("{}{}", &[&"", &u64::MAX]), u64::MAX.to_string());
        assert_eq!(super::fill("no args", &[]), "no args");
        // a missing argument prints nothing, an extra one is ignored
        assert_eq!(super::fill("{} {}", &[&1u8]), "1 ");
        assert_eq!(super::fill("{}", &[&'x', &'y']), "x");
    }

    #[test]
    fn push_hex_matches_format() {
        for v in [
            0u64,
            1,
            0xa,
            0xff,
            0x1234,
            0xdead_beef,
            u64::MAX,
            0x0123_4567_89ab_cdef,
        ] {
            let mut s = String::new();
            super::push_hex(&mut s, v, 16);
            assert_eq!(s, format!("{v:016x}"));
            let mut s = String::new();
            super::push_hex(&mut s, v & 0xffff_ffff, 8);
            assert_eq!(s, format!("{:08x}", v & 0xffff_ffff));
            let mut s = String::new();
            super::push_hex(&mut s, v & 0xff, 2);
            assert_eq!(s, format!("{:02x}", v & 0xff));
        }
    }

    #[test]
    fn split_once_str_matches_std() {
        for (s, p) in [
            ("wss://a", "://"),
            ("a::b::c", "::"),
            ("::", "::"),
            (":", "::"),
            ("", "::"),
            ("abc", ""),
            ("", ""),
            ("é::ü", "::"),
            ("x\r\n\r\ny\r\n\r\n", "\r\n\r\n"),
            ("ab", "abc"),
        ] {
            assert_eq!(super::split_once_str(s, p), s.split_once(p), "{s:?} {p:?}");
        }
    }
}

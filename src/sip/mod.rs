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

/// Shows a string as `{:?}` does (double quotes, Rust escapes), for error and log
/// texts, with less code than `str`'s `Debug`: `char::escape_debug` is the same
/// escape for every character but `'`, which `str` leaves alone.
#[derive(Clone, Copy)]
pub(crate) struct Quoted<'a>(pub(crate) &'a str);

impl Print for Quoted<'_> {
    fn print(&self, out: &mut String) {
        out.push('"');
        for c in self.0.chars() {
            if c == '\'' {
                out.push(c);
            } else {
                out.extend(c.escape_debug());
            }
        }
        out.push('"');
    }
}

message::display_by_print!(Quoted<'_>);

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_is_debug() {
        let mut all = String::new();
        for c in 0..0x11_0000u32 {
            if let Some(c) = char::from_u32(c) {
                all.push(c);
                let one = c.to_string();
                assert_eq!(
                    super::Quoted(&one).to_string(),
                    format!("{one:?}"),
                    "U+{:04X}",
                    c as u32
                );
                let two = format!("a{c}{c}'\"");
                assert_eq!(
                    super::Quoted(&two).to_string(),
                    format!("{two:?}"),
                    "U+{:04X}",
                    c as u32
                );
            }
        }
        assert_eq!(super::Quoted(&all).to_string(), format!("{all:?}"));
        for s in [
            "",
            "plain",
            "it's \"q\" \\ \t\r\n\0\x7f",
            "e\u{301}\u{301}",
            "\u{200b}\u{feff}x",
            "🙂é",
        ] {
            assert_eq!(super::Quoted(s).to_string(), format!("{s:?}"));
        }
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

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

/// `s.split_once(pat)` by a byte loop: `str`'s substring search (two-way) is much
/// more code, and the haystacks here are short.
pub(crate) fn split_once_str<'a>(s: &'a str, pat: &str) -> Option<(&'a str, &'a str)> {
    let (h, p) = (s.as_bytes(), pat.as_bytes());
    let i = (0..=h.len().checked_sub(p.len())?).find(|&i| h.get(i..i + p.len()) == Some(p))?;
    Some((s.get(..i)?, s.get(i + p.len()..)?))
}

#[cfg(test)]
mod tests {
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

//! What the call layer reads from a session description (RFC 4566): the media
//! directions that say "on hold" (RFC 3264 §5.1, §8.4) and whether video is active.
//! SDP is otherwise opaque to the core: the browser makes and applies it.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::sip::session::Hold;

/// A media direction attribute (RFC 3264 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// `a=sendrecv`, the default.
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Dir {
    fn parse(attr: &str) -> Option<Dir> {
        Some(match attr {
            "sendrecv" => Dir::SendRecv,
            "sendonly" => Dir::SendOnly,
            "recvonly" => Dir::RecvOnly,
            "inactive" => Dir::Inactive,
            _ => return None,
        })
    }

    /// True when the sender of this SDP does not want to receive: it holds the other
    /// side (RFC 3264 §8.4).
    fn holds(self) -> bool {
        matches!(self, Dir::SendOnly | Dir::Inactive)
    }
}

/// The direction of one of our streams in an offer or answer (RFC 3264 §6.1, §8.4):
/// `sendrecv` when we have something to send, else `recvonly`; on hold the receive
/// half is dropped (`sendonly`, or `inactive` without a track), and [`Hold::Inactive`]
/// (the peer holds us too) drops both.
pub fn direction(sends: bool, hold: Hold) -> Dir {
    match (hold, sends) {
        (Hold::Off, true) => Dir::SendRecv,
        (Hold::Off, false) => Dir::RecvOnly,
        (Hold::SendOnly, true) => Dir::SendOnly,
        (Hold::SendOnly, false) | (Hold::Inactive, _) => Dir::Inactive,
    }
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`, ...
    pub kind: String,
    /// The port; 0 is a rejected or removed stream (RFC 3264 §6, §8.2).
    pub port: u32,
    /// The direction (the media-level attribute, else the session-level one).
    pub dir: Dir,
    /// The connection address is `0.0.0.0`: the RFC 2543 way of holding (RFC 3264 §8.4).
    pub zero_addr: bool,
}

/// The `m=` sections of `sdp`, in order. Lines that do not parse are skipped.
pub fn media(sdp: &str) -> Vec<Media> {
    let mut session_dir = Dir::SendRecv;
    let mut session_zero = false;
    let mut out: Vec<Media> = Vec::new();
    for line in sdp.lines() {
        let line = line.trim_end();
        if let Some(m) = line.strip_prefix("m=") {
            let mut f = m.split(' ');
            let kind = f.next().unwrap_or("").to_owned();
            let port = f
                .next()
                .and_then(|p| p.split('/').next())
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            out.push(Media {
                kind,
                port,
                dir: session_dir,
                zero_addr: session_zero,
            });
        } else if let Some(a) = line.strip_prefix("a=") {
            if let Some(d) = Dir::parse(a) {
                match out.last_mut() {
                    Some(m) => m.dir = d,
                    None => session_dir = d,
                }
            }
        } else if let Some(c) = line.strip_prefix("c=") {
            let zero = c.split(' ').nth(2).is_some_and(|a| a == "0.0.0.0");
            match out.last_mut() {
                Some(m) => m.zero_addr = zero,
                None => session_zero = zero,
            }
        }
    }
    out
}

/// True when an offer from the peer puts us on hold: every active stream is
/// `sendonly` or `inactive`, or has the address 0.0.0.0 (RFC 3264 §8.4). An SDP with no
/// active stream does not count as a hold.
pub fn holds(sdp: &str) -> bool {
    let mut active = media(sdp).into_iter().filter(|m| m.port != 0).peekable();
    active.peek().is_some() && active.all(|m| m.dir.holds() || m.zero_addr)
}

/// True when `sdp` has an active video stream (port ≠ 0, not `inactive`).
pub fn has_video(sdp: &str) -> bool {
    media(sdp)
        .iter()
        .any(|m| m.kind == "video" && m.port != 0 && m.dir != Dir::Inactive)
}

/// True when `sdp` offers or accepts `telephone-event` (RFC 4733 §7.1.1).
pub fn has_telephone_event(sdp: &str) -> bool {
    sdp.lines().any(|l| {
        l.strip_prefix("a=rtpmap:")
            .and_then(|r| r.split(' ').nth(1))
            .is_some_and(|enc| {
                enc.get(..15)
                    .is_some_and(|e| e.eq_ignore_ascii_case("telephone-event"))
            })
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const BASE: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";

    fn sdp(rest: &str) -> String {
        format!("{BASE}{rest}")
    }

    #[test]
    fn direction_table() {
        use super::{direction, Dir};
        use crate::sip::session::Hold;
        assert_eq!(direction(true, Hold::Off), Dir::SendRecv);
        assert_eq!(direction(false, Hold::Off), Dir::RecvOnly);
        assert_eq!(direction(true, Hold::SendOnly), Dir::SendOnly);
        assert_eq!(direction(false, Hold::SendOnly), Dir::Inactive);
        assert_eq!(direction(true, Hold::Inactive), Dir::Inactive);
        assert_eq!(direction(false, Hold::Inactive), Dir::Inactive);
    }

    #[test]
    fn directions() {
        let s = sdp("m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\nm=video 4002 RTP/AVP 96\r\na=recvonly\r\n");
        let m = media(&s);
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].kind.as_str(), m[0].port, m[0].dir),
            ("audio", 4000, Dir::SendOnly)
        );
        assert_eq!(m[1].dir, Dir::RecvOnly);
        assert!(!holds(&s), "video still receives");
        assert!(has_video(&s));
        assert!(has_telephone_event(&s));
    }

    #[test]
    fn hold_forms() {
        assert!(holds(&sdp("m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n")));
        assert!(holds(&sdp("m=audio 4000 RTP/AVP 0\r\na=inactive\r\n")));
        // Session-level attribute applies to every stream.
        assert!(holds(&sdp("a=inactive\r\nm=audio 4000 RTP/AVP 0\r\n")));
        // RFC 2543 hold.
        assert!(holds(&sdp(
            "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n"
        )));
        assert!(!holds(&sdp("m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n")));
        assert!(!holds(&sdp("m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n")));
        // A removed video stream does not matter.
        assert!(holds(&sdp(
            "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\nm=video 0 RTP/AVP 96\r\n"
        )));
        assert!(!holds(""));
        assert!(!has_video(&sdp(
            "m=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n"
        )));
        assert!(!has_telephone_event(&sdp("m=audio 4000 RTP/AVP 0\r\n")));
    }

    #[test]
    fn garbage_is_harmless() {
        for s in [
            "m=",
            "m=audio",
            "m=audio x",
            "a=",
            "c=IN",
            "\u{0}m=video 9999999999999 x",
        ] {
            let _ = media(s);
            let _ = holds(s);
            let _ = has_video(s);
            let _ = has_telephone_event(s);
        }
    }
}

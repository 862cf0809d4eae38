//! Session timers (RFC 4028): what a request asks for, what a 2xx grants, and when
//! to refresh or give up.

use crate::sip::config::MIN_SESSION_EXPIRES;
use crate::sip::message::{DeltaParams, HeaderName, Incoming, Message};
use crate::sip::time::Instant;
use crate::sip::{fill, Print};
use std::time::Duration;

/// A running session timer: the interval and who refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionTimer {
    /// The session interval in seconds (at least 90, RFC 4028 §4).
    pub(crate) interval: u32,
    /// We send the refreshes.
    pub(crate) we_refresh: bool,
}

impl SessionTimer {
    /// When the refresher refreshes: half the interval after the 2xx (§10).
    pub(crate) fn refresh_at(&self, now: Instant) -> Option<Instant> {
        self.we_refresh
            .then(|| now + Duration::from_secs(u64::from(self.interval)) / 2)
    }

    /// When to send BYE if no refresh succeeded: the minimum of 32 s and a third of
    /// the interval before it ends (§10).
    pub(crate) fn expire_at(&self, now: Instant) -> Instant {
        let interval = u64::from(self.interval);
        let margin = (interval / 3).min(32);
        now + Duration::from_secs(interval.saturating_sub(margin))
    }
}

/// True when `tag` is in the Supported or Require option tags of `m`.
pub(crate) fn has_option(m: &Message, tag: &str) -> bool {
    [HeaderName::Supported, HeaderName::Require]
        .into_iter()
        .any(|h| {
            crate::sip::tokens(&m.headers, &h)
                .is_some_and(|l| l.iter().any(|t| t.eq_ignore_ascii_case(tag)))
        })
}

fn session_expires(m: &Message) -> Option<DeltaParams> {
    m.headers
        .typed::<DeltaParams>(HeaderName::SessionExpires)
        .and_then(Result::ok)
}

fn min_se(m: &Message) -> u32 {
    m.headers
        .typed::<DeltaParams>(HeaderName::MinSe)
        .and_then(Result::ok)
        .map_or(0, |d| d.seconds)
}

/// The Session-Expires and Min-SE of a session refresh request we send as its UAC
/// (RFC 4028 §7.1, §7.4): `refresher=uac` when we are to refresh, none when the peer
/// may choose. Also `Supported: timer` is the caller's (it sends it on every INVITE).
pub(crate) fn push_request_headers(m: &mut Message, interval: u32, min: u32, we_refresh: bool) {
    let value = if we_refresh {
        fill("{};refresher=uac", &[&interval])
    } else {
        interval.to_text()
    };
    m.headers.push(HeaderName::SessionExpires, value);
    m.headers.push_typed(HeaderName::MinSe, &min);
}

/// The timer a 2xx to our session refresh request sets (RFC 4028 §7.2): none without
/// Session-Expires; we refresh unless `refresher=uas`.
pub(crate) fn from_2xx(resp: &Incoming) -> Option<SessionTimer> {
    let se = session_expires(&resp.msg)?;
    let uas = se
        .params
        .get("refresher")
        .flatten()
        .is_some_and(|r| r.eq_ignore_ascii_case("uas"));
    Some(SessionTimer {
        interval: se.seconds.max(MIN_SESSION_EXPIRES),
        we_refresh: !uas,
    })
}

/// The Min-SE of a 422 (RFC 4028 §7.3), if usable: above what we asked for.
pub(crate) fn min_se_of_422(resp: &Incoming, asked: u32) -> Option<u32> {
    let m = min_se(&resp.msg);
    (m > asked && m <= crate::sip::config::MAX_SESSION_EXPIRES).then_some(m)
}

/// What we answer a session refresh request (initial INVITE, re-INVITE, UPDATE) as its
/// UAS (RFC 4028 §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UasTimer {
    /// No session timer.
    Off,
    /// Put `Session-Expires: <header>` (and `Require: timer` when `require`) in the 2xx
    /// and run `timer`.
    On {
        timer: SessionTimer,
        header: String,
        require: bool,
    },
    /// Refuse with 422 and this Min-SE.
    TooSmall(u32),
}

impl UasTimer {
    /// Adds Session-Expires (and Require: timer) to our 2xx.
    pub(crate) fn push_headers(&self, m: &mut Message) {
        if let UasTimer::On {
            header, require, ..
        } = self
        {
            m.headers.push(HeaderName::SessionExpires, header);
            if *require {
                m.headers.push(HeaderName::Require, "timer");
            }
        }
    }

    /// The timer to run after the 2xx.
    pub(crate) fn timer(&self) -> Option<SessionTimer> {
        match self {
            UasTimer::On { timer, .. } => Some(*timer),
            _ => None,
        }
    }
}

/// Decides the session timer of a request we are the UAS of (RFC 4028 §9):
///
/// - Session-Expires below 90 s (or below the request's own Min-SE): 422 with Min-SE
///   when the UAC supports timers (it can retry); otherwise raised to the minimum.
/// - Session-Expires present: that interval; `refresher` copied, or chosen as `uas`
///   (us) when absent, and always `uas` when the UAC does not support timers (§9: it
///   could not refresh). `refresher=uac` needs `Require: timer` in the 2xx (§9).
/// - No Session-Expires but `Supported: timer`: our configured interval (`ours`), we
///   refresh; nothing when we ask for none.
pub(crate) fn uas_decide(req: &Incoming, ours: Option<u32>) -> UasTimer {
    let m = &req.msg;
    let supports = has_option(m, "timer");
    let floor = MIN_SESSION_EXPIRES.max(min_se(m));
    let (interval, uac_refreshes) = match session_expires(m) {
        Some(se) => {
            if se.seconds < floor && supports {
                return UasTimer::TooSmall(floor);
            }
            let uac = se
                .params
                .get("refresher")
                .flatten()
                .is_some_and(|r| r.eq_ignore_ascii_case("uac"));
            (se.seconds.max(floor), uac && supports)
        }
        None => match ours {
            Some(s) if supports => (s.max(floor), false),
            _ => return UasTimer::Off,
        },
    };
    let who = if uac_refreshes { "uac" } else { "uas" };
    UasTimer::On {
        timer: SessionTimer {
            interval,
            we_refresh: !uac_refreshes,
        },
        header: fill("{};refresher={}", &[&interval, &who]),
        require: uac_refreshes,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn inv(extra: &str) -> Incoming {
        Incoming::parse(
            format!("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/WSS h;branch=z9hG4bK1\r\nFrom: <sip:b@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n{extra}\r\n")
                .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn uas_rules() {
        assert_eq!(uas_decide(&inv(""), Some(1800)), UasTimer::Off);
        assert_eq!(
            uas_decide(&inv("Supported: timer\r\nSession-Expires: 60\r\n"), None),
            UasTimer::TooSmall(90)
        );
        // Without timer support the interval is raised and we refresh.
        let d = uas_decide(&inv("Session-Expires: 60;refresher=uac\r\n"), None);
        assert_eq!(
            d.timer(),
            Some(SessionTimer {
                interval: 90,
                we_refresh: true
            })
        );
        let d = uas_decide(
            &inv("Supported: timer\r\nSession-Expires: 300;refresher=uac\r\n"),
            None,
        );
        assert_eq!(
            d,
            UasTimer::On {
                timer: SessionTimer {
                    interval: 300,
                    we_refresh: false
                },
                header: "300;refresher=uac".into(),
                require: true
            }
        );
        let d = uas_decide(&inv("Supported: timer\r\nMin-SE: 120\r\n"), Some(100));
        assert_eq!(
            d.timer(),
            Some(SessionTimer {
                interval: 120,
                we_refresh: true
            })
        );
    }

    #[test]
    fn refresh_and_expiry_times() {
        let t = SessionTimer {
            interval: 90,
            we_refresh: true,
        };
        let now = Instant::from_millis(1000);
        assert_eq!(t.refresh_at(now), Some(Instant::from_millis(46_000)));
        assert_eq!(t.expire_at(now), Instant::from_millis(61_000));
        let t = SessionTimer {
            interval: 1800,
            we_refresh: false,
        };
        assert_eq!(t.refresh_at(now), None);
        assert_eq!(t.expire_at(now), Instant::from_millis(1_769_000));
    }
}

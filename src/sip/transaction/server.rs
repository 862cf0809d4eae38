//! Server transactions: INVITE (RFC 3261 §17.2.1 with RFC 6026 §7.1) and non-INVITE
//! (RFC 3261 §17.2.2), over a reliable transport (no Timer G).
//!
//! ```text
//! INVITE:      Proceeding --2xx--> Accepted --Timer L--> Terminated
//!                 \--300-699--> Completed --ACK--> Confirmed --Timer I (0)--> Terminated
//!                                   \--Timer H--> Terminated (Timeout)
//! non-INVITE:  Trying --1xx--> Proceeding --200-699--> Completed --Timer J (0)--> Terminated
//!                 \--200-699--> Completed
//! ```

use super::key::Rfc2543Match;
use super::timer::{Timer, TimerConfig, TimerTable};
use super::{Out, TsxError, TsxEvent, TsxKey, TsxState};
use crate::sip::message::{HeaderName, Incoming, Message, Method, NameAddrHeader};
use crate::sip::time::Instant;
use crate::sip::Print;
use std::rc::Rc;

/// One server transaction.
#[derive(Debug)]
pub(crate) struct ServerTsx {
    pub(crate) state: TsxState,
    pub(crate) timers: TimerTable,
    /// The request that created the transaction.
    pub(crate) request: Rc<Incoming>,
    /// What the RFC 2543 fallback matches on, for a request without a magic cookie.
    pub(crate) rfc2543: Option<Rfc2543Match>,
    /// The last response sent, resent for request retransmissions.
    last_response: Option<Message>,
    /// The To tag of the last response, which an RFC 2543 ACK must carry (§17.2.3).
    response_to_tag: Option<String>,
}

/// What an ACK did to an INVITE server transaction.
pub(crate) enum AckOutcome {
    /// Absorbed by the transaction (Completed, Confirmed, or no final response yet).
    Absorbed,
    /// The transaction is in Accepted: the ACK is the TU's (RFC 6026 §7.1).
    ToTu,
}

impl ServerTsx {
    /// A transaction for a received request: Proceeding (INVITE, §17.2.1) or Trying
    /// (§17.2.2).
    pub(crate) fn new(request: Rc<Incoming>, rfc2543: Option<Rfc2543Match>) -> ServerTsx {
        let state = if request.msg.method() == Some(&Method::Invite) {
            TsxState::Proceeding
        } else {
            TsxState::Trying
        };
        ServerTsx {
            state,
            timers: TimerTable::default(),
            request,
            rfc2543,
            last_response: None,
            response_to_tag: None,
        }
    }

    fn is_invite(&self) -> bool {
        self.request.msg.method() == Some(&Method::Invite)
    }

    /// The To tag of the last response sent.
    pub(crate) fn response_to_tag(&self) -> Option<&str> {
        self.response_to_tag.as_deref()
    }

    /// A retransmission of the request: resend the last response in Proceeding and
    /// Completed (§17.2.1, §17.2.2); absorb it silently in Trying, Accepted (RFC 6026
    /// §7.1) and Confirmed.
    pub(crate) fn on_retransmission(&mut self, out: &mut Out) {
        if matches!(self.state, TsxState::Proceeding | TsxState::Completed) {
            if let Some(r) = &self.last_response {
                out.transmits.push_back(r.clone());
            }
        }
    }

    /// An ACK matching this INVITE transaction (§17.2.1, RFC 6026 §7.1).
    pub(crate) fn on_ack(&mut self, now: Instant, config: &TimerConfig) -> AckOutcome {
        match self.state {
            TsxState::Completed => {
                self.timers.stop(Timer::H);
                self.timers.start(Timer::I, now, config);
                self.state = TsxState::Confirmed;
                AckOutcome::Absorbed
            }
            TsxState::Accepted => AckOutcome::ToTu,
            _ => AckOutcome::Absorbed,
        }
    }

    /// The TU sends `response` through this transaction.
    pub(crate) fn respond(
        &mut self,
        now: Instant,
        config: &TimerConfig,
        key: &TsxKey,
        response: Message,
        out: &mut Out,
    ) -> Result<(), TsxError> {
        let code = response.status().ok_or(TsxError::NotAResponse)?;
        if !(100..=699).contains(&code) {
            return Err(TsxError::InvalidStatus(code));
        }
        use TsxState::*;
        let invalid = || TsxError::InvalidState {
            key: key.clone(),
            state: self.state,
        };
        let next = if self.is_invite() {
            match (self.state, code) {
                (Proceeding, 100..=199) => Proceeding,
                // RFC 6026 §7.1: Accepted, Timer L; the TU retransmits its 2xx.
                (Proceeding, 200..=299) => {
                    self.timers.start(Timer::L, now, config);
                    Accepted
                }
                (Accepted, 200..=299) => Accepted,
                // §17.2.1: Completed, Timer H waits for the ACK.
                (Proceeding, _) => {
                    self.timers.start(Timer::H, now, config);
                    Completed
                }
                _ => return Err(invalid()),
            }
        } else {
            match (self.state, code) {
                (Trying | Proceeding, 100..=199) => Proceeding,
                // §17.2.2: Completed, Timer J.
                (Trying | Proceeding, _) => {
                    self.timers.start(Timer::J, now, config);
                    Completed
                }
                _ => return Err(invalid()),
            }
        };
        self.state = next;
        self.response_to_tag = response
            .headers
            .typed::<NameAddrHeader>(HeaderName::To)
            .and_then(Result::ok)
            .and_then(|t| t.tag().map(str::to_owned));
        out.transmits.push_back(response.clone());
        self.last_response = Some(response);
        Ok(())
    }

    /// Timer `timer` fired.
    pub(crate) fn on_timer(&mut self, timer: Timer, key: &TsxKey, out: &mut Out) {
        use TsxState::*;
        match (timer, self.state) {
            // §17.2.1: no ACK came; tell the TU the transaction failed.
            (Timer::H, Completed) => {
                out.events.push_back(TsxEvent::Timeout {
                    key: key.clone(),
                    timer,
                });
                self.terminate();
            }
            (Timer::I, Confirmed) | (Timer::J, Completed) | (Timer::L, Accepted) => {
                self.terminate();
            }
            _ => {}
        }
    }

    pub(crate) fn terminate(&mut self) {
        self.state = TsxState::Terminated;
        self.timers.stop_all();
    }
}

/// A response to `request` as a UAS builds it (RFC 3261 §8.2.6.2): the same Via
/// headers in order, From, To, Call-ID and CSeq, a To tag added when `to_tag` is given
/// and the request's To has none, Timestamp copied into a 100 (§8.2.6.1), and
/// `Content-Length: 0`. The caller adds Contact, a body and any other header.
pub fn build_response(request: &Message, code: u16, reason: &str, to_tag: Option<&str>) -> Message {
    let mut m = Message::response(code, reason);
    for v in request.headers.get_all(&HeaderName::Via) {
        m.headers.push(HeaderName::Via, v);
    }
    for name in [
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        let Some(v) = request.headers.get(&name) else {
            continue;
        };
        let mut v = v.to_owned();
        if name == HeaderName::To {
            if let Some(tag) = to_tag {
                let has_tag = request
                    .headers
                    .typed::<NameAddrHeader>(HeaderName::To)
                    .and_then(Result::ok)
                    .is_some_and(|t| t.tag().is_some());
                if !has_tag {
                    v.push_str(";tag=");
                    v.push_str(tag);
                }
            }
        }
        m.headers.push(name, v);
    }
    if code == 100 {
        if let Some(ts) = request.headers.get(&HeaderName::Timestamp) {
            m.headers.push(HeaderName::Timestamp, ts);
        }
    }
    m.headers.push(HeaderName::ContentLength, "0");
    m
}

/// A To tag derived from the request (FNV-1a of its branch, Call-ID, From tag and
/// CSeq), for responses the layer sends itself: the same request always gets the same
/// tag, as RFC 3261 §8.2.7 asks of stateless answers, and no randomness is needed.
pub(crate) fn derived_tag(request: &Incoming) -> String {
    let b = &request.base;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |s: &str| {
        for byte in s.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(b.vias.first().and_then(|v| v.branch()).unwrap_or(""));
    eat(b.call_id.as_deref().unwrap_or(""));
    eat(b.from.as_ref().and_then(|f| f.tag()).unwrap_or(""));
    eat(&b.cseq.as_ref().map(|c| c.seq.to_text()).unwrap_or_default());
    let mut s = String::with_capacity(16);
    crate::sip::push_hex(&mut s, h, 16);
    s
}

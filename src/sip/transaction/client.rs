//! Client transactions: INVITE (RFC 3261 §17.1.1 with RFC 6026 §7.2) and non-INVITE
//! (RFC 3261 §17.1.2), over a reliable transport (no Timer A or E).
//!
//! ```text
//! INVITE:      Calling --1xx--> Proceeding --2xx--> Accepted --Timer M--> Terminated
//!                 |  \--2xx--> Accepted        \--300-699 (ACK sent)--> Completed
//!                 |--300-699 (ACK sent)--> Completed --Timer D (0)--> Terminated
//!                 \--Timer B--> Terminated (Timeout)
//! non-INVITE:  Trying --1xx--> Proceeding --200-699--> Completed --Timer K (0)--> Terminated
//!                 \--200-699--> Completed;  Trying/Proceeding --Timer F--> Terminated (Timeout)
//! CANCEL:      Queued (until the INVITE gets a provisional, §9.1) then non-INVITE.
//! ```

use super::timer::{Timer, TimerConfig, TimerTable};
use super::{Out, TsxEvent, TsxKey, TsxState};
use crate::sip::fill;
use crate::sip::message::{HeaderName, Incoming, Message, Method, Uri, Via};
use crate::sip::time::Instant;

/// One client transaction.
#[derive(Debug)]
pub(crate) struct ClientTsx {
    pub(crate) state: TsxState,
    pub(crate) timers: TimerTable,
    /// The request as sent (or to be sent, for a queued CANCEL).
    pub(crate) request: Message,
    /// Its Request-URI.
    uri: Uri,
    /// The top Via of the request: the only Via of its ACK and CANCEL.
    top_via: Via,
    /// The CSeq number of the request.
    seq: u32,
    /// The ACK sent for a non-2xx final response, resent for each retransmission of it.
    ack: Option<Message>,
}

impl ClientTsx {
    /// A transaction for `request` (Request-URI `uri`, top Via `top_via`, CSeq number
    /// `seq`), not yet sent: Queued until [`ClientTsx::start`].
    pub(crate) fn new(request: Message, uri: Uri, top_via: Via, seq: u32) -> ClientTsx {
        ClientTsx {
            state: TsxState::Queued,
            timers: TimerTable::default(),
            request,
            uri,
            top_via,
            seq,
            ack: None,
        }
    }

    fn is_invite(&self) -> bool {
        self.request.method() == Some(&Method::Invite)
    }

    /// Enters the first state and starts Timer B (INVITE, §17.1.1.2) or F (§17.1.2.2).
    /// The caller transmits the request.
    pub(crate) fn start(&mut self, now: Instant, config: &TimerConfig) {
        if self.is_invite() {
            self.state = TsxState::Calling;
            self.timers.start(Timer::B, now, config);
        } else {
            self.state = TsxState::Trying;
            self.timers.start(Timer::F, now, config);
        }
    }

    /// A response whose branch and CSeq method matched this transaction (§17.1.3).
    pub(crate) fn on_response(
        &mut self,
        now: Instant,
        config: &TimerConfig,
        key: &TsxKey,
        response: Box<Incoming>,
        out: &mut Out,
    ) {
        let Some(code) = response.msg.status() else {
            return;
        };
        if self.is_invite() {
            self.on_invite_response(now, config, key, code, response, out);
        } else {
            self.on_non_invite_response(now, config, key, code, response, out);
        }
    }

    fn on_invite_response(
        &mut self,
        now: Instant,
        config: &TimerConfig,
        key: &TsxKey,
        code: u16,
        response: Box<Incoming>,
        out: &mut Out,
    ) {
        use TsxState::*;
        match (self.state, code) {
            (Calling | Proceeding, 100..=199) => {
                if self.state == Calling {
                    // Timer B only runs in Calling (§17.1.1.2).
                    self.timers.stop(Timer::B);
                }
                self.state = Proceeding;
            }
            (Calling | Proceeding, 200..=299) => {
                // RFC 6026 §7.2: Accepted, Timer M; the ACK is the TU's.
                self.timers.stop(Timer::B);
                self.timers.start(Timer::M, now, config);
                self.state = Accepted;
            }
            (Calling | Proceeding, _) => {
                // §17.1.1.2: ACK the 300-699, pass it up, Completed, Timer D.
                self.timers.stop(Timer::B);
                self.timers.start(Timer::D, now, config);
                self.state = Completed;
                let ack = self.build_ack(&response);
                out.transmits.push_back(ack.clone());
                self.ack = Some(ack);
            }
            (Completed, 300..) => {
                // A retransmitted final: resend the ACK, don't pass it up (§17.1.1.2).
                if let Some(ack) = &self.ack {
                    out.transmits.push_back(ack.clone());
                }
                return;
            }
            // RFC 6026 §7.2: every 2xx in Accepted goes up (retransmissions, forks).
            (Accepted, 200..=299) => {}
            _ => return,
        }
        out.events.push_back(TsxEvent::Response {
            key: key.clone(),
            response,
        });
    }

    fn on_non_invite_response(
        &mut self,
        now: Instant,
        config: &TimerConfig,
        key: &TsxKey,
        code: u16,
        response: Box<Incoming>,
        out: &mut Out,
    ) {
        use TsxState::*;
        match (self.state, code) {
            (Trying | Proceeding, 100..=199) => self.state = Proceeding,
            (Trying | Proceeding, _) => {
                // §17.1.2.2: Completed, Timer K; Timer F no longer applies.
                self.timers.stop(Timer::F);
                self.timers.start(Timer::K, now, config);
                self.state = Completed;
            }
            // Completed absorbs retransmissions (§17.1.2.2); Queued has sent nothing.
            _ => return,
        }
        out.events.push_back(TsxEvent::Response {
            key: key.clone(),
            response,
        });
    }

    /// Timer `timer` fired.
    pub(crate) fn on_timer(&mut self, timer: Timer, key: &TsxKey, out: &mut Out) {
        use TsxState::*;
        match (timer, self.state) {
            // §17.1.1.2 (and §9.1 once a CANCEL is out), §17.1.2.2: inform the TU.
            (Timer::B, Calling | Proceeding) | (Timer::F, Trying | Proceeding) => {
                out.events.push_back(TsxEvent::Timeout {
                    key: key.clone(),
                    timer,
                });
                self.terminate();
            }
            (Timer::D, Completed) | (Timer::K, Completed) | (Timer::M, Accepted) => {
                self.terminate();
            }
            _ => {}
        }
    }

    pub(crate) fn terminate(&mut self) {
        self.state = TsxState::Terminated;
        self.timers.stop_all();
    }

    /// The CANCEL for this INVITE (§9.1): same Request-URI, Call-ID, To, From, CSeq
    /// number with method CANCEL, the INVITE's top Via only, and its Route headers.
    pub(crate) fn build_cancel(&self) -> Message {
        let mut m = Message::request(Method::Cancel, self.uri.clone());
        copy_common(&mut m, &self.request, &self.top_via);
        if let Some(to) = self.request.headers.get(&HeaderName::To) {
            m.headers.push(HeaderName::To, to);
        }
        finish(&mut m, &self.request, self.seq, &Method::Cancel);
        m
    }

    /// The ACK for a 300-699 final (§17.1.1.3): Request-URI, Call-ID, From and CSeq
    /// number of the INVITE with method ACK, the To of the response, the INVITE's top
    /// Via only and its Route headers, Max-Forwards 70.
    fn build_ack(&self, response: &Incoming) -> Message {
        let mut m = Message::request(Method::Ack, self.uri.clone());
        copy_common(&mut m, &self.request, &self.top_via);
        let to = response
            .msg
            .headers
            .get(&HeaderName::To)
            .or_else(|| self.request.headers.get(&HeaderName::To));
        if let Some(to) = to {
            m.headers.push(HeaderName::To, to);
        }
        finish(&mut m, &self.request, self.seq, &Method::Ack);
        m
    }

    /// The CSeq number of the request.
    pub(crate) fn seq(&self) -> u32 {
        self.seq
    }

    /// The top Via of the request.
    pub(crate) fn top_via(&self) -> &Via {
        &self.top_via
    }
}

/// Via (the request's top one only), Max-Forwards 70 and the request's Route headers.
fn copy_common(m: &mut Message, request: &Message, top_via: &Via) {
    m.headers.push_typed(HeaderName::Via, top_via);
    m.headers.push(HeaderName::MaxForwards, "70");
    for r in request.headers.get_all(&HeaderName::Route) {
        m.headers.push(HeaderName::Route, r);
    }
}

/// From, Call-ID, `CSeq: <seq> <method>`, `Content-Length: 0`.
fn finish(m: &mut Message, request: &Message, seq: u32, method: &Method) {
    for name in [HeaderName::From, HeaderName::CallId] {
        if let Some(v) = request.headers.get(&name) {
            m.headers.push(name, v);
        }
    }
    m.headers
        .push(HeaderName::CSeq, fill("{} {}", &[&seq, method]));
    m.headers.push(HeaderName::ContentLength, "0");
}

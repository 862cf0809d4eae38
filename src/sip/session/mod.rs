//! The call layer: INVITE sessions (RFC 3261 §12–§15, RFC 6026), offer/answer
//! (RFC 3264), UPDATE (RFC 3311) and session timers (RFC 4028), sans-IO.
//!
//! The [`Ua`](crate::sip::ua::Ua) owns the calls and routes to them every new
//! request, every response and timeout of a call's transactions, every CANCEL and ACK.
//! Each call is keyed by its SIP Call-ID, which is also the id the app sees. The shell
//! is asked for media work with [`MediaRequest`]s and answers with [`MediaResult`]s;
//! the app hears [`CallEvent`]s.
//!
//! # Decisions
//!
//! **Events.** Every call starts with `NewSession` and ends with exactly one media
//! `Close` followed by exactly one `Ended` (once `Accepted` was emitted) or `Failed`
//! (it never got that far). After that the call is gone from [`Ua::calls`](crate::sip::ua::Ua::calls); its record
//! may linger to finish protocol work (a BYE in flight, a 2xx to ACK and BYE after a
//! CANCEL, a 2xx retransmitted until its ACK) and is dropped when that is done.
//! `Failed.code` is the status that ended the attempt: the final response received or
//! sent, 487 when we cancelled, 408 for Timer B, 0 when no status applies (media
//! failure before the INVITE, a dropped connection). Causes are JsSIP's strings
//! ([`causes`]); a cause the app passes to `terminate` is reported as given.
//!
//! **Media.** One media request per call is in flight at a time; later ones queue.
//! Results for calls that ended are ignored. A `Failed` result: before our INVITE,
//! the call fails and nothing is sent; when answering, the INVITE gets 488 (480 when
//! the cause is "User Denied Media Access"); for a peer's re-offer, 488 to it and then
//! BYE; for an answer to apply, CANCEL (early) or BYE (up).
//!
//! **UAC** (§13.2). The INVITE carries Route (the registration's Service-Route, RFC
//! 3608), Contact with `ob` (RFC 5626 §4.3), Allow, `Supported: timer, replaces,
//! outbound`, Session-Expires and Min-SE (RFC 4028 §7.1, when configured), the offer.
//! 401/407 are answered with the account's credentials (a fresh authenticator per
//! call, RFC 3261 §22.2), 422 by asking for the Min-SE (RFC 4028 §7.3). A 1xx emits
//! `Progress` (not 100); the first 1xx SDP is applied as early media
//! (`ApplyAnswer` once); a 2xx SDP equal to it is not applied again, a different one
//! is (the 2xx is the real answer; RFC 3261 §13.2.1 makes unreliable 1xx SDP
//! preliminary). The first 2xx confirms the dialog and is ACKed by us (§13.2.2.4,
//! route set, the INVITE's CSeq and credentials); 2xx retransmissions are re-ACKed;
//! a 2xx from another fork, or after a CANCEL, is ACKed and BYEd. `hangup` before the
//! answer sends CANCEL (queued by the transaction layer until a provisional, §9.1)
//! and fails the call at once (Canceled); a 2xx that still arrives (the CANCEL/200
//! race) is ACKed and BYEd. A 2xx without any answer gets ACK and BYE (Missing SDP).
//! Redirects (3xx) are not followed.
//!
//! **UAS** (§13.3). A new INVITE gets 100 Trying at once, `NewSession` and
//! `Incoming`, then 180 Ringing with our tag, Contact and the Record-Route (§12.1.1).
//! `answer` asks for `CreateAnswer{offer}` — or `CreateOffer` for an INVITE without
//! an offer, whose answer must then come in the ACK (RFC 3264 §5; an ACK without it
//! ends the call, Missing SDP) — and sends the 200 with it, retransmitted at T1,
//! 2·T1, … capped at T2 until the ACK (§13.3.1.4, also over WebSocket: a UDP leg
//! may follow the proxy); no ACK within 64·T1 → BYE, Ended "No ACK". A CANCEL
//! gets 487 for the INVITE (Failed Canceled, remote); `reject` sends the code;
//! ringing longer than the no-answer timeout → 480 (Failed No Answer). An outbound
//! call unanswered that long is cancelled (Failed No Answer). A hangup between our
//! 200 and its ACK waits for the ACK before the BYE (§15).
//!
//! **Policies.** `max_calls` live calls at most (486 for more INVITEs, `MaxCalls` for
//! `call`); `disable_call_waiting`: 486 while any call exists. An INVITE with a
//! Call-ID we already have a live call for (a loop through the proxy) gets 482.
//!
//! **In dialog** (§12.2). Requests are built from the route set (loose or strict
//! routing); CSeq numbers lower than the last seen get 500 (§12.2.2); requests for no
//! dialog get 481; target refreshes update the remote target; 408/481 (or Timer B/F)
//! for our re-INVITE, UPDATE, INFO or REFER end the dialog (§12.2.1.2: BYE after a 408
//! or no answer, none after a 481). BYE gets 200 (and 487 for a
//! pending re-INVITE, §15.1.2). A re-INVITE or UPDATE with an offer asks the shell for
//! `CreateAnswer` and gets 200 with it; a re-INVITE without one asks `CreateOffer`
//! (answer in the ACK). 491 while our own INVITE or offer is outstanding, 500 with
//! Retry-After 0–10 s while the peer's previous one is (§14.2, RFC 3311 §5.2). A 491
//! to our re-INVITE is retried after 2.1–4 s (we placed the call) or 0–2 s (§14.1).
//! OPTIONS gets 200; others 481.
//!
//! **Hold and re-offers** (RFC 3264 §8, RFC 6337). `hold`/`unhold`/`renegotiate` ask
//! the shell for `CreateOffer{hold}` (`SendOnly`, or `Inactive` when the peer holds us)
//! and send it in a re-INVITE; its 2xx is ACKed, `ApplyAnswer` asked for, and `Hold`
//! and `Renegotiated` emitted at once; any failure asks for `Rollback` and keeps the
//! state (491: retried after the §14.1 delay; 408/481: the dialog ends). A re-INVITE
//! with no final response 64·T1 after it was sent is CANCELled (after a 1xx Timer B no
//! longer runs, §17.1.1.2). Our REFER gives up (Transfer 408) after 180 s without a
//! NOTIFY. A peer offer that is
//! sendonly/inactive/0.0.0.0 is its hold (`Hold{remote}`); our answers carry our hold.
//! `Video` follows whether both descriptions have active video.
//!
//! **INFO** (RFC 6086). Ours go one at a time (DTMF `application/dtmf-relay`, recording
//! `Record: on|off`), each reported by `InfoDone` (a failure goes on to the next; 408,
//! 481 or no answer ends the call, and the queue with it); the peer's get 200 and
//! become `Dtmf` or `Info`.
//!
//! **REFER** (RFC 3515, RFC 3892, RFC 5589). `transfer` sends REFER (with Replaces in
//! the Refer-To URI for an attended transfer); NOTIFY `message/sipfrag` statuses become
//! `Transfer`; a final 2xx ends the call with "Transferred" (BYE), and the consultation
//! call with the same cause when the target BYEs it (RFC 5589 §7), or by our BYE after
//! 4 s.
//! A peer's REFER gets 202 and a NOTIFY 100, and a new outbound call (`Referred`) whose
//! final status is NOTIFYed. NOTIFY of another event package: 489; for no REFER of
//! ours under way: 481 (RFC 6665 §4.1.3).
//!
//! **Replaces** (RFC 3891). An INVITE whose Replaces names a confirmed call of ours is a
//! new call that is not alerted (`Replaces` instead of `Incoming`); when it is confirmed
//! the old call gets BYE ("Replaced"). No match: 481; `early-only` for a confirmed call:
//! 486; two Replaces headers: 400 (§3).
//!
//! **Session timers** (RFC 4028). Peers' Session-Expires is honoured (§9): below 90 s
//! (or their Min-SE) → 422 with Min-SE when they support timers, else raised; the
//! refresher is copied, or `uas` (us) when unspecified. The refresher refreshes at
//! half the interval (§10) — UPDATE without a body when the peer allows UPDATE, else
//! a re-INVITE with our unchanged SDP; either side sends BYE a third of the interval
//! (at most 32 s) before expiry when no refresh succeeded, ending the call with
//! "Request Timeout".
//!
//! **§8.2 checks**, before any call logic, in the RFC's order: REGISTER, MESSAGE,
//! SUBSCRIBE, PUBLISH → 405 and unknown methods → 501, both with Allow (§8.2.1); a
//! Request-URI that is not `sip:`/`sips:` → 416, our own Contact host with another
//! user → 404 (any user at the AOR domain passes: proxies rewrite, aliases exist)
//! (§8.2.2.1); Require tags outside [`UNDERSTOOD`] → 420 with Unsupported (§8.2.2.3);
//! an INVITE/UPDATE body that is not `application/sdp` (or is encoded) → 415 with
//! Accept (Accept-Encoding) (§8.2.3); an INVITE/UPDATE whose Accept excludes SDP →
//! 406. Max-Forwards is not checked: we are the final recipient (RFC 4475 `zeromf`).

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod call;
pub mod causes;
mod policy;
mod timer;

pub use call::SUPPORTED_CALL;
pub use policy::UNDERSTOOD;

use crate::sip::config::parse_extra_header;
use crate::sip::message::display_by_print;
use crate::sip::message::{HeaderName, Incoming, Message, Method, Via, BRANCH_MAGIC};
use crate::sip::time::Instant;
use crate::sip::transaction::{build_response, TransactionLayer, TsxKey};
use crate::sip::ua::{Env, LogLevel, Output, UaEvent, ACCEPT, ALLOW};
use crate::sip::{fill, push_fill, Print};
use call::{Action, Call, Phase};
use std::rc::Rc;

/// The direction our next offer asks for (RFC 3264 §8.4): how we hold the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Not held: `sendrecv` (or `recvonly` for a stream we do not send).
    Off,
    /// We hold the peer: `sendonly` (`inactive` for a stream we do not send).
    SendOnly,
    /// We hold a peer that holds us: `inactive`.
    Inactive,
}

/// What the core asks of the shell's media layer (an RTCPeerConnection) for one call.
/// Answer every request but `Close` with [`Ua::handle_media`](crate::sip::ua::Ua::handle_media).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRequest {
    /// Create an offer (get the devices, set the transceivers' directions for `hold`,
    /// `createOffer`, `setLocalDescription`, gather ICE) and answer [`MediaResult::Sdp`].
    CreateOffer {
        /// The direction to offer.
        hold: Hold,
    },
    /// Apply the remote offer, create the answer, and answer [`MediaResult::Sdp`].
    CreateAnswer {
        /// The remote SDP offer.
        offer: String,
        /// We hold the peer: answer `sendonly`/`inactive` (RFC 3264 §6.1).
        hold: bool,
    },
    /// Apply the remote answer and answer [`MediaResult::Applied`].
    ApplyAnswer {
        /// The remote SDP answer.
        answer: String,
    },
    /// Our offer was refused: go back to the last stable state (`setLocalDescription`
    /// rollback) and answer [`MediaResult::Applied`] (a failure is ignored).
    Rollback,
    /// The call is over: close the peer connection, stop the devices. No result.
    Close,
}

/// The shell's answer to a [`MediaRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaResult {
    /// The local SDP (for `CreateOffer` and `CreateAnswer`).
    Sdp(String),
    /// The remote answer was applied (for `ApplyAnswer`).
    Applied,
    /// It failed; the text becomes the call's cause (empty: "WebRTC Error"), e.g.
    /// "User Denied Media Access".
    Failed(String),
}

/// `call()` again sooner than this after the previous call whose INVITE went out is
/// refused (API result CALL_TOO_MANY_TIMES).
pub const CALL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Who started a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We called.
    Outbound,
    /// We were called.
    Inbound,
}

/// Who ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Originator {
    /// The app or the SDK on its behalf.
    Local,
    /// The peer.
    Remote,
    /// The network or a timer.
    System,
}

impl Originator {
    /// The variant's name, for logs.
    pub fn name(self) -> &'static str {
        match self {
            Originator::Local => "Local",
            Originator::Remote => "Remote",
            Originator::System => "System",
        }
    }
}

/// What happened to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallEvent {
    /// A call exists (either direction); always the first event of a call.
    NewSession {
        /// The call id (the SIP Call-ID).
        call_id: String,
        /// Who called.
        direction: Direction,
        /// The peer's URI: the target we called, or the caller's From URI.
        remote_uri: String,
        /// The user part of `remote_uri`, unescaped (the number of a `tel:` URI).
        remote_user: String,
        /// The caller's display name (inbound), if any.
        remote_display: Option<String>,
    },
    /// An inbound call is ringing (after `NewSession`).
    Incoming {
        /// The call id.
        call_id: String,
    },
    /// A provisional response (101–199) to our INVITE.
    Progress {
        /// The call id.
        call_id: String,
        /// 180, 183, ...
        code: u16,
    },
    /// A 2xx to our INVITE arrived, or we sent ours.
    Accepted {
        /// The call id.
        call_id: String,
    },
    /// The ACK was sent (UAC) or received (UAS): the call is up.
    Confirmed {
        /// The call id.
        call_id: String,
    },
    /// The call ended after `Accepted`.
    Ended {
        /// The call id.
        call_id: String,
        /// Why (see [`causes`]).
        cause: String,
        /// Who ended it.
        originator: Originator,
    },
    /// The call ended before `Accepted`.
    Failed {
        /// The call id.
        call_id: String,
        /// Why (see [`causes`]).
        cause: String,
        /// The SIP status that ended it, 0 when none did.
        code: u16,
        /// Who ended it.
        originator: Originator,
    },
    /// The hold state changed: `local` after our hold/unhold re-INVITE succeeded,
    /// `remote` when the peer's offer put us on hold or took us off (RFC 3264 §8.4).
    Hold {
        /// The call id.
        call_id: String,
        /// We hold the peer.
        local: bool,
        /// The peer holds us.
        remote: bool,
    },
    /// Video became active or inactive in the negotiated session.
    Video {
        /// The call id.
        call_id: String,
        /// Both descriptions have an active video stream.
        on: bool,
    },
    /// Our re-INVITE (hold, unhold, renegotiate) finished. On failure the media was
    /// rolled back and the hold state is unchanged.
    Renegotiated {
        /// The call id.
        call_id: String,
        /// What was asked for.
        kind: Reoffer,
        /// 2xx: done; else the failure status (408 for a timeout; 0 when the media
        /// failed, or when a 2xx carried no answer, RFC 3264 §5).
        code: u16,
    },
    /// A DTMF digit arrived by SIP INFO (`application/dtmf-relay` or `application/dtmf`).
    Dtmf {
        /// The call id.
        call_id: String,
        /// `0-9`, `*`, `#`, `A-D`.
        digit: char,
        /// The Duration the sender gave, in ms (0 when none).
        duration: u32,
    },
    /// Another INFO arrived (answered 200).
    Info {
        /// The call id.
        call_id: String,
        /// Its Content-Type ("" without a body).
        content_type: String,
        /// Its body as text.
        body: String,
        /// Its `Record` header, if any.
        record: Option<String>,
    },
    /// Our INFO got its final response (not for 408/481, which end the call).
    InfoDone {
        /// The call id.
        call_id: String,
        /// What it was.
        info: InfoKind,
        /// The final status.
        code: u16,
    },
    /// Our transfer (REFER, RFC 3515) progressed: `code` is the REFER's failure status
    /// or the status in a NOTIFY's `message/sipfrag`. `done`: the final one; a 2xx then
    /// also ends this call (cause "Transferred"), a failure leaves it up.
    Transfer {
        /// The call id.
        call_id: String,
        /// The status.
        code: u16,
        /// The final report.
        done: bool,
    },
    /// The peer transferred us (an accepted REFER): `new_call_id` calls `target`; NOTIFYs
    /// report its progress to the peer. `NewSession` for the new call comes first.
    Referred {
        /// The call whose peer sent the REFER.
        call_id: String,
        /// The call we placed.
        new_call_id: String,
        /// Where it goes.
        target: String,
    },
    /// An INVITE with Replaces (RFC 3891) matched our confirmed call `replaced`: the
    /// new call `call_id` (its `NewSession` came first, no `Incoming`) should be
    /// answered at once; once it is confirmed, `replaced` ends with cause "Replaced".
    Replaces {
        /// The new inbound call.
        call_id: String,
        /// Our call it replaces.
        replaced: String,
    },
}

/// What a re-INVITE of ours asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reoffer {
    /// Hold the peer (`sendonly`, or `inactive` when it holds us).
    Hold,
    /// Take the hold off (`sendrecv`).
    Unhold,
    /// A fresh offer with the current direction (e.g. video added or removed).
    Renegotiate,
}

impl Reoffer {
    /// The variant's name, for logs.
    pub fn name(self) -> &'static str {
        match self {
            Reoffer::Hold => "Hold",
            Reoffer::Unhold => "Unhold",
            Reoffer::Renegotiate => "Renegotiate",
        }
    }
}

/// An INFO we send (RFC 6086).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoKind {
    /// One DTMF digit, `application/dtmf-relay` (`Signal=`, `Duration=`).
    Dtmf {
        /// The digit.
        digit: char,
        /// Its duration in ms.
        duration: u32,
    },
    /// Recording control: the header `Record: on` / `Record: off`, no body.
    Record(bool),
}

/// Why a call command was refused. Nothing changed when one is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The target cannot be a SIP URI or user part (-209).
    InvalidNumber,
    /// An extra header is not `Name: value`, or is one the UA sets itself (-200).
    InvalidHeader(String),
    /// Not registered (-201).
    NotRegistered,
    /// No live call has this id (-211).
    NotFound,
    /// `max_calls` calls exist already (-205).
    MaxCalls,
    /// Another outbound call is not answered yet (-210).
    NotConnected,
    /// Within [`CALL_INTERVAL`] of the previous `call()` whose INVITE went out (-208).
    TooSoon,
    /// The call's state does not allow this (-200).
    InvalidState(&'static str),
    /// A bad argument, e.g. a DTMF digit outside `0-9*#A-D` (-200).
    InvalidArgument(&'static str),
}

impl CallError {
    /// The API result code (spec/API.md "Result codes").
    pub fn code(&self) -> i32 {
        match self {
            CallError::InvalidNumber => -209,
            CallError::NotRegistered => -201,
            CallError::NotFound => -211,
            CallError::MaxCalls => -205,
            CallError::NotConnected => -210,
            CallError::TooSoon => -208,
            CallError::InvalidHeader(_)
            | CallError::InvalidState(_)
            | CallError::InvalidArgument(_) => -200,
        }
    }
}

impl Print for CallError {
    fn print(&self, out: &mut String) {
        out.push_str(match self {
            CallError::InvalidNumber => "invalid number",
            CallError::InvalidHeader(e) => return push_fill(out, "invalid extra header: {}", &[e]),
            CallError::NotRegistered => "not registered",
            CallError::NotFound => "no such call",
            CallError::MaxCalls => "too many calls",
            CallError::NotConnected => "another outbound call is not answered yet",
            CallError::TooSoon => "call() within 1 s of the previous call",
            CallError::InvalidState(s) | CallError::InvalidArgument(s) => s,
        });
    }
}

display_by_print!(CallError);

impl std::error::Error for CallError {}

/// The kind of a client transaction a call owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The initial INVITE (and its auth/422 retries).
    Invite,
    /// Its CANCEL.
    Cancel,
    /// A BYE (ours, or for an unwanted 2xx).
    Bye,
    /// Our session-refresh re-INVITE.
    ReInvite,
    /// Our session-refresh UPDATE.
    Update,
    /// Our re-INVITE with a new offer (hold, unhold, renegotiate).
    Reoffer,
    /// Our INFO.
    Info,
    /// Our REFER.
    Refer,
    /// Our NOTIFY about a REFER we accepted.
    Notify,
}

/// What the call layer borrows from the [`Ua`](crate::sip::ua::Ua) for one input.
pub(crate) struct Ctx<'a> {
    pub(crate) env: Env<'a>,
    pub(crate) layer: &'a mut TransactionLayer,
    /// Route values from the registration's Service-Route (RFC 3608).
    pub(crate) service_route: &'a [String],
    /// A registration is in force.
    pub(crate) registered: bool,
}

impl Ctx<'_> {
    /// A Via with a fresh branch (RFC 3261 §8.1.1.7, RFC 7118 §5.2).
    pub(crate) fn via(&mut self) -> Via {
        let mut branch = self.env.rng.token(16);
        branch.insert_str(0, BRANCH_MAGIC);
        let transport = if self.env.secure { "WSS" } else { "WS" };
        Via::new(transport, &self.env.local.via_host, None, &branch)
    }

    /// Moves what the transaction layer wants sent to the output, in order.
    fn flush(&mut self) {
        while let Some(m) = self.layer.poll_transmit() {
            self.send_direct(&m);
        }
    }

    /// Sends a message outside any transaction (ACK for a 2xx, §13.2.2.4).
    pub(crate) fn send_direct(&mut self, m: &Message) {
        crate::sip::ua::send(self.env.config, self.env.out, m);
    }

    /// Starts a client transaction.
    pub(crate) fn send(&mut self, now: Instant, m: Message) -> Option<TsxKey> {
        let r = self.layer.send_request(now, m);
        self.flush();
        match r {
            Ok(k) => Some(k),
            Err(e) => {
                self.log(LogLevel::Error, fill("cannot send request: {}", &[&e]));
                None
            }
        }
    }

    /// Answers through a server transaction; false (logged) when it is gone.
    pub(crate) fn respond(&mut self, now: Instant, key: &TsxKey, m: Message) -> bool {
        let r = self.layer.respond(now, key, m);
        self.flush();
        if let Err(e) = &r {
            self.log(LogLevel::Warn, fill("could not answer: {}", &[e]));
        }
        r.is_ok()
    }

    /// As [`Ctx::respond`], without logging a failure.
    pub(crate) fn respond_quiet(&mut self, now: Instant, key: &TsxKey, m: Message) -> bool {
        let r = self.layer.respond(now, key, m);
        self.flush();
        r.is_ok()
    }

    /// Cancels an INVITE client transaction (§9.1); the CANCEL's key and message.
    pub(crate) fn cancel(&mut self, now: Instant, invite: &TsxKey) -> Option<(TsxKey, Message)> {
        let r = self.layer.send_cancel(now, invite);
        self.flush();
        let key = r.ok()?;
        let msg = self.layer.request(&key).cloned()?;
        Some((key, msg))
    }

    pub(crate) fn event(&mut self, e: CallEvent) {
        self.env.event(UaEvent::Call(e));
    }

    pub(crate) fn media(&mut self, call_id: &str, request: MediaRequest) {
        self.env.out.push_back(Output::Media {
            call_id: call_id.to_owned(),
            request,
        });
    }

    pub(crate) fn log(&mut self, level: LogLevel, message: impl Into<String>) {
        self.env.log(level, message);
    }
}

/// `value` escaped for a URI header (RFC 3261 §19.1.1 `hvalue`): everything but
/// unreserved characters and `[]/?:+$` as `%XX`.
fn escape_header_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 16);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()[]/?:+$".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            for nibble in [b >> 4, b & 0xf] {
                let d = char::from_digit(u32::from(nibble), 16).unwrap_or('0');
                out.push(d.to_ascii_uppercase());
            }
        }
    }
    out
}

/// True when a provisional response to our INVITE means the callee is being alerted
/// or early media flows: 180 Ringing, 181 Call Is Being Forwarded, 182 Queued, 183
/// Session Progress (RFC 3261 §21.1.2-§21.1.5); `status.isRing` of the API.
pub fn alerting(code: u16) -> bool {
    (180..=183).contains(&code)
}

/// True when a final status in `Renegotiated`, `InfoDone` or `Transfer` means the
/// request (or the transfer) succeeded: 2xx (RFC 3261 §21.2; RFC 3515 §2.4.5 for the
/// sipfrag of a NOTIFY).
pub fn succeeded(code: u16) -> bool {
    (200..=299).contains(&code)
}

/// True when every character of `digits` is a DTMF digit `0-9 * # A-D` (and there is
/// at least one).
pub fn valid_dtmf(digits: &str) -> bool {
    !digits.is_empty()
        && digits
            .chars()
            .all(|c| matches!(c, '0'..='9' | '*' | '#' | 'A'..='D'))
}

/// Every call of a UA (see the [module docs](self)).
#[derive(Debug, Default)]
pub(crate) struct Calls {
    /// In creation order; at most one live call per Call-ID.
    calls: Vec<Call>,
    /// When the last `call()` whose INVITE went out was made.
    last_placed: Option<Instant>,
}

impl Calls {
    /// The ids of the live calls, oldest first.
    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        self.calls
            .iter()
            .filter(|c| c.is_live())
            .map(|c| c.id.as_str())
    }

    fn live_count(&self) -> usize {
        self.calls.iter().filter(|c| c.is_live()).count()
    }

    fn live_mut(&mut self, id: &str) -> Result<&mut Call, CallError> {
        self.calls
            .iter_mut()
            .find(|c| c.is_live() && c.id == id)
            .ok_or(CallError::NotFound)
    }

    fn reap(&mut self) {
        self.calls.retain(|c| !c.is_done());
    }

    /// Does what calls asked of other calls (transfers, Replaces), then drops the
    /// finished records.
    fn settle(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        // Each round may produce more work (an ended call notifies its referrer); a
        // handful of rounds covers every chain.
        for _ in 0..8 {
            let mut work = Vec::new();
            for c in &mut self.calls {
                for a in c.actions.drain(..) {
                    work.push((c.id.clone(), a));
                }
            }
            if work.is_empty() {
                break;
            }
            for (from, a) in work {
                self.act(now, ctx, &from, a);
            }
        }
        self.reap();
    }

    fn act(&mut self, now: Instant, ctx: &mut Ctx<'_>, from: &str, action: Action) {
        match action {
            Action::Place { target, headers } => {
                // RFC 3515 §2.4.2: the referred call. It takes the referring call's
                // place (the referrer usually hangs up once it is up), so that one is not
                // counted against max_calls; every other live call is. Past the limit
                // the call is not made, and the referrer learns it from the NOTIFY's
                // final status (§2.4.4): 603, as a user declining it would.
                let others = self
                    .calls
                    .iter()
                    .filter(|c| c.is_live() && c.id != from)
                    .count();
                if others >= ctx.env.config.calls.max_calls {
                    ctx.log(
                        LogLevel::Warn,
                        fill("call {}: REFER declined, max_calls reached", &[&from]),
                    );
                    if let Ok(parent) = self.live_mut(from) {
                        parent.notify_refer(now, ctx, 603);
                    }
                    return;
                }
                let id = ctx.env.rng.token(22);
                let shown = target.to_text();
                ctx.log(
                    LogLevel::Info,
                    fill("call {}: calling {} (REFER)", &[&id, &shown]),
                );
                let mut call = Call::outbound(ctx, id.clone(), target, headers);
                call.referrer = Some(from.to_owned());
                self.calls.push(call);
                if let Ok(parent) = self.live_mut(from) {
                    parent.refer_in = Some(id.clone());
                }
                ctx.event(CallEvent::Referred {
                    call_id: from.to_owned(),
                    new_call_id: id,
                    target: shown,
                });
            }
            Action::NotifyReferrer { to, code } => {
                if let Ok(c) = self.live_mut(&to) {
                    c.notify_refer(now, ctx, code);
                }
            }
            Action::Placed { at } => {
                self.last_placed = Some(self.last_placed.map_or(at, |t| t.max(at)));
            }
            Action::EndSoon { id, cause } => {
                if let Ok(c) = self.live_mut(&id) {
                    c.end_soon(now, cause);
                }
            }
            Action::End { id, cause } => {
                if let Ok(c) = self.live_mut(&id) {
                    let _ = c.hangup(now, ctx, Some(cause));
                }
            }
        }
    }

    /// The earliest deadline of any call.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.calls.iter().filter_map(Call::poll_timeout).min()
    }

    // ------------------------------------------------------------ API

    /// `Ua::call`.
    pub(crate) fn call(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        target: &str,
        extra_headers: &[String],
    ) -> Result<String, CallError> {
        let uri = policy::parse_target(target, &ctx.env.config.aor)?;
        let mut extra = Vec::with_capacity(extra_headers.len());
        for h in extra_headers {
            extra.push(parse_extra_header(h).map_err(|e| CallError::InvalidHeader(e.message))?);
        }
        if !ctx.registered {
            return Err(CallError::NotRegistered);
        }
        if self.live_count() >= ctx.env.config.calls.max_calls {
            return Err(CallError::MaxCalls);
        }
        if self
            .calls
            .iter()
            .any(|c| c.is_live() && c.dir == Direction::Outbound && !c.is_accepted())
        {
            return Err(CallError::NotConnected);
        }
        if self
            .last_placed
            .is_some_and(|t| now.saturating_since(t) < CALL_INTERVAL)
        {
            return Err(CallError::TooSoon);
        }
        let id = ctx.env.rng.token(22);
        ctx.log(LogLevel::Info, fill("call {}: calling {}", &[&id, &uri]));
        let mut call = Call::outbound(ctx, id.clone(), uri, extra);
        call.placed_at = Some(now);
        self.calls.push(call);
        Ok(id)
    }

    /// `Ua::answer`.
    pub(crate) fn answer(&mut self, ctx: &mut Ctx<'_>, id: &str) -> Result<(), CallError> {
        self.live_mut(id)?.answer(ctx)
    }

    /// `Ua::hold`, `Ua::unhold`, `Ua::renegotiate`.
    pub(crate) fn reoffer(
        &mut self,
        ctx: &mut Ctx<'_>,
        id: &str,
        kind: Reoffer,
    ) -> Result<(), CallError> {
        self.live_mut(id)?.reoffer(ctx, kind)
    }

    /// `Ua::dtmf_info` and `Ua::record_info`.
    pub(crate) fn info(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        id: &str,
        infos: Vec<InfoKind>,
    ) -> Result<(), CallError> {
        let r = self.live_mut(id)?.info(now, ctx, infos);
        self.settle(now, ctx);
        r
    }

    /// `Ua::transfer`: REFER to `target`; with `consult`, an attended transfer whose
    /// Refer-To carries Replaces for the consultation call's dialog (RFC 5589 §7.1,
    /// RFC 3891 §6.1: to-tag is the peer's tag, from-tag ours).
    pub(crate) fn transfer(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        id: &str,
        target: &str,
        consult: Option<&str>,
    ) -> Result<(), CallError> {
        let refer_to = match consult {
            None => {
                let uri = policy::parse_target(target, &ctx.env.config.aor)?;
                fill("<{}>", &[&uri])
            }
            Some(cid) => {
                if cid == id {
                    return Err(CallError::InvalidArgument(
                        "the consultation call must be another call",
                    ));
                }
                let c = self.live_mut(cid)?;
                let d = match &c.dialog {
                    Some(d) if c.phase == Phase::Confirmed => d,
                    _ => return Err(CallError::InvalidState("the consultation call is not up")),
                };
                let replaces = fill(
                    "{};to-tag={};from-tag={}",
                    &[&d.id.call_id, &d.id.remote_tag, &d.id.local_tag],
                );
                let uri = c.remote_uri();
                fill("<{}?Replaces={}>", &[&uri, &escape_header_value(&replaces)])
            }
        };
        let r = self
            .live_mut(id)?
            .refer(now, ctx, &refer_to, consult.map(str::to_owned));
        self.settle(now, ctx);
        r
    }

    /// The live confirmed call a Replaces value (RFC 3891 §6.1) names: Call-ID, to-tag
    /// = our tag, from-tag = the peer's (§3). Else the refusal: 481 when no confirmed
    /// call matches (our calls that can be replaced are confirmed ones), 486 when one
    /// does but the value says `early-only` (§3).
    fn replaced_by(&self, value: &str) -> Result<String, (u16, &'static str)> {
        const NONE: (u16, &str) = (481, "Call/Transaction Does Not Exist");
        let mut parts = value.split(';').map(str::trim);
        let call_id = parts.next().ok_or(NONE)?;
        let (mut to, mut from, mut early_only) = (None, None, false);
        for p in parts {
            match p.split_once('=') {
                Some((k, v)) if k.trim().eq_ignore_ascii_case("to-tag") => to = Some(v.trim()),
                Some((k, v)) if k.trim().eq_ignore_ascii_case("from-tag") => from = Some(v.trim()),
                None if p.eq_ignore_ascii_case("early-only") => early_only = true,
                _ => {}
            }
        }
        let (to, from) = (to.ok_or(NONE)?, from.ok_or(NONE)?);
        let found = self
            .calls
            .iter()
            .find(|c| {
                c.phase == Phase::Confirmed
                    && c.dialog.as_ref().is_some_and(|d| {
                        d.id.call_id == call_id && d.id.local_tag == to && d.id.remote_tag == from
                    })
            })
            .ok_or(NONE)?;
        if early_only {
            return Err((486, "Busy Here"));
        }
        Ok(found.id.clone())
    }

    /// `Ua::reject`.
    pub(crate) fn reject(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        id: &str,
        code: u16,
    ) -> Result<(), CallError> {
        let r = self.live_mut(id)?.reject(now, ctx, code, None);
        self.settle(now, ctx);
        r
    }

    /// `Ua::hangup` and `Ua::terminate`.
    pub(crate) fn hangup(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        id: &str,
        cause: Option<&str>,
    ) -> Result<(), CallError> {
        let r = self.live_mut(id)?.hangup(now, ctx, cause);
        self.settle(now, ctx);
        r
    }

    /// Hangs up every live call (the UA is stopping).
    pub(crate) fn hangup_all(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        for c in self.calls.iter_mut().filter(|c| c.is_live()) {
            let _ = c.hangup(now, ctx, None);
        }
        self.settle(now, ctx);
    }

    /// The connection is gone: every call ends (Connection Error) and is forgotten.
    pub(crate) fn connection_lost(&mut self, ctx: &mut Ctx<'_>) {
        for c in &mut self.calls {
            c.connection_lost(ctx);
        }
        self.calls.clear();
    }

    /// `Ua::handle_media`; unknown or ended calls are ignored.
    pub(crate) fn handle_media(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        id: &str,
        result: MediaResult,
    ) {
        match self.live_mut(id) {
            Ok(c) => c.on_media(now, ctx, result),
            Err(_) => ctx.log(
                LogLevel::Debug,
                fill("media result for unknown or ended call {}; ignored", &[&id]),
            ),
        }
        self.settle(now, ctx);
    }

    // ------------------------------------------------------------ transaction events

    /// A new server transaction's request (not ACK, not CANCEL).
    pub(crate) fn on_request(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: TsxKey,
        req: Rc<Incoming>,
    ) {
        let Some(method) = req.msg.method().cloned() else {
            return;
        };
        if let Some(r) = policy::check(&req, ctx.env.local) {
            let tag = ctx.env.rng.token(10);
            let mut resp = build_response(&req.msg, r.code, r.reason, Some(&tag));
            for (name, value) in r.headers {
                resp.headers.push(name, value);
            }
            ctx.log(
                LogLevel::Info,
                fill("{} refused with {}", &[&method, &r.code]),
            );
            ctx.respond(now, &key, resp);
            return;
        }
        let call_id = req.base.call_id.clone().unwrap_or_default();
        let to_tag = req
            .base
            .to
            .as_ref()
            .and_then(|t| t.tag())
            .map(str::to_owned);
        if let Some(tag) = to_tag {
            let from_tag = req.base.from.as_ref().and_then(|t| t.tag());
            let found = self.calls.iter_mut().rev().find(|c| {
                c.dialog
                    .as_ref()
                    .is_some_and(|d| d.matches(&call_id, Some(&tag), from_tag))
            });
            match found {
                Some(c) if c.is_live() || method == Method::Bye => {
                    c.on_request(now, ctx, &key, req)
                }
                _ => {
                    // §12.2.2: no such dialog.
                    let r = build_response(&req.msg, 481, "Call/Transaction Does Not Exist", None);
                    ctx.respond(now, &key, r);
                }
            }
            self.settle(now, ctx);
            return;
        }
        let reply = |ctx: &mut Ctx<'_>, code: u16, reason: &str| {
            let tag = ctx.env.rng.token(10);
            build_response(&req.msg, code, reason, Some(&tag))
        };
        match method {
            Method::Invite => self.new_invite(now, ctx, key, req),
            Method::Options => {
                // §11.2.
                let mut r = reply(ctx, 200, "OK");
                r.headers.push(HeaderName::Allow, ALLOW);
                r.headers.push(HeaderName::Accept, ACCEPT);
                r.headers.push(HeaderName::Supported, SUPPORTED_CALL);
                ctx.respond(now, &key, r);
            }
            _ => {
                // BYE, INFO, UPDATE, PRACK, NOTIFY, REFER outside a dialog.
                let r = reply(ctx, 481, "Call/Transaction Does Not Exist");
                ctx.respond(now, &key, r);
            }
        }
    }

    fn new_invite(&mut self, now: Instant, ctx: &mut Ctx<'_>, key: TsxKey, req: Rc<Incoming>) {
        let call_id = req.base.call_id.clone().unwrap_or_default();
        let policy = ctx.env.config.calls;
        let live = self.live_count();
        let found = {
            let mut values = req.msg.headers.get_all(&HeaderName::Replaces);
            match (values.next(), values.next()) {
                (None, _) => Ok(None),
                // RFC 3891 §3: more than one Replaces is a bad request.
                (Some(_), Some(_)) => Err((400, "Bad Request")),
                (Some(v), None) => self.replaced_by(v).map(Some),
            }
        };
        let replaces = match found {
            Ok(r) => r,
            Err((code, reason)) => {
                let tag = ctx.env.rng.token(10);
                let r = build_response(&req.msg, code, reason, Some(&tag));
                ctx.log(
                    LogLevel::Info,
                    fill("INVITE {}: Replaces refused with {}", &[&call_id, &code]),
                );
                ctx.respond(now, &key, r);
                return;
            }
        };
        // A call that replaces another takes its place (the old one ends once the new
        // one is up, RFC 3891 §3), so it is not counted against max_calls — but only
        // one: while a replacement of a dialog is unconfirmed, another INVITE replacing
        // it counts like any call (else each would be one more call past the limit).
        let exempt = replaces.as_ref().is_some_and(|old| {
            !self
                .calls
                .iter()
                .any(|c| c.is_live() && c.replaces.as_ref() == Some(old))
        });
        let (code, reason, min_se) = if self.calls.iter().any(|c| c.is_live() && c.id == call_id) {
            // The same Call-ID twice: our own INVITE looped back, or a merged request
            // (§8.2.2.2).
            (482, "Loop Detected", None)
        } else if !exempt && (live >= policy.max_calls || (policy.disable_call_waiting && live > 0))
        {
            (486, "Busy Here", None)
        } else {
            match timer::uas_decide(&req, policy.session_expires) {
                timer::UasTimer::TooSmall(min) => (422, "Session Interval Too Small", Some(min)),
                decision => {
                    let call = Call::inbound(now, ctx, key, req, decision, replaces);
                    ctx.log(LogLevel::Info, fill("call {}: incoming", &[&call.id]));
                    self.calls.push(call);
                    return;
                }
            }
        };
        let tag = ctx.env.rng.token(10);
        let mut r = build_response(&req.msg, code, reason, Some(&tag));
        if let Some(m) = min_se {
            r.headers.push_typed(HeaderName::MinSe, &m);
        }
        ctx.log(
            LogLevel::Info,
            fill("INVITE {} refused with {}", &[&call_id, &code]),
        );
        ctx.respond(now, &key, r);
    }

    /// A CANCEL for the server transaction `target`: true when it was a ringing call's
    /// INVITE (answered 487 here); the caller answers the CANCEL itself.
    pub(crate) fn on_cancel(&mut self, now: Instant, ctx: &mut Ctx<'_>, target: &TsxKey) -> bool {
        let done = self
            .calls
            .iter_mut()
            .find(|c| c.is_live() && c.uas_invite_key() == Some(target))
            .is_some_and(|c| c.on_cancel(now, ctx));
        self.settle(now, ctx);
        done
    }

    /// An ACK for a 2xx (RFC 6026 §7.1).
    pub(crate) fn on_ack(&mut self, now: Instant, ctx: &mut Ctx<'_>, req: &Incoming) {
        let call_id = req.base.call_id.as_deref().unwrap_or("");
        let to_tag = req.base.to.as_ref().and_then(|t| t.tag());
        let from_tag = req.base.from.as_ref().and_then(|t| t.tag());
        if let Some(c) = self.calls.iter_mut().rev().find(|c| {
            c.dialog
                .as_ref()
                .is_some_and(|d| d.matches(call_id, to_tag, from_tag))
        }) {
            c.on_ack(now, ctx, req);
        } else {
            ctx.log(LogLevel::Debug, "ACK for no dialog; dropped");
        }
        self.settle(now, ctx);
    }

    fn owner(&mut self, key: &TsxKey) -> Option<(&mut Call, Role)> {
        self.calls.iter_mut().find_map(|c| {
            let role = c.owned.iter().find(|o| &o.key == key)?.role;
            Some((c, role))
        })
    }

    /// A response for a client transaction; false when no call owns it.
    pub(crate) fn on_response(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: &TsxKey,
        resp: &Incoming,
    ) -> bool {
        let Some((c, role)) = self.owner(key) else {
            return false;
        };
        c.on_response(now, ctx, key, role, resp);
        self.settle(now, ctx);
        true
    }

    /// Timer B/F of a call's transaction; false when no call owns it.
    pub(crate) fn on_timeout(&mut self, now: Instant, ctx: &mut Ctx<'_>, key: &TsxKey) -> bool {
        let Some((c, role)) = self.owner(key) else {
            return false;
        };
        if let Some(o) = c.owned.iter_mut().find(|o| &o.key == key) {
            o.done = true;
        }
        c.on_client_timeout(now, ctx, role);
        self.settle(now, ctx);
        true
    }

    /// A 2xx no transaction took; false when it is for no call of ours.
    pub(crate) fn on_stray_2xx(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        resp: &Incoming,
    ) -> bool {
        let call_id = resp.base.call_id.as_deref().unwrap_or("");
        let from_tag = resp.base.from.as_ref().and_then(|t| t.tag()).unwrap_or("");
        let Some(c) = self
            .calls
            .iter_mut()
            .rev()
            .find(|c| c.id == call_id && c.local_tag() == from_tag)
        else {
            return false;
        };
        c.on_stray_2xx(now, ctx, resp);
        self.settle(now, ctx);
        true
    }

    /// A transaction is gone.
    pub(crate) fn on_terminated(&mut self, key: &TsxKey) {
        for c in &mut self.calls {
            c.owned.retain(|o| &o.key != key);
        }
        self.reap();
    }

    /// Fires every call's timers due at `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        for c in &mut self.calls {
            if c.poll_timeout().is_some_and(|t| t <= now) {
                c.handle_timeout(now, ctx);
            }
        }
        self.settle(now, ctx);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn alerting_codes() {
        for code in [180, 181, 182, 183] {
            assert!(super::alerting(code), "{code}");
        }
        for code in [100, 179, 184, 199, 200] {
            assert!(!super::alerting(code), "{code}");
        }
    }

    #[test]
    fn succeeded_codes() {
        for code in [200, 202, 299] {
            assert!(super::succeeded(code), "{code}");
        }
        for code in [0, 100, 180, 199, 300, 408, 481, 603] {
            assert!(!super::succeeded(code), "{code}");
        }
    }
}

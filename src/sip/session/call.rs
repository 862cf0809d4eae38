//! One call: the INVITE session of RFC 3261 §13–§15 with RFC 3264 offer/answer,
//! RFC 3311 UPDATE and RFC 4028 session timers. See the [module docs](super) for the
//! decisions.

use super::causes;
use super::timer::{self, SessionTimer, UasTimer};
use super::{
    CallError, CallEvent, Ctx, Direction, Hold, InfoKind, MediaRequest, MediaResult, Originator,
    Reoffer, Role,
};
use crate::sip::auth::{AuthDecision, Authenticator, ChallengeKind, Credentials};
use crate::sip::config::MIN_SESSION_EXPIRES;
use crate::sip::dialog::Dialog;
use crate::sip::message::{
    scan, valid_value, CSeq, HeaderName, Incoming, MediaType, Message, Method, NameAddr,
    NameAddrHeader, StartLine, TypedHeader, Uri,
};
use crate::sip::sdp;
use crate::sip::time::Instant;
use crate::sip::transaction::{build_response, TsxKey};
use crate::sip::ua::{LogLevel, ACCEPT, ALLOW};
use crate::sip::{fill, Print};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

/// How many of our ACKs a call keeps for retransmitted 2xx.
const MAX_ACKS: usize = 4;

/// How long the target of an attended transfer has to end the replaced consultation
/// call before we BYE it.
pub(crate) const GRACE: Duration = Duration::from_secs(4);

/// How long our REFER waits for the next NOTIFY before the transfer is reported failed
/// (RFC 3515 §2.4.4 leaves the subscription's length to the notifier; a transfer
/// target rings for a minute or two at most).
const REFER_WAIT: Duration = Duration::from_secs(180);

/// The option tags we put in Supported on INVITE, UPDATE and their 2xx.
pub const SUPPORTED_CALL: &str = "timer, replaces, outbound";

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// UAC: waiting for the shell's offer; nothing sent yet.
    Offering,
    /// UAC: the INVITE is out, no 2xx yet (early dialogs may exist).
    Inviting,
    /// UAS: the INVITE is ringing.
    Ringing,
    /// UAS: `answer` was called; waiting for the shell's SDP.
    Answering,
    /// UAS: our 2xx is out; retransmitting it until the ACK (§13.3.1.4).
    WaitAck,
    /// The call is up.
    Confirmed,
    /// Over for the app (Ended/Failed and media Close emitted). The record lingers while
    /// it still has protocol work: transactions in flight, a 2xx to retransmit.
    Ended,
}

/// A media request in flight, and what its result is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum MediaOp {
    /// UAC: the offer for our INVITE.
    InitialOffer,
    /// UAS: the answer to the INVITE's offer, for our 2xx.
    InitialAnswer { offer: String },
    /// UAS: the INVITE had no offer; ours goes in the 2xx, the answer in the ACK.
    OfferIn2xx,
    /// An answer to apply (from a 1xx, a 2xx or an ACK).
    Apply { answer: String },
    /// The peer's re-INVITE or UPDATE carried an offer; the answer goes in our 2xx.
    AnswerPeer { key: TsxKey, offer: String },
    /// The peer's re-INVITE had no offer; ours goes in the 2xx, the answer in the ACK.
    OfferInReinvite2xx { key: TsxKey },
    /// Our re-INVITE's new offer (hold, unhold, renegotiate).
    Reoffer(Reoffer),
    /// Our re-offer failed: back to the last stable state.
    Rollback,
}

/// Work a call asks of other calls; [`Calls`](super::Calls) does it after each input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Place a call for the peer's REFER (RFC 3515 §2.4.2), with these headers
    /// (Replaces, Referred-By).
    Place {
        target: Uri,
        headers: Vec<(HeaderName, String)>,
    },
    /// Report the outcome of a call placed for a REFER to the referrer call `to`.
    NotifyReferrer { to: String, code: u16 },
    /// End call `id` from our side.
    End { id: String, cause: &'static str },
    /// Call `id` is expected to be ended by the peer; end it after [`GRACE`] otherwise.
    /// Either way it ends with `cause`.
    EndSoon { id: String, cause: &'static str },
    /// The INVITE of a `call()` made at `at` went out (for the -208 interval).
    Placed { at: Instant },
}

/// Our REFER (RFC 3515) under way.
#[derive(Debug, Clone)]
struct ReferOut {
    /// Attended transfer: our consultation call, ended with this one on success.
    consult: Option<String>,
}

/// A 2xx to an INVITE we are retransmitting until its ACK (RFC 3261 §13.3.1.4).
#[derive(Debug, Clone)]
struct Retransmit {
    key: TsxKey,
    msg: Message,
    /// The INVITE's CSeq number, which the ACK carries.
    seq: u32,
    interval: Duration,
    next_at: Instant,
    give_up_at: Instant,
    /// The 2xx carried our offer: the ACK must carry the answer.
    expect_answer: bool,
}

/// A client transaction of this call.
#[derive(Debug, Clone)]
pub(crate) struct Owned {
    pub(crate) key: TsxKey,
    pub(crate) role: Role,
    /// The request as sent (for auth retries and the ACK's credentials).
    pub(crate) msg: Message,
    /// A final response arrived (the transaction may linger, e.g. Timer M).
    pub(crate) done: bool,
}

/// One call (see the [module docs](super)).
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) id: String,
    pub(crate) dir: Direction,
    pub(crate) phase: Phase,
    /// Accepted was emitted: the end is reported as Ended, not Failed.
    accepted: bool,
    local_tag: String,
    /// UAC: the Request-URI and To of the INVITE.
    target: Uri,
    /// UAC: headers the app added to this call's INVITE.
    extra: Vec<(HeaderName, String)>,
    auth: Authenticator,
    auth_rounds: u8,
    /// UAC: the CSeq number of the last initial INVITE sent.
    invite_seq: u32,
    /// The session interval we ask for (RFC 4028 §7.1) and our Min-SE.
    se_ask: Option<u32>,
    min_se: u32,
    se_retries: u8,
    /// UAC: the SDP of a 1xx already applied (early media).
    early_sdp: Option<String>,
    /// UAC: a CANCEL was sent (or queued) for the INVITE.
    cancelled: bool,
    /// UAS: the INVITE's server transaction and the INVITE.
    uas_invite: Option<(TsxKey, Rc<Incoming>)>,
    /// UAS: the session timer decided for the INVITE.
    uas_timer: UasTimer,
    pub(crate) dialog: Option<Dialog>,
    local_sdp: Option<String>,
    remote_sdp: Option<String>,
    media: Option<MediaOp>,
    queue: VecDeque<MediaOp>,
    /// The peer's re-INVITE or UPDATE we have not answered yet, and its timer decision.
    peer_pending: Option<(TsxKey, Rc<Incoming>, UasTimer)>,
    tx_2xx: Option<Retransmit>,
    /// The ACKs we sent for 2xx, with their INVITE's CSeq number, the latest few (resent
    /// for retransmitted 2xx, §13.2.2.4: the initial INVITE's 2xx may still be
    /// retransmitted after a re-INVITE of ours completed).
    acks: Vec<(u32, Message)>,
    /// We hung up before the ACK came: BYE once it does (§15).
    bye_after_ack: bool,
    /// Unwanted 2xx already ACKed and BYEd: To tag, CSeq number, the ACK (resent for
    /// their retransmissions).
    refused_2xx: Vec<(String, u32, Message)>,
    no_answer_at: Option<Instant>,
    refresh_at: Option<Instant>,
    expire_at: Option<Instant>,
    /// §14.1: retry our refresh after a 491 at this time.
    retry_at: Option<Instant>,
    session: Option<SessionTimer>,
    peer_allows_update: bool,
    pub(crate) owned: Vec<Owned>,
    /// We hold the peer; the peer holds us (RFC 3264 §8.4).
    local_hold: bool,
    remote_hold: bool,
    /// Video is active in both descriptions.
    video: bool,
    /// Our re-offer under way, and the local SDP to restore if it fails.
    reoffer: Option<(Reoffer, Option<String>)>,
    /// §14.1: send the re-offer again after a 491 at this time.
    reoffer_at: Option<Instant>,
    /// Our re-INVITE is CANCELled if no final response came by then: after a 1xx,
    /// Timer B no longer runs (RFC 3261 §17.1.1.2) and the exchange would block.
    reoffer_deadline: Option<Instant>,
    /// Our REFER's subscription is given up without a final NOTIFY by then.
    refer_deadline: Option<Instant>,
    /// The peer should end the call (an attended transfer replaced it): our BYE at this
    /// time if it has not, and the cause reported either way.
    end_at: Option<(Instant, &'static str)>,
    /// INFOs to send in order; the first is in flight when `info_busy` (RFC 6086 §4.2).
    infos: VecDeque<InfoKind>,
    info_busy: bool,
    refer_out: Option<ReferOut>,
    /// The peer's REFER we accepted: the call we placed for it.
    pub(crate) refer_in: Option<String>,
    /// This call was placed for a REFER of call `referrer`: report its outcome there.
    pub(crate) referrer: Option<String>,
    /// This call replaces call `replaces` (RFC 3891): end that one once confirmed.
    pub(crate) replaces: Option<String>,
    /// Work for other calls.
    pub(crate) actions: Vec<Action>,
    /// When the app's `call()` made this call (none for calls the UA placed itself).
    pub(crate) placed_at: Option<Instant>,
}

/// The body of `m` as SDP text, if it has one.
fn sdp_of(m: &Message) -> Option<String> {
    if m.body.is_empty() {
        return None;
    }
    let is_sdp = m
        .headers
        .typed::<MediaType>(HeaderName::ContentType)
        .and_then(Result::ok)
        .is_some_and(|t| t.matches("application", "sdp") && t.mtype != "*");
    is_sdp.then(|| crate::sip::message::scan::lossy(&m.body))
}

fn allows_update(m: &Message) -> bool {
    // As `typed_list::<Method>(Allow)` then `contains(&Method::Update)`, without the
    // list: false as soon as an element is not a method token.
    use crate::sip::message::scan;
    let mut found = false;
    for line in m.headers.get_all(&HeaderName::Allow) {
        for item in scan::split_list(line) {
            let v = scan::trim_ws(item);
            if !scan::is_token_str(v) {
                return false;
            }
            found |= v == "UPDATE";
        }
    }
    found
}

fn cseq_of(m: &Incoming) -> u32 {
    m.base.cseq.as_ref().map_or(0, |c| c.seq)
}

fn to_tag(m: &Incoming) -> Option<&str> {
    m.base.to.as_ref().and_then(|t| t.tag())
}

impl Call {
    fn new(
        id: String,
        dir: Direction,
        phase: Phase,
        local_tag: String,
        target: Uri,
        creds: Credentials,
    ) -> Call {
        Call {
            id,
            dir,
            phase,
            accepted: false,
            local_tag,
            target,
            extra: Vec::new(),
            auth: Authenticator::new(creds),
            auth_rounds: 0,
            invite_seq: 0,
            se_ask: None,
            min_se: MIN_SESSION_EXPIRES,
            se_retries: 0,
            early_sdp: None,
            cancelled: false,
            uas_invite: None,
            uas_timer: UasTimer::Off,
            dialog: None,
            local_sdp: None,
            remote_sdp: None,
            media: None,
            queue: VecDeque::new(),
            peer_pending: None,
            tx_2xx: None,
            acks: Vec::new(),
            bye_after_ack: false,
            refused_2xx: Vec::new(),
            no_answer_at: None,
            refresh_at: None,
            expire_at: None,
            retry_at: None,
            session: None,
            peer_allows_update: false,
            owned: Vec::new(),
            local_hold: false,
            remote_hold: false,
            video: false,
            reoffer: None,
            reoffer_at: None,
            reoffer_deadline: None,
            refer_deadline: None,
            end_at: None,
            infos: VecDeque::new(),
            info_busy: false,
            refer_out: None,
            refer_in: None,
            referrer: None,
            replaces: None,
            actions: Vec::new(),
            placed_at: None,
        }
    }

    /// A new outbound call: asks the shell for an offer.
    pub(crate) fn outbound(
        ctx: &mut Ctx<'_>,
        id: String,
        target: Uri,
        extra: Vec<(HeaderName, String)>,
    ) -> Call {
        let tag = ctx.env.rng.token(10);
        let mut c = Call::new(
            id,
            Direction::Outbound,
            Phase::Offering,
            tag,
            target,
            ctx.env.config.credentials.clone(),
        );
        c.extra = extra;
        c.se_ask = ctx.env.config.calls.session_expires;
        c.invite_seq = (ctx.env.rng.below(10_000) as u32).saturating_add(1);
        let e = CallEvent::NewSession {
            call_id: c.id.clone(),
            direction: Direction::Outbound,
            remote_uri: c.target.to_text(),
            remote_user: c
                .target
                .user()
                .map(crate::sip::message::scan::unescape)
                .unwrap_or_default(),
            remote_display: None,
        };
        ctx.event(e);
        c.push_media(ctx, MediaOp::InitialOffer);
        c
    }

    /// A new inbound call for an INVITE that passed every check: 100 Trying,
    /// NewSession, Incoming, then 180 Ringing (with our tag, Contact and the
    /// Record-Route, §12.1.1), and the no-answer timer. Whether its offer holds us
    /// (RFC 3264 §8.4) is decided when the answer is made, so that it is reported
    /// (`Hold`) like any later offer. An INVITE that `replaces` one
    /// of our calls (RFC 3891 §3) gets `Replaces` instead of `Incoming` and no 180:
    /// the user is not alerted.
    pub(crate) fn inbound(
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: TsxKey,
        req: Rc<Incoming>,
        uas_timer: UasTimer,
        replaces: Option<String>,
    ) -> Call {
        let id = req.base.call_id.clone().unwrap_or_default();
        let from = req.base.from.clone();
        let target = from
            .as_ref()
            .map(|f| f.uri().clone())
            .unwrap_or(Uri::Other {
                scheme: "invalid".into(),
                rest: "invalid".into(),
            });
        let tag = ctx.env.rng.token(10);
        let seq = (ctx.env.rng.below(10_000) as u32).saturating_add(1);
        let mut c = Call::new(
            id,
            Direction::Inbound,
            Phase::Ringing,
            tag,
            target,
            ctx.env.config.credentials.clone(),
        );
        c.dialog = Some(Dialog::uas(&req, &c.local_tag, seq));
        c.remote_sdp = sdp_of(&req.msg);
        c.peer_allows_update = allows_update(&req.msg);
        c.uas_timer = uas_timer;
        c.se_ask = ctx.env.config.calls.session_expires;
        let trying = build_response(&req.msg, 100, "Trying", None);
        ctx.respond(now, &key, trying);
        ctx.event(CallEvent::NewSession {
            call_id: c.id.clone(),
            direction: Direction::Inbound,
            remote_uri: c.target.to_text(),
            remote_user: c
                .target
                .user()
                .map(crate::sip::message::scan::unescape)
                .unwrap_or_default(),
            remote_display: from.and_then(|f| f.addr.display).filter(|d| !d.is_empty()),
        });
        if let Some(old) = replaces {
            ctx.event(CallEvent::Replaces {
                call_id: c.id.clone(),
                replaced: old.clone(),
            });
            c.replaces = Some(old);
        } else {
            ctx.event(CallEvent::Incoming {
                call_id: c.id.clone(),
            });
            let mut ringing = c.uas_response(ctx, &req.msg, 180, "Ringing", true);
            ringing.headers.push(HeaderName::ContentLength, "0");
            ctx.respond(now, &key, ringing);
        }
        c.no_answer_at = Some(now + ctx.env.config.calls.no_answer_timeout);
        c.uas_invite = Some((key, req));
        c
    }

    /// True while the call counts for the app (in `calls()`, max_calls).
    pub(crate) fn is_live(&self) -> bool {
        self.phase != Phase::Ended
    }

    /// True when the record can go: over, with no protocol work left.
    pub(crate) fn is_done(&self) -> bool {
        self.phase == Phase::Ended && self.owned.is_empty() && self.tx_2xx.is_none()
    }

    /// The peer's URI: the target we called, or the caller's From URI.
    pub(crate) fn remote_uri(&self) -> &Uri {
        &self.target
    }

    /// A 2xx was sent or received for the INVITE.
    pub(crate) fn is_accepted(&self) -> bool {
        self.accepted
    }

    /// The UAS INVITE server transaction key.
    pub(crate) fn uas_invite_key(&self) -> Option<&TsxKey> {
        self.uas_invite.as_ref().map(|(k, _)| k)
    }

    /// Our tag.
    pub(crate) fn local_tag(&self) -> &str {
        &self.local_tag
    }

    /// The earliest deadline of this call.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let tx = self.tx_2xx.as_ref().map(|t| t.next_at.min(t.give_up_at));
        [
            self.no_answer_at,
            self.refresh_at,
            self.expire_at,
            self.retry_at,
            self.reoffer_at,
            self.reoffer_deadline,
            self.refer_deadline,
            self.end_at.map(|(t, _)| t),
            tx,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ------------------------------------------------------------ ending

    /// Reports the end once: media Close, then Ended (after Accepted) or Failed.
    fn finish(&mut self, ctx: &mut Ctx<'_>, code: u16, cause: &str, originator: Originator) {
        if self.phase == Phase::Ended {
            return;
        }
        self.phase = Phase::Ended;
        self.no_answer_at = None;
        self.refresh_at = None;
        self.expire_at = None;
        self.retry_at = None;
        self.reoffer_at = None;
        self.reoffer_deadline = None;
        self.refer_deadline = None;
        self.end_at = None;
        self.media = None;
        self.queue.clear();
        if let Some(to) = self.referrer.take() {
            let code = match code {
                300..=699 => code,
                _ if self.accepted => 200,
                _ => 503,
            };
            self.actions.push(Action::NotifyReferrer { to, code });
        }
        if !self.bye_after_ack {
            self.tx_2xx = None;
        }
        ctx.log(
            LogLevel::Info,
            fill(
                "call {} over: {} ({}, {})",
                &[&self.id, &cause, &originator.name(), &code],
            ),
        );
        ctx.media(&self.id, MediaRequest::Close);
        let call_id = self.id.clone();
        let cause = cause.to_owned();
        ctx.event(if self.accepted {
            CallEvent::Ended {
                call_id,
                cause,
                originator,
            }
        } else {
            CallEvent::Failed {
                call_id,
                cause,
                code,
                originator,
            }
        });
    }

    /// The transport is gone: report the end, forget everything.
    pub(crate) fn connection_lost(&mut self, ctx: &mut Ctx<'_>) {
        self.bye_after_ack = false;
        self.finish(ctx, 0, causes::CONNECTION_ERROR, Originator::System);
        self.owned.clear();
        self.tx_2xx = None;
    }

    // ------------------------------------------------------------ sending

    /// True while a request of ours with `role` has no final response.
    fn in_progress(&self, role: Role, with_body: bool) -> bool {
        self.owned
            .iter()
            .any(|o| o.role == role && !o.done && (!with_body || !o.msg.body.is_empty()))
    }

    fn owned_msg(&self, key: &TsxKey) -> Option<&Message> {
        self.owned.iter().find(|o| &o.key == key).map(|o| &o.msg)
    }

    fn send(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        role: Role,
        msg: Message,
    ) -> Option<TsxKey> {
        let key = ctx.send(now, msg.clone())?;
        self.owned.push(Owned {
            key: key.clone(),
            role,
            msg,
            done: false,
        });
        Some(key)
    }

    /// Digest credentials for a new request from the cached challenges (RFC 3261
    /// §22.3), then Content-Length or the SDP body.
    fn authorize_and_body(&mut self, ctx: &mut Ctx<'_>, m: &mut Message, sdp: Option<&str>) {
        self.authorize_with(ctx, m, sdp.map(|s| ("application/sdp", s)));
    }

    /// As [`Call::authorize_and_body`] with a body of any type.
    fn authorize_with(&mut self, ctx: &mut Ctx<'_>, m: &mut Message, body: Option<(&str, &str)>) {
        let (method, uri) = match &m.start {
            StartLine::Request(r) => (r.method.as_str().to_owned(), r.uri.to_text()),
            StartLine::Response(_) => return,
        };
        let sdp = body;
        let body = body.map_or(&b""[..], |(_, b)| b.as_bytes());
        let rng = &mut *ctx.env.rng;
        for (kind, value) in self
            .auth
            .authorize(&method, &uri, body, &mut || rng.token(16))
        {
            m.headers.push(auth_header(kind), value);
        }
        match sdp {
            Some((t, s)) => m.set_body(Some(t), s.as_bytes().to_vec()),
            None => m.headers.push(HeaderName::ContentLength, "0"),
        }
    }

    /// The initial INVITE (RFC 3261 §8.1.1, §13.2.1): Route from the registration's
    /// service route (RFC 3608), Contact with `ob` (RFC 5626 §4.3), Allow, Supported,
    /// Session-Expires/Min-SE when we ask for timers (RFC 4028 §7.1), the SDP offer.
    fn build_invite(&mut self, ctx: &mut Ctx<'_>) -> Message {
        self.invite_seq = self.invite_seq.wrapping_add(1) & 0x7fff_ffff;
        let via = ctx.via();
        let mut m = Message::request(Method::Invite, self.target.clone());
        m.headers.push_typed(HeaderName::Via, &via);
        m.headers.push(HeaderName::MaxForwards, "70");
        for r in ctx.service_route {
            m.headers.push(HeaderName::Route, r);
        }
        m.headers
            .push_typed(HeaderName::To, &NameAddr::new(self.target.clone()));
        let from = NameAddr {
            display: ctx.env.config.display_name.clone(),
            uri: Uri::Sip(ctx.env.config.aor.clone()),
        };
        m.headers.push(
            HeaderName::From,
            fill("{};tag={}", &[&from, &self.local_tag]),
        );
        m.headers.push(HeaderName::CallId, &self.id);
        m.headers.push_typed(
            HeaderName::CSeq,
            &CSeq {
                seq: self.invite_seq,
                method: Method::Invite,
            },
        );
        m.headers
            .push(HeaderName::Contact, ctx.env.local.dialog_contact());
        ctx.env.finish_request(&mut m);
        m.headers.push(HeaderName::Supported, SUPPORTED_CALL);
        if let Some(se) = self.se_ask {
            timer::push_request_headers(&mut m, se, self.min_se, false);
        }
        for (name, value) in &self.extra {
            m.headers.push(name.clone(), value);
        }
        let sdp = self.local_sdp.clone();
        self.authorize_and_body(ctx, &mut m, sdp.as_deref());
        m
    }

    fn send_invite(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let m = self.build_invite(ctx);
        if self.send(now, ctx, Role::Invite, m).is_none() {
            self.finish(ctx, 0, causes::INTERNAL_ERROR, Originator::System);
        }
    }

    /// A request in the dialog: Contact on target refreshes, Allow, User-Agent, the
    /// configured extra headers, Supported on INVITE/UPDATE.
    fn dialog_request(&mut self, ctx: &mut Ctx<'_>, method: Method) -> Option<Message> {
        let via = ctx.via();
        let d = self.dialog.as_mut()?;
        let seq = d.next_seq();
        let mut m = d.request(method.clone(), seq, &via);
        if matches!(method, Method::Invite | Method::Update) {
            m.headers
                .push(HeaderName::Contact, ctx.env.local.dialog_contact());
        }
        ctx.env.finish_request(&mut m);
        if matches!(method, Method::Invite | Method::Update) {
            m.headers.push(HeaderName::Supported, SUPPORTED_CALL);
        }
        Some(m)
    }

    /// BYE (§15.1.1), with a Reason header when given (RFC 3326).
    fn send_bye(&mut self, now: Instant, ctx: &mut Ctx<'_>, reason: Option<&str>) {
        self.refuse_pending(now, ctx);
        let Some(mut m) = self.dialog_request(ctx, Method::Bye) else {
            return;
        };
        if let Some(r) = reason {
            m.headers.push(HeaderName::Reason, r);
        }
        self.authorize_and_body(ctx, &mut m, None);
        self.send(now, ctx, Role::Bye, m);
    }

    /// Answers the peer's re-INVITE or UPDATE still waiting for us with 487: the dialog
    /// is ending (§15.1.2 asks the same of a UAS receiving BYE).
    fn refuse_pending(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if let Some((key, req, _)) = self.peer_pending.take() {
            self.reply(now, ctx, &key, &req.msg, 487, "Request Terminated");
        }
    }

    /// Sends the ACK for a 2xx to the INVITE with CSeq `seq` (§13.2.2.4) and keeps it
    /// for retransmitted 2xx.
    fn send_ack(&mut self, ctx: &mut Ctx<'_>, seq: u32, invite: Option<&Message>) {
        let via = ctx.via();
        let Some(d) = &self.dialog else { return };
        let ack = d.ack(seq, &via, invite);
        ctx.send_direct(&ack);
        if self.acks.len() >= MAX_ACKS {
            self.acks.remove(0);
        }
        self.acks.push((seq, ack));
    }

    /// Sends again the ACK we sent for the 2xx to the INVITE with CSeq `seq`; false
    /// when we sent none.
    fn resend_ack(&self, ctx: &mut Ctx<'_>, seq: u32) -> bool {
        match self.acks.iter().find(|(s, _)| *s == seq) {
            Some((_, ack)) => {
                ctx.send_direct(ack);
                true
            }
            None => false,
        }
    }

    /// ACKs a 2xx to our re-INVITE `sent` (§13.2.2.4: every 2xx, retransmissions
    /// included); true when it was a retransmission (re-ACKed, nothing else to do).
    fn ack_reinvite_2xx(&mut self, ctx: &mut Ctx<'_>, resp: &Incoming, sent: &Message) -> bool {
        let seq = cseq_of(resp);
        if self.resend_ack(ctx, seq) {
            return true;
        }
        self.send_ack(ctx, seq, Some(sent));
        false
    }

    /// A 2xx from a dialog we do not want (a second fork, or after we gave up):
    /// ACK it and BYE it (§13.2.2.4), using a dialog built from it.
    fn ack_and_bye(&mut self, now: Instant, ctx: &mut Ctx<'_>, invite: &Message, resp: &Incoming) {
        let seq = cseq_of(resp);
        let tag = to_tag(resp).unwrap_or("").to_owned();
        if let Some((_, _, ack)) = self
            .refused_2xx
            .iter()
            .find(|(t, s, _)| *t == tag && *s == seq)
        {
            ctx.send_direct(&ack.clone());
            return;
        }
        let mut d = Dialog::uac(invite, resp, seq);
        let via = ctx.via();
        let ack = d.ack(seq, &via, Some(invite));
        ctx.send_direct(&ack);
        self.refused_2xx.push((tag, seq, ack));
        let via = ctx.via();
        let bye_seq = d.next_seq();
        let mut bye = d.request(Method::Bye, bye_seq, &via);
        ctx.env.finish_request(&mut bye);
        self.authorize_and_body(ctx, &mut bye, None);
        ctx.log(
            LogLevel::Info,
            fill("call {}: ACK and BYE for an unwanted 2xx", &[&self.id]),
        );
        self.send(now, ctx, Role::Bye, bye);
    }

    /// A response to a request that creates or is in our (UAS) dialog: our tag,
    /// Contact, and for the INVITE's responses the Record-Route (§12.1.1), Allow and
    /// Supported. No Content-Length: the caller adds it or a body.
    fn uas_response(
        &self,
        ctx: &Ctx<'_>,
        req: &Message,
        code: u16,
        reason: &str,
        initial: bool,
    ) -> Message {
        let mut r = build_response(req, code, reason, Some(&self.local_tag));
        r.headers.remove(&HeaderName::ContentLength);
        if initial {
            for rr in req.headers.get_all(&HeaderName::RecordRoute) {
                r.headers.push(HeaderName::RecordRoute, rr);
            }
        }
        r.headers
            .push(HeaderName::Contact, ctx.env.local.dialog_contact());
        if code >= 200 {
            r.headers.push(HeaderName::Allow, ALLOW);
            r.headers.push(HeaderName::Supported, SUPPORTED_CALL);
        }
        r
    }

    /// A final response without body to the server transaction `key`.
    fn reply(
        &self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: &TsxKey,
        req: &Message,
        code: u16,
        reason: &str,
    ) {
        let r = build_response(req, code, reason, Some(&self.local_tag));
        ctx.respond(now, key, r);
    }

    /// A final response without body to the peer's initial INVITE (UAS), if we have it.
    fn reply_invite(&self, now: Instant, ctx: &mut Ctx<'_>, code: u16, reason: &str) {
        if let Some((key, req)) = &self.uas_invite {
            self.reply(now, ctx, key, &req.msg, code, reason);
        }
    }

    // ------------------------------------------------------------ media

    fn push_media(&mut self, ctx: &mut Ctx<'_>, op: MediaOp) {
        if self.media.is_some() {
            self.queue.push_back(op);
            return;
        }
        ctx.media(&self.id, self.media_request(&op));
        self.media = Some(op);
    }

    /// The shell request for `op`; offers and answers carry the hold direction.
    fn media_request(&self, op: &MediaOp) -> MediaRequest {
        match op {
            MediaOp::InitialOffer | MediaOp::OfferIn2xx => {
                MediaRequest::CreateOffer { hold: Hold::Off }
            }
            MediaOp::OfferInReinvite2xx { .. } => MediaRequest::CreateOffer {
                hold: self.offer_hold(self.local_hold),
            },
            MediaOp::Reoffer(kind) => MediaRequest::CreateOffer {
                hold: self.offer_hold(match kind {
                    Reoffer::Hold => true,
                    Reoffer::Unhold => false,
                    Reoffer::Renegotiate => self.local_hold,
                }),
            },
            MediaOp::InitialAnswer { offer } | MediaOp::AnswerPeer { offer, .. } => {
                MediaRequest::CreateAnswer {
                    offer: offer.clone(),
                    hold: self.local_hold,
                }
            }
            MediaOp::Apply { answer } => MediaRequest::ApplyAnswer {
                answer: answer.clone(),
            },
            MediaOp::Rollback => MediaRequest::Rollback,
        }
    }

    /// The direction of an offer of ours (RFC 3264 §8.4, RFC 6337 §5.3): `inactive`
    /// when we hold a peer that holds us.
    fn offer_hold(&self, hold: bool) -> Hold {
        match (hold, self.remote_hold) {
            (false, _) => Hold::Off,
            (true, false) => Hold::SendOnly,
            (true, true) => Hold::Inactive,
        }
    }

    fn next_media(&mut self, ctx: &mut Ctx<'_>) {
        if self.media.is_none() && self.phase != Phase::Ended {
            if let Some(op) = self.queue.pop_front() {
                ctx.media(&self.id, self.media_request(&op));
                self.media = Some(op);
            }
        }
    }

    /// True while an offer of ours awaits its answer, or a peer's offer awaits ours
    /// (RFC 3264 §4: one offer/answer exchange at a time).
    fn offer_outstanding(&self) -> bool {
        self.in_progress(Role::ReInvite, true)
            || self.in_progress(Role::Reoffer, false)
            || self.tx_2xx.as_ref().is_some_and(|t| t.expect_answer)
            || matches!(
                self.media,
                Some(
                    MediaOp::OfferIn2xx
                        | MediaOp::OfferInReinvite2xx { .. }
                        | MediaOp::Reoffer(_)
                        | MediaOp::Rollback
                )
            )
    }

    /// The shell's answer to the pending media request.
    pub(crate) fn on_media(&mut self, now: Instant, ctx: &mut Ctx<'_>, result: MediaResult) {
        if self.phase == Phase::Ended {
            ctx.log(
                LogLevel::Debug,
                fill("call {}: late media result ignored", &[&self.id]),
            );
            return;
        }
        let Some(op) = self.media.take() else {
            ctx.log(
                LogLevel::Warn,
                fill(
                    "call {}: media result with no request pending; ignored",
                    &[&self.id],
                ),
            );
            return;
        };
        let outcome = match (&op, result) {
            // A failed rollback leaves nothing better to do.
            (MediaOp::Rollback, _) => Ok(None),
            (MediaOp::Apply { .. }, MediaResult::Applied | MediaResult::Sdp(_)) => Ok(None),
            (MediaOp::Apply { .. }, MediaResult::Failed(e)) => Err(e),
            (_, MediaResult::Sdp(sdp)) => Ok(Some(sdp)),
            (_, MediaResult::Applied) => Err("an SDP was expected".to_owned()),
            (_, MediaResult::Failed(e)) => Err(e),
        };
        match outcome {
            Ok(sdp) => self.media_done(now, ctx, op, sdp),
            Err(e) => self.media_failed(now, ctx, op, &e),
        }
        self.next_media(ctx);
    }

    fn media_done(&mut self, now: Instant, ctx: &mut Ctx<'_>, op: MediaOp, sdp: Option<String>) {
        let sdp = sdp.unwrap_or_default();
        match op {
            MediaOp::InitialOffer => {
                self.local_sdp = Some(sdp);
                self.phase = Phase::Inviting;
                self.no_answer_at = Some(now + ctx.env.config.calls.no_answer_timeout);
                self.send_invite(now, ctx);
                if let (Phase::Inviting, Some(at)) = (self.phase, self.placed_at) {
                    self.actions.push(Action::Placed { at });
                }
            }
            MediaOp::InitialAnswer { .. } | MediaOp::OfferIn2xx => {
                let expect_answer = matches!(op, MediaOp::OfferIn2xx);
                self.local_sdp = Some(sdp.clone());
                let Some((key, req)) = &self.uas_invite else {
                    return;
                };
                let mut ok = self.uas_response(ctx, &req.msg, 200, "OK", true);
                let (key, seq) = (key.clone(), cseq_of(req));
                self.uas_timer.push_headers(&mut ok);
                ok.set_body(Some("application/sdp"), sdp.into_bytes());
                if !ctx.respond(now, &key, ok.clone()) {
                    self.finish(ctx, 0, causes::INTERNAL_ERROR, Originator::System);
                    return;
                }
                self.start_2xx(now, ctx, key, ok, seq, expect_answer);
                self.phase = Phase::WaitAck;
                self.accepted = true;
                let offer = self.remote_sdp.clone();
                self.after_exchange(ctx, offer.as_deref());
                self.set_timer(now, self.uas_timer.timer());
                ctx.event(CallEvent::Accepted {
                    call_id: self.id.clone(),
                });
            }
            MediaOp::Apply { .. } => self.after_exchange(ctx, None),
            MediaOp::Rollback => {}
            MediaOp::Reoffer(kind) => {
                self.local_sdp = Some(sdp);
                self.send_reoffer(now, ctx, kind);
            }
            MediaOp::AnswerPeer { key, offer } => {
                self.reply_to_peer(now, ctx, key, sdp, Some(offer))
            }
            MediaOp::OfferInReinvite2xx { key } => self.reply_to_peer(now, ctx, key, sdp, None),
        }
    }

    /// The 200 with our `sdp` for the peer's re-INVITE or UPDATE `key`: our answer to
    /// its `offer`, or our offer when it made none (the answer then comes in the ACK,
    /// RFC 3264 §5). A 2xx to an INVITE is retransmitted until the ACK (§13.3.1.4).
    fn reply_to_peer(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: TsxKey,
        sdp: String,
        offer: Option<String>,
    ) {
        let Some((pkey, req, decision)) = self.peer_pending.take() else {
            return;
        };
        if pkey != key {
            self.peer_pending = Some((pkey, req, decision));
            return;
        }
        self.local_sdp = Some(sdp.clone());
        let expect_answer = offer.is_none();
        if let Some(offer) = offer {
            self.remote_sdp = Some(offer.clone());
            self.after_exchange(ctx, Some(&offer));
        }
        let mut ok = self.uas_response(ctx, &req.msg, 200, "OK", false);
        decision.push_headers(&mut ok);
        ok.set_body(Some("application/sdp"), sdp.into_bytes());
        if ctx.respond(now, &key, ok.clone()) && req.msg.method() == Some(&Method::Invite) {
            self.start_2xx(now, ctx, key, ok, cseq_of(&req), expect_answer);
        }
        self.set_timer(now, decision.timer());
    }

    /// A media failure: before the INVITE went out, the call fails with nothing sent;
    /// answering, the INVITE gets 488 (480 when the user denied the devices); once up
    /// (or for a peer's offer in the dialog: 488 to it first), BYE.
    fn media_failed(&mut self, now: Instant, ctx: &mut Ctx<'_>, op: MediaOp, error: &str) {
        let cause = if error.is_empty() {
            causes::WEBRTC_ERROR.to_owned()
        } else {
            error.to_owned()
        };
        ctx.log(
            LogLevel::Warn,
            fill("call {}: media failed: {}", &[&self.id, &cause]),
        );
        match op {
            MediaOp::InitialOffer => self.finish(ctx, 0, &cause, Originator::Local),
            MediaOp::InitialAnswer { .. } | MediaOp::OfferIn2xx => {
                let (code, reason) = if cause == causes::USER_DENIED_MEDIA_ACCESS {
                    (480, "Temporarily Unavailable")
                } else {
                    (488, "Not Acceptable Here")
                };
                self.reply_invite(now, ctx, code, reason);
                self.finish(ctx, code, &cause, Originator::Local);
            }
            MediaOp::AnswerPeer { key, .. } | MediaOp::OfferInReinvite2xx { key } => {
                if let Some((pkey, req, _)) = self.peer_pending.take() {
                    if pkey == key {
                        self.reply(now, ctx, &key, &req.msg, 488, "Not Acceptable Here");
                    }
                }
                self.hang_up_dialog(now, ctx, &cause, Originator::Local);
            }
            MediaOp::Rollback => {}
            MediaOp::Reoffer(kind) => self.reoffer_failed(ctx, kind, 0),
            MediaOp::Apply { .. } => match self.phase {
                Phase::Inviting => {
                    self.cancel_invite(now, ctx);
                    self.finish(ctx, 487, &cause, Originator::Local);
                }
                _ => self.hang_up_dialog(now, ctx, &cause, Originator::Local),
            },
        }
    }

    /// Ends an established dialog from our side: BYE now, or after the ACK when our
    /// 2xx is still unacknowledged (§15).
    fn hang_up_dialog(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        cause: &str,
        originator: Originator,
    ) {
        self.refuse_pending(now, ctx);
        if self.phase == Phase::WaitAck || self.tx_2xx.is_some() {
            self.bye_after_ack = true;
        } else {
            self.send_bye(now, ctx, None);
        }
        self.finish(ctx, 0, cause, originator);
    }

    // ------------------------------------------------------------ hold, re-offers

    /// After an offer/answer exchange: the peer's `offer` (if it made one) tells
    /// whether it holds us (RFC 3264 §8.4); video is on when both sides have it.
    fn after_exchange(&mut self, ctx: &mut Ctx<'_>, offer: Option<&str>) {
        if let Some(o) = offer {
            let remote = sdp::holds(o);
            self.set_hold(ctx, self.local_hold, remote);
        }
        let video = self.local_sdp.as_deref().is_some_and(sdp::has_video)
            && self.remote_sdp.as_deref().is_some_and(sdp::has_video);
        if video != self.video {
            self.video = video;
            ctx.event(CallEvent::Video {
                call_id: self.id.clone(),
                on: video,
            });
        }
    }

    fn set_hold(&mut self, ctx: &mut Ctx<'_>, local: bool, remote: bool) {
        if (local, remote) != (self.local_hold, self.remote_hold) {
            self.local_hold = local;
            self.remote_hold = remote;
            ctx.event(CallEvent::Hold {
                call_id: self.id.clone(),
                local,
                remote,
            });
        }
    }

    /// `hold`/`unhold`/`renegotiate`: a re-INVITE with a new offer (RFC 3261 §14.1,
    /// RFC 3264 §8). Refused while the call is not up or another offer/answer
    /// exchange is under way (RFC 3264 §4), and for a hold that is already so.
    pub(crate) fn reoffer(&mut self, ctx: &mut Ctx<'_>, kind: Reoffer) -> Result<(), CallError> {
        if self.phase != Phase::Confirmed {
            return Err(CallError::InvalidState("the call is not up"));
        }
        match kind {
            Reoffer::Hold if self.local_hold => {
                return Err(CallError::InvalidState("already on hold"))
            }
            Reoffer::Unhold if !self.local_hold => {
                return Err(CallError::InvalidState("not on hold"))
            }
            _ => {}
        }
        if self.reoffer.is_some()
            || self.peer_pending.is_some()
            || self.tx_2xx.is_some()
            || self.media.is_some()
            || !self.queue.is_empty()
            || self.in_progress(Role::ReInvite, false)
            || self.in_progress(Role::Update, false)
        {
            return Err(CallError::InvalidState(
                "another offer/answer exchange is under way",
            ));
        }
        self.reoffer = Some((kind, self.local_sdp.clone()));
        self.push_media(ctx, MediaOp::Reoffer(kind));
        Ok(())
    }

    /// Sends the re-INVITE with the new offer (`local_sdp`), with the session timer
    /// headers when a session timer runs (it refreshes the session too, RFC 4028 §7.4).
    fn send_reoffer(&mut self, now: Instant, ctx: &mut Ctx<'_>, kind: Reoffer) {
        if self.phase != Phase::Confirmed {
            return self.reoffer_failed(ctx, kind, 0);
        }
        let Some(mut m) = self.dialog_request(ctx, Method::Invite) else {
            return self.reoffer_failed(ctx, kind, 0);
        };
        if let Some(t) = self.session {
            timer::push_request_headers(&mut m, t.interval, self.min_se, true);
        }
        let sdp = self.local_sdp.clone();
        self.authorize_and_body(ctx, &mut m, sdp.as_deref());
        if self.send(now, ctx, Role::Reoffer, m).is_none() {
            self.reoffer_failed(ctx, kind, 0);
        } else {
            self.reoffer_deadline = Some(now + ctx.layer.config().timeout());
        }
    }

    /// The re-offer failed: roll the media back, restore the SDP, report. Once the
    /// call has ended (e.g. Timer B after a BYE) nothing is reported: `Ended` was the
    /// last event.
    fn reoffer_failed(&mut self, ctx: &mut Ctx<'_>, kind: Reoffer, code: u16) {
        self.reoffer_deadline = None;
        let Some((_, prev)) = self.reoffer.take() else {
            return;
        };
        self.reoffer_at = None;
        if prev.is_some() {
            self.local_sdp = prev;
        }
        ctx.log(
            LogLevel::Warn,
            fill("call {}: {} failed ({})", &[&self.id, &kind.name(), &code]),
        );
        if self.phase == Phase::Ended {
            return;
        }
        self.push_media(ctx, MediaOp::Rollback);
        ctx.event(CallEvent::Renegotiated {
            call_id: self.id.clone(),
            kind,
            code,
        });
    }

    /// §14.1: the re-offer again after a 491 (later still while another exchange runs).
    fn retry_reoffer(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let Some((kind, _)) = self.reoffer.clone() else {
            return;
        };
        if self.phase != Phase::Confirmed {
            return self.reoffer_failed(ctx, kind, 0);
        }
        if self.peer_pending.is_some() || self.media.is_some() || self.tx_2xx.is_some() {
            self.reoffer_at = Some(now + Duration::from_secs(1));
            return;
        }
        self.push_media(ctx, MediaOp::Reoffer(kind));
    }

    /// A response to our re-offer: 2xx applies the answer and the new hold state;
    /// 401/407 retried with credentials; 491 retried later (§14.1); any other failure
    /// rolls back (and 408/481 end the dialog, §12.2.1.2).
    fn on_reoffer_response(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: &TsxKey,
        code: u16,
        resp: &Incoming,
    ) {
        if code < 200 {
            return;
        }
        self.reoffer_deadline = None;
        let Some(sent) = self.owned_msg(key).cloned() else {
            return;
        };
        if (200..=299).contains(&code) && self.ack_reinvite_2xx(ctx, resp, &sent) {
            return;
        }
        if self.phase == Phase::Ended {
            return;
        }
        let Some((kind, _)) = self.reoffer.clone() else {
            return;
        };
        match code {
            200..=299 => {
                if let Some(d) = self.dialog.as_mut() {
                    d.refresh_target(resp);
                }
                let Some(answer) = sdp_of(&resp.msg) else {
                    // RFC 3264 §5: our offer needed an answer. Reported as 0, not as
                    // the 2xx: the new session was not set up.
                    return self.reoffer_failed(ctx, kind, 0);
                };
                self.reoffer = None;
                self.remote_sdp = Some(answer.clone());
                self.push_media(ctx, MediaOp::Apply { answer });
                let local = match kind {
                    Reoffer::Hold => true,
                    Reoffer::Unhold => false,
                    Reoffer::Renegotiate => self.local_hold,
                };
                self.set_hold(ctx, local, self.remote_hold);
                ctx.event(CallEvent::Renegotiated {
                    call_id: self.id.clone(),
                    kind,
                    code,
                });
                if self.session.is_some() {
                    let t = timer::from_2xx(resp);
                    self.set_timer(now, t);
                }
            }
            401 | 407 => {
                if !self.resend_authorized(now, ctx, key, code, resp, Role::Reoffer) {
                    self.reoffer_failed(ctx, kind, code);
                }
            }
            491 => {
                self.push_media(ctx, MediaOp::Rollback);
                if let Some((_, prev)) = &self.reoffer {
                    self.local_sdp.clone_from(prev);
                }
                // Its own timer: `retry_at` may hold a session refresh's retry.
                self.reoffer_at = Some(now + self.glare_wait(ctx));
            }
            408 | 481 => {
                self.reoffer_failed(ctx, kind, code);
                self.dialog_gone(now, ctx, code);
            }
            _ => self.reoffer_failed(ctx, kind, code),
        }
    }

    // ------------------------------------------------------------ INFO (RFC 6086)

    /// Queues an INFO; they go one at a time, each after the previous final response.
    pub(crate) fn info(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        infos: impl IntoIterator<Item = InfoKind>,
    ) -> Result<(), CallError> {
        if self.phase != Phase::Confirmed {
            return Err(CallError::InvalidState("the call is not up"));
        }
        self.infos.extend(infos);
        self.send_next_info(now, ctx);
        Ok(())
    }

    fn send_next_info(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if self.info_busy || self.phase != Phase::Confirmed {
            return;
        }
        let Some(&info) = self.infos.front() else {
            return;
        };
        let Some(mut m) = self.dialog_request(ctx, Method::Info) else {
            return;
        };
        match info {
            InfoKind::Dtmf { digit, duration } => {
                let body = fill("Signal={}\r\nDuration={}\r\n", &[&digit, &duration]);
                self.authorize_with(ctx, &mut m, Some(("application/dtmf-relay", &body)));
            }
            InfoKind::Record(on) => {
                m.headers.push(
                    HeaderName::from_wire("Record"),
                    if on { "on" } else { "off" },
                );
                self.authorize_with(ctx, &mut m, None);
            }
        }
        self.info_busy = self.send(now, ctx, Role::Info, m).is_some();
        if !self.info_busy {
            self.info_done(now, ctx, 0);
        }
    }

    /// The INFO in flight is over with `code`: report it, send the next one. Once the
    /// call has ended (e.g. Timer F after our BYE) nothing is reported.
    fn info_done(&mut self, now: Instant, ctx: &mut Ctx<'_>, code: u16) {
        self.info_busy = false;
        if self.phase == Phase::Ended {
            self.infos.clear();
            return;
        }
        if let Some(info) = self.infos.pop_front() {
            ctx.event(CallEvent::InfoDone {
                call_id: self.id.clone(),
                info,
                code,
            });
        }
        self.send_next_info(now, ctx);
    }

    fn on_info_response(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: &TsxKey,
        code: u16,
        resp: &Incoming,
    ) {
        if code < 200 || self.phase == Phase::Ended {
            return;
        }
        if matches!(code, 401 | 407)
            && self.resend_authorized(now, ctx, key, code, resp, Role::Info)
        {
            return;
        }
        if code == 481 || code == 408 {
            return self.info_dialog_gone(now, ctx, code);
        }
        self.info_done(now, ctx, code);
    }

    /// A 481 or 408 to our INFO, or no answer at all (§12.2.1.2): the dialog is over,
    /// and the INFOs queued behind it go nowhere.
    fn info_dialog_gone(&mut self, now: Instant, ctx: &mut Ctx<'_>, code: u16) {
        self.infos.clear();
        self.info_busy = false;
        if self.phase != Phase::Ended {
            self.dialog_gone(now, ctx, code);
        }
    }

    /// An INFO from the peer (RFC 6086 §4.2.2): 200, then DTMF (`application/dtmf-relay`
    /// `Signal=`/`Duration=`, or `application/dtmf`) or the INFO itself for the app.
    fn on_info(&mut self, now: Instant, ctx: &mut Ctx<'_>, key: &TsxKey, req: &Incoming) {
        self.reply(now, ctx, key, &req.msg, 200, "OK");
        if self.phase == Phase::Ended {
            return;
        }
        let ctype = req
            .msg
            .headers
            .typed::<MediaType>(HeaderName::ContentType)
            .and_then(Result::ok);
        let body = crate::sip::message::scan::lossy(&req.msg.body);
        let dtmf = match &ctype {
            Some(t) if t.matches("application", "dtmf-relay") => dtmf_relay(&body),
            Some(t) if t.matches("application", "dtmf") => dtmf_digit(body.trim()).map(|d| (d, 0)),
            _ => None,
        };
        match dtmf {
            Some((digit, duration)) => ctx.event(CallEvent::Dtmf {
                call_id: self.id.clone(),
                digit,
                duration,
            }),
            None => ctx.event(CallEvent::Info {
                call_id: self.id.clone(),
                content_type: req
                    .msg
                    .headers
                    .get(&HeaderName::ContentType)
                    .unwrap_or("")
                    .to_owned(),
                body,
                record: req
                    .msg
                    .headers
                    .get(&HeaderName::from_wire("Record"))
                    .map(str::to_owned),
            }),
        }
    }

    // ------------------------------------------------------------ REFER (RFC 3515)

    /// Sends a REFER with `refer_to` (a whole Refer-To value) and Referred-By (RFC
    /// 3892). `consult`: the consultation call of an attended transfer, ended with
    /// this one when the transfer succeeds.
    pub(crate) fn refer(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        refer_to: &str,
        consult: Option<String>,
    ) -> Result<(), CallError> {
        if self.phase != Phase::Confirmed {
            return Err(CallError::InvalidState("the call is not up"));
        }
        if self.refer_out.is_some() {
            return Err(CallError::InvalidState("a transfer is under way"));
        }
        let Some(mut m) = self.dialog_request(ctx, Method::Refer) else {
            return Err(CallError::InvalidState("the call is not up"));
        };
        m.headers.push(HeaderName::ReferTo, refer_to);
        let by = NameAddr::new(Uri::Sip(ctx.env.config.aor.clone()));
        m.headers.push_typed(HeaderName::ReferredBy, &by);
        m.headers
            .push(HeaderName::Contact, ctx.env.local.dialog_contact());
        self.authorize_with(ctx, &mut m, None);
        if self.send(now, ctx, Role::Refer, m).is_none() {
            return Err(CallError::InvalidState("the REFER could not be sent"));
        }
        ctx.log(
            LogLevel::Info,
            fill("call {}: transfer to {}", &[&self.id, &refer_to]),
        );
        self.refer_out = Some(ReferOut { consult });
        self.refer_deadline = Some(now + REFER_WAIT);
        Ok(())
    }

    fn transfer_failed(&mut self, ctx: &mut Ctx<'_>, code: u16) {
        self.refer_deadline = None;
        if self.refer_out.take().is_some() && self.phase != Phase::Ended {
            ctx.event(CallEvent::Transfer {
                call_id: self.id.clone(),
                code,
                done: true,
            });
        }
    }

    fn on_refer_response(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: &TsxKey,
        code: u16,
        resp: &Incoming,
    ) {
        if code < 200 || self.phase == Phase::Ended || self.refer_out.is_none() {
            return;
        }
        match code {
            200..=299 => ctx.event(CallEvent::Transfer {
                call_id: self.id.clone(),
                code,
                done: false,
            }),
            401 | 407 => {
                if !self.resend_authorized(now, ctx, key, code, resp, Role::Refer) {
                    self.transfer_failed(ctx, code);
                }
            }
            // §12.2.1.2: the dialog is over.
            408 | 481 => {
                self.transfer_failed(ctx, code);
                self.dialog_gone(now, ctx, code);
            }
            _ => self.transfer_failed(ctx, code),
        }
    }

    /// A NOTIFY for our REFER (RFC 3515 §2.4.4): 200; its `message/sipfrag` status is
    /// the transfer's progress. A final 2xx ends this call (and an attended transfer's
    /// consultation call) with cause "Transferred"; a final failure leaves it up.
    /// Other events get 489 (RFC 6665 §4.1.3).
    fn on_notify(&mut self, now: Instant, ctx: &mut Ctx<'_>, key: &TsxKey, req: &Incoming) {
        let event = req.msg.headers.get(&HeaderName::Event).unwrap_or("");
        let package = event.split(';').next().unwrap_or("").trim();
        if !package.eq_ignore_ascii_case("refer") {
            return self.reply(now, ctx, key, &req.msg, 489, "Bad Event");
        }
        if self.refer_out.is_none() {
            // RFC 6665 §4.1.3: no subscription (ours ended or never was).
            return self.reply(now, ctx, key, &req.msg, 481, "Subscription Does Not Exist");
        }
        self.reply(now, ctx, key, &req.msg, 200, "OK");
        if self.phase == Phase::Ended {
            return;
        }
        self.refer_deadline = Some(now + REFER_WAIT);
        let terminated = req
            .msg
            .headers
            .get(&HeaderName::SubscriptionState)
            .is_some_and(|v| {
                v.trim_start()
                    .get(..10)
                    .is_some_and(|t| t.eq_ignore_ascii_case("terminated"))
            });
        let code = sipfrag_status(&req.msg.body);
        match code {
            Some(c @ 200..=299) => {
                ctx.event(CallEvent::Transfer {
                    call_id: self.id.clone(),
                    code: c,
                    done: true,
                });
                if let Some(ReferOut { consult: Some(id) }) = self.refer_out.take() {
                    // RFC 5589 §7: the target ends the replaced consultation dialog
                    // itself; we BYE it only if it has not after a grace period.
                    self.actions.push(Action::EndSoon {
                        id,
                        cause: causes::TRANSFERRED,
                    });
                }
                self.hang_up_dialog(now, ctx, causes::TRANSFERRED, Originator::Local);
            }
            Some(c @ 300..=699) => self.transfer_failed(ctx, c),
            Some(c) if !terminated => ctx.event(CallEvent::Transfer {
                call_id: self.id.clone(),
                code: c,
                done: false,
            }),
            // Terminated with no final status: the transfer did not happen.
            _ if terminated => self.transfer_failed(ctx, code.unwrap_or(0)),
            _ => {}
        }
    }

    /// The peer's REFER (RFC 3515 §2.4.2): 202, a first NOTIFY (100 Trying), and a new
    /// call to the Refer-To URI with its Replaces header (RFC 3891) and Referred-By.
    /// 400 for a missing or unusable Refer-To; 491 while a previous one runs.
    fn on_refer(&mut self, now: Instant, ctx: &mut Ctx<'_>, key: &TsxKey, req: &Incoming) {
        if self.phase != Phase::Confirmed {
            return self.reply(now, ctx, key, &req.msg, 403, "Forbidden");
        }
        if self.refer_in.is_some() {
            return self.reply(now, ctx, key, &req.msg, 491, "Request Pending");
        }
        let Some((target, headers)) = refer_target(req) else {
            return self.reply(now, ctx, key, &req.msg, 400, "Bad Refer-To");
        };
        let mut ok = self.uas_response(ctx, &req.msg, 202, "Accepted", false);
        ok.headers.push(HeaderName::ContentLength, "0");
        ctx.respond(now, key, ok);
        ctx.log(
            LogLevel::Info,
            fill(
                "call {}: transferred by the peer to {}",
                &[&self.id, &target],
            ),
        );
        self.refer_in = Some(String::new());
        self.notify_refer(now, ctx, 100);
        self.actions.push(Action::Place { target, headers });
    }

    /// A NOTIFY with the status of the call we placed for the peer's REFER (RFC 3515
    /// §2.4.4, `message/sipfrag`); a final status terminates the subscription.
    pub(crate) fn notify_refer(&mut self, now: Instant, ctx: &mut Ctx<'_>, code: u16) {
        if self.phase == Phase::Ended {
            return;
        }
        let Some(mut m) = self.dialog_request(ctx, Method::Notify) else {
            return;
        };
        m.headers.push(HeaderName::Event, "refer");
        let state = if code < 200 {
            "active;expires=60"
        } else {
            self.refer_in = None;
            "terminated;reason=noresource"
        };
        m.headers.push(HeaderName::SubscriptionState, state);
        m.headers
            .push(HeaderName::Contact, ctx.env.local.dialog_contact());
        let reason = match code {
            100 => "Trying",
            180 => "Ringing",
            200 => "OK",
            c => reason_phrase(c),
        };
        let body = fill("SIP/2.0 {} {}\r\n", &[&code, &reason]);
        self.authorize_with(ctx, &mut m, Some(("message/sipfrag;version=2.0", &body)));
        self.send(now, ctx, Role::Notify, m);
    }

    // ------------------------------------------------------------ API

    /// `answer`: an unanswered inbound call asks the shell for its answer (or offer).
    pub(crate) fn answer(&mut self, ctx: &mut Ctx<'_>) -> Result<(), CallError> {
        if self.phase != Phase::Ringing {
            return Err(CallError::InvalidState("not an unanswered inbound call"));
        }
        self.phase = Phase::Answering;
        self.no_answer_at = None;
        let op = match self.remote_sdp.clone() {
            Some(offer) => MediaOp::InitialAnswer { offer },
            None => MediaOp::OfferIn2xx,
        };
        self.push_media(ctx, op);
        Ok(())
    }

    /// `reject`: an unanswered inbound call gets `code`.
    pub(crate) fn reject(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        code: u16,
        cause: Option<&str>,
    ) -> Result<(), CallError> {
        if !matches!(self.phase, Phase::Ringing | Phase::Answering) {
            return Err(CallError::InvalidState("not an unanswered inbound call"));
        }
        if !(300..=699).contains(&code) {
            return Err(CallError::InvalidState("a reject code must be 300-699"));
        }
        let reason = reason_phrase(code);
        self.reply_invite(now, ctx, code, reason);
        let cause = cause.unwrap_or(causes::for_status(code)).to_owned();
        self.finish(ctx, code, &cause, Originator::Local);
        Ok(())
    }

    /// `hangup`/`terminate`: whatever the state, end the call from our side.
    pub(crate) fn hangup(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        cause: Option<&str>,
    ) -> Result<(), CallError> {
        match self.phase {
            Phase::Ended => return Err(CallError::NotFound),
            Phase::Offering => {
                self.finish(ctx, 0, cause.unwrap_or(causes::CANCELED), Originator::Local)
            }
            Phase::Inviting => {
                self.cancel_invite(now, ctx);
                self.finish(
                    ctx,
                    487,
                    cause.unwrap_or(causes::CANCELED),
                    Originator::Local,
                );
            }
            Phase::Ringing | Phase::Answering => {
                let code = ctx.env.config.calls.reject_code;
                return self.reject(now, ctx, code, cause);
            }
            Phase::WaitAck | Phase::Confirmed => {
                self.hang_up_dialog(now, ctx, cause.unwrap_or(causes::BYE), Originator::Local)
            }
        }
        Ok(())
    }

    /// CANCEL for our INVITE (§9.1): sent by the transaction layer once a provisional
    /// arrived, dropped if the INVITE ends first.
    fn cancel_invite(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        if self.cancelled {
            return;
        }
        self.cancelled = true;
        let invite = self
            .owned
            .iter()
            .rev()
            .find(|o| o.role == Role::Invite)
            .map(|o| o.key.clone());
        if let Some(key) = invite {
            match ctx.cancel(now, &key) {
                Some((ck, msg)) => self.owned.push(Owned {
                    key: ck,
                    role: Role::Cancel,
                    msg,
                    done: false,
                }),
                None => ctx.log(
                    LogLevel::Debug,
                    fill("call {}: nothing to cancel", &[&self.id]),
                ),
            }
        }
    }

    // ------------------------------------------------------------ responses (UAC)

    /// A response to one of our client transactions.
    pub(crate) fn on_response(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: &TsxKey,
        role: Role,
        resp: &Incoming,
    ) {
        let Some(code) = resp.msg.status() else {
            return;
        };
        if code >= 200 {
            if let Some(o) = self.owned.iter_mut().find(|o| &o.key == key) {
                o.done = true;
            }
        }
        match role {
            Role::Invite => self.on_invite_response(now, ctx, key, code, resp),
            Role::ReInvite | Role::Update => {
                self.on_refresh_response(now, ctx, key, role, code, resp)
            }
            Role::Reoffer => self.on_reoffer_response(now, ctx, key, code, resp),
            Role::Info => self.on_info_response(now, ctx, key, code, resp),
            Role::Refer => self.on_refer_response(now, ctx, key, code, resp),
            Role::Cancel | Role::Bye | Role::Notify => {}
        }
    }

    fn on_invite_response(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: &TsxKey,
        code: u16,
        resp: &Incoming,
    ) {
        let Some(invite) = self.owned_msg(key).cloned() else {
            return;
        };
        match code {
            100 => {}
            101..=199 => {
                if self.phase != Phase::Inviting {
                    return;
                }
                ctx.event(CallEvent::Progress {
                    call_id: self.id.clone(),
                    code,
                });
                if let Some(sdp) = sdp_of(&resp.msg) {
                    if self.early_sdp.is_none() {
                        self.early_sdp = Some(sdp.clone());
                        self.remote_sdp = Some(sdp.clone());
                        self.push_media(ctx, MediaOp::Apply { answer: sdp });
                    }
                }
            }
            200..=299 => self.on_invite_2xx(now, ctx, &invite, resp),
            _ => {
                if self.phase != Phase::Inviting {
                    return;
                }
                if matches!(code, 401 | 407) && !self.cancelled {
                    if let Some(m) = self.auth_retry(ctx, &invite, code, resp, None) {
                        self.send(now, ctx, Role::Invite, m);
                        return;
                    }
                    self.finish(ctx, code, causes::AUTHENTICATION_ERROR, Originator::Remote);
                    return;
                }
                if code == 422 && !self.cancelled && self.se_retries < 2 {
                    if let Some(m) = timer::min_se_of_422(resp, self.se_ask.unwrap_or(0)) {
                        self.se_retries += 1;
                        self.se_ask = Some(m);
                        self.min_se = m;
                        ctx.log(
                            LogLevel::Info,
                            fill(
                                "call {}: 422, retrying with Session-Expires {}",
                                &[&self.id, &m],
                            ),
                        );
                        self.send_invite(now, ctx);
                        return;
                    }
                }
                let cause = if self.cancelled {
                    causes::CANCELED
                } else {
                    causes::for_status(code)
                };
                self.finish(ctx, code, cause, Originator::Remote);
            }
        }
    }

    /// A 2xx to our INVITE (§13.2.2.4): the first one confirms the dialog and is
    /// ACKed; retransmissions are ACKed again; a 2xx from another fork, or after we
    /// cancelled, is ACKed and BYEd.
    fn on_invite_2xx(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        invite: &Message,
        resp: &Incoming,
    ) {
        let seq = cseq_of(resp);
        if let Some(d) = &self.dialog {
            let same = d.id.remote_tag == to_tag(resp).unwrap_or("");
            if same {
                self.resend_ack(ctx, seq);
            } else {
                self.ack_and_bye(now, ctx, invite, resp);
            }
            return;
        }
        if self.phase != Phase::Inviting {
            self.ack_and_bye(now, ctx, invite, resp);
            return;
        }
        self.dialog = Some(Dialog::uac(invite, resp, seq));
        self.send_ack(ctx, seq, Some(invite));
        self.no_answer_at = None;
        self.peer_allows_update = allows_update(&resp.msg);
        let answer = sdp_of(&resp.msg);
        match (&answer, &self.early_sdp) {
            (None, None) => {
                // RFC 3264 §5: our offer needed an answer in the 2xx.
                self.send_bye(now, ctx, Some("SIP;cause=488;text=\"Missing SDP\""));
                self.finish(ctx, 200, causes::MISSING_SDP, Originator::Remote);
                return;
            }
            (Some(a), early) if early.as_deref() != Some(a.as_str()) => {
                // A 2xx answer that differs from the early one replaces it.
                self.remote_sdp = Some(a.clone());
                self.push_media(ctx, MediaOp::Apply { answer: a.clone() });
            }
            _ => {}
        }
        self.phase = Phase::Confirmed;
        self.accepted = true;
        let t = if self.se_ask.is_some() || timer::has_option(&resp.msg, "timer") {
            timer::from_2xx(resp)
        } else {
            None
        };
        self.set_timer(now, t);
        ctx.event(CallEvent::Accepted {
            call_id: self.id.clone(),
        });
        ctx.event(CallEvent::Confirmed {
            call_id: self.id.clone(),
        });
        if let Some(to) = self.referrer.take() {
            self.actions.push(Action::NotifyReferrer { to, code: 200 });
        }
        self.after_exchange(ctx, None);
    }

    /// Answers a 401/407 to `sent` (RFC 3261 §22.2): the same request with a new
    /// branch, the next CSeq and the credentials. `None` when it cannot succeed.
    fn auth_retry(
        &mut self,
        ctx: &mut Ctx<'_>,
        sent: &Message,
        code: u16,
        resp: &Incoming,
        dialog_seq: Option<u32>,
    ) -> Option<Message> {
        self.auth_rounds = self.auth_rounds.saturating_add(1);
        if self.auth_rounds > 4 {
            return None;
        }
        let (method, uri) = match &sent.start {
            StartLine::Request(r) => (r.method.clone(), r.uri.to_text()),
            StartLine::Response(_) => return None,
        };
        let mut challenges: Vec<(ChallengeKind, &str)> = Vec::new();
        for h in resp.msg.headers.iter() {
            match h.name {
                HeaderName::WwwAuthenticate => challenges.push((ChallengeKind::Www, h.value)),
                HeaderName::ProxyAuthenticate => challenges.push((ChallengeKind::Proxy, h.value)),
                _ => {}
            }
        }
        let rng = &mut *ctx.env.rng;
        let decision = self.auth.handle_challenges(
            code,
            &challenges,
            method.as_str(),
            &uri,
            &sent.body,
            &mut || rng.token(16),
        );
        let headers = match decision {
            AuthDecision::Retry(h) => h,
            AuthDecision::Fail(f) => {
                ctx.log(
                    LogLevel::Warn,
                    fill("call {}: authentication failed: {}", &[&self.id, &f]),
                );
                return None;
            }
        };
        let mut m = sent.clone();
        m.headers.remove(&HeaderName::Authorization);
        m.headers.remove(&HeaderName::ProxyAuthorization);
        let via = ctx.via();
        m.headers.set(HeaderName::Via, via.to_text());
        let seq = match dialog_seq {
            Some(s) => s,
            None => {
                self.invite_seq = self.invite_seq.wrapping_add(1) & 0x7fff_ffff;
                self.invite_seq
            }
        };
        m.headers
            .set(HeaderName::CSeq, CSeq { seq, method }.to_text());
        // Credentials go before the body headers; order does not matter on the wire.
        for (kind, value) in headers {
            m.headers.push(auth_header(kind), value);
        }
        Some(m)
    }

    /// Sends the in-dialog request of transaction `key` again with credentials for the
    /// 401/407 `resp` (RFC 3261 §22.2), with the dialog's next CSeq; false when it
    /// cannot be answered or sent.
    fn resend_authorized(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: &TsxKey,
        code: u16,
        resp: &Incoming,
        role: Role,
    ) -> bool {
        let Some(sent) = self.owned_msg(key).cloned() else {
            return false;
        };
        let next = self.dialog.as_mut().map(Dialog::next_seq);
        let retry = self.auth_retry(ctx, &sent, code, resp, next);
        retry.and_then(|m| self.send(now, ctx, role, m)).is_some()
    }

    /// A response to our session refresh (re-INVITE or UPDATE).
    fn on_refresh_response(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: &TsxKey,
        role: Role,
        code: u16,
        resp: &Incoming,
    ) {
        if code < 200 {
            return;
        }
        let Some(sent) = self.owned_msg(key).cloned() else {
            return;
        };
        if role == Role::ReInvite
            && (200..=299).contains(&code)
            && self.ack_reinvite_2xx(ctx, resp, &sent)
        {
            return;
        }
        if self.phase == Phase::Ended {
            return;
        }
        match code {
            200..=299 => {
                if let Some(d) = self.dialog.as_mut() {
                    d.refresh_target(resp);
                }
                if let Some(a) = sdp_of(&resp.msg) {
                    if self.remote_sdp.as_deref() != Some(a.as_str()) {
                        self.remote_sdp = Some(a.clone());
                        self.push_media(ctx, MediaOp::Apply { answer: a });
                    }
                }
                let t = timer::from_2xx(resp);
                self.set_timer(now, t);
            }
            401 | 407 => {
                if !self.resend_authorized(now, ctx, key, code, resp, role) {
                    self.retry_later(now, ctx);
                }
            }
            422 => {
                let asked = self.session.map_or(0, |s| s.interval);
                match timer::min_se_of_422(resp, asked) {
                    Some(m) => {
                        self.min_se = m;
                        if let Some(s) = self.session.as_mut() {
                            s.interval = m;
                        }
                        self.send_refresh(now, ctx);
                    }
                    None => self.retry_later(now, ctx),
                }
            }
            491 => self.retry_later(now, ctx),
            405 | 501 if role == Role::Update => {
                self.peer_allows_update = false;
                self.send_refresh(now, ctx);
            }
            408 | 481 => self.dialog_gone(now, ctx, code),
            _ => {
                ctx.log(
                    LogLevel::Warn,
                    fill(
                        "call {}: session refresh refused with {}",
                        &[&self.id, &code],
                    ),
                );
            }
        }
    }

    /// §14.1: after a 491, retry the session refresh at a random time (see
    /// [`Call::glare_wait`]).
    fn retry_later(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        self.retry_at = Some(now + self.glare_wait(ctx));
    }

    /// §14.1: how long to wait after a 491 before retrying: 2.1–4 s when we own the
    /// Call-ID (we placed the call), else 0–2 s, in units of 10 ms.
    fn glare_wait(&self, ctx: &mut Ctx<'_>) -> Duration {
        let (lo, hi) = match self.dir {
            Direction::Outbound => (2100, 4000),
            Direction::Inbound => (0, 2000),
        };
        let wait = ctx
            .env
            .rng
            .between(Duration::from_millis(lo), Duration::from_millis(hi));
        Duration::from_millis(wait.as_millis() as u64 / 10 * 10)
    }

    /// 408 or 481 to a request in the dialog (§12.2.1.2): the dialog is over. After a
    /// 481 the peer has no dialog to BYE; after a 408 we try a BYE anyway.
    fn dialog_gone(&mut self, now: Instant, ctx: &mut Ctx<'_>, code: u16) {
        self.refuse_pending(now, ctx);
        if code == 481 {
            self.finish(ctx, code, causes::DIALOG_ERROR, Originator::Remote);
        } else {
            self.send_bye(now, ctx, None);
            self.finish(ctx, code, causes::REQUEST_TIMEOUT, Originator::System);
        }
    }

    /// Timer B or F of one of our requests fired.
    pub(crate) fn on_client_timeout(&mut self, now: Instant, ctx: &mut Ctx<'_>, role: Role) {
        match role {
            Role::Invite => {
                if self.phase == Phase::Inviting {
                    self.finish(ctx, 408, causes::REQUEST_TIMEOUT, Originator::System);
                }
            }
            Role::ReInvite | Role::Update => {
                if self.phase != Phase::Ended {
                    self.dialog_gone(now, ctx, 408);
                }
            }
            Role::Reoffer => {
                if let Some((kind, _)) = self.reoffer.clone() {
                    self.reoffer_failed(ctx, kind, 408);
                }
                if self.phase != Phase::Ended {
                    self.dialog_gone(now, ctx, 408);
                }
            }
            // §12.2.1.2: "A UAC SHOULD also terminate a dialog if no response at all
            // is received for the request."
            Role::Info => self.info_dialog_gone(now, ctx, 408),
            Role::Refer => {
                self.transfer_failed(ctx, 408);
                if self.phase != Phase::Ended {
                    self.dialog_gone(now, ctx, 408);
                }
            }
            Role::Cancel | Role::Bye | Role::Notify => {}
        }
    }

    /// A 2xx to an INVITE that no transaction took (Timer M over): ACK it again if it
    /// is our dialog's, else ACK and BYE it (§13.2.2.4).
    pub(crate) fn on_stray_2xx(&mut self, now: Instant, ctx: &mut Ctx<'_>, resp: &Incoming) {
        let seq = cseq_of(resp);
        let ours = self
            .dialog
            .as_ref()
            .is_some_and(|d| d.id.remote_tag == to_tag(resp).unwrap_or(""));
        if ours && self.resend_ack(ctx, seq) {
            return;
        }
        let invite = self
            .owned
            .iter()
            .rev()
            .find(|o| o.role == Role::Invite)
            .map(|o| o.msg.clone());
        if let Some(inv) = invite {
            self.ack_and_bye(now, ctx, &inv, resp);
        }
    }

    // ------------------------------------------------------------ session timers

    /// Starts (or stops) the session timer after a 2xx to a session refresh request
    /// (RFC 4028 §10).
    fn set_timer(&mut self, now: Instant, t: Option<SessionTimer>) {
        self.session = t;
        self.retry_at = None;
        match t {
            Some(t) if self.phase != Phase::Ended => {
                self.refresh_at = t.refresh_at(now);
                self.expire_at = Some(t.expire_at(now));
            }
            _ => {
                self.refresh_at = None;
                self.expire_at = None;
            }
        }
    }

    /// Refreshes the session (RFC 4028 §7.4, §10): UPDATE without a body when the peer
    /// allows it (RFC 3311), else a re-INVITE with our last SDP unchanged (RFC 3264 §8:
    /// same version, so nothing changes). Postponed while another INVITE or offer is
    /// in progress.
    fn send_refresh(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let Some(t) = self.session else { return };
        let (method, role) = if self.peer_allows_update {
            (Method::Update, Role::Update)
        } else {
            (Method::Invite, Role::ReInvite)
        };
        // A re-INVITE carries an offer: not while another offer/answer is under way.
        let busy = self.peer_pending.is_some()
            || self.reoffer.is_some()
            || self.tx_2xx.is_some()
            || (role == Role::ReInvite && self.media.is_some())
            || self.in_progress(Role::ReInvite, false)
            || self.in_progress(Role::Update, false);
        if busy || self.phase != Phase::Confirmed {
            self.refresh_at = Some(now + Duration::from_secs(1));
            return;
        }
        self.refresh_at = None;
        let Some(mut m) = self.dialog_request(ctx, method) else {
            return;
        };
        timer::push_request_headers(&mut m, t.interval, self.min_se, true);
        let sdp = if role == Role::ReInvite {
            self.local_sdp.clone()
        } else {
            None
        };
        self.authorize_and_body(ctx, &mut m, sdp.as_deref());
        self.send(now, ctx, role, m);
    }

    // ------------------------------------------------------------ timers

    /// Fires this call's timers due at `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant, ctx: &mut Ctx<'_>) {
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if let Some(tx) = self.tx_2xx.as_mut() {
            if tx.give_up_at <= now {
                // §13.3.1.4: no ACK within 64*T1: end the session with BYE.
                self.tx_2xx = None;
                ctx.log(
                    LogLevel::Warn,
                    fill("call {}: no ACK for our 2xx", &[&self.id]),
                );
                self.bye_after_ack = false;
                self.send_bye(now, ctx, None);
                self.finish(ctx, 0, causes::NO_ACK, Originator::Remote);
            } else if tx.next_at <= now {
                let (key, msg) = (tx.key.clone(), tx.msg.clone());
                tx.interval = tx.interval.saturating_mul(2).min(ctx.layer.config().t2);
                tx.next_at = now + tx.interval;
                if !ctx.respond_quiet(now, &key, msg.clone()) {
                    ctx.send_direct(&msg);
                }
            }
        }
        if due(self.no_answer_at) {
            self.no_answer_at = None;
            match self.phase {
                Phase::Ringing => {
                    self.reply_invite(now, ctx, 480, "Temporarily Unavailable");
                    self.finish(ctx, 480, causes::NO_ANSWER, Originator::Local);
                }
                Phase::Inviting => {
                    self.cancel_invite(now, ctx);
                    self.finish(ctx, 487, causes::NO_ANSWER, Originator::Local);
                }
                _ => {}
            }
        }
        if due(self.expire_at) {
            // RFC 4028 §10: no refresh before the session expired.
            self.expire_at = None;
            self.refresh_at = None;
            self.retry_at = None;
            if self.phase == Phase::Confirmed {
                self.send_bye(
                    now,
                    ctx,
                    Some("SIP;cause=408;text=\"Session Timer Expired\""),
                );
                self.finish(ctx, 408, causes::REQUEST_TIMEOUT, Originator::System);
            }
        }
        if due(self.refresh_at) || due(self.retry_at) {
            self.retry_at = None;
            self.send_refresh(now, ctx);
        }
        if due(self.reoffer_deadline) {
            self.reoffer_deadline = None;
            if let Some(key) = self
                .owned
                .iter()
                .find(|o| o.role == Role::Reoffer && !o.done)
                .map(|o| o.key.clone())
            {
                // Its 487 then fails the re-offer (RFC 3261 §9.1).
                ctx.log(
                    LogLevel::Warn,
                    fill("call {}: re-INVITE unanswered; CANCEL", &[&self.id]),
                );
                if let Some((ck, msg)) = ctx.cancel(now, &key) {
                    self.owned.push(Owned {
                        key: ck,
                        role: Role::Cancel,
                        msg,
                        done: false,
                    });
                }
            }
        }
        if due(self.refer_deadline) {
            self.refer_deadline = None;
            self.transfer_failed(ctx, 408);
        }
        if let Some((t, cause)) = self.end_at {
            if t <= now {
                self.end_at = None;
                let _ = self.hangup(now, ctx, Some(cause));
            }
        }
        if due(self.reoffer_at) {
            self.reoffer_at = None;
            self.retry_reoffer(now, ctx);
        }
    }

    fn start_2xx(
        &mut self,
        now: Instant,
        ctx: &Ctx<'_>,
        key: TsxKey,
        msg: Message,
        seq: u32,
        expect_answer: bool,
    ) {
        let t1 = ctx.layer.config().t1;
        self.tx_2xx = Some(Retransmit {
            key,
            msg,
            seq,
            interval: t1,
            next_at: now + t1,
            give_up_at: now + ctx.layer.config().timeout(),
            expect_answer,
        });
    }

    // ------------------------------------------------------------ requests (UAS)

    /// The ACK for one of our 2xx (RFC 3261 §13.3.1.4, RFC 6026 §7.1).
    pub(crate) fn on_ack(&mut self, now: Instant, ctx: &mut Ctx<'_>, req: &Incoming) {
        let seq = cseq_of(req);
        let Some(tx) = self.tx_2xx.as_ref() else {
            return;
        };
        if tx.seq != seq {
            return;
        }
        let expect_answer = tx.expect_answer;
        self.tx_2xx = None;
        if self.bye_after_ack {
            self.bye_after_ack = false;
            self.send_bye(now, ctx, None);
            return;
        }
        if self.phase == Phase::Ended {
            return;
        }
        if expect_answer {
            match sdp_of(&req.msg) {
                Some(a) => {
                    self.remote_sdp = Some(a.clone());
                    self.push_media(ctx, MediaOp::Apply { answer: a });
                }
                None => {
                    // RFC 3264 §5: the ACK had to carry the answer to our offer.
                    self.send_bye(now, ctx, Some("SIP;cause=488;text=\"Missing SDP\""));
                    self.finish(ctx, 0, causes::MISSING_SDP, Originator::Remote);
                    return;
                }
            }
        }
        if self.phase == Phase::WaitAck {
            self.phase = Phase::Confirmed;
            ctx.event(CallEvent::Confirmed {
                call_id: self.id.clone(),
            });
            if let Some(id) = self.replaces.take() {
                // RFC 3891 §3: the replaced dialog ends once the new one is up.
                self.actions.push(Action::End {
                    id,
                    cause: causes::REPLACED,
                });
            }
        }
    }

    /// The caller cancelled our ringing INVITE (§9.2): 487 to it (the CANCEL's 200 is
    /// the caller's job).
    pub(crate) fn on_cancel(&mut self, now: Instant, ctx: &mut Ctx<'_>) -> bool {
        if !matches!(self.phase, Phase::Ringing | Phase::Answering) {
            return false;
        }
        self.reply_invite(now, ctx, 487, "Request Terminated");
        self.finish(ctx, 487, causes::CANCELED, Originator::Remote);
        true
    }

    /// A new request in our dialog (it matched Call-ID and tags).
    pub(crate) fn on_request(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: &TsxKey,
        req: Rc<Incoming>,
    ) {
        let Some(method) = req.msg.method().cloned() else {
            return;
        };
        let seq = cseq_of(&req);
        let in_order = self
            .dialog
            .as_mut()
            .is_some_and(|d| d.accept_remote_seq(seq));
        if !in_order {
            // §12.2.2: a lower CSeq is out of order.
            self.reply(now, ctx, key, &req.msg, 500, "Server Internal Error");
            return;
        }
        match method {
            Method::Bye => self.on_bye(now, ctx, key, &req),
            Method::Invite => self.on_reinvite(now, ctx, key, req),
            Method::Update => self.on_update(now, ctx, key, req),
            Method::Options => {
                let mut r = build_response(&req.msg, 200, "OK", Some(&self.local_tag));
                r.headers.push(HeaderName::Allow, ALLOW);
                r.headers.push(HeaderName::Accept, ACCEPT);
                r.headers.push(HeaderName::Supported, SUPPORTED_CALL);
                ctx.respond(now, key, r);
            }
            Method::Info => self.on_info(now, ctx, key, &req),
            Method::Refer => self.on_refer(now, ctx, key, &req),
            Method::Notify => self.on_notify(now, ctx, key, &req),
            _ => self.reply(
                now,
                ctx,
                key,
                &req.msg,
                481,
                "Call/Transaction Does Not Exist",
            ),
        }
    }

    /// BYE (§15.1.2): 200, and 487 to a request of the dialog still unanswered.
    fn on_bye(&mut self, now: Instant, ctx: &mut Ctx<'_>, key: &TsxKey, req: &Incoming) {
        self.reply(now, ctx, key, &req.msg, 200, "OK");
        if let Some((pkey, preq, _)) = self.peer_pending.take() {
            self.reply(now, ctx, &pkey, &preq.msg, 487, "Request Terminated");
        }
        match self.phase {
            Phase::Ringing | Phase::Answering => {
                // The caller may BYE an early dialog (§15).
                self.reply_invite(now, ctx, 487, "Request Terminated");
                self.finish(ctx, 487, causes::BYE, Originator::Remote);
            }
            Phase::WaitAck | Phase::Confirmed => {
                self.tx_2xx = None;
                self.bye_after_ack = false;
                let cause = self.end_at.take().map_or(causes::BYE, |(_, c)| c);
                self.finish(ctx, 0, cause, Originator::Remote);
            }
            Phase::Offering | Phase::Inviting | Phase::Ended => {}
        }
    }

    /// The peer is expected to end this call (see [`Action::EndSoon`]).
    pub(crate) fn end_soon(&mut self, now: Instant, cause: &'static str) {
        if self.phase != Phase::Ended {
            self.end_at = Some((now + GRACE, cause));
        }
    }

    /// A re-INVITE (§14.2): 491 while our own INVITE is in progress, 500 with
    /// Retry-After while the peer's previous one is, 422 for a too small session
    /// interval; else the shell answers its offer (or makes one when it has none).
    fn on_reinvite(&mut self, now: Instant, ctx: &mut Ctx<'_>, key: &TsxKey, req: Rc<Incoming>) {
        if self.phase != Phase::Confirmed || self.tx_2xx.is_some() {
            return self.retry_after(now, ctx, key, &req);
        }
        if self.in_progress(Role::ReInvite, false)
            || self.in_progress(Role::Reoffer, false)
            || self.in_progress(Role::Update, true)
            || self.offer_outstanding()
        {
            return self.reply(now, ctx, key, &req.msg, 491, "Request Pending");
        }
        if self.peer_pending.is_some() || self.media.is_some() {
            return self.retry_after(now, ctx, key, &req);
        }
        let decision = timer::uas_decide(&req, self.se_ask);
        if let UasTimer::TooSmall(min) = decision {
            return self.reply_422(now, ctx, key, &req, min);
        }
        if let Some(d) = self.dialog.as_mut() {
            d.refresh_target(&req);
        }
        let op = match sdp_of(&req.msg) {
            Some(offer) => MediaOp::AnswerPeer {
                key: key.clone(),
                offer,
            },
            None => MediaOp::OfferInReinvite2xx { key: key.clone() },
        };
        self.peer_pending = Some((key.clone(), req, decision));
        self.push_media(ctx, op);
    }

    /// UPDATE (RFC 3311 §5.2): with an offer, 491 while ours is outstanding and 500
    /// with Retry-After while the peer's previous one is; without one, a session
    /// refresh answered at once.
    fn on_update(&mut self, now: Instant, ctx: &mut Ctx<'_>, key: &TsxKey, req: Rc<Incoming>) {
        let decision = timer::uas_decide(&req, self.se_ask);
        if let UasTimer::TooSmall(min) = decision {
            return self.reply_422(now, ctx, key, &req, min);
        }
        let offer = sdp_of(&req.msg);
        let early = !matches!(self.phase, Phase::Confirmed | Phase::WaitAck);
        if let Some(offer) = offer {
            if self.offer_outstanding() || self.in_progress(Role::Update, true) {
                return self.reply(now, ctx, key, &req.msg, 491, "Request Pending");
            }
            if early || self.peer_pending.is_some() || self.media.is_some() {
                return self.retry_after(now, ctx, key, &req);
            }
            if let Some(d) = self.dialog.as_mut() {
                d.refresh_target(&req);
            }
            self.peer_pending = Some((key.clone(), req, decision));
            self.push_media(
                ctx,
                MediaOp::AnswerPeer {
                    key: key.clone(),
                    offer,
                },
            );
            return;
        }
        if let Some(d) = self.dialog.as_mut() {
            d.refresh_target(&req);
        }
        let mut ok = self.uas_response(ctx, &req.msg, 200, "OK", false);
        if !early {
            decision.push_headers(&mut ok);
        }
        ok.headers.push(HeaderName::ContentLength, "0");
        ctx.respond(now, key, ok);
        if !early {
            self.set_timer(now, decision.timer());
        }
    }

    /// 500 with Retry-After 0–10 s (RFC 3261 §14.2, RFC 3311 §5.2).
    fn retry_after(&mut self, now: Instant, ctx: &mut Ctx<'_>, key: &TsxKey, req: &Incoming) {
        let mut r = build_response(
            &req.msg,
            500,
            "Server Internal Error",
            Some(&self.local_tag),
        );
        let secs = ctx.env.rng.below(11);
        r.headers.push_typed(HeaderName::RetryAfter, &secs);
        ctx.respond(now, key, r);
    }

    fn reply_422(
        &mut self,
        now: Instant,
        ctx: &mut Ctx<'_>,
        key: &TsxKey,
        req: &Incoming,
        min: u32,
    ) {
        let mut r = build_response(
            &req.msg,
            422,
            "Session Interval Too Small",
            Some(&self.local_tag),
        );
        r.headers.push_typed(HeaderName::MinSe, &min);
        ctx.respond(now, key, r);
    }
}

/// A DTMF digit: `0-9 * # A-D` (case-insensitive); RFC 4733 event codes 10 and 11
/// for `*` and `#` (as some senders put them in `Signal=`).
pub(crate) fn dtmf_digit(s: &str) -> Option<char> {
    match s {
        "10" => return Some('*'),
        "11" => return Some('#'),
        _ => {}
    }
    let mut chars = s.chars();
    let c = chars.next()?.to_ascii_uppercase();
    (chars.next().is_none() && matches!(c, '0'..='9' | '*' | '#' | 'A'..='D')).then_some(c)
}

/// `Signal=<digit>` and `Duration=<ms>` of an `application/dtmf-relay` body.
fn dtmf_relay(body: &str) -> Option<(char, u32)> {
    let mut digit = None;
    let mut duration = 0;
    for line in body.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("signal") {
            digit = dtmf_digit(v);
        } else if k.eq_ignore_ascii_case("duration") {
            duration = scan::parse_decimal(v, u64::from(u32::MAX)).map_or(0, |d| d as u32);
        }
    }
    digit.map(|d| (d, duration))
}

/// The status code in a `message/sipfrag` body (RFC 3420): its first line must be a
/// status line.
fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().next()?;
    let rest = line.strip_prefix("SIP/2.0 ")?;
    let code = rest.get(..3)?;
    let c = scan::parse_decimal(code, 699)? as u16;
    (100..=699).contains(&c).then_some(c)
}

/// The target of a REFER (RFC 3515 §2.1): exactly one Refer-To with a `sip:`,
/// `sips:` or `tel:` URI. URI headers are dropped but for Replaces (RFC 3891 §5.1),
/// which goes on the new INVITE, as does the REFER's Referred-By (RFC 3892 §5).
fn refer_target(req: &Incoming) -> Option<(Uri, Vec<(HeaderName, String)>)> {
    let mut values = req.msg.headers.get_all(&HeaderName::ReferTo);
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let h = NameAddrHeader::parse(value).ok()?;
    let mut headers = Vec::new();
    let target = match h.uri() {
        Uri::Sip(u) => {
            for (name, v) in u.header_pairs() {
                if name.eq_ignore_ascii_case("replaces") {
                    let v = scan::unescape(v);
                    if v.is_empty() || !valid_value(&v) || v.contains(['\r', '\n']) {
                        return None;
                    }
                    headers.push((HeaderName::Replaces, v));
                }
            }
            let text = u.to_text();
            Uri::parse(text.split('?').next().unwrap_or("")).ok()?
        }
        Uri::Tel(_) => h.uri().clone(),
        Uri::Other { .. } => return None,
    };
    if let Some(by) = req.msg.headers.get(&HeaderName::ReferredBy) {
        if NameAddrHeader::parse(by).is_ok() {
            headers.push((HeaderName::ReferredBy, by.to_owned()));
        }
    }
    Some((target, headers))
}

fn auth_header(kind: ChallengeKind) -> HeaderName {
    match kind {
        ChallengeKind::Www => HeaderName::Authorization,
        ChallengeKind::Proxy => HeaderName::ProxyAuthorization,
    }
}

/// A reason phrase for a status we send (RFC 3261 §21).
pub(crate) fn reason_phrase(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        480 => "Temporarily Unavailable",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        500 => "Server Internal Error",
        503 => "Service Unavailable",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => match code / 100 {
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}

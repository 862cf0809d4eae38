//! A scripted call peer for the UA harness: the other phone (and its proxy) as text.
//!
//! - [`describe_call`] / [`describe_media`] give one-line descriptions of call events
//!   and media requests, so whole sequences can be asserted ("Send INVITE",
//!   "Media ApplyAnswer", "Failed Busy 486 Remote").
//! - [`reply`] answers one of the UA's requests as the far end would.
//! - [`Peer`] is a caller (or, after it answered our INVITE, a callee) sending
//!   requests to the UA: INVITE, CANCEL, ACK and requests in the dialog.
//! - [`CallHarnessExt`] drives the API: dial, answer, media results.

use super::ua::*;
use super::*;
use sipwasm::sip::message::{Message, NameAddrHeader, TypedHeader};
use sipwasm::sip::ua::{CallEvent, Hold, InfoKind, MediaRequest, MediaResult, Output, UaEvent};

/// A one-line description of a call event.
pub fn describe_call(e: &CallEvent) -> String {
    match e {
        CallEvent::NewSession {
            direction,
            remote_uri,
            ..
        } => format!("NewSession {direction:?} {remote_uri}"),
        CallEvent::Incoming { .. } => "Incoming".into(),
        CallEvent::Progress { code, .. } => format!("Progress {code}"),
        CallEvent::Accepted { .. } => "Accepted".into(),
        CallEvent::Confirmed { .. } => "Confirmed".into(),
        CallEvent::Ended {
            cause, originator, ..
        } => format!("Ended {cause} {originator:?}"),
        CallEvent::Failed {
            cause,
            code,
            originator,
            ..
        } => format!("Failed {cause} {code} {originator:?}"),
        CallEvent::Hold { local, remote, .. } => format!("Hold local={local} remote={remote}"),
        CallEvent::Video { on, .. } => format!("Video {}", if *on { "on" } else { "off" }),
        CallEvent::Renegotiated { kind, code, .. } => format!("Renegotiated {kind:?} {code}"),
        CallEvent::Dtmf {
            digit, duration, ..
        } => format!("Dtmf {digit} {duration}"),
        CallEvent::Info {
            content_type,
            body,
            record,
            ..
        } => format!("Info {content_type:?} {body:?} {record:?}"),
        CallEvent::InfoDone { info, code, .. } => match info {
            InfoKind::Dtmf { digit, duration } => format!("InfoDone {digit} {duration} {code}"),
            InfoKind::Record(on) => format!("InfoDone Record {on} {code}"),
        },
        CallEvent::Transfer { code, done, .. } => {
            format!("Transfer {code}{}", if *done { " done" } else { "" })
        }
        CallEvent::Referred { target, .. } => format!("Referred {target}"),
        CallEvent::Replaces { replaced, .. } => format!("Replaces {replaced}"),
        other => format!("{other:?}"),
    }
}

/// A one-line description of a media request.
pub fn describe_media(r: &MediaRequest) -> String {
    match r {
        MediaRequest::CreateOffer { hold: Hold::Off } => "Media CreateOffer".into(),
        MediaRequest::CreateOffer { hold } => format!("Media CreateOffer {hold:?}"),
        MediaRequest::CreateAnswer { hold: false, .. } => "Media CreateAnswer".into(),
        MediaRequest::CreateAnswer { hold: true, .. } => "Media CreateAnswer hold".into(),
        MediaRequest::ApplyAnswer { .. } => "Media ApplyAnswer".into(),
        MediaRequest::Rollback => "Media Rollback".into(),
        MediaRequest::Close => "Media Close".into(),
    }
}

/// Our (the shell's) SDP offer.
pub const LOCAL_SDP: &str =
    "v=0\r\no=alice 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
/// The peer's SDP (an answer or an offer).
pub const PEER_SDP: &str =
    "v=0\no=bob 7 7 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 40000 RTP/AVP 0\n";
/// Another SDP of the peer.
pub const PEER_SDP2: &str =
    "v=0\no=bob 7 8 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 40002 RTP/AVP 8\n";

/// `text` with CRLF line ends: an SDP as the UA receives it.
pub fn crlf(text: &str) -> String {
    text.lines().map(|l| format!("{l}\r\n")).collect()
}

/// Body lines for a test message (see [`wire`]): Content-Type and Content-Length, the
/// empty line, the SDP.
fn body_lines(sdp: Option<&str>) -> String {
    match sdp {
        Some(b) => format!(
            "Content-Type: application/sdp\nContent-Length: {}\n\n{b}",
            crlf(b).len()
        ),
        None => "Content-Length: 0\n".into(),
    }
}

/// The far end's response to `req`: its Vias, From, To (with `to_tag` added unless it
/// has one), Call-ID, CSeq, then `extra` lines and an optional SDP body. Fails unless
/// `req` has each of those headers once.
pub fn reply(req: &Message, code: u16, to_tag: &str, extra: &[&str], sdp: Option<&str>) -> String {
    reply_by(header, req, code, to_tag, extra, sdp)
}

/// As [`reply`], for requests of fuzzed exchanges: a missing header is empty, a repeated
/// one its first value (fuzz/fuzz_targets/ua_calls.rs).
pub fn reply_lenient(
    req: &Message,
    code: u16,
    to_tag: &str,
    extra: &[&str],
    sdp: Option<&str>,
) -> String {
    let first = |m: &Message, name: &str| {
        header_values(m, name)
            .into_iter()
            .next()
            .unwrap_or_default()
    };
    reply_by(first, req, code, to_tag, extra, sdp)
}

fn reply_by(
    one: impl Fn(&Message, &str) -> String,
    req: &Message,
    code: u16,
    to_tag: &str,
    extra: &[&str],
    sdp: Option<&str>,
) -> String {
    let mut s = format!("SIP/2.0 {code} Whatever\n");
    for v in header_values(req, "Via") {
        s.push_str(&format!("Via: {v}\n"));
    }
    s.push_str(&format!("From: {}\n", one(req, "From")));
    let to = one(req, "To");
    if to.contains(";tag=") || to_tag.is_empty() {
        s.push_str(&format!("To: {to}\n"));
    } else {
        s.push_str(&format!("To: {to};tag={to_tag}\n"));
    }
    s.push_str(&format!("Call-ID: {}\n", one(req, "Call-ID")));
    s.push_str(&format!("CSeq: {}\n", one(req, "CSeq")));
    for e in extra {
        s.push_str(e);
        s.push('\n');
    }
    s.push_str(&body_lines(sdp));
    s
}

/// The proxy's 407 to `req` in the dialog, challenging with `nonce` (realm
/// example.com, qop auth).
pub fn challenge_407(req: &Message, nonce: &str) -> String {
    let challenge = format!(
        "Proxy-Authenticate: Digest realm=\"example.com\", nonce=\"{nonce}\", qop=\"auth\""
    );
    reply(req, 407, "", &[&challenge], None)
}

/// A callee's 2xx-style Contact and Record-Route lines (two proxies).
pub const CALLEE_DIALOG: [&str; 3] = [
    "Contact: <sip:bob@192.0.2.9:5060;transport=udp>",
    "Record-Route: <sip:core.example.com;lr>",
    "Record-Route: <sip:edge.example.com;transport=ws;lr>",
];

/// The tag of a To or From value.
pub fn tag_of(value: &str) -> String {
    NameAddrHeader::parse(value)
        .ok()
        .and_then(|h| h.tag().map(str::to_owned))
        .unwrap_or_default()
}

/// The CSeq number of a message.
pub fn cseq_num(m: &Message) -> u32 {
    header(m, "CSeq")
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A remote phone sending requests to the UA through the edge proxy.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The Call-ID.
    pub call_id: String,
    /// The Request-URI of the initial INVITE.
    pub ruri: String,
    /// The peer's From tag.
    pub tag: String,
    /// Our (the UA's) tag, once learnt from a response.
    pub our_tag: String,
    /// The peer's last CSeq number.
    pub cseq: u32,
    /// The branch of the INVITE.
    pub invite_branch: String,
    /// The From value of the peer's requests (without tag).
    pub from: String,
    /// The To value of the peer's requests (without tag).
    pub to: String,
    /// The Allow header of its INVITE.
    pub allow: String,
    n: u32,
}

impl Peer {
    /// Bob calling the UA at `ruri` (the UA's Contact, as the proxy rewrites it).
    pub fn caller(call_id: &str, ruri: &str) -> Peer {
        Peer {
            call_id: call_id.into(),
            ruri: ruri.into(),
            tag: "bobtag".into(),
            our_tag: String::new(),
            cseq: 100,
            invite_branch: format!(
                "z9hG4bKinv{}",
                call_id.replace(|c: char| !c.is_ascii_alphanumeric(), "")
            ),
            from: "\"Bob\" <sip:bob@example.com>".into(),
            to: "<sip:alice@example.com>".into(),
            allow: "INVITE, ACK, CANCEL, BYE, UPDATE, OPTIONS".into(),
            n: 0,
        }
    }

    /// The callee of our INVITE `invite` that answered with `tag`: From/To swapped.
    pub fn callee(invite: &Message, tag: &str) -> Peer {
        let from = header(invite, "From");
        let to = header(invite, "To");
        Peer {
            call_id: header(invite, "Call-ID"),
            ruri: header(invite, "Contact")
                .trim_start_matches('<')
                .split(['>', ';'])
                .next()
                .unwrap_or("")
                .to_owned(),
            tag: tag.into(),
            our_tag: tag_of(&from),
            cseq: 500,
            invite_branch: String::new(),
            from: to,
            to: from.split(";tag=").next().unwrap_or("").to_owned(),
            allow: String::new(),
            n: 0,
        }
    }

    fn branch(&mut self) -> String {
        self.n += 1;
        format!("z9hG4bKpeer{}", self.n)
    }

    fn vias(branch: &str) -> String {
        format!("Via: SIP/2.0/WSS edge.example.com;branch={branch}\nVia: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKbob{branch}\n")
    }

    /// The initial INVITE, with an SDP offer or none, and `extra` lines.
    pub fn invite(&mut self, sdp: Option<&str>, extra: &[&str]) -> String {
        let mut s = format!("INVITE {} SIP/2.0\n", self.ruri);
        s.push_str(&Self::vias(&self.invite_branch));
        s.push_str("Record-Route: <sip:edge.example.com;transport=ws;lr>\nRecord-Route: <sip:core.example.com;lr>\nMax-Forwards: 69\n");
        s.push_str(&format!(
            "From: {};tag={}\nTo: {}\nCall-ID: {}\nCSeq: {} INVITE\n",
            self.from, self.tag, self.to, self.call_id, self.cseq
        ));
        s.push_str(&format!(
            "Contact: <sip:bob@192.0.2.9:5060>\nAllow: {}\n",
            self.allow
        ));
        for e in extra {
            s.push_str(e);
            s.push('\n');
        }
        s.push_str(&body_lines(sdp));
        s
    }

    /// The CANCEL of the initial INVITE (same branch and CSeq number, §9.1).
    pub fn cancel(&self) -> String {
        format!(
            "CANCEL {} SIP/2.0\n{}Max-Forwards: 69\nFrom: {};tag={}\nTo: {}\nCall-ID: {}\nCSeq: {} CANCEL\nContent-Length: 0\n",
            self.ruri,
            Self::vias(&self.invite_branch),
            self.from,
            self.tag,
            self.to,
            self.call_id,
            self.cseq
        )
    }

    /// Learns our tag from a response of the UA.
    pub fn learn(&mut self, resp: &Message) {
        self.our_tag = tag_of(&header(resp, "To"));
    }

    /// A request in the dialog with CSeq number `seq` (new branch).
    pub fn request_seq(
        &mut self,
        method: &str,
        seq: u32,
        extra: &[&str],
        sdp: Option<&str>,
    ) -> String {
        let b = self.branch();
        let mut s = format!("{method} {} SIP/2.0\n", self.ruri);
        s.push_str(&Self::vias(&b));
        s.push_str(&format!(
            "Max-Forwards: 69\nFrom: {};tag={}\nTo: {};tag={}\nCall-ID: {}\nCSeq: {seq} {method}\n",
            self.from, self.tag, self.to, self.our_tag, self.call_id
        ));
        if matches!(method, "INVITE" | "UPDATE") {
            s.push_str("Contact: <sip:bob@192.0.2.9:5060>\n");
        }
        for e in extra {
            s.push_str(e);
            s.push('\n');
        }
        s.push_str(&body_lines(sdp));
        s
    }

    /// A new request in the dialog (next CSeq number).
    pub fn request(&mut self, method: &str, extra: &[&str], sdp: Option<&str>) -> String {
        self.cseq += 1;
        let seq = self.cseq;
        self.request_seq(method, seq, extra, sdp)
    }

    /// The ACK for the 2xx to the INVITE with CSeq number `seq`.
    pub fn ack(&mut self, seq: u32, sdp: Option<&str>) -> String {
        self.request_seq("ACK", seq, &[], sdp)
    }
}

/// Bob calling the UA with Call-ID `dlg1@example.com` (see [`inbound_up`]).
pub fn bob(h: &H) -> Peer {
    Peer::caller("dlg1@example.com", &h.contact_uri())
}

/// An inbound call from `bob` (INVITE with [`PEER_SDP`] and `extra` lines), answered
/// with [`LOCAL_SDP`] and ACKed; outputs drained. Returns the call id.
pub fn inbound_up(h: &mut H, bob: &mut Peer, extra: &[&str]) -> String {
    h.peer(&bob.invite(Some(PEER_SDP), extra));
    let sent = h.take_sent();
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["100", "180"]
    );
    bob.learn(&sent[1]);
    let id = bob.call_id.clone();
    h.answer_with_sdp(&id);
    h.peer(&bob.ack(bob.cseq, None));
    assert!(h.outs().ends_with(&["Confirmed".into()]));
    id
}

/// A registered UA with an inbound call from [`bob`] up (see [`inbound_up`]): the
/// harness, bob and the call id.
pub fn inbound_call() -> (H, Peer, String) {
    let mut h = registered();
    let mut bob = bob(&h);
    let id = inbound_up(&mut h, &mut bob, &[]);
    (h, bob, id)
}

/// Like [`inbound_call`], but bob allows no UPDATE and asks for a 120 s session timer
/// with us (the UAS) as the refresher: our refreshes are re-INVITEs.
pub fn inbound_call_we_refresh() -> (H, Peer, String) {
    let mut h = registered();
    let mut bob = bob(&h);
    bob.allow = "INVITE, ACK, CANCEL, BYE, OPTIONS".into();
    let id = inbound_up(
        &mut h,
        &mut bob,
        &["Supported: timer", "Session-Expires: 120;refresher=uas"],
    );
    (h, bob, id)
}

/// Calls `target`, which answers 200 (tag `callee_tag`, [`CALLEE_DIALOG`] and
/// [`PEER_SDP`], applied); the ACK is checked and outputs drained. Returns the call id, the
/// INVITE and the callee as a [`Peer`] that can send requests in the dialog.
pub fn outbound_up(h: &mut H, target: &str, callee_tag: &str) -> (String, Message, Peer) {
    let (id, invite) = h.place_call(target);
    h.peer(&reply(
        &invite,
        200,
        callee_tag,
        &CALLEE_DIALOG,
        Some(PEER_SDP),
    ));
    let ack = h.one_sent();
    assert_eq!(first_line(&ack), "ACK");
    assert!(h.outs().ends_with(&["Confirmed".into()]));
    h.media(&id, MediaResult::Applied);
    assert!(h.outs().is_empty());
    let peer = Peer::callee(&invite, callee_tag);
    (id, invite, peer)
}

/// A registered UA that called `target`, answered as in [`outbound_up`]: the harness,
/// the call id, the INVITE and the callee.
pub fn outbound_call(target: &str, callee_tag: &str) -> (H, String, Message, Peer) {
    let mut h = registered();
    let (id, invite, callee) = outbound_up(&mut h, target, callee_tag);
    (h, id, invite, callee)
}

/// The start line of a message (`INVITE sip:… SIP/2.0`, `SIP/2.0 200 OK`).
pub fn start_line(m: &Message) -> String {
    m.to_string().lines().next().unwrap_or("").to_owned()
}

/// The ids of the UA's calls.
pub fn calls(h: &H) -> Vec<String> {
    h.core.ua.calls().map(str::to_owned).collect()
}

/// A registered UA that dialled `target` and sent its INVITE (see
/// [`CallHarnessExt::place_call`]): the harness, the call id and the INVITE.
pub fn placed_call(target: &str) -> (H, String, Message) {
    let mut h = registered();
    let (id, invite) = h.place_call(target);
    (h, id, invite)
}

/// `peer` re-INVITEs call `id` with `offer` and the shell gives `answer` for it (the
/// UA sends its 200; outputs are left for the test, the ACK too).
pub fn reinvited(h: &mut H, peer: &mut Peer, id: &str, offer: &str, answer: &str) {
    h.peer(&peer.request("INVITE", &[], Some(offer)));
    h.media(id, MediaResult::Sdp(answer.into()));
}

/// A registered UA for `cfg`, outputs drained.
pub fn registered_with(cfg: sipwasm::sip::config::UaConfig) -> H {
    let mut h = ua_with(cfg, 1);
    h.register_ok(600);
    h.outs();
    h
}

/// A registered UA with the default test configuration.
pub fn registered() -> H {
    registered_with(config())
}

/// Steps for call tests.
pub trait CallHarnessExt {
    /// `Ua::call(target)`; panics on error.
    fn dial(&mut self, target: &str) -> String;
    /// `Ua::handle_media(id, result)`.
    fn media(&mut self, id: &str, result: MediaResult);
    /// Dials `target`, gives [`LOCAL_SDP`] for the offer; returns the id and the INVITE
    /// (outputs drained).
    fn place_call(&mut self, target: &str) -> (String, Message);
    /// Every media request so far for `id`, in order.
    fn media_requests(&self, id: &str) -> Vec<MediaRequest>;
    /// Every call event so far.
    fn call_events(&self) -> Vec<CallEvent>;
    /// The UA's Contact URI (what a proxy puts in the Request-URI).
    fn contact_uri(&self) -> String;
    /// The caller `peer` sends its INVITE (with [`PEER_SDP`]); returns the call id and
    /// the 180 the UA sent (100 Trying checked too). The peer learns our tag.
    fn ring(&mut self, peer: &mut Peer) -> (String, Message);
    /// Answers the ringing call `id` with [`LOCAL_SDP`]; returns the 200.
    fn answer_with_sdp(&mut self, id: &str) -> Message;
    /// Messages sent since the last `take_sent*` call that are requests with `method`.
    fn sent_requests(&mut self, method: &str) -> Vec<Message>;
}

impl CallHarnessExt for H {
    fn dial(&mut self, target: &str) -> String {
        self.act(|d, now| d.cmd(|ua| ua.call(now, target, &[])))
            .unwrap_or_else(|e| panic!("call({target}): {e}"))
    }
    fn media(&mut self, id: &str, result: MediaResult) {
        self.act(|d, now| d.cmd(|ua| ua.handle_media(now, id, result)));
    }
    fn place_call(&mut self, target: &str) -> (String, Message) {
        let id = self.dial(target);
        assert_eq!(
            self.take_sent().len(),
            0,
            "nothing is sent before the offer"
        );
        self.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
        let invite = self.one_sent();
        assert_eq!(first_line(&invite), "INVITE");
        self.take_briefs();
        (id, invite)
    }
    fn media_requests(&self, id: &str) -> Vec<MediaRequest> {
        self.events
            .iter()
            .filter_map(|(_, o)| match o {
                Output::Media { call_id, request } if call_id == id => Some(request.clone()),
                _ => None,
            })
            .collect()
    }
    fn call_events(&self) -> Vec<CallEvent> {
        self.events
            .iter()
            .filter_map(|(_, o)| match o {
                Output::Event(UaEvent::Call(e)) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }
    fn contact_uri(&self) -> String {
        self.core
            .ua
            .dialog_contact()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim_end_matches(";ob")
            .to_owned()
    }
    fn ring(&mut self, peer: &mut Peer) -> (String, Message) {
        let inv = peer.invite(Some(PEER_SDP), &[]);
        self.peer(&inv);
        let sent = self.take_sent();
        let lines: Vec<String> = sent.iter().map(first_line).collect();
        assert_eq!(lines, ["100", "180"], "{sent:#?}");
        let ringing = sent[1].clone();
        peer.learn(&ringing);
        let id = self
            .call_events()
            .iter()
            .rev()
            .find_map(|e| match e {
                CallEvent::Incoming { call_id } => Some(call_id.clone()),
                _ => None,
            })
            .expect("an Incoming event");
        (id, ringing)
    }
    fn answer_with_sdp(&mut self, id: &str) -> Message {
        self.act(|d, now| d.cmd(|ua| ua.answer(now, id)))
            .unwrap_or_else(|e| panic!("answer: {e}"));
        assert!(matches!(
            self.media_requests(id).last(),
            Some(MediaRequest::CreateAnswer { .. } | MediaRequest::CreateOffer { .. })
        ));
        self.media(id, MediaResult::Sdp(LOCAL_SDP.into()));
        let ok = self.one_sent();
        assert_eq!(first_line(&ok), "200");
        ok
    }
    fn sent_requests(&mut self, method: &str) -> Vec<Message> {
        self.take_sent()
            .into_iter()
            .filter(|m| m.method().is_some_and(|x| x.as_str() == method))
            .collect()
    }
}

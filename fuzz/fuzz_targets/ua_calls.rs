//! libFuzzer target: the UA's call layer driven by a fuzz-chosen sequence of operations.
//!
//! Setup (the same for every input, built with the native tests' harness in
//! `tests/common/`): a registered UA with four calls — an established inbound call
//! (bob), a ringing inbound call (carol), an established outbound call (dave) and an
//! outbound call whose INVITE is unanswered (erin). The input is then read as
//! operations (see [`Op`]): SIP messages from the peers built from templates (with bytes
//! of the input spliced in), responses to the UA's latest requests, raw frames, API
//! commands on live and dead call ids, media results, time and the socket.
//!
//! After every operation: every `Output::Send` is a SIP message that parses, a
//! keep-alive or a heartbeat; the timer makes progress (`poll_timeout` is not stuck at or
//! before now); no call ends more often than it started. At the end every call is
//! terminated and, after time passes, none is left and each started call ended once.
//! A panic anywhere in the core is a crash.
#![no_main]

#[path = "../../tests/common/mod.rs"]
mod common;

use common::call::*;
use common::ua::*;
use common::*;
use libfuzzer_sys::fuzz_target;
use sipwasm::sip::message::{parse_frame, Frame, Message};
use sipwasm::sip::ua::{CallEvent, Input, MediaResult, Output, UaEvent};
use std::collections::BTreeMap;
use std::time::Duration;

/// The fuzz input, read front to back; reads past the end give zeros / empty slices.
struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from(self.byte()) << 8 | u16::from(self.byte())
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.data.split_at(n.min(self.data.len()));
        self.data = b;
        a
    }
    /// One of `items`.
    fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[usize::from(self.byte()) % items.len()]
    }
    /// A short string from the input (lossy UTF-8).
    fn text(&mut self, max: usize) -> String {
        let n = usize::from(self.byte()) % (max + 1);
        String::from_utf8_lossy(self.take(n)).into_owned()
    }
}

/// Tokens spliced into messages: the parts of SIP the call layer looks at.
const TOKENS: &[&str] = &[
    "\r\n",
    "\r\n\r\n",
    ";tag=",
    ";tag=x",
    ";branch=z9hG4bK",
    "Content-Length: 99999\r\n",
    "Content-Length: 0\r\n",
    "CSeq: 4294967295 INVITE\r\n",
    "CSeq: 0 ACK\r\n",
    "Session-Expires: 0\r\n",
    "Session-Expires: 90;refresher=uac\r\n",
    "Session-Expires: 4294967296;refresher=uas\r\n",
    "Min-SE: 4294967295\r\n",
    "Require: timer, 100rel\r\n",
    "Supported: timer\r\n",
    "RSeq: 1\r\n",
    "RAck: 1 101 INVITE\r\n",
    "Refer-To: <sip:x@y?Replaces=a%40b%3Bto-tag%3D%3Bfrom-tag%3D>\r\n",
    "Refer-To: <>\r\n",
    "Replaces: a;to-tag=;from-tag=;early-only\r\n",
    "Event: refer;id=1\r\n",
    "Subscription-State: terminated;reason=noresource\r\n",
    "Content-Type: message/sipfrag\r\n",
    "Content-Type: application/sdp\r\n",
    "Content-Type: multipart/mixed;boundary=x\r\n",
    "Record-Route: <sip:rr.example.com;lr>\r\n",
    "Route: <sip:r.example.com;lr>\r\n",
    "Contact: *\r\n",
    "Contact: <sips:z@[::1]:0;transport=ws>\r\n",
    "Via: SIP/2.0/WSS h;branch=z9hG4bKx\r\n",
    "Max-Forwards: 0\r\n",
    "Retry-After: 4294967295\r\n",
    "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=SHA-256\r\n",
    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", stale=true\r\n",
    "a=sendonly\r\n",
    "a=inactive\r\n",
    "m=video 0 RTP/AVP 96\r\n",
    "c=IN IP4 0.0.0.0\r\n",
    "SIP/2.0 200 OK\r\n",
    "SIP/2.0 100 Trying\r\n",
    "Signal=5\r\nDuration=99999999999\r\n",
    "Record: on\r\n",
    "%",
    "\u{0}",
    "\u{ff}",
];

/// A peer's SDP holding the call.
const PEER_HOLD_SDP: &str = "v=0\no=bob 7 9 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 40000 RTP/AVP 0\na=sendonly\n";
/// A peer's SDP adding video.
const PEER_VIDEO_SDP: &str = "v=0\no=bob 7 10 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 40000 RTP/AVP 0\nm=video 40002 RTP/AVP 96\n";

/// `text` (as [`Peer`] writes it, ending in `Content-Length: 0\n`) with a body.
fn with_body(text: &str, ctype: &str, body: &str) -> String {
    let body = crlf(body);
    text.replace(
        "Content-Length: 0\n",
        &format!(
            "Content-Type: {ctype}\nContent-Length: {}\n\n{}",
            body.len(),
            body.trim_end()
        ),
    )
}

/// The wire form of `text`, then mutated with the input: overwrite, insert, delete,
/// truncate, or a token inserted.
fn mutated(text: &str, b: &mut Bytes<'_>) -> Vec<u8> {
    let mut v = wire(text).into_bytes();
    let n = b.byte();
    // Half of the messages go intact: the call layer has to see well-formed ones too.
    let rounds = if n < 128 { 0 } else { n % 4 + 1 };
    for _ in 0..rounds {
        let kind = b.byte() % 6;
        let at = usize::from(b.u16()) % (v.len() + 1);
        match kind {
            0 => {
                let len = usize::from(b.byte() % 16);
                let src = b.take(len);
                for (i, &c) in src.iter().enumerate() {
                    if let Some(slot) = v.get_mut(at + i) {
                        *slot = c;
                    }
                }
            }
            1 => {
                let len = usize::from(b.byte() % 16);
                let src = b.take(len).to_vec();
                v.splice(at..at, src);
            }
            2 => {
                let end = (at + usize::from(b.byte())).min(v.len());
                v.drain(at..end);
            }
            3 => v.truncate(at),
            _ => {
                let t = b.pick(TOKENS).as_bytes().to_vec();
                v.splice(at..at, t);
            }
        }
    }
    v
}

struct Fuzz {
    h: H,
    /// The far ends of the UA's calls (and of calls that were).
    slots: Vec<Peer>,
    /// The UA's latest requests (not ACKs), newest last.
    requests: Vec<Message>,
    /// Every call id seen in a NewSession, in order.
    ids: Vec<String>,
    /// The calls placed for a peer's REFER: (new, referrer).
    referred: Vec<(String, String)>,
    /// The calls that came to replace another: (new, replaced).
    replacing: Vec<(String, String)>,
    /// How far `h.events` and `h.sent` have been checked.
    checked_events: usize,
    checked_sent: usize,
    fresh: u32,
}

const MAX_SLOTS: usize = 10;
const MAX_REQUESTS: usize = 12;
const MAX_CALLS: u32 = 6;

impl Fuzz {
    fn setup(flags: u8) -> Fuzz {
        let mut cfg = config();
        cfg.max_calls = MAX_CALLS;
        if flags & 1 != 0 {
            cfg.keepalive_interval_secs = 15;
        }
        cfg.heartbeat = flags & 2 != 0;
        cfg.session_expires_secs = [1800, 0, 90, 120][usize::from(flags >> 2 & 3)];
        let mut h = registered_with(cfg);
        // bob: an established inbound call, maybe with a session timer we refresh.
        let mut bob = Peer::caller("bob@example.com", &h.contact_uri());
        let extra: &[&str] = if flags & 16 != 0 {
            bob.allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY".into();
            &["Supported: timer", "Session-Expires: 120;refresher=uas"]
        } else {
            &["Supported: timer", "Session-Expires: 1800"]
        };
        inbound_up(&mut h, &mut bob, extra);
        // carol: an inbound call ringing.
        let mut carol = Peer::caller("carol@example.com", &h.contact_uri());
        carol.tag = "caroltag".into();
        h.ring(&mut carol);
        // dave: an established outbound call.
        let (_, dave_inv, dave) = outbound_up(&mut h, "1001", "davetag");
        // erin: an outbound call whose INVITE is unanswered (CALL_INTERVAL apart).
        h.advance(Duration::from_millis(1100));
        h.take_sent();
        h.take_briefs();
        let (_, erin_inv) = h.place_call("1002");
        let erin = Peer::callee(&erin_inv, "erintag");
        let mut f = Fuzz {
            slots: vec![bob, carol, dave, erin],
            requests: vec![dave_inv, erin_inv],
            ids: Vec::new(),
            referred: Vec::new(),
            replacing: Vec::new(),
            checked_events: 0,
            checked_sent: h.sent.len(),
            fresh: 0,
            h,
        };
        f.ids = f.h.core.ua.calls().map(str::to_owned).collect();
        f.checked_events = f.h.events.len();
        f
    }

    /// A call id: a live one, one that was live once, or one that never was.
    fn pick_id(&self, b: &mut Bytes<'_>) -> String {
        let live: Vec<String> = self.h.core.ua.calls().map(str::to_owned).collect();
        let i = usize::from(b.byte());
        if i < 160 && !live.is_empty() {
            live[i % live.len()].clone()
        } else if i < 240 && !self.ids.is_empty() {
            self.ids[i % self.ids.len()].clone()
        } else {
            ["zz", "", "bob@example.com "][i % 3].to_owned()
        }
    }

    /// A Replaces value naming slot `q`'s dialog as the UA sees it (to-tag ours), or a
    /// near miss.
    fn replaces(&self, b: &mut Bytes<'_>) -> String {
        let q = &self.slots[usize::from(b.byte()) % self.slots.len()];
        match b.byte() % 5 {
            0 => format!("{};to-tag={};from-tag={}", q.call_id, q.tag, q.our_tag),
            1 => format!(
                "{};to-tag={};from-tag={};early-only",
                q.call_id, q.our_tag, q.tag
            ),
            2 => format!("{};from-tag={}", q.call_id, q.tag),
            _ => format!("{};to-tag={};from-tag={}", q.call_id, q.our_tag, q.tag),
        }
    }

    fn fresh_caller(&mut self) -> Peer {
        self.fresh += 1;
        let mut p = Peer::caller(
            &format!("fresh{}@example.com", self.fresh),
            &self.h.contact_uri(),
        );
        p.tag = format!("freshtag{}", self.fresh);
        p
    }

    /// A request from a peer, built from a template.
    fn peer_request(&mut self, b: &mut Bytes<'_>) {
        let si = usize::from(b.byte()) % self.slots.len();
        let t = b.byte() % 18;
        let sdp = *b.pick(&[
            Some(PEER_SDP2),
            None,
            Some(PEER_HOLD_SDP),
            Some(PEER_VIDEO_SDP),
            Some(PEER_SDP),
        ]);
        let mut new_slot = None;
        let text = match t {
            0 => self.slots[si].request("INVITE", &[], sdp),
            1 => {
                let back = u32::from(b.byte() % 3);
                let p = &mut self.slots[si];
                let seq = p.cseq.saturating_sub(back);
                p.ack(seq, sdp)
            }
            2 => self.slots[si].request("BYE", &[], None),
            3 => self.slots[si].cancel(),
            4 => {
                let extra: &[&str] = if b.byte().is_multiple_of(2) {
                    &["Supported: timer", "Session-Expires: 90;refresher=uac"]
                } else {
                    &[]
                };
                self.slots[si].request("UPDATE", extra, sdp)
            }
            5 => {
                let digit = *b.pick(&["5", "#", "A", "x", "", "10"]);
                let dur = b.u16();
                let text = self.slots[si].request("INFO", &[], None);
                with_body(
                    &text,
                    "application/dtmf-relay",
                    &format!("Signal={digit}\nDuration={dur}\n"),
                )
            }
            6 => {
                let rec = *b.pick(&["Record: on", "Record: off", "Record: maybe", "X: y"]);
                let ctype = *b.pick(&[
                    "",
                    "application/media_control+xml",
                    "application/dtmf",
                    "text/plain",
                ]);
                let text = self.slots[si].request("INFO", &[rec], None);
                if ctype.is_empty() {
                    text
                } else {
                    with_body(&text, ctype, "<media_control/>\n")
                }
            }
            7 => {
                let target = *b.pick(&[
                    "<sip:frank@example.org>",
                    "\"Carol\" <sip:carol@example.org;user=phone>",
                    "<tel:+15551234>",
                    "<sip:1003@example.com;method=INVITE?Subject=x>",
                    "<http://example.com/>",
                    "sip:bare@example.org",
                ]);
                let rt = format!("Refer-To: {target}");
                self.slots[si].request("REFER", &[&rt, "Referred-By: <sip:bob@example.com>"], None)
            }
            8 => {
                let rep = self.replaces(b).replace('@', "%40").replace(';', "%3B");
                let rep = rep.replace('=', "%3D");
                let rt = format!("Refer-To: <sip:1002@example.com?Replaces={rep}>");
                self.slots[si].request("REFER", &[&rt], None)
            }
            9 => {
                let state = *b.pick(&[
                    "active;expires=60",
                    "terminated;reason=noresource",
                    "pending",
                    "terminated",
                ]);
                let code = *b.pick(&[100u16, 180, 200, 202, 486, 503, 603, 0, 999]);
                let event = *b.pick(&["Event: refer", "Event: refer;id=7", "Event: dialog"]);
                let ss = format!("Subscription-State: {state}");
                let text = self.slots[si].request("NOTIFY", &[event, &ss], None);
                let frag = match b.byte() % 3 {
                    0 => format!("SIP/2.0 {code} Whatever\n"),
                    1 => format!("SIP/2.0 {code} OK\nContact: <sip:x@y>\nContent-Length: 0\n"),
                    _ => format!("SIP/2.{code}\n"),
                };
                with_body(&text, "message/sipfrag;version=2.0", &frag)
            }
            10 => self.slots[si].request("OPTIONS", &["Require: timer, foo"], None),
            11 => {
                let seq = self.slots[si].cseq;
                let rack = format!("RAck: {} {seq} INVITE", b.byte());
                self.slots[si].request("PRACK", &[&rack], None)
            }
            // The peer's initial INVITE again (a retransmission, or after the call).
            12 => self.slots[si].invite(sdp, &[]),
            13 => {
                let rep = format!("Replaces: {}", self.replaces(b));
                let mut p = self.fresh_caller();
                let text = p.invite(sdp, &[&rep, "Supported: replaces"]);
                new_slot = Some(p);
                text
            }
            14 => {
                let mut p = self.fresh_caller();
                let se = *b.pick(&[
                    "Session-Expires: 90",
                    "Session-Expires: 30",
                    "Session-Expires: 1800;refresher=uac",
                    "Min-SE: 3600",
                ]);
                let text = p.invite(sdp, &["Supported: timer", se]);
                new_slot = Some(p);
                text
            }
            15 => {
                let m = *b.pick(&["MESSAGE", "SUBSCRIBE", "PUBLISH", "FOO", "REGISTER"]);
                self.slots[si].request(m, &[], None)
            }
            // A request with the CSeq number of an older one (out of order).
            16 => {
                let m = *b.pick(&["INVITE", "UPDATE", "BYE", "INFO", "REFER"]);
                let p = &mut self.slots[si];
                let seq = p.cseq.saturating_sub(u32::from(b.byte() % 4));
                p.request_seq(m, seq, &[], sdp)
            }
            // A request from the peer with our tags swapped (wrong dialog).
            _ => {
                let mut p = self.slots[si].clone();
                std::mem::swap(&mut p.tag, &mut p.our_tag);
                p.request("BYE", &[], None)
            }
        };
        let bytes = mutated(&text, b);
        if trace() {
            eprintln!("peer {si}: {}", bytes.escape_ascii());
        }
        self.h.raw(&bytes);
        if let Some(p) = new_slot {
            self.add_slot(p);
        }
    }

    fn add_slot(&mut self, peer: Peer) {
        if self.slots.len() >= MAX_SLOTS {
            self.slots.remove(4);
        }
        self.slots.push(peer);
    }

    /// A response to one of the UA's latest requests.
    fn response(&mut self, b: &mut Bytes<'_>) {
        if self.requests.is_empty() {
            return;
        }
        let ri = usize::from(b.byte()) % self.requests.len();
        let req = self.requests[ri].clone();
        let mut code = *b.pick(&[
            100u16, 180, 183, 200, 202, 401, 407, 408, 422, 481, 486, 487, 488, 491, 500, 503, 603,
            200, 180, 0,
        ]);
        if code == 0 {
            code = b.u16();
        }
        let call_id = header_values(&req, "Call-ID").into_iter().next();
        let slot_tag = self
            .slots
            .iter()
            .find(|p| Some(&p.call_id) == call_id.as_ref())
            .map(|p| p.tag.clone());
        let tag = match (b.byte() % 4, slot_tag) {
            (0, _) => "forked".to_owned(),
            (1, _) => String::new(),
            (_, Some(t)) => t,
            (_, None) => "resp".to_owned(),
        };
        let mut extra: Vec<String> = Vec::new();
        let flags = b.byte();
        if flags & 1 != 0 {
            extra.extend(CALLEE_DIALOG.iter().map(|s| s.to_string()));
        }
        if flags & 2 != 0 {
            extra.push("Require: timer".into());
            extra.push(format!("Session-Expires: {};refresher=uac", b.byte()));
        }
        if flags & 4 != 0 {
            let w = if code == 407 {
                "Proxy-Authenticate"
            } else {
                "WWW-Authenticate"
            };
            extra.push(format!(
                "{w}: Digest realm=\"example.com\", nonce=\"n{}\", qop=\"auth\"",
                b.byte()
            ));
        }
        if flags & 8 != 0 {
            extra.push(format!("Min-SE: {}", b.u16()));
            extra.push("Retry-After: 3".into());
        }
        if flags & 16 != 0 {
            extra.push("Require: 100rel".into());
            extra.push("RSeq: 1".into());
        }
        let register = header_values(&req, "CSeq")
            .first()
            .is_some_and(|c| c.ends_with("REGISTER"));
        if register && header_values(&req, "Contact").len() == 1 {
            extra.push(format!(
                "Contact: {}",
                contact_with_expires(&req, u32::from(b.u16()))
            ));
        }
        let sdp = if flags & 32 != 0 {
            Some(*b.pick(&[PEER_SDP, PEER_SDP2, PEER_HOLD_SDP, PEER_VIDEO_SDP]))
        } else {
            None
        };
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let text = reply_lenient(&req, code, &tag, &extra, sdp);
        let bytes = mutated(&text, b);
        if trace() {
            eprintln!("response: {}", bytes.escape_ascii());
        }
        self.h.raw(&bytes);
    }

    fn api(&mut self, b: &mut Bytes<'_>) {
        let id = self.pick_id(b);
        let cmd = b.byte() % 16;
        if trace() {
            eprintln!("api {cmd} on {id:?}");
        }
        let h = &mut self.h;
        match cmd {
            0 | 1 => {
                let _ = h.act(|d, now| d.cmd(|ua| ua.answer(now, &id)));
            }
            2 => {
                let code = *b.pick(&[486u16, 603, 300, 699, 200, 700, 0]);
                let _ = h.act(|d, now| d.cmd(|ua| ua.reject(now, &id, code)));
            }
            3 => {
                let _ = h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id)));
            }
            4 => {
                let cause = *b.pick(&["terminate", "", "hangup", "reject"]);
                let _ = h.act(|d, now| d.cmd(|ua| ua.terminate(now, &id, cause)));
            }
            5 => {
                let _ = h.act(|d, now| d.cmd(|ua| ua.hold(now, &id)));
            }
            6 => {
                let _ = h.act(|d, now| d.cmd(|ua| ua.unhold(now, &id)));
            }
            7 => {
                let _ = h.act(|d, now| d.cmd(|ua| ua.renegotiate(now, &id)));
            }
            8 => {
                let digits = b.text(6);
                let dur = u32::from(b.u16()) * 10;
                let _ = h.act(|d, now| d.cmd(|ua| ua.dtmf_info(now, &id, &digits, dur)));
            }
            9 => {
                let on = b.byte().is_multiple_of(2);
                let _ = h.act(|d, now| d.cmd(|ua| ua.record_info(now, &id, on)));
            }
            10 => {
                let target = match b.byte() % 5 {
                    0 => "1003".to_owned(),
                    1 => "sip:gina@example.org".to_owned(),
                    2 => "tel:+15551234".to_owned(),
                    3 => String::new(),
                    _ => b.text(24),
                };
                let _ = h.act(|d, now| d.cmd(|ua| ua.transfer(now, &id, &target, None)));
            }
            11 => {
                let consult = self.pick_id(b);
                let h = &mut self.h;
                let _ = h.act(|d, now| d.cmd(|ua| ua.transfer(now, &id, "1003", Some(&consult))));
            }
            12 => {
                let target = match b.byte() % 4 {
                    0 => "2002".to_owned(),
                    1 => "sip:hank@example.org;transport=ws".to_owned(),
                    2 => b.text(24),
                    _ => "<sip:x@y>".to_owned(),
                };
                let extra: Vec<String> = match b.byte() % 3 {
                    0 => Vec::new(),
                    1 => vec!["X-Tag: 1".into()],
                    _ => vec![b.text(20)],
                };
                let r = h.act(|d, now| d.cmd(|ua| ua.call(now, &target, &extra)));
                if let Ok(new) = r {
                    if !b.byte().is_multiple_of(4) {
                        h.media(&new, MediaResult::Sdp(LOCAL_SDP.into()));
                    }
                }
            }
            13 => {
                let ha1 = "0123456789abcdef0123456789abcdef";
                let _ = h.act(|d, now| d.cmd(|ua| ua.re_register(now, "alice", ha1)));
            }
            14 => {
                let hs = vec![b.text(30)];
                let _ = h.act(|d, _| d.cmd(|ua| ua.set_extra_headers(hs)));
            }
            _ => {
                // Stop and start again: un-REGISTER, calls go.
                h.act(|d, now| d.cmd(|ua| ua.disconnect(now)));
                if b.byte().is_multiple_of(2) {
                    h.advance(Duration::from_secs(3));
                    h.act(|d, now| d.cmd(|ua| ua.start(now)));
                }
            }
        }
    }

    fn media(&mut self, b: &mut Bytes<'_>) {
        let id = self.pick_id(b);
        let r = match b.byte() % 8 {
            0 | 1 => MediaResult::Sdp(LOCAL_SDP.into()),
            2 | 3 => MediaResult::Applied,
            4 => MediaResult::Failed(String::new()),
            5 => MediaResult::Failed("User Denied Media Access".into()),
            6 => MediaResult::Sdp(String::new()),
            _ => MediaResult::Sdp(b.text(64)),
        };
        if trace() {
            eprintln!("media {r:?} for {id:?}");
        }
        self.h.media(&id, r);
    }

    fn time(&mut self, b: &mut Bytes<'_>) {
        let ms = match b.byte() % 4 {
            0 => u64::from(b.byte()) * 10,
            1 => u64::from(b.u16()),
            2 => u64::from(b.byte()) * 1000,
            _ => u64::from(b.u16()) * 1000,
        };
        self.h.advance(Duration::from_millis(ms));
    }

    fn socket(&mut self, b: &mut Bytes<'_>) {
        match b.byte() % 4 {
            0 => self.h.closed(1006),
            1 => self.h.connected(),
            2 => self.h.closed(1000),
            _ => {
                // Drop, then reconnect when the UA asks.
                self.h.closed(1006);
                for _ in 0..20 {
                    let next = self.h.core.ua.poll_timeout();
                    if let Some(t) = next {
                        self.h.advance_to(t.max(self.h.now));
                    }
                    let asked = self.h.events[self.checked_events..]
                        .iter()
                        .any(|(_, o)| matches!(o, Output::Connect { .. }));
                    if asked || next.is_none() {
                        break;
                    }
                }
                self.h.connected();
            }
        }
    }

    fn raw(&mut self, b: &mut Bytes<'_>) {
        let n = usize::from(b.u16() % 2048);
        let bytes = b.take(n).to_vec();
        self.h.raw(&bytes);
    }

    fn op(&mut self, b: &mut Bytes<'_>) {
        let op = b.byte() % 10;
        if trace() {
            eprintln!("op {op} at {:?}", self.h.now);
        }
        match op {
            0..=2 => self.peer_request(b),
            3 | 4 => self.response(b),
            5 => self.api(b),
            6 => self.media(b),
            7 => self.time(b),
            8 => self.socket(b),
            _ => self.raw(b),
        }
        self.check();
    }

    /// The properties checked after every operation.
    fn check(&mut self) {
        if trace() {
            for (_, o) in &self.h.events[self.checked_events..] {
                eprintln!("  {}", UaDriver::describe(o));
            }
        }
        // Everything sent parses (or is a keep-alive or heartbeat).
        for (_, o) in &self.h.events[self.checked_events..] {
            match o {
                Output::Send(t) => match parse_frame(t.as_bytes()) {
                    Ok(Frame::Message(_)) | Ok(Frame::Ping | Frame::Pong) => {}
                    Err(e) => assert_eq!(t, "heartbeat", "unparsable output ({e}) {t:?}"),
                },
                Output::Event(UaEvent::Call(CallEvent::NewSession { call_id, .. })) => {
                    self.ids.push(call_id.clone());
                }
                Output::Event(UaEvent::Call(CallEvent::Referred {
                    call_id,
                    new_call_id,
                    ..
                })) => {
                    self.referred.push((new_call_id.clone(), call_id.clone()));
                }
                Output::Event(UaEvent::Call(CallEvent::Replaces { call_id, replaced })) => {
                    self.replacing.push((call_id.clone(), replaced.clone()));
                }
                _ => {}
            }
        }
        self.checked_events = self.h.events.len();
        // The UA's requests: remember them, and a new call's INVITE gets a callee.
        let new: Vec<Message> = self.h.sent[self.checked_sent..]
            .iter()
            .map(|(_, m)| m.clone())
            .collect();
        self.checked_sent = self.h.sent.len();
        for m in new {
            let Some(method) = m.method() else { continue };
            let method = method.as_str().to_owned();
            if method == "ACK" {
                continue;
            }
            let to = header_values(&m, "To");
            let initial = method == "INVITE" && to.len() == 1 && !to[0].contains(";tag=");
            if initial && header_values(&m, "Contact").len() == 1 {
                self.fresh += 1;
                let peer = Peer::callee(&m, &format!("callee{}", self.fresh));
                self.add_slot(peer);
            }
            if self.requests.len() >= MAX_REQUESTS {
                self.requests.remove(0);
            }
            self.requests.push(m);
        }
        // The timer makes progress.
        for _ in 0..4 {
            match self.h.core.ua.poll_timeout() {
                Some(t) if t <= self.h.now => self.h.act(|d, now| d.input(now, Input::Timeout)),
                _ => return self.check_ends(),
            }
        }
        panic!("deadline stuck at or before {:?}", self.h.now);
    }

    /// How many times each call started and ended.
    fn lives(&self) -> BTreeMap<String, (u32, u32)> {
        let mut lives = BTreeMap::new();
        for (_, o) in &self.h.events {
            let Output::Event(UaEvent::Call(e)) = o else {
                continue;
            };
            match e {
                CallEvent::NewSession { call_id, .. } => {
                    lives.entry(call_id.clone()).or_insert((0, 0)).0 += 1
                }
                CallEvent::Ended { call_id, .. } | CallEvent::Failed { call_id, .. } => {
                    lives.entry(call_id.clone()).or_insert((0, 0)).1 += 1
                }
                _ => {}
            }
        }
        lives
    }

    fn check_ends(&self) {
        for (id, (new, end)) in self.lives() {
            assert!(end <= new, "{id}: {new} starts, {end} ends");
        }
        // max_calls holds, but for one call standing in for each call it replaces: a
        // call replacing another (Replaces), or placed for another's REFER.
        let live: Vec<&str> = self.h.core.ua.calls().collect();
        let stood_in = |pairs: &[(String, String)]| {
            let mut v: Vec<&str> = pairs
                .iter()
                .filter(|(id, _)| live.contains(&id.as_str()))
                .map(|(_, old)| old.as_str())
                .collect();
            v.sort_unstable();
            v.dedup();
            v.len()
        };
        let (replaced, referrers) = (stood_in(&self.replacing), stood_in(&self.referred));
        let counted = live.len();
        assert!(
            counted <= MAX_CALLS as usize + replaced + referrers,
            "{counted} calls, {replaced} replacing, {referrers} referring: {live:?}"
        );
    }

    /// Every call ends: terminate them all, let time pass.
    fn teardown(&mut self) {
        let ids: Vec<String> = self.h.core.ua.calls().map(str::to_owned).collect();
        for id in ids {
            let _ = self
                .h
                .act(|d, now| d.cmd(|ua| ua.terminate(now, &id, "terminate")));
        }
        self.h.advance(Duration::from_secs(120));
        self.check();
        let left: Vec<&str> = self.h.core.ua.calls().collect();
        assert!(left.is_empty(), "calls left after teardown: {left:?}");
        for (id, (new, end)) in self.lives() {
            assert_eq!(new, end, "{id}: {new} starts, {end} ends");
        }
    }
}

/// `UA_CALLS_TRACE=1`: print each operation and the UA's outputs (to read a crash).
fn trace() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("UA_CALLS_TRACE").is_some())
}

/// Operations per input at most: a long input is cut, so one run stays short.
const MAX_OPS: usize = 256;

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes { data };
    let mut f = Fuzz::setup(b.byte());
    for _ in 0..MAX_OPS {
        if b.is_empty() {
            break;
        }
        f.op(&mut b);
    }
    f.teardown();
});

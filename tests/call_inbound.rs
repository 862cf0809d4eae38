//! Inbound calls (RFC 3261 §13.3, §9.2, §12.1.1, §15): ringing, answering, the 2xx
//! retransmitted until the ACK, the ACK timeout, CANCEL, reject, no-answer, an INVITE
//! without an offer, hanging up before the ACK, media failures.

mod common;

use common::call::*;
use common::ua::*;
use common::*;
use sipwasm::sip::message::Message;
use sipwasm::sip::ua::{CallError, CallEvent, Direction, Hold, MediaRequest, MediaResult};
use std::time::Duration;

fn caller(h: &H) -> Peer {
    Peer::caller("inbound1@example.com", &h.contact_uri())
}

/// A registered UA that [`CallHarnessExt::ring`]s with an INVITE from [`caller`]: the
/// harness, the caller and the call id.
fn ringing() -> (H, Peer, String) {
    let mut h = registered();
    let mut bob = caller(&h);
    let (id, _) = h.ring(&mut bob);
    (h, bob, id)
}

/// Times (ms after `t0`) of the 200s sent since `t0`.
fn ok_times(h: &H, t0: sipwasm::sip::time::Instant) -> Vec<u64> {
    h.sent
        .iter()
        .filter(|(t, m)| {
            *t >= t0 && m.status() == Some(200) && header(m, "CSeq").ends_with("INVITE")
        })
        .map(|(t, _)| t.as_millis() - t0.as_millis())
        .collect()
}

#[test]
fn ring_answer_and_ack() {
    let mut h = registered();
    let mut bob = caller(&h);
    let inv = bob.invite(Some(PEER_SDP), &[]);
    h.peer(&inv);
    let sent = h.take_sent();
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["100", "180"]
    );
    // 100 Trying: no tag needed (§8.2.6.2); 180: our tag, Contact, Record-Route.
    assert!(!header(&sent[0], "To").contains("tag="));
    let ringing = &sent[1];
    let our_tag = tag_of(&header(ringing, "To"));
    assert!(!our_tag.is_empty());
    assert_eq!(header(ringing, "Contact"), h.core.ua.dialog_contact());
    assert_eq!(
        header_values(ringing, "Record-Route"),
        [
            "<sip:edge.example.com;transport=ws;lr>",
            "<sip:core.example.com;lr>"
        ]
    );
    let id = "inbound1@example.com";
    assert_eq!(
        h.outs(),
        [
            "Send 100",
            "NewSession Inbound sip:bob@example.com",
            "Incoming",
            "Send 180"
        ]
    );
    assert!(h.call_events().contains(&CallEvent::NewSession {
        call_id: id.into(),
        direction: Direction::Inbound,
        remote_uri: "sip:bob@example.com".into(),
        remote_user: "bob".into(),
        remote_display: Some("Bob".into()),
    }));
    assert_eq!(h.core.ua.calls().collect::<Vec<_>>(), [id]);
    bob.learn(ringing);

    h.act(|d, now| d.cmd(|ua| ua.answer(now, id))).unwrap();
    assert_eq!(h.outs(), ["Media CreateAnswer"]);
    assert_eq!(
        h.media_requests(id),
        [MediaRequest::CreateAnswer {
            offer: crlf(PEER_SDP),
            hold: false
        }]
    );
    assert!(h.take_sent().is_empty(), "the 200 waits for the answer");
    h.media(id, MediaResult::Sdp(LOCAL_SDP.into()));
    let ok = h.one_sent();
    assert_eq!(h.outs(), ["Send 200", "Accepted"]);
    assert_eq!(tag_of(&header(&ok, "To")), our_tag);
    assert_eq!(header(&ok, "Contact"), h.core.ua.dialog_contact());
    assert_eq!(header_values(&ok, "Record-Route").len(), 2);
    assert!(header(&ok, "Allow").contains("UPDATE"));
    assert_eq!(header(&ok, "Supported"), "timer, replaces, outbound");
    assert_eq!(header(&ok, "Content-Type"), "application/sdp");
    assert_eq!(ok.body, LOCAL_SDP.as_bytes());
    assert!(
        header_values(&ok, "Session-Expires").is_empty(),
        "the caller asked for no timer"
    );

    h.peer(&bob.ack(100, None));
    assert_eq!(h.outs(), ["Confirmed"]);
    // A retransmitted INVITE after the 2xx is absorbed (RFC 6026 §7.1).
    h.peer(&inv);
    assert!(h.take_sent().is_empty());

    // We hang up: BYE to the caller's Contact through the Record-Route in order.
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, id))).unwrap();
    let bye = h.one_sent();
    assert_eq!(start_line(&bye), "BYE sip:bob@192.0.2.9:5060 SIP/2.0");
    assert_eq!(
        header_values(&bye, "Route"),
        [
            "<sip:edge.example.com;transport=ws;lr>",
            "<sip:core.example.com;lr>"
        ]
    );
    assert_eq!(
        header(&bye, "From"),
        format!("<sip:alice@example.com>;tag={our_tag}")
    );
    assert_eq!(
        header(&bye, "To"),
        "\"Bob\" <sip:bob@example.com>;tag=bobtag"
    );
    assert_eq!(header(&bye, "Call-ID"), id);
    assert_eq!(
        h.outs(),
        ["Send BYE", "Media Close", "Ended Terminated Local"]
    );
}

#[test]
fn the_200_is_retransmitted_until_the_ack() {
    let (mut h, mut bob, id) = ringing();
    h.advance(Duration::from_secs(2));
    let t0 = h.now;
    h.answer_with_sdp(&id);
    h.advance(Duration::from_millis(5000));
    // §13.3.1.4: T1, then doubling: 0.5 s, 1.5 s, 3.5 s after the first.
    assert_eq!(ok_times(&h, t0), [0, 500, 1500, 3500]);
    h.peer(&bob.ack(100, None));
    assert!(h.outs().ends_with(&["Confirmed".into()]));
    h.advance(Duration::from_secs(60));
    assert_eq!(
        ok_times(&h, t0),
        [0, 500, 1500, 3500],
        "nothing after the ACK"
    );
    assert_eq!(h.core.ua.calls().count(), 1);
}

#[test]
fn no_ack_means_bye() {
    let (mut h, _, id) = ringing();
    let t0 = h.now;
    h.answer_with_sdp(&id);
    h.outs();
    h.advance(Duration::from_secs(31));
    // Capped at T2 = 4 s.
    assert_eq!(
        ok_times(&h, t0),
        [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500]
    );
    h.advance(Duration::from_secs(2));
    assert_eq!(
        ok_times(&h, t0),
        [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
    );
    assert!(h.outs().ends_with(&[
        "Send BYE".into(),
        "Media Close".into(),
        "Ended No ACK Remote".into()
    ]));
    assert_eq!(h.time_of("Ended"), Some(t0 + Duration::from_secs(32)));
    let bye = h.sent_requests("BYE");
    assert_eq!(bye.len(), 1);
    assert_eq!(h.core.ua.calls().count(), 0);
}

#[test]
fn cancel_while_ringing() {
    let (mut h, mut bob, _id) = ringing();
    h.outs();
    h.peer(&bob.cancel());
    let sent = h.take_sent();
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["200", "487"]
    );
    assert_eq!(header(&sent[0], "CSeq"), "100 CANCEL");
    assert_eq!(header(&sent[1], "CSeq"), "100 INVITE");
    assert_eq!(
        tag_of(&header(&sent[1], "To")),
        bob.our_tag,
        "the 487 keeps our tag"
    );
    assert_eq!(
        h.outs(),
        [
            "Send 200",
            "Send 487",
            "Media Close",
            "Failed Canceled 487 Remote"
        ]
    );
    // The ACK of the 487 is absorbed by the transaction.
    h.peer(&bob.request_seq("ACK", 100, &[], None).replace(
        "branch=z9hG4bKpeer1\n",
        &format!("branch={}\n", bob.invite_branch),
    ));
    assert!(h.take_sent().is_empty());
    assert_eq!(h.core.ua.calls().count(), 0);
}

#[test]
fn reject_with_486_or_603_and_hangup_uses_the_reject_code() {
    let (mut h, _, id) = ringing();
    h.outs();
    h.act(|d, now| d.cmd(|ua| ua.reject(now, &id, 486)))
        .unwrap();
    assert_eq!(h.take_sent_lines(), ["486"]);
    assert_eq!(
        h.outs(),
        ["Send 486", "Media Close", "Failed Busy 486 Local"]
    );
    assert_eq!(
        h.act(|d, now| d.cmd(|ua| ua.reject(now, &id, 486))),
        Err(CallError::NotFound)
    );

    let mut bob = Peer::caller("inbound2@example.com", &h.contact_uri());
    let (id, _) = h.ring(&mut bob);
    h.act(|d, now| d.cmd(|ua| ua.reject(now, &id, 603)))
        .unwrap();
    assert_eq!(h.take_sent_lines(), ["603"]);
    assert!(h.outs().ends_with(&["Failed Rejected 603 Local".into()]));

    let mut h = registered_with(sipwasm::sip::config::UaConfig {
        reject_code: 603,
        ..config()
    });
    let mut bob = caller(&h);
    let (id, _) = h.ring(&mut bob);
    assert!(matches!(
        h.act(|d, now| d.cmd(|ua| ua.reject(now, &id, 200))),
        Err(CallError::InvalidState(_))
    ));
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id))).unwrap();
    assert_eq!(h.take_sent_lines(), ["603"]);

    // terminate reports the cause it is given.
    let mut bob = Peer::caller("inbound3@example.com", &h.contact_uri());
    let (id, _) = h.ring(&mut bob);
    h.outs();
    h.act(|d, now| d.cmd(|ua| ua.terminate(now, &id, "terminate")))
        .unwrap();
    assert_eq!(
        h.outs(),
        ["Send 603", "Media Close", "Failed terminate 603 Local"]
    );
}

#[test]
fn ringing_too_long_gets_480() {
    let mut h = registered();
    let mut bob = caller(&h);
    let t0 = h.now;
    h.ring(&mut bob);
    h.outs();
    h.advance(Duration::from_secs(59));
    assert!(h.take_sent().is_empty());
    h.advance(Duration::from_secs(2));
    assert_eq!(h.take_sent_lines(), ["480"]);
    assert_eq!(
        h.outs(),
        ["Send 480", "Media Close", "Failed No Answer 480 Local"]
    );
    assert_eq!(h.time_of("Failed"), Some(t0 + Duration::from_secs(60)));
}

#[test]
fn invite_without_offer_gets_our_offer_and_the_answer_comes_in_the_ack() {
    let mut h = registered();
    let mut bob = caller(&h);
    h.peer(&bob.invite(None, &[]));
    let sent = h.take_sent();
    bob.learn(&sent[1]);
    let id = "inbound1@example.com";
    h.act(|d, now| d.cmd(|ua| ua.answer(now, id))).unwrap();
    assert_eq!(
        h.media_requests(id),
        [MediaRequest::CreateOffer { hold: Hold::Off }]
    );
    let ok = h.answer_with_sdp_after_request(id);
    assert_eq!(ok.body, LOCAL_SDP.as_bytes());
    h.outs();
    h.peer(&bob.ack(100, Some(PEER_SDP)));
    assert_eq!(h.outs(), ["Media ApplyAnswer", "Confirmed"]);
    assert_eq!(
        h.media_requests(id).last(),
        Some(&MediaRequest::ApplyAnswer {
            answer: crlf(PEER_SDP)
        })
    );

    // The same without an answer in the ACK: BYE.
    let mut bob = Peer::caller("inbound2@example.com", &h.contact_uri());
    h.peer(&bob.invite(None, &[]));
    let sent = h.take_sent();
    bob.learn(&sent[1]);
    h.act(|d, now| d.cmd(|ua| ua.answer(now, "inbound2@example.com")))
        .unwrap();
    h.answer_with_sdp_after_request("inbound2@example.com");
    h.outs();
    h.peer(&bob.ack(100, None));
    assert_eq!(
        h.outs(),
        ["Send BYE", "Media Close", "Ended Missing SDP Remote"]
    );
}

#[test]
fn hangup_before_the_ack_waits_for_it() {
    let (mut h, mut bob, id) = ringing();
    h.answer_with_sdp(&id);
    h.outs();
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id))).unwrap();
    // §15: no BYE before the ACK; the app hears the end at once.
    assert_eq!(h.outs(), ["Media Close", "Ended Terminated Local"]);
    assert_eq!(h.core.ua.calls().count(), 0);
    h.advance(Duration::from_millis(600));
    assert_eq!(
        h.take_sent_lines(),
        ["200"],
        "the 2xx is still retransmitted"
    );
    h.peer(&bob.ack(100, None));
    assert_eq!(h.take_sent_lines(), ["BYE"]);
    assert_eq!(h.outs(), ["Send 200", "Send BYE"]);
}

#[test]
fn media_failure_when_answering() {
    let (mut h, _, id) = ringing();
    h.act(|d, now| d.cmd(|ua| ua.answer(now, &id))).unwrap();
    h.outs();
    h.media(&id, MediaResult::Failed(String::new()));
    assert_eq!(h.take_sent_lines(), ["488"]);
    assert_eq!(
        h.outs(),
        ["Send 488", "Media Close", "Failed WebRTC Error 488 Local"]
    );

    let mut bob = Peer::caller("inbound2@example.com", &h.contact_uri());
    let (id, _) = h.ring(&mut bob);
    h.act(|d, now| d.cmd(|ua| ua.answer(now, &id))).unwrap();
    h.media(&id, MediaResult::Failed("User Denied Media Access".into()));
    assert_eq!(h.take_sent_lines(), ["480"]);
    // Answering twice, or a second result, is refused or ignored.
    assert_eq!(
        h.act(|d, now| d.cmd(|ua| ua.answer(now, &id))),
        Err(CallError::NotFound)
    );
    h.outs();
    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
    assert_eq!(h.outs(), Vec::<String>::new());
}

#[test]
fn bye_from_the_caller() {
    let (mut h, mut bob, id) = ringing();
    h.answer_with_sdp(&id);
    h.peer(&bob.ack(100, None));
    h.outs();
    h.peer(&bob.request("BYE", &[], None));
    let ok = h.one_sent();
    assert_eq!(header(&ok, "CSeq"), "101 BYE");
    assert_eq!(
        h.outs(),
        ["Send 200", "Media Close", "Ended Terminated Remote"]
    );

    // The caller may BYE while it rings (§15): 200, 487 to the INVITE.
    let mut bob = Peer::caller("inbound2@example.com", &h.contact_uri());
    h.ring(&mut bob);
    h.outs();
    h.peer(&bob.request("BYE", &[], None));
    assert_eq!(h.take_sent_lines(), ["200", "487"]);
    assert!(h.outs().ends_with(&["Failed Terminated 487 Remote".into()]));
}

/// Gives [`LOCAL_SDP`] to a media request already pending and returns the 200.
trait AnswerPending {
    fn answer_with_sdp_after_request(&mut self, id: &str) -> Message;
}

impl AnswerPending for H {
    fn answer_with_sdp_after_request(&mut self, id: &str) -> Message {
        self.media(id, MediaResult::Sdp(LOCAL_SDP.into()));
        let ok = self.one_sent();
        assert_eq!(first_line(&ok), "200");
        ok
    }
}

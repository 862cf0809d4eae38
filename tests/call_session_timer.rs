//! Session timers (RFC 4028): refreshes by the refresher at half the interval, BYE
//! before expiry without a refresh, 422 both ways, the interval we grant as UAS.

mod common;

use common::call::*;
use common::ua::*;
use common::*;
use sipwasm::sip::message::Message;
use std::time::Duration;

/// An outbound call answered with `extra` lines in the 2xx; returns the INVITE.
fn outbound_up(h: &mut H, extra: &[&str]) -> Message {
    let (id, inv) = h.place_call("1001");
    let mut lines: Vec<&str> = CALLEE_DIALOG.to_vec();
    lines.extend_from_slice(extra);
    h.peer(&reply(&inv, 200, "callee", &lines, Some(PEER_SDP)));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    h.media(&id, sipwasm::sip::ua::MediaResult::Applied);
    h.outs();
    inv
}

#[test]
fn we_refresh_at_half_the_interval_with_update() {
    let mut h = registered();
    let t0 = h.now;
    outbound_up(
        &mut h,
        &[
            "Session-Expires: 90;refresher=uac",
            "Require: timer",
            "Allow: INVITE, ACK, BYE, CANCEL, UPDATE",
        ],
    );
    h.advance(Duration::from_secs(44));
    assert!(h.take_sent().is_empty());
    h.advance(Duration::from_secs(2));
    let upd = h.one_sent();
    assert_eq!(h.time_of("Send UPDATE"), Some(t0 + Duration::from_secs(45)));
    assert_eq!(first_line(&upd), "UPDATE");
    assert_eq!(header(&upd, "Session-Expires"), "90;refresher=uac");
    assert_eq!(header(&upd, "Min-SE"), "90");
    assert_eq!(header(&upd, "Supported"), "timer, replaces, outbound");
    assert_eq!(header(&upd, "Contact"), h.core.ua.dialog_contact());
    assert_eq!(header(&upd, "To"), "<sip:1001@example.com>;tag=callee");
    assert!(upd.body.is_empty());
    let t1 = h.now;
    h.peer(&reply(
        &upd,
        200,
        "",
        &["Session-Expires: 90;refresher=uac"],
        None,
    ));
    // The next refresh 45 s after this one; the call never expires.
    h.advance(Duration::from_secs(46));
    let upd2 = h.one_sent();
    assert_eq!(first_line(&upd2), "UPDATE");
    assert_eq!(cseq_num(&upd2), cseq_num(&upd) + 1);
    assert!(h
        .sent
        .iter()
        .any(|(t, m)| *t == t1 + Duration::from_secs(45) && first_line(m) == "UPDATE"));
    assert_eq!(h.core.ua.calls().count(), 1);
}

#[test]
fn refresh_by_reinvite_when_the_peer_has_no_update() {
    let mut h = registered();
    outbound_up(
        &mut h,
        &[
            "Session-Expires: 90;refresher=uac",
            "Allow: INVITE, ACK, BYE, CANCEL",
        ],
    );
    h.advance(Duration::from_secs(46));
    let re = h.one_sent();
    assert_eq!(first_line(&re), "INVITE");
    assert_eq!(re.body, LOCAL_SDP.as_bytes());
    assert_eq!(header(&re, "Content-Type"), "application/sdp");
    h.peer(&reply(
        &re,
        200,
        "",
        &[
            "Contact: <sip:bob@192.0.2.9:5060;transport=udp>",
            "Session-Expires: 90;refresher=uac",
        ],
        Some(PEER_SDP),
    ));
    let ack = h.one_sent();
    assert_eq!(header(&ack, "CSeq"), format!("{} ACK", cseq_num(&re)));
}

#[test]
fn without_a_refresh_the_call_ends_before_expiry() {
    let mut h = registered();
    let inv = outbound_up(&mut h, &["Session-Expires: 90;refresher=uas"]);
    // The peer refreshes once at 40 s.
    h.advance(Duration::from_secs(40));
    assert!(h.take_sent().is_empty(), "we are not the refresher");
    let mut callee = Peer::callee(&inv, "callee");
    h.peer(&callee.request(
        "UPDATE",
        &["Session-Expires: 90;refresher=uac", "Supported: timer"],
        None,
    ));
    let ok = h.one_sent();
    assert_eq!(header(&ok, "Session-Expires"), "90;refresher=uac");
    assert_eq!(header(&ok, "Require"), "timer");
    let t1 = h.now;
    // Then nothing: BYE min(32 s, 90/3) = 30 s before expiry (§10).
    h.advance(Duration::from_secs(59));
    assert!(h.take_sent().is_empty());
    h.advance(Duration::from_secs(2));
    let bye = h.one_sent();
    assert_eq!(first_line(&bye), "BYE");
    assert!(header(&bye, "Reason").contains("cause=408"));
    assert_eq!(h.time_of("Ended"), Some(t1 + Duration::from_secs(60)));
    assert!(h.outs().ends_with(&["Ended Request Timeout System".into()]));
}

#[test]
fn uas_refuses_a_too_small_interval_with_422_and_grants_ours_otherwise() {
    let mut h = registered();
    let mut bob = Peer::caller("st1@example.com", &h.contact_uri());
    h.peer(&bob.invite(Some(PEER_SDP), &["Supported: timer", "Session-Expires: 60"]));
    let r = h.one_sent();
    assert_eq!(r.status(), Some(422));
    assert_eq!(header(&r, "Min-SE"), "90");
    assert_eq!(h.core.ua.calls().count(), 0);
    assert!(h.outs().iter().all(|o| !o.starts_with("NewSession")));

    // Supported: timer without Session-Expires: our 1800 s, we refresh.
    let mut bob = Peer::caller("st2@example.com", &h.contact_uri());
    let (id, _) = {
        h.peer(&bob.invite(Some(PEER_SDP), &["Supported: timer"]));
        let sent = h.take_sent();
        bob.learn(&sent[1]);
        ("st2@example.com".to_owned(), ())
    };
    let ok = h.answer_with_sdp(&id);
    assert_eq!(header(&ok, "Session-Expires"), "1800;refresher=uas");
    assert!(header_values(&ok, "Require").is_empty());

    // refresher=uac from the caller: copied, with Require: timer (§9).
    let mut bob = Peer::caller("st3@example.com", &h.contact_uri());
    h.peer(&bob.invite(
        Some(PEER_SDP),
        &[
            "Supported: timer",
            "Session-Expires: 300;refresher=uac",
            "Min-SE: 120",
        ],
    ));
    let sent = h.take_sent();
    bob.learn(&sent[1]);
    h.outs();
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, "st2@example.com")))
        .ok();
    let ok = h.answer_with_sdp("st3@example.com");
    assert_eq!(header(&ok, "Session-Expires"), "300;refresher=uac");
    assert_eq!(header(&ok, "Require"), "timer");
}

#[test]
fn uac_retries_a_422_with_the_min_se() {
    let (mut h, _id, inv) = placed_call("1001");
    h.peer(&reply(&inv, 422, "callee", &["Min-SE: 3600"], None));
    let sent = h.take_sent();
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["ACK", "INVITE"]
    );
    let again = &sent[1];
    assert_eq!(header(again, "Session-Expires"), "3600");
    assert_eq!(header(again, "Min-SE"), "3600");
    assert_eq!(cseq_num(again), cseq_num(&inv) + 1);
    assert_eq!(header(again, "From"), header(&inv, "From"));
    assert_eq!(h.outs(), ["Send ACK", "Send INVITE"]);
}

//! Outbound calls (RFC 3261 §13.2, §9.1, §22; RFC 6026 §7.2): the INVITE and its
//! ACK header by header, digest on 407, early media, forking, CANCEL and its race
//! with the 2xx, failures, Timer B, the API's refusals.

mod common;

use common::call::*;
use common::ua::*;
use common::*;
use sipwasm::sip::message::{parse_frame, Frame, Message};
use sipwasm::sip::ua::{CallError, Hold, MediaRequest, MediaResult, Output};
use std::time::Duration;

/// Places a call to 1001 and brings it up with 180 then 200 (with [`PEER_SDP`] and
/// the callee's Contact and Record-Route). Returns the id, the INVITE and the ACK.
fn up(h: &mut H) -> (String, Message, Message) {
    let (id, invite) = h.place_call("1001");
    h.peer(&reply(
        &invite,
        180,
        "callee",
        &["Contact: <sip:bob@192.0.2.9:5060>"],
        None,
    ));
    h.peer(&reply(
        &invite,
        200,
        "callee",
        &CALLEE_DIALOG,
        Some(PEER_SDP),
    ));
    let ack = h.one_sent();
    assert_eq!(first_line(&ack), "ACK");
    h.outs();
    (id, invite, ack)
}

#[test]
fn invite_ack_and_bye_header_by_header() {
    let mut h = registered();
    let id = h.dial("1001");
    assert_eq!(
        h.outs(),
        [
            "NewSession Outbound sip:1001@example.com",
            "Media CreateOffer"
        ]
    );
    assert_eq!(calls(&h), std::slice::from_ref(&id));
    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
    let inv = h.one_sent();
    assert_eq!(h.outs(), ["Send INVITE"]);

    // RFC 3261 §8.1.1, §13.2.1.
    assert_eq!(start_line(&inv), "INVITE sip:1001@example.com SIP/2.0");
    let via = header(&inv, "Via");
    assert!(
        via.starts_with("SIP/2.0/WSS ") && via.contains(".invalid;branch=z9hG4bK"),
        "{via}"
    );
    assert_eq!(header(&inv, "Max-Forwards"), "70");
    assert!(
        header_values(&inv, "Route").is_empty(),
        "no service route, no Route"
    );
    assert_eq!(header(&inv, "To"), "<sip:1001@example.com>");
    let from = header(&inv, "From");
    assert!(
        from.starts_with("\"Alice\" <sip:alice@example.com>;tag="),
        "{from}"
    );
    assert_eq!(header(&inv, "Call-ID"), id);
    let seq = cseq_num(&inv);
    assert!((1..1 << 31).contains(&seq));
    assert_eq!(header(&inv, "CSeq"), format!("{seq} INVITE"));
    assert_eq!(header(&inv, "Contact"), h.core.ua.dialog_contact());
    assert!(header(&inv, "Contact").ends_with(";ob>"));
    let allow = header(&inv, "Allow");
    for m in ["INVITE", "ACK", "CANCEL", "BYE", "UPDATE", "OPTIONS"] {
        assert!(allow.contains(m), "{allow}");
    }
    assert_eq!(header(&inv, "Supported"), "timer, replaces, outbound");
    assert_eq!(header(&inv, "Session-Expires"), "1800");
    assert_eq!(header(&inv, "Min-SE"), "90");
    assert!(header(&inv, "User-Agent").starts_with("sipwasm/"));
    assert_eq!(header(&inv, "Content-Type"), "application/sdp");
    assert_eq!(header(&inv, "Content-Length"), LOCAL_SDP.len().to_string());
    assert_eq!(inv.body, LOCAL_SDP.as_bytes());
    assert!(header_values(&inv, "Authorization").is_empty());

    h.peer(&reply(&inv, 100, "", &[], None));
    assert_eq!(h.outs(), Vec::<String>::new(), "100 Trying is not progress");
    h.peer(&reply(
        &inv,
        180,
        "callee",
        &["Contact: <sip:bob@192.0.2.9:5060>"],
        None,
    ));
    assert_eq!(h.outs(), ["Progress 180"]);
    h.peer(&reply(&inv, 200, "callee", &CALLEE_DIALOG, Some(PEER_SDP)));
    assert_eq!(
        h.outs(),
        ["Send ACK", "Media ApplyAnswer", "Accepted", "Confirmed"]
    );
    assert_eq!(
        h.media_requests(&id).last(),
        Some(&MediaRequest::ApplyAnswer {
            answer: crlf(PEER_SDP)
        })
    );
    let ack = h.one_sent();
    // §13.2.2.4: Request-URI = the Contact, Route = Record-Route reversed, the
    // INVITE's CSeq number, a new branch, the remote tag.
    assert_eq!(
        start_line(&ack),
        "ACK sip:bob@192.0.2.9:5060;transport=udp SIP/2.0"
    );
    assert_eq!(
        header_values(&ack, "Route"),
        [
            "<sip:edge.example.com;transport=ws;lr>",
            "<sip:core.example.com;lr>"
        ]
    );
    assert_eq!(header(&ack, "CSeq"), format!("{seq} ACK"));
    assert_ne!(
        header(&ack, "Via"),
        via,
        "the ACK of a 2xx is a new transaction"
    );
    assert!(header(&ack, "Via").contains(";branch=z9hG4bK"));
    assert_eq!(header(&ack, "From"), from);
    assert_eq!(header(&ack, "To"), "<sip:1001@example.com>;tag=callee");
    assert_eq!(header(&ack, "Call-ID"), id);
    assert_eq!(header(&ack, "Max-Forwards"), "70");
    assert_eq!(header(&ack, "Content-Length"), "0");
    h.media(&id, MediaResult::Applied);
    assert_eq!(h.outs(), Vec::<String>::new());

    // A retransmitted 2xx is ACKed again, identically (§13.2.2.4).
    h.peer(&reply(&inv, 200, "callee", &CALLEE_DIALOG, Some(PEER_SDP)));
    assert_eq!(h.one_sent(), ack);
    assert_eq!(h.outs(), ["Send ACK"]);

    // Hang up: BYE through the same route set, CSeq + 1.
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id))).unwrap();
    assert_eq!(
        h.outs(),
        ["Send BYE", "Media Close", "Ended Terminated Local"]
    );
    let bye = h.one_sent();
    assert_eq!(
        start_line(&bye),
        "BYE sip:bob@192.0.2.9:5060;transport=udp SIP/2.0"
    );
    assert_eq!(header_values(&bye, "Route"), header_values(&ack, "Route"));
    assert_eq!(header(&bye, "CSeq"), format!("{} BYE", seq + 1));
    assert_eq!(header(&bye, "To"), "<sip:1001@example.com>;tag=callee");
    assert!(calls(&h).is_empty());
    h.peer(&reply(&bye, 200, "", &[], None));
    assert_eq!(h.outs(), Vec::<String>::new());
    assert_eq!(
        h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id))),
        Err(CallError::NotFound)
    );
}

#[test]
fn service_route_becomes_the_route_of_the_invite() {
    let mut h = ua();
    h.start_and_connect();
    let reg = h.one_sent();
    h.peer(&response_to(
        &reg,
        200,
        "OK",
        &[
            format!("Contact: {}", contact_with_expires(&reg, 600)),
            "Service-Route: <sip:orig@edge.example.com;lr>, <sip:scscf.example.com;lr>".into(),
        ],
    ));
    h.outs();
    let (_, inv) = h.place_call("sip:bob@elsewhere.example");
    assert_eq!(start_line(&inv), "INVITE sip:bob@elsewhere.example SIP/2.0");
    assert_eq!(
        header_values(&inv, "Route"),
        [
            "<sip:orig@edge.example.com;lr>",
            "<sip:scscf.example.com;lr>"
        ]
    );
}

#[test]
fn digest_on_407_then_failure_on_wrong_credentials() {
    let (mut h, id, inv1) = placed_call("1001");
    let challenge = "Proxy-Authenticate: Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\", algorithm=MD5";
    h.peer(&reply(&inv1, 407, "proxy", &[challenge], None));
    let sent = h.take_sent();
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["ACK", "INVITE"]
    );
    // The ACK of the 407 is the transaction's: same branch (§17.1.1.3).
    assert_eq!(header(&sent[0], "Via"), header(&inv1, "Via"));
    let inv2 = &sent[1];
    // §22.2: same Call-ID and From tag, next CSeq, new branch, credentials.
    assert_eq!(header(inv2, "Call-ID"), id);
    assert_eq!(header(inv2, "From"), header(&inv1, "From"));
    assert_eq!(cseq_num(inv2), cseq_num(&inv1) + 1);
    assert_ne!(header(inv2, "Via"), header(&inv1, "Via"));
    let p = digest_params(&header(inv2, "Proxy-Authorization"));
    assert_eq!(p["username"], "alice");
    assert_eq!(p["realm"], "example.com");
    assert_eq!(p["uri"], "sip:1001@example.com");
    assert_eq!(p["nc"], "00000001");
    assert_eq!(inv2.body, LOCAL_SDP.as_bytes());
    assert_eq!(
        h.outs(),
        ["Send ACK", "Send INVITE"],
        "no event for the challenge"
    );

    // The 2xx to the authenticated INVITE: its ACK carries the same credentials.
    h.peer(&reply(inv2, 200, "callee", &CALLEE_DIALOG, Some(PEER_SDP)));
    let ack = h.one_sent();
    assert_eq!(
        header(&ack, "Proxy-Authorization"),
        header(inv2, "Proxy-Authorization")
    );
    assert_eq!(header(&ack, "CSeq"), format!("{} ACK", cseq_num(inv2)));

    // A second call challenged twice with fresh nonces: wrong credentials.
    h.advance(Duration::from_secs(1));
    let (id2, inv) = h.place_call("1002");
    h.peer(&reply(&inv, 407, "proxy", &[challenge], None));
    let again = h.take_sent().pop().unwrap();
    let challenge2 = challenge.replace("n1", "n2");
    // §22.2: a fresh challenge for the answered realm means wrong credentials.
    h.peer(&reply(&again, 407, "proxy", &[&challenge2], None));
    let outs = h.outs();
    assert!(
        outs.ends_with(&[
            "Media Close".into(),
            "Failed Authentication Error 407 Remote".into()
        ]),
        "{outs:?}"
    );
    assert_eq!(calls(&h), [id]);
    assert!(!calls(&h).contains(&id2));
}

#[test]
fn early_media_is_applied_once() {
    let (mut h, id, inv) = placed_call("1001");
    h.peer(&reply(
        &inv,
        183,
        "callee",
        &["Contact: <sip:bob@192.0.2.9>"],
        Some(PEER_SDP),
    ));
    assert_eq!(h.outs(), ["Progress 183", "Media ApplyAnswer"]);
    h.media(&id, MediaResult::Applied);
    // A second 183 with SDP, then 180: progress only.
    h.peer(&reply(
        &inv,
        183,
        "callee",
        &["Contact: <sip:bob@192.0.2.9>"],
        Some(PEER_SDP),
    ));
    h.peer(&reply(
        &inv,
        180,
        "callee",
        &["Contact: <sip:bob@192.0.2.9>"],
        None,
    ));
    assert_eq!(h.outs(), ["Progress 183", "Progress 180"]);
    // The 2xx with the same SDP is not applied again.
    h.peer(&reply(&inv, 200, "callee", &CALLEE_DIALOG, Some(PEER_SDP)));
    assert_eq!(h.outs(), ["Send ACK", "Accepted", "Confirmed"]);
    let applies = h
        .media_requests(&id)
        .iter()
        .filter(|r| matches!(r, MediaRequest::ApplyAnswer { .. }))
        .count();
    assert_eq!(applies, 1);
}

#[test]
fn a_2xx_answer_that_differs_from_the_early_one_is_applied() {
    let (mut h, id, inv) = placed_call("1001");
    h.peer(&reply(
        &inv,
        183,
        "callee",
        &["Contact: <sip:bob@192.0.2.9>"],
        Some(PEER_SDP),
    ));
    // The 2xx arrives before the shell applied the early SDP: queued behind it.
    h.peer(&reply(&inv, 200, "callee", &CALLEE_DIALOG, Some(PEER_SDP2)));
    assert_eq!(
        h.outs(),
        [
            "Progress 183",
            "Media ApplyAnswer",
            "Send ACK",
            "Accepted",
            "Confirmed"
        ]
    );
    h.media(&id, MediaResult::Applied);
    assert_eq!(h.outs(), ["Media ApplyAnswer"]);
    assert_eq!(
        h.media_requests(&id).last(),
        Some(&MediaRequest::ApplyAnswer {
            answer: crlf(PEER_SDP2)
        })
    );
    h.media(&id, MediaResult::Applied);
    assert_eq!(h.outs(), Vec::<String>::new());
}

/// `text` (a message as [`reply`] writes it) without its Call-ID line.
fn without_call_id(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("Call-ID:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Every SIP message the UA sent since `from` parses; returns them.
fn sent_since(h: &H, from: usize) -> Vec<Message> {
    h.events
        .get(from..)
        .unwrap_or(&[])
        .iter()
        .filter_map(|(_, o)| match o {
            Output::Send(t) => match parse_frame(t.as_bytes()) {
                Ok(Frame::Message(m)) => Some(m.msg),
                other => panic!("unparsable output {t:?}: {other:?}"),
            },
            _ => None,
        })
        .collect()
}

/// Found by fuzz/fuzz_targets/ua_calls.rs: a 2xx to our INVITE matches its transaction
/// by branch and CSeq method alone, and the dialog took its Call-ID from the response:
/// a 2xx without one (here from a second fork, then as the first answer) made the UA
/// send an ACK and a BYE with an empty `Call-ID:`, which no parser accepts. The dialog's
/// Call-ID is the INVITE's (RFC 3261 §12.1.2).
#[test]
fn a_2xx_without_call_id_gets_ack_and_bye_with_the_invites_call_id() {
    let (mut h, id, inv, _) = outbound_call("1001", "callee");
    let from = h.events.len();
    h.peer(&without_call_id(&reply(
        &inv,
        200,
        "forked",
        &["Contact: <sip:bob@192.0.2.11>"],
        Some(PEER_SDP2),
    )));
    let sent = sent_since(&h, from);
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["ACK", "BYE"]
    );
    for m in &sent {
        assert_eq!(header(m, "Call-ID"), id);
        assert_eq!(header(m, "To"), "<sip:1001@example.com>;tag=forked");
    }
    assert_eq!(calls(&h), std::slice::from_ref(&id));

    // The first 2xx without a Call-ID: the call is up on the INVITE's Call-ID.
    h.advance(Duration::from_secs(2));
    h.take_sent();
    let (id2, inv2) = h.place_call("1002");
    let from = h.events.len();
    h.peer(&without_call_id(&reply(
        &inv2,
        200,
        "callee2",
        &CALLEE_DIALOG,
        Some(PEER_SDP),
    )));
    let ack = sent_since(&h, from);
    assert_eq!(ack.iter().map(first_line).collect::<Vec<_>>(), ["ACK"]);
    assert_eq!(header(&ack[0], "Call-ID"), id2);
    h.media(&id2, MediaResult::Applied);
    let from = h.events.len();
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id2))).unwrap();
    let bye = sent_since(&h, from);
    assert_eq!(bye.iter().map(first_line).collect::<Vec<_>>(), ["BYE"]);
    assert_eq!(header(&bye[0], "Call-ID"), id2);
    assert_eq!(header(&bye[0], "To"), "<sip:1002@example.com>;tag=callee2");
}

#[test]
fn forked_2xx_second_is_acked_and_byed() {
    let (mut h, id, inv) = placed_call("1001");
    h.peer(&reply(
        &inv,
        180,
        "forkA",
        &["Contact: <sip:bob@192.0.2.10>"],
        None,
    ));
    h.peer(&reply(
        &inv,
        180,
        "forkB",
        &["Contact: <sip:bob@192.0.2.11>"],
        None,
    ));
    h.peer(&reply(
        &inv,
        200,
        "forkA",
        &["Contact: <sip:bob@192.0.2.10>"],
        Some(PEER_SDP),
    ));
    let ack_a = h.one_sent();
    assert_eq!(start_line(&ack_a), "ACK sip:bob@192.0.2.10 SIP/2.0");
    h.outs();
    // RFC 6026 §7.2: the second 2xx passes the transaction; §13.2.2.4: ACK, then BYE.
    h.peer(&reply(
        &inv,
        200,
        "forkB",
        &["Contact: <sip:bob@192.0.2.11>"],
        Some(PEER_SDP2),
    ));
    let sent = h.take_sent();
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["ACK", "BYE"]
    );
    for m in &sent {
        assert_eq!(
            start_line(m),
            format!("{} sip:bob@192.0.2.11 SIP/2.0", first_line(m))
        );
        assert_eq!(header(m, "To"), "<sip:1001@example.com>;tag=forkB");
        assert_eq!(header(m, "From"), header(&inv, "From"));
    }
    assert_eq!(header(&sent[0], "CSeq"), format!("{} ACK", cseq_num(&inv)));
    assert_eq!(
        h.outs(),
        ["Send ACK", "Send BYE"],
        "no event for the second fork"
    );
    // Its retransmission is only re-ACKed.
    h.peer(&reply(
        &inv,
        200,
        "forkB",
        &["Contact: <sip:bob@192.0.2.11>"],
        Some(PEER_SDP2),
    ));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    h.peer(&reply(&sent[1], 200, "", &[], None));
    assert_eq!(calls(&h), std::slice::from_ref(&id));
    assert_eq!(
        h.media_requests(&id),
        [
            MediaRequest::CreateOffer { hold: Hold::Off },
            MediaRequest::ApplyAnswer {
                answer: crlf(PEER_SDP)
            }
        ]
    );
}

#[test]
fn cancel_before_any_provisional_waits_for_one() {
    let (mut h, id, inv) = placed_call("1001");
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id))).unwrap();
    // §9.1: no CANCEL before a provisional; the call is over for the app at once.
    assert_eq!(h.outs(), ["Media Close", "Failed Canceled 487 Local"]);
    assert!(calls(&h).is_empty());
    h.peer(&reply(&inv, 100, "", &[], None));
    let cancel = h.one_sent();
    assert_eq!(h.outs(), ["Send CANCEL"]);
    assert_eq!(start_line(&cancel), "CANCEL sip:1001@example.com SIP/2.0");
    assert_eq!(header(&cancel, "Via"), header(&inv, "Via"));
    assert_eq!(
        header(&cancel, "CSeq"),
        format!("{} CANCEL", cseq_num(&inv))
    );
    assert_eq!(header(&cancel, "To"), header(&inv, "To"));
    h.peer(&reply(&cancel, 200, "callee", &[], None));
    h.peer(&reply(&inv, 487, "callee", &[], None));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    assert_eq!(h.outs(), ["Send ACK"], "no second failure event");
}

#[test]
fn cancel_after_180() {
    let (mut h, id, inv) = placed_call("1001");
    h.peer(&reply(
        &inv,
        180,
        "callee",
        &["Contact: <sip:bob@192.0.2.9>"],
        None,
    ));
    h.outs();
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id))).unwrap();
    assert_eq!(
        h.outs(),
        ["Send CANCEL", "Media Close", "Failed Canceled 487 Local"]
    );
    let cancel = h.one_sent();
    assert_eq!(header(&cancel, "Via"), header(&inv, "Via"));
    h.peer(&reply(&cancel, 200, "callee", &[], None));
    h.peer(&reply(&inv, 487, "callee", &[], None));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
}

#[test]
fn cancel_200_race_acks_and_byes_the_2xx() {
    let (mut h, id, inv) = placed_call("1001");
    h.peer(&reply(
        &inv,
        180,
        "callee",
        &["Contact: <sip:bob@192.0.2.9>"],
        None,
    ));
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id))).unwrap();
    let cancel = h.one_sent();
    h.outs();
    // The callee answered before our CANCEL reached it.
    h.peer(&reply(&inv, 200, "callee", &CALLEE_DIALOG, Some(PEER_SDP)));
    h.peer(&reply(&cancel, 481, "callee", &[], None));
    let sent = h.take_sent();
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["ACK", "BYE"]
    );
    assert_eq!(
        start_line(&sent[1]),
        "BYE sip:bob@192.0.2.9:5060;transport=udp SIP/2.0"
    );
    assert_eq!(
        h.outs(),
        ["Send ACK", "Send BYE"],
        "still just the one Failed"
    );
    h.peer(&reply(&sent[1], 200, "", &[], None));
    let ev = h.call_events();
    assert!(ev
        .iter()
        .all(|e| !matches!(e, sipwasm::sip::ua::CallEvent::Accepted { .. })));
}

#[test]
fn busy_fails_the_call() {
    let (mut h, id, inv) = placed_call("1001");
    h.peer(&reply(&inv, 486, "callee", &[], None));
    assert_eq!(
        h.outs(),
        ["Send ACK", "Media Close", "Failed Busy 486 Remote"]
    );
    assert!(calls(&h).is_empty());
    // A late media result is ignored.
    h.media(&id, MediaResult::Applied);
    assert_eq!(h.outs(), Vec::<String>::new());
    for (code, cause) in [
        (603, "Rejected"),
        (404, "Not Found"),
        (480, "Unavailable"),
        (302, "Redirected"),
        (500, "SIP Failure Code"),
    ] {
        h.advance(Duration::from_secs(1)); // call() within 1 s is -208
        h.take_sent();
        let (_, inv) = h.place_call("1001");
        h.peer(&reply(&inv, code, "callee", &[], None));
        let outs = h.outs();
        assert_eq!(
            outs.last().unwrap(),
            &format!("Failed {cause} {code} Remote"),
            "{outs:?}"
        );
    }
}

#[test]
fn timer_b_fails_with_408() {
    let mut h = registered();
    let t0 = h.now;
    let (_id, _inv) = h.place_call("1001");
    h.advance(Duration::from_secs(31));
    assert_eq!(h.outs(), Vec::<String>::new());
    h.advance(Duration::from_secs(2));
    assert_eq!(
        h.outs(),
        ["Media Close", "Failed Request Timeout 408 System"]
    );
    assert_eq!(
        h.time_of("Failed"),
        Some(t0 + Duration::from_secs(32)),
        "Timer B = 64*T1"
    );
}

#[test]
fn unanswered_outbound_call_is_cancelled_after_the_no_answer_timeout() {
    let mut h = registered_with(sipwasm::sip::config::UaConfig {
        no_answer_timeout_secs: 10,
        ..config()
    });
    let (_id, inv) = h.place_call("1001");
    h.peer(&reply(
        &inv,
        180,
        "callee",
        &["Contact: <sip:bob@192.0.2.9>"],
        None,
    ));
    h.outs();
    h.advance(Duration::from_secs(10));
    assert_eq!(
        h.outs(),
        ["Send CANCEL", "Media Close", "Failed No Answer 487 Local"]
    );
}

#[test]
fn bye_from_the_callee_ends_the_call() {
    let mut h = registered();
    let (id, inv, _ack) = up(&mut h);
    let mut callee = Peer::callee(&inv, "callee");
    h.peer(&callee.request("BYE", &[], None));
    let ok = h.one_sent();
    assert_eq!(first_line(&ok), "200");
    assert_eq!(header(&ok, "CSeq"), "501 BYE");
    assert_eq!(
        h.outs(),
        ["Send 200", "Media Close", "Ended Terminated Remote"]
    );
    assert!(calls(&h).is_empty());
    // A late result for the ended call is ignored.
    h.media(&id, MediaResult::Applied);
    assert_eq!(h.outs(), Vec::<String>::new());
}

#[test]
fn a_2xx_without_an_answer_is_acked_and_byed() {
    let (mut h, _id, inv) = placed_call("1001");
    h.peer(&reply(&inv, 200, "callee", &CALLEE_DIALOG, None));
    assert_eq!(
        h.outs(),
        [
            "Send ACK",
            "Send BYE",
            "Media Close",
            "Failed Missing SDP 200 Remote"
        ]
    );
}

#[test]
fn media_failure_before_the_invite_sends_nothing() {
    let mut h = registered();
    let id = h.dial("1001");
    h.outs();
    h.media(&id, MediaResult::Failed("User Denied Media Access".into()));
    assert_eq!(
        h.outs(),
        ["Media Close", "Failed User Denied Media Access 0 Local"]
    );
    assert!(h.take_sent().is_empty());
    let id = h.dial("1001");
    h.media(&id, MediaResult::Failed(String::new()));
    assert_eq!(h.outs().last().unwrap(), "Failed WebRTC Error 0 Local");
}

#[test]
fn api_refusals() {
    // Not registered.
    let mut h = ua();
    assert_eq!(
        h.act(|d, now| d.cmd(|ua| ua.call(now, "1001", &[]))),
        Err(CallError::NotRegistered)
    );
    let mut h = registered();
    for bad in ["", "10 01", "a\r\nX: y", "<1001>", "\"1001\"", "http://x"] {
        assert_eq!(
            h.act(|d, now| d.cmd(|ua| ua.call(now, bad, &[]))),
            Err(CallError::InvalidNumber),
            "{bad:?}"
        );
    }
    assert!(matches!(
        h.act(|d, now| d.cmd(|ua| ua.call(now, "1001", &["Via: x".into()]))),
        Err(CallError::InvalidHeader(_))
    ));
    assert_eq!(
        h.act(|d, now| d.cmd(|ua| ua.hangup(now, "nope"))),
        Err(CallError::NotFound)
    );
    // Per-call extra headers go on the INVITE.
    let id = h
        .act(|d, now| d.cmd(|ua| ua.call(now, "*97#", &["X-Foo: bar".into()])))
        .unwrap();
    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
    let inv = h.one_sent();
    assert_eq!(start_line(&inv), "INVITE sip:*97%23@example.com SIP/2.0");
    assert_eq!(header(&inv, "X-Foo"), "bar");
    assert!(matches!(
        h.act(|d, now| d.cmd(|ua| ua.answer(now, &id))),
        Err(CallError::InvalidState(_))
    ));
    assert!(matches!(
        h.act(|d, now| d.cmd(|ua| ua.reject(now, &id, 486))),
        Err(CallError::InvalidState(_))
    ));
    // The first call is not answered yet: -210.
    assert_eq!(
        h.act(|d, now| d.cmd(|ua| ua.call(now, "1002", &[]))),
        Err(CallError::NotConnected)
    );
    assert_eq!(CallError::NotConnected.code(), -210);
    // Answered, but within 1 s of the previous call(): -208.
    h.peer(&reply(&inv, 200, "callee", &[], Some(PEER_SDP)));
    assert_eq!(
        h.act(|d, now| d.cmd(|ua| ua.call(now, "1002", &[]))),
        Err(CallError::TooSoon)
    );
    assert_eq!(CallError::TooSoon.code(), -208);
    h.advance(Duration::from_millis(1000));
    // maxCalls (2) ranks before -210.
    h.dial("1002");
    assert_eq!(
        h.act(|d, now| d.cmd(|ua| ua.call(now, "1003", &[]))),
        Err(CallError::MaxCalls)
    );
    assert_eq!(CallError::MaxCalls.code(), -205);
    assert_eq!(calls(&h).len(), 2);
}

//! CANCEL (RFC 3261 §9): sending it from an INVITE client transaction (§9.1) and
//! matching a received one to its INVITE server transaction (§9.2).

mod common;

use common::*;
use sipwasm::sip::message::Method;
use sipwasm::sip::transaction::{
    build_response, Disposition, TransactionLayer, TsxError, TsxEvent, TsxKey, TsxState,
};
use std::time::Duration;

type H = Harness<TransactionLayer>;

const B: &str = "z9hG4bKc1";

fn invite_key() -> TsxKey {
    TsxKey::Client {
        branch: B.into(),
        method: Method::Invite,
    }
}

fn cancel_key() -> TsxKey {
    TsxKey::Client {
        branch: B.into(),
        method: Method::Cancel,
    }
}

fn start(h: &mut H) -> TsxKey {
    let k = h
        .act(|l, now| l.send_request(now, msg(&fill(UAC_INVITE, &[("branch", B)]))))
        .unwrap();
    assert_eq!(h.take_sent_lines(), ["INVITE"]);
    k
}

#[test]
fn cancel_after_provisional_is_sent_at_once() {
    let mut h = layer();
    let inv = start(&mut h);
    h.advance_to(ms(500));
    h.peer(&invite_response(180, B, "b1"));
    h.advance_to(ms(4000));
    let c = h.act(|l, now| l.send_cancel(now, &inv)).unwrap();
    assert_eq!(c, cancel_key());
    assert_eq!(h.core.state(&c), Some(TsxState::Trying));
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    let cancel = &sent[0];
    // §9.1, header by header.
    let text = String::from_utf8(cancel.to_bytes()).unwrap();
    assert!(
        text.starts_with("CANCEL sip:bob@b.example SIP/2.0\r\n"),
        "{text}"
    );
    assert_eq!(
        header_values(cancel, "Via"),
        ["SIP/2.0/WSS a1.invalid;branch=z9hG4bKc1"]
    );
    assert_eq!(
        header_values(cancel, "Route"),
        [
            "<sip:edge.b.example;transport=ws;lr>",
            "<sip:core.b.example;lr>"
        ]
    );
    assert_eq!(header(cancel, "Max-Forwards"), "70");
    assert_eq!(
        header(cancel, "To"),
        "<sip:bob@b.example>",
        "the INVITE's To, no tag"
    );
    assert_eq!(
        header(cancel, "From"),
        "\"Alice\" <sip:alice@a.example>;tag=atag"
    );
    assert_eq!(header(cancel, "Call-ID"), "call1@a.example");
    assert_eq!(header(cancel, "CSeq"), "101 CANCEL");
    assert_eq!(header(cancel, "Content-Length"), "0");
    assert!(header_values(cancel, "Contact").is_empty());
    // Timer F for the CANCEL, and the INVITE is given 64*T1 from now (§9.1).
    assert_eq!(h.core.poll_timeout(), Some(ms(36_000)));

    h.advance_to(ms(4100));
    h.peer(&cancel_response(200, B));
    h.advance_to(ms(4200));
    h.peer(&invite_response(487, B, "b1"));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(
        h.take_briefs(),
        [
            "Response 180 @ client INVITE z9hG4bKc1",
            "Response 200 @ client CANCEL z9hG4bKc1",
            "Terminated @ client CANCEL z9hG4bKc1",
            "Response 487 @ client INVITE z9hG4bKc1",
            "Terminated @ client INVITE z9hG4bKc1"
        ]
    );
    assert_eq!(
        h.time_of("Terminated @ client CANCEL"),
        Some(ms(4100)),
        "Timer K = 0"
    );
    assert_eq!(
        h.time_of("Terminated @ client INVITE"),
        Some(ms(4200)),
        "Timer D = 0"
    );
    assert_eq!(h.core.len(), 0);
}

#[test]
fn cancel_before_provisional_waits_for_one() {
    let mut h = layer();
    let inv = start(&mut h);
    h.advance_to(ms(100));
    let c = h.act(|l, now| l.send_cancel(now, &inv)).unwrap();
    assert_eq!(h.core.state(&c), Some(TsxState::Queued));
    assert!(h.take_sent().is_empty(), "§9.1: not before a provisional");
    assert_eq!(
        h.core.poll_timeout(),
        Some(ms(32_000)),
        "only the INVITE's Timer B"
    );
    h.advance_to(ms(900));
    h.peer(&invite_response(100, B, ""));
    let sent = h.take_sent();
    assert_eq!(sent.iter().map(first_line).collect::<Vec<_>>(), ["CANCEL"]);
    assert_eq!(h.sent.last().map(|(t, _)| *t), Some(ms(900)));
    assert_eq!(h.core.state(&c), Some(TsxState::Trying));
    // A second provisional does not send it again.
    h.peer(&invite_response(180, B, "b1"));
    assert!(h.take_sent().is_empty());
    h.peer(&cancel_response(200, B));
    h.peer(&invite_response(487, B, "b1"));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn queued_cancel_is_dropped_when_the_invite_completes() {
    let mut h = layer();
    let inv = start(&mut h);
    let c = h.act(|l, now| l.send_cancel(now, &inv)).unwrap();
    h.advance_to(ms(300));
    h.peer(&invite_response(486, B, "b1"));
    assert_eq!(
        h.take_briefs(),
        [
            "Response 486 @ client INVITE z9hG4bKc1",
            "CancelDropped client INVITE z9hG4bKc1 @ client CANCEL z9hG4bKc1",
            "Terminated @ client CANCEL z9hG4bKc1"
        ]
    );
    assert_eq!(h.core.state(&c), None);
    assert_eq!(h.take_sent_lines(), ["ACK"], "the CANCEL was never sent");
    h.run_until_idle(Duration::from_secs(1));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn queued_cancel_is_dropped_when_the_invite_is_accepted() {
    let mut h = layer();
    let inv = start(&mut h);
    h.act(|l, now| l.send_cancel(now, &inv)).unwrap();
    h.peer(&invite_response(200, B, "b1"));
    assert_eq!(
        h.take_briefs(),
        [
            "Response 200 @ client INVITE z9hG4bKc1",
            "CancelDropped client INVITE z9hG4bKc1 @ client CANCEL z9hG4bKc1",
            "Terminated @ client CANCEL z9hG4bKc1"
        ]
    );
    assert!(h.take_sent().is_empty());
    h.run_until_idle(Duration::from_secs(40));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn queued_cancel_is_dropped_when_timer_b_fires() {
    let mut h = layer();
    let inv = start(&mut h);
    h.act(|l, now| l.send_cancel(now, &inv)).unwrap();
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(
        h.take_briefs(),
        [
            "Timeout B @ client INVITE z9hG4bKc1",
            "CancelDropped client INVITE z9hG4bKc1 @ client CANCEL z9hG4bKc1",
            "Terminated @ client CANCEL z9hG4bKc1",
            "Terminated @ client INVITE z9hG4bKc1"
        ]
    );
    assert_eq!(h.time_of("Timeout B"), Some(ms(32_000)));
    assert!(h.take_sent().is_empty());
    assert_eq!(h.core.len(), 0);
}

/// The 200 to the INVITE crosses the CANCEL: both finals go up, the TU must ACK and
/// BYE the call (§9.1).
#[test]
fn cancel_and_200_race() {
    let mut h = layer();
    let inv = start(&mut h);
    h.peer(&invite_response(180, B, "b1"));
    h.advance_to(ms(1000));
    let c = h.act(|l, now| l.send_cancel(now, &inv)).unwrap();
    assert_eq!(h.take_sent_lines(), ["CANCEL"]);
    h.advance_to(ms(1050));
    h.peer(&invite_response(200, B, "b1"));
    assert_eq!(h.core.state(&inv), Some(TsxState::Accepted));
    h.advance_to(ms(1100));
    h.peer(&cancel_response(481, B));
    assert_eq!(h.core.state(&c), Some(TsxState::Completed));
    assert!(
        h.take_sent().is_empty(),
        "no ACK for the 2xx from the layer"
    );
    // A CANCEL after the final is refused.
    assert_eq!(
        h.act(|l, now| l.send_cancel(now, &inv)),
        Err(TsxError::InvalidState {
            key: inv.clone(),
            state: TsxState::Accepted
        })
    );
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(
        h.take_briefs(),
        [
            "Response 180 @ client INVITE z9hG4bKc1",
            "Response 200 @ client INVITE z9hG4bKc1",
            "Response 481 @ client CANCEL z9hG4bKc1",
            "Terminated @ client CANCEL z9hG4bKc1",
            "Terminated @ client INVITE z9hG4bKc1"
        ]
    );
    assert_eq!(
        h.time_of("Terminated @ client INVITE"),
        Some(ms(33_050)),
        "Timer M"
    );
    assert_eq!(h.core.len(), 0);
}

/// §9.1: no final response within 64*T1 of the CANCEL: the INVITE is given up.
#[test]
fn invite_given_up_64_t1_after_the_cancel() {
    let mut h = layer();
    let inv = start(&mut h);
    h.advance_to(ms(1000));
    h.peer(&invite_response(180, B, "b1"));
    h.advance_to(ms(2000));
    h.act(|l, now| l.send_cancel(now, &inv)).unwrap();
    h.advance_to(ms(2100));
    h.peer(&cancel_response(200, B));
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(
        h.take_briefs(),
        [
            "Response 180 @ client INVITE z9hG4bKc1",
            "Response 200 @ client CANCEL z9hG4bKc1",
            "Terminated @ client CANCEL z9hG4bKc1",
            "Timeout B @ client INVITE z9hG4bKc1",
            "Terminated @ client INVITE z9hG4bKc1"
        ]
    );
    assert_eq!(h.time_of("Timeout B"), Some(ms(34_000)));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn send_cancel_errors() {
    let mut h = layer();
    assert_eq!(
        h.act(|l, now| l.send_cancel(now, &invite_key())),
        Err(TsxError::Unknown(invite_key()))
    );
    let opt = h
        .act(|l, now| {
            l.send_request(
                now,
                msg(&fill(
                    UAC_REQUEST,
                    &[("method", "OPTIONS"), ("branch", "z9hG4bKo")],
                )),
            )
        })
        .unwrap();
    assert_eq!(
        h.act(|l, now| l.send_cancel(now, &opt)),
        Err(TsxError::WrongKind(opt.clone()))
    );
    h.peer(&peer_request("INVITE", "z9hG4bKsrv", ""));
    let srv = TsxKey::Server {
        branch: "z9hG4bKsrv".into(),
        sent_by: "edge.b.example".into(),
        method: Method::Invite,
    };
    assert_eq!(h.core.state(&srv), Some(TsxState::Proceeding));
    assert_eq!(
        h.act(|l, now| l.send_cancel(now, &srv)),
        Err(TsxError::WrongKind(srv.clone()))
    );
    assert_eq!(h.take_sent_lines(), ["OPTIONS"]);
    let inv = start(&mut h);
    let c = h.act(|l, now| l.send_cancel(now, &inv)).unwrap();
    assert_eq!(
        h.act(|l, now| l.send_cancel(now, &inv)),
        Err(TsxError::Exists(c))
    );
    assert!(h.take_sent().is_empty(), "still queued");
}

// ----------------------------------------------------------------------------------
// Server side (§9.2).

fn srv_invite_key(branch: &str) -> TsxKey {
    TsxKey::Server {
        branch: branch.into(),
        sent_by: "edge.b.example".into(),
        method: Method::Invite,
    }
}

#[test]
fn cancel_matches_its_invite_server_transaction() {
    let mut h = layer();
    let inv_text = peer_request("INVITE", "z9hG4bKs1", "");
    h.peer(&inv_text);
    let inv = srv_invite_key("z9hG4bKs1");
    let req = h.core.request(&inv).cloned().unwrap();
    h.act(|l, now| l.respond(now, &inv, build_response(&req, 180, "Ringing", Some("a1"))))
        .unwrap();
    h.advance_to(ms(3000));
    let out = h.peer(&peer_request("CANCEL", "z9hG4bKs1", ""));
    let ck = TsxKey::Server {
        branch: "z9hG4bKs1".into(),
        sent_by: "edge.b.example".into(),
        method: Method::Cancel,
    };
    assert_eq!(
        out,
        [TsxOutcome::Request(Disposition::Cancel {
            key: ck.clone(),
            target: inv.clone()
        })]
    );
    let events = h.take_events();
    let cancel_req = match events.last() {
        Some(TsxEvent::Cancel {
            key,
            target,
            request,
        }) => {
            assert_eq!((key, target), (&ck, &inv));
            request.msg.clone()
        }
        other => panic!("{other:?}"),
    };
    // The TU answers the CANCEL 200 and the INVITE 487 (§9.2).
    h.act(|l, now| l.respond(now, &ck, build_response(&cancel_req, 200, "OK", Some("a1"))))
        .unwrap();
    h.act(|l, now| {
        l.respond(
            now,
            &inv,
            build_response(&req, 487, "Request Terminated", Some("a1")),
        )
    })
    .unwrap();
    assert_eq!(h.take_sent_lines(), ["180", "200", "487"]);
    // A retransmitted CANCEL gets its 200 again.
    assert_eq!(
        h.peer(&peer_request("CANCEL", "z9hG4bKs1", "")),
        [TsxOutcome::Request(Disposition::Retransmission(ck.clone()))]
    );
    assert_eq!(h.take_sent_lines(), ["200"]);
    assert_eq!(
        h.peer(&peer_request("ACK", "z9hG4bKs1", ";tag=a1")),
        [TsxOutcome::Request(Disposition::AckAbsorbed(inv.clone()))]
    );
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(
        h.take_briefs(),
        [
            // Timers J (CANCEL) and I (INVITE) both fire at 3000; ties go in key order.
            "Terminated @ server CANCEL z9hG4bKs1 from edge.b.example",
            "Terminated @ server INVITE z9hG4bKs1 from edge.b.example"
        ]
    );
    assert_eq!(h.core.len(), 0);
}

#[test]
fn cancel_matching_nothing_is_answered_481() {
    let mut h = layer();
    // An INVITE from another sent-by with the same branch is not the target.
    h.peer(&peer_request("INVITE", "z9hG4bKs2", "").replace("edge.b.example;", "other.example;"));
    h.take_events();
    let cancel = peer_request("CANCEL", "z9hG4bKs2", "");
    let out = h.peer(&cancel);
    let ck = TsxKey::Server {
        branch: "z9hG4bKs2".into(),
        sent_by: "edge.b.example".into(),
        method: Method::Cancel,
    };
    assert_eq!(
        out,
        [TsxOutcome::Request(Disposition::CancelUnmatched(
            ck.clone()
        ))]
    );
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    let r = &sent[0];
    assert_eq!(r.status(), Some(481));
    assert_eq!(
        header_values(r, "Via"),
        [
            "SIP/2.0/WSS edge.b.example;branch=z9hG4bKs2",
            "SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKdeep"
        ]
    );
    assert_eq!(header(r, "CSeq"), "7 CANCEL");
    assert_eq!(header(r, "Call-ID"), "call2@b.example");
    assert_eq!(header(r, "From"), "<sip:bob@b.example>;tag=btag");
    let to = header(r, "To");
    let tag = to.strip_prefix("<sip:alice@a.example>;tag=").unwrap();
    assert_eq!(tag.len(), 16, "{to}");
    // Retransmission: the same 481, the same tag.
    assert_eq!(
        h.peer(&cancel),
        [TsxOutcome::Request(Disposition::Retransmission(ck.clone()))]
    );
    assert_eq!(h.take_sent()[0].to_bytes(), r.to_bytes());
    assert!(h.take_briefs().is_empty(), "nothing for the TU");
    h.advance(Duration::from_millis(1));
    assert_eq!(
        h.take_briefs(),
        ["Terminated @ server CANCEL z9hG4bKs2 from edge.b.example"]
    );
    // The same CANCEL later: a new transaction, answered with the same tag (§8.2.7).
    h.peer(&cancel);
    assert_eq!(h.take_sent()[0].to_bytes(), r.to_bytes());
    // Another CANCEL gets another tag.
    h.peer(&peer_request("CANCEL", "z9hG4bKs3", ""));
    assert_ne!(header(&h.take_sent()[0], "To"), to);
    h.run_until_idle(Duration::from_secs(1));
    assert_eq!(h.core.len(), 1, "only the unanswered INVITE is left");
}

#[test]
fn rfc2543_cancel_matches_by_fallback() {
    let mut h = layer();
    let Some(TsxOutcome::Request(Disposition::New(inv))) =
        h.peer(&peer_request("INVITE", "9876", "")).pop()
    else {
        panic!("a new transaction")
    };
    let out = h.peer(&peer_request("CANCEL", "9876", ""));
    let Some(TsxOutcome::Request(Disposition::Cancel { key, target })) = out.first().cloned()
    else {
        panic!("{out:?}")
    };
    assert_eq!(target, inv);
    assert!(matches!(
        key,
        TsxKey::Rfc2543 {
            method: Method::Cancel,
            ..
        }
    ));
    // A CANCEL with another CSeq number does not match.
    let other = peer_request("CANCEL", "9876", "").replace("CSeq: 7 CANCEL", "CSeq: 8 CANCEL");
    assert!(matches!(
        h.peer(&other).as_slice(),
        [TsxOutcome::Request(Disposition::CancelUnmatched(_))]
    ));
    assert_eq!(h.take_sent_lines(), ["481"]);
}

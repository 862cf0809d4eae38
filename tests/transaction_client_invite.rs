//! INVITE client transactions (RFC 3261 §17.1.1, RFC 6026 §7.2) over a reliable
//! transport.

mod common;

use common::*;
use sipwasm::sip::message::Method;
use sipwasm::sip::transaction::{ResponseDisposition, TsxEvent, TsxKey, TsxState};
use std::time::Duration;

const B: &str = "z9hG4bKinv1";

fn invite_key() -> TsxKey {
    TsxKey::Client {
        branch: B.into(),
        method: Method::Invite,
    }
}

fn start(h: &mut Harness<sipwasm::sip::transaction::TransactionLayer>) -> TsxKey {
    let k = h
        .act(|l, now| l.send_request(now, msg(&fill(UAC_INVITE, &[("branch", B)]))))
        .unwrap();
    assert_eq!(k, invite_key());
    assert_eq!(h.take_sent_lines(), ["INVITE"]);
    k
}

#[test]
fn timer_b_fires_at_64_t1_in_calling() {
    let mut h = layer();
    h.advance_to(ms(250));
    let k = start(&mut h);
    assert_eq!(h.core.state(&k), Some(TsxState::Calling));
    assert_eq!(h.core.poll_timeout(), Some(ms(32_250)));
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(
        h.take_briefs(),
        [
            "Timeout B @ client INVITE z9hG4bKinv1",
            "Terminated @ client INVITE z9hG4bKinv1"
        ]
    );
    assert_eq!(h.time_of("Timeout B"), Some(ms(32_250)));
    assert!(h.take_sent().is_empty(), "no Timer A retransmission");
    assert_eq!(h.core.len(), 0);
}

#[test]
fn provisional_stops_timer_b() {
    let mut h = layer();
    let k = start(&mut h);
    h.advance_to(ms(100));
    h.peer(&invite_response(100, B, ""));
    h.advance_to(ms(300));
    h.peer(&invite_response(180, B, "b1"));
    h.peer(&invite_response(183, B, "b2"));
    assert_eq!(
        h.take_briefs(),
        [
            "Response 100 @ client INVITE z9hG4bKinv1",
            "Response 180 @ client INVITE z9hG4bKinv1",
            "Response 183 @ client INVITE z9hG4bKinv1"
        ]
    );
    assert_eq!(h.core.state(&k), Some(TsxState::Proceeding));
    assert_eq!(
        h.core.poll_timeout(),
        None,
        "Proceeding has no timer (§17.1.1.2)"
    );
    h.advance(Duration::from_secs(120));
    assert!(h.take_briefs().is_empty());
    assert_eq!(h.core.len(), 1);
    // It still completes normally.
    h.peer(&invite_response(603, B, "b1"));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    h.run_until_idle(Duration::from_secs(1));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn non_2xx_is_acked_by_the_transaction() {
    let mut h = layer();
    let k = start(&mut h);
    let invite = h.core.request(&k).cloned().unwrap();
    h.advance_to(ms(400));
    h.peer(&invite_response(180, B, "b1"));
    h.advance_to(ms(2000));
    h.peer(&invite_response(486, B, "b1"));
    assert_eq!(
        h.take_briefs(),
        [
            "Response 180 @ client INVITE z9hG4bKinv1",
            "Response 486 @ client INVITE z9hG4bKinv1"
        ]
    );
    assert_eq!(h.core.state(&k), Some(TsxState::Completed));
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    let ack = &sent[0];
    // §17.1.1.3, header by header.
    let text = String::from_utf8(ack.to_bytes()).unwrap();
    assert!(
        text.starts_with("ACK sip:bob@b.example SIP/2.0\r\n"),
        "{text}"
    );
    assert_eq!(
        header_values(ack, "Via"),
        ["SIP/2.0/WSS a1.invalid;branch=z9hG4bKinv1"]
    );
    assert_eq!(
        header_values(ack, "Route"),
        [
            "<sip:edge.b.example;transport=ws;lr>",
            "<sip:core.b.example;lr>"
        ]
    );
    assert_eq!(header_values(ack, "Route"), header_values(&invite, "Route"));
    assert_eq!(header(ack, "Max-Forwards"), "70");
    assert_eq!(
        header(ack, "From"),
        "\"Alice\" <sip:alice@a.example>;tag=atag"
    );
    assert_eq!(
        header(ack, "To"),
        "<sip:bob@b.example>;tag=b1",
        "To of the response"
    );
    assert_eq!(header(ack, "Call-ID"), "call1@a.example");
    assert_eq!(header(ack, "CSeq"), "101 ACK");
    assert_eq!(header(ack, "Content-Length"), "0");
    assert!(header_values(ack, "Contact").is_empty());
    assert!(ack.body.is_empty());
    // The ACK is a valid message.
    assert_eq!(msg(&text).to_bytes(), ack.to_bytes());

    // A retransmitted final before Timer D (zero) fires: ACK again, not passed up.
    let again = h.peer(&invite_response(486, B, "b1"));
    assert_eq!(
        again,
        [TsxOutcome::Response(ResponseDisposition::Matched(
            k.clone()
        ))]
    );
    let resent = h.take_sent();
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].to_bytes(), ack.to_bytes());
    assert!(h.take_briefs().is_empty());
    // A 2xx in Completed is not passed up.
    h.peer(&invite_response(200, B, "b9"));
    assert!(h.take_briefs().is_empty());
    assert!(h.take_sent().is_empty());

    assert_eq!(h.core.poll_timeout(), Some(ms(2000)), "Timer D = 0");
    h.run_until_idle(Duration::from_secs(1));
    assert_eq!(h.take_briefs(), ["Terminated @ client INVITE z9hG4bKinv1"]);
    assert_eq!(h.core.len(), 0);
    // Late copies are now stray; a non-2xx is dropped.
    let late = h.peer(&invite_response(486, B, "b1"));
    assert_eq!(late, [TsxOutcome::Response(ResponseDisposition::Dropped)]);
    assert!(h.take_sent().is_empty());
}

#[test]
fn ack_to_a_response_without_to_tag_uses_that_to() {
    let mut h = layer();
    start(&mut h);
    h.peer(&invite_response(503, B, ""));
    let sent = h.take_sent();
    assert_eq!(header(&sent[0], "To"), "<sip:bob@b.example>");
    assert_eq!(header(&sent[0], "CSeq"), "101 ACK");
    h.run_until_idle(Duration::from_secs(1));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn accepted_passes_every_2xx_up_until_timer_m() {
    let mut h = layer();
    let k = start(&mut h);
    h.advance_to(ms(100));
    h.peer(&invite_response(180, B, "b1"));
    h.advance_to(ms(1000));
    h.peer(&invite_response(200, B, "b1"));
    assert_eq!(h.core.state(&k), Some(TsxState::Accepted));
    assert_eq!(h.core.poll_timeout(), Some(ms(33_000)), "Timer M = 64*T1");
    // Retransmitted 2xx and a 2xx from another fork are passed up (RFC 6026 §7.2).
    h.advance_to(ms(1500));
    h.peer(&invite_response(200, B, "b1"));
    h.advance_to(ms(2500));
    h.peer(&invite_response(200, B, "b2"));
    // Provisional and non-2xx responses are not.
    h.peer(&invite_response(180, B, "b3"));
    h.peer(&invite_response(486, B, "b3"));
    let events = h.take_events();
    let tags: Vec<_> = events
        .iter()
        .map(|e| match e {
            TsxEvent::Response { response, .. } => (
                response.msg.status().unwrap(),
                response
                    .base
                    .to
                    .as_ref()
                    .and_then(|t| t.tag())
                    .unwrap()
                    .to_owned(),
            ),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        tags,
        [
            (180, "b1".into()),
            (200, "b1".into()),
            (200, "b1".into()),
            (200, "b2".into())
        ]
    );
    assert!(h.take_sent().is_empty(), "the ACK for a 2xx is the TU's");

    h.advance_to(ms(32_999));
    assert_eq!(h.core.len(), 1);
    h.peer(&invite_response(200, B, "b4"));
    h.advance_to(ms(33_000));
    assert_eq!(
        h.take_briefs(),
        [
            "Response 200 @ client INVITE z9hG4bKinv1",
            "Terminated @ client INVITE z9hG4bKinv1"
        ]
    );
    assert_eq!(h.time_of("Terminated"), Some(ms(33_000)));
    assert_eq!(h.core.len(), 0);
    // After Timer M a 2xx is stray: passed up so the UA can ACK and BYE it.
    let out = h.peer(&invite_response(200, B, "b5"));
    assert_eq!(out, [TsxOutcome::Response(ResponseDisposition::Stray2xx)]);
    assert_eq!(h.take_briefs(), ["Stray2xx 200"]);
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn direct_2xx_from_calling() {
    let mut h = layer();
    let k = start(&mut h);
    h.advance_to(ms(700));
    h.peer(&invite_response(200, B, "b1"));
    assert_eq!(h.core.state(&k), Some(TsxState::Accepted));
    assert_eq!(
        h.core.poll_timeout(),
        Some(ms(32_700)),
        "Timer B replaced by M"
    );
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(
        h.take_briefs(),
        [
            "Response 200 @ client INVITE z9hG4bKinv1",
            "Terminated @ client INVITE z9hG4bKinv1"
        ]
    );
    assert_eq!(h.time_of("Terminated"), Some(ms(32_700)));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn stray_non_invite_2xx_is_dropped() {
    let mut h = layer();
    let out = h.peer(&request_response(200, "z9hG4bKnone", "BYE"));
    assert_eq!(out, [TsxOutcome::Response(ResponseDisposition::Dropped)]);
    assert!(h.take_briefs().is_empty());
}

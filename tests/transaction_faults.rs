//! Link faults: lost, duplicated and reordered messages, a dropped socket
//! (RFC 3261 §17.1.4, §17.2.4), and hostile input that must not panic.

mod common;

use common::*;
use sipwasm::sip::message::Method;
use sipwasm::sip::transaction::{
    build_response, Disposition, ResponseDisposition, TransactionLayer, TsxError, TsxKey, TsxState,
};
use std::time::Duration;

type H = Harness<TransactionLayer>;

fn send(h: &mut H, text: &str) -> TsxKey {
    h.act(|l, now| l.send_request(now, msg(text))).unwrap()
}

#[test]
fn transport_error_ends_every_transaction() {
    let mut h = layer();
    let inv = send(&mut h, &fill(UAC_INVITE, &[("branch", "z9hG4bKa")]));
    h.peer(&invite_response(180, "z9hG4bKa", "b1"));
    let opt = send(
        &mut h,
        &fill(
            UAC_REQUEST,
            &[("method", "OPTIONS"), ("branch", "z9hG4bKb")],
        ),
    );
    h.peer(&peer_request("INVITE", "z9hG4bKc", ""));
    h.peer(&peer_request("MESSAGE", "z9hG4bKd", ""));
    let msg_key = TsxKey::Server {
        branch: "z9hG4bKd".into(),
        sent_by: "edge.b.example".into(),
        method: Method::Message,
    };
    h.advance_to(ms(7000));
    let req = h.core.request(&msg_key).cloned().unwrap();
    h.act(|l, now| l.respond(now, &msg_key, build_response(&req, 200, "OK", Some("t"))))
        .unwrap();
    assert_eq!(h.core.state(&msg_key), Some(TsxState::Completed));
    assert_eq!(h.core.len(), 4);
    h.take_events();
    h.take_sent();

    // The socket drops before Timer J (due now) fires.
    h.drop_socket();
    assert_eq!(
        h.take_briefs(),
        [
            "TransportError @ client INVITE z9hG4bKa",
            "Terminated @ client INVITE z9hG4bKa",
            "TransportError @ client OPTIONS z9hG4bKb",
            "Terminated @ client OPTIONS z9hG4bKb",
            "TransportError @ server INVITE z9hG4bKc from edge.b.example",
            "Terminated @ server INVITE z9hG4bKc from edge.b.example",
            "TransportError @ server MESSAGE z9hG4bKd from edge.b.example",
            "Terminated @ server MESSAGE z9hG4bKd from edge.b.example"
        ]
    );
    assert_eq!(h.core.len(), 0);
    assert_eq!(h.core.poll_timeout(), None);
    assert_eq!(
        h.act(|l, now| l.send_cancel(now, &inv)),
        Err(TsxError::Unknown(inv.clone()))
    );
    // Late responses for the dead transactions are dropped.
    assert_eq!(
        h.peer(&request_response(200, "z9hG4bKb", "OPTIONS")),
        [TsxOutcome::Response(ResponseDisposition::Dropped)]
    );
    assert_eq!(h.core.state(&opt), None);
    // The layer keeps working on the next connection.
    let again = send(
        &mut h,
        &fill(
            UAC_REQUEST,
            &[("method", "OPTIONS"), ("branch", "z9hG4bKb")],
        ),
    );
    assert_eq!(again, opt);
    assert_eq!(h.take_sent_lines(), ["OPTIONS"]);
    h.run_until_idle(Duration::from_secs(40));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn transport_error_discards_unsent_messages() {
    let mut layer = TransactionLayer::default();
    layer
        .send_request(ms(0), msg(&fill(UAC_INVITE, &[("branch", "z9hG4bKu")])))
        .unwrap();
    layer.handle_transport_error(ms(0));
    assert_eq!(layer.poll_transmit(), None);
    assert!(layer.poll_event().is_some());
    assert_eq!(layer.len(), 0);
}

#[test]
fn lost_final_response_ends_in_timer_f() {
    let mut h = layer();
    h.advance_to(ms(2000));
    send(
        &mut h,
        &fill(UAC_REQUEST, &[("method", "BYE"), ("branch", "z9hG4bKbye")]),
    );
    h.link.inject(Fault::Drop);
    assert!(h
        .peer(&request_response(200, "z9hG4bKbye", "BYE"))
        .is_empty());
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(
        h.take_briefs(),
        [
            "Timeout F @ client BYE z9hG4bKbye",
            "Terminated @ client BYE z9hG4bKbye"
        ]
    );
    assert_eq!(h.time_of("Timeout F"), Some(ms(34_000)));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn duplicated_responses_to_invite() {
    let mut h = layer();
    send(&mut h, &fill(UAC_INVITE, &[("branch", "z9hG4bKdup")]));
    h.take_sent();
    // Every provisional copy goes up (§17.1.1.2 passes each 1xx to the TU).
    h.link.inject(Fault::Duplicate);
    h.peer(&invite_response(180, "z9hG4bKdup", "b1"));
    // A duplicated non-2xx: passed up once, ACKed twice.
    h.link.inject(Fault::Duplicate);
    h.peer(&invite_response(404, "z9hG4bKdup", "b1"));
    assert_eq!(
        h.take_briefs(),
        [
            "Response 180 @ client INVITE z9hG4bKdup",
            "Response 180 @ client INVITE z9hG4bKdup",
            "Response 404 @ client INVITE z9hG4bKdup"
        ]
    );
    let acks = h.take_sent();
    assert_eq!(acks.len(), 2);
    assert_eq!(acks[0].to_bytes(), acks[1].to_bytes());
    assert_eq!(first_line(&acks[0]), "ACK");
    h.run_until_idle(Duration::from_secs(1));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn reordered_provisional_after_final_is_ignored() {
    let mut h = layer();
    let k = send(&mut h, &fill(UAC_INVITE, &[("branch", "z9hG4bKro")]));
    h.link.inject(Fault::Reorder);
    assert!(h.peer(&invite_response(180, "z9hG4bKro", "b1")).is_empty());
    let out = h.peer(&invite_response(200, "z9hG4bKro", "b1"));
    let m = TsxOutcome::Response(ResponseDisposition::Matched(k.clone()));
    assert_eq!(out, [m.clone(), m]);
    assert_eq!(h.take_briefs(), ["Response 200 @ client INVITE z9hG4bKro"]);
    assert_eq!(h.core.state(&k), Some(TsxState::Accepted));
    h.run_until_idle(Duration::from_secs(40));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn reordered_cancel_before_invite_is_answered_481() {
    let mut h = layer();
    h.link.inject(Fault::Reorder);
    assert!(h.peer(&peer_request("INVITE", "z9hG4bKx", "")).is_empty());
    let out = h.peer(&peer_request("CANCEL", "z9hG4bKx", ""));
    assert!(matches!(
        out.as_slice(),
        [
            TsxOutcome::Request(Disposition::CancelUnmatched(_)),
            TsxOutcome::Request(Disposition::New(_))
        ]
    ));
    assert_eq!(h.take_sent_lines(), ["481"]);
    assert_eq!(
        h.take_briefs(),
        ["Request INVITE @ server INVITE z9hG4bKx from edge.b.example"]
    );
}

#[test]
fn duplicated_request_is_passed_up_once() {
    let mut h = layer();
    h.link.inject(Fault::Duplicate);
    let out = h.peer(&peer_request("SUBSCRIBE", "z9hG4bKs", ""));
    let k = TsxKey::Server {
        branch: "z9hG4bKs".into(),
        sent_by: "edge.b.example".into(),
        method: Method::Subscribe,
    };
    assert_eq!(
        out,
        [
            TsxOutcome::Request(Disposition::New(k.clone())),
            TsxOutcome::Request(Disposition::Retransmission(k))
        ]
    );
    assert_eq!(
        h.take_briefs(),
        ["Request SUBSCRIBE @ server SUBSCRIBE z9hG4bKs from edge.b.example"]
    );
}

/// Odd but parseable messages: each one gets a definite outcome, none panics.
#[test]
fn hostile_input_is_dropped_as_values() {
    let mut h = layer();
    let inv = send(&mut h, &fill(UAC_INVITE, &[("branch", "z9hG4bKh")]));
    let dropped = [TsxOutcome::Response(ResponseDisposition::Dropped)];
    let ok = invite_response(200, "z9hG4bKh", "b1");
    let no_cseq = ok.replace("CSeq: 101 INVITE\n", "");
    assert_eq!(h.peer(&no_cseq), dropped);
    let no_via = ok.replace(
        "Via: SIP/2.0/WSS a1.invalid;branch=z9hG4bKh;received=192.0.2.1\n",
        "",
    );
    assert_eq!(h.peer(&no_via), dropped);
    let no_branch = ok.replace(";branch=z9hG4bKh", "");
    assert_eq!(h.peer(&no_branch), dropped);
    let ack_cseq = ok.replace("CSeq: 101 INVITE", "CSeq: 101 ACK");
    assert_eq!(h.peer(&ack_cseq), dropped);
    // No To header: still matched; the ACK falls back to the INVITE's To.
    let no_to = invite_response(500, "z9hG4bKh", "").replace("To: <sip:bob@b.example>\n", "");
    assert_eq!(
        h.peer(&no_to),
        [TsxOutcome::Response(ResponseDisposition::Matched(
            inv.clone()
        ))]
    );
    let ack = h.take_sent().pop().unwrap();
    assert_eq!(header(&ack, "To"), "<sip:bob@b.example>");
    // Requests without what a transaction needs.
    let no_cseq_req = peer_request("BYE", "z9hG4bKq", "").replace("CSeq: 7 BYE\n", "");
    assert!(matches!(
        h.peer(&no_cseq_req).as_slice(),
        [TsxOutcome::Request(Disposition::Invalid(_))]
    ));
    let no_from =
        peer_request("ACK", "z9hG4bKq", "").replace("From: <sip:bob@b.example>;tag=btag\n", "");
    assert!(matches!(
        h.peer(&no_from).as_slice(),
        [TsxOutcome::Request(Disposition::Invalid(_))]
    ));
    // An ACK and a CANCEL from an RFC 2543 peer with no branch at all.
    let ack_2543 = peer_request("ACK", "z", "").replace(";branch=z\n", "\n");
    assert_eq!(
        h.peer(&ack_2543),
        [TsxOutcome::Request(Disposition::AckToTu)]
    );
    let cancel_2543 = peer_request("CANCEL", "z", "").replace(";branch=z\n", "\n");
    assert!(matches!(
        h.peer(&cancel_2543).as_slice(),
        [TsxOutcome::Request(Disposition::CancelUnmatched(
            TsxKey::Rfc2543 { .. }
        ))]
    ));
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(h.core.len(), 0);
}

//! Non-INVITE client transactions (RFC 3261 §17.1.2) over a reliable transport.

mod common;

use common::*;
use sipwasm::sip::message::{HeaderName, Method};
use sipwasm::sip::transaction::{
    ResponseDisposition, TimerConfig, TransactionLayer, TsxError, TsxKey, TsxState,
};
use std::time::Duration;

fn options(branch: &str) -> String {
    fill(UAC_REQUEST, &[("method", "OPTIONS"), ("branch", branch)])
}

fn key(branch: &str, method: Method) -> TsxKey {
    TsxKey::Client {
        branch: branch.into(),
        method,
    }
}

#[test]
fn provisional_then_final_then_timer_k() {
    let mut h = layer();
    h.advance_to(ms(1000));
    let req = msg(&options("z9hG4bKo1"));
    let k = h.act(|l, now| l.send_request(now, req.clone())).unwrap();
    assert_eq!(k, key("z9hG4bKo1", Method::Options));
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to_bytes(), req.to_bytes());
    assert_eq!(h.core.state(&k), Some(TsxState::Trying));
    assert_eq!(h.core.poll_timeout(), Some(ms(33_000)), "Timer F = 64*T1");

    h.advance_to(ms(1200));
    h.peer(&request_response(100, "z9hG4bKo1", "OPTIONS"));
    assert_eq!(h.take_briefs(), ["Response 100 @ client OPTIONS z9hG4bKo1"]);
    assert_eq!(h.core.state(&k), Some(TsxState::Proceeding));

    h.advance_to(ms(1500));
    let out = h.peer(&request_response(200, "z9hG4bKo1", "OPTIONS"));
    assert_eq!(
        out,
        [TsxOutcome::Response(ResponseDisposition::Matched(
            k.clone()
        ))]
    );
    assert_eq!(h.take_briefs(), ["Response 200 @ client OPTIONS z9hG4bKo1"]);
    assert_eq!(h.core.state(&k), Some(TsxState::Completed));
    // Timer K is zero: due now, and the transaction goes at the next handle_timeout.
    assert_eq!(h.core.poll_timeout(), Some(ms(1500)));
    assert_eq!(h.core.len(), 1);
    h.run_until_idle(Duration::from_secs(60));
    assert_eq!(h.take_briefs(), ["Terminated @ client OPTIONS z9hG4bKo1"]);
    assert_eq!(h.time_of("Terminated"), Some(ms(1500)));
    assert_eq!(h.core.len(), 0);
    assert!(
        h.take_sent().is_empty(),
        "nothing is retransmitted over a reliable transport"
    );
}

#[test]
fn timer_f_fires_at_64_t1() {
    let mut h = layer();
    h.advance_to(ms(1000));
    h.act(|l, now| l.send_request(now, msg(&options("z9hG4bKf"))))
        .unwrap();
    h.advance_to(ms(32_999));
    assert!(h.take_briefs().is_empty());
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(
        h.take_briefs(),
        [
            "Timeout F @ client OPTIONS z9hG4bKf",
            "Terminated @ client OPTIONS z9hG4bKf"
        ]
    );
    assert_eq!(h.time_of("Timeout F"), Some(ms(33_000)));
    assert_eq!(
        h.take_sent_lines(),
        ["OPTIONS"],
        "no retransmission (no Timer E)"
    );
    assert_eq!(h.core.len(), 0);
}

#[test]
fn provisional_does_not_stop_timer_f() {
    let mut h = layer();
    h.act(|l, now| l.send_request(now, msg(&options("z9hG4bKp"))))
        .unwrap();
    h.advance_to(ms(10_000));
    h.peer(&request_response(180, "z9hG4bKp", "OPTIONS"));
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(h.time_of("Timeout F"), Some(ms(32_000)));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn timer_f_follows_t1() {
    let cfg = TimerConfig {
        t1: Duration::from_millis(100),
        ..TimerConfig::default()
    };
    let mut h = Harness::new(TransactionLayer::new(cfg));
    h.act(|l, now| l.send_request(now, msg(&options("z9hG4bKt1"))))
        .unwrap();
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(h.time_of("Timeout F"), Some(ms(6_400)));
}

#[test]
fn duplicated_final_is_absorbed() {
    let mut h = layer();
    let k = h
        .act(|l, now| l.send_request(now, msg(&options("z9hG4bKd"))))
        .unwrap();
    h.link.inject(Fault::Duplicate);
    let out = h.peer(&request_response(404, "z9hG4bKd", "OPTIONS"));
    let matched = TsxOutcome::Response(ResponseDisposition::Matched(k.clone()));
    assert_eq!(out, [matched.clone(), matched]);
    assert_eq!(h.take_briefs(), ["Response 404 @ client OPTIONS z9hG4bKd"]);
    h.run_until_idle(Duration::from_secs(1));
    // After Terminated, a late copy matches nothing and is dropped.
    let out = h.peer(&request_response(404, "z9hG4bKd", "OPTIONS"));
    assert_eq!(out, [TsxOutcome::Response(ResponseDisposition::Dropped)]);
    assert_eq!(h.take_briefs(), ["Terminated @ client OPTIONS z9hG4bKd"]);
    assert_eq!(h.core.len(), 0);
}

#[test]
fn response_matching_uses_branch_and_cseq_method() {
    let mut h = layer();
    let reg = fill(
        UAC_REQUEST,
        &[("method", "REGISTER"), ("branch", "z9hG4bKr")],
    );
    let k = h.act(|l, now| l.send_request(now, msg(&reg))).unwrap();
    let dropped = [TsxOutcome::Response(ResponseDisposition::Dropped)];
    // Same branch, other method (§17.1.3).
    assert_eq!(
        h.peer(&request_response(200, "z9hG4bKr", "OPTIONS")),
        dropped
    );
    // Other branch.
    assert_eq!(
        h.peer(&request_response(200, "z9hG4bKx", "REGISTER")),
        dropped
    );
    // Two Vias in a response (§8.1.3.3).
    let two_vias = request_response(200, "z9hG4bKr", "REGISTER").replace(
        "Via: SIP/2.0/WSS a1.invalid;branch=z9hG4bKr;received=192.0.2.1",
        "Via: SIP/2.0/WSS a1.invalid;branch=z9hG4bKr\nVia: SIP/2.0/WSS p.invalid;branch=z9hG4bKq",
    );
    assert_eq!(h.peer(&two_vias), dropped);
    assert!(h.take_briefs().is_empty());
    assert_eq!(h.core.state(&k), Some(TsxState::Trying));
    h.peer(&request_response(200, "z9hG4bKr", "REGISTER"));
    assert_eq!(h.take_briefs(), ["Response 200 @ client REGISTER z9hG4bKr"]);
    h.run_until_idle(Duration::from_secs(1));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn send_request_rejects_what_it_cannot_send() {
    let mut h = layer();
    let bad = |branch: &str| msg(&options(branch));
    assert_eq!(
        h.act(|l, now| l.send_request(now, bad("1234"))),
        Err(TsxError::InvalidBranch)
    );
    let no_via =
        msg(&options("z9hG4bKv").replace("Via: SIP/2.0/WSS a1.invalid;branch=z9hG4bKv\n", ""));
    assert_eq!(
        h.act(|l, now| l.send_request(now, no_via)),
        Err(TsxError::MissingHeader(HeaderName::Via))
    );
    let no_call_id = msg(&options("z9hG4bKc").replace("Call-ID: req1@a.example\n", ""));
    assert_eq!(
        h.act(|l, now| l.send_request(now, no_call_id)),
        Err(TsxError::MissingHeader(HeaderName::CallId))
    );
    let ack = msg(&fill(
        UAC_REQUEST,
        &[("method", "ACK"), ("branch", "z9hG4bKa")],
    ));
    assert_eq!(
        h.act(|l, now| l.send_request(now, ack)),
        Err(TsxError::InvalidMethod(Method::Ack))
    );
    let cancel = msg(&fill(
        UAC_REQUEST,
        &[("method", "CANCEL"), ("branch", "z9hG4bKa")],
    ));
    assert_eq!(
        h.act(|l, now| l.send_request(now, cancel)),
        Err(TsxError::InvalidMethod(Method::Cancel))
    );
    let response = msg(&request_response(200, "z9hG4bKa", "OPTIONS"));
    assert_eq!(
        h.act(|l, now| l.send_request(now, response)),
        Err(TsxError::NotARequest)
    );
    assert!(h.take_sent().is_empty());
    assert_eq!(h.core.len(), 0);

    let k = h
        .act(|l, now| l.send_request(now, bad("z9hG4bKdup")))
        .unwrap();
    assert_eq!(
        h.act(|l, now| l.send_request(now, bad("z9hG4bKdup"))),
        Err(TsxError::Exists(k))
    );
    assert_eq!(h.take_sent_lines(), ["OPTIONS"]);
    assert_eq!(h.core.len(), 1);
    h.run_until_idle(Duration::from_secs(40));
    assert_eq!(h.core.len(), 0);
}

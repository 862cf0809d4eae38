//! Requests to the UA outside calls (RFC 3261 §8.2, §11.2, §12.2.2), and malformed
//! requests answered statelessly. Calls are in `call_*.rs`.

mod common;

use common::call::registered;
use common::ua::*;
use common::*;
use sipwasm::sip::message::{Message, NameAddrHeader, TypedHeader};
use sipwasm::sip::ua::LogLevel;

/// The peer sends `text`; returns the one response the UA sent.
fn ask(h: &mut H, text: &str) -> Message {
    h.peer(text);
    h.one_sent()
}

fn status(m: &Message) -> u16 {
    m.status().unwrap()
}

#[test]
fn options_is_answered_with_capabilities() {
    let mut h = registered();
    let req = peer_request("OPTIONS", "z9hG4bKo1", "");
    let r = ask(&mut h, &req);
    assert_eq!(status(&r), 200);
    // §8.2.6.2: Vias, From, Call-ID, CSeq copied; To gets a tag.
    assert_eq!(
        header_values(&r, "Via"),
        [
            "SIP/2.0/WSS edge.b.example;branch=z9hG4bKo1",
            "SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKdeep"
        ]
    );
    assert_eq!(header(&r, "Call-ID"), "call2@b.example");
    assert_eq!(header(&r, "CSeq"), "7 OPTIONS");
    assert!(NameAddrHeader::parse(&header(&r, "To"))
        .unwrap()
        .tag()
        .is_some());
    // §11.2: Allow, Accept, Supported.
    let allow = header(&r, "Allow");
    for m in ["INVITE", "ACK", "CANCEL", "BYE", "OPTIONS"] {
        assert!(allow.contains(m), "{allow}");
    }
    assert_eq!(header(&r, "Accept"), "application/sdp");
    assert!(header(&r, "Supported").contains("outbound"));
    // A retransmission is absorbed by the server transaction, which resends its
    // response (RFC 3261 §17.2.2).
    let again = ask(&mut h, &req);
    assert_eq!(again, r);
}

#[test]
fn other_methods_get_their_answers() {
    let mut h = registered();
    let cases: [(&str, &str, u16); 8] = [
        ("REGISTER", "", 405),
        ("MESSAGE", "", 405),
        ("SUBSCRIBE", "", 405),
        ("FROBNICATE", "", 501),
        ("BYE", "", 481),
        ("NOTIFY", "", 481),
        ("INFO", ";tag=dlg1", 481),
        ("OPTIONS", ";tag=dlg1", 481),
    ];
    for (i, (method, totag, code)) in cases.into_iter().enumerate() {
        let r = ask(
            &mut h,
            &peer_request(method, &format!("z9hG4bKm{i}"), totag),
        );
        assert_eq!(status(&r), code, "{method}{totag}");
        if matches!(code, 405 | 501) {
            assert!(
                header(&r, "Allow").contains("INVITE"),
                "{method}: Allow on {code}"
            );
        }
    }
    // Nothing else happened to the registration.
    assert!(h.core.ua.is_registered());
    assert_eq!(
        h.outs().iter().filter(|o| !o.starts_with("Send")).count(),
        0
    );
}

#[test]
fn cancel_of_a_ringing_invite_gets_200_and_487() {
    let mut h = registered();
    h.peer(&peer_request("INVITE", "z9hG4bKinv", ""));
    let sent: Vec<u16> = h.take_sent().iter().map(status).collect();
    assert_eq!(sent, [100, 180]);
    let cancel = fill(
        PEER_REQUEST,
        &[
            ("method", "CANCEL"),
            ("branch", "z9hG4bKinv"),
            ("sentby", "edge.b.example"),
            ("cseq", "7 CANCEL"),
            ("totag", ""),
        ],
    );
    h.peer(&cancel);
    let sent = h.take_sent();
    assert_eq!(status(&sent[0]), 200);
    assert_eq!(header(&sent[0], "CSeq"), "7 CANCEL");
    assert_eq!(status(&sent[1]), 487);
    assert_eq!(header(&sent[1], "CSeq"), "7 INVITE");
}

#[test]
fn require_and_uri_scheme_checks() {
    let mut h = registered();
    let req = peer_request("OPTIONS", "z9hG4bKr1", "").replace(
        "Max-Forwards: 69",
        "Max-Forwards: 69\nRequire: 100rel, outbound",
    );
    let r = ask(&mut h, &req);
    assert_eq!(status(&r), 420);
    assert_eq!(header(&r, "Unsupported"), "100rel");
    let req = peer_request("OPTIONS", "z9hG4bKr2", "").replace(
        "OPTIONS sip:alice@a1.invalid;transport=ws",
        "OPTIONS tel:+15551234",
    );
    assert_eq!(status(&ask(&mut h, &req)), 416);
}

#[test]
fn malformed_requests_get_400_when_answerable() {
    let mut h = registered();
    // A broken Contact makes the whole message unparsable: salvaged, answered 400.
    let bad = wire(&peer_request("OPTIONS", "z9hG4bKb1", "").replace(
        "Content-Length: 0",
        "Contact: <sip:bob@b.example\nContent-Length: 0",
    ));
    h.raw(bad.as_bytes());
    let r = h.one_sent();
    assert_eq!(status(&r), 400);
    assert_eq!(header(&r, "CSeq"), "7 OPTIONS");
    assert_eq!(header_values(&r, "Via").len(), 2);
    assert!(header(&r, "Warning").starts_with("399 "));
    assert!(NameAddrHeader::parse(&header(&r, "To"))
        .unwrap()
        .tag()
        .is_some());

    // Parses, but a mandatory header is missing (§8.1.1): 400.
    let no_callid =
        wire(&peer_request("MESSAGE", "z9hG4bKb2", "").replace("Call-ID: call2@b.example\n", ""));
    h.raw(no_callid.as_bytes());
    let r = h.one_sent();
    assert_eq!(status(&r), 400);
    assert!(header(&r, "Warning").contains("Call-ID"));

    // An unsupported version: 505.
    let v3 = wire(&peer_request("OPTIONS", "z9hG4bKb3", "")).replacen("SIP/2.0", "SIP/3.0", 1);
    h.raw(v3.as_bytes());
    assert_eq!(status(&h.one_sent()), 505);

    // No Via, or an ACK: nothing can or may be answered; dropped with a warning.
    let no_via = wire(&peer_request("OPTIONS", "z9hG4bKb4", ""))
        .replace("Via: SIP/2.0/WSS edge.b.example;branch=z9hG4bKb4\r\n", "")
        .replace("Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKdeep\r\n", "");
    h.raw(no_via.as_bytes());
    let bad_ack =
        wire(&peer_request("ACK", "z9hG4bKb5", "").replace("Call-ID: call2@b.example\n", ""));
    h.raw(bad_ack.as_bytes());
    assert!(h.take_sent().is_empty());
    assert!(h.logs(LogLevel::Warn).len() >= 2);
    assert!(h.core.ua.is_registered() && h.core.ua.is_connected());
}

#[test]
fn stray_ack_and_unknown_responses_are_ignored() {
    let mut h = registered();
    h.peer(&peer_request("ACK", "z9hG4bKack", ""));
    let stray = fill(
        PEER_RESPONSE,
        &[
            ("code", "200"),
            ("branch", "z9hG4bKnotours"),
            ("cseq", "1 REGISTER"),
            ("to", "<sip:alice@example.com>;tag=x"),
        ],
    );
    h.peer(&stray);
    assert!(h.take_sent().is_empty());
    assert_eq!(h.outs(), Vec::<String>::new());
    assert!(h
        .logs(LogLevel::Warn)
        .iter()
        .any(|l| l.contains("no transaction")));
}

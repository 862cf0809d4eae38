//! Server transactions (RFC 3261 §17.2, RFC 6026 §7.1): retransmission absorption,
//! ACK matching, Timers H, I, J, L, and the RFC 2543 fallback of §17.2.3.

mod common;

use common::*;
use sipwasm::sip::message::{HeaderName, Message, Method};
use sipwasm::sip::transaction::{
    build_response, Disposition, TransactionLayer, TsxError, TsxEvent, TsxKey, TsxState,
};
use std::time::Duration;

type H = Harness<TransactionLayer>;

fn server_key(branch: &str, method: Method) -> TsxKey {
    TsxKey::Server {
        branch: branch.into(),
        sent_by: "edge.b.example".into(),
        method,
    }
}

/// The peer sends `text`; returns the disposition of its single delivery.
fn deliver(h: &mut H, text: &str) -> Disposition {
    match h.peer(text).as_slice() {
        [TsxOutcome::Request(d)] => d.clone(),
        other => panic!("unexpected outcomes {other:?}"),
    }
}

/// The TU answers `key` with `code`, To tag `tag`.
fn answer(h: &mut H, key: &TsxKey, code: u16, tag: Option<&str>) -> Message {
    let req = h.core.request(key).cloned().unwrap();
    let resp = build_response(&req, code, "Reason", tag);
    h.act(|l, now| l.respond(now, key, resp.clone())).unwrap();
    resp
}

#[test]
fn non_invite_retransmissions_get_the_last_response() {
    let mut h = layer();
    h.advance_to(ms(100));
    let req = peer_request("MESSAGE", "z9hG4bKm1", "");
    let k = server_key("z9hG4bKm1", Method::Message);
    assert_eq!(deliver(&mut h, &req), Disposition::New(k.clone()));
    assert_eq!(
        h.take_briefs(),
        ["Request MESSAGE @ server MESSAGE z9hG4bKm1 from edge.b.example"]
    );
    assert_eq!(h.core.state(&k), Some(TsxState::Trying));
    assert_eq!(
        h.core.poll_timeout(),
        None,
        "a server transaction waits for its TU"
    );

    // Trying: absorbed, nothing to resend.
    assert_eq!(
        deliver(&mut h, &req),
        Disposition::Retransmission(k.clone())
    );
    assert!(h.take_sent().is_empty());

    let r100 = answer(&mut h, &k, 100, None);
    assert_eq!(h.take_sent_lines(), ["100"]);
    assert_eq!(h.core.state(&k), Some(TsxState::Proceeding));
    assert_eq!(
        deliver(&mut h, &req),
        Disposition::Retransmission(k.clone())
    );
    assert_eq!(
        h.take_sent()
            .iter()
            .map(Message::to_bytes)
            .collect::<Vec<_>>(),
        [r100.to_bytes()]
    );

    let r202 = answer(&mut h, &k, 202, Some("me"));
    assert_eq!(h.take_sent_lines(), ["202"]);
    assert_eq!(h.core.state(&k), Some(TsxState::Completed));
    assert_eq!(
        deliver(&mut h, &req),
        Disposition::Retransmission(k.clone())
    );
    let resent = h.take_sent();
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].to_bytes(), r202.to_bytes());
    assert_eq!(header(&resent[0], "To"), "<sip:alice@a.example>;tag=me");
    assert!(
        h.take_briefs().is_empty(),
        "retransmissions are not passed up"
    );

    assert_eq!(h.core.poll_timeout(), Some(ms(100)), "Timer J = 0");
    h.run_until_idle(Duration::from_secs(1));
    assert_eq!(
        h.take_briefs(),
        ["Terminated @ server MESSAGE z9hG4bKm1 from edge.b.example"]
    );
    assert_eq!(h.core.len(), 0);
    assert_eq!(
        h.act(|l, now| l.respond(now, &k, r202.clone())),
        Err(TsxError::Unknown(k.clone()))
    );
}

#[test]
fn respond_errors_are_values() {
    let mut h = layer();
    let unknown = server_key("z9hG4bKnope", Method::Options);
    let any = msg(&request_response(200, "z9hG4bKnope", "OPTIONS"));
    assert_eq!(
        h.act(|l, now| l.respond(now, &unknown, any.clone())),
        Err(TsxError::Unknown(unknown.clone()))
    );
    let client = h
        .act(|l, now| {
            l.send_request(
                now,
                msg(&fill(
                    UAC_REQUEST,
                    &[("method", "OPTIONS"), ("branch", "z9hG4bKc")],
                )),
            )
        })
        .unwrap();
    assert_eq!(
        h.act(|l, now| l.respond(now, &client, any.clone())),
        Err(TsxError::WrongKind(client.clone()))
    );
    deliver(&mut h, &peer_request("INFO", "z9hG4bKi", ";tag=x"));
    let k = server_key("z9hG4bKi", Method::Info);
    let req = h.core.request(&k).cloned().unwrap();
    assert_eq!(
        h.act(|l, now| l.respond(now, &k, req.clone())),
        Err(TsxError::NotAResponse)
    );
    let bad = build_response(&req, 700, "Nope", None);
    assert_eq!(
        h.act(|l, now| l.respond(now, &k, bad)),
        Err(TsxError::InvalidStatus(700))
    );
    answer(&mut h, &k, 200, None);
    let late = build_response(&req, 180, "Late", None);
    assert_eq!(
        h.act(|l, now| l.respond(now, &k, late)),
        Err(TsxError::InvalidState {
            key: k.clone(),
            state: TsxState::Completed
        })
    );
    assert_eq!(h.take_sent_lines(), ["OPTIONS", "200"]);
    h.run_until_idle(Duration::from_secs(40));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn invite_non_2xx_ack_and_timer_i() {
    let mut h = layer();
    h.advance_to(ms(1000));
    let inv = peer_request("INVITE", "z9hG4bKi1", "");
    let k = server_key("z9hG4bKi1", Method::Invite);
    assert_eq!(deliver(&mut h, &inv), Disposition::New(k.clone()));
    assert_eq!(h.core.state(&k), Some(TsxState::Proceeding));
    // No provisional yet: a retransmission is absorbed silently.
    assert_eq!(
        deliver(&mut h, &inv),
        Disposition::Retransmission(k.clone())
    );
    assert!(h.take_sent().is_empty());
    let r180 = answer(&mut h, &k, 180, Some("a1"));
    assert_eq!(
        deliver(&mut h, &inv),
        Disposition::Retransmission(k.clone())
    );
    assert_eq!(
        h.take_sent()
            .iter()
            .map(Message::to_bytes)
            .collect::<Vec<_>>(),
        [r180.to_bytes(), r180.to_bytes()]
    );

    h.advance_to(ms(2000));
    let r486 = answer(&mut h, &k, 486, Some("a1"));
    assert_eq!(h.core.state(&k), Some(TsxState::Completed));
    assert_eq!(h.core.poll_timeout(), Some(ms(34_000)), "Timer H = 64*T1");
    assert_eq!(
        deliver(&mut h, &inv),
        Disposition::Retransmission(k.clone())
    );
    assert_eq!(
        h.take_sent()
            .iter()
            .map(Message::to_bytes)
            .collect::<Vec<_>>(),
        [r486.to_bytes(), r486.to_bytes()]
    );

    h.advance_to(ms(2100));
    let ack = peer_request("ACK", "z9hG4bKi1", ";tag=a1");
    assert_eq!(deliver(&mut h, &ack), Disposition::AckAbsorbed(k.clone()));
    assert_eq!(h.core.state(&k), Some(TsxState::Confirmed));
    assert_eq!(deliver(&mut h, &ack), Disposition::AckAbsorbed(k.clone()));
    assert_eq!(
        h.core.poll_timeout(),
        Some(ms(2100)),
        "Timer I = 0, Timer H stopped"
    );
    assert_eq!(
        h.take_briefs(),
        ["Request INVITE @ server INVITE z9hG4bKi1 from edge.b.example"],
        "the ACK for a non-2xx is not passed up"
    );
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(
        h.take_briefs(),
        ["Terminated @ server INVITE z9hG4bKi1 from edge.b.example"]
    );
    assert_eq!(h.time_of("Terminated"), Some(ms(2100)));
    assert!(h.take_sent().is_empty());
    assert_eq!(h.core.len(), 0);
}

#[test]
fn timer_h_fires_at_64_t1_without_ack() {
    let mut h = layer();
    h.advance_to(ms(5000));
    deliver(&mut h, &peer_request("INVITE", "z9hG4bKh", ""));
    let k = server_key("z9hG4bKh", Method::Invite);
    answer(&mut h, &k, 480, Some("t"));
    h.advance_to(ms(36_999));
    assert_eq!(h.core.len(), 1);
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(h.time_of("Timeout H"), Some(ms(37_000)));
    assert_eq!(
        h.take_briefs(),
        [
            "Request INVITE @ server INVITE z9hG4bKh from edge.b.example",
            "Timeout H @ server INVITE z9hG4bKh from edge.b.example",
            "Terminated @ server INVITE z9hG4bKh from edge.b.example"
        ]
    );
    assert_eq!(h.take_sent_lines(), ["480"], "no Timer G retransmission");
    assert_eq!(h.core.len(), 0);
}

#[test]
fn invite_2xx_accepted_until_timer_l() {
    let mut h = layer();
    let inv = peer_request("INVITE", "z9hG4bKa1", "");
    let k = server_key("z9hG4bKa1", Method::Invite);
    deliver(&mut h, &inv);
    h.advance_to(ms(3000));
    let ok = answer(&mut h, &k, 200, Some("a1"));
    assert_eq!(h.core.state(&k), Some(TsxState::Accepted));
    assert_eq!(h.core.poll_timeout(), Some(ms(35_000)), "Timer L = 64*T1");
    assert_eq!(h.take_sent_lines(), ["200"]);
    // INVITE retransmissions are absorbed without resending the 2xx (RFC 6026 §7.1).
    assert_eq!(
        deliver(&mut h, &inv),
        Disposition::Retransmission(k.clone())
    );
    assert!(h.take_sent().is_empty());
    // The TU retransmits its 2xx through the transaction.
    h.act(|l, now| l.respond(now, &k, ok.clone())).unwrap();
    assert_eq!(
        h.take_sent()
            .iter()
            .map(Message::to_bytes)
            .collect::<Vec<_>>(),
        [ok.to_bytes()]
    );
    let req = h.core.request(&k).cloned().unwrap();
    assert_eq!(
        h.act(|l, now| l.respond(now, &k, build_response(&req, 500, "No", Some("a1")))),
        Err(TsxError::InvalidState {
            key: k.clone(),
            state: TsxState::Accepted
        })
    );
    // The ACK for the 2xx has its own branch: not part of the transaction, goes up.
    let ack = peer_request("ACK", "z9hG4bKack2xx", ";tag=a1");
    assert_eq!(deliver(&mut h, &ack), Disposition::AckToTu);
    // An ACK reusing the INVITE's branch matches the Accepted transaction: also up.
    let ack_same = peer_request("ACK", "z9hG4bKa1", ";tag=a1");
    assert_eq!(deliver(&mut h, &ack_same), Disposition::AckToTu);
    let events = h.take_events();
    let acks: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            TsxEvent::Ack { key, request } => Some((
                key.clone(),
                request.base.vias[0].branch().unwrap().to_owned(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        acks,
        [
            (None, "z9hG4bKack2xx".to_owned()),
            (Some(k.clone()), "z9hG4bKa1".to_owned())
        ]
    );
    assert_eq!(
        h.core.state(&k),
        Some(TsxState::Accepted),
        "an ACK does not end Accepted"
    );
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(
        h.take_briefs(),
        ["Terminated @ server INVITE z9hG4bKa1 from edge.b.example"]
    );
    assert_eq!(h.time_of("Terminated"), Some(ms(35_000)));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn sent_by_is_part_of_the_key() {
    let mut h = layer();
    let a = peer_request("OPTIONS", "z9hG4bKsame", "");
    let b = a.replace(
        "Via: SIP/2.0/WSS edge.b.example;",
        "Via: SIP/2.0/WSS other.b.example:8443;",
    );
    assert_eq!(
        deliver(&mut h, &a),
        Disposition::New(server_key("z9hG4bKsame", Method::Options))
    );
    assert_eq!(
        deliver(&mut h, &b),
        Disposition::New(TsxKey::Server {
            branch: "z9hG4bKsame".into(),
            sent_by: "other.b.example:8443".into(),
            method: Method::Options
        })
    );
    // Host case does not matter.
    let c = a.replace("edge.b.example;", "EDGE.B.example;");
    assert_eq!(
        deliver(&mut h, &c),
        Disposition::Retransmission(server_key("z9hG4bKsame", Method::Options))
    );
    assert_eq!(h.core.len(), 2);
}

#[test]
fn malformed_requests_are_rejected_as_values() {
    let mut h = layer();
    let no_call_id =
        peer_request("OPTIONS", "z9hG4bKx", "").replace("Call-ID: call2@b.example\n", "");
    match deliver(&mut h, &no_call_id) {
        Disposition::Invalid(e) => {
            assert_eq!(e.status, 400);
            assert_eq!(e.header, Some(HeaderName::CallId));
        }
        other => panic!("{other:?}"),
    }
    let no_via = peer_request("OPTIONS", "z9hG4bKx", "")
        .replace("Via: SIP/2.0/WSS edge.b.example;branch=z9hG4bKx\n", "")
        .replace("Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKdeep\n", "");
    assert!(
        matches!(deliver(&mut h, &no_via), Disposition::Invalid(e) if e.header == Some(HeaderName::Via))
    );
    // A response given to handle_request.
    let resp = incoming(&request_response(200, "z9hG4bKx", "OPTIONS"));
    assert!(matches!(
        h.act(|l, now| l.handle_request(now, resp)),
        Disposition::Invalid(_)
    ));
    assert!(h.take_briefs().is_empty());
    assert!(h.take_sent().is_empty());
    assert_eq!(h.core.len(), 0);
}

/// RFC 2543 peers: no magic cookie, so §17.2.3's fallback matching applies.
#[test]
fn rfc2543_fallback_matching() {
    let mut h = layer();
    let inv = peer_request("INVITE", "1234", "");
    let k = match deliver(&mut h, &inv) {
        Disposition::New(k @ TsxKey::Rfc2543 { .. }) => k,
        other => panic!("{other:?}"),
    };
    assert_eq!(k.method(), &Method::Invite);
    assert_eq!(
        deliver(&mut h, &inv),
        Disposition::Retransmission(k.clone())
    );
    // A different CSeq, Request-URI, From tag or top Via is another request.
    let other_cseq = inv.replace("CSeq: 7 INVITE", "CSeq: 8 INVITE");
    let k2 = match deliver(&mut h, &other_cseq) {
        Disposition::New(k2) => k2,
        other => panic!("{other:?}"),
    };
    assert_ne!(k2, k);
    let other_uri = inv.replace(
        "INVITE sip:alice@a1.invalid;transport=ws",
        "INVITE sip:alice@a2.invalid",
    );
    let Disposition::New(k3) = deliver(&mut h, &other_uri) else {
        panic!("a new request")
    };
    let other_via = inv.replace("edge.b.example;branch=1234", "edge.b.example;branch=1235");
    let Disposition::New(k4) = deliver(&mut h, &other_via) else {
        panic!("a new request")
    };
    let no_branch = inv.replace("edge.b.example;branch=1234", "edge.b.example");
    let k5 = match deliver(&mut h, &no_branch) {
        Disposition::New(k5) => k5,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        deliver(&mut h, &no_branch),
        Disposition::Retransmission(k5.clone())
    );
    assert_eq!(h.core.len(), 5);

    answer(&mut h, &k, 404, Some("t404"));
    h.take_sent();
    // The retransmitted INVITE after the final gets the 404 again.
    assert_eq!(
        deliver(&mut h, &inv),
        Disposition::Retransmission(k.clone())
    );
    assert_eq!(h.take_sent_lines(), ["404"]);
    // An ACK whose To tag is not the response's matches nothing: it goes up.
    let wrong_tag = peer_request("ACK", "1234", ";tag=zzz");
    assert_eq!(deliver(&mut h, &wrong_tag), Disposition::AckToTu);
    // The ACK: same Request-URI, From tag, Call-ID, CSeq number, top Via, and the
    // To tag of the 404.
    let ack = peer_request("ACK", "1234", ";tag=t404");
    assert_eq!(deliver(&mut h, &ack), Disposition::AckAbsorbed(k.clone()));
    assert_eq!(h.core.state(&k), Some(TsxState::Confirmed));
    // Confirmed absorbs INVITE retransmissions without a response.
    assert_eq!(
        deliver(&mut h, &inv),
        Disposition::Retransmission(k.clone())
    );
    assert!(h.take_sent().is_empty());

    for key in [&k2, &k4, &k5] {
        answer(&mut h, key, 486, Some("busy"));
    }
    h.run_until_idle(Duration::from_secs(100));
    // An INVITE never answered waits for its TU: no timer ends it.
    assert_eq!(h.core.len(), 1);
    assert_eq!(h.core.state(&k3), Some(TsxState::Proceeding));
    answer(&mut h, &k3, 200, Some("ok"));
    h.run_until_idle(Duration::from_secs(100));
    assert_eq!(h.core.len(), 0);
}

#[test]
fn build_response_copies_what_8_2_6_2_says() {
    let req = msg(&peer_request("INVITE", "z9hG4bKr", "")
        .replace("Content-Length: 0", "Timestamp: 54.2\nContent-Length: 0"));
    let r = build_response(&req, 100, "Trying", Some("ignored-for-no"));
    assert_eq!(
        header_values(&r, "Via"),
        [
            "SIP/2.0/WSS edge.b.example;branch=z9hG4bKr",
            "SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKdeep"
        ]
    );
    assert_eq!(header(&r, "From"), "<sip:bob@b.example>;tag=btag");
    assert_eq!(header(&r, "To"), "<sip:alice@a.example>;tag=ignored-for-no");
    assert_eq!(header(&r, "Call-ID"), "call2@b.example");
    assert_eq!(header(&r, "CSeq"), "7 INVITE");
    assert_eq!(header(&r, "Timestamp"), "54.2");
    assert_eq!(header(&r, "Content-Length"), "0");
    let r = build_response(
        &msg(&peer_request("BYE", "z9hG4bKr", ";tag=old")),
        200,
        "OK",
        Some("new"),
    );
    assert_eq!(
        header(&r, "To"),
        "<sip:alice@a.example>;tag=old",
        "an existing tag is kept"
    );
    assert!(header_values(&r, "Timestamp").is_empty());
}

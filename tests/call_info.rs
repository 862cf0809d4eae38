//! SIP INFO in a call (RFC 6086): DTMF we send (`application/dtmf-relay`, one digit
//! per INFO, each after the previous final response), recording control (`Record:`),
//! delayed, lost and failed responses, and INFO from the peer (DTMF in its odd forms,
//! anything else for the app).

mod common;

use common::call::*;
use common::ua::*;
use common::*;
use sipwasm::sip::message::Message;
use sipwasm::sip::ua::{CallError, CallEvent, InfoKind};
use std::time::Duration;

fn dtmf(h: &mut H, id: &str, digits: &str, ms: u32) -> Result<(), CallError> {
    h.act(|d, now| d.cmd(|ua| ua.dtmf_info(now, id, digits, ms)))
}

fn record(h: &mut H, id: &str, on: bool) -> Result<(), CallError> {
    h.act(|d, now| d.cmd(|ua| ua.record_info(now, id, on)))
}

fn body(m: &Message) -> String {
    String::from_utf8_lossy(&m.body).into_owned()
}

/// The peer's INFO with `content_type` (None: no Content-Type) and `body` as bytes.
fn info_with(bob: &mut Peer, content_type: Option<&str>, body: &[u8], extra: &[&str]) -> Vec<u8> {
    let mut text = bob.request("INFO", extra, None);
    // Swap the empty body for ours.
    text = text.replace("Content-Length: 0\n", "");
    let mut wire = wire(&text).into_bytes();
    wire.truncate(wire.len() - 2);
    let mut head = String::new();
    if let Some(t) = content_type {
        head.push_str(&format!("Content-Type: {t}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    wire.extend_from_slice(head.as_bytes());
    wire.extend_from_slice(body);
    wire
}

/// The peer sends an INFO; returns what the app heard. The INFO must get one 200.
fn peer_info(h: &mut H, bob: &mut Peer, content_type: Option<&str>, body: &[u8]) -> Vec<String> {
    h.raw(&info_with(bob, content_type, body, &[]));
    let ok = h.one_sent();
    assert_eq!(ok.status(), Some(200), "{}", String::from_utf8_lossy(body));
    assert_eq!(header(&ok, "CSeq"), format!("{} INFO", bob.cseq));
    h.outs().into_iter().filter(|o| o != "Send 200").collect()
}

#[test]
fn dtmf_goes_one_info_per_digit_each_after_the_previous_answer() {
    let (mut h, bob, id) = inbound_call();
    dtmf(&mut h, &id, "1#", 160).unwrap();
    let first = h.one_sent();
    // §12.2.1.1: in the dialog, to the peer's Contact through the route set.
    assert_eq!(start_line(&first), "INFO sip:bob@192.0.2.9:5060 SIP/2.0");
    assert_eq!(header_values(&first, "Route").len(), 2);
    assert_eq!(header(&first, "Call-ID"), id);
    assert_eq!(tag_of(&header(&first, "From")), bob.our_tag);
    assert_eq!(tag_of(&header(&first, "To")), "bobtag");
    assert_eq!(header(&first, "Content-Type"), "application/dtmf-relay");
    assert_eq!(body(&first), "Signal=1\r\nDuration=160\r\n");
    assert_eq!(
        header(&first, "Content-Length"),
        "Signal=1\r\nDuration=160\r\n".len().to_string()
    );
    assert_eq!(h.outs(), ["Send INFO"]);
    // The second waits for the first's final response; a 100 does not count.
    h.advance(Duration::from_secs(2));
    h.peer(&reply(&first, 100, "", &[], None));
    assert!(h.take_sent().is_empty());
    assert!(h.outs().is_empty());
    h.peer(&reply(&first, 200, "", &[], None));
    let second = h.one_sent();
    assert_eq!(body(&second), "Signal=#\r\nDuration=160\r\n");
    assert_eq!(cseq_num(&second), cseq_num(&first) + 1);
    assert_eq!(h.outs(), ["InfoDone 1 160 200", "Send INFO"]);
    assert!(h.call_events().contains(&CallEvent::InfoDone {
        call_id: id.clone(),
        info: InfoKind::Dtmf {
            digit: '1',
            duration: 160
        },
        code: 200
    }));
    h.peer(&reply(&second, 200, "", &[], None));
    assert!(h.take_sent().is_empty());
    assert_eq!(h.outs(), ["InfoDone # 160 200"]);
    // A duplicated 200 is absorbed.
    h.peer(&reply(&second, 200, "", &[], None));
    assert!(h.outs().is_empty());
}

#[test]
fn digits_and_records_queue_behind_the_info_in_flight() {
    let (mut h, id, _inv, _callee) = outbound_call("1001", "callee");
    dtmf(&mut h, &id, "*", 100).unwrap();
    let a = h.one_sent();
    assert_eq!(
        start_line(&a),
        "INFO sip:bob@192.0.2.9:5060;transport=udp SIP/2.0"
    );
    dtmf(&mut h, &id, "AD", 250).unwrap();
    record(&mut h, &id, true).unwrap();
    assert!(h.take_sent().is_empty(), "one INFO at a time");
    h.outs();
    let mut got = Vec::new();
    let mut m = a;
    for _ in 0..3 {
        h.peer(&reply(&m, 200, "", &[], None));
        m = h.one_sent();
        got.push((
            header_values(&m, "Content-Type"),
            body(&m),
            header_values(&m, "Record"),
        ));
    }
    assert_eq!(
        got,
        [
            (
                vec!["application/dtmf-relay".to_owned()],
                "Signal=A\r\nDuration=250\r\n".to_owned(),
                vec![]
            ),
            (
                vec!["application/dtmf-relay".to_owned()],
                "Signal=D\r\nDuration=250\r\n".to_owned(),
                vec![]
            ),
            (vec![], String::new(), vec!["on".to_owned()]),
        ]
    );
    assert_eq!(header(&m, "Content-Length"), "0");
    h.peer(&reply(&m, 200, "", &[], None));
    assert_eq!(
        h.outs(),
        [
            "InfoDone * 100 200",
            "Send INFO",
            "InfoDone A 250 200",
            "Send INFO",
            "InfoDone D 250 200",
            "Send INFO",
            "InfoDone Record true 200"
        ]
    );
    record(&mut h, &id, false).unwrap();
    let off = h.one_sent();
    assert_eq!(header(&off, "Record"), "off");
    h.peer(&reply(&off, 403, "", &[], None));
    assert_eq!(h.outs(), ["Send INFO", "InfoDone Record false 403"]);
}

#[test]
fn invalid_digits_send_nothing() {
    let (mut h, mut bob, id) = inbound_call();
    for bad in ["", "12x", "a", "1 2", "E", "٣", "1\r\n"] {
        assert!(
            matches!(
                dtmf(&mut h, &id, bad, 100),
                Err(CallError::InvalidArgument(_))
            ),
            "{bad:?}"
        );
    }
    assert!(h.take_sent().is_empty());
    assert!(h.outs().is_empty());
    assert_eq!(dtmf(&mut h, "nosuch", "1", 100), Err(CallError::NotFound));
    assert_eq!(record(&mut h, "nosuch", true), Err(CallError::NotFound));
    // Not while ringing, nor after the end.
    let mut carol = Peer::caller("ringing@example.com", &h.contact_uri());
    let (rid, _) = h.ring(&mut carol);
    assert!(matches!(
        dtmf(&mut h, &rid, "1", 100),
        Err(CallError::InvalidState(_))
    ));
    assert!(matches!(
        record(&mut h, &rid, true),
        Err(CallError::InvalidState(_))
    ));
    h.peer(&bob.request("BYE", &[], None));
    assert_eq!(dtmf(&mut h, &id, "1", 100), Err(CallError::NotFound));
    h.take_sent();
    h.outs();
    // All sixteen digits are fine.
    let mut dave = Peer::caller("dave@example.com", &h.contact_uri());
    let did = inbound_up(&mut h, &mut dave, &[]);
    dtmf(&mut h, &did, "0123456789*#ABCD", 40).unwrap();
    let mut seen = String::new();
    for _ in 0..16 {
        let m = h.one_sent();
        seen.push_str(
            body(&m)
                .trim_start_matches("Signal=")
                .split('\r')
                .next()
                .unwrap(),
        );
        h.peer(&reply(&m, 200, "", &[], None));
    }
    assert_eq!(seen, "0123456789*#ABCD");
    assert!(h.take_sent().is_empty());
}

#[test]
fn a_refused_or_late_answer_goes_on_to_the_next_digit() {
    let (mut h, _, id) = inbound_call();
    dtmf(&mut h, &id, "123", 100).unwrap();
    let first = h.one_sent();
    h.outs();
    // A failure goes on to the next digit; the call stays.
    h.peer(&reply(&first, 415, "", &[], None));
    let second = h.one_sent();
    assert_eq!(body(&second), "Signal=2\r\nDuration=100\r\n");
    assert_eq!(h.outs(), ["InfoDone 1 100 415", "Send INFO"]);
    // Delayed: 100, then the 200 late but within Timer F.
    h.peer(&reply(&second, 100, "", &[], None));
    h.advance(Duration::from_secs(20));
    assert!(h.outs().is_empty());
    h.peer(&reply(&second, 200, "", &[], None));
    assert_eq!(h.take_sent_lines(), ["INFO"]);
    assert_eq!(h.outs(), ["InfoDone 2 100 200", "Send INFO"]);
    assert_eq!(h.core.ua.calls().collect::<Vec<_>>(), [id.as_str()]);
}

/// §12.2.1.2: "A UAC SHOULD also terminate a dialog if no response at all is received
/// for the request" (the same as for a 408).
#[test]
fn no_answer_to_an_info_ends_the_call() {
    let (mut h, _, id) = inbound_call();
    dtmf(&mut h, &id, "123", 100).unwrap();
    let first = h.one_sent();
    let t0 = h.now;
    h.outs();
    // The 200 is lost; over WebSocket nothing is retransmitted; Timer F (64·T1).
    h.link.inject(Fault::Drop);
    h.peer(&reply(&first, 200, "", &[], None));
    h.advance(Duration::from_millis(31_999));
    assert!(h.take_sent().is_empty());
    assert!(h.outs().is_empty());
    h.advance(Duration::from_millis(1));
    assert_eq!(h.take_sent_lines(), ["BYE"], "no more digits: a BYE");
    assert_eq!(
        h.outs(),
        ["Send BYE", "Media Close", "Ended Request Timeout System"]
    );
    assert_eq!(h.time_of("Ended"), Some(t0 + Duration::from_secs(32)));
    assert!(h.core.ua.calls().next().is_none());
    // The first's 200 arrives after all: no transaction, no event.
    h.peer(&reply(&first, 200, "", &[], None));
    assert!(h.take_sent().is_empty());
    assert!(h.outs().is_empty());
}

#[test]
fn a_408_to_an_info_ends_the_call() {
    let (mut h, _, id) = inbound_call();
    // a digit in flight and one queued: neither is reported, the call ends
    dtmf(&mut h, &id, "45", 100).unwrap();
    let first = h.one_sent();
    h.outs();
    h.peer(&reply(&first, 408, "", &[], None));
    assert_eq!(h.take_sent_lines(), ["BYE"]);
    assert_eq!(
        h.outs(),
        ["Send BYE", "Media Close", "Ended Request Timeout System"]
    );
    assert!(h.core.ua.calls().next().is_none());
}

#[test]
fn a_481_to_an_info_ends_the_call_and_drops_the_queue() {
    let (mut h, _, id) = inbound_call();
    dtmf(&mut h, &id, "12", 100).unwrap();
    let first = h.one_sent();
    h.outs();
    h.peer(&reply(&first, 481, "", &[], None));
    assert!(h.take_sent().is_empty(), "nothing more: the dialog is gone");
    assert_eq!(h.outs(), ["Media Close", "Ended Dialog Error Remote"]);
    h.advance(Duration::from_secs(40));
    assert!(h.take_sent().is_empty());
}

#[test]
fn a_407_to_an_info_is_answered_with_credentials() {
    let (mut h, _, id) = inbound_call();
    dtmf(&mut h, &id, "9", 100).unwrap();
    let first = h.one_sent();
    h.peer(&challenge_407(&first, "n1"));
    let again = h.one_sent();
    assert_eq!(first_line(&again), "INFO");
    assert_eq!(cseq_num(&again), cseq_num(&first) + 1);
    assert!(header(&again, "Proxy-Authorization").starts_with("Digest "));
    assert_eq!(again.body, first.body);
    h.outs();
    h.peer(&reply(&again, 200, "", &[], None));
    assert_eq!(h.outs(), ["InfoDone 9 100 200"]);
}

#[test]
fn the_call_ending_with_infos_queued_sends_no_more() {
    let (mut h, _, id) = inbound_call();
    dtmf(&mut h, &id, "123", 100).unwrap();
    let first = h.one_sent();
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id))).unwrap();
    assert_eq!(h.take_sent_lines(), ["BYE"]);
    h.outs();
    h.peer(&reply(&first, 200, "", &[], None));
    assert!(h.take_sent().is_empty());
    assert!(h.outs().is_empty());
}

#[test]
fn dtmf_from_the_peer_in_its_odd_forms() {
    let (mut h, mut bob, _id) = inbound_call();
    let relay = Some("application/dtmf-relay");
    for (ctype, body, want) in [
        (relay, &b"Signal=5\r\nDuration=160\r\n"[..], "Dtmf 5 160"),
        // LF only, spaces around `=`, lower-case keys, no final line end.
        (relay, b"signal = *\nduration = 100", "Dtmf * 100"),
        (relay, b"Duration=90\r\nSignal=#\r\n", "Dtmf # 90"),
        // RFC 4733 event codes for * and #.
        (relay, b"Signal=10\r\n", "Dtmf * 0"),
        (relay, b"Signal=11\r\nDuration=x\r\n", "Dtmf # 0"),
        (relay, b"Signal=a\r\nDuration=250\r\n", "Dtmf A 250"),
        // A duration that does not fit counts as none.
        (relay, b"Signal=7\r\nDuration=99999999999\r\n", "Dtmf 7 0"),
        (relay, b"Signal=7\r\nDuration=-5\r\n", "Dtmf 7 0"),
        (relay, b"Garbage\r\nSignal=3\r\n=\r\n==\r\n", "Dtmf 3 0"),
        (
            Some("Application/DTMF-Relay;charset=utf-8"),
            b"Signal=8\r\n",
            "Dtmf 8 0",
        ),
        (Some("application/dtmf"), b"6", "Dtmf 6 0"),
        (Some("application/dtmf"), b"  #  \r\n", "Dtmf # 0"),
        (Some("application/dtmf"), b"d", "Dtmf D 0"),
    ] {
        assert_eq!(peer_info(&mut h, &mut bob, ctype, body), [want], "{body:?}");
    }
    // Not a digit: the INFO goes to the app as it is.
    for (ctype, body) in [
        (relay, &b"Signal=12\r\n"[..]),
        (relay, b"Signal=E\r\n"),
        (relay, b"Signal=\r\n"),
        (relay, b""),
        (relay, b"\xff\xfe\x00Signal=1"),
        (Some("application/dtmf"), b"55"),
        (Some("application/dtmf"), b""),
    ] {
        let got = peer_info(&mut h, &mut bob, ctype, body);
        assert_eq!(got.len(), 1, "{body:?}");
        assert!(got[0].starts_with("Info "), "{body:?}: {got:?}");
    }
}

#[test]
fn other_info_goes_to_the_app() {
    let (mut h, mut bob, id) = inbound_call();
    h.raw(&info_with(
        &mut bob,
        Some("application/json"),
        b"{\"a\":1}",
        &["Record: on"],
    ));
    assert_eq!(h.one_sent().status(), Some(200));
    assert!(h.call_events().contains(&CallEvent::Info {
        call_id: id.clone(),
        content_type: "application/json".into(),
        body: "{\"a\":1}".into(),
        record: Some("on".into()),
    }));
    // No body, no Content-Type: a keep-alive style INFO.
    h.peer(&bob.request("INFO", &[], None));
    assert_eq!(h.one_sent().status(), Some(200));
    assert_eq!(
        h.call_events().last(),
        Some(&CallEvent::Info {
            call_id: id.clone(),
            content_type: String::new(),
            body: String::new(),
            record: None,
        })
    );
    // Recording control from the peer.
    h.peer(&bob.request("INFO", &["Record: off"], None));
    assert_eq!(h.one_sent().status(), Some(200));
    assert!(matches!(
        h.call_events().last(),
        Some(CallEvent::Info { record: Some(r), .. }) if r == "off"
    ));
    // An unparsable Content-Type is reported as written.
    h.outs();
    assert_eq!(
        peer_info(&mut h, &mut bob, Some("not a type"), b"x"),
        ["Info \"not a type\" \"x\" None"]
    );
    // Out of order (§12.2.2): 500, no event.
    h.outs();
    h.raw(&{
        let mut b = bob.clone();
        b.cseq = 50;
        info_with(&mut b, Some("application/dtmf"), b"1", &[])
    });
    assert_eq!(h.one_sent().status(), Some(500));
    assert!(h.outs().iter().all(|o| !o.starts_with("Dtmf")));
}

#[test]
fn a_retransmitted_info_is_answered_once() {
    let (mut h, mut bob, _id) = inbound_call();
    h.link.inject(Fault::Duplicate);
    let text = info_with(
        &mut bob,
        Some("application/dtmf-relay"),
        b"Signal=4\r\n",
        &[],
    );
    h.peer_incoming(match sipwasm::sip::message::parse_frame(&text).unwrap() {
        sipwasm::sip::message::Frame::Message(m) => m,
        _ => unreachable!(),
    });
    // The server transaction answers the retransmission with the same 200.
    assert_eq!(h.take_sent_lines(), ["200", "200"]);
    assert_eq!(
        h.outs()
            .into_iter()
            .filter(|o| o.starts_with("Dtmf"))
            .collect::<Vec<_>>(),
        ["Dtmf 4 0"]
    );
}

#[test]
fn no_event_after_the_end_when_an_info_then_times_out() {
    let (mut h, _, id) = inbound_call();
    dtmf(&mut h, &id, "12", 100).unwrap();
    h.take_sent();
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id))).unwrap();
    assert_eq!(
        h.outs(),
        [
            "Send INFO",
            "Send BYE",
            "Media Close",
            "Ended Terminated Local"
        ]
    );
    // Neither the INFO nor the BYE is answered: Timer F fires for both.
    h.advance(Duration::from_secs(40));
    assert_eq!(h.outs(), Vec::<String>::new(), "Ended is the last event");
    assert_eq!(h.take_sent_lines(), ["BYE"]);
}

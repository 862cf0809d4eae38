//! What the UA refuses (RFC 3261 §8.2) — checked with the RFC 4475 semantic torture
//! messages — and the call policies: maxCalls, disableCallWaiting, loops.

mod common;

use common::call::*;
use common::ua::*;
use common::*;
use sipwasm::sip::config::UaConfig;
use sipwasm::sip::message::Message;
use sipwasm::sip::ua::{CallError, MediaResult};

fn vector(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/vectors/rfc4475/{name}.dat",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Feeds an RFC 4475 message to a registered UA; returns what it sent.
fn feed(h: &mut H, name: &str) -> Vec<Message> {
    h.raw(&vector(name));
    h.take_sent()
}

fn status(m: &Message) -> u16 {
    m.status().unwrap_or(0)
}

#[test]
fn rfc4475_semantic_cases() {
    let mut h = registered();
    let one = |h: &mut H, name: &str| -> Message {
        let sent = feed(h, name);
        assert_eq!(sent.len(), 1, "{name}: {sent:#?}");
        sent.into_iter().next().unwrap()
    };
    // §3.3.x / §3.4.x: Request-URI schemes (§8.2.2.1).
    for name in ["unkscm", "novelsc"] {
        assert_eq!(status(&one(&mut h, name)), 416, "{name}");
    }
    // Unknown Require option tags: 420 listing them (§8.2.2.3); Proxy-Require is not
    // ours to check.
    let r = one(&mut h, "bext01");
    assert_eq!(status(&r), 420);
    assert_eq!(
        header(&r, "Unsupported"),
        "nothingSupportsThis, nothingSupportsThisEither"
    );
    // Unknown body type: 415 with Accept (§8.2.3).
    let r = one(&mut h, "invut");
    assert_eq!(status(&r), 415);
    assert_eq!(header(&r, "Accept"), "application/sdp");
    // Accept without SDP on an INVITE: 406.
    assert_eq!(status(&one(&mut h, "sdp01")), 406);
    // REGISTER at a UA: 405 with Allow (§8.2.1).
    for name in ["regaut01", "cparam01", "cparam02", "regescrt"] {
        let r = one(&mut h, name);
        assert_eq!(status(&r), 405, "{name}");
        assert!(header(&r, "Allow").contains("INVITE"), "{name}");
    }
    // Missing or repeated mandatory headers: 400.
    for name in ["insuf", "multi01", "mcl01"] {
        assert_eq!(status(&one(&mut h, name)), 400, "{name}");
    }
    // SIP/7.0: 505.
    assert_eq!(status(&one(&mut h, "badvers")), 505);
    // OPTIONS with Max-Forwards 0 addressed to us: answered normally.
    let r = one(&mut h, "zeromf");
    assert_eq!(status(&r), 200);
    assert!(header(&r, "Allow").contains("INVITE"));
    // A branch that is only the magic cookie: still a valid request.
    assert_eq!(status(&one(&mut h, "badbranch")), 200);
    assert_eq!(h.core.ua.calls().count(), 0, "none of these made a call");
    assert!(h.core.ua.is_registered());
    assert!(!h.outs().iter().any(|o| o.starts_with("NewSession")));
}

#[test]
fn rfc2543_invite_is_handled_as_a_call() {
    let mut h = registered();
    let sent = feed(&mut h, "inv2543");
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["100", "180"]
    );
    let id = "inv2543.1717@ift.client.example.com";
    assert_eq!(h.core.ua.calls().collect::<Vec<_>>(), [id]);
    assert!(h.outs().contains(
        &"NewSession Inbound sip:+13035551111@ift.client.example.net;user=phone".to_owned()
    ));
    let our_tag = tag_of(&header(&sent[1], "To"));
    h.act(|d, now| d.cmd(|ua| ua.answer(now, id))).unwrap();
    h.media(id, MediaResult::Sdp(LOCAL_SDP.into()));
    assert_eq!(h.take_sent_lines(), ["200"]);
    // Its ACK (no branch cookie, no From tag) confirms; its BYE is answered.
    let text = String::from_utf8(vector("inv2543")).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    let ack = head
        .replacen("INVITE sip:", "ACK sip:", 1)
        .replace("CSeq: 56 INVITE", "CSeq: 56 ACK")
        .replace("Content-Type: application/sdp\r\n", "")
        .replace(
            "To: sip:+16505552222@ss1.example.net;user=phone",
            &format!("To: sip:+16505552222@ss1.example.net;user=phone;tag={our_tag}"),
        )
        + "\r\nContent-Length: 0\r\n\r\n";
    h.outs();
    h.raw(ack.as_bytes());
    assert_eq!(h.outs(), ["Confirmed"]);
    let bye = ack
        .replacen("ACK sip:", "BYE sip:", 1)
        .replace("CSeq: 56 ACK", "CSeq: 57 BYE");
    h.raw(bye.as_bytes());
    assert_eq!(h.take_sent_lines(), ["200"]);
    assert!(h.outs().ends_with(&["Ended Terminated Remote".into()]));
}

#[test]
fn max_calls_refuses_a_third_invite_and_a_third_call() {
    let mut h = registered();
    let mut a = Peer::caller("a@example.com", &h.contact_uri());
    let mut b = Peer::caller("b@example.com", &h.contact_uri());
    let mut c = Peer::caller("c@example.com", &h.contact_uri());
    h.ring(&mut a);
    h.ring(&mut b);
    h.peer(&c.invite(Some(PEER_SDP), &[]));
    let r = h.one_sent();
    assert_eq!(status(&r), 486);
    assert_eq!(r.status(), Some(486));
    assert_eq!(h.core.ua.calls().count(), 2);
    assert_eq!(
        h.act(|d, now| d.cmd(|ua| ua.call(now, "1001", &[]))),
        Err(CallError::MaxCalls)
    );
    // One ends: room again.
    h.act(|d, now| d.cmd(|ua| ua.reject(now, "a@example.com", 486)))
        .unwrap();
    h.take_sent();
    let mut d = Peer::caller("d@example.com", &h.contact_uri());
    h.ring(&mut d);
}

#[test]
fn disable_call_waiting_refuses_a_second_call() {
    let mut h = registered_with(UaConfig {
        disable_call_waiting: true,
        ..config()
    });
    let mut a = Peer::caller("a@example.com", &h.contact_uri());
    let (id, _) = h.ring(&mut a);
    h.answer_with_sdp(&id);
    h.peer(&a.ack(100, None));
    h.outs();
    let mut b = Peer::caller("b@example.com", &h.contact_uri());
    h.peer(&b.invite(Some(PEER_SDP), &[]));
    assert_eq!(status(&h.one_sent()), 486);
    assert_eq!(h.outs(), ["Send 486"]);
}

#[test]
fn loops_and_requests_for_someone_else() {
    let mut h = registered();
    let mut a = Peer::caller("loop@example.com", &h.contact_uri());
    h.ring(&mut a);
    // The same Call-ID again from another branch: 482 (§8.2.2.2).
    let mut again = a.clone();
    again.invite_branch = "z9hG4bKother".into();
    again.tag = "othertag".into();
    h.peer(&again.invite(Some(PEER_SDP), &[]));
    assert_eq!(status(&h.one_sent()), 482);
    // Our own Contact host with another user: 404 (§8.2.2.1).
    let wrong = h.contact_uri().replacen("sip:", "sip:someoneelse", 1);
    let wrong = wrong.replacen("sip:someoneelse", "sip:x", 1);
    let user_end = wrong.find('@').unwrap();
    let wrong = format!("sip:nobody{}", &wrong[user_end..]);
    let mut c = Peer::caller("c@example.com", &wrong);
    h.peer(&c.invite(Some(PEER_SDP), &[]));
    assert_eq!(status(&h.one_sent()), 404);
    // Any user at the AOR domain is accepted (aliases, rewritten URIs).
    let mut d = Peer::caller("d@example.com", "sip:1001@example.com");
    h.peer(&d.invite(Some(PEER_SDP), &[]));
    assert_eq!(h.take_sent_lines(), ["100", "180"]);
    // tel: Request-URI: 416.
    let mut e = Peer::caller("e@example.com", "tel:+15550100");
    h.peer(&e.invite(Some(PEER_SDP), &[]));
    assert_eq!(status(&h.one_sent()), 416);
}

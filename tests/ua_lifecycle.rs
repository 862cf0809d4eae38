//! `disconnect` and `destroy`: un-REGISTER (RFC 3261 §10.2.2) then close; destroy
//! leaves nothing behind.

mod common;

use common::ua::*;
use common::*;
use sipwasm::sip::ua::Input;
use std::time::Duration;

const DISCONNECTED: &str = r#"Disconnected { code: 1000, reason: "disconnect" }"#;

#[test]
fn disconnect_unregisters_then_closes_and_start_resumes() {
    let mut h = ua();
    let reg = h.register_ok(600);
    h.outs();
    h.advance_to(ms(10_000));
    h.act(|d, now| d.cmd(|ua| ua.disconnect(now)));
    assert_eq!(h.outs(), ["Send REGISTER"]);
    let unreg = h.one_sent();
    assert_eq!(header(&unreg, "Call-ID"), header(&reg, "Call-ID"));
    assert_eq!(header(&unreg, "CSeq"), "2 REGISTER");
    assert_eq!(header(&unreg, "Expires"), "0");
    assert!(header(&unreg, "Contact").ends_with(";expires=0"));
    assert_eq!(
        contact_with_expires(&unreg, 1),
        contact_with_expires(&reg, 1),
        "same binding"
    );
    assert!(h.core.ua.is_registered(), "registered until the answer");
    h.peer(&ok_register(&unreg, 0));
    assert_eq!(
        h.outs(),
        [
            "Unregistered",
            "IsRegisteredChange(false)",
            "Close",
            DISCONNECTED
        ]
    );
    assert!(!h.core.ua.is_registered() && !h.core.ua.is_connected());
    assert_eq!(h.core.ua.poll_timeout(), None);
    h.advance(Duration::from_secs(3600));
    assert_eq!(h.outs(), Vec::<String>::new());

    // A late Closed of the socket we closed is ignored.
    h.closed(1000);
    assert_eq!(h.outs(), Vec::<String>::new());

    // start() runs it again, continuing the CSeq.
    h.start_and_connect();
    assert_eq!(
        h.outs(),
        [
            format!("Connect {EDGE1}"),
            "Connected".into(),
            "Send REGISTER".into()
        ]
    );
    assert_eq!(header(&h.one_sent(), "CSeq"), "3 REGISTER");
}

#[test]
fn disconnect_closes_after_the_bound_when_the_unregister_is_unanswered() {
    let mut h = ua();
    h.register_ok(600);
    h.outs();
    h.act(|d, now| d.cmd(|ua| ua.disconnect(now)));
    assert_eq!(h.outs(), ["Send REGISTER"]);
    h.advance_to(ms(2000 - 1));
    assert_eq!(h.outs(), Vec::<String>::new());
    h.advance_to(ms(2000));
    assert_eq!(
        h.outs(),
        [
            "Unregistered",
            "IsRegisteredChange(false)",
            "Close",
            DISCONNECTED
        ]
    );
    assert_eq!(h.core.ua.poll_timeout(), None);
}

#[test]
fn a_challenged_unregister_is_answered() {
    let mut h = ua();
    h.register_ok(600);
    h.act(|d, now| d.cmd(|ua| ua.disconnect(now)));
    let unreg = h.one_sent();
    h.outs();
    let www = r#"WWW-Authenticate: Digest realm="example.com", nonce="u1", qop="auth""#;
    h.peer(&response_to(&unreg, 401, "Unauthorized", &[www.into()]));
    assert_eq!(h.outs(), ["Send REGISTER"]);
    let unreg2 = h.one_sent();
    assert_eq!(header(&unreg2, "Expires"), "0");
    assert_eq!(header(&unreg2, "CSeq"), "3 REGISTER");
    assert!(header(&unreg2, "Authorization").starts_with("Digest "));
    h.peer(&ok_register(&unreg2, 0));
    assert_eq!(
        h.outs(),
        [
            "Unregistered",
            "IsRegisteredChange(false)",
            "Close",
            DISCONNECTED
        ]
    );
}

#[test]
fn the_socket_closing_during_the_unregister_ends_it() {
    let mut h = ua();
    h.register_ok(600);
    h.act(|d, now| d.cmd(|ua| ua.disconnect(now)));
    h.outs();
    h.closed(1006);
    assert_eq!(
        h.outs(),
        [
            "Unregistered",
            "IsRegisteredChange(false)",
            r#"Disconnected { code: 1006, reason: "gone" }"#
        ]
    );
    assert_eq!(h.core.ua.poll_timeout(), None);
}

#[test]
fn destroy_leaves_nothing_behind() {
    let mut h = ua();
    h.register_ok(600);
    h.outs();
    h.act(|d, now| d.cmd(|ua| ua.destroy(now)));
    assert_eq!(h.outs(), ["Send REGISTER"]);
    let unreg = h.one_sent();
    assert_eq!(header(&unreg, "Expires"), "0");
    // destroy() again while waiting changes nothing.
    h.act(|d, now| d.cmd(|ua| ua.destroy(now)));
    h.peer(&ok_register(&unreg, 0));
    assert_eq!(
        h.outs(),
        [
            "Unregistered",
            "IsRegisteredChange(false)",
            "Close",
            DISCONNECTED
        ]
    );
    assert_eq!(h.core.ua.poll_timeout(), None);
    h.take_briefs();

    // Nothing ever again: inputs, commands, time.
    h.act(|d, now| {
        d.input(now, Input::Connected);
        d.input(now, Input::Received(b"OPTIONS sip:x SIP/2.0\r\n\r\n"));
        d.input(now, Input::Timeout);
        d.input(
            now,
            Input::Closed {
                code: 1006,
                reason: String::new(),
            },
        );
        d.cmd(|ua| {
            ua.start(now);
            ua.disconnect(now);
            ua.destroy(now);
            ua.re_register(now, "a", "0123456789abcdef0123456789abcdef")
                .unwrap();
        });
    });
    h.advance(Duration::from_secs(3600));
    assert_eq!(h.take_briefs(), Vec::<String>::new());
    assert_eq!(h.core.ua.poll_timeout(), None);
    assert!(!h.core.ua.is_connected() && !h.core.ua.is_registered());
}

#[test]
fn destroy_while_connecting_closes_the_attempt() {
    let mut h = ua();
    h.act(|d, now| d.cmd(|ua| ua.start(now)));
    h.outs();
    h.act(|d, now| d.cmd(|ua| ua.destroy(now)));
    assert_eq!(h.outs(), ["Close", DISCONNECTED]);
    assert_eq!(h.core.ua.poll_timeout(), None);
    // The socket opening afterwards is ignored.
    h.connected();
    assert_eq!(h.take_briefs(), Vec::<String>::new());
}

#[test]
fn destroy_while_waiting_to_reconnect_or_before_start() {
    let mut h = ua();
    h.act(|d, now| d.cmd(|ua| ua.start(now)));
    h.closed(1006);
    h.outs();
    h.act(|d, now| d.cmd(|ua| ua.destroy(now)));
    assert_eq!(h.outs(), Vec::<String>::new(), "no socket to close");
    assert_eq!(h.core.ua.poll_timeout(), None);
    h.advance(Duration::from_secs(60));
    assert_eq!(h.outs(), Vec::<String>::new());

    let mut h = ua();
    h.act(|d, now| d.cmd(|ua| ua.disconnect(now)));
    h.act(|d, now| d.cmd(|ua| ua.destroy(now)));
    assert_eq!(h.take_briefs(), Vec::<String>::new());
    assert_eq!(h.core.ua.poll_timeout(), None);
}

#[test]
fn disconnect_while_registering_still_unregisters() {
    let mut h = ua();
    h.start_and_connect();
    let reg = h.one_sent();
    h.outs();
    h.act(|d, now| d.cmd(|ua| ua.disconnect(now)));
    let unreg = h.one_sent();
    assert_eq!(header(&unreg, "Expires"), "0");
    // The late 200 to the first REGISTER does not register us.
    h.peer(&ok_register(&reg, 600));
    assert!(!h.core.ua.is_registered());
    h.peer(&ok_register(&unreg, 0));
    assert_eq!(h.outs(), ["Send REGISTER", "Close", DISCONNECTED]);
}

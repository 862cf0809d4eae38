//! The WebSocket connection: drops, reconnect back-off with jitter, failover between
//! servers, connect timeouts, and re-registration after every reconnect.

mod common;

use common::ua::*;
use common::*;
use std::time::Duration;

/// Advances until the next `Connect`, asserting it comes `lo..=hi` ms after `from`;
/// returns its URL.
fn next_connect_within(h: &mut H, from: u64, lo: u64, hi: u64) -> String {
    h.advance_to(ms(from + lo - 1));
    assert_eq!(h.outs(), Vec::<String>::new(), "early connect");
    h.advance_to(ms(from + hi));
    let outs = h.outs();
    assert_eq!(outs.len(), 1, "{outs:?}");
    let url = outs[0].strip_prefix("Connect ").unwrap().to_owned();
    let at = h.time_of(&format!("Connect {url}"));
    assert!(at.is_some());
    url
}

#[test]
fn drop_reconnects_fails_over_and_re_registers() {
    let mut h = ua();
    let reg1 = h.register_ok(600);
    h.outs();
    h.advance_to(ms(100_000));
    h.closed(1006);
    assert_eq!(
        h.outs(),
        [
            r#"Disconnected { code: 1006, reason: "gone" }"#,
            "Unregistered",
            "IsRegisteredChange(false)"
        ]
    );
    assert!(!h.core.ua.is_registered() && !h.core.ua.is_connected());
    // The connection had been up for 100 s: first retry on the same server after
    // 0.5 s ± 25 %.
    assert_eq!(next_connect_within(&mut h, 100_000, 375, 625), EDGE1);
    // That attempt fails: fail over to the second server after 1 s ± 25 %.
    let t = h.now.as_millis();
    h.closed(1006);
    assert_eq!(h.outs(), [r#"Disconnected { code: 1006, reason: "gone" }"#]);
    assert_eq!(next_connect_within(&mut h, t, 750, 1250), EDGE2);
    h.connected();
    assert_eq!(h.outs(), ["Connected", "Send REGISTER"]);
    let reg2 = h.one_sent();
    assert_eq!(header(&reg2, "Call-ID"), header(&reg1, "Call-ID"));
    assert_eq!(header(&reg2, "CSeq"), "2 REGISTER");
    assert_eq!(header(&reg2, "Contact"), header(&reg1, "Contact"));
    h.peer(&ok_register(&reg2, 600));
    assert_eq!(h.outs(), ["Registered", "IsRegisteredChange(true)"]);
}

#[test]
fn connect_timeout_fails_over() {
    let mut h = ua();
    h.act(|d, now| d.cmd(|ua| ua.start(now)));
    assert_eq!(h.outs(), [format!("Connect {EDGE1}")]);
    h.advance_to(ms(10_000 - 1));
    assert_eq!(h.outs(), Vec::<String>::new());
    h.advance_to(ms(10_000));
    assert_eq!(
        h.outs(),
        [
            "Close",
            r#"Disconnected { code: 0, reason: "connect timeout" }"#
        ]
    );
    assert_eq!(next_connect_within(&mut h, 10_000, 375, 625), EDGE2);
    // A stale Closed for the abandoned socket is not mistaken for this attempt once
    // the new one has opened.
    h.connected();
    h.closed(1006);
    // (It is taken as a drop of the new connection: the shell must detach handlers
    // before closing, as documented.)
    assert!(!h.core.ua.is_connected());
}

#[test]
fn backoff_doubles_to_the_cap_alternating_servers() {
    let mut h = ua();
    h.act(|d, now| d.cmd(|ua| ua.start(now)));
    h.outs();
    let mut connects = 1;
    let mut urls = vec![EDGE1.to_owned()];
    // Attempt k fails at once; the wait before attempt k+1 is min(0.5 s · 2^(k-1),
    // 30 s) ± 25 %.
    for k in 1..=9u32 {
        let t = h.now.as_millis();
        h.closed(1006);
        assert_eq!(h.outs(), [r#"Disconnected { code: 1006, reason: "gone" }"#]);
        let base = (500u64 << (k - 1)).min(30_000);
        urls.push(next_connect_within(&mut h, t, base * 3 / 4, base * 5 / 4));
        connects += 1;
    }
    assert_eq!(connects, 10);
    for (i, u) in urls.iter().enumerate() {
        assert_eq!(u, if i % 2 == 0 { EDGE1 } else { EDGE2 }, "attempt {i}");
    }
    // A connection that stays up resets the back-off.
    h.connected();
    let reg = h.one_sent();
    h.peer(&ok_register(&reg, 600));
    h.advance(Duration::from_secs(60));
    h.outs();
    let t = h.now.as_millis();
    h.closed(1001);
    h.outs();
    assert_eq!(next_connect_within(&mut h, t, 375, 625), urls[9]);
}

#[test]
fn a_connection_that_dies_at_once_keeps_backing_off() {
    let mut h = ua();
    h.act(|d, now| d.cmd(|ua| ua.start(now)));
    h.outs();
    // Accepted, then closed within a second, three times: the back-off keeps growing
    // (0.5, 1, 2 s) and servers alternate, as for failed attempts.
    let mut urls = Vec::new();
    for k in 1..=3u32 {
        h.connected();
        h.advance(Duration::from_millis(300));
        let t = h.now.as_millis();
        h.closed(1006);
        h.take_sent();
        h.outs();
        let base = 500u64 << (k - 1);
        urls.push(next_connect_within(&mut h, t, base * 3 / 4, base * 5 / 4));
    }
    assert_eq!(urls, [EDGE2, EDGE1, EDGE2]);
}

#[test]
fn every_connect_is_matched_by_one_disconnected() {
    let mut h = ua();
    h.register_ok(600);
    for i in 0..20u64 {
        h.advance(Duration::from_millis(700 + i * 997 % 5000));
        if i % 3 == 0 {
            h.connected();
        } else {
            h.closed(1006);
        }
        h.advance(Duration::from_secs(40));
    }
    h.act(|d, now| d.cmd(|ua| ua.disconnect(now)));
    h.advance(Duration::from_secs(5));
    let briefs: Vec<String> = h
        .events
        .iter()
        .map(|(_, o)| UaDriver::describe(o))
        .collect();
    let connects = briefs.iter().filter(|b| b.starts_with("Connect ")).count();
    let disconnects = briefs
        .iter()
        .filter(|b| b.starts_with("Disconnected"))
        .count();
    assert_eq!(connects, disconnects, "{briefs:#?}");
    assert!(connects > 5);
    assert_eq!(h.core.ua.poll_timeout(), None);
}

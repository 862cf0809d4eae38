//! Keep-alive (RFC 5626 §4.4.1): CRLF pings, the 10 s pong rule once pongs are known
//! to work, OPTIONS probes for servers that never pong, Flow-Timer, and heartbeat.

mod common;

use common::ua::*;
use common::*;
use sipwasm::sip::message::Message;
use sipwasm::sip::ua::LogLevel;
use std::time::Duration;

fn ka_config(secs: u32) -> sipwasm::sip::config::UaConfig {
    let mut c = config();
    c.keepalive_interval_secs = secs;
    c
}

/// The registrar answers every REGISTER 200 and every OPTIONS 200; pings get a pong
/// when `pong`. Runs the clock to `until` in 100 ms steps, answering at once.
fn serve(h: &mut H, until: u64, pong: bool) {
    while h.now.as_millis() < until {
        h.advance(Duration::from_millis(100));
        answer(h, pong);
    }
}

fn answer(h: &mut H, pong: bool) {
    let pings = h.take_briefs().iter().filter(|b| *b == "Send ping").count();
    for m in h.take_sent() {
        match first_line(&m).as_str() {
            "REGISTER" => {
                h.peer(&ok_register(&m, 600));
            }
            "OPTIONS" => {
                h.peer(&response_to(&m, 200, "OK", &[]));
            }
            _ => {}
        }
    }
    if pong {
        for _ in 0..pings {
            h.raw(b"\r\n");
        }
    }
}

fn times_of(h: &H, brief: &str) -> Vec<u64> {
    h.events
        .iter()
        .filter(|(_, o)| UaDriver::describe(o) == brief)
        .map(|(t, _)| t.as_millis())
        .collect()
}

/// Gaps between consecutive pings fall in 80–100 % of `secs` (RFC 5626 §4.4.1).
fn assert_ping_gaps(h: &H, secs: u64) {
    let pings = times_of(h, "Send ping");
    assert!(pings.len() >= 3, "{pings:?}");
    let mut last = 0;
    for p in pings {
        let gap = p - last;
        assert!(
            (secs * 800..=secs * 1000).contains(&gap),
            "ping gap {gap} ms not in 80-100 % of {secs} s"
        );
        last = p;
    }
}

#[test]
fn answered_pings_keep_the_connection() {
    let mut h = ua_with(ka_config(30), 7);
    h.register_ok(600);
    serve(&mut h, 1_200_000, true);
    assert!(h.core.ua.is_connected() && h.core.ua.is_registered());
    assert!(times_of(&h, "Close").is_empty());
    assert_ping_gaps(&h, 30);
    // Pongs answered: no OPTIONS probes needed.
    assert!(!h.sent.iter().any(|(_, m)| first_line(m) == "OPTIONS"));
}

#[test]
fn pongs_stop_and_the_connection_is_closed_within_ten_seconds() {
    let mut h = ua_with(ka_config(30), 8);
    h.register_ok(600);
    serve(&mut h, 100_000, true);
    assert!(h.core.ua.is_connected());
    h.outs();
    // From now on the server is gone: nothing answers.
    let last_ping = *times_of(&h, "Send ping").last().unwrap();
    h.advance(Duration::from_secs(40));
    let ping = times_of(&h, "Send ping")
        .into_iter()
        .find(|&t| t > last_ping)
        .unwrap();
    let close = times_of(&h, "Close");
    assert_eq!(
        close[0],
        ping + 10_000,
        "closed 10 s after the unanswered ping"
    );
    let outs = h.outs();
    let i = outs.iter().position(|o| o == "Close").unwrap();
    assert_eq!(
        outs[i..i + 4],
        [
            "Close",
            r#"Disconnected { code: 0, reason: "keep-alive timeout" }"#,
            "Unregistered",
            "IsRegisteredChange(false)"
        ]
    );
    assert!(h.logs(LogLevel::Warn).iter().any(|l| l.contains("pong")));
}

#[test]
fn require_outbound_makes_pongs_mandatory_from_the_first_ping() {
    let mut h = ua_with(ka_config(30), 9);
    h.start_and_connect();
    let reg = h.one_sent();
    let ok = response_to(
        &reg,
        200,
        "OK",
        &[
            format!("Contact: {}", contact_with_expires(&reg, 600)),
            "Require: outbound".into(),
        ],
    );
    h.peer(&ok);
    h.advance(Duration::from_secs(45));
    let ping = times_of(&h, "Send ping")[0];
    assert!((24_000..=30_000).contains(&ping));
    assert_eq!(times_of(&h, "Close")[0], ping + 10_000);
}

#[test]
fn a_server_that_never_pongs_is_not_closed() {
    let mut h = ua_with(ka_config(30), 10);
    h.register_ok(600);
    serve(&mut h, 3_600_000, false);
    assert!(h.core.ua.is_connected() && h.core.ua.is_registered());
    assert!(times_of(&h, "Close").is_empty());
    // Silence is probed with OPTIONS, at most every other ping (a probe's answer
    // counts as traffic for the next tick).
    let probes = h
        .sent
        .iter()
        .filter(|(_, m)| first_line(m) == "OPTIONS")
        .count();
    let pings = times_of(&h, "Send ping").len();
    assert!(
        probes >= 1 && probes * 2 <= pings + 1,
        "{probes} probes, {pings} pings"
    );
    let probe: &Message = &h
        .sent
        .iter()
        .find(|(_, m)| first_line(m) == "OPTIONS")
        .unwrap()
        .1;
    assert_eq!(
        probe.to_string().lines().next(),
        Some("OPTIONS sip:example.com SIP/2.0")
    );
    assert_eq!(header(probe, "To"), "<sip:example.com>");
    assert_eq!(header(probe, "Max-Forwards"), "70");
}

#[test]
fn a_dead_server_that_never_pongs_is_found_by_the_probe() {
    let mut h = ua_with(ka_config(30), 11);
    h.register_ok(600);
    // Nothing answers from t = 0 on (the REGISTER 200 was the last frame).
    h.advance(Duration::from_secs(120));
    let close = times_of(&h, "Close");
    assert!(!close.is_empty(), "{:?}", h.take_briefs());
    // Bound: two intervals of silence to the probe, then Timer F (32 s).
    assert!(close[0] <= 2 * 30_000 + 32_000, "closed at {} ms", close[0]);
    let probe_at = h
        .sent
        .iter()
        .find(|(_, m)| first_line(m) == "OPTIONS")
        .unwrap()
        .0
        .as_millis();
    assert_eq!(close[0], probe_at + 32_000);
    assert!(h
        .take_briefs()
        .contains(&r#"Disconnected { code: 0, reason: "no response from server" }"#.to_owned()));
}

#[test]
fn flow_timer_shortens_the_interval() {
    let mut h = ua_with(ka_config(120), 12);
    h.start_and_connect();
    let reg = h.one_sent();
    let ok = response_to(
        &reg,
        200,
        "OK",
        &[
            format!("Contact: {}", contact_with_expires(&reg, 600)),
            "Flow-Timer: 20".into(),
        ],
    );
    h.peer(&ok);
    serve(&mut h, 200_000, true);
    assert_ping_gaps(&h, 20);
}

#[test]
fn heartbeat_frames_every_30_seconds_and_answers_are_ignored() {
    let mut cfg = config();
    cfg.heartbeat = true;
    let mut h = ua_with(cfg, 13);
    h.register_ok(600);
    h.outs();
    for _ in 0..4 {
        h.advance(Duration::from_secs(30));
        assert_eq!(h.outs(), ["Send heartbeat"]);
        h.raw(b"heartbeat");
        h.raw(b"pong");
        assert_eq!(h.outs(), Vec::<String>::new());
    }
    assert_eq!(
        times_of(&h, "Send heartbeat"),
        [30_000, 60_000, 90_000, 120_000]
    );
    assert!(
        h.logs(LogLevel::Warn).is_empty(),
        "{:?}",
        h.logs(LogLevel::Warn)
    );
    assert!(h.core.ua.is_connected());
}

#[test]
fn server_pings_are_answered_with_a_pong() {
    let mut h = ua();
    h.register_ok(600);
    h.outs();
    h.raw(b"\r\n\r\n");
    assert_eq!(h.outs(), ["Send pong"]);
}

#[test]
fn keepalive_off_sends_nothing() {
    let mut h = ua();
    h.register_ok(600);
    h.outs();
    h.advance(Duration::from_secs(500));
    assert_eq!(h.outs(), Vec::<String>::new());
    assert_eq!(h.core.ua.poll_timeout(), Some(ms(568_000)));
}

//! Registration failures: retries with back-off and jitter, the -204 give-up, Timer F
//! on a lost REGISTER (RFC 3261 §17.1.2.2), and what resets the retry budget.

mod common;

use common::ua::*;
use common::*;
use std::time::Duration;

const FAIL_503: &str = r#"RegistrationFailed { code: 503, cause: "SIP Failure Code" }"#;
const GIVE_UP: &str = r#"RegistrationFailed { code: -204, cause: "RE_REGISTRY_MAX_LIMIT_TIMES" }"#;

/// Waits for the next REGISTER, asserting it goes out `lo..=hi` ms after `from`.
fn next_register_within(h: &mut H, from: u64, lo: u64, hi: u64) -> sipwasm::sip::message::Message {
    h.advance_to(ms(from + lo - 1));
    assert!(h.take_sent().is_empty(), "REGISTER before {lo} ms");
    h.advance_to(ms(from + hi));
    let (at, m) = h.sent.last().cloned().unwrap();
    assert!(
        (from + lo..=from + hi).contains(&at.as_millis()),
        "REGISTER at {at:?}, wanted {}..={}",
        from + lo,
        from + hi
    );
    assert_eq!(h.one_sent(), m);
    m
}

#[test]
fn failures_back_off_with_jitter_then_give_up() {
    let mut cfg = config();
    cfg.re_register_times = 3;
    for seed in 1..=5 {
        let mut h = ua_with(cfg.clone(), seed);
        h.start_and_connect();
        let mut reg = h.one_sent();
        h.outs();
        // Retry n waits 2 s · 2^(n-1) ± 25 %: [1.5, 2.5], [3, 5], [6, 10].
        let windows = [(1500, 2500), (3000, 5000), (6000, 10_000)];
        let mut cseqs = vec![header(&reg, "CSeq")];
        for (lo, hi) in windows {
            h.peer(&response_to(&reg, 503, "Service Unavailable", &[]));
            assert_eq!(h.outs(), [FAIL_503]);
            let t = h.now.as_millis();
            reg = next_register_within(&mut h, t, lo, hi);
            h.outs();
            cseqs.push(header(&reg, "CSeq"));
        }
        // The 4th failure exceeds 3 retries: one more failure, then -204, then silence.
        h.peer(&response_to(&reg, 503, "Service Unavailable", &[]));
        assert_eq!(h.outs(), [FAIL_503, GIVE_UP]);
        h.advance(Duration::from_secs(24 * 3600));
        assert!(h.take_sent().is_empty());
        assert_eq!(h.outs(), Vec::<String>::new());
        assert_eq!(h.core.ua.poll_timeout(), None);
        assert_eq!(
            cseqs,
            ["1 REGISTER", "2 REGISTER", "3 REGISTER", "4 REGISTER"]
        );

        // A reconnect restores the budget and registers again.
        h.closed(1006);
        h.advance(Duration::from_secs(1));
        h.connected();
        let reg = h.one_sent();
        assert_eq!(header(&reg, "CSeq"), "5 REGISTER");
        h.peer(&ok_register(&reg, 600));
        assert!(h.core.ua.is_registered());
    }
}

#[test]
fn zero_retries_gives_up_at_the_first_failure_and_re_register_resumes() {
    let mut h = ua();
    h.act(|d, _| d.cmd(|ua| ua.set_re_register_times(0)));
    h.start_and_connect();
    let reg = h.one_sent();
    h.outs();
    h.peer(&response_to(&reg, 480, "Temporarily Unavailable", &[]));
    assert_eq!(
        h.outs(),
        [
            r#"RegistrationFailed { code: 480, cause: "Unavailable" }"#,
            GIVE_UP
        ]
    );
    h.advance(Duration::from_secs(600));
    assert!(h.take_sent().is_empty());
    let ha1 = "0123456789abcdef0123456789abcdef";
    h.act(|d, now| d.cmd(|ua| ua.re_register(now, "alice", ha1)))
        .unwrap();
    let reg = h.one_sent();
    assert_eq!(header(&reg, "CSeq"), "2 REGISTER");
}

#[test]
fn lost_register_times_out_and_is_retried_on_a_live_connection() {
    let mut h = ua();
    h.start_and_connect();
    let reg = h.one_sent();
    h.outs();
    // The 200 is lost on the way.
    h.link.inject(Fault::Drop);
    h.peer(&ok_register(&reg, 600));
    // The server shows it is alive: it sends us an OPTIONS at 10 s.
    h.advance_to(ms(10_000));
    h.peer(&peer_request("OPTIONS", "z9hG4bKsrv1", ""));
    assert_eq!(h.outs(), ["Send 200"]);
    h.take_sent();
    // Timer F (64·T1 = 32 s) ends the REGISTER: a 408 failure, retried on the same
    // connection after 2 s ± 25 %.
    h.advance_to(ms(32_000));
    assert_eq!(
        h.outs(),
        [r#"RegistrationFailed { code: 408, cause: "Request Timeout" }"#]
    );
    assert!(h.core.ua.is_connected());
    let retry = next_register_within(&mut h, 32_000, 1500, 2500);
    assert_eq!(header(&retry, "CSeq"), "2 REGISTER");
    assert_eq!(header(&retry, "Call-ID"), header(&reg, "Call-ID"));
    h.peer(&ok_register(&retry, 600));
    assert!(h.core.ua.is_registered());
}

#[test]
fn lost_register_on_a_silent_connection_means_a_dead_connection() {
    let mut h = ua();
    h.start_and_connect();
    let reg = h.one_sent();
    h.outs();
    // Nothing at all comes back for 32 s: the connection is dead.
    h.advance_to(ms(32_000));
    assert_eq!(
        h.outs(),
        [
            r#"RegistrationFailed { code: 408, cause: "Request Timeout" }"#,
            "Close",
            r#"Disconnected { code: 0, reason: "no response from server" }"#,
        ]
    );
    assert!(!h.core.ua.is_connected());
    // It had been up for 32 s: reconnect to the same server after 0.5 s ± 25 %.
    h.advance_to(ms(32_000 + 374));
    assert_eq!(h.outs(), Vec::<String>::new());
    h.advance_to(ms(32_000 + 625));
    assert_eq!(h.outs(), [format!("Connect {EDGE1}")]);
    h.connected();
    let again = h.one_sent();
    assert_eq!(header(&again, "CSeq"), "2 REGISTER");
    assert_eq!(header(&again, "Call-ID"), header(&reg, "Call-ID"));
}

//! Hostile input: garbage frames, truncated and oversized messages, responses for
//! unknown transactions, and a seeded random drive of every input. The UA must never
//! panic, everything it sends must parse, its timer must always make progress, and
//! it must keep working afterwards.

mod common;

use common::ua::*;
use common::*;
use sipwasm::sip::message::{parse_frame, Frame};
use sipwasm::sip::rng::Rng;
use sipwasm::sip::time::Instant;
use sipwasm::sip::ua::{Input, Output};
use std::time::Duration;

/// Every SIP message the UA sent parses, and nothing else than keep-alives and
/// heartbeats was sent as non-SIP.
fn check_outputs(h: &H) {
    for (_, o) in &h.events {
        if let Output::Send(t) = o {
            match parse_frame(t.as_bytes()) {
                Ok(Frame::Message(_)) => {}
                Ok(Frame::Ping | Frame::Pong) => {}
                Err(_) => assert_eq!(t, "heartbeat", "unparsable output {t:?}"),
            }
        }
    }
}

/// After feeding `Timeout` at `now`, the deadline moves past `now` within a few
/// rounds (no busy loop).
fn check_progress(h: &mut H) {
    for _ in 0..4 {
        match h.core.ua.poll_timeout() {
            Some(t) if t <= h.now => h.act(|d, now| d.input(now, Input::Timeout)),
            _ => return,
        }
    }
    panic!("deadline stuck at or before {:?}", h.now);
}

/// The UA still registers: answers whatever REGISTER is pending or comes next.
fn still_works(h: &mut H) {
    h.take_sent();
    // Force a fresh REGISTER through new credentials, which sends one at once when
    // connected.
    if !h.core.ua.is_connected() {
        for _ in 0..100 {
            if h.core.ua.is_connected() {
                break;
            }
            let next = h.core.ua.poll_timeout().unwrap_or(h.now);
            h.advance_to(next.max(h.now));
            if h.take_briefs().iter().any(|b| b.starts_with("Connect ")) {
                h.connected();
            }
        }
    }
    h.take_sent();
    h.act(|d, now| d.cmd(|ua| ua.re_register(now, "alice", "0123456789abcdef0123456789abcdef")))
        .unwrap();
    let reg = h
        .take_sent()
        .into_iter()
        .rev()
        .find(|m| first_line(m) == "REGISTER");
    let reg = reg.expect("a REGISTER after re_register");
    h.peer(&ok_register(&reg, 600));
    assert!(h.core.ua.is_registered(), "UA stopped working");
}

#[test]
fn garbage_frames_do_not_break_the_ua() {
    let mut h = ua();
    let reg = h.register_ok(600);
    let ok = wire(&ok_register(&reg, 600));
    let huge_text = "a".repeat(70_000);
    let mut huge_msg = wire(&peer_request("OPTIONS", "z9hG4bKhuge", ""));
    huge_msg.push_str(&"x".repeat(70_000));
    let mut huge_head = wire(&peer_request("MESSAGE", "z9hG4bKhh", ""));
    huge_head.insert_str(30, &format!("X-Big: {}\r\n", "b".repeat(80_000)));
    let frames: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\0\0\0\0".to_vec(),
        vec![0xff, 0xfe, 0xfd, 0x80, 0x0d, 0x0a],
        b"SIP/2.0".to_vec(),
        b"SIP/2.0 200".to_vec(),
        b"SIP/2.0 999 Nope\r\n\r\n".to_vec(),
        b"REGISTER".to_vec(),
        b"INVITE sip:a@b SIP/2.0".to_vec(),
        b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS h;branch=z9hG4bK1\r\nCSeq: 99999999999 INVITE\r\n\r\n".to_vec(),
        b"OPTIONS sip:a@b SIP/2.0\r\nnot a header\r\n\r\n".to_vec(),
        b"OPTIONS sip:a@b SIP/2.0\r\n: empty name\r\n\r\n".to_vec(),
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: \xff\xfe\r\n\r\n".to_vec(),
        b"\r\n\r\n\r\n\r\n\r\n".to_vec(),
        ok.as_bytes()[..ok.len() / 2].to_vec(),
        ok.as_bytes()[..ok.len() - 30].to_vec(),
        ok.replace("Content-Length: 0", "Content-Length: 50").into_bytes(),
        ok.replace("CSeq: 1 REGISTER", "CSeq: 1 INVITE").into_bytes(),
        ok.replace("z9hG4bK", "z9hG4bKX").into_bytes(),
        ok.replace("Via:", "Via: SIP/2.0/WSS extra.invalid;branch=z9hG4bKx\r\nVia:").into_bytes(),
        ok.replace("Contact: <", "Contact: <<").into_bytes(),
        huge_text.into_bytes(),
        huge_msg.into_bytes(),
        huge_head.into_bytes(),
        wire(&peer_request("OPTIONS", "z9hG4bKdup", "")).repeat(3).into_bytes(),
    ];
    for f in &frames {
        h.raw(f);
        check_progress(&mut h);
    }
    check_outputs(&h);
    assert!(h.core.ua.is_registered() && h.core.ua.is_connected());
    // The oversized request got 513; the three-in-one frame got its first answered.
    let codes: Vec<u16> = h.take_sent().iter().filter_map(|m| m.status()).collect();
    assert!(codes.contains(&513), "{codes:?}");
    still_works(&mut h);
}

/// Mutates `base`: flips, truncates, duplicates or splices bytes.
fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..=rng.below(4) {
        if v.is_empty() {
            break;
        }
        let i = rng.below(v.len() as u64) as usize;
        match rng.below(6) {
            0 => v[i] ^= 1 << rng.below(8),
            1 => v.truncate(i),
            2 => {
                let b = v[i];
                v.insert(i, b);
            }
            3 => {
                let specials = b"\r\n:;,<>\"\\ \0@=z9";
                v[i] = specials[rng.below(specials.len() as u64) as usize];
            }
            4 => {
                let end = (i + rng.below(40) as usize).min(v.len());
                let chunk = v[i..end].to_vec();
                let j = rng.below(v.len() as u64) as usize;
                v.splice(j..j, chunk);
            }
            _ => {
                v.remove(i);
            }
        }
    }
    v
}

#[test]
fn random_inputs_never_panic_and_the_ua_keeps_working() {
    for seed in 0..4u8 {
        let mut cfg = config();
        cfg.keepalive_interval_secs = 15;
        cfg.heartbeat = seed % 2 == 0;
        let mut h = ua_with(cfg, seed);
        let mut rng = Rng::from_seed([seed.wrapping_add(100); 32]);
        h.act(|d, now| d.cmd(|ua| ua.start(now)));
        h.connected();
        let mut last_sent: Option<sipwasm::sip::message::Message> = None;
        let corpus: Vec<Vec<u8>> = vec![
            wire(&peer_request("OPTIONS", "z9hG4bKf1", "")).into_bytes(),
            wire(&peer_request("INVITE", "z9hG4bKf2", "")).into_bytes(),
            wire(&peer_request("BYE", "z9hG4bKf3", ";tag=x")).into_bytes(),
            b"\r\n".to_vec(),
            b"\r\n\r\n".to_vec(),
        ];
        for i in 0..3000u32 {
            if let Some(m) = h.take_sent().into_iter().last() {
                last_sent = Some(m);
            }
            let frame = match rng.below(10) {
                0 => (0..rng.below(300)).map(|_| rng.below(256) as u8).collect(),
                1..=4 => match &last_sent {
                    // Responses to what the UA sent, mutated or intact.
                    Some(m) if m.is_request() => {
                        let code =
                            [100u16, 200, 401, 403, 407, 423, 480, 500, 503][rng.below(9) as usize];
                        let mut extra: Vec<String> = vec![
                            "Min-Expires: 900".into(),
                            r#"WWW-Authenticate: Digest realm="r", nonce="n", qop="auth""#.into(),
                            format!("Flow-Timer: {}", rng.below(200)),
                            "Require: outbound".into(),
                        ];
                        if first_line(m) == "REGISTER" {
                            let c = contact_with_expires(m, rng.below(4000) as u32);
                            extra.push(format!("Contact: {c}"));
                        }
                        let text = wire(&response_to(m, code, "X", &extra));
                        if rng.below(3) == 0 {
                            mutate(&mut rng, text.as_bytes())
                        } else {
                            text.into_bytes()
                        }
                    }
                    _ => corpus[rng.below(corpus.len() as u64) as usize].clone(),
                },
                _ => {
                    let base = &corpus[rng.below(corpus.len() as u64) as usize];
                    mutate(&mut rng, base)
                }
            };
            match rng.below(60) {
                0 => h.closed(1006),
                1 => h.connected(),
                2 => h.act(|d, _| d.cmd(|ua| ua.set_re_register_times(rng.below(4) as u32))),
                3 => h.advance(Duration::from_millis(rng.below(120_000))),
                5 | 6 => {
                    let ha1 = "0123456789abcdef0123456789abcdef";
                    h.act(|d, now| d.cmd(|ua| ua.re_register(now, "alice", ha1)))
                        .unwrap();
                }
                4 if i % 500 == 0 => {
                    h.act(|d, now| d.cmd(|ua| ua.disconnect(now)));
                    h.advance(Duration::from_secs(3));
                    h.act(|d, now| d.cmd(|ua| ua.start(now)));
                }
                _ => h.raw(&frame),
            }
            h.advance(Duration::from_millis(rng.below(3000)));
            // The shell's socket opens for most connection attempts.
            let connects = h
                .take_briefs()
                .iter()
                .filter(|b| b.starts_with("Connect "))
                .count();
            if connects > 0 {
                match rng.below(10) {
                    0 => h.closed(1006),
                    1 => {}
                    _ => h.connected(),
                }
            }
            check_progress(&mut h);
        }
        check_outputs(&h);
        let briefs: Vec<String> = h
            .events
            .iter()
            .map(|(_, o)| UaDriver::describe(o))
            .collect();
        let count = |p: &str| briefs.iter().filter(|b| b.starts_with(p)).count();
        // The drive reached the interesting states, not just the parser.
        assert!(
            count("Registered") >= 3,
            "seed {seed}: {} Registered",
            count("Registered")
        );
        assert!(count("Send REGISTER") >= 50 && count("RegistrationFailed") >= 20);
        assert!(count("Send 400") >= 20 && count("Connect ") >= 50);
        still_works(&mut h);
        // And it still shuts down cleanly.
        h.act(|d, now| d.cmd(|ua| ua.destroy(now)));
        h.advance(Duration::from_secs(5));
        assert_eq!(h.core.ua.poll_timeout(), None);
        assert!(h.now > Instant::ZERO);
    }
}

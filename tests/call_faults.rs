//! Calls over a faulty link: lost ACK, duplicated INVITE, BYE overtaking the ACK, the
//! socket dropping mid-call, stopping with calls up, late media results, and a storm
//! of mangled messages and API calls while calls are active.

mod common;

use common::call::*;
use common::ua::*;
use common::*;
use sipwasm::sip::ua::{MediaResult, Output, UaEvent};
use std::time::Duration;

fn caller(h: &H, id: &str) -> Peer {
    Peer::caller(id, &h.contact_uri())
}

#[test]
fn a_lost_ack_is_covered_by_the_2xx_retransmissions() {
    let mut h = registered();
    let mut bob = caller(&h, "f1@example.com");
    let (id, _) = h.ring(&mut bob);
    h.answer_with_sdp(&id);
    h.outs();
    h.link.inject(Fault::Drop);
    h.peer(&bob.ack(100, None));
    assert!(h.outs().is_empty(), "the ACK was lost");
    h.advance(Duration::from_millis(500));
    assert_eq!(h.take_sent_lines(), ["200"]);
    // The peer answers the retransmitted 2xx with its ACK again.
    h.peer(&bob.ack(100, None));
    assert_eq!(h.outs(), ["Send 200", "Confirmed"]);
    h.advance(Duration::from_secs(40));
    assert!(h.take_sent().is_empty());
}

#[test]
fn a_duplicated_invite_is_absorbed() {
    let mut h = registered();
    let mut bob = caller(&h, "f2@example.com");
    h.link.inject(Fault::Duplicate);
    h.peer(&bob.invite(Some(PEER_SDP), &[]));
    // The retransmission gets the last provisional again (§17.2.1), nothing else.
    assert_eq!(h.take_sent_lines(), ["100", "180", "180"]);
    let news = h
        .outs()
        .iter()
        .filter(|o| o.starts_with("NewSession"))
        .count();
    assert_eq!(news, 1);
    assert_eq!(h.core.ua.calls().count(), 1);
}

#[test]
fn a_bye_that_overtakes_the_ack() {
    let mut h = registered();
    let mut bob = caller(&h, "f3@example.com");
    let (id, _) = h.ring(&mut bob);
    h.answer_with_sdp(&id);
    h.outs();
    h.link.inject(Fault::Reorder);
    h.peer(&bob.ack(100, None));
    h.peer(&bob.request("BYE", &[], None));
    // The BYE arrives first: 200 and the end; the ACK after it changes nothing.
    assert_eq!(h.take_sent_lines(), ["200"]);
    assert_eq!(
        h.outs(),
        ["Send 200", "Media Close", "Ended Terminated Remote"]
    );
    h.advance(Duration::from_secs(40));
    assert!(
        h.take_sent().is_empty(),
        "no more 2xx retransmissions, no BYE"
    );
    assert_eq!(h.core.ua.calls().count(), 0);
}

#[test]
fn socket_drop_ends_every_call() {
    let mut h = registered();
    // One up (inbound), one ringing (inbound) ... with max_calls 2.
    let mut a = caller(&h, "up@example.com");
    let (up, _) = h.ring(&mut a);
    h.answer_with_sdp(&up);
    h.peer(&a.ack(100, None));
    let mut b = caller(&h, "ringing@example.com");
    h.ring(&mut b);
    h.outs();
    h.closed(1006);
    let outs = h.outs();
    for want in [
        "Ended Connection Error System",
        "Failed Connection Error 0 System",
    ] {
        assert!(outs.contains(&want.to_owned()), "{want} in {outs:?}");
    }
    assert_eq!(outs.iter().filter(|o| *o == "Media Close").count(), 2);
    assert_eq!(h.core.ua.calls().count(), 0);
    // A late answer for a dropped call is ignored; after reconnecting, calls work.
    h.media(&up, MediaResult::Sdp(LOCAL_SDP.into()));
    h.advance(Duration::from_secs(60));
    let connects = h.outs().iter().filter(|o| o.starts_with("Connect")).count();
    assert!(connects >= 1);
    h.connected();
    let reg = h.one_sent();
    h.peer(&ok_register(&reg, 600));
    let (_, inv) = h.place_call("1001");
    assert_eq!(
        header(&inv, "CSeq").split_whitespace().nth(1),
        Some("INVITE")
    );
}

#[test]
fn an_outbound_call_fails_when_the_socket_drops() {
    let (mut h, id, _inv) = placed_call("1001");
    h.closed(1006);
    assert!(h
        .outs()
        .contains(&"Failed Connection Error 0 System".to_owned()));
    assert!(h.core.ua.calls().next().is_none());
    h.media(&id, MediaResult::Applied);
    assert!(!h.outs().iter().any(|o| o.starts_with("Send")));
}

#[test]
fn disconnect_hangs_up_before_unregistering() {
    let mut h = registered();
    let mut a = caller(&h, "d1@example.com");
    let (id, _) = h.ring(&mut a);
    h.answer_with_sdp(&id);
    h.peer(&a.ack(100, None));
    let (_out, _) = h.place_call("1001");
    h.outs();
    h.act(|d, now| d.cmd(|ua| ua.disconnect(now)));
    let outs = h.outs();
    let bye = outs.iter().position(|o| o == "Send BYE").expect("BYE");
    let reg = outs
        .iter()
        .position(|o| o == "Send REGISTER")
        .expect("REGISTER");
    assert!(bye < reg, "{outs:?}");
    assert!(
        outs.contains(&"Failed Canceled 487 Local".to_owned()),
        "{outs:?}"
    );
    assert!(
        outs.contains(&"Ended Terminated Local".to_owned()),
        "{outs:?}"
    );
    assert_eq!(h.core.ua.calls().count(), 0);
}

#[test]
fn late_media_results_are_ignored() {
    let mut h = registered();
    let mut a = caller(&h, "late@example.com");
    let (id, _) = h.ring(&mut a);
    h.act(|d, now| d.cmd(|ua| ua.answer(now, &id))).unwrap();
    h.peer(&a.cancel());
    assert_eq!(h.take_sent_lines(), ["200", "487"]);
    h.outs();
    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
    h.media(&id, MediaResult::Failed("x".into()));
    h.media("never-existed", MediaResult::Applied);
    assert!(h.outs().is_empty());
}

/// xorshift64*: deterministic noise for the storm.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mangle(noise: &mut Noise, text: &str) -> Vec<u8> {
    let mut b = wire(text).into_bytes();
    match noise.below(6) {
        0 => {
            for _ in 0..1 + noise.below(4) {
                let i = noise.below(b.len());
                b[i] = noise.next() as u8;
            }
        }
        1 => {
            let n = noise.below(b.len());
            b.truncate(n);
        }
        2 => {
            // Duplicate a line.
            let s = String::from_utf8_lossy(&b).into_owned();
            let lines: Vec<&str> = s.split("\r\n").collect();
            let i = noise.below(lines.len());
            let mut out = lines.clone();
            out.insert(i, lines[i]);
            b = out.join("\r\n").into_bytes();
        }
        3 => {
            // Change the CSeq number or a tag.
            let s = String::from_utf8_lossy(&b).into_owned();
            b = s
                .replace("CSeq: 1", &format!("CSeq: {}", noise.below(1000)))
                .replace("tag=", if noise.below(2) == 0 { "tag=x" } else { "tag=" })
                .into_bytes();
        }
        4 => {
            // Drop a line.
            let s = String::from_utf8_lossy(&b).into_owned();
            let mut lines: Vec<&str> = s.split("\r\n").collect();
            let i = noise.below(lines.len());
            lines.remove(i);
            b = lines.join("\r\n").into_bytes();
        }
        _ => {}
    }
    b
}

#[test]
fn storm_of_mangled_messages_and_api_calls_with_calls_active() {
    let mut h = registered_with(sipwasm::sip::config::UaConfig {
        max_calls: 4,
        ..config()
    });
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let mut peers: Vec<Peer> = Vec::new();
    let mut invites = Vec::new();
    for i in 0..2 {
        let mut p = caller(&h, &format!("storm{i}@example.com"));
        let (id, _) = h.ring(&mut p);
        if i == 0 {
            h.answer_with_sdp(&id);
            h.peer(&p.ack(100, None));
        }
        peers.push(p);
    }
    let (_, inv) = h.place_call("1001");
    invites.push(inv);
    for round in 0..3000 {
        let pi = noise.below(peers.len());
        let p = &mut peers[pi];
        let text = match noise.below(10) {
            0 => p.request("BYE", &[], None),
            1 => p.request("INVITE", &[], Some(PEER_SDP2)),
            2 => p.request(
                "UPDATE",
                &[],
                if noise.below(2) == 0 {
                    Some(PEER_SDP)
                } else {
                    None
                },
            ),
            3 => p.ack(
                100 + noise.below(3) as u32,
                if noise.below(2) == 0 {
                    Some(PEER_SDP)
                } else {
                    None
                },
            ),
            4 => p.cancel(),
            5 => p.invite(Some(PEER_SDP), &["Supported: timer", "Session-Expires: 95"]),
            6 => {
                let inv = &invites[noise.below(invites.len())];
                let code = [100, 180, 183, 200, 401, 407, 422, 486, 491, 500][noise.below(10)];
                reply(
                    inv,
                    code,
                    "callee",
                    &CALLEE_DIALOG,
                    if noise.below(2) == 0 {
                        Some(PEER_SDP)
                    } else {
                        None
                    },
                )
            }
            7 => p.request("OPTIONS", &["Require: timer, foo"], None),
            _ => p.request("INFO", &[], None),
        };
        let bytes = if noise.below(3) == 0 {
            wire(&text).into_bytes()
        } else {
            mangle(&mut noise, &text)
        };
        h.raw(&bytes);
        // Interleave API calls and media results for live and dead calls.
        let ids: Vec<String> = h.core.ua.calls().map(str::to_owned).collect();
        let pick = |n: &mut Noise| {
            ids.get(n.below(ids.len() + 1))
                .cloned()
                .unwrap_or_else(|| "zz".into())
        };
        match noise.below(12) {
            0 => {
                let id = pick(&mut noise);
                let _ = h.act(|d, now| d.cmd(|ua| ua.answer(now, &id)));
            }
            1 => {
                let id = pick(&mut noise);
                let r = [
                    MediaResult::Sdp(LOCAL_SDP.into()),
                    MediaResult::Applied,
                    MediaResult::Failed(String::new()),
                ][noise.below(3)]
                .clone();
                h.media(&id, r);
            }
            2 if noise.below(4) == 0 => {
                let id = pick(&mut noise);
                let _ = h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id)));
            }
            3 if h.core.ua.calls().count() < 2 => {
                if let Ok(id) = h.act(|d, now| d.cmd(|ua| ua.call(now, "2002", &[]))) {
                    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
                    if let Some(m) = h
                        .take_sent()
                        .into_iter()
                        .rev()
                        .find(|m| first_line(m) == "INVITE")
                    {
                        invites.push(m);
                    }
                }
            }
            4 => h.advance(Duration::from_millis(noise.below(3000) as u64)),
            _ => {}
        }
        assert!(h.core.ua.calls().count() <= 4, "round {round}");
    }
    // Still a working phone: time passes, everything settles, a new call rings.
    h.advance(Duration::from_secs(120));
    h.take_sent();
    let ids: Vec<String> = h.core.ua.calls().map(str::to_owned).collect();
    for id in ids {
        let _ = h.act(|d, now| d.cmd(|ua| ua.terminate(now, &id, "terminate")));
    }
    h.advance(Duration::from_secs(120));
    assert_eq!(h.core.ua.calls().count(), 0);
    h.take_sent();
    let mut fresh = caller(&h, "after-the-storm@example.com");
    h.ring(&mut fresh);
    assert!(h.core.ua.is_registered());
    // Every call that started also ended, exactly once, each after one media Close.
    let mut started = std::collections::BTreeMap::new();
    for (_, o) in &h.events {
        let Output::Event(UaEvent::Call(e)) = o else {
            continue;
        };
        let id = match e {
            sipwasm::sip::ua::CallEvent::NewSession { call_id, .. }
            | sipwasm::sip::ua::CallEvent::Ended { call_id, .. }
            | sipwasm::sip::ua::CallEvent::Failed { call_id, .. } => call_id.clone(),
            _ => continue,
        };
        let entry = started.entry(id).or_insert((0, 0));
        if describe_call(e).starts_with("NewSession") {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    for (id, (new, end)) in &started {
        if id == "after-the-storm@example.com" {
            assert_eq!((*new, *end), (1, 0));
        } else {
            assert_eq!(*new, *end, "{id}: {new} starts, {end} ends");
        }
    }
}

//! Hold, unhold and renegotiation by re-INVITE (RFC 3261 §14, RFC 3264 §8.4): our
//! re-offers and their outcomes (2xx, 488 with rollback, 491 glare and the §14.1
//! retry, Timer B, 408/481), the peer's hold and unhold (sendonly, inactive,
//! c=0.0.0.0), hold while the peer holds us (inactive), the Video event.

mod common;

use common::call::*;
use common::ua::*;
use common::*;
use sipwasm::sip::message::Message;
use sipwasm::sip::ua::{CallError, CallEvent, Hold, MediaRequest, MediaResult, Reoffer};
use std::time::Duration;

/// Our hold offer (what the browser makes for `sendonly`).
const LOCAL_HOLD_SDP: &str = "v=0\r\no=alice 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n";
/// Our offer when both sides hold.
const LOCAL_INACTIVE_SDP: &str = "v=0\r\no=alice 1 3 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=inactive\r\n";
/// Our unhold offer.
const LOCAL_UNHOLD_SDP: &str = "v=0\r\no=alice 1 4 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n";
/// Our offer with video.
const LOCAL_VIDEO_SDP: &str = "v=0\r\no=alice 1 5 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendrecv\r\n";

/// The peer's answer to a hold.
const PEER_RECVONLY: &str =
    "v=0\no=bob 7 9 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 40000 RTP/AVP 0\na=recvonly\n";
/// The peer's answer to an offer from two holders.
const PEER_INACTIVE_ANSWER: &str =
    "v=0\no=bob 7 10 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 40000 RTP/AVP 0\na=inactive\n";
/// The peer's offer putting us on hold (RFC 3264 §8.4).
const PEER_SENDONLY: &str =
    "v=0\no=bob 7 11 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 40000 RTP/AVP 0\na=sendonly\n";
/// The same with `inactive` at session level.
const PEER_INACTIVE: &str =
    "v=0\no=bob 7 12 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\na=inactive\nm=audio 40000 RTP/AVP 0\n";
/// The RFC 2543 way: connection address 0.0.0.0.
const PEER_ZERO: &str =
    "v=0\no=bob 7 13 IN IP4 192.0.2.9\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 40000 RTP/AVP 0\n";
/// The peer's offer taking the hold off.
const PEER_SENDRECV: &str =
    "v=0\no=bob 7 14 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 40000 RTP/AVP 0\na=sendrecv\n";
/// The peer with video.
const PEER_VIDEO: &str = "v=0\no=bob 7 15 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 40000 RTP/AVP 0\nm=video 40002 RTP/AVP 96\n";
/// The peer rejecting video (port 0).
const PEER_VIDEO_REJECTED: &str = "v=0\no=bob 7 16 IN IP4 192.0.2.9\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\nm=audio 40000 RTP/AVP 0\nm=video 0 RTP/AVP 96\n";

fn hold(h: &mut H, id: &str) -> Result<(), CallError> {
    h.act(|d, now| d.cmd(|ua| ua.hold(now, id)))
}

fn unhold(h: &mut H, id: &str) -> Result<(), CallError> {
    h.act(|d, now| d.cmd(|ua| ua.unhold(now, id)))
}

fn renegotiate(h: &mut H, id: &str) -> Result<(), CallError> {
    h.act(|d, now| d.cmd(|ua| ua.renegotiate(now, id)))
}

/// Gives `sdp` for the pending offer and returns the re-INVITE it sends.
fn offer(h: &mut H, id: &str, sdp: &str) -> Message {
    h.outs();
    h.take_sent();
    h.media(id, MediaResult::Sdp(sdp.into()));
    let inv = h.one_sent();
    assert_eq!(first_line(&inv), "INVITE");
    assert_eq!(h.outs(), ["Send INVITE"]);
    inv
}

/// Holds `id` and completes the exchange with the peer's `answer` (and `extra` lines).
fn hold_ok(h: &mut H, id: &str, answer: &str, extra: &[&str]) {
    hold(h, id).unwrap();
    h.outs();
    let inv = offer(h, id, LOCAL_HOLD_SDP);
    h.peer(&reply(&inv, 200, "", extra, Some(answer)));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    h.media(id, MediaResult::Applied);
    h.outs();
}

#[test]
fn hold_and_unhold_an_inbound_call() {
    let (mut h, bob, id) = inbound_call();
    hold(&mut h, &id).unwrap();
    assert_eq!(h.outs(), ["Media CreateOffer SendOnly"]);
    assert_eq!(
        h.media_requests(&id).last(),
        Some(&MediaRequest::CreateOffer {
            hold: Hold::SendOnly
        })
    );
    assert!(
        h.take_sent().is_empty(),
        "the re-INVITE waits for the offer"
    );
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    // §14.1, §12.2.1.1: to the peer's Contact through the route set, our tag, a new
    // CSeq, Contact (a target refresh), the offer.
    assert_eq!(start_line(&inv), "INVITE sip:bob@192.0.2.9:5060 SIP/2.0");
    assert_eq!(
        header_values(&inv, "Route"),
        [
            "<sip:edge.example.com;transport=ws;lr>",
            "<sip:core.example.com;lr>"
        ]
    );
    assert_eq!(tag_of(&header(&inv, "From")), bob.our_tag);
    assert_eq!(
        header(&inv, "To"),
        "\"Bob\" <sip:bob@example.com>;tag=bobtag"
    );
    assert_eq!(header(&inv, "Call-ID"), id);
    assert_eq!(header(&inv, "Contact"), h.core.ua.dialog_contact());
    assert_eq!(header(&inv, "Content-Type"), "application/sdp");
    assert_eq!(inv.body, LOCAL_HOLD_SDP.as_bytes());
    assert!(
        header_values(&inv, "Session-Expires").is_empty(),
        "no timer"
    );
    let seq = cseq_num(&inv);
    // No state change before the answer.
    h.peer(&reply(&inv, 100, "", &[], None));
    assert!(h.outs().is_empty());

    h.peer(&reply(&inv, 200, "", &[], Some(PEER_RECVONLY)));
    let ack = h.one_sent();
    assert_eq!(start_line(&ack), "ACK sip:bob@192.0.2.9:5060 SIP/2.0");
    assert_eq!(header(&ack, "CSeq"), format!("{seq} ACK"));
    assert_eq!(
        h.outs(),
        [
            "Send ACK",
            "Media ApplyAnswer",
            "Hold local=true remote=false",
            "Renegotiated Hold 200"
        ]
    );
    assert_eq!(
        h.media_requests(&id).last(),
        Some(&MediaRequest::ApplyAnswer {
            answer: crlf(PEER_RECVONLY)
        })
    );
    h.media(&id, MediaResult::Applied);
    assert!(h.outs().is_empty());
    let events = h.call_events();
    assert_eq!(
        events[events.len() - 2..],
        [
            CallEvent::Hold {
                call_id: id.clone(),
                local: true,
                remote: false
            },
            CallEvent::Renegotiated {
                call_id: id.clone(),
                kind: Reoffer::Hold,
                code: 200
            }
        ]
    );
    assert!(matches!(hold(&mut h, &id), Err(CallError::InvalidState(_))));

    unhold(&mut h, &id).unwrap();
    assert_eq!(h.outs(), ["Media CreateOffer"]);
    assert_eq!(
        h.media_requests(&id).last(),
        Some(&MediaRequest::CreateOffer { hold: Hold::Off })
    );
    let inv2 = offer(&mut h, &id, LOCAL_UNHOLD_SDP);
    assert_eq!(cseq_num(&inv2), seq + 1);
    h.peer(&reply(&inv2, 200, "", &[], Some(PEER_SDP)));
    assert_eq!(
        h.outs(),
        [
            "Send ACK",
            "Media ApplyAnswer",
            "Hold local=false remote=false",
            "Renegotiated Unhold 200"
        ]
    );
    h.media(&id, MediaResult::Applied);
    assert!(matches!(
        unhold(&mut h, &id),
        Err(CallError::InvalidState(_))
    ));
    assert_eq!(calls(&h), [id.as_str()]);
}

#[test]
fn hold_an_outbound_call_with_a_session_timer() {
    let (mut h, id, invite) = placed_call("1001");
    h.peer(&reply(
        &invite,
        200,
        "callee",
        &[
            CALLEE_DIALOG[0],
            CALLEE_DIALOG[1],
            CALLEE_DIALOG[2],
            "Supported: timer",
            "Session-Expires: 1800;refresher=uac",
        ],
        Some(PEER_SDP),
    ));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    // The answer is being applied: one exchange at a time.
    assert!(matches!(hold(&mut h, &id), Err(CallError::InvalidState(_))));
    h.media(&id, MediaResult::Applied);
    h.outs();
    hold(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    assert_eq!(
        start_line(&inv),
        "INVITE sip:bob@192.0.2.9:5060;transport=udp SIP/2.0"
    );
    assert_eq!(cseq_num(&inv), cseq_num(&invite) + 1);
    // The re-INVITE refreshes the session too (RFC 4028 §7.4).
    assert_eq!(header(&inv, "Session-Expires"), "1800;refresher=uac");
    assert_eq!(header(&inv, "Supported"), "timer, replaces, outbound");
    assert_eq!(header(&inv, "To"), "<sip:1001@example.com>;tag=callee");
    h.peer(&reply(
        &inv,
        200,
        "",
        &["Session-Expires: 1800;refresher=uac"],
        Some(PEER_RECVONLY),
    ));
    assert_eq!(
        h.outs(),
        [
            "Send ACK",
            "Media ApplyAnswer",
            "Hold local=true remote=false",
            "Renegotiated Hold 200"
        ]
    );
}

#[test]
fn a_retransmitted_2xx_to_the_reinvite_is_acked_again() {
    let (mut h, _, id) = inbound_call();
    hold(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    let ok = reply(&inv, 200, "", &[], Some(PEER_RECVONLY));
    h.peer(&ok);
    let ack = h.one_sent();
    h.outs();
    // The 2xx again (our ACK was lost): the same ACK, nothing else (§13.2.2.4).
    h.advance(Duration::from_millis(500));
    h.peer(&ok);
    assert_eq!(h.one_sent(), ack);
    assert_eq!(h.outs(), ["Send ACK"]);
    // Duplicated on the link: ACKed twice, no event.
    h.link.inject(Fault::Duplicate);
    h.peer(&ok);
    assert_eq!(h.take_sent(), [ack.clone(), ack.clone()]);
    assert_eq!(h.outs(), ["Send ACK", "Send ACK"]);
    // After the transaction is gone (Timer M, RFC 6026 §7.2) the call still ACKs it.
    h.advance(Duration::from_secs(40));
    h.peer(&ok);
    assert_eq!(h.one_sent(), ack);
    h.media(&id, MediaResult::Applied);
    assert_eq!(h.outs(), ["Send ACK"]);
    assert_eq!(calls(&h), [id.as_str()]);
}

#[test]
fn a_488_rolls_back_and_keeps_the_hold_state() {
    let (mut h, _, id) = inbound_call_we_refresh();
    hold_ok(
        &mut h,
        &id,
        PEER_RECVONLY,
        &["Session-Expires: 120;refresher=uac"],
    );

    unhold(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_UNHOLD_SDP);
    h.peer(&reply(&inv, 488, "", &[], None));
    // The transaction ACKs the 488 (§17.1.1.3); the offer is rolled back.
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    assert_eq!(
        h.outs(),
        ["Send ACK", "Media Rollback", "Renegotiated Unhold 488"]
    );
    assert_eq!(h.media_requests(&id).last(), Some(&MediaRequest::Rollback));
    h.media(&id, MediaResult::Applied);
    assert!(h.outs().is_empty());
    // Still held: hold is refused, unhold is allowed again.
    assert!(matches!(hold(&mut h, &id), Err(CallError::InvalidState(_))));
    // The session refresh re-INVITE carries the last SDP that was accepted, the hold.
    h.advance(Duration::from_secs(61));
    let refresh = h.one_sent();
    assert_eq!(first_line(&refresh), "INVITE");
    assert_eq!(refresh.body, LOCAL_HOLD_SDP.as_bytes());
    h.peer(&reply(
        &refresh,
        200,
        "",
        &["Session-Expires: 120;refresher=uac"],
        Some(PEER_RECVONLY),
    ));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    h.outs();
    unhold(&mut h, &id).unwrap();
    assert_eq!(h.outs(), ["Media CreateOffer"]);
    // A failed Rollback is ignored too.
    let inv = offer(&mut h, &id, LOCAL_UNHOLD_SDP);
    h.peer(&reply(&inv, 500, "", &["Retry-After: 5"], None));
    assert_eq!(
        h.outs(),
        ["Send ACK", "Media Rollback", "Renegotiated Unhold 500"]
    );
    h.media(&id, MediaResult::Failed("rollback failed".into()));
    assert!(h.outs().is_empty());
    assert_eq!(calls(&h), [id.as_str()]);
}

#[test]
fn glare_491_then_the_retry_after_the_14_1_delay_inbound() {
    let (mut h, mut bob, id) = inbound_call();
    hold(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    // The peer's re-INVITE crosses ours: 491 (§14.2).
    h.peer(&bob.request("INVITE", &[], Some(PEER_SDP2)));
    assert_eq!(h.one_sent().status(), Some(491));
    assert!(h.outs().ends_with(&["Send 491".into()]));
    // Ours gets 491 too: rolled back, no event yet, retried 0–2 s later (we did not
    // place the call), in units of 10 ms.
    let at = h.now;
    h.peer(&reply(&inv, 491, "", &[], None));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    assert_eq!(h.outs(), ["Send ACK", "Media Rollback"]);
    h.media(&id, MediaResult::Applied);
    // Another hold meanwhile is refused: the first is still under way.
    assert!(matches!(hold(&mut h, &id), Err(CallError::InvalidState(_))));
    h.advance(Duration::from_millis(2000));
    assert_eq!(h.outs(), ["Media CreateOffer SendOnly"]);
    let when = h
        .events
        .iter()
        .rev()
        .find(|(_, o)| {
            matches!(
                o,
                sipwasm::sip::ua::Output::Media {
                    request: MediaRequest::CreateOffer { .. },
                    ..
                }
            )
        })
        .map(|(t, _)| t.as_millis() - at.as_millis())
        .unwrap();
    assert!(when <= 2000 && when % 10 == 0, "{when}");
    let retry = offer(&mut h, &id, LOCAL_HOLD_SDP);
    assert_eq!(cseq_num(&retry), cseq_num(&inv) + 1);
    h.peer(&reply(&retry, 200, "", &[], Some(PEER_RECVONLY)));
    assert_eq!(
        h.outs(),
        [
            "Send ACK",
            "Media ApplyAnswer",
            "Hold local=true remote=false",
            "Renegotiated Hold 200"
        ]
    );
}

#[test]
fn glare_on_an_outbound_call_waits_2_1_to_4_s_and_the_peer_wins_meanwhile() {
    let (mut h, id, _invite, mut callee) = outbound_call("1001", "callee");
    hold(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    let at = h.now;
    h.peer(&reply(&inv, 491, "", &[], None));
    assert_eq!(h.outs(), ["Send ACK", "Media Rollback"]);
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    h.media(&id, MediaResult::Applied);
    // The peer's own re-INVITE (it holds us) goes first: answered, not refused.
    h.advance(Duration::from_millis(500));
    h.peer(&callee.request("INVITE", &[], Some(PEER_SENDONLY)));
    assert_eq!(h.outs(), ["Media CreateAnswer"]);
    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
    let ok = h.one_sent();
    assert_eq!(ok.status(), Some(200));
    assert_eq!(h.outs(), ["Hold local=false remote=true", "Send 200"]);
    h.peer(&callee.ack(callee.cseq, None));
    // We placed the call: not before 2.1 s.
    h.advance_to(at + Duration::from_millis(2099));
    assert!(h.outs().is_empty());
    h.advance_to(at + Duration::from_millis(4000));
    // The peer holds us now: our hold offer is inactive (RFC 3264 §8.4).
    assert_eq!(h.outs(), ["Media CreateOffer Inactive"]);
    let retry = offer(&mut h, &id, LOCAL_INACTIVE_SDP);
    assert_eq!(cseq_num(&retry), cseq_num(&inv) + 1);
    h.peer(&reply(&retry, 200, "", &[], Some(PEER_INACTIVE_ANSWER)));
    assert_eq!(
        h.outs(),
        [
            "Send ACK",
            "Media ApplyAnswer",
            "Hold local=true remote=true",
            "Renegotiated Hold 200"
        ]
    );
}

#[test]
fn the_retry_waits_while_the_peer_s_reinvite_is_unanswered() {
    let (mut h, mut bob, id) = inbound_call();
    hold(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    h.peer(&reply(&inv, 491, "", &[], None));
    h.media(&id, MediaResult::Applied);
    h.outs();
    h.peer(&bob.request("INVITE", &[], Some(PEER_SDP2)));
    assert_eq!(h.outs(), ["Media CreateAnswer"]);
    // The shell is slow: the retry does not ask for an offer while it answers.
    h.advance(Duration::from_secs(5));
    assert!(h.outs().is_empty());
    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
    assert_eq!(h.outs(), ["Send 200"]);
    h.peer(&bob.ack(bob.cseq, None));
    h.advance(Duration::from_secs(2));
    assert_eq!(h.outs(), ["Media CreateOffer SendOnly"]);
    let retry = offer(&mut h, &id, LOCAL_HOLD_SDP);
    h.peer(&reply(&retry, 200, "", &[], Some(PEER_RECVONLY)));
    assert!(h.outs().ends_with(&[
        "Hold local=true remote=false".into(),
        "Renegotiated Hold 200".into()
    ]));
}

#[test]
fn timer_b_of_the_reinvite_ends_the_call() {
    let (mut h, _, id) = inbound_call();
    hold(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    assert_eq!(inv.body, LOCAL_HOLD_SDP.as_bytes());
    let t0 = h.now;
    // No provisional either: Timer B runs in the Calling state (§17.1.1.2).
    h.advance(Duration::from_secs(31));
    assert!(h.take_sent().is_empty(), "no retransmission over WebSocket");
    assert!(h.outs().is_empty());
    h.advance(Duration::from_secs(2));
    // §12.2.1.2: a timeout ends the dialog; we try a BYE.
    assert_eq!(
        h.outs(),
        [
            "Media Rollback",
            "Renegotiated Hold 408",
            "Send BYE",
            "Media Close",
            "Ended Request Timeout System"
        ]
    );
    assert_eq!(h.time_of("Ended"), Some(t0 + Duration::from_secs(32)));
    assert!(calls(&h).is_empty());
    // The shell's late answer to the rollback is ignored.
    h.media(&id, MediaResult::Applied);
    assert!(h.outs().is_empty());
}

#[test]
fn a_408_or_481_to_the_reinvite_ends_the_dialog() {
    for (code, tail) in [
        (
            408,
            vec!["Send BYE", "Media Close", "Ended Request Timeout System"],
        ),
        (481, vec!["Media Close", "Ended Dialog Error Remote"]),
    ] {
        let (mut h, _, id) = inbound_call();
        renegotiate(&mut h, &id).unwrap();
        assert_eq!(h.outs(), ["Media CreateOffer"]);
        let inv = offer(&mut h, &id, LOCAL_SDP);
        h.peer(&reply(&inv, code, "", &[], None));
        let mut want = vec![
            "Send ACK".to_owned(),
            "Media Rollback".into(),
            format!("Renegotiated Renegotiate {code}"),
        ];
        want.extend(tail.iter().map(|s| s.to_string()));
        assert_eq!(h.outs(), want, "{code}");
        assert!(calls(&h).is_empty());
    }
}

#[test]
fn a_media_failure_for_the_offer_sends_nothing_and_keeps_the_call() {
    let (mut h, _, id) = inbound_call();
    hold(&mut h, &id).unwrap();
    h.outs();
    h.media(&id, MediaResult::Failed("no devices".into()));
    assert!(h.take_sent().is_empty());
    assert_eq!(h.outs(), ["Media Rollback", "Renegotiated Hold 0"]);
    h.media(&id, MediaResult::Applied);
    // Not held: hold may be tried again.
    hold(&mut h, &id).unwrap();
    assert_eq!(h.outs(), ["Media CreateOffer SendOnly"]);
    assert_eq!(calls(&h), [id.as_str()]);
}

#[test]
fn a_2xx_without_an_answer_is_a_failure() {
    let (mut h, _, id) = inbound_call();
    hold(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    h.peer(&reply(&inv, 200, "", &[], None));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    let outs = h.outs();
    assert_eq!(outs[..2], ["Send ACK", "Media Rollback"]);
    assert!(
        !outs.iter().any(|o| o.starts_with("Hold")),
        "the hold did not happen: {outs:?}"
    );
    // Not the 2xx's code: the app would take it for success. 0: no status applies.
    assert_eq!(outs[2..], ["Renegotiated Hold 0"]);
    h.media(&id, MediaResult::Applied);
    hold(&mut h, &id).unwrap();
    assert_eq!(calls(&h), [id.as_str()]);
}

#[test]
fn a_glare_on_our_hold_does_not_lose_a_pending_refresh_retry() {
    let (mut h, _, id) = inbound_call_we_refresh();
    let t0 = h.now;
    // Our refresh re-INVITE at half the interval meets a 491: retried 0–2 s later.
    h.advance(Duration::from_secs(61));
    let refresh = h.one_sent();
    assert_eq!(first_line(&refresh), "INVITE");
    h.peer(&reply(&refresh, 491, "", &[], None));
    h.take_sent();
    // The app holds meanwhile, and that meets a 491 too, then fails for good.
    hold(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    h.peer(&reply(&inv, 491, "", &[], None));
    h.media(&id, MediaResult::Applied);
    h.advance(Duration::from_millis(50));
    // The re-offer is retried and fails with 488; the refresh, postponed while the
    // re-offer runs (one INVITE at a time), goes once it is over.
    let mut refreshed = false;
    for _ in 0..10 {
        h.advance(Duration::from_millis(700));
        for m in h.take_sent() {
            if first_line(&m) != "INVITE" {
                continue;
            }
            if m.body == LOCAL_SDP.as_bytes() {
                refreshed = true;
                h.peer(&reply(
                    &m,
                    200,
                    "",
                    &["Session-Expires: 120;refresher=uac"],
                    Some(PEER_SDP),
                ));
            } else {
                h.peer(&reply(&m, 488, "", &[], None));
                h.media(&id, MediaResult::Applied);
            }
        }
        if h.media_requests(&id).last()
            == Some(&MediaRequest::CreateOffer {
                hold: Hold::SendOnly,
            })
        {
            h.media(&id, MediaResult::Sdp(LOCAL_HOLD_SDP.into()));
        }
    }
    assert!(refreshed, "the refresh retry was lost");
    // The session goes on: no BYE at the old expiry (88 s after t0).
    h.advance_to(t0 + Duration::from_secs(100));
    assert!(h.sent_requests("BYE").is_empty());
    assert_eq!(calls(&h), [id.as_str()]);
}

#[test]
fn reoffers_refused_when_the_call_is_not_up_or_busy() {
    let mut h = registered();
    let mut bob = bob(&h);
    let (rid, _) = h.ring(&mut bob);
    assert!(matches!(
        hold(&mut h, &rid),
        Err(CallError::InvalidState(_))
    ));
    assert_eq!(hold(&mut h, "nosuch"), Err(CallError::NotFound));
    h.answer_with_sdp(&rid);
    // Answered but not ACKed yet.
    assert!(matches!(
        hold(&mut h, &rid),
        Err(CallError::InvalidState(_))
    ));
    h.peer(&bob.ack(bob.cseq, None));
    h.outs();
    // One exchange at a time (RFC 3264 §4).
    hold(&mut h, &rid).unwrap();
    assert!(matches!(
        renegotiate(&mut h, &rid),
        Err(CallError::InvalidState(_))
    ));
    let inv = offer(&mut h, &rid, LOCAL_HOLD_SDP);
    assert!(matches!(
        renegotiate(&mut h, &rid),
        Err(CallError::InvalidState(_))
    ));
    // While ours is out, the peer's UPDATE with an offer gets 491 as well.
    h.peer(&bob.request("UPDATE", &[], Some(PEER_SDP2)));
    assert_eq!(h.one_sent().status(), Some(491));
    h.peer(&reply(&inv, 200, "", &[], Some(PEER_RECVONLY)));
    // The answer is being applied.
    assert!(matches!(
        unhold(&mut h, &rid),
        Err(CallError::InvalidState(_))
    ));
    h.media(&rid, MediaResult::Applied);
    h.outs();
    // While the peer's re-INVITE waits for our answer.
    h.peer(&bob.request("INVITE", &[], Some(PEER_SDP2)));
    assert!(matches!(
        unhold(&mut h, &rid),
        Err(CallError::InvalidState(_))
    ));
    h.media(&rid, MediaResult::Sdp(LOCAL_HOLD_SDP.into()));
    assert!(
        matches!(unhold(&mut h, &rid), Err(CallError::InvalidState(_))),
        "2xx not ACKed"
    );
    h.peer(&bob.ack(bob.cseq, None));
    unhold(&mut h, &rid).unwrap();
    // After the end.
    h.peer(&bob.request("BYE", &[], None));
    assert_eq!(hold(&mut h, &rid), Err(CallError::NotFound));
}

#[test]
fn the_peer_holds_and_unholds_us() {
    let (mut h, mut bob, id) = inbound_call();
    // Each form of hold (RFC 3264 §8.4), then back.
    for held in [PEER_SENDONLY, PEER_INACTIVE, PEER_ZERO] {
        h.peer(&bob.request("INVITE", &[], Some(held)));
        assert_eq!(h.outs(), ["Media CreateAnswer"]);
        assert_eq!(
            h.media_requests(&id).last(),
            Some(&MediaRequest::CreateAnswer {
                offer: crlf(held),
                hold: false
            })
        );
        h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
        assert_eq!(
            h.outs(),
            ["Hold local=false remote=true", "Send 200"],
            "{held}"
        );
        h.peer(&bob.ack(bob.cseq, None));
        // A refresh with the same hold changes nothing.
        reinvited(&mut h, &mut bob, &id, held, LOCAL_SDP);
        assert_eq!(h.outs(), ["Media CreateAnswer", "Send 200"]);
        h.peer(&bob.ack(bob.cseq, None));
        reinvited(&mut h, &mut bob, &id, PEER_SENDRECV, LOCAL_SDP);
        assert_eq!(
            h.outs(),
            [
                "Media CreateAnswer",
                "Hold local=false remote=false",
                "Send 200"
            ]
        );
        h.peer(&bob.ack(bob.cseq, None));
    }
    // By UPDATE too (RFC 3311).
    h.peer(&bob.request("UPDATE", &[], Some(PEER_SENDONLY)));
    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
    assert_eq!(
        h.outs(),
        [
            "Media CreateAnswer",
            "Hold local=false remote=true",
            "Send 200"
        ]
    );
    // A re-INVITE without an offer: our offer, the answer in the ACK; answers do not
    // change the peer's hold.
    h.peer(&bob.request("INVITE", &[], None));
    assert_eq!(h.outs(), ["Media CreateOffer"]);
    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
    h.peer(&bob.ack(bob.cseq, Some(PEER_RECVONLY)));
    assert_eq!(h.outs(), ["Send 200", "Media ApplyAnswer"]);
    h.media(&id, MediaResult::Applied);
    assert!(h.outs().is_empty());
    assert_eq!(calls(&h), [id.as_str()]);
}

#[test]
fn an_initial_invite_on_hold_then_hold_while_the_peer_holds_us() {
    let mut h = registered();
    let mut bob = bob(&h);
    h.peer(&bob.invite(Some(PEER_SENDONLY), &[]));
    let sent = h.take_sent();
    bob.learn(&sent[1]);
    let id = bob.call_id.clone();
    h.outs();
    h.answer_with_sdp(&id);
    // The app learns that the call starts on hold (RFC 3264 §8.4), once.
    assert_eq!(
        h.outs(),
        [
            "Media CreateAnswer",
            "Send 200",
            "Hold local=false remote=true",
            "Accepted"
        ]
    );
    h.peer(&bob.ack(bob.cseq, None));
    assert_eq!(h.outs(), ["Confirmed"]);
    hold(&mut h, &id).unwrap();
    assert_eq!(h.outs(), ["Media CreateOffer Inactive"]);
    let inv = offer(&mut h, &id, LOCAL_INACTIVE_SDP);
    h.peer(&reply(&inv, 200, "", &[], Some(PEER_INACTIVE_ANSWER)));
    assert!(h.outs().ends_with(&[
        "Hold local=true remote=true".into(),
        "Renegotiated Hold 200".into()
    ]));
    h.media(&id, MediaResult::Applied);
    // The peer takes its hold off while we hold: our answer keeps ours.
    h.peer(&bob.request("INVITE", &[], Some(PEER_SENDRECV)));
    assert_eq!(h.outs(), ["Media CreateAnswer hold"]);
    h.media(&id, MediaResult::Sdp(LOCAL_HOLD_SDP.into()));
    assert_eq!(h.outs(), ["Hold local=true remote=false", "Send 200"]);
    h.peer(&bob.ack(bob.cseq, None));
    // A re-INVITE without an offer while we hold: our offer holds.
    h.peer(&bob.request("INVITE", &[], None));
    assert_eq!(h.outs(), ["Media CreateOffer SendOnly"]);
    h.media(&id, MediaResult::Sdp(LOCAL_HOLD_SDP.into()));
    h.peer(&bob.ack(bob.cseq, Some(PEER_RECVONLY)));
    h.media(&id, MediaResult::Applied);
    h.outs();
    // The peer holds us again: unhold offers sendrecv, the peer's hold stays.
    reinvited(&mut h, &mut bob, &id, PEER_SENDONLY, LOCAL_INACTIVE_SDP);
    h.peer(&bob.ack(bob.cseq, None));
    assert_eq!(
        h.outs(),
        [
            "Media CreateAnswer hold",
            "Hold local=true remote=true",
            "Send 200"
        ]
    );
    unhold(&mut h, &id).unwrap();
    assert_eq!(h.outs(), ["Media CreateOffer"]);
    let inv = offer(&mut h, &id, LOCAL_UNHOLD_SDP);
    h.peer(&reply(&inv, 200, "", &[], Some(PEER_SENDONLY)));
    assert!(h.outs().ends_with(&[
        "Hold local=false remote=true".into(),
        "Renegotiated Unhold 200".into()
    ]));
}

#[test]
fn video_follows_both_descriptions() {
    let (mut h, mut bob, id) = inbound_call();
    // We add video; the peer accepts it.
    renegotiate(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_VIDEO_SDP);
    h.peer(&reply(&inv, 200, "", &[], Some(PEER_VIDEO)));
    assert_eq!(
        h.outs(),
        [
            "Send ACK",
            "Media ApplyAnswer",
            "Renegotiated Renegotiate 200"
        ]
    );
    h.media(&id, MediaResult::Applied);
    assert_eq!(h.outs(), ["Video on"]);
    // The peer drops it (port 0) in its own re-INVITE.
    reinvited(&mut h, &mut bob, &id, PEER_VIDEO_REJECTED, LOCAL_VIDEO_SDP);
    assert_eq!(h.outs(), ["Media CreateAnswer", "Video off", "Send 200"]);
    h.peer(&bob.ack(bob.cseq, None));
    // The peer offers video, we answer without: still off.
    reinvited(&mut h, &mut bob, &id, PEER_VIDEO, LOCAL_SDP);
    assert_eq!(h.outs(), ["Media CreateAnswer", "Send 200"]);
    h.peer(&bob.ack(bob.cseq, None));
    // And with: on.
    reinvited(&mut h, &mut bob, &id, PEER_VIDEO, LOCAL_VIDEO_SDP);
    assert_eq!(h.outs(), ["Media CreateAnswer", "Video on", "Send 200"]);
    h.peer(&bob.ack(bob.cseq, None));
    // Our renegotiation without video, answered without: off.
    renegotiate(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_SDP);
    h.peer(&reply(&inv, 200, "", &[], Some(PEER_SDP)));
    h.media(&id, MediaResult::Applied);
    assert_eq!(
        h.outs(),
        [
            "Send ACK",
            "Media ApplyAnswer",
            "Renegotiated Renegotiate 200",
            "Video off"
        ]
    );
}

#[test]
fn an_outbound_video_call_reports_video_on_answer() {
    let mut h = registered();
    let id = h.dial("1001");
    h.media(&id, MediaResult::Sdp(LOCAL_VIDEO_SDP.into()));
    let inv = h.one_sent();
    h.outs();
    h.peer(&reply(
        &inv,
        200,
        "callee",
        &CALLEE_DIALOG,
        Some(PEER_VIDEO),
    ));
    let outs = h.outs();
    assert!(outs.contains(&"Video on".into()), "{outs:?}");
    assert_eq!(outs.iter().filter(|o| o.starts_with("Video")).count(), 1);
    h.media(&id, MediaResult::Applied);
    assert!(h.outs().is_empty(), "reported once");
}

#[test]
fn bye_while_our_reinvite_is_out_and_its_late_responses() {
    let (mut h, mut bob, id) = inbound_call();
    hold(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    h.peer(&bob.request("BYE", &[], None));
    assert_eq!(
        h.outs(),
        ["Send 200", "Media Close", "Ended Terminated Remote"]
    );
    // A late 2xx is still ACKed (§13.2.2.4), with no event.
    h.peer(&reply(&inv, 200, "", &[], Some(PEER_RECVONLY)));
    assert_eq!(h.outs(), ["Send ACK"]);
    assert_eq!(h.take_sent_lines(), ["200", "ACK"]);
    h.advance(Duration::from_secs(64));
    assert!(h.take_sent().is_empty());
    assert!(calls(&h).is_empty());
}

#[test]
fn a_407_to_the_reinvite_is_answered_with_credentials() {
    let (mut h, id, _invite, _callee) = outbound_call("1001", "callee");
    hold(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    h.peer(&challenge_407(&inv, "n1"));
    let sent = h.take_sent();
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["ACK", "INVITE"]
    );
    let retry = &sent[1];
    assert_eq!(cseq_num(retry), cseq_num(&inv) + 1);
    assert!(header(retry, "Proxy-Authorization").starts_with("Digest "));
    assert_eq!(retry.body, LOCAL_HOLD_SDP.as_bytes());
    h.outs();
    h.peer(&reply(retry, 200, "", &[], Some(PEER_RECVONLY)));
    assert!(h.outs().ends_with(&[
        "Hold local=true remote=false".into(),
        "Renegotiated Hold 200".into()
    ]));
}

#[test]
fn no_event_after_the_end_when_the_reinvite_then_times_out() {
    let (mut h, mut bob, id) = inbound_call();
    hold(&mut h, &id).unwrap();
    let _inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    h.peer(&bob.request("BYE", &[], None));
    assert_eq!(
        h.outs(),
        ["Send 200", "Media Close", "Ended Terminated Remote"]
    );
    // The re-INVITE is never answered: Timer B fires after the call ended.
    h.advance(Duration::from_secs(40));
    assert_eq!(h.outs(), Vec::<String>::new(), "Ended is the last event");
    assert_eq!(h.media_requests(&id).last(), Some(&MediaRequest::Close));
}

#[test]
fn the_peer_s_offer_while_ours_is_being_made_gets_491() {
    let (mut h, mut bob, id) = inbound_call();
    hold(&mut h, &id).unwrap();
    h.outs();
    // The shell has not given our offer yet (have-local-offer): glare all the same.
    h.peer(&bob.request("INVITE", &[], Some(PEER_SENDONLY)));
    assert_eq!(h.one_sent().status(), Some(491));
    h.peer(&bob.request("UPDATE", &[], Some(PEER_SENDONLY)));
    assert_eq!(h.one_sent().status(), Some(491));
    assert_eq!(h.outs(), ["Send 491", "Send 491"]);
    // An UPDATE without an offer (a session refresh) is fine.
    h.peer(&bob.request("UPDATE", &[], None));
    assert_eq!(h.one_sent().status(), Some(200));
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    h.peer(&reply(&inv, 200, "", &[], Some(PEER_RECVONLY)));
    assert!(h.outs().ends_with(&[
        "Hold local=true remote=false".into(),
        "Renegotiated Hold 200".into()
    ]));
}

#[test]
fn a_reinvite_left_at_a_1xx_is_cancelled_after_64_t1() {
    let (mut h, _, id) = inbound_call();
    hold(&mut h, &id).unwrap();
    let inv = offer(&mut h, &id, LOCAL_HOLD_SDP);
    // A 1xx stops Timer B (RFC 3261 §17.1.1.2): without a deadline the exchange
    // would block every later offer.
    h.peer(&reply(&inv, 100, "", &[], None));
    h.advance(Duration::from_secs(31));
    assert!(h.take_sent_lines().is_empty());
    h.advance(Duration::from_secs(2));
    let cancel = h.one_sent();
    assert_eq!(first_line(&cancel), "CANCEL");
    assert_eq!(
        header(&cancel, "CSeq"),
        format!("{} CANCEL", cseq_num(&inv))
    );
    h.outs();
    h.peer(&reply(&cancel, 200, "", &[], None));
    h.peer(&reply(&inv, 487, "", &[], None));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    assert_eq!(
        h.outs(),
        ["Send ACK", "Media Rollback", "Renegotiated Hold 487"]
    );
    h.media(&id, MediaResult::Applied);
    // Not held; a new hold goes out.
    hold(&mut h, &id).unwrap();
    assert_eq!(h.outs(), ["Media CreateOffer SendOnly"]);
    assert_eq!(calls(&h), [id.as_str()]);
}

#[test]
fn a_late_retransmission_of_the_initial_2xx_after_a_reinvite_gets_its_own_ack() {
    let (mut h, id, invite, _callee) = outbound_call("1001", "callee");
    hold_ok(&mut h, &id, PEER_RECVONLY, &[]);
    // The callee never saw our first ACK and retransmits its 200 (RFC 3261 §13.3.1.4):
    // the ACK for the INVITE's CSeq goes again, not the re-INVITE's.
    h.peer(&reply(
        &invite,
        200,
        "callee",
        &CALLEE_DIALOG,
        Some(PEER_SDP),
    ));
    let ack = h.one_sent();
    assert_eq!(first_line(&ack), "ACK");
    assert_eq!(header(&ack, "CSeq"), format!("{} ACK", cseq_num(&invite)));
    assert_eq!(h.outs(), ["Send ACK"]);
    assert_eq!(calls(&h), [id.as_str()]);
}

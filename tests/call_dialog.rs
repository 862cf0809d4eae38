//! Requests inside a dialog (RFC 3261 §12.2, §14, §15; RFC 3311): re-INVITE and UPDATE
//! from the peer, glare (491) and the §14.1 retry, CSeq ordering, unknown dialogs,
//! target refresh, 408/481 to our requests.

mod common;

use common::call::*;
use common::ua::*;
use common::*;
use sipwasm::sip::ua::{MediaRequest, MediaResult};
use std::time::Duration;

#[test]
fn reinvite_with_an_offer_is_answered_and_refreshes_the_target() {
    let (mut h, mut bob, id) = inbound_call();
    let reinvite = bob.request("INVITE", &[], Some(PEER_SDP2)).replace(
        "Contact: <sip:bob@192.0.2.9:5060>",
        "Contact: <sip:bob@192.0.2.77>",
    );
    h.peer(&reinvite);
    assert_eq!(h.outs(), ["Media CreateAnswer"]);
    assert_eq!(
        h.media_requests(&id).last(),
        Some(&MediaRequest::CreateAnswer {
            offer: crlf(PEER_SDP2),
            hold: false
        })
    );
    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
    let ok = h.one_sent();
    assert_eq!(first_line(&ok), "200");
    assert_eq!(header(&ok, "CSeq"), "101 INVITE");
    assert_eq!(header(&ok, "Contact"), h.core.ua.dialog_contact());
    assert_eq!(ok.body, LOCAL_SDP.as_bytes());
    assert_eq!(tag_of(&header(&ok, "To")), bob.our_tag);
    // Retransmitted until its ACK like any 2xx to an INVITE (§13.3.1.4).
    h.advance(Duration::from_millis(600));
    assert_eq!(h.take_sent_lines(), ["200"]);
    h.peer(&bob.ack(101, None));
    h.advance(Duration::from_secs(10));
    assert!(h.take_sent().is_empty());
    assert_eq!(h.core.ua.calls().count(), 1);
    // The new Contact is the remote target (§12.2.2).
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id))).unwrap();
    let bye = h.one_sent();
    assert_eq!(start_line(&bye), "BYE sip:bob@192.0.2.77 SIP/2.0");
}

#[test]
fn reinvite_without_an_offer_gets_ours() {
    let (mut h, mut bob, id) = inbound_call();
    h.peer(&bob.request("INVITE", &[], None));
    assert_eq!(h.outs(), ["Media CreateOffer"]);
    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
    let ok = h.one_sent();
    assert_eq!(ok.body, LOCAL_SDP.as_bytes());
    h.outs();
    h.peer(&bob.ack(101, Some(PEER_SDP2)));
    assert_eq!(h.outs(), ["Media ApplyAnswer"]);
    h.media(&id, MediaResult::Applied);
    assert!(h.outs().is_empty());
}

#[test]
fn update_with_and_without_an_offer() {
    let (mut h, mut bob, id) = inbound_call();
    h.peer(&bob.request("UPDATE", &[], Some(PEER_SDP2)));
    assert_eq!(h.outs(), ["Media CreateAnswer"]);
    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
    let ok = h.one_sent();
    assert_eq!(header(&ok, "CSeq"), "101 UPDATE");
    assert_eq!(ok.body, LOCAL_SDP.as_bytes());
    h.advance(Duration::from_secs(5));
    assert!(
        h.take_sent().is_empty(),
        "a 2xx to UPDATE is not retransmitted"
    );
    h.peer(&bob.request("UPDATE", &[], None));
    let ok = h.one_sent();
    assert_eq!(first_line(&ok), "200");
    assert_eq!(header(&ok, "Content-Length"), "0");
    assert_eq!(header(&ok, "Contact"), h.core.ua.dialog_contact());
}

#[test]
fn glare_gets_491_and_our_reinvite_is_retried_after_the_14_1_timer() {
    let (mut h, mut bob, id) = inbound_call_we_refresh();
    let t0 = h.now;
    // We are the refresher: at half the interval a re-INVITE (no UPDATE allowed).
    h.advance(Duration::from_secs(59));
    assert!(h.take_sent().is_empty());
    h.advance(Duration::from_secs(2));
    let ours = h.one_sent();
    assert_eq!(first_line(&ours), "INVITE");
    assert_eq!(h.time_of("Send INVITE"), Some(t0 + Duration::from_secs(60)));
    assert_eq!(header(&ours, "Session-Expires"), "120;refresher=uac");
    assert_eq!(ours.body, LOCAL_SDP.as_bytes(), "the unchanged SDP");
    assert_eq!(
        header(&ours, "To"),
        "\"Bob\" <sip:bob@example.com>;tag=bobtag"
    );
    // The peer's re-INVITE and UPDATE with an offer cross ours: 491 (§14.2, RFC 3311).
    h.peer(&bob.request("INVITE", &[], Some(PEER_SDP2)));
    assert_eq!(h.one_sent().status(), Some(491));
    h.peer(&bob.request("UPDATE", &[], Some(PEER_SDP2)));
    assert_eq!(h.one_sent().status(), Some(491));
    // Ours gets 491 too: ACKed by the transaction, retried 0–2 s later (we do not
    // own the Call-ID), in units of 10 ms.
    let at = h.now;
    h.peer(&reply(&ours, 491, "", &[], None));
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    h.advance(Duration::from_secs(2));
    let retry = h.one_sent();
    assert_eq!(first_line(&retry), "INVITE");
    let when = h
        .sent
        .iter()
        .rev()
        .find(|(_, m)| m == &retry)
        .map(|(t, _)| t.as_millis() - at.as_millis())
        .unwrap();
    assert!(when <= 2000 && when % 10 == 0, "{when}");
    assert_eq!(cseq_num(&retry), cseq_num(&ours) + 1);
    h.outs();
    h.peer(&reply(
        &retry,
        200,
        "",
        &[
            "Contact: <sip:bob@192.0.2.9:5060>",
            "Session-Expires: 120;refresher=uac",
        ],
        Some(PEER_SDP),
    ));
    let ack = h.one_sent();
    assert_eq!(header(&ack, "CSeq"), format!("{} ACK", cseq_num(&retry)));
    assert_eq!(
        h.outs(),
        ["Send ACK"],
        "the same answer is not applied again"
    );
    assert_eq!(h.core.ua.calls().collect::<Vec<_>>(), [id.as_str()]);
}

#[test]
fn a_second_reinvite_while_the_first_is_pending_gets_500_with_retry_after() {
    let (mut h, mut bob, id) = inbound_call();
    let first = bob.request("INVITE", &[], Some(PEER_SDP2));
    h.peer(&first);
    h.peer(&bob.request("INVITE", &[], Some(PEER_SDP)));
    let r = h.one_sent();
    assert_eq!(r.status(), Some(500));
    let secs: u32 = header(&r, "Retry-After").parse().unwrap();
    assert!(secs <= 10);
    // BYE while the first is pending: 200, and 487 to the re-INVITE (§15.1.2).
    h.peer(&bob.request("BYE", &[], None));
    let sent = h.take_sent();
    assert_eq!(
        sent.iter()
            .map(|m| format!("{} {}", first_line(m), header(m, "CSeq")))
            .collect::<Vec<_>>(),
        ["200 103 BYE", "487 101 INVITE"]
    );
    // The answer the shell still delivers is ignored.
    h.outs();
    h.media(&id, MediaResult::Sdp(LOCAL_SDP.into()));
    assert!(h.outs().is_empty());
}

#[test]
fn sequence_numbers_unknown_dialogs_and_other_methods() {
    let (mut h, mut bob, _id) = inbound_call();
    h.peer(&bob.request("OPTIONS", &[], None));
    let r = h.one_sent();
    assert_eq!(r.status(), Some(200));
    assert!(header(&r, "Allow").contains("INVITE"));
    // §12.2.2: lower than the last CSeq → 500.
    h.peer(&bob.request_seq("INFO", 50, &[], None));
    assert_eq!(h.one_sent().status(), Some(500));
    h.peer(&bob.request("INFO", &["Content-Type: application/dtmf-relay"], None));
    assert_eq!(h.one_sent().status(), Some(200));
    // A REFER without a usable Refer-To (RFC 3515 §2.4.1).
    h.peer(&bob.request("REFER", &[], None));
    assert_eq!(h.one_sent().status(), Some(400));
    h.peer(&bob.request("REFER", &["Refer-To: <mailto:carol@example.com>"], None));
    assert_eq!(h.one_sent().status(), Some(400));
    // A wrong tag: no such dialog (§12.2.2).
    let mut stranger = bob.clone();
    stranger.our_tag = "nottag".into();
    h.peer(&stranger.request("BYE", &[], None));
    assert_eq!(h.one_sent().status(), Some(481));
    // Out of any dialog.
    let mut other = Peer::caller("other@example.com", &h.contact_uri());
    h.peer(&other.request("BYE", &[], None).replace(";tag=\n", "\n"));
    assert_eq!(h.one_sent().status(), Some(481));
    assert_eq!(h.core.ua.calls().count(), 1);
}

#[test]
fn our_refresh_answered_408_or_481_ends_the_dialog() {
    for (code, outs) in [
        (
            408,
            vec!["Send BYE", "Media Close", "Ended Request Timeout System"],
        ),
        (481, vec!["Media Close", "Ended Dialog Error Remote"]),
    ] {
        let mut h = registered();
        let mut bob = bob(&h);
        inbound_up(
            &mut h,
            &mut bob,
            &["Supported: timer", "Session-Expires: 90;refresher=uas"],
        );
        h.advance(Duration::from_secs(46));
        let upd = h.one_sent();
        assert_eq!(first_line(&upd), "UPDATE");
        assert_eq!(header(&upd, "Content-Length"), "0");
        h.outs();
        h.peer(&reply(&upd, code, "", &[], None));
        assert_eq!(h.outs(), outs, "{code}");
        assert_eq!(h.core.ua.calls().count(), 0);
    }
}

//! Transfers: our REFER (RFC 3515) blind and attended (RFC 5589, Replaces of RFC
//! 3891 in the Refer-To), its NOTIFYs (`message/sipfrag`, RFC 3420); the peer's REFER
//! (202, NOTIFYs, the new call with Replaces and Referred-By, RFC 3892); an INVITE
//! with Replaces taking over one of our calls; hostile input.

mod common;

use common::call::*;
use common::ua::*;
use common::*;
use sipwasm::sip::message::{scan, Message, NameAddrHeader, TypedHeader, Uri};
use sipwasm::sip::ua::{CallError, CallEvent, MediaResult};
use std::time::Duration;

fn transfer(h: &mut H, id: &str, target: &str, consult: Option<&str>) -> Result<(), CallError> {
    h.act(|d, now| d.cmd(|ua| ua.transfer(now, id, target, consult)))
}

/// The peer's NOTIFY for our REFER: `Subscription-State: state`, a sipfrag `frag`.
fn notify(peer: &mut Peer, state: &str, frag: &str) -> String {
    notify_with(
        peer,
        &["Event: refer", &format!("Subscription-State: {state}")],
        frag,
    )
}

fn notify_with(peer: &mut Peer, headers: &[&str], frag: &str) -> String {
    let text = peer.request("NOTIFY", headers, None);
    let frag = frag.replace('\n', "\r\n");
    text.replace(
        "Content-Length: 0\n",
        &format!(
            "Content-Type: message/sipfrag;version=2.0\nContent-Length: {}\n\n{}",
            frag.len(),
            frag.trim_end()
        ),
    )
}

/// The peer's NOTIFY with raw body bytes.
fn notify_raw(peer: &mut Peer, state: &str, body: &[u8]) -> Vec<u8> {
    let text = peer.request(
        "NOTIFY",
        &["Event: refer", &format!("Subscription-State: {state}")],
        None,
    );
    let mut w = wire(&text.replace("Content-Length: 0\n", "")).into_bytes();
    w.truncate(w.len() - 2);
    w.extend_from_slice(
        format!(
            "Content-Type: message/sipfrag\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    w.extend_from_slice(body);
    w
}

/// Sends our REFER for `id` and answers it 202; returns the REFER.
fn refer_accepted(h: &mut H, id: &str, target: &str, consult: Option<&str>) -> Message {
    transfer(h, id, target, consult).unwrap();
    let refer = h.one_sent();
    assert_eq!(first_line(&refer), "REFER");
    h.outs();
    h.peer(&reply(&refer, 202, "", &[], None));
    assert_eq!(h.outs(), ["Transfer 202"]);
    refer
}

/// The id of the call the last `Referred` event placed.
fn referred_call(h: &H) -> String {
    h.call_events()
        .iter()
        .rev()
        .find_map(|e| match e {
            CallEvent::Referred { new_call_id, .. } => Some(new_call_id.clone()),
            _ => None,
        })
        .expect("a Referred event")
}

/// The NOTIFYs (and the rest) sent since the last take; panics unless one NOTIFY.
fn one_notify(h: &mut H) -> Message {
    let n = h.sent_requests("NOTIFY");
    assert_eq!(n.len(), 1, "{n:#?}");
    n.into_iter().next().unwrap()
}

fn body(m: &Message) -> String {
    String::from_utf8_lossy(&m.body).into_owned()
}

// ------------------------------------------------------------------ our REFER

#[test]
fn blind_transfer_notifies_progress_then_ends_the_call() {
    let (mut h, mut bob, id) = inbound_call();
    transfer(&mut h, &id, "1002", None).unwrap();
    let refer = h.one_sent();
    // RFC 3515 §2.4.1 in the dialog (§12.2.1.1), RFC 3892 Referred-By.
    assert_eq!(start_line(&refer), "REFER sip:bob@192.0.2.9:5060 SIP/2.0");
    assert_eq!(header_values(&refer, "Route").len(), 2);
    assert_eq!(header(&refer, "Refer-To"), "<sip:1002@example.com>");
    assert_eq!(header(&refer, "Referred-By"), "<sip:alice@example.com>");
    assert_eq!(header(&refer, "Contact"), h.core.ua.dialog_contact());
    assert_eq!(header(&refer, "Call-ID"), id);
    assert_eq!(tag_of(&header(&refer, "From")), bob.our_tag);
    assert_eq!(tag_of(&header(&refer, "To")), "bobtag");
    assert_eq!(header(&refer, "Content-Length"), "0");
    assert_eq!(h.outs(), ["Send REFER"]);
    // One at a time.
    assert!(matches!(
        transfer(&mut h, &id, "1003", None),
        Err(CallError::InvalidState(_))
    ));
    h.peer(&reply(&refer, 202, "", &[], None));
    assert_eq!(h.outs(), ["Transfer 202"]);

    h.peer(&notify(
        &mut bob,
        "active;expires=60",
        "SIP/2.0 100 Trying\n",
    ));
    let ok = h.one_sent();
    assert_eq!(ok.status(), Some(200));
    assert_eq!(header(&ok, "CSeq"), format!("{} NOTIFY", bob.cseq));
    assert_eq!(h.outs(), ["Send 200", "Transfer 100"]);
    // A retransmission is absorbed by the transaction: the same 200, no event.
    let n180 = notify(
        &mut bob,
        "active;expires=60",
        "SIP/2.0 180 Ringing\nContact: <sip:x@y>\n",
    );
    h.link.inject(Fault::Duplicate);
    h.peer(&n180);
    assert_eq!(h.take_sent_lines(), ["200", "200"]);
    assert_eq!(h.outs(), ["Send 200", "Transfer 180", "Send 200"]);
    // The same progress again in a new NOTIFY: reported again, not final.
    h.peer(&notify(
        &mut bob,
        "active;expires=60",
        "SIP/2.0 183 Session Progress\n",
    ));
    assert_eq!(h.outs(), ["Send 200", "Transfer 183"]);
    assert_eq!(h.take_sent_lines(), ["200"]);

    h.peer(&notify(
        &mut bob,
        "terminated;reason=noresource",
        "SIP/2.0 200 OK\n",
    ));
    let sent = h.take_sent();
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["200", "BYE"]
    );
    assert_eq!(start_line(&sent[1]), "BYE sip:bob@192.0.2.9:5060 SIP/2.0");
    assert_eq!(
        h.outs(),
        [
            "Send 200",
            "Transfer 200 done",
            "Send BYE",
            "Media Close",
            "Ended Transferred Local"
        ]
    );
    assert!(h.call_events().contains(&CallEvent::Transfer {
        call_id: id.clone(),
        code: 200,
        done: true
    }));
    assert!(calls(&h).is_empty());
    // A late duplicate NOTIFY: the call is gone (§12.2.2).
    h.peer(&notify(&mut bob, "terminated", "SIP/2.0 200 OK\n"));
    assert_eq!(h.one_sent().status(), Some(481));
    assert!(h.outs().iter().all(|o| !o.starts_with("Transfer")));
}

#[test]
fn a_transfer_of_an_outbound_call_and_the_final_notify_before_the_202() {
    let (mut h, id, _inv, mut callee) = outbound_call("1001", "callee");
    transfer(&mut h, &id, "sip:carol@example.org", None).unwrap();
    let refer = h.one_sent();
    assert_eq!(
        start_line(&refer),
        "REFER sip:bob@192.0.2.9:5060;transport=udp SIP/2.0"
    );
    assert_eq!(header(&refer, "Refer-To"), "<sip:carol@example.org>");
    assert_eq!(header(&refer, "To"), "<sip:1001@example.com>;tag=callee");
    h.outs();
    // The NOTIFY overtakes the 202 (RFC 3515 §2.4.4 allows it).
    h.peer(&notify(&mut callee, "terminated", "SIP/2.0 200 OK\n"));
    assert_eq!(
        h.outs(),
        [
            "Send 200",
            "Transfer 200 done",
            "Send BYE",
            "Media Close",
            "Ended Transferred Local"
        ]
    );
    h.take_sent();
    h.peer(&reply(&refer, 202, "", &[], None));
    assert!(h.outs().is_empty());
}

#[test]
fn a_refused_refer_keeps_the_call() {
    let (mut h, mut bob, id) = inbound_call();
    transfer(&mut h, &id, "1002", None).unwrap();
    let refer = h.one_sent();
    h.outs();
    h.peer(&reply(&refer, 403, "", &[], None));
    assert_eq!(h.outs(), ["Transfer 403 done"]);
    assert!(h.call_events().contains(&CallEvent::Transfer {
        call_id: id.clone(),
        code: 403,
        done: true
    }));
    assert!(h.take_sent().is_empty(), "no BYE");
    assert_eq!(calls(&h), [id.as_str()]);
    // A NOTIFY after that: no subscription (RFC 6665 §4.1.3), nothing reported.
    h.peer(&notify(&mut bob, "terminated", "SIP/2.0 200 OK\n"));
    assert_eq!(h.one_sent().status(), Some(481));
    assert_eq!(h.outs(), ["Send 481"]);
    assert_eq!(calls(&h), [id.as_str()]);

    // Another: accepted, then the target is busy (final NOTIFY 486) → the call stays.
    refer_accepted(&mut h, &id, "1002", None);
    h.peer(&notify(&mut bob, "active", "SIP/2.0 100 Trying\n"));
    h.peer(&notify(
        &mut bob,
        "terminated;reason=noresource",
        "SIP/2.0 486 Busy Here\n",
    ));
    assert_eq!(
        h.outs(),
        ["Send 200", "Transfer 100", "Send 200", "Transfer 486 done"]
    );
    // A duplicate of the final NOTIFY (new CSeq): the subscription is over (481).
    h.peer(&notify(
        &mut bob,
        "terminated;reason=noresource",
        "SIP/2.0 486 Busy Here\n",
    ));
    assert_eq!(h.outs(), ["Send 481"]);
    assert_eq!(calls(&h), [id.as_str()]);
    assert_eq!(h.take_sent_lines(), ["200", "200", "481"]);

    // A 481 to the REFER: the dialog is gone (§12.2.1.2).
    transfer(&mut h, &id, "1002", None).unwrap();
    let refer = h.one_sent();
    h.outs();
    h.peer(&reply(&refer, 481, "", &[], None));
    assert_eq!(
        h.outs(),
        [
            "Transfer 481 done",
            "Media Close",
            "Ended Dialog Error Remote"
        ]
    );
    assert!(calls(&h).is_empty());
}

/// §12.2.1.2: no answer at all to our REFER (Timer F), or a 408, ends the dialog: the
/// transfer fails, then a BYE.
#[test]
fn no_answer_or_408_to_a_refer_ends_the_call() {
    for lost in [true, false] {
        let (mut h, _, id) = inbound_call();
        let t0 = h.now;
        transfer(&mut h, &id, "1002", None).unwrap();
        let refer = h.one_sent();
        h.outs();
        if lost {
            h.advance(Duration::from_millis(31_999));
            assert!(h.outs().is_empty());
            h.advance(Duration::from_millis(1));
        } else {
            h.peer(&reply(&refer, 408, "", &[], None));
        }
        assert_eq!(
            h.outs(),
            [
                "Transfer 408 done",
                "Send BYE",
                "Media Close",
                "Ended Request Timeout System"
            ]
        );
        if lost {
            assert_eq!(
                h.time_of("Transfer 408"),
                Some(t0 + Duration::from_secs(32))
            );
        }
        assert_eq!(h.take_sent_lines(), ["BYE"]);
        assert!(calls(&h).is_empty());
    }
}

#[test]
fn transfer_refusals() {
    let mut h = registered();
    let mut bob = bob(&h);
    assert_eq!(
        transfer(&mut h, "nosuch", "1002", None),
        Err(CallError::NotFound)
    );
    let (rid, _) = h.ring(&mut bob);
    assert!(matches!(
        transfer(&mut h, &rid, "1002", None),
        Err(CallError::InvalidState(_))
    ));
    h.answer_with_sdp(&rid);
    h.peer(&bob.ack(bob.cseq, None));
    assert_eq!(
        transfer(&mut h, &rid, "sip:", None),
        Err(CallError::InvalidNumber)
    );
    assert_eq!(
        transfer(&mut h, &rid, "", None),
        Err(CallError::InvalidNumber)
    );
    // Attended: the consultation call must be another live, confirmed call.
    assert!(matches!(
        transfer(&mut h, &rid, "", Some(&rid)),
        Err(CallError::InvalidArgument(_))
    ));
    assert_eq!(
        transfer(&mut h, &rid, "", Some("nosuch")),
        Err(CallError::NotFound)
    );
    let (cid, _inv) = h.place_call("1002");
    assert!(matches!(
        transfer(&mut h, &rid, "", Some(&cid)),
        Err(CallError::InvalidState(_))
    ));
    assert_eq!(
        transfer(&mut h, "nosuch", "", Some(&rid)),
        Err(CallError::NotFound)
    );
    h.take_sent();
    h.outs();
    assert!(h.sent_requests("REFER").is_empty());
}

#[test]
fn notify_with_another_event_gets_489() {
    let (mut h, mut bob, id) = inbound_call();
    refer_accepted(&mut h, &id, "1002", None);
    for headers in [
        vec!["Event: dialog", "Subscription-State: active"],
        vec!["Event: referral", "Subscription-State: terminated"],
        vec!["Subscription-State: terminated"],
    ] {
        h.peer(&notify_with(&mut bob, &headers, "SIP/2.0 200 OK\n"));
        assert_eq!(h.one_sent().status(), Some(489), "{headers:?}");
        assert_eq!(h.outs(), ["Send 489"]);
    }
    // `refer` with an id parameter (RFC 3515 §2.4.6) and in another case is fine.
    h.peer(&notify_with(
        &mut bob,
        &[
            "Event: REFER;id=93809824",
            "Subscription-State: Terminated;reason=noresource",
        ],
        "SIP/2.0 200 OK\n",
    ));
    assert_eq!(h.take_sent_lines(), ["200", "BYE"]);
    assert!(h.outs().contains(&"Ended Transferred Local".into()));
}

#[test]
fn sipfrag_garbage_does_no_harm() {
    let (mut h, mut bob, id) = inbound_call();
    refer_accepted(&mut h, &id, "1002", None);
    let garbage: [&[u8]; 12] = [
        b"",
        b"garbage",
        b"SIP/2.0",
        b"SIP/2.0 ",
        b"SIP/2.0 2",
        b"SIP/2.0 abc Foo",
        b"SIP/2.0 099 Low",
        b"SIP/2.0 700 High",
        b"SIP/2.0 99999 Big",
        b"SIP/3.0 200 OK",
        b"\xff\xfe\xfd SIP/2.0 200 OK",
        b"INVITE sip:x SIP/2.0\r\n",
    ];
    for body in garbage {
        h.raw(&notify_raw(&mut bob, "active", body));
        assert_eq!(h.one_sent().status(), Some(200), "{body:?}");
        assert_eq!(h.outs(), ["Send 200"], "{body:?}");
    }
    // Garbage with a terminated subscription: the transfer did not happen.
    h.raw(&notify_raw(&mut bob, "terminated", b"SIP/2.0 2xx"));
    assert_eq!(h.outs(), ["Send 200", "Transfer 0 done"]);
    assert_eq!(h.take_sent_lines(), ["200"]);
    assert_eq!(calls(&h), [id.as_str()]);
    // A 1xx with a terminated subscription: no final word either.
    refer_accepted(&mut h, &id, "1002", None);
    h.peer(&notify(
        &mut bob,
        "terminated;reason=timeout",
        "SIP/2.0 180 Ringing\n",
    ));
    assert_eq!(h.outs(), ["Send 200", "Transfer 180 done"]);
    assert_eq!(h.take_sent_lines(), ["200"]);
    assert_eq!(calls(&h), [id.as_str()]);
    // The status line may be followed by headers of the sipfrag.
    refer_accepted(&mut h, &id, "1002", None);
    h.peer(&notify(
        &mut bob,
        "terminated",
        "SIP/2.0 603 Declined\nWarning: 399 x \"no\"\n",
    ));
    assert_eq!(h.outs(), ["Send 200", "Transfer 603 done"]);
    assert_eq!(calls(&h), [id.as_str()]);
}

#[test]
fn attended_transfer_ends_both_calls() {
    let (mut h, mut bob, a) = inbound_call();
    // The consultation call to the target.
    let (b, b_invite, mut carol) = outbound_up(&mut h, "1002", "carol.tag");
    let b_tag = tag_of(&header(&b_invite, "From"));
    transfer(&mut h, &a, "ignored", Some(&b)).unwrap();
    let refer = h.one_sent();
    assert_eq!(start_line(&refer), "REFER sip:bob@192.0.2.9:5060 SIP/2.0");
    // RFC 5589 §7.1, RFC 3891 §6.1: the target's view of the consultation dialog,
    // escaped as a URI header (RFC 3261 §19.1.1).
    let refer_to = header(&refer, "Refer-To");
    assert_eq!(
        refer_to,
        format!(
            "<sip:1002@example.com?Replaces={}%3Bto-tag%3Dcarol.tag%3Bfrom-tag%3D{b_tag}>",
            b.replace('@', "%40")
        )
    );
    // It parses back to the dialog.
    let parsed = NameAddrHeader::parse(&refer_to).unwrap();
    let Uri::Sip(u) = parsed.uri() else { panic!() };
    let (name, value) = u.header_pairs().next().unwrap();
    assert_eq!(name, "Replaces");
    assert_eq!(
        scan::unescape(value),
        format!("{b};to-tag=carol.tag;from-tag={b_tag}")
    );
    h.peer(&reply(&refer, 202, "", &[], None));
    h.peer(&notify(&mut bob, "active", "SIP/2.0 100 Trying\n"));
    h.take_sent();
    h.outs();
    h.peer(&notify(&mut bob, "terminated", "SIP/2.0 200 OK\n"));
    let sent = h.take_sent();
    // The original call: BYE at once. The consultation call is the target's to end
    // (RFC 5589 §7: it was replaced).
    assert_eq!(
        sent.iter().map(start_line).collect::<Vec<_>>(),
        [
            "SIP/2.0 200 OK".to_owned(),
            "BYE sip:bob@192.0.2.9:5060 SIP/2.0".into(),
        ]
    );
    assert_eq!(
        h.outs(),
        [
            "Send 200",
            "Transfer 200 done",
            "Send BYE",
            "Media Close",
            "Ended Transferred Local",
        ]
    );
    h.advance(Duration::from_secs(1));
    h.peer(&carol.request("BYE", &[], None));
    assert_eq!(h.one_sent().status(), Some(200));
    assert_eq!(
        h.outs(),
        ["Send 200", "Media Close", "Ended Transferred Remote"]
    );
    // No BYE of ours follows after the grace period.
    h.advance(Duration::from_secs(5));
    assert!(h.take_sent().is_empty());
    let ended: Vec<String> = h
        .call_events()
        .iter()
        .filter_map(|e| match e {
            CallEvent::Ended { call_id, .. } => Some(call_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ended, [a, b]);
    assert!(calls(&h).is_empty());
}

#[test]
fn attended_transfer_when_the_target_already_hung_up_the_consultation() {
    let (mut h, mut bob, a) = inbound_call();
    let (b, _b_invite, mut carol) = outbound_up(&mut h, "1002", "carol");
    refer_accepted(&mut h, &a, "", Some(&b));
    // The target replaced its leg first: its BYE comes before the NOTIFY.
    h.peer(&carol.request("BYE", &[], None));
    assert_eq!(
        h.outs(),
        ["Send 200", "Media Close", "Ended Terminated Remote"]
    );
    h.take_sent();
    h.peer(&notify(&mut bob, "terminated", "SIP/2.0 200 OK\n"));
    assert_eq!(h.take_sent_lines(), ["200", "BYE"]);
    assert_eq!(
        h.outs(),
        [
            "Send 200",
            "Transfer 200 done",
            "Send BYE",
            "Media Close",
            "Ended Transferred Local"
        ]
    );
    // A failed attended transfer leaves both calls up.
    let mut h = registered();
    let mut bob = common::call::bob(&h);
    let a = inbound_up(&mut h, &mut bob, &[]);
    let (b, _b_invite, _carol) = outbound_up(&mut h, "1002", "carol");
    refer_accepted(&mut h, &a, "", Some(&b));
    h.peer(&notify(
        &mut bob,
        "terminated",
        "SIP/2.0 481 Call Does Not Exist\n",
    ));
    assert_eq!(h.outs(), ["Send 200", "Transfer 481 done"]);
    assert_eq!(calls(&h), [a.as_str(), b.as_str()]);
}

// ------------------------------------------------------------------ the peer's REFER

#[test]
fn being_transferred_the_whole_flow() {
    let (mut h, mut bob, id) = inbound_call();
    h.peer(&bob.request(
        "REFER",
        &[
            "Refer-To: \"Carol\" <sip:carol@example.org;user=phone>",
            "Referred-By: <sip:bob@example.com>",
        ],
        None,
    ));
    let sent = h.take_sent();
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["202", "NOTIFY"]
    );
    let accepted = &sent[0];
    assert_eq!(header(accepted, "CSeq"), format!("{} REFER", bob.cseq));
    assert_eq!(tag_of(&header(accepted, "To")), bob.our_tag);
    assert_eq!(header(accepted, "Contact"), h.core.ua.dialog_contact());
    // RFC 3515 §2.4.4: the first NOTIFY at once, 100 Trying, subscription active.
    let n = &sent[1];
    assert_eq!(start_line(n), "NOTIFY sip:bob@192.0.2.9:5060 SIP/2.0");
    assert_eq!(header_values(n, "Route").len(), 2);
    assert_eq!(header(n, "Event"), "refer");
    assert_eq!(header(n, "Subscription-State"), "active;expires=60");
    assert_eq!(header(n, "Content-Type"), "message/sipfrag;version=2.0");
    assert_eq!(body(n), "SIP/2.0 100 Trying\r\n");
    assert_eq!(header(n, "Contact"), h.core.ua.dialog_contact());
    assert_eq!(tag_of(&header(n, "From")), bob.our_tag);
    assert_eq!(tag_of(&header(n, "To")), "bobtag");
    let first_notify_seq = cseq_num(n);
    let new = referred_call(&h);
    assert_ne!(new, id);
    assert_eq!(
        h.outs(),
        [
            "Send 202",
            "Send NOTIFY",
            "NewSession Outbound sip:carol@example.org;user=phone",
            "Media CreateOffer",
            "Referred sip:carol@example.org;user=phone"
        ]
    );
    assert!(h.call_events().contains(&CallEvent::Referred {
        call_id: id.clone(),
        new_call_id: new.clone(),
        target: "sip:carol@example.org;user=phone".into(),
    }));
    assert_eq!(calls(&h), [id.clone(), new.clone()]);
    h.peer(&reply(n, 200, "", &[], None));
    // A second REFER while this one runs: 491.
    h.peer(&bob.request("REFER", &["Refer-To: <sip:dave@example.org>"], None));
    assert_eq!(h.one_sent().status(), Some(491));
    h.outs();

    // The new call: INVITE to the Refer-To URI with Referred-By (RFC 3892 §5).
    h.media(&new, MediaResult::Sdp(LOCAL_SDP.into()));
    let inv = h.one_sent();
    assert_eq!(
        start_line(&inv),
        "INVITE sip:carol@example.org;user=phone SIP/2.0"
    );
    assert_eq!(header(&inv, "Referred-By"), "<sip:bob@example.com>");
    assert!(header_values(&inv, "Replaces").is_empty());
    assert_eq!(header(&inv, "Call-ID"), new);
    h.outs();
    h.peer(&reply(&inv, 180, "carol", &[], None));
    assert_eq!(h.outs(), ["Progress 180"], "no NOTIFY for 180");
    assert!(h.take_sent().is_empty());
    h.peer(&reply(&inv, 200, "carol", &CALLEE_DIALOG, Some(PEER_SDP2)));
    let sent = h.take_sent();
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["ACK", "NOTIFY"]
    );
    let n = &sent[1];
    assert_eq!(header(n, "Call-ID"), id);
    assert_eq!(
        header(n, "Subscription-State"),
        "terminated;reason=noresource"
    );
    assert_eq!(body(n), "SIP/2.0 200 OK\r\n");
    assert_eq!(cseq_num(n), first_notify_seq + 1);
    assert_eq!(header(n, "Event"), "refer");
    assert_eq!(
        h.outs(),
        [
            "Send ACK",
            "Media ApplyAnswer",
            "Accepted",
            "Confirmed",
            "Send NOTIFY"
        ]
    );
    h.peer(&reply(n, 200, "", &[], None));
    // The transferor hangs up its leg; the new call goes on.
    h.peer(&bob.request("BYE", &[], None));
    assert_eq!(
        h.outs(),
        ["Send 200", "Media Close", "Ended Terminated Remote"]
    );
    assert_eq!(calls(&h), [new]);
}

#[test]
fn being_transferred_to_a_target_that_fails() {
    let (mut h, mut bob, id) = inbound_call();
    h.peer(&bob.request("REFER", &["Refer-To: <sip:carol@example.org>"], None));
    let new = referred_call(&h);
    h.take_sent();
    h.media(&new, MediaResult::Sdp(LOCAL_SDP.into()));
    let inv = h.one_sent();
    assert!(header_values(&inv, "Referred-By").is_empty());
    h.outs();
    h.peer(&reply(&inv, 486, "carol", &[], None));
    let n = one_notify(&mut h);
    assert_eq!(body(&n), "SIP/2.0 486 Busy Here\r\n");
    assert_eq!(
        header(&n, "Subscription-State"),
        "terminated;reason=noresource"
    );
    assert_eq!(
        h.outs(),
        [
            "Send ACK",
            "Media Close",
            "Failed Busy 486 Remote",
            "Send NOTIFY"
        ]
    );
    // The transferee's call is still up, and may be transferred again.
    assert_eq!(calls(&h), [id.as_str()]);
    h.peer(&bob.request("REFER", &["Refer-To: <sip:dave@example.org>"], None));
    assert_eq!(h.take_sent_lines(), ["202", "NOTIFY"]);
    let new = referred_call(&h);
    // A media failure before the INVITE: 503 for the referrer.
    h.media(&new, MediaResult::Failed(String::new()));
    let n = one_notify(&mut h);
    assert_eq!(body(&n), "SIP/2.0 503 Service Unavailable\r\n");
    // Again: the app hangs up the new call while it rings → 487.
    h.peer(&bob.request("REFER", &["Refer-To: <sip:erin@example.org>"], None));
    h.take_sent();
    let new = referred_call(&h);
    h.media(&new, MediaResult::Sdp(LOCAL_SDP.into()));
    let inv = h.one_sent();
    h.peer(&reply(&inv, 180, "erin", &[], None));
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, &new))).unwrap();
    let sent = h.take_sent();
    let n = sent.iter().find(|m| first_line(m) == "NOTIFY").unwrap();
    assert_eq!(body(n), "SIP/2.0 487 Request Terminated\r\n");
    // Again: Timer B → 408.
    h.peer(&bob.request("REFER", &["Refer-To: <sip:frank@example.org>"], None));
    h.take_sent();
    let new = referred_call(&h);
    h.media(&new, MediaResult::Sdp(LOCAL_SDP.into()));
    h.take_sent();
    h.advance(Duration::from_secs(33));
    let n = one_notify(&mut h);
    assert_eq!(body(&n), "SIP/2.0 408 Request Timeout\r\n");
    assert_eq!(calls(&h), [id.as_str()]);
}

/// A UA with max_calls 1 and bob's inbound call up: the harness, bob, the call id.
fn bob_up_max_calls_1() -> (H, Peer, String) {
    let mut h = registered_with(sipwasm::sip::config::UaConfig {
        max_calls: 1,
        ..config()
    });
    let mut bob = bob(&h);
    let id = inbound_up(&mut h, &mut bob, &[]);
    (h, bob, id)
}

/// Found by fuzz/fuzz_targets/ua_calls.rs: the call placed for a REFER was never
/// counted against max_calls, so a peer that stays up could REFER again and again,
/// one more call each time its target answered. The referred call takes the
/// referrer's place; every other live call counts (here max_calls 1).
#[test]
fn a_refer_past_max_calls_is_declined_in_its_notify() {
    let (mut h, mut bob, id) = bob_up_max_calls_1();
    // The first REFER: its call stands in for bob's.
    h.peer(&bob.request("REFER", &["Refer-To: <sip:carol@example.org>"], None));
    assert_eq!(h.take_sent_lines(), ["202", "NOTIFY"]);
    let carol = referred_call(&h);
    h.media(&carol, MediaResult::Sdp(LOCAL_SDP.into()));
    let inv = h.one_sent();
    h.peer(&reply(&inv, 200, "carol", &CALLEE_DIALOG, Some(PEER_SDP2)));
    assert_eq!(body(&one_notify(&mut h)), "SIP/2.0 200 OK\r\n");
    h.outs();
    assert_eq!(calls(&h), [id.clone(), carol.clone()]);
    // bob stays up and REFERs again: carol's call counts, so no new call.
    h.peer(&bob.request("REFER", &["Refer-To: <sip:dave@example.org>"], None));
    let sent = h.take_sent();
    assert_eq!(
        sent.iter().map(first_line).collect::<Vec<_>>(),
        ["202", "NOTIFY", "NOTIFY"]
    );
    assert_eq!(body(&sent[1]), "SIP/2.0 100 Trying\r\n");
    assert_eq!(body(&sent[2]), "SIP/2.0 603 Decline\r\n");
    assert_eq!(
        header(&sent[2], "Subscription-State"),
        "terminated;reason=noresource"
    );
    assert_eq!(h.outs(), ["Send 202", "Send NOTIFY", "Send NOTIFY"]);
    assert_eq!(calls(&h), [id.clone(), carol.clone()]);
    // Once carol's call ends, a REFER places its call again.
    h.act(|d, now| d.cmd(|ua| ua.hangup(now, &carol))).unwrap();
    h.take_sent();
    h.outs();
    h.peer(&bob.request("REFER", &["Refer-To: <sip:erin@example.org>"], None));
    assert_eq!(h.take_sent_lines(), ["202", "NOTIFY"]);
    assert_ne!(referred_call(&h), carol);
}

#[test]
fn the_referrer_hanging_up_early_does_not_stop_the_new_call() {
    let (mut h, id, _inv, mut callee) = outbound_call("1001", "callee");
    callee.allow = String::new();
    h.peer(&callee.request("REFER", &["Refer-To: <sip:carol@example.org>"], None));
    assert_eq!(h.take_sent_lines(), ["202", "NOTIFY"]);
    let new = referred_call(&h);
    h.peer(&callee.request("BYE", &[], None));
    h.take_sent();
    h.media(&new, MediaResult::Sdp(LOCAL_SDP.into()));
    let inv = h.one_sent();
    h.outs();
    h.peer(&reply(&inv, 200, "carol", &CALLEE_DIALOG, Some(PEER_SDP)));
    // No NOTIFY: the referrer's dialog is over.
    assert_eq!(h.take_sent_lines(), ["ACK"]);
    assert_eq!(calls(&h), [new]);
    let _ = id;
}

#[test]
fn refer_with_replaces_in_the_refer_to_uri() {
    let (mut h, mut bob, _id) = inbound_call();
    h.peer(&bob.request(
        "REFER",
        &[
            "Refer-To: <sip:carol@example.org;transport=ws?Replaces=abc%40host.example%3Bto-tag%3Dt1%3Bfrom-tag%3Df1&Foo=bar&Subject=x>",
            "Referred-By: \"Bob\" <sip:bob@example.com>;cid=\"1@x\"",
        ],
        None,
    ));
    assert_eq!(h.take_sent_lines(), ["202", "NOTIFY"]);
    let new = referred_call(&h);
    h.media(&new, MediaResult::Sdp(LOCAL_SDP.into()));
    let inv = h.one_sent();
    // URI headers are not part of the Request-URI; only Replaces is taken over.
    assert_eq!(
        start_line(&inv),
        "INVITE sip:carol@example.org;transport=ws SIP/2.0"
    );
    assert_eq!(header(&inv, "To"), "<sip:carol@example.org;transport=ws>");
    assert_eq!(
        header(&inv, "Replaces"),
        "abc@host.example;to-tag=t1;from-tag=f1"
    );
    assert_eq!(
        header(&inv, "Referred-By"),
        "\"Bob\" <sip:bob@example.com>;cid=\"1@x\""
    );
    assert!(header_values(&inv, "Foo").is_empty());
    assert!(header_values(&inv, "Subject").is_empty());
    assert_eq!(header(&inv, "Supported"), "timer, replaces, outbound");
}

#[test]
fn bad_refers_are_refused() {
    let mut h = registered();
    let mut bob = bob(&h);
    // Not before the call is up: the REFER comes in the early dialog (after 180).
    let (rid, _) = h.ring(&mut bob);
    h.peer(&bob.request("REFER", &["Refer-To: <sip:carol@example.org>"], None));
    assert_eq!(h.one_sent().status(), Some(403));
    h.answer_with_sdp(&rid);
    h.peer(&bob.ack(100, None));
    h.outs();
    let bad: [&[&str]; 14] = [
        &[],
        &[
            "Refer-To: <sip:carol@example.org>",
            "Refer-To: <sip:dave@example.org>",
        ],
        &["Refer-To: <sip:carol@example.org>, <sip:dave@example.org>"],
        &["Refer-To: <mailto:carol@example.org>"],
        &["Refer-To: <http://example.org/>"],
        &["Refer-To: <sip:>"],
        &["Refer-To: <>"],
        &["Refer-To: garbage"],
        &["Refer-To: \"unterminated <sip:a@b>"],
        &["Refer-To: <sip:carol@example.org?Replaces=%0D%0AVia:%20evil>"],
        &["Refer-To: <sip:carol@example.org?Replaces=>"],
        &["Refer-To: <sip:carol@example.org?Replaces=%00>"],
        &["Refer-To: <sip:carol@example.org?Replaces=a%0Ab>"],
        &["Refer-To: <sip:carol@[::1>"],
    ];
    for headers in bad {
        h.peer(&bob.request("REFER", headers, None));
        let r = h.one_sent();
        assert_eq!(r.status(), Some(400), "{headers:?}");
        assert_eq!(h.outs(), ["Send 400"], "{headers:?}");
    }
    assert_eq!(calls(&h), [rid.as_str()]);
    // A REFER outside any dialog: 481.
    let mut stranger = Peer::caller("stranger@example.com", &h.contact_uri());
    h.peer(
        &stranger
            .request("REFER", &["Refer-To: <sip:carol@example.org>"], None)
            .replace(";tag=\n", "\n")
            .replace("z9hG4bKpeer1", "z9hG4bKstranger1"),
    );
    assert_eq!(h.one_sent().status(), Some(481));
    // Odd but usable forms are taken: no angle brackets, a tel: URI, a Replaces
    // without tags (the target will judge it).
    for (refer_to, target) in [
        ("sip:carol@example.org", "sip:carol@example.org"),
        ("<tel:+15551234567>", "tel:+15551234567"),
        (
            "<sip:carol@example.org?Replaces=justacallid>",
            "sip:carol@example.org",
        ),
    ] {
        h.peer(&bob.request("REFER", &[&format!("Refer-To: {refer_to}")], None));
        assert_eq!(h.take_sent_lines(), ["202", "NOTIFY"], "{refer_to}");
        let new = referred_call(&h);
        assert!(h.call_events().contains(&CallEvent::Referred {
            call_id: rid.clone(),
            new_call_id: new.clone(),
            target: target.into()
        }));
        h.act(|d, now| d.cmd(|ua| ua.hangup(now, &new))).unwrap();
        assert_eq!(h.take_sent_lines(), ["NOTIFY"]);
    }
}

// ------------------------------------------------------------------ INVITE with Replaces

/// Carol calling the UA (a new Call-ID, her own tag).
fn carol(h: &H, call_id: &str) -> Peer {
    let mut p = Peer::caller(call_id, &h.contact_uri());
    p.tag = "caroltag".into();
    p.from = "<sip:carol@example.org>".into();
    p
}

#[test]
fn an_invite_with_replaces_takes_over_the_call() {
    let (mut h, bob, old) = bob_up_max_calls_1();
    let mut carol = carol(&h, "replacer@example.org");
    // RFC 3891 §3: to-tag is our tag, from-tag the peer's (our view of the dialog);
    // LWS and case do not matter.
    let replaces = format!("Replaces: {old} ; To-Tag={} ; from-tag=bobtag", bob.our_tag);
    h.peer(&carol.invite(Some(PEER_SDP2), &[&replaces, "Require: replaces"]));
    // Not counted against max_calls (1), no 180, no Incoming: answer at once.
    let sent = h.take_sent();
    assert_eq!(sent.iter().map(first_line).collect::<Vec<_>>(), ["100"]);
    assert_eq!(
        h.outs(),
        [
            "Send 100",
            "NewSession Inbound sip:carol@example.org",
            "Replaces dlg1@example.com"
        ]
    );
    assert!(h.call_events().contains(&CallEvent::Replaces {
        call_id: "replacer@example.org".into(),
        replaced: old.clone()
    }));
    assert_eq!(calls(&h), [old.clone(), "replacer@example.org".into()]);
    let ok = h.answer_with_sdp("replacer@example.org");
    carol.learn(&ok);
    h.outs();
    // The old call goes once the new one is confirmed.
    h.advance(Duration::from_millis(100));
    assert!(h.sent_requests("BYE").is_empty());
    h.peer(&carol.ack(carol.cseq, None));
    let bye = h.one_sent();
    assert_eq!(start_line(&bye), "BYE sip:bob@192.0.2.9:5060 SIP/2.0");
    assert_eq!(header(&bye, "Call-ID"), old);
    assert_eq!(
        h.outs(),
        [
            "Confirmed",
            "Send BYE",
            "Media Close",
            "Ended Replaced Local"
        ]
    );
    assert!(h.call_events().contains(&CallEvent::Ended {
        call_id: old.clone(),
        cause: "Replaced".into(),
        originator: sipwasm::sip::ua::Originator::Local
    }));
    assert_eq!(calls(&h), ["replacer@example.org"]);
}

/// Found by fuzz/fuzz_targets/ua_calls.rs: every INVITE replacing the same call was
/// exempt from max_calls, so a peer could open any number of calls by sending the same
/// Replaces again (here with max_calls 1).
#[test]
fn a_second_replaces_of_the_same_call_counts_against_max_calls() {
    let (mut h, bob, old) = bob_up_max_calls_1();
    let replaces = format!("Replaces: {old};to-tag={};from-tag=bobtag", bob.our_tag);
    let mut first = carol(&h, "replacer1@example.org");
    h.peer(&first.invite(Some(PEER_SDP2), &[&replaces]));
    assert_eq!(
        h.outs(),
        [
            "Send 100",
            "NewSession Inbound sip:carol@example.org",
            "Replaces dlg1@example.com"
        ]
    );
    // More INVITEs replacing the same call while the first is unconfirmed: calls like
    // any other, refused as max_calls is reached.
    for i in 2..5 {
        let mut next = carol(&h, &format!("replacer{i}@example.org"));
        h.peer(&next.invite(Some(PEER_SDP2), &[&replaces]));
        assert_eq!(h.outs(), ["Send 486"], "replacer{i}");
    }
    assert_eq!(calls(&h), [old.clone(), "replacer1@example.org".into()]);
    // The first replacement still takes over.
    h.take_sent();
    let ok = h.answer_with_sdp("replacer1@example.org");
    first.learn(&ok);
    h.outs();
    h.peer(&first.ack(first.cseq, None));
    assert_eq!(
        h.outs(),
        [
            "Confirmed",
            "Send BYE",
            "Media Close",
            "Ended Replaced Local"
        ]
    );
    assert_eq!(calls(&h), ["replacer1@example.org"]);
}

#[test]
fn replaces_that_matches_no_confirmed_call_gets_481() {
    let (mut h, mut bob, old) = inbound_call();
    let ours = bob.our_tag.clone();
    let mut ringing = Peer::caller("ringing@example.com", &h.contact_uri());
    let (rid, ringing_180) = h.ring(&mut ringing);
    let ringing_tag = tag_of(&header(&ringing_180, "To"));
    let values = [
        // Tags swapped (the peer's view, not ours).
        format!("{old};to-tag=bobtag;from-tag={ours}"),
        format!("{old};to-tag={ours};from-tag=other"),
        format!("{old};to-tag=other;from-tag=bobtag"),
        format!("nosuch@example.com;to-tag={ours};from-tag=bobtag"),
        // No tags, one tag, empty tags, tags without values.
        old.clone(),
        format!("{old};to-tag={ours}"),
        format!("{old};from-tag=bobtag"),
        format!("{old};to-tag=;from-tag="),
        format!("{old};to-tag;from-tag"),
        // A ringing call cannot be replaced.
        format!("{rid};to-tag={ringing_tag};from-tag=bobtag"),
        // Garbage.
        ";;;".into(),
        "=;=;=".into(),
        format!("{};to-tag={}", "x".repeat(2000), "y".repeat(2000)),
    ];
    for (i, v) in values.iter().enumerate() {
        let mut carol = carol(&h, &format!("replacer{i}@example.org"));
        h.outs();
        h.peer(&carol.invite(Some(PEER_SDP2), &[&format!("Replaces: {v}")]));
        let r = h.one_sent();
        assert_eq!(r.status(), Some(481), "{v}");
        assert!(!tag_of(&header(&r, "To")).is_empty());
        assert_eq!(h.outs(), ["Send 481"], "{v}");
        carol.learn(&r);
        // The ACK for the 481 is absorbed.
        h.peer(&carol.request_seq("ACK", carol.cseq, &[], None).replace(
            "branch=z9hG4bKpeer1\n",
            &format!("branch={}\n", carol.invite_branch),
        ));
        assert!(h.take_sent().is_empty());
    }
    assert_eq!(calls(&h), [old.clone(), rid.clone()]);
    // RFC 3891 §3: early-only for a confirmed call → 486; two Replaces → 400.
    for (extra, code) in [
        (
            vec![format!(
                "Replaces: {old};to-tag={ours};from-tag=bobtag;early-only"
            )],
            486,
        ),
        (
            vec![
                format!("Replaces: {old};to-tag={ours};from-tag=bobtag"),
                format!("Replaces: {old};to-tag={ours};from-tag=bobtag"),
            ],
            400,
        ),
    ] {
        let mut carol = carol(&h, &format!("replacer{code}@example.org"));
        let lines: Vec<&str> = extra.iter().map(String::as_str).collect();
        h.peer(&carol.invite(Some(PEER_SDP2), &lines));
        assert_eq!(h.one_sent().status(), Some(code));
        assert_eq!(h.outs(), [format!("Send {code}")]);
    }
    assert_eq!(calls(&h), [old.clone(), rid.clone()]);
    // An ended call cannot be replaced either.
    h.peer(&bob.request("BYE", &[], None));
    h.take_sent();
    let mut carol = carol(&h, "late@example.org");
    h.peer(&carol.invite(
        Some(PEER_SDP2),
        &[&format!("Replaces: {old};to-tag={ours};from-tag=bobtag")],
    ));
    assert_eq!(h.one_sent().status(), Some(481));
}

#[test]
fn a_replacing_call_that_fails_leaves_the_old_one() {
    let (mut h, bob, old) = inbound_call();
    let replaces = format!("Replaces: {old};to-tag={};from-tag=bobtag", bob.our_tag);
    // Cancelled by its caller.
    let mut carol = carol(&h, "replacer1@example.org");
    h.peer(&carol.invite(Some(PEER_SDP2), &[&replaces]));
    h.take_sent();
    h.peer(&carol.cancel());
    assert_eq!(h.take_sent_lines(), ["200", "487"]);
    // Rejected by the app.
    let mut dave = carol.clone();
    dave.call_id = "replacer2@example.org".into();
    dave.invite_branch = "z9hG4bKinvreplacer2".into();
    h.peer(&dave.invite(Some(PEER_SDP2), &[&replaces]));
    h.take_sent();
    h.act(|d, now| d.cmd(|ua| ua.reject(now, "replacer2@example.org", 486)))
        .unwrap();
    assert_eq!(h.take_sent_lines(), ["486"]);
    // Answered, but the ACK never comes: BYE for it, the old call stays.
    let mut erin = carol.clone();
    erin.call_id = "replacer3@example.org".into();
    erin.invite_branch = "z9hG4bKinvreplacer3".into();
    h.peer(&erin.invite(Some(PEER_SDP2), &[&replaces]));
    h.take_sent();
    h.answer_with_sdp("replacer3@example.org");
    h.advance(Duration::from_secs(33));
    let byes = h.sent_requests("BYE");
    assert_eq!(byes.len(), 1);
    assert_eq!(header(&byes[0], "Call-ID"), "replacer3@example.org");
    assert_eq!(calls(&h), [old]);
}

// ------------------------------------------------------------------ hostile input

/// xorshift64*: deterministic noise.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[self.below(of.len())]
    }
}

/// `text` on the wire, sometimes with bytes flipped, a line dropped or the end cut.
fn mangle(noise: &mut Noise, text: &str) -> Vec<u8> {
    let mut b = wire(text).into_bytes();
    match noise.below(5) {
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
fn storm_of_hostile_in_call_requests_and_api_calls() {
    const REFER_TO: &[&str] = &[
        "<sip:carol@example.org>",
        "<sip:carol@example.org?Replaces=a%3Bto-tag%3Db%3Bfrom-tag%3Dc>",
        "<sip:carol@example.org?Replaces=%0D%0A>",
        "<sip:carol@example.org?Replaces=;;;&&&==>",
        "<sip:?Replaces=x>",
        "<tel:+1555>",
        "<sip:c@d?%ZZ=%ZZ>",
        "<<<sip:x>>>",
        "\"\\\" <sip:x@y>",
        "sip:carol@example.org;method=BYE?Replaces=x",
        "",
    ];
    const FRAGS: &[&str] = &[
        "SIP/2.0 100 Trying",
        "SIP/2.0 180 Ringing",
        "SIP/2.0 200 OK",
        "SIP/2.0 486 Busy Here",
        "SIP/2.0 2",
        "SIP/2.0 abc",
        "garbage",
        "",
    ];
    const STATES: &[&str] = &["active", "terminated", "pending", "TERMINATED;reason=x", ""];
    const INFOS: &[(&str, &str)] = &[
        ("application/dtmf-relay", "Signal=5\r\nDuration=100"),
        (
            "application/dtmf-relay",
            "Signal=\r\nDuration=99999999999999999999999",
        ),
        ("application/dtmf-relay", "==\r\n=Signal\r\nSignal==1"),
        ("application/dtmf", "#"),
        ("application/dtmf", "\u{0}"),
        ("text/plain", "hello"),
        ("*/*", "Signal=1"),
    ];
    const SDPS: &[&str] = &[
        PEER_SDP,
        PEER_SDP2,
        "v=0\nc=IN IP4 0.0.0.0\nm=audio 1 RTP/AVP 0\n",
        "v=0\na=inactive\nm=audio 1 RTP/AVP 0\nm=video 2 RTP/AVP 96\n",
        "m=\nm=video\nm=video 99999999999999999999 x\nc=IN\na=sendonly\n",
        "m=audio 1 RTP/AVP 0\na=sendonly\nm=video 3 RTP/AVP 96\na=recvonly\n",
    ];
    let mut h = registered_with(sipwasm::sip::config::UaConfig {
        max_calls: 4,
        ..config()
    });
    let mut noise = Noise(0x2545_f491_4f6c_dd1d);
    let mut peers: Vec<Peer> = Vec::new();
    for i in 0..2 {
        let mut p = Peer::caller(&format!("storm{i}@example.com"), &h.contact_uri());
        inbound_up(&mut h, &mut p, &[]);
        peers.push(p);
    }
    let mut last_refer: Option<Message> = None;
    let mut seen = h.sent.len();
    for round in 0..4000 {
        let ids: Vec<String> = h.core.ua.calls().map(str::to_owned).collect();
        let pick = |n: &mut Noise| {
            ids.get(n.below(ids.len() + 1))
                .cloned()
                .unwrap_or_else(|| "zz".into())
        };
        let pi = noise.below(peers.len());
        let p = &mut peers[pi];
        let text = match noise.below(9) {
            0 => {
                let to = noise.pick(REFER_TO);
                let mut extra = vec![format!("Refer-To: {to}")];
                if noise.below(2) == 0 {
                    extra.push("Referred-By: <sip:x@y>;garbage".into());
                }
                let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                p.request("REFER", &extra, None)
            }
            1 => {
                let frag = noise.pick(FRAGS).to_owned();
                let state = noise.pick(STATES);
                let event = noise.pick(&["refer", "refer;id=1", "dialog", ""]);
                notify_with(
                    p,
                    &[
                        &format!("Event: {event}"),
                        &format!("Subscription-State: {state}"),
                    ],
                    &format!("{frag}\n"),
                )
            }
            2 => {
                let (t, b) = INFOS[noise.below(INFOS.len())];
                let text = p.request("INFO", &[&format!("Content-Type: {t}")], None);
                text.replace(
                    "Content-Length: 0\n",
                    &format!("Content-Length: {}\n\n{b}", b.len()),
                )
            }
            3 => p.request("INVITE", &[], Some(noise.pick(SDPS))),
            4 => p.request("UPDATE", &[], Some(noise.pick(SDPS))),
            5 => p.ack(
                p.cseq,
                if noise.below(2) == 0 {
                    Some(PEER_SDP)
                } else {
                    None
                },
            ),
            6 => {
                // A stranger's INVITE with some Replaces.
                let target = peers[noise.below(peers.len())].clone();
                let mut s = Peer::caller(&format!("r{round}@example.org"), &h.contact_uri());
                let v = match noise.below(4) {
                    0 => format!(
                        "Replaces: {};to-tag={};from-tag={}",
                        target.call_id, target.our_tag, target.tag
                    ),
                    1 => format!("Replaces: {};to-tag={}", target.call_id, target.our_tag),
                    2 => "Replaces: ;;;=;".into(),
                    _ => format!("Replaces: {}", "%".repeat(noise.below(300))),
                };
                s.invite(Some(noise.pick(SDPS)), &[&v])
            }
            7 => match &last_refer {
                Some(r) => {
                    let code = [100, 202, 403, 481, 491, 500][noise.below(6)];
                    reply(r, code, "", &[], None)
                }
                None => p.request("OPTIONS", &[], None),
            },
            _ => p.request("BYE", &[], None),
        };
        let bytes = if noise.below(3) == 0 {
            wire(&text).into_bytes()
        } else {
            mangle(&mut noise, &text)
        };
        h.raw(&bytes);
        // The API, on live and dead calls.
        let id = pick(&mut noise);
        let _ = match noise.below(14) {
            0 => h.act(|d, now| d.cmd(|ua| ua.hold(now, &id))),
            1 => h.act(|d, now| d.cmd(|ua| ua.unhold(now, &id))),
            2 => h.act(|d, now| d.cmd(|ua| ua.renegotiate(now, &id))),
            3 => h.act(|d, now| d.cmd(|ua| ua.dtmf_info(now, &id, "1#", 100))),
            4 => h.act(|d, now| d.cmd(|ua| ua.record_info(now, &id, true))),
            5 => {
                let other = pick(&mut noise);
                let r =
                    h.act(|d, now| d.cmd(|ua| ua.transfer(now, &id, "1002", Some(other.as_str()))));
                if r.is_ok() {
                    last_refer = h.sent_requests("REFER").pop();
                }
                r
            }
            6 => h.act(|d, now| d.cmd(|ua| ua.transfer(now, &id, "1003", None))),
            7 => h.act(|d, now| d.cmd(|ua| ua.answer(now, &id))),
            8 | 9 => {
                let r = [
                    MediaResult::Sdp(noise.pick(SDPS).into()),
                    MediaResult::Applied,
                    MediaResult::Failed(String::new()),
                ][noise.below(3)]
                .clone();
                h.media(&id, r);
                Ok(())
            }
            10 if noise.below(6) == 0 => h.act(|d, now| d.cmd(|ua| ua.hangup(now, &id))),
            11 => {
                h.advance(Duration::from_millis(noise.below(5000) as u64));
                Ok(())
            }
            _ => Ok(()),
        };
        // The registrar answers refreshes (the storm lasts longer than a binding).
        let registers: Vec<Message> = h.sent[seen..]
            .iter()
            .filter(|(_, m)| first_line(m) == "REGISTER")
            .map(|(_, m)| m.clone())
            .collect();
        seen = h.sent.len();
        for r in registers {
            h.peer(&ok_register(&r, 600));
        }
        // Keep two peers with live calls around.
        if h.core.ua.calls().count() == 0 {
            let mut p = Peer::caller(&format!("again{round}@example.com"), &h.contact_uri());
            h.take_sent();
            h.outs();
            inbound_up(&mut h, &mut p, &[]);
            peers[pi] = p;
        }
    }
    // Settle: everything ends, then the phone still works.
    let ids: Vec<String> = h.core.ua.calls().map(str::to_owned).collect();
    for id in ids {
        let _ = h.act(|d, now| d.cmd(|ua| ua.terminate(now, &id, "terminate")));
    }
    h.advance(Duration::from_secs(300));
    assert_eq!(h.core.ua.calls().count(), 0);
    h.take_sent();
    h.outs();
    let mut fresh = Peer::caller("after@example.com", &h.contact_uri());
    inbound_up(&mut h, &mut fresh, &[]);
    assert!(h.core.ua.is_registered());
    // Each call: NewSession first, exactly one Ended/Failed, nothing after it.
    let mut state: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
    for e in h.call_events() {
        let id = match &e {
            CallEvent::NewSession { call_id, .. }
            | CallEvent::Incoming { call_id }
            | CallEvent::Progress { call_id, .. }
            | CallEvent::Accepted { call_id }
            | CallEvent::Confirmed { call_id }
            | CallEvent::Ended { call_id, .. }
            | CallEvent::Failed { call_id, .. }
            | CallEvent::Hold { call_id, .. }
            | CallEvent::Video { call_id, .. }
            | CallEvent::Renegotiated { call_id, .. }
            | CallEvent::Dtmf { call_id, .. }
            | CallEvent::Info { call_id, .. }
            | CallEvent::InfoDone { call_id, .. }
            | CallEvent::Transfer { call_id, .. }
            | CallEvent::Referred { call_id, .. }
            | CallEvent::Replaces { call_id, .. } => call_id.clone(),
            other => panic!("unexpected {other:?}"),
        };
        let s = state.entry(id.clone()).or_default();
        match e {
            CallEvent::NewSession { .. } => {
                assert_eq!(*s, (0, 0), "{id}: NewSession twice");
                s.0 = 1;
            }
            CallEvent::Ended { .. } | CallEvent::Failed { .. } => {
                assert_eq!(*s, (1, 0), "{id}: end without start or twice");
                s.1 = 1;
            }
            other => assert_eq!(
                *s,
                (1, 0),
                "{id}: {} outside the call",
                describe_call(&other)
            ),
        }
    }
    let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
    for e in h.call_events() {
        let d = describe_call(&e);
        *kinds
            .entry(d.split(' ').next().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    // The storm reached the features, not only the parser.
    for k in [
        "Dtmf",
        "Info",
        "Hold",
        "Renegotiated",
        "Referred",
        "Replaces",
        "Transfer",
    ] {
        assert!(kinds.contains_key(k), "no {k} in {kinds:?}");
    }
    for (id, (new, end)) in &state {
        if id != "after@example.com" {
            assert_eq!((*new, *end), (1, 1), "{id}");
        }
    }
}

#[test]
fn a_407_to_the_refer_is_answered_with_credentials() {
    let (mut h, _, id) = inbound_call();
    transfer(&mut h, &id, "1002", None).unwrap();
    let refer = h.one_sent();
    h.peer(&challenge_407(&refer, "n2"));
    let again = h.one_sent();
    assert_eq!(first_line(&again), "REFER");
    assert_eq!(cseq_num(&again), cseq_num(&refer) + 1);
    assert!(header(&again, "Proxy-Authorization").starts_with("Digest "));
    assert_eq!(header(&again, "Refer-To"), header(&refer, "Refer-To"));
    h.outs();
    h.peer(&reply(&again, 202, "", &[], None));
    assert_eq!(h.outs(), ["Transfer 202"]);
}

#[test]
fn attended_transfer_with_an_inbound_consultation_call() {
    let mut h = registered_with(sipwasm::sip::config::UaConfig {
        max_calls: 3,
        ..config()
    });
    let (a, _inv, mut callee) = outbound_up(&mut h, "1001", "callee");
    // The target called us: its URI is its From, the tags our view reversed.
    let mut carol = carol(&h, "consult@example.org");
    let b = inbound_up(&mut h, &mut carol, &[]);
    transfer(&mut h, &a, "", Some(&b)).unwrap();
    let refer = h.one_sent();
    assert_eq!(
        header(&refer, "Refer-To"),
        format!(
            "<sip:carol@example.org?Replaces=consult%40example.org%3Bto-tag%3Dcaroltag%3Bfrom-tag%3D{}>",
            carol.our_tag
        )
    );
    h.peer(&reply(&refer, 202, "", &[], None));
    h.peer(&notify(&mut callee, "terminated", "SIP/2.0 200 OK\n"));
    let byes = h.sent_requests("BYE");
    assert_eq!(
        byes.iter()
            .map(|m| header(m, "Call-ID"))
            .collect::<Vec<_>>(),
        [a]
    );
    // The target does not end the replaced consultation call: our BYE after 4 s.
    h.advance(Duration::from_secs(3));
    assert!(h.sent_requests("BYE").is_empty());
    h.advance(Duration::from_secs(2));
    let byes = h.sent_requests("BYE");
    assert_eq!(
        byes.iter()
            .map(|m| header(m, "Call-ID"))
            .collect::<Vec<_>>(),
        [b]
    );
    assert!(h.outs().iter().any(|o| o == "Ended Transferred Local"));
    assert!(calls(&h).is_empty());
}

#[test]
fn replaces_can_take_over_an_outbound_call() {
    let (mut h, old, invite, _callee) = outbound_call("1001", "callee");
    let ours = tag_of(&header(&invite, "From"));
    let mut carol = carol(&h, "replacer@example.org");
    h.peer(&carol.invite(
        Some(PEER_SDP2),
        &[&format!("Replaces: {old};to-tag={ours};from-tag=callee")],
    ));
    assert_eq!(h.take_sent_lines(), ["100"]);
    assert!(h.outs().ends_with(&[format!("Replaces {old}")]));
    let ok = h.answer_with_sdp("replacer@example.org");
    carol.learn(&ok);
    h.peer(&carol.ack(carol.cseq, None));
    let bye = h.one_sent();
    assert_eq!(header(&bye, "Call-ID"), old);
    assert_eq!(header(&bye, "To"), "<sip:1001@example.com>;tag=callee");
    assert!(h.outs().ends_with(&["Ended Replaced Local".into()]));
    assert_eq!(calls(&h), ["replacer@example.org"]);
}

#[test]
fn a_transfer_whose_final_notify_never_comes_is_given_up() {
    let (mut h, mut bob, id) = inbound_call();
    refer_accepted(&mut h, &id, "1002", None);
    h.advance(Duration::from_secs(100));
    // Each NOTIFY restarts the wait.
    h.peer(&notify(&mut bob, "active", "SIP/2.0 180 Ringing\n"));
    assert_eq!(h.outs(), ["Send 200", "Transfer 180"]);
    h.advance(Duration::from_secs(179));
    assert!(h.outs().is_empty());
    h.advance(Duration::from_secs(2));
    assert_eq!(h.outs(), ["Transfer 408 done"]);
    assert!(h.take_sent_lines().iter().all(|l| l == "200"), "no BYE");
    assert_eq!(calls(&h), [id.as_str()]);
    // A new transfer can be made.
    transfer(&mut h, &id, "1003", None).unwrap();
    assert_eq!(first_line(&h.one_sent()), "REFER");
}

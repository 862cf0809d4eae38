//! Browser unit tests of the shell (wasm-bindgen-test in headless Chromium): what
//! needs a real browser but no SIP server. The whole SDK against Kamailio is in
//! tests/e2e/.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Promise, Reflect};
use sipwasm::web::ingress::{with_text_bytes, IngressError};
use sipwasm::web::phone::PhoneOperator;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn config(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn good() -> Vec<(&'static str, JsValue)> {
    vec![
        ("server", "ws://127.0.0.1:9/".into()),
        ("uri", "sip:1001@sipwasm.test".into()),
        ("password", "pass1001".into()),
        ("log", "off".into()),
    ]
}

fn error_message(cfg: JsValue) -> String {
    match PhoneOperator::new(cfg) {
        Ok(_) => panic!("config accepted"),
        Err(e) => {
            let v: JsValue = e.into();
            Reflect::get(&v, &"message".into())
                .unwrap()
                .as_string()
                .unwrap()
        }
    }
}

#[wasm_bindgen_test]
fn bad_configs_throw_clear_errors() {
    let with = |k: &'static str, v: JsValue| {
        let mut c = good();
        c.retain(|(n, _)| *n != k);
        c.push((k, v));
        config(&c)
    };
    let without = |k: &str| {
        let mut c = good();
        c.retain(|(n, _)| *n != k);
        config(&c)
    };
    assert!(error_message(without("server")).contains("server"));
    assert!(error_message(with("server", "wss://".into())).contains("server"));
    assert!(error_message(with("server", "ws://pbx.example.com/ws".into())).contains("server"));
    assert!(error_message(with("server", 42.into())).contains("server"));
    assert!(error_message(without("uri")).contains("uri"));
    assert!(error_message(with("uri", "not a uri".into())).contains("uri"));
    assert!(error_message(without("password")).contains("password"));
    let bad_header = Array::of1(&"X-Evil: a\r\nVia: injected".into());
    assert!(error_message(with("extraHeaders", bad_header.into())).contains("extraHeaders"));
    assert!(error_message(with("registerExpires", (-5).into())).contains("registerExpires"));
    assert!(error_message(with("log", "loud".into())).contains("log"));
    assert!(error_message(JsValue::from_str("sip:1001@x")).contains("config"));
    // and a good one is accepted, with `ws://` allowed to a loopback host
    assert!(PhoneOperator::new(config(&good())).is_ok());
    assert!(PhoneOperator::new(with("server", "wss://pbx.example.com/ws".into())).is_ok());
}

#[wasm_bindgen_test]
fn ingress_copies_utf8_and_refuses_what_it_cannot_take() {
    let n = with_text_bytes(&"ÜTF-8 ✓".into(), |b| b.to_vec()).unwrap();
    assert_eq!(n, "ÜTF-8 ✓".as_bytes());
    assert_eq!(
        with_text_bytes(&42.into(), |b| b.len()),
        Err(IngressError::NotText)
    );
    let huge = "x".repeat(70_000);
    assert_eq!(
        with_text_bytes(&huge.into(), |b| b.len()),
        Err(IngressError::TooLarge)
    );
    // three-byte characters that fit in 65,535 UTF-16 units but not in the buffer
    let wide = "✓".repeat(30_000);
    assert_eq!(
        with_text_bytes(&wide.into(), |b| b.len()),
        Err(IngressError::TooLarge)
    );
}

/// A promise resolved by the first call of the returned function.
fn signal() -> (Promise, Function) {
    let mut resolve = None;
    let p = Promise::new(&mut |res, _| resolve = Some(res));
    (p, resolve.unwrap())
}

#[wasm_bindgen_test]
fn listeners_may_call_back_into_the_phone() {
    // The phone as JS sees it, and a plain JS listener that uses it while notified.
    let phone: JsValue = PhoneOperator::new(config(&good())).unwrap().into();
    let ctx = Object::new();
    Reflect::set(&ctx, &"phone".into(), &phone).unwrap();
    Reflect::set(&ctx, &"seen".into(), &Array::new()).unwrap();
    let make = Function::new_with_args(
        "ctx",
        "return (v) => { ctx.seen.push(v); void ctx.phone.isRegistered; \
         if (v === 1) ctx.phone.recordPermissions = 2; }",
    );
    let listener: Function = make.call1(&JsValue::NULL, &ctx).unwrap().into();
    let call = |method: &str, args: &[JsValue]| {
        let f: Function = Reflect::get(&phone, &method.into()).unwrap().into();
        f.apply(&phone, &args.iter().collect::<Array>()).unwrap()
    };
    call(
        "on",
        &["recordPermissionsChange".into(), listener.clone().into()],
    );
    Reflect::set(&phone, &"recordPermissions".into(), &1.into()).unwrap();
    let seen: Array = Reflect::get(&ctx, &"seen".into()).unwrap().into();
    // the re-entrant change was delivered from inside the first listener call
    assert_eq!(seen.to_vec(), [JsValue::from(1), JsValue::from(2)]);
    assert_eq!(
        Reflect::get(&phone, &"recordPermissions".into()).unwrap(),
        2
    );
    call("off", &["recordPermissionsChange".into()]);
    Reflect::set(&phone, &"recordPermissions".into(), &0.into()).unwrap();
    assert_eq!(seen.length(), 2, "off() removed the listener");
}

#[wasm_bindgen_test]
async fn unreachable_server_reports_disconnected_and_destroy_stops_everything() {
    let phone = PhoneOperator::new(config(&good())).unwrap();
    let (p, resolve) = signal();
    phone.once("disconnected", resolve);
    phone.start();
    let e = JsFuture::from(p).await.unwrap();
    let code = Reflect::get(&e, &"code".into()).unwrap().as_f64().unwrap();
    assert!(code >= 1000.0, "a WebSocket close code: {code}");
    assert!(!phone.is_registered());
    phone.destroy();
    // after destroy: nothing is emitted any more and calls are harmless
    phone.start();
    assert!(!phone.disconnect());
}

/// Awaits a Result promise and returns its `code`.
async fn code_of(p: Promise) -> f64 {
    let r = JsFuture::from(p).await.unwrap();
    Reflect::get(&r, &"code".into()).unwrap().as_f64().unwrap()
}

#[wasm_bindgen_test]
async fn call_api_without_registration_answers_with_result_codes_in_api_order() {
    let phone = PhoneOperator::new(config(&good())).unwrap();
    let none = JsValue::UNDEFINED;
    // arguments first (-209, -207), then registration (-201)
    assert_eq!(
        code_of(phone.call("a b".into(), none.clone(), none.clone())).await,
        -209.0
    );
    assert_eq!(
        code_of(phone.call(42.into(), none.clone(), none.clone())).await,
        -209.0
    );
    assert_eq!(
        code_of(phone.call("".into(), none.clone(), none.clone())).await,
        -209.0
    );
    assert_eq!(
        code_of(phone.call("1002".into(), none.clone(), "nope".into())).await,
        -207.0
    );
    assert_eq!(
        code_of(phone.call("1002".into(), none.clone(), none.clone())).await,
        -201.0
    );
    assert_eq!(
        code_of(phone.call("sip:1002@sipwasm.test".into(), none.clone(), none.clone())).await,
        -201.0
    );
    assert_eq!(
        code_of(phone.answer("x".into(), none.clone(), none.clone())).await,
        -211.0
    );
    assert!(!phone.hangup("x".into()));
    assert!(!phone.reject("x".into()));
    assert!(!phone.terminate("x".into(), none.clone()));
    assert!(!phone.set_current_session("x".into()));
    assert!(phone.get_session("x".into()).is_null());
    assert!(phone.current_session_id().is_null());
    assert_eq!(phone.sessions().size(), 0);
    assert_eq!(phone.get_sessions().length(), 0);
    assert_eq!(phone.incoming_list().length(), 0);
    assert!(!phone.is_max_call());
    phone.destroy();
    assert_eq!(
        code_of(phone.call("1002".into(), none.clone(), none)).await,
        -201.0
    );
}

#[wasm_bindgen_test]
fn call_settings_in_the_config_are_checked() {
    let with = |k: &'static str, v: JsValue| {
        let mut c = good();
        c.push((k, v));
        config(&c)
    };
    assert!(error_message(with("rejectCode", 500.into())).contains("rejectCode"));
    assert!(error_message(with("maxCalls", 0.into())).contains("maxCalls"));
    assert!(
        error_message(with("iceGatheringTimeout", 60_000.into())).contains("iceGatheringTimeout")
    );
    assert!(error_message(with("iceServers", "stun:x".into())).contains("iceServers"));
    assert!(PhoneOperator::new(with("iceGatheringTimeout", 300.into())).is_ok());
    assert!(PhoneOperator::new(with("rejectCode", 603.into())).is_ok());
}

// ------------------------------------------------------------------- media and report

use sipwasm::web::media::{self, CallMedia, Hold};
use sipwasm::web::report::{self, Jitter, KindStats, ReportAcc, ReportInfo};
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::{MediaStream, MediaStreamTrack, RtcSignalingState};

#[wasm_bindgen(inline_js = "
export function test_media(video) {
  // webdriver.json: Chromium's fake capture devices, permission granted
  return navigator.mediaDevices.getUserMedia({ audio: !video, video });
}
export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
")]
extern "C" {
    /// The fake microphone, or the fake camera when `video`.
    #[wasm_bindgen(catch)]
    async fn test_media(video: bool) -> Result<JsValue, JsValue>;
    async fn sleep(ms: u32);
}

async fn fake(video: bool) -> MediaStream {
    test_media(video).await.unwrap().unchecked_into()
}

/// A call's media over the fake microphone.
async fn call_media() -> CallMedia {
    CallMedia::new(&JsValue::UNDEFINED, fake(false).await).unwrap()
}

/// The m-section of `kind` in `sdp` (from its m= line to the next).
fn section<'a>(sdp: &'a str, kind: &str) -> &'a str {
    let start = sdp.find(&format!("m={kind} ")).expect("m-section");
    let rest = &sdp[start..];
    match rest[2..].find("\nm=") {
        Some(end) => &rest[..end + 2],
        None => rest,
    }
}

/// The port of the m-section of `kind`.
fn port(sdp: &str, kind: &str) -> u32 {
    section(sdp, kind)
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

/// The direction attribute of the m-section of `kind`.
fn dir<'a>(sdp: &'a str, kind: &str) -> &'a str {
    ["sendrecv", "sendonly", "recvonly", "inactive"]
        .into_iter()
        .find(|d| section(sdp, kind).contains(&format!("a={d}\r\n")))
        .expect("a direction attribute")
}

/// Offer from `a` (with `hold`), answer from `b` (with `hold_b`), applied: the SDPs.
async fn exchange(
    a: &CallMedia,
    b: &CallMedia,
    video: bool,
    hold: Hold,
    hold_b: bool,
) -> (String, String) {
    let offer = media::create_offer(&a.link(), video, hold, 300)
        .await
        .unwrap();
    let answer = media::create_answer(&b.link(), &offer, hold_b, 300)
        .await
        .unwrap();
    media::apply_answer(&a.link(), &answer).await.unwrap();
    (offer, answer)
}

fn state(m: &CallMedia) -> RtcSignalingState {
    m.link().pc().signaling_state()
}

/// Remote tracks as `on_track` delivers them.
fn collect_tracks(m: &mut CallMedia) -> Rc<RefCell<Vec<MediaStreamTrack>>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    m.on_track(move |t| s.borrow_mut().push(t));
    seen
}

#[wasm_bindgen_test]
async fn hold_is_sendonly_or_inactive_in_offers_and_answers() {
    let mut a = call_media().await;
    let b = call_media().await;
    let seen = collect_tracks(&mut a);
    let (offer, answer) = exchange(&a, &b, false, Hold::Off, false).await;
    let (remote, _) = a.add_remote(&seen.borrow()[0]).unwrap();
    assert_eq!(
        (dir(&offer, "audio"), dir(&answer, "audio")),
        ("sendrecv", "sendrecv")
    );
    assert!(!offer.contains("m=video"));

    // a holds b (RFC 3264 §8.4): sendonly, answered recvonly
    let (offer, answer) = exchange(&a, &b, false, Hold::SendOnly, false).await;
    assert_eq!(
        (dir(&offer, "audio"), dir(&answer, "audio")),
        ("sendonly", "recvonly")
    );
    // on hold nothing is received: the remote stream loses its audio, as the
    // browser's own streams do
    assert!(a.prune_remote());
    assert_eq!(remote.get_audio_tracks().length(), 0);
    // both hold: inactive
    let offer = media::create_offer(&a.link(), false, Hold::Inactive, 300)
        .await
        .unwrap();
    assert_eq!(dir(&offer, "audio"), "inactive");
    // the re-offer is refused: back to stable, and rollback is a no-op when stable
    assert_eq!(state(&a), RtcSignalingState::HaveLocalOffer);
    media::rollback(&a.link()).await.unwrap();
    assert_eq!(state(&a), RtcSignalingState::Stable);
    media::rollback(&a.link()).await.unwrap();

    // b offers sendrecv, a answers on hold: sendonly; then unhold both ways
    let (offer, answer) = exchange(&b, &a, false, Hold::Off, true).await;
    assert_eq!(
        (dir(&offer, "audio"), dir(&answer, "audio")),
        ("sendrecv", "sendonly")
    );
    let (offer, answer) = exchange(&a, &b, false, Hold::Off, false).await;
    assert_eq!(
        (dir(&offer, "audio"), dir(&answer, "audio")),
        ("sendrecv", "sendrecv")
    );
    // unhold: the track arrives again through on_track
    assert!(seen.borrow().len() > 1);
    let again = seen.borrow().last().cloned().unwrap();
    assert!(!a.add_remote(&again).unwrap().1);
    assert_eq!(remote.get_audio_tracks().length(), 1);
    assert!(!a.prune_remote());
    // a peer's sendonly offer (it holds us) is answered recvonly, or inactive on hold
    let (offer, answer) = exchange(&b, &a, false, Hold::SendOnly, false).await;
    assert_eq!(
        (dir(&offer, "audio"), dir(&answer, "audio")),
        ("sendonly", "recvonly")
    );
    let (_, answer) = exchange(&b, &a, false, Hold::SendOnly, true).await;
    assert_eq!(dir(&answer, "audio"), "inactive");
}

#[wasm_bindgen_test]
async fn mute_and_dtmf() {
    let mut a = call_media().await;
    let b = call_media().await;
    let tones = Rc::new(RefCell::new(String::new()));
    let t = tones.clone();
    a.on_tone_change(move |tone| {
        t.borrow_mut()
            .push_str(if tone.is_empty() { "." } else { &tone })
    });
    // nothing negotiated yet: no DTMF
    let e = a.send_dtmf("1", 100, 70).unwrap_err();
    assert!(e.contains("telephone-event"), "{e}");
    exchange(&a, &b, false, Hold::Off, false).await;

    assert!(a.set_muted(true));
    let mic = a.link().pc().get_senders().get(0);
    let track = Reflect::get(&mic, &"track".into()).unwrap();
    assert_eq!(Reflect::get(&track, &"enabled".into()).unwrap(), false);
    assert!(a.set_muted(false));
    assert_eq!(Reflect::get(&track, &"enabled".into()).unwrap(), true);

    a.send_dtmf("1#", 100, 70).unwrap();
    a.send_dtmf("9", 100, 70).unwrap(); // queued after the others
    assert!(a.send_dtmf("x", 100, 70).is_err(), "not a DTMF character");
    for _ in 0..40 {
        if tones.borrow().ends_with('.') {
            break;
        }
        sleep(50).await;
    }
    assert_eq!(*tones.borrow(), "1#9.");

    a.close();
    assert!(a.send_dtmf("1", 100, 70).is_err());
}

#[wasm_bindgen_test]
async fn video_added_then_removed() {
    let mut a = call_media().await;
    let mut b = call_media().await;
    let seen = collect_tracks(&mut b);
    exchange(&a, &b, false, Hold::Off, false).await;
    assert!(!a.has_local_video() && a.local_video().is_none());

    a.add_video(fake(true).await).unwrap();
    assert!(a.has_local_video());
    let v = a.local_video().unwrap();
    assert_eq!(
        (v.get_video_tracks().length(), v.get_audio_tracks().length()),
        (1, 0)
    );
    assert!(
        a.add_video(fake(true).await).is_err(),
        "one camera at a time"
    );
    let (offer, answer) = exchange(&a, &b, false, Hold::Off, false).await;
    assert_ne!(port(&offer, "video"), 0);
    assert_eq!(
        (dir(&offer, "video"), dir(&answer, "video")),
        ("sendrecv", "recvonly")
    );
    assert!(b.receives_video() && !a.receives_video());
    for t in seen.borrow().iter() {
        b.add_remote(t);
    }
    let remote = b.remote().unwrap();
    assert_eq!(remote.get_video_tracks().length(), 1);
    assert!(!b.prune_remote(), "nothing to prune");

    a.remove_video();
    assert!(!a.has_local_video() && a.local_video().is_none());
    let (offer, answer) = exchange(&a, &b, false, Hold::Off, false).await;
    assert_eq!((port(&offer, "video"), port(&answer, "video")), (0, 0));
    assert!(!b.receives_video());
    assert!(b.prune_remote());
    assert_eq!(remote.get_video_tracks().length(), 0);
    assert_eq!(remote.get_audio_tracks().length(), 1);
    assert!(!b.prune_remote());
}

#[wasm_bindgen_test]
async fn video_is_added_on_the_transceiver_the_peer_offered() {
    let a = call_media().await;
    let mut b = call_media().await;
    // a offers to receive video; b answers recvonly... b has no camera: it receives none
    let (offer, answer) = exchange(&a, &b, true, Hold::Off, false).await;
    assert_eq!(
        (dir(&offer, "video"), dir(&answer, "video")),
        ("recvonly", "inactive")
    );
    // b adds its camera on the m=video that exists: still one, now sending
    b.add_video(fake(true).await).unwrap();
    let (offer, answer) = exchange(&b, &a, false, Hold::Off, false).await;
    assert_eq!(offer.matches("m=video").count(), 1);
    assert_eq!(
        (dir(&offer, "video"), dir(&answer, "video")),
        ("sendrecv", "recvonly")
    );
    assert!(a.receives_video());
    b.close();
    assert!(b.add_video(fake(true).await).is_err());
}

#[wasm_bindgen_test]
async fn report_of_a_loopback_call() {
    let a = call_media().await;
    let b = call_media().await;
    exchange(&a, &b, false, Hold::Off, false).await;
    sleep(2000).await;
    let mut acc = ReportAcc::default();
    let info = ReportInfo {
        call_id: "c1".into(),
        extension: "1001".into(),
        started_ms: js_sys::Date::now() - 2000.0,
    };
    let r = report::collect(&a.link(), &mut acc, &info).await.unwrap();
    let keys: Vec<String> = Object::keys(r.unchecked_ref::<Object>())
        .iter()
        .map(|k| k.as_string().unwrap())
        .collect();
    assert_eq!(keys.len(), 26, "{keys:?}");
    let get = |k: &str| {
        Reflect::get(&r, &k.into())
            .unwrap()
            .as_string()
            .unwrap_or_else(|| panic!("{k} is a string"))
    };
    assert_eq!(get("callId"), "c1");
    assert_eq!(get("extension"), "1001");
    assert_eq!(get("iceResult"), "local");
    assert_eq!(get("lksDeviceType"), "web");
    assert_eq!(get("lksAudioCodec"), "opus");
    assert!(get("lksAudioRx").parse::<u32>().unwrap() > 20);
    assert!(get("lksAudioTx").parse::<u32>().unwrap() > 20);
    assert_eq!(get("lksAudioRxLost"), "0.000000");
    assert!(get("lksAudioRxMaxjitter").parse::<f64>().is_ok());
    assert!(get("lksDuration").parse::<u32>().unwrap() >= 1);
    let ts: f64 = get("lksTimestamp").parse().unwrap();
    assert!((ts - js_sys::Date::now()).abs() < 5000.0);
    assert_eq!(get("lksDate").len(), "YYYY-MM-DD hh:mm:ss".len());
    assert_eq!(get("lksVideoCodec"), "");
    assert_eq!(get("lksVideoRxAvgjitter"), "");
    assert_eq!(acc.audio_rx.count, 1, "one jitter sample kept");
    report::collect(&a.link(), &mut acc, &info).await.unwrap();
    assert_eq!(acc.audio_rx.count, 2);
}

#[wasm_bindgen_test]
fn report_arithmetic() {
    assert_eq!(report::fixed(0.1234565, 6), "0.123457");
    assert_eq!(report::fixed(0.0, 6), "0.000000");
    assert_eq!(report::fixed(1.0, 6), "1.000000");
    assert_eq!(report::fixed(0.05, 6), "0.050000");
    assert_eq!(report::fixed(1795774799397.0, 0), "1795774799397");
    assert_eq!(report::fixed(-3.0, 2), "0.00");
    assert_eq!(report::fixed(f64::NAN, 1), "0.0");
    assert_eq!(report::ms(0.0125), "12.5");
    assert_eq!(report::ms(0.003), "3");
    assert_eq!(report::ms(0.0), "0");
    assert_eq!(report::ms(0.000_333_3), "0.333");
    assert_eq!(report::ratio(1.0, 3.0), "0.333333");
    assert_eq!(report::ratio(5.0, 0.0), "0.000000");
    assert_eq!(report::ratio(9.0, 3.0), "1.000000");
    assert_eq!(report::codec_name("audio/opus"), "opus");
    assert_eq!(report::codec_name("video/VP8"), "vp8");
    assert_eq!(report::codec_name(""), "");
    assert_eq!(report::ice_result("host"), "local");
    assert_eq!(report::ice_result("srflx"), "public");
    assert_eq!(report::ice_result("prflx"), "public");
    assert_eq!(report::ice_result("relay"), "turn");
    assert_eq!(report::ice_result(""), "");
    assert_eq!(
        report::local_date(2026, 1, 2, 3, 4, 5),
        "2026-01-02 03:04:05"
    );
    assert_eq!(
        report::local_date(2026, 12, 31, 23, 59, 59),
        "2026-12-31 23:59:59"
    );

    let mut j = Jitter::default();
    assert_eq!((j.max_ms(), j.avg_ms()), ("0".into(), "0".into()));
    j.add(Some(0.010));
    j.add(None);
    j.add(Some(f64::NAN));
    j.add(Some(0.020));
    assert_eq!(
        (j.count, j.max_ms(), j.avg_ms()),
        (2, "20".into(), "15".into())
    );

    let (mut rx, mut tx) = (Jitter::default(), Jitter::default());
    let s = KindStats {
        present: true,
        mime: "audio/PCMU".into(),
        received: 990.0,
        lost: 10.0,
        jitter: Some(0.004),
        sent: 1000.0,
        remote_lost: Some(25.0),
        remote_fraction_lost: Some(0.5),
        remote_jitter: Some(0.002),
    };
    let f = report::kind_fields(&s, &mut rx, &mut tx);
    assert_eq!(
        f,
        ["pcmu", "990", "0.010000", "4", "4", "1000", "0.025000", "2", "2"].map(String::from)
    );
    // a second run: running max and mean; no peer report yet: its fractionLost
    let s2 = KindStats {
        jitter: Some(0.008),
        remote_lost: None,
        remote_jitter: None,
        ..s.clone()
    };
    let f = report::kind_fields(&s2, &mut rx, &mut tx);
    assert_eq!(
        (&f[3][..], &f[4][..], &f[6][..], &f[7][..]),
        ("8", "6", "0.500000", "2")
    );
    // negative cumulative loss (duplicates) counts as none
    let s3 = KindStats { lost: -4.0, ..s };
    assert_eq!(report::kind_fields(&s3, &mut rx, &mut tx)[2], "0.000000");
    // no such media: nine empty strings, nothing accumulated
    let before = rx;
    let none = report::kind_fields(&KindStats::default(), &mut rx, &mut tx);
    assert!(none.iter().all(String::is_empty));
    assert_eq!(rx, before);
}

/// The wasm heap (crates/heap) reuses what is freed: once the same work has run a
/// while, running it thousands of times more grows no memory. Each round parses and
/// prints realistic messages (`inspectMessage`), allocating and freeing many strings.
#[wasm_bindgen_test]
fn memory_stays_flat_when_the_same_work_repeats() {
    use sipwasm::web::inspect::inspect_message;
    let msgs = [
        include_str!("../bench/corpus/03-register-auth.sip"),
        include_str!("../bench/corpus/05-invite.sip"),
        include_str!("../bench/corpus/09-invite-200-sdp.sip"),
    ]
    .map(JsValue::from_str);
    let memory = || {
        wasm_bindgen::memory()
            .unchecked_into::<js_sys::WebAssembly::Memory>()
            .buffer()
            .unchecked_into::<js_sys::ArrayBuffer>()
            .byte_length()
    };
    let round = || {
        for m in &msgs {
            let d = inspect_message(m).as_string().unwrap_or_default();
            assert!(d.starts_with("OK: "), "{d}");
        }
    };
    for _ in 0..100 {
        round();
    }
    let before = memory();
    for _ in 0..5000 {
        round();
    }
    assert_eq!(memory(), before, "memory grew from {before} bytes");
}

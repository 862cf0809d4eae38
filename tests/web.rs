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

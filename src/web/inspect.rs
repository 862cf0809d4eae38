//! `inspectMessage`: the parser for people debugging SIP traffic in a page (the
//! browser twin of `cargo run --example sip_parse`).

use super::ingress::{with_text_bytes, IngressError};
use crate::sip::message::{parse_frame, Frame};
use crate::sip::{fill, Print};
use wasm_bindgen::prelude::*;

/// Parses one WebSocket frame and describes it: the normalised message, a
/// keep-alive, or why it is malformed and the status a request would get.
#[wasm_bindgen(js_name = inspectMessage, unchecked_return_type = "string")]
pub fn inspect_message(text: &JsValue) -> JsValue {
    JsValue::from_str(&describe(text))
}

fn describe(text: &JsValue) -> String {
    let r = with_text_bytes(text, |b| match parse_frame(b) {
        Ok(Frame::Message(m)) => {
            let b = &m.base;
            let cseq = b
                .cseq
                .as_ref()
                .map_or_else(|| "-".to_owned(), Print::to_text);
            fill(
                "OK: {} headers, {} body bytes; top Via branch {}, Call-ID {}, CSeq {}\n\n{}",
                &[
                    &m.msg.headers.len(),
                    &m.msg.body.len(),
                    &b.vias.first().and_then(|v| v.branch()).unwrap_or("-"),
                    &b.call_id.as_deref().unwrap_or("-"),
                    &cseq,
                    &m.msg,
                ],
            )
        }
        Ok(Frame::Ping) => "keep-alive ping (CRLFCRLF, RFC 5626 §4.4.1)".to_owned(),
        Ok(Frame::Pong) => "keep-alive pong (CRLF, RFC 5626 §4.4.1)".to_owned(),
        Err(e) => fill("MALFORMED: {}", &[&e]),
    });
    r.unwrap_or_else(|e| {
        match e {
            IngressError::NotText => "MALFORMED: NotText",
            IngressError::TooLarge => "MALFORMED: TooLarge",
        }
        .to_owned()
    })
}

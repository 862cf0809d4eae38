//! Exports for `bench/parse.mjs` (feature `bench`): the parser as the SDK uses it,
//! fed a JS string the way the WebSocket delivers a text frame.

use super::ingress::with_text_bytes;
use crate::sip::message::{parse_frame, Frame, Incoming, Message, Print as _, StartLine, Uri};
use std::fmt::Write;
use wasm_bindgen::prelude::*;

fn uri_sum(u: &Uri) -> u32 {
    let (user, host, port) = match u {
        Uri::Sip(s) => (
            s.user().map_or(0, str::len),
            s.host().len(),
            u32::from(s.port.unwrap_or(0)),
        ),
        Uri::Tel(t) => (t.number.len(), 0, 0),
        Uri::Other { rest, .. } => (rest.len(), 0, 0),
    };
    (u.scheme().len() + user + host) as u32 + port
}

/// A checksum over the fields a UA reads on every message, so none of the
/// extraction can be optimised away.
fn checksum(m: &Incoming) -> u32 {
    let mut h: u32 = 1;
    match &m.msg.start {
        StartLine::Request(r) => h += r.method.as_str().len() as u32 + uri_sum(&r.uri),
        StartLine::Response(s) => h += u32::from(s.code) + s.reason.len() as u32,
    }
    let b = &m.base;
    for v in &b.vias {
        h = h.wrapping_add(
            (v.transport.len() + v.host().len() + v.branch().map_or(0, str::len)) as u32
                + u32::from(v.port.unwrap_or(0)),
        );
    }
    for a in [&b.from, &b.to].into_iter().flatten() {
        h = h.wrapping_add(uri_sum(a.uri()) + a.tag().map_or(0, str::len) as u32);
    }
    h = h.wrapping_add(b.call_id.as_deref().map_or(0, str::len) as u32);
    if let Some(c) = &b.cseq {
        h = h.wrapping_add(c.seq.wrapping_add(c.method.as_str().len() as u32));
    }
    for c in b.contacts.iter().filter_map(|c| c.addr()) {
        h = h.wrapping_add(uri_sum(c.uri()));
    }
    h = h.wrapping_add(
        b.content_length
            .unwrap_or(0)
            .wrapping_add(m.msg.body.len() as u32),
    );
    h.max(1)
}

/// Parses, validates and extracts; returns a checksum (0 = rejected). The string
/// enters wasm the way the shell's WebSocket handler receives it ([`with_text_bytes`]).
#[wasm_bindgen]
pub fn bench_parse(text: &JsValue) -> f64 {
    with_text_bytes(text, |b| match parse_frame(b) {
        Ok(Frame::Message(m)) => f64::from(checksum(&m)),
        _ => 0.0,
    })
    .unwrap_or(0.0)
}

/// Parses, prints and parses the printed message again (the round trip).
#[wasm_bindgen]
pub fn bench_print_parse(text: &JsValue) -> f64 {
    let Ok(Ok(Frame::Message(m))) = with_text_bytes(text, parse_frame) else {
        return 0.0;
    };
    match parse_frame(&m.msg.to_bytes()) {
        Ok(Frame::Message(m2)) => f64::from(checksum(&m2)),
        _ => 0.0,
    }
}

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_opt(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => json_str(out, s),
        None => out.push_str("null"),
    }
}

/// The extracted fields as JSON, for the benchmark's correctness check.
#[wasm_bindgen]
pub fn inspect_message(text: &str) -> String {
    let m = match parse_frame(text.as_bytes()) {
        Ok(Frame::Message(m)) => m,
        Ok(_) => return r#"{"ok":false,"error":"keep-alive"}"#.to_owned(),
        Err(e) => {
            let mut o = String::from(r#"{"ok":false,"error":"#);
            json_str(&mut o, &e.to_text());
            o.push('}');
            return o;
        }
    };
    let b = &m.base;
    let msg: &Message = &m.msg;
    let mut o = String::from(r#"{"ok":true,"kind":"#);
    let cseq_method = b.cseq.as_ref().map(|c| c.method.as_str());
    match &msg.start {
        StartLine::Request(r) => {
            o.push_str(r#""request","method":"#);
            json_str(&mut o, r.method.as_str());
            o.push_str(r#","status":null,"reason":null,"ruri":"#);
            json_str(&mut o, &r.uri.to_text());
        }
        StartLine::Response(s) => {
            o.push_str(r#""response","method":"#);
            json_opt(&mut o, cseq_method);
            let _ = write!(o, r#","status":{},"reason":"#, s.code);
            json_str(&mut o, &s.reason);
            o.push_str(r#","ruri":null"#);
        }
    }
    o.push_str(r#","callId":"#);
    json_opt(&mut o, b.call_id.as_deref());
    match &b.cseq {
        Some(c) => {
            let _ = write!(o, r#","cseq":{},"cseqMethod":"#, c.seq);
            json_str(&mut o, c.method.as_str());
        }
        None => o.push_str(r#","cseq":null,"cseqMethod":null"#),
    }
    o.push_str(r#","vias":["#);
    for (i, v) in b.vias.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str(r#"{"transport":"#);
        json_str(&mut o, &v.transport.to_ascii_uppercase());
        o.push_str(r#","host":"#);
        json_str(&mut o, v.host());
        match v.port {
            Some(p) => {
                let _ = write!(o, r#","port":{p}"#);
            }
            None => o.push_str(r#","port":null"#),
        }
        o.push_str(r#","branch":"#);
        json_opt(&mut o, v.branch());
        o.push('}');
    }
    o.push(']');
    for (name, a) in [("from", &b.from), ("to", &b.to)] {
        let _ = write!(o, r#","{name}":"#);
        match a {
            Some(a) => {
                o.push_str(r#"{"uri":"#);
                json_str(&mut o, &a.uri().to_text());
                o.push_str(r#","tag":"#);
                json_opt(&mut o, a.tag());
                o.push('}');
            }
            None => o.push_str("null"),
        }
    }
    o.push_str(r#","contacts":["#);
    for (i, c) in b.contacts.iter().filter_map(|c| c.addr()).enumerate() {
        if i > 0 {
            o.push(',');
        }
        json_str(&mut o, &c.uri().to_text());
    }
    o.push(']');
    match b.content_length {
        Some(n) => {
            let _ = write!(o, r#","contentLength":{n}"#);
        }
        None => o.push_str(r#","contentLength":null"#),
    }
    let _ = write!(o, r#","bodyBytes":{}}}"#, msg.body.len());
    o
}

/// Only hands the string to wasm (the cost every wasm parser pays first).
#[wasm_bindgen]
pub fn bench_transfer_only(text: &JsValue) -> f64 {
    with_text_bytes(text, |b| b.len() as f64).unwrap_or(0.0)
}

/// Only hands the string to wasm the default wasm-bindgen way (`&str`), for comparison.
#[wasm_bindgen]
pub fn bench_transfer_str(text: &str) -> f64 {
    text.len() as f64
}

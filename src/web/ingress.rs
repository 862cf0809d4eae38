//! Getting a WebSocket text frame (a JS string) into wasm memory fast.
//!
//! Passing a `&str` through wasm-bindgen encodes it in a JavaScript loop, one
//! UTF-16 unit at a time, which costs more than parsing the message. Instead the JS
//! string stays a `JsValue` and the engine's native `TextEncoder.encodeInto` writes
//! its UTF-8 straight into a reusable buffer in wasm memory.

use crate::sip::message::MAX_MESSAGE_SIZE;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = "
const enc = new TextEncoder();
export function encode_into(s, dest) {
  if (typeof s !== 'string') return -1;
  const r = enc.encodeInto(s, dest);
  return r.read === s.length ? r.written : -2;
}
")]
extern "C" {
    /// Writes the UTF-8 of `s` into `dest`; the byte count, -1 when `s` is not a
    /// string, -2 when it does not fit.
    fn encode_into(s: &JsValue, dest: &mut [u8]) -> i32;
}

thread_local! {
    static BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; MAX_MESSAGE_SIZE + 1]);
}

/// Why a frame could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngressError {
    /// The frame was not a string.
    NotText,
    /// The frame is larger than [`MAX_MESSAGE_SIZE`].
    TooLarge,
}

/// Calls `f` with the UTF-8 bytes of the JS string `s`. `f` must not call back into
/// JS (it runs while the buffer is borrowed): parse inside, act after.
pub fn with_text_bytes<R>(s: &JsValue, f: impl FnOnce(&[u8]) -> R) -> Result<R, IngressError> {
    BUF.with(|b| {
        let mut buf = b.borrow_mut();
        let n = encode_into(s, &mut buf[..]);
        match usize::try_from(n) {
            Ok(n) if n <= MAX_MESSAGE_SIZE => Ok(f(buf.get(..n).unwrap_or(&[]))),
            Ok(_) => Err(IngressError::TooLarge),
            Err(_) if n == -1 => Err(IngressError::NotText),
            Err(_) => Err(IngressError::TooLarge),
        }
    })
}

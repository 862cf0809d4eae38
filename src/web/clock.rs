//! The browser's clock, randomness and timer, as the core wants them.

use crate::sip::time::Instant;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &Closure<dyn FnMut()>, ms: i32) -> i32;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: i32);
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(f: &JsValue);
}

/// Runs `f` from the event loop, after the current call returns.
pub fn defer(f: impl FnOnce() + 'static) {
    let mut f = Some(f);
    queue_microtask(
        &callback(move || {
            if let Some(f) = f.take() {
                f()
            }
        })
        .into_js_value(),
    );
}

/// A JS function calling `f`. Every `FnMut()` closure of the shell goes through this
/// one non-generic `Closure::wrap` of a boxed `dyn FnMut()`, so wasm-bindgen's closure
/// machinery is instantiated once rather than per closure.
pub fn callback(f: impl FnMut() + 'static) -> Closure<dyn FnMut()> {
    wrap(Box::new(f))
}

#[inline(never)]
fn wrap(f: Box<dyn FnMut()>) -> Closure<dyn FnMut()> {
    Closure::wrap(f)
}

/// Runs `task` on the event loop (`spawn_local`), boxed so that the task machinery of
/// wasm-bindgen-futures is instantiated once for every task of the shell.
#[inline(never)]
pub fn spawn(task: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>) {
    wasm_bindgen_futures::spawn_local(task);
}

/// As [`callback`], for listeners of events (`FnMut(JsValue)`).
pub fn listener(f: impl FnMut(JsValue) + 'static) -> Closure<dyn FnMut(JsValue)> {
    wrap_listener(Box::new(f))
}

#[inline(never)]
fn wrap_listener(f: Box<dyn FnMut(JsValue)>) -> Closure<dyn FnMut(JsValue)> {
    Closure::wrap(f)
}

/// Now, on the monotonic clock of `performance.now()`.
pub fn now() -> Instant {
    Instant::from_millis(performance_now().max(0.0) as u64)
}

/// 32 bytes from `crypto.getRandomValues` to seed the core's generator.
pub fn seed() -> [u8; 32] {
    let mut s = [0u8; 32];
    get_random_values(&mut s);
    s
}

/// One armed `setTimeout`, cleared when dropped or re-armed.
pub struct Timer {
    id: Option<i32>,
    callback: Closure<dyn FnMut()>,
    deadline: Option<Instant>,
}

impl Timer {
    /// A timer that calls `f` when it fires.
    pub fn new(f: impl FnMut() + 'static) -> Self {
        Timer {
            id: None,
            callback: callback(f),
            deadline: None,
        }
    }

    /// Arms for `deadline` (replacing any earlier arming), or disarms for `None`.
    pub fn arm(&mut self, deadline: Option<Instant>) {
        if deadline == self.deadline && self.id.is_some() {
            return;
        }
        self.cancel();
        if let Some(d) = deadline {
            let ms = d.as_millis().saturating_sub(now().as_millis());
            // setTimeout takes a 32-bit delay; longer waits re-arm when they fire.
            let ms = i32::try_from(ms).unwrap_or(i32::MAX);
            self.id = Some(set_timeout(&self.callback, ms));
            self.deadline = Some(d);
        }
    }

    /// True while armed (not yet fired or cancelled).
    pub fn is_armed(&self) -> bool {
        self.id.is_some()
    }

    /// Clears the timer.
    pub fn cancel(&mut self) {
        if let Some(id) = self.id.take() {
            clear_timeout(id);
        }
        self.deadline = None;
    }

    /// Forgets the arming after it fired (the id is spent).
    pub fn fired(&mut self) {
        self.id = None;
        self.deadline = None;
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.cancel();
    }
}

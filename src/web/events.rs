//! Listener registry for `on`/`off`/`once`. Emitting clones the listener list first,
//! so a listener can call back into the SDK (or add and remove listeners) freely.

use js_sys::{Array, Function};
use std::cell::RefCell;
use wasm_bindgen::JsValue;

struct Entry {
    event: String,
    f: Function,
    once: bool,
}

/// The listeners of one object (a PhoneOperator or a Session).
#[derive(Default)]
pub struct Listeners {
    entries: RefCell<Vec<Entry>>,
}

impl Listeners {
    /// Adds a listener.
    pub fn on(&self, event: &str, f: Function, once: bool) {
        self.entries.borrow_mut().push(Entry {
            event: event.to_owned(),
            f,
            once,
        });
    }

    /// Removes one listener, or every listener of `event` when `f` is None.
    pub fn off(&self, event: &str, f: Option<&Function>) {
        let mut e = self.entries.borrow_mut();
        match f {
            Some(f) => {
                if let Some(i) = e.iter().position(|x| x.event == event && x.f == *f) {
                    e.remove(i);
                }
            }
            None => e.retain(|x| x.event != event),
        }
    }

    /// Removes every listener.
    pub fn clear(&self) {
        self.entries.borrow_mut().clear();
    }

    /// Calls the listeners of `event` with `args`. A listener that throws is logged and
    /// the others still run.
    pub fn emit(&self, event: &str, args: &[JsValue]) {
        let targets: Vec<Function> = {
            let mut e = self.entries.borrow_mut();
            let list = e
                .iter()
                .filter(|x| x.event == event)
                .map(|x| x.f.clone())
                .collect();
            e.retain(|x| !(x.once && x.event == event));
            list
        };
        // `apply` with the arguments as an array: one import for every arity.
        let args: Array = args.iter().collect();
        for f in targets {
            let r = f.apply(&JsValue::NULL, &args);
            if let Err(err) = r {
                super::phone::console_error2(
                    &crate::sip::fill("listener for '{}' threw:", &[&event]),
                    &err,
                );
            }
        }
    }
}

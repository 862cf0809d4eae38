//! The browser shell: converts types between JS and the core, owns the browser
//! handles (WebSocket, the one timer, listeners). Only this module tree names
//! wasm-bindgen, web-sys or js-sys; every SIP rule lives in [`crate::sip`].

#[cfg(feature = "bench")]
mod bench;
pub mod clock;
pub mod config;
pub mod events;
mod incall;
pub mod ingress;
pub mod inspect;
pub mod media;
pub mod phone;
pub mod report;
pub mod session;
pub mod socket;
pub mod types;

//! # sipwasm
//!
//! A browser SIP phone SDK: a sans-IO SIP user agent core ([`sip`]) driven by a thin
//! browser shell (`web`, wasm32 only) that owns the WebSocket, timers and media.
//!
//! The core never reads a clock, never draws random numbers and never performs I/O:
//! it is fed bytes, commands and the current time, and it returns messages to send,
//! events and its next deadline. No input, from the network or the API, can make it
//! panic: malformed input is an error value.

#![forbid(unsafe_code)]

pub mod sip;

/// The wasm build's allocator: power-of-two size classes (`crates/heap`), a few hundred
/// bytes of code instead of std's dlmalloc (8 KB).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOC: sipwasm_heap::WasmHeap = sipwasm_heap::WasmHeap::new();

// `sipwasm_noweb`: the core alone, for scripts/core-size.sh.
#[cfg(all(target_arch = "wasm32", not(sipwasm_noweb)))]
pub mod web;

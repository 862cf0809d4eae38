//! The sans-IO SIP core: no browser types, no clock, no randomness of its own.

pub mod auth;
pub mod config;
pub mod connection;
pub mod dialog;
pub use sipwasm_message as message;
pub mod registration;
pub mod rng;
pub mod sdp;
pub mod session;
pub mod time;
pub mod transaction;
pub mod ua;

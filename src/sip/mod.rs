//! The sans-IO SIP core: no browser types, no clock, no randomness of its own.

pub mod auth;
pub mod message;
pub mod time;
pub mod transaction;

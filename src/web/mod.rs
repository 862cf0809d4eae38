//! The browser shell: converts types between JS and the core, owns browser handles.
//! Only this module tree names wasm-bindgen, web-sys or js-sys.

#[cfg(feature = "bench")]
mod bench;
pub mod ingress;
pub mod inspect;

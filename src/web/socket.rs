//! The browser WebSocket (subprotocol `sip`, RFC 7118 §4), with its handlers kept
//! alive for as long as the socket is.

use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// What the socket reports.
pub enum SocketEvent {
    /// The handshake completed.
    Open,
    /// A frame: the JS value of `MessageEvent.data` (a string for text frames).
    Message(JsValue),
    /// Closed or failed, with the close code and reason.
    Closed(u16, String),
}

/// One WebSocket and its handlers; dropping it closes the socket.
pub struct Socket {
    ws: WebSocket,
    _onopen: Closure<dyn FnMut()>,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onclose: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Opens `url` with subprotocol `sip`. `on` is called for every event, from the
    /// browser's event loop (never re-entrantly from inside this call).
    pub fn open(url: &str, on: impl Fn(SocketEvent) + Clone + 'static) -> Result<Socket, JsValue> {
        let ws = WebSocket::new_with_str(url, "sip")?;
        // Text frames arrive as strings whatever binaryType is; binary ones as
        // ArrayBuffer (in order, unlike Blob which is read asynchronously).
        ws.set_binary_type(BinaryType::Arraybuffer);
        let o = on.clone();
        let onopen = Closure::<dyn FnMut()>::new(move || o(SocketEvent::Open));
        let o = on.clone();
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            o(SocketEvent::Message(e.data()))
        });
        let onclose = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            on(SocketEvent::Closed(e.code(), e.reason()))
        });
        ws.set_onopen(Some(onopen.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        ws.set_onclose(Some(onclose.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            _onopen: onopen,
            _onmessage: onmessage,
            _onclose: onclose,
        })
    }

    /// Sends one text frame; false when the socket is not open.
    pub fn send(&self, text: &str) -> bool {
        self.ws.ready_state() == WebSocket::OPEN && self.ws.send_with_str(text).is_ok()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

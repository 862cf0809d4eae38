//! The browser WebSocket (subprotocol `sip`, RFC 7118 §4), with its handlers kept
//! alive for as long as the socket is.

use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// What the socket reports.
pub enum SocketEvent {
    /// The handshake completed.
    Open,
    /// A frame: the JS value of `MessageEvent.data` (a string for text frames).
    Message(JsValue),
    /// Closed or failed, with the close code and reason.
    Closed(u16, String),
}

/// One WebSocket and its handler; dropping it closes the socket.
pub struct Socket {
    ws: WebSocket,
    /// `onopen`, `onmessage` and `onclose` (one function: it tells them by `type`).
    _handler: Closure<dyn FnMut(JsValue)>,
}

impl Socket {
    /// Opens `url` with subprotocol `sip`. `on` is called for every event, from the
    /// browser's event loop (never re-entrantly from inside this call).
    pub fn open(url: &str, on: impl Fn(SocketEvent) + 'static) -> Result<Socket, JsValue> {
        let ws = WebSocket::new_with_str(url, "sip")?;
        // Text frames arrive as strings whatever binaryType is; binary ones as
        // ArrayBuffer (in order, unlike Blob which is read asynchronously).
        ws.set_binary_type(BinaryType::Arraybuffer);
        let handler = super::clock::listener(move |e: JsValue| {
            let e: &Event = e.unchecked_ref();
            on(match e.type_().as_str() {
                "open" => SocketEvent::Open,
                "message" => SocketEvent::Message(e.unchecked_ref::<MessageEvent>().data()),
                _ => {
                    let c: &CloseEvent = e.unchecked_ref();
                    SocketEvent::Closed(c.code(), c.reason())
                }
            })
        });
        let f = handler.as_ref().unchecked_ref();
        ws.set_onopen(Some(f));
        ws.set_onmessage(Some(f));
        ws.set_onclose(Some(f));
        Ok(Socket {
            ws,
            _handler: handler,
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
        let _ = super::media::catching(&self.ws).close();
    }
}

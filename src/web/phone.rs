//! `PhoneOperator`: the object web apps create. It owns the core (`sip::ua::Ua`), the
//! WebSocket, the one timer and the listeners; it only converts types and delivers
//! events. Listeners run with no Rust borrow held, so they may call straight back in.

use super::clock::{self, Timer};
use super::config::{self, LogLevel, ShellConfig};
use super::events::Listeners;
use super::ingress::with_text_bytes;
use super::socket::{Socket, SocketEvent};
use crate::sip::ua::{Input, LogLevel as CoreLevel, Output, Ua, UaEvent};
use js_sys::{Array, Function, Map, Object, Reflect};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

struct Inner {
    ua: RefCell<Ua>,
    socket: RefCell<Option<Socket>>,
    /// Tells events of an old socket from the current one's.
    socket_gen: Cell<u32>,
    timer: RefCell<Option<Timer>>,
    listeners: Listeners,
    shell: RefCell<ShellConfig>,
    extra_headers: RefCell<Vec<String>>,
    destroyed: Cell<bool>,
}

/// The phone: registration, and (in later versions) calls.
#[wasm_bindgen]
pub struct PhoneOperator {
    inner: Rc<Inner>,
}

fn log(level: LogLevel, at: LogLevel, msg: &str) {
    if at > level || at == LogLevel::Off {
        return;
    }
    let m = JsValue::from_str(&format!("[sipwasm] {msg}"));
    match at {
        LogLevel::Error => web_sys::console::error_1(&m),
        LogLevel::Warn => web_sys::console::warn_1(&m),
        LogLevel::Info => web_sys::console::info_1(&m),
        _ => web_sys::console::debug_1(&m),
    }
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

impl Inner {
    fn level(&self) -> LogLevel {
        self.shell.borrow().log
    }

    /// Feeds one input and delivers what comes out.
    fn input(self: &Rc<Self>, input: Input<'_>) {
        if self.destroyed.get() {
            return;
        }
        self.ua.borrow_mut().handle_input(clock::now(), input);
        self.drive();
    }

    /// Drains the core: transmits, socket commands, events; re-arms the timer; then
    /// calls listeners (no borrow held).
    fn drive(self: &Rc<Self>) {
        let mut events = Vec::new();
        loop {
            let out = self.ua.borrow_mut().poll_output();
            let Some(out) = out else { break };
            match out {
                Output::Connect { url } => self.open(&url),
                Output::Send(text) => {
                    let sent = self.socket.borrow().as_ref().is_some_and(|s| s.send(&text));
                    if !sent {
                        log(self.level(), LogLevel::Warn, "send on a closed socket");
                    }
                }
                Output::Close => {
                    self.socket_gen.set(self.socket_gen.get().wrapping_add(1));
                    self.socket.borrow_mut().take();
                }
                Output::Event(e) => events.push(e),
            }
        }
        let deadline = self.ua.borrow().poll_timeout();
        if let Some(t) = self.timer.borrow_mut().as_mut() {
            t.arm(deadline);
        }
        for e in events {
            self.dispatch(e);
        }
    }

    fn open(self: &Rc<Self>, url: &str) {
        let gen = self.socket_gen.get().wrapping_add(1);
        self.socket_gen.set(gen);
        let weak: Weak<Inner> = Rc::downgrade(self);
        let on = move |ev: SocketEvent| {
            let Some(me) = weak.upgrade() else { return };
            if me.socket_gen.get() != gen {
                return; // an event of a socket we already let go
            }
            match ev {
                SocketEvent::Open => me.input(Input::Connected),
                SocketEvent::Message(data) => me.received(&data),
                SocketEvent::Closed(code, reason) => {
                    me.socket.borrow_mut().take();
                    me.input(Input::Closed { code, reason });
                }
            }
        };
        match Socket::open(url, on) {
            Ok(s) => *self.socket.borrow_mut() = Some(s),
            Err(e) => {
                log(
                    self.level(),
                    LogLevel::Error,
                    &format!("cannot open {url}: {e:?}"),
                );
                // Reported from the event loop like a real close, never re-entrantly.
                let weak = Rc::downgrade(self);
                clock::defer(move || {
                    if let Some(me) = weak.upgrade() {
                        if me.socket_gen.get() == gen {
                            me.input(Input::Closed {
                                code: 1006,
                                reason: "cannot open WebSocket".into(),
                            });
                        }
                    }
                });
            }
        }
    }

    fn received(self: &Rc<Self>, data: &JsValue) {
        if self.destroyed.get() {
            return;
        }
        let now = clock::now();
        let r = with_text_bytes(data, |bytes| {
            self.ua
                .borrow_mut()
                .handle_input(now, Input::Received(bytes));
        });
        if r.is_err() {
            log(
                self.level(),
                LogLevel::Warn,
                "dropped a frame that is not text or is too large",
            );
        }
        self.drive();
    }

    fn fire_timer(self: &Rc<Self>) {
        if let Some(t) = self.timer.borrow_mut().as_mut() {
            t.fired();
        }
        self.input(Input::Timeout);
    }

    fn dispatch(&self, e: UaEvent) {
        let l = &self.listeners;
        match e {
            UaEvent::Connected => l.emit("connected", &[]),
            UaEvent::Disconnected { code, reason } => l.emit(
                "disconnected",
                &[obj(&[("code", code.into()), ("reason", reason.into())])],
            ),
            UaEvent::Registered => l.emit("registered", &[]),
            UaEvent::RegistrationFailed { code, cause } => l.emit(
                "registrationFailed",
                &[obj(&[("code", code.into()), ("cause", cause.into())])],
            ),
            UaEvent::IsRegisteredChange(b) => l.emit("isRegisteredChange", &[b.into()]),
            UaEvent::Log { level, message } => {
                let at = match level {
                    CoreLevel::Error => LogLevel::Error,
                    CoreLevel::Warn => LogLevel::Warn,
                    CoreLevel::Info => LogLevel::Info,
                    _ => LogLevel::Debug,
                };
                log(self.level(), at, &message);
            }
            _ => {}
        }
    }
}

fn config_error(e: crate::sip::config::ConfigError) -> JsError {
    JsError::new(&format!(
        "PhoneConfig.{}: {}",
        config::js_field(e.field),
        e.message
    ))
}

#[wasm_bindgen]
impl PhoneOperator {
    /// Validates `config` (throws a clear `Error` when it is unusable; nothing is sent).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "PhoneConfig")] config: JsValue,
    ) -> Result<PhoneOperator, JsError> {
        let (ua_config, shell) = config::from_js(&config).map_err(config_error)?;
        let valid = ua_config.validate().map_err(config_error)?;
        let extra = ua_config.extra_headers.clone();
        let inner = Rc::new(Inner {
            ua: RefCell::new(Ua::new(valid, clock::seed(), clock::now())),
            socket: RefCell::new(None),
            socket_gen: Cell::new(0),
            timer: RefCell::new(None),
            listeners: Listeners::default(),
            shell: RefCell::new(shell),
            extra_headers: RefCell::new(extra),
            destroyed: Cell::new(false),
        });
        let weak = Rc::downgrade(&inner);
        *inner.timer.borrow_mut() = Some(Timer::new(move || {
            if let Some(me) = weak.upgrade() {
                me.fire_timer();
            }
        }));
        Ok(PhoneOperator { inner })
    }

    /// Adds a listener (the package's `on` returns the phone for chaining).
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, event_name: &str, listener: Function) {
        self.inner.listeners.on(event_name, listener, false);
    }

    /// Adds a listener called once.
    #[wasm_bindgen(skip_typescript)]
    pub fn once(&self, event_name: &str, listener: Function) {
        self.inner.listeners.on(event_name, listener, true);
    }

    /// Removes a listener, or every listener of the event.
    #[wasm_bindgen(skip_typescript)]
    pub fn off(&self, event_name: &str, listener: Option<Function>) {
        self.inner.listeners.off(event_name, listener.as_ref());
    }

    /// Connects and registers. Listen for events first. (The package's `start`
    /// returns the phone.)
    #[wasm_bindgen(skip_typescript)]
    pub fn start(&self) {
        if self.inner.destroyed.get() {
            return;
        }
        self.inner.ua.borrow_mut().start(clock::now());
        self.inner.drive();
    }

    /// Registers again with new credentials (`ha1` = hex MD5 of user:realm:password).
    /// Returns a Result with -201 (REGISTRY_FAILED) when the arguments are unusable.
    #[wasm_bindgen(js_name = reRegister, unchecked_return_type = "Result")]
    pub fn re_register(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] authorization_user: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] ha1: JsValue,
    ) -> JsValue {
        let (Some(user), Some(ha1)) = (authorization_user.as_string(), ha1.as_string()) else {
            return result(
                -201,
                "reRegister needs (authorizationUser: string, ha1: string)",
            );
        };
        if self.inner.destroyed.get() {
            return result(-201, "the phone was destroyed");
        }
        let r = self
            .inner
            .ua
            .borrow_mut()
            .re_register(clock::now(), &user, &ha1);
        match r {
            Ok(()) => {
                self.inner.drive();
                result(200, "re-registering")
            }
            Err(e) => result(
                -201,
                &format!("{}: {}", config::js_field(e.field), e.message),
            ),
        }
    }

    /// Unregisters and closes the connection. False when already disconnected.
    pub fn disconnect(&self) -> bool {
        if self.inner.destroyed.get() {
            return false;
        }
        let was = self.inner.ua.borrow().is_connected();
        self.inner.ua.borrow_mut().disconnect(clock::now());
        self.inner.drive();
        was
    }

    /// Removes every listener, unregisters, closes the socket and stops every timer.
    pub fn destroy(&self) {
        if self.inner.destroyed.get() {
            return;
        }
        self.inner.listeners.clear();
        self.inner.ua.borrow_mut().destroy(clock::now());
        self.inner.drive();
        self.inner.destroyed.set(true);
        // The un-REGISTER went out in `drive` (the browser sends queued frames before
        // the close frame); nothing of ours runs after this.
        if let Some(t) = self.inner.timer.borrow_mut().as_mut() {
            t.cancel();
        }
        self.inner.socket.borrow_mut().take();
    }

    /// REGISTER succeeded and has not expired or been removed.
    #[wasm_bindgen(getter, js_name = isRegistered)]
    pub fn is_registered(&self) -> bool {
        !self.inner.destroyed.get() && self.inner.ua.borrow().is_registered()
    }

    /// How many times a failed registration is retried.
    #[wasm_bindgen(getter, js_name = reRegistryPhoneTimes)]
    pub fn re_registry_phone_times(&self) -> u32 {
        self.inner.ua.borrow().re_register_times()
    }

    /// Sets how many times a failed registration is retried.
    #[wasm_bindgen(setter, js_name = reRegistryPhoneTimes)]
    pub fn set_re_registry_phone_times(&self, n: u32) {
        self.inner.ua.borrow_mut().set_re_register_times(n);
    }

    /// Extra SIP headers on every request.
    #[wasm_bindgen(getter, js_name = extraHeaders)]
    pub fn extra_headers(&self) -> Vec<String> {
        self.inner.extra_headers.borrow().clone()
    }

    /// Sets the extra headers (ignored, with a console error, when one is invalid).
    #[wasm_bindgen(setter, js_name = extraHeaders)]
    pub fn set_extra_headers(&self, #[wasm_bindgen(unchecked_param_type = "string[]")] v: JsValue) {
        let parsed = config::string_array(&v, "extraHeaders").and_then(|h| {
            self.inner
                .ua
                .borrow_mut()
                .set_extra_headers(h.clone())
                .map(|_| h)
        });
        match parsed {
            Ok(h) => *self.inner.extra_headers.borrow_mut() = h,
            Err(e) => log(
                self.inner.level(),
                LogLevel::Error,
                &format!("extraHeaders not changed: {e}"),
            ),
        }
    }

    /// Input devices for the next getUserMedia.
    #[wasm_bindgen(getter, js_name = deviceIds, unchecked_return_type = "DeviceIds")]
    pub fn device_ids(&self) -> JsValue {
        self.inner.shell.borrow().device_ids.clone()
    }

    /// Sets the input devices.
    #[wasm_bindgen(setter, js_name = deviceIds)]
    pub fn set_device_ids(&self, #[wasm_bindgen(unchecked_param_type = "DeviceIds")] v: JsValue) {
        if v.is_object() {
            self.inner.shell.borrow_mut().device_ids = v;
        } else {
            log(
                self.inner.level(),
                LogLevel::Error,
                "deviceIds must be an object",
            );
        }
    }

    /// 'enabled' or 'disabled'.
    #[wasm_bindgen(getter, js_name = videoPlan)]
    pub fn video_plan(&self) -> String {
        self.inner.shell.borrow().video_plan.clone()
    }

    /// 0: no recording control; 1: pause/resume; 2: start/pause/resume.
    #[wasm_bindgen(getter, js_name = recordPermissions)]
    pub fn record_permissions(&self) -> u8 {
        self.inner.shell.borrow().record_permissions
    }

    /// Sets the recording permission and emits `recordPermissionsChange`.
    #[wasm_bindgen(setter, js_name = recordPermissions)]
    pub fn set_record_permissions(
        &self,
        #[wasm_bindgen(unchecked_param_type = "0 | 1 | 2")] v: JsValue,
    ) {
        match v.as_f64() {
            Some(n) if n == 0.0 || n == 1.0 || n == 2.0 => {
                let changed = {
                    let mut s = self.inner.shell.borrow_mut();
                    let old = s.record_permissions;
                    s.record_permissions = n as u8;
                    old != s.record_permissions
                };
                if changed {
                    self.inner
                        .listeners
                        .emit("recordPermissionsChange", &[JsValue::from(n)]);
                }
            }
            _ => log(
                self.inner.level(),
                LogLevel::Error,
                "recordPermissions must be 0, 1 or 2",
            ),
        }
    }

    /// The current call's id (no calls yet in this version: null).
    #[wasm_bindgen(getter, js_name = currentSessionID, unchecked_return_type = "string | null")]
    pub fn current_session_id(&self) -> JsValue {
        JsValue::NULL
    }

    /// All calls by callId (a new Map on each read).
    #[wasm_bindgen(getter, unchecked_return_type = "Map<string, unknown>")]
    pub fn sessions(&self) -> Map {
        Map::new()
    }

    /// Inbound calls still ringing.
    #[wasm_bindgen(getter, js_name = incomingList, unchecked_return_type = "unknown[]")]
    pub fn incoming_list(&self) -> Array {
        Array::new()
    }

    /// sessions.size >= maxCalls.
    #[wasm_bindgen(getter, js_name = isMaxCall)]
    pub fn is_max_call(&self) -> bool {
        self.inner.shell.borrow().max_calls == 0
    }
}

fn result(code: i32, message: &str) -> JsValue {
    obj(&[("code", code.into()), ("message", message.into())])
}

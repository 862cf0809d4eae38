//! `PhoneOperator`: the object web apps create. It owns the core (`sip::ua::Ua`), the
//! WebSocket, the timers, the listeners and the calls (`web::session`); it only
//! converts types and delivers events. Listeners run with no Rust borrow held, so they
//! may call straight back in.

use super::clock::{self, Timer};
use super::config::{self, LogLevel, ShellConfig};
use super::events::Listeners;
use super::incall;
use super::ingress::with_text_bytes;
use super::media;
use super::session::{self, Calls};
use super::socket::{Socket, SocketEvent};
use crate::sip::fill;
use crate::sip::ua::{Input, LogLevel as CoreLevel, MediaRequest, Output, Ua, UaEvent};
use js_sys::{Array, Function, Map, Object, Promise};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The phone's state, shared by the `PhoneOperator` object, its callbacks and its
/// `Session` objects.
pub(crate) struct Inner {
    pub(crate) ua: RefCell<Ua>,
    socket: RefCell<Option<Socket>>,
    /// Tells events of an old socket from the current one's.
    socket_gen: Cell<u32>,
    timer: RefCell<Option<Timer>>,
    /// `updateTimer` once a second while there are calls.
    ticker: RefCell<Option<Timer>>,
    pub(crate) listeners: Listeners,
    pub(crate) shell: RefCell<ShellConfig>,
    extra_headers: RefCell<Vec<String>>,
    pub(crate) destroyed: Cell<bool>,
    pub(crate) calls: RefCell<Calls>,
    /// No video input device (from `enumerateDevices`, refreshed on `devicechange`).
    no_camera: Cell<bool>,
    devicechange: RefCell<Option<Closure<dyn FnMut()>>>,
}

/// What `drive` found for after the drain: events and media requests, in order.
enum Deferred {
    Event(UaEvent),
    Media(String, MediaRequest),
}

/// The phone: registration and calls.
#[wasm_bindgen]
pub struct PhoneOperator {
    inner: Rc<Inner>,
}

pub(crate) fn log(level: LogLevel, at: LogLevel, msg: &str) {
    if at > level || at == LogLevel::Off {
        return;
    }
    let m = fill("[sipwasm] {}", &[&msg]);
    match at {
        LogLevel::Error => console_error(&m),
        LogLevel::Warn => console_warn(&m),
        LogLevel::Info => console_info(&m),
        _ => console_debug(&m),
    }
}

#[wasm_bindgen]
extern "C" {
    // The console, with the text read from wasm memory by the glue.
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(text: &str);
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub(crate) fn console_error2(text: &str, value: &JsValue);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(text: &str);
    #[wasm_bindgen(js_namespace = console, js_name = info)]
    fn console_info(text: &str);
    #[wasm_bindgen(js_namespace = console, js_name = debug)]
    fn console_debug(text: &str);
}

#[wasm_bindgen]
extern "C" {
    /// `Reflect.set` with the key (and a string value) read from wasm memory by the
    /// glue: no JS string made for the key in wasm, no conversion per field.
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = set)]
    fn set_str(o: &Object, k: &str, v: &str) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = set)]
    fn set_num(o: &Object, k: &str, v: f64) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = set)]
    fn set_val(o: &Object, k: &str, v: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = get)]
    fn get_str(o: &JsValue, k: &str) -> Result<JsValue, JsValue>;
}

/// `o[k]`: undefined when reading it throws (a primitive `o`, a throwing getter).
#[inline(never)]
pub(crate) fn field(o: &JsValue, k: &str) -> JsValue {
    get_str(o, k).unwrap_or(JsValue::UNDEFINED)
}

/// A plain JS object built field by field (the events' payloads, `status`, results):
/// `Obj::new().s("callId", id).n("code", 200.0).into()`. The setters are not inlined,
/// so a field costs a call at each place an object is built.
pub(crate) struct Obj(Object);

impl Obj {
    pub(crate) fn new() -> Obj {
        Obj(Object::new())
    }

    /// A string field.
    #[inline(never)]
    pub(crate) fn s(self, k: &str, v: &str) -> Obj {
        let _ = set_str(&self.0, k, v);
        self
    }

    /// A number field.
    #[inline(never)]
    pub(crate) fn n(self, k: &str, v: f64) -> Obj {
        let _ = set_num(&self.0, k, v);
        self
    }

    /// A field of any other value.
    #[inline(never)]
    pub(crate) fn v(self, k: &str, v: &JsValue) -> Obj {
        let _ = set_val(&self.0, k, v);
        self
    }

    /// A boolean field.
    pub(crate) fn b(self, k: &str, v: bool) -> Obj {
        self.v(k, &JsValue::from_bool(v))
    }
}

impl From<Obj> for JsValue {
    fn from(o: Obj) -> JsValue {
        o.0.into()
    }
}

impl Inner {
    pub(crate) fn level(&self) -> LogLevel {
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
    pub(crate) fn drive(self: &Rc<Self>) {
        let mut later = Vec::new();
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
                Output::Event(e) => later.push(Deferred::Event(e)),
                Output::Media { call_id, request } => later.push(Deferred::Media(call_id, request)),
            }
        }
        let deadline = self.ua.borrow().poll_timeout();
        if let Some(t) = self.timer.borrow_mut().as_mut() {
            t.arm(deadline);
        }
        for d in later {
            match d {
                Deferred::Event(e) => self.dispatch(e),
                Deferred::Media(call_id, request) => session::on_media(self, &call_id, request),
            }
        }
    }

    /// Arms the one-second `updateTimer` tick while there are calls, else stops it.
    pub(crate) fn arm_ticker(&self) {
        let any = !self.destroyed.get() && session::any(self);
        if let Some(t) = self.ticker.borrow_mut().as_mut() {
            if !any {
                t.cancel();
            } else if !t.is_armed() {
                t.arm(Some(clock::now() + Duration::from_secs(1)));
            }
        }
    }

    fn fire_ticker(&self) {
        if let Some(t) = self.ticker.borrow_mut().as_mut() {
            t.fired();
        }
        if session::tick(self) {
            self.arm_ticker();
        }
    }

    /// Refreshes `isNoneCamera` from `enumerateDevices` (in the background).
    fn refresh_devices(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        clock::spawn(Box::pin(async move {
            if let Ok((_, cams)) = media::count_devices().await {
                if let Some(me) = weak.upgrade() {
                    me.no_camera.set(cams == 0);
                }
            }
        }));
    }

    fn watch_devices(self: &Rc<Self>) {
        let Some(md) = media::media_devices() else {
            return;
        };
        let weak = Rc::downgrade(self);
        let c = clock::callback(move || {
            if let Some(me) = weak.upgrade() {
                me.refresh_devices();
            }
        });
        if md
            .add_event_listener_with_callback("devicechange", c.as_ref().unchecked_ref())
            .is_ok()
        {
            *self.devicechange.borrow_mut() = Some(c);
        }
        self.refresh_devices();
    }

    fn unwatch_devices(&self) {
        let c = self.devicechange.borrow_mut().take();
        if let (Some(c), Some(md)) = (c, media::media_devices()) {
            let _ =
                md.remove_event_listener_with_callback("devicechange", c.as_ref().unchecked_ref());
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
                    &fill("cannot open {}: {}", &[&url, &media::describe(&e)]),
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

    fn dispatch(self: &Rc<Self>, e: UaEvent) {
        let l = &self.listeners;
        match e {
            UaEvent::Connected => l.emit("connected", &[]),
            UaEvent::Disconnected { code, reason } => l.emit(
                "disconnected",
                &[Obj::new()
                    .n("code", code.into())
                    .s("reason", &reason)
                    .into()],
            ),
            UaEvent::Registered => l.emit("registered", &[]),
            UaEvent::RegistrationFailed { code, cause } => l.emit(
                "registrationFailed",
                &[Obj::new().n("code", code.into()).s("cause", &cause).into()],
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
            UaEvent::Call(ev) => session::on_event(self, ev),
            _ => {}
        }
    }
}

fn config_error(e: crate::sip::config::ConfigError) -> JsError {
    JsError::new(&fill(
        "PhoneConfig.{}: {}",
        &[&config::js_field(e.field), &e.message],
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
        let mut ua = Ua::new(valid, clock::seed(), clock::now());
        // Lines the console would drop are not even formatted by the core.
        ua.set_log_level(match shell.log {
            LogLevel::Off => None,
            LogLevel::Error => Some(CoreLevel::Error),
            LogLevel::Warn => Some(CoreLevel::Warn),
            LogLevel::Info => Some(CoreLevel::Info),
            LogLevel::Debug => Some(CoreLevel::Debug),
        });
        let inner = Rc::new(Inner {
            ua: RefCell::new(ua),
            socket: RefCell::new(None),
            socket_gen: Cell::new(0),
            timer: RefCell::new(None),
            listeners: Listeners::default(),
            shell: RefCell::new(shell),
            extra_headers: RefCell::new(extra),
            destroyed: Cell::new(false),
            ticker: RefCell::new(None),
            calls: RefCell::new(Calls::default()),
            no_camera: Cell::new(false),
            devicechange: RefCell::new(None),
        });
        let weak = Rc::downgrade(&inner);
        *inner.timer.borrow_mut() = Some(Timer::new(move || {
            if let Some(me) = weak.upgrade() {
                me.fire_timer();
            }
        }));
        let weak = Rc::downgrade(&inner);
        *inner.ticker.borrow_mut() = Some(Timer::new(move || {
            if let Some(me) = weak.upgrade() {
                me.fire_ticker();
            }
        }));
        inner.watch_devices();
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
                &fill("{}: {}", &[&config::js_field(e.field), &e.message]),
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

    /// Removes every listener, ends every call (media closed), unregisters, closes
    /// the socket and stops every timer.
    pub fn destroy(&self) {
        if self.inner.destroyed.get() {
            return;
        }
        self.inner.listeners.clear();
        self.inner.ua.borrow_mut().destroy(clock::now());
        self.inner.drive();
        self.inner.destroyed.set(true);
        session::drop_all(&self.inner);
        if let Some(t) = self.inner.ticker.borrow_mut().as_mut() {
            t.cancel();
        }
        self.inner.unwatch_devices();
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
    #[wasm_bindgen(getter, js_name = extraHeaders, unchecked_return_type = "string[]")]
    pub fn extra_headers(&self) -> Array {
        let a = Array::new();
        for h in self.inner.extra_headers.borrow().iter() {
            a.push(&JsValue::from_str(h));
        }
        a
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
                &fill("extraHeaders not changed: {}", &[&e]),
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
    #[wasm_bindgen(getter, js_name = videoPlan, unchecked_return_type = "string")]
    pub fn video_plan(&self) -> JsValue {
        JsValue::from_str(&self.inner.shell.borrow().video_plan)
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

    /// The current call's id: the call most recently started or answered (or set
    /// with `setCurrentSession`); null without calls.
    #[wasm_bindgen(getter, js_name = currentSessionID, unchecked_return_type = "string | null")]
    pub fn current_session_id(&self) -> JsValue {
        session::current(&self.inner).map_or(JsValue::NULL, |(id, _)| id.into())
    }

    /// The current call, or null.
    #[wasm_bindgen(getter, js_name = currentSession, unchecked_return_type = "Session | null")]
    pub fn current_session(&self) -> JsValue {
        session::current(&self.inner).map_or(JsValue::NULL, |(_, s)| s)
    }

    /// The current call, or null.
    #[wasm_bindgen(js_name = getCurrentSession, unchecked_return_type = "Session | null")]
    pub fn get_current_session(&self) -> JsValue {
        self.current_session()
    }

    /// Makes `callId` the current call; false for an unknown call.
    #[wasm_bindgen(js_name = setCurrentSession)]
    pub fn set_current_session(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
    ) -> bool {
        session::set_current(&self.inner, &call_id)
    }

    /// All calls by callId (a new Map on each read, of the live Session objects).
    #[wasm_bindgen(getter, unchecked_return_type = "Map<string, Session>")]
    pub fn sessions(&self) -> Map {
        session::sessions_map(&self.inner)
    }

    /// The call with this id, or null.
    #[wasm_bindgen(js_name = getSession, unchecked_return_type = "Session | null")]
    pub fn get_session(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
    ) -> JsValue {
        session::get(&self.inner, &call_id)
    }

    /// All calls, oldest first.
    #[wasm_bindgen(js_name = getSessions, unchecked_return_type = "Session[]")]
    pub fn get_sessions(&self) -> Array {
        session::sessions_list(&self.inner)
    }

    /// Inbound calls still ringing.
    #[wasm_bindgen(getter, js_name = incomingList, unchecked_return_type = "Session[]")]
    pub fn incoming_list(&self) -> Array {
        session::incoming_list(&self.inner)
    }

    /// sessions.size >= maxCalls.
    #[wasm_bindgen(getter, js_name = isMaxCall)]
    pub fn is_max_call(&self) -> bool {
        session::is_max(&self.inner)
    }

    /// No video input device is present (from `enumerateDevices`, kept up to date on
    /// `devicechange`).
    #[wasm_bindgen(getter, js_name = isNoneCamera)]
    pub fn is_none_camera(&self) -> bool {
        self.inner.no_camera.get()
    }

    /// Calls `number` (a user part, or a `sip:`/`sips:`/`tel:` URI). Resolves once the
    /// Session exists and the INVITE is sent (`{ code: 200, message, callId }`), or
    /// with the error code (API.md precedence). `transferId`: the call being
    /// attended-transferred (held; the new call gets `transferParent`; -207 when unknown).
    #[wasm_bindgen(skip_typescript)]
    pub fn call(&self, number: JsValue, option: JsValue, transfer_id: JsValue) -> Promise {
        session::call(&self.inner, &number, &option, &transfer_id)
    }

    /// Answers a ringing inbound call; resolves once the 200 OK is sent. With no
    /// camera, a video answer goes on with audio only unless `allowNoneCamera` is
    /// false (-291).
    #[wasm_bindgen(skip_typescript)]
    pub fn answer(&self, call_id: JsValue, option: JsValue, allow_none_camera: JsValue) -> Promise {
        let allow = allow_none_camera.as_bool().unwrap_or(true);
        session::answer(&self.inner, &call_id, &option, allow)
    }

    /// Rejects an unanswered inbound call with `rejectCode` (486 by default).
    pub fn reject(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
    ) -> bool {
        session::reject(&self.inner, &call_id)
    }

    /// Outbound before answer: CANCEL; inbound before answer: as reject; after: BYE.
    pub fn hangup(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
    ) -> bool {
        session::hangup(&self.inner, &call_id)
    }

    /// 'hangup'/'reject' as those methods, 'terminate' (default) ends the call
    /// whatever its state; the type is the `cause` reported.
    #[wasm_bindgen(skip_typescript)]
    pub fn terminate(&self, call_id: JsValue, kind: JsValue) -> bool {
        session::terminate(&self.inner, &call_id, &kind)
    }

    /// REFER to `number`; the call ends (cause 'Transferred') when the transfer
    /// succeeds; a refused or failed transfer emits `clientError` and the call stays.
    #[wasm_bindgen(js_name = blindTransfer)]
    pub fn blind_transfer(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] number: JsValue,
    ) -> bool {
        incall::blind_transfer(&self.inner, &call_id, &number)
    }

    /// Completes an attended transfer (RFC 5589 §7): `callId` is the original call
    /// (the `transferId` given to `call()`) or its consultation call, `number` the
    /// target the consultation call went to.
    #[wasm_bindgen(js_name = attendedTransfer)]
    pub fn attended_transfer(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] number: JsValue,
    ) -> bool {
        incall::attended_transfer(&self.inner, &call_id, &number)
    }

    /// Re-INVITE with `sendonly` (or `inactive` when the peer holds us).
    pub fn hold(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
    ) -> bool {
        incall::hold(&self.inner, &call_id)
    }

    /// Re-INVITE with `sendrecv`.
    pub fn unhold(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
    ) -> bool {
        incall::unhold(&self.inner, &call_id)
    }

    /// Disables the local audio track.
    pub fn mute(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
    ) -> bool {
        incall::mute(&self.inner, &call_id, true)
    }

    /// Enables the local audio track.
    pub fn unmute(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
    ) -> bool {
        incall::mute(&self.inner, &call_id, false)
    }

    /// Sends `digits` (`0123456789*#ABCD`) per `dtmfMode`; anything else: false.
    pub fn dtmf(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] digits: JsValue,
    ) -> bool {
        incall::dtmf(&self.inner, &call_id, &digits)
    }

    /// Starts (or resumes) recording, per `recordPermissions` and `recordControl`.
    #[wasm_bindgen(js_name = startRecord)]
    pub fn start_record(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
    ) -> bool {
        incall::record(&self.inner, &call_id, true)
    }

    /// Pauses recording.
    #[wasm_bindgen(js_name = pauseRecord)]
    pub fn pause_record(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
    ) -> bool {
        incall::record(&self.inner, &call_id, false)
    }

    /// Re-INVITE with a fresh offer (`offerToReceiveVideo` changes what it asks for).
    pub fn renegotiate(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
        #[wasm_bindgen(js_name = offerToReceiveVideo)] offer_to_receive_video: Option<bool>,
    ) -> bool {
        incall::renegotiate(&self.inner, &call_id, offer_to_receive_video)
    }

    /// Adds the camera by re-INVITE; resolves when the peer answered.
    #[wasm_bindgen(js_name = audioToVideo, unchecked_return_type = "Promise<Result>")]
    pub fn audio_to_video(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
        #[wasm_bindgen(js_name = allowNoneCamera)] allow_none_camera: Option<bool>,
    ) -> Promise {
        incall::audio_to_video(&self.inner, &call_id, allow_none_camera != Some(false))
    }

    /// Drops the camera by re-INVITE.
    #[wasm_bindgen(js_name = videoToAudio)]
    pub fn video_to_audio(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
    ) -> bool {
        incall::video_to_audio(&self.inner, &call_id)
    }

    /// Sets name/avatar/company of a call; `startManualModel` keeps them the app's.
    #[wasm_bindgen(js_name = setSessionStaticStatus)]
    pub fn set_session_static_status(
        &self,
        #[wasm_bindgen(js_name = callId, unchecked_param_type = "string")] call_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Partial<StaticCallStatus>")] partial: JsValue,
        #[wasm_bindgen(js_name = startManualModel)] start_manual_model: Option<bool>,
    ) -> bool {
        session::lookup_js(&self.inner, &call_id)
            .is_some_and(|(c, _)| incall::set_static_status(&c, &partial, start_manual_model))
    }
}

pub(crate) fn result(code: i32, message: &str) -> JsValue {
    Obj::new()
        .n("code", code.into())
        .s("message", message)
        .into()
}

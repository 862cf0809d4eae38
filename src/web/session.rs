//! Calls in the shell: the `Session` class apps see, the registry of live calls the
//! phone keeps, the core's call events turned into Session and phone events, and the
//! media worker that answers the core's `MediaRequest`s with the browser's WebRTC.
//!
//! Every SIP decision (when to offer, what to send, how a call ends) is the core's; this
//! module keeps what only the browser has (streams, peer connections, listeners) and
//! the API's own policies (result codes, `currentSession`, durations). Listeners run
//! with no borrow held, so they may call straight back in (`answer()` inside
//! `incoming`, `call()` inside `ended`).

use super::clock;
use super::config::LogLevel;
use super::events::Listeners;
use super::incall;
use super::media::{self, CallMedia};
use super::phone::{log, result, Inner, Obj};
use crate::sip::ua::{
    causes, CallError, CallEvent, Direction, MediaRequest, MediaResult, Originator,
};
use crate::sip::{fill, Print as _};
use js_sys::{Array, Function, Map, Promise};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// Result codes used here (API.md "Result codes").
pub(crate) mod code {
    pub const SUCCESS: i32 = 200;
    pub const UNKNOWN_ERROR: i32 = -200;
    pub const REGISTRY_FAILED: i32 = -201;
    pub const PERMISSION_DENIED: i32 = -202;
    pub const ATTENDED_PARENT_NOT_FOUND: i32 = -207;
    pub const INVALID_NUMBER: i32 = -209;
    pub const NOT_FOUND_CALL_ID: i32 = -211;
}

/// `callStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Calling,
    Ringing,
    Connecting,
    Talking,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Calling => "calling",
            Phase::Ringing => "ringing",
            Phase::Connecting => "connecting",
            Phase::Talking => "talking",
        }
    }
}

/// What `status` shows, compared before and after a change for `statusChange`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Status {
    pub(crate) number: String,
    pub(crate) name: String,
    pub(crate) avatar: String,
    pub(crate) company: String,
    pub(crate) outbound: bool,
    pub(crate) is_video: bool,
    pub(crate) is_ring: bool,
    pub(crate) phase: Phase,
    pub(crate) call_start_time: f64,
    /// Since when we hold the peer (the hold re-INVITE succeeded), `performance.now()`
    /// ms; `isHold` is its presence.
    pub(crate) hold_since: Option<u64>,
    /// The peer holds us (not in the API contract's CallStatus: an addition).
    pub(crate) is_remote_hold: bool,
    pub(crate) is_mute: bool,
    /// 'stop', 'recording' or 'pause'.
    pub(crate) record_status: &'static str,
    pub(crate) transfer_parent: Option<TransferParent>,
}

/// `status.transferParent` of a consultation call (attended transfer).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TransferParent {
    pub(crate) call_id: String,
    pub(crate) avatar: String,
    pub(crate) name: String,
    pub(crate) number: String,
    pub(crate) call_duration: f64,
    pub(crate) hold_duration: f64,
}

impl Status {
    /// `StaticCallStatus`: name, avatar, company.
    pub(crate) fn static_js(&self) -> JsValue {
        Obj::new()
            .s("name", &self.name)
            .s("avatar", &self.avatar)
            .s("company", &self.company)
            .into()
    }
}

impl Status {
    fn to_js(&self, call_id: &str) -> JsValue {
        let parent = self
            .transfer_parent
            .as_ref()
            .map_or(JsValue::UNDEFINED, |p| {
                Obj::new()
                    .s("callId", &p.call_id)
                    .s("avatar", &p.avatar)
                    .s("name", &p.name)
                    .s("number", &p.number)
                    .n("callDuration", p.call_duration)
                    .n("holdDuration", p.hold_duration)
                    .into()
            });
        Obj::new()
            .s("number", &self.number)
            .s("name", &self.name)
            .s("avatar", &self.avatar)
            .s("company", &self.company)
            .s("callId", call_id)
            .s(
                "communicationType",
                if self.outbound { "outbound" } else { "inbound" },
            )
            .b("isVideo", self.is_video)
            .b("isRing", self.is_ring)
            .b("isHold", self.hold_since.is_some())
            .b("isRemoteHold", self.is_remote_hold)
            .b("isMute", self.is_mute)
            .s("callStatus", self.phase.as_str())
            .n("callStartTime", self.call_start_time)
            .s("recordStatus", self.record_status)
            .b("isTransfer", self.transfer_parent.is_some())
            .v("transferParent", &parent)
            .b("isConference", false)
            .into()
    }
}

/// A call's state in the shell (times on the `performance.now()` clock, in ms).
pub(crate) struct State {
    pub(crate) status: Status,
    created: u64,
    ring_start: Option<u64>,
    pub(crate) answered: Option<u64>,
    talk_start: Option<u64>,
    ended: Option<u64>,
    /// `answer()` is under way.
    answering: bool,
    /// `offerToReceiveVideo` of the call's options.
    pub(crate) receive_video: bool,
    /// The time we held the peer before the current hold, if any (ms).
    pub(crate) hold_total: u64,
    /// `setStaticStatus(.., true)`: name/avatar/company are the app's.
    pub(crate) manual: bool,
    /// `stopTimer()` was called: no more `updateTimer`.
    pub(crate) timer_stopped: bool,
    /// Seconds since the call came up, counted by the ticker (reports every 3 s).
    pub(crate) ticks: u32,
    /// The latest `callReport`.
    pub(crate) report: Option<JsValue>,
}

impl State {
    fn timer_js(&self, now: u64) -> JsValue {
        let until = |end: Option<u64>| end.or(self.ended).unwrap_or(now);
        let secs =
            |from: Option<u64>, to: u64| from.map_or(0.0, |f| (to.saturating_sub(f) / 1000) as f64);
        let answered = until(self.answered);
        let calling = if self.status.outbound {
            secs(Some(self.created), answered)
        } else {
            0.0
        };
        Obj::new()
            .n("ringDuration", secs(self.ring_start, answered))
            .n("callingDuration", calling)
            .n("callDuration", secs(self.talk_start, until(None)))
            .n("holdDuration", (self.hold_ms(now) / 1000) as f64)
            .into()
    }

    /// Time spent holding the peer so far (ms).
    pub(crate) fn hold_ms(&self, now: u64) -> u64 {
        let end = self.ended.unwrap_or(now);
        self.hold_total + self.status.hold_since.map_or(0, |s| end.saturating_sub(s))
    }

    /// Seconds since the call came up.
    pub(crate) fn call_secs(&self, now: u64) -> f64 {
        self.talk_start.map_or(0.0, |t| {
            (self.ended.unwrap_or(now).saturating_sub(t) / 1000) as f64
        })
    }
}

/// One call as the phone and its `Session` object share it.
pub(crate) struct SessionCore {
    pub(crate) call_id: String,
    pub(crate) listeners: Listeners,
    pub(crate) state: RefCell<State>,
    pub(crate) media: RefCell<Option<CallMedia>>,
    queue: RefCell<VecDeque<MediaRequest>>,
    busy: Cell<bool>,
    /// The pending `call()`/`answer()`: its result code and message.
    waiter: Waiter<(i32, String)>,
    /// Ended: removed from the phone, media closed.
    pub(crate) gone: Cell<bool>,
    /// The pending `audioToVideo()`: its result code.
    pub(crate) reneg_waiter: Waiter<i32>,
    /// Running figures of the quality reports.
    pub(crate) report_acc: RefCell<super::report::ReportAcc>,
    /// The app knows the call (`newRTCSession` was emitted). An outbound call is
    /// announced once its local media is ready; until then it is invisible and, if it
    /// fails, leaves no trace but the result of `call()`.
    announced: Cell<bool>,
    /// An outbound call waiting for getUserMedia: media requests wait too.
    awaiting_media: Cell<bool>,
}

impl SessionCore {
    fn direction(&self) -> &'static str {
        if self.state.borrow().status.outbound {
            "outbound"
        } else {
            "inbound"
        }
    }

    fn status_js(&self) -> JsValue {
        self.state.borrow().status.to_js(&self.call_id)
    }

    /// Applies `f` to the state; emits `statusChange(new, old)` when the status changed.
    /// (Generic only in the step that applies `f`: the snapshot and the comparison are
    /// the non-generic `status_before` and `status_after`, not inlined at each caller.)
    pub(crate) fn update(&self, f: impl FnOnce(&mut State)) {
        let old = self.status_before();
        f(&mut self.state.borrow_mut());
        self.status_after(old);
    }

    #[inline(never)]
    fn status_before(&self) -> Status {
        self.state.borrow().status.clone()
    }

    #[inline(never)]
    fn status_after(&self, old: Status) {
        let new = self.state.borrow().status.clone();
        if old != new {
            self.listeners.emit(
                "statusChange",
                &[new.to_js(&self.call_id), old.to_js(&self.call_id)],
            );
        }
    }

    /// Records the outcome of the pending `call()`/`answer()` and wakes it (once).
    fn settle(&self, code: i32, message: &str) {
        if self.waiter.armed() {
            self.waiter.settle((code, message.to_owned()));
        }
    }

    /// What media operations need, while the call's media is open.
    pub(crate) fn link(&self) -> Option<media::Link> {
        self.media
            .borrow()
            .as_ref()
            .filter(|m| !m.is_closed())
            .map(|m| m.link())
    }

    pub(crate) fn emit(&self, event: &str, payload: JsValue) {
        self.listeners.emit(event, &[payload]);
    }
}

struct Entry {
    core: Rc<SessionCore>,
    /// The `Session` object handed to JS (the same one every time).
    js: JsValue,
}

/// The phone's calls.
#[derive(Default)]
pub(crate) struct Calls {
    /// In creation order.
    list: Vec<Entry>,
    /// Call ids, the current session last.
    recent: Vec<String>,
}

impl Calls {
    fn find(&self, call_id: &str) -> Option<&Entry> {
        self.list.iter().find(|e| e.core.call_id == call_id)
    }

    fn touch(&mut self, call_id: &str) {
        self.recent.retain(|c| c != call_id);
        self.recent.push(call_id.to_owned());
    }

    /// The calls the app knows.
    fn visible(&self) -> impl Iterator<Item = &Entry> {
        self.list.iter().filter(|e| e.core.announced.get())
    }
}

/// Any call, announced or not (for the core's events).
pub(crate) fn lookup(inner: &Inner, call_id: &str) -> Option<(Rc<SessionCore>, JsValue)> {
    let calls = inner.calls.borrow();
    calls.find(call_id).map(|e| (e.core.clone(), e.js.clone()))
}

/// Any call's shared state (for the core's events that need no Session object).
pub(crate) fn find(inner: &Inner, call_id: &str) -> Option<Rc<SessionCore>> {
    let calls = inner.calls.borrow();
    calls.find(call_id).map(|e| e.core.clone())
}

/// A call the app knows, by the id it passed.
pub(crate) fn lookup_js(inner: &Inner, call_id: &JsValue) -> Option<(Rc<SessionCore>, JsValue)> {
    let id = call_id.as_string()?;
    lookup(inner, &id).filter(|(c, _)| c.announced.get())
}

pub(crate) fn now_ms() -> u64 {
    clock::now().as_millis()
}

/// `{ callId, session }`.
pub(crate) fn with_session(call_id: &str, js: &JsValue) -> JsValue {
    Obj::new().s("callId", call_id).v("session", js).into()
}

fn call_error(e: &CallError) -> (i32, String) {
    (e.code(), e.to_text())
}

/// What a call operation's promise resolves with: a result code and its message.
pub(crate) type Outcome = std::pin::Pin<Box<dyn std::future::Future<Output = (i32, String)>>>;

/// The `Promise<Result>` of `call()`, `answer()` or `audioToVideo()`: `{ code, message,
/// callId }`, with `callId` only on success unless `always_id`. (One promise machine for
/// all three.)
pub(crate) fn result_promise(call_id: String, always_id: bool, op: Outcome) -> Promise {
    future_to_promise(async move {
        let (c, m) = op.await;
        let o = Obj::new().n("code", c.into()).s("message", &m);
        Ok(if always_id || c == code::SUCCESS {
            o.s("callId", &call_id)
        } else {
            o
        }
        .into())
    })
}

/// A promise an async API call waits on, and the outcome left for it when it is woken.
pub(crate) struct Waiter<T> {
    resolve: RefCell<Option<Function>>,
    outcome: RefCell<Option<T>>,
}

impl<T> Waiter<T> {
    fn new() -> Self {
        Waiter {
            resolve: RefCell::new(None),
            outcome: RefCell::new(None),
        }
    }

    /// A new promise, woken by [`Waiter::settle`]; `None` when the browser did not hand
    /// out its resolver.
    pub(crate) fn arm(&self) -> Option<Promise> {
        let mut resolve = None;
        let p = Promise::new(&mut |res, _| resolve = Some(res));
        *self.resolve.borrow_mut() = Some(resolve?);
        Some(p)
    }

    /// A promise is waiting.
    pub(crate) fn armed(&self) -> bool {
        self.resolve.borrow().is_some()
    }

    /// Forgets the waiting promise (its call gave up before waiting).
    pub(crate) fn disarm(&self) {
        self.resolve.borrow_mut().take();
    }

    /// Leaves `outcome` and wakes the waiting promise; nothing when none waits.
    pub(crate) fn settle(&self, outcome: T) {
        let w = self.resolve.borrow_mut().take();
        if let Some(resolve) = w {
            *self.outcome.borrow_mut() = Some(outcome);
            let _ = resolve.apply(&JsValue::NULL, &Array::new());
        }
    }

    /// The outcome left by [`Waiter::settle`].
    pub(crate) fn take(&self) -> Option<T> {
        self.outcome.borrow_mut().take()
    }
}

// ------------------------------------------------------------------- options

/// `CallOptions`, leniently read (a missing or non-object option is `{}`).
struct Options {
    video: bool,
    receive_video: bool,
    extra_headers: Vec<String>,
}

fn read_options(o: &JsValue) -> Result<Options, String> {
    let get = |k: &str| {
        if o.is_object() {
            super::phone::field(o, k)
        } else {
            JsValue::UNDEFINED
        }
    };
    let video = get("video").is_truthy();
    let receive_video = get("offerToReceiveVideo").is_truthy() || video;
    let h = get("extraHeaders");
    let extra_headers = if h.is_undefined() || h.is_null() {
        Vec::new()
    } else {
        super::config::string_array(&h, "extraHeaders")
            .map_err(|e| fill("CallOptions.{}", &[&e]))?
    };
    Ok(Options {
        video,
        receive_video,
        extra_headers,
    })
}

// ------------------------------------------------------------------- creation

/// Adds a call (inbound ones are announced by the core's `NewSession`, outbound ones
/// once their media is ready).
fn insert(
    inner: &Rc<Inner>,
    call_id: &str,
    outbound: bool,
    number: &str,
) -> (Rc<SessionCore>, JsValue) {
    if let Some(found) = lookup(inner, call_id) {
        return found;
    }
    let now = now_ms();
    let core = Rc::new(SessionCore {
        call_id: call_id.to_owned(),
        listeners: Listeners::default(),
        state: RefCell::new(State {
            status: Status {
                number: number.to_owned(),
                name: number.to_owned(),
                avatar: String::new(),
                company: String::new(),
                outbound,
                is_video: false,
                is_ring: !outbound,
                phase: if outbound {
                    Phase::Calling
                } else {
                    Phase::Ringing
                },
                call_start_time: 0.0,
                hold_since: None,
                is_remote_hold: false,
                is_mute: false,
                record_status: "stop",
                transfer_parent: None,
            },
            created: now,
            ring_start: (!outbound).then_some(now),
            answered: None,
            talk_start: None,
            ended: None,
            answering: false,
            receive_video: false,
            hold_total: 0,
            manual: false,
            timer_stopped: false,
            ticks: 0,
            report: None,
        }),
        media: RefCell::new(None),
        queue: RefCell::new(VecDeque::new()),
        busy: Cell::new(false),
        waiter: Waiter::new(),
        gone: Cell::new(false),
        announced: Cell::new(false),
        awaiting_media: Cell::new(outbound),
        reneg_waiter: Waiter::new(),
        report_acc: RefCell::new(super::report::ReportAcc::default()),
    });
    let js: JsValue = Session {
        core: core.clone(),
        phone: Rc::downgrade(inner),
    }
    .into();
    inner.calls.borrow_mut().list.push(Entry {
        core: core.clone(),
        js: js.clone(),
    });
    (core, js)
}

/// Makes the call visible: it becomes the current call, `newRTCSession` and
/// `startSession` are emitted (and `updateLocalStream` for a video call).
fn announce(inner: &Rc<Inner>, core: &SessionCore, js: &JsValue) {
    if core.announced.replace(true) || core.gone.get() {
        return;
    }
    inner.calls.borrow_mut().touch(&core.call_id);
    inner.arm_ticker();
    let payload = with_session(&core.call_id, js);
    inner
        .listeners
        .emit("newRTCSession", std::slice::from_ref(&payload));
    inner.listeners.emit("startSession", &[payload]);
    let v = core.media.borrow().as_ref().and_then(|m| m.local_video());
    if let Some(v) = v {
        core.emit("updateLocalStream", v.into());
    }
}

/// Gives the call its media; remote tracks then feed `remoteStream`.
pub(crate) fn attach_media(core: &Rc<SessionCore>, mut m: CallMedia, video: bool) {
    let weak = Rc::downgrade(core);
    m.on_track(move |track| {
        if let Some(core) = weak.upgrade() {
            on_remote_track(&core, &track);
        }
    });
    *core.media.borrow_mut() = Some(m);
    if video {
        core.update(|s| s.status.is_video = true);
    }
}

fn on_remote_track(core: &Rc<SessionCore>, track: &web_sys::MediaStreamTrack) {
    if core.gone.get() {
        return;
    }
    let added = core
        .media
        .borrow_mut()
        .as_mut()
        .and_then(|m| m.add_remote(track));
    let Some((stream, created)) = added else {
        return;
    };
    if track.kind() == "video" {
        core.update(|s| s.status.is_video = true);
    }
    if created {
        core.emit(
            "streamAdded",
            Obj::new()
                .s("callId", &core.call_id)
                .s("communicationType", core.direction())
                .v("stream", &stream)
                .into(),
        );
    }
    core.emit("updateRemoteStream", stream.into());
}

// ------------------------------------------------------------------- call()

struct Plan {
    core: Rc<SessionCore>,
    js: JsValue,
    options: Options,
}

/// `call(number, option?, transferId?)`. The core places the call (its checks come in
/// the API's order: -209, -201, -205, -210, -208), then getUserMedia; the call is
/// announced once its media is ready and the promise resolves when the INVITE is sent.
/// A call refused at any step leaves no session, no event, nothing on the wire.
pub(crate) fn call(
    inner: &Rc<Inner>,
    number: &JsValue,
    option: &JsValue,
    transfer_id: &JsValue,
) -> Promise {
    match start_call(inner, number, option, transfer_id) {
        Err((c, m)) => Promise::resolve(&result(c, &m)),
        Ok(plan) => {
            let id = plan.core.call_id.clone();
            result_promise(id, false, Box::pin(place_call(inner.clone(), plan)))
        }
    }
}

fn start_call(
    inner: &Rc<Inner>,
    number: &JsValue,
    option: &JsValue,
    transfer_id: &JsValue,
) -> Result<Plan, (i32, String)> {
    let target = number
        .as_string()
        .ok_or((code::INVALID_NUMBER, "number must be a string".to_owned()))?;
    // Attended transfer (RFC 5589 §7): the call being transferred.
    let parent = if transfer_id.is_undefined() || transfer_id.is_null() {
        None
    } else {
        let (p, _) = lookup_js(inner, transfer_id).ok_or((
            code::ATTENDED_PARENT_NOT_FOUND,
            "transferId: no such call".to_owned(),
        ))?;
        Some(p)
    };
    let options = read_options(option).map_err(|m| (code::UNKNOWN_ERROR, m))?;
    if inner.destroyed.get() {
        return Err((code::REGISTRY_FAILED, "the phone was destroyed".into()));
    }
    let placed = inner
        .ua
        .borrow_mut()
        .call(clock::now(), &target, &options.extra_headers);
    let call_id = placed.map_err(|e| call_error(&e))?;
    let (core, js) = insert(inner, &call_id, true, &target);
    let now = now_ms();
    if let Some(p) = &parent {
        let st = p.state.borrow();
        let tp = TransferParent {
            call_id: p.call_id.clone(),
            avatar: st.status.avatar.clone(),
            name: st.status.name.clone(),
            number: st.status.number.clone(),
            call_duration: st.call_secs(now),
            hold_duration: (st.hold_ms(now) / 1000) as f64,
        };
        drop(st);
        core.state.borrow_mut().status.transfer_parent = Some(tp);
    }
    inner.drive();
    Ok(Plan { core, js, options })
}

async fn place_call(inner: Rc<Inner>, plan: Plan) -> (i32, String) {
    let inner = &inner;
    let core = plan.core;
    let device_ids = inner.shell.borrow().device_ids.clone();
    let got = media::local_stream(&device_ids, plan.options.video, false).await;
    if core.gone.get() {
        // Ended meanwhile (disconnect, destroy): nothing was announced.
        if let Ok((s, _)) = &got {
            media::stop_stream(s);
        }
        return core
            .waiter
            .take()
            .unwrap_or((code::UNKNOWN_ERROR, "the call ended".into()));
    }
    let made = got.and_then(|g| peer_connection(inner, g));
    let (m, has_video) = match made {
        Ok(x) => x,
        Err(e) => {
            let cause = if e.code == code::PERMISSION_DENIED {
                causes::USER_DENIED_MEDIA_ACCESS.to_owned()
            } else {
                e.message.clone()
            };
            // The core drops the call without sending anything.
            inner.ua.borrow_mut().handle_media(
                clock::now(),
                &core.call_id,
                MediaResult::Failed(cause),
            );
            inner.drive();
            return (e.code, e.message);
        }
    };
    core.state.borrow_mut().receive_video = plan.options.receive_video;
    attach_media(&core, m, has_video);
    incall::hold_others(inner, &core.call_id);
    let Some(p) = core.waiter.arm() else {
        return (code::UNKNOWN_ERROR, "no Promise".into());
    };
    announce(inner, &core, &plan.js);
    core.awaiting_media.set(false);
    kick(inner, &core);
    let _ = JsFuture::from(p).await;
    core.waiter
        .take()
        .unwrap_or((code::UNKNOWN_ERROR, "no outcome".into()))
}

// ------------------------------------------------------------------- answer()

/// `answer(callId, option?, allowNoneCamera = true)`: getUserMedia, then the core
/// answers; resolves once the 200 OK is sent. When the media cannot be had the call
/// keeps ringing (`clientError` tells why) so the app can retry or reject.
pub(crate) fn answer(
    inner: &Rc<Inner>,
    call_id: &JsValue,
    option: &JsValue,
    allow_none_camera: bool,
) -> Promise {
    match check_answer(inner, call_id, option) {
        Err((c, m)) => Promise::resolve(&result(c, &m)),
        Ok((core, options)) => {
            let id = core.call_id.clone();
            let op = answer_inner(inner.clone(), core, options, allow_none_camera);
            result_promise(id, true, Box::pin(op))
        }
    }
}

fn check_answer(
    inner: &Rc<Inner>,
    call_id: &JsValue,
    option: &JsValue,
) -> Result<(Rc<SessionCore>, Options), (i32, String)> {
    let (core, _) =
        lookup_js(inner, call_id).ok_or((code::NOT_FOUND_CALL_ID, "no such call".to_owned()))?;
    let options = read_options(option).map_err(|m| (code::UNKNOWN_ERROR, m))?;
    {
        let st = core.state.borrow();
        if st.status.outbound || st.status.phase != Phase::Ringing || st.answering {
            return Err((code::UNKNOWN_ERROR, "not a ringing inbound call".into()));
        }
    }
    core.update(|s| {
        s.answering = true;
        s.receive_video = options.receive_video;
        s.status.phase = Phase::Connecting;
        s.status.is_ring = false;
    });
    inner.calls.borrow_mut().touch(&core.call_id);
    Ok((core, options))
}

/// Back to ringing after a failed `answer()`.
fn unanswer(core: &SessionCore, cause: &str) {
    if core.gone.get() {
        return;
    }
    core.update(|s| {
        s.answering = false;
        s.status.phase = Phase::Ringing;
        s.status.is_ring = true;
    });
    client_error(core, cause);
}

async fn answer_inner(
    inner: Rc<Inner>,
    core: Rc<SessionCore>,
    options: Options,
    allow_none_camera: bool,
) -> (i32, String) {
    let (inner, core) = (&inner, &core);
    let device_ids = inner.shell.borrow().device_ids.clone();
    let got = media::local_stream(&device_ids, options.video, allow_none_camera).await;
    if core.gone.get() || inner.destroyed.get() {
        if let Ok((s, _)) = &got {
            media::stop_stream(s);
        }
        return (code::NOT_FOUND_CALL_ID, "the call ended".into());
    }
    let made = got.and_then(|g| peer_connection(inner, g));
    let (m, has_video) = match made {
        Ok(x) => x,
        Err(e) => {
            unanswer(core, &e.message);
            return (e.code, e.message);
        }
    };
    attach_media(core, m, has_video);
    let v = core.media.borrow().as_ref().and_then(|m| m.local_video());
    if let Some(v) = v {
        core.emit("updateLocalStream", v.into());
    }
    let Some(p) = core.waiter.arm() else {
        return (code::UNKNOWN_ERROR, "no Promise".into());
    };
    incall::hold_others(inner, &core.call_id);
    let r = inner.ua.borrow_mut().answer(clock::now(), &core.call_id);
    if let Err(e) = r {
        core.waiter.disarm();
        let m = core.media.borrow_mut().take();
        drop(m);
        let (c, msg) = call_error(&e);
        unanswer(core, &msg);
        inner.drive();
        return (c, msg);
    }
    inner.drive();
    let _ = JsFuture::from(p).await;
    core.waiter
        .take()
        .unwrap_or((code::UNKNOWN_ERROR, "no outcome".into()))
}

pub(crate) fn client_error(core: &SessionCore, cause: &str) {
    core.emit(
        "clientError",
        Obj::new()
            .s("callId", &core.call_id)
            .s("cause", cause)
            .into(),
    );
}

// ------------------------------------------------------------------- ending

/// `reject(callId)`: an unanswered inbound call, with `rejectCode`.
pub(crate) fn reject(inner: &Rc<Inner>, call_id: &JsValue) -> bool {
    let Some((core, _)) = lookup_js(inner, call_id) else {
        return false;
    };
    if !ringing_inbound(&core) {
        return false;
    }
    let code = inner.shell.borrow().reject_code;
    command(inner, |ua, now| ua.reject(now, &core.call_id, code))
}

/// `hangup(callId)`: CANCEL, reject or BYE, as the call's state requires.
pub(crate) fn hangup(inner: &Rc<Inner>, call_id: &JsValue) -> bool {
    let Some((core, _)) = lookup_js(inner, call_id) else {
        return false;
    };
    command(inner, |ua, now| ua.hangup(now, &core.call_id))
}

/// `terminate(callId, type)`: 'hangup' and 'reject' as those methods, 'terminate' ends
/// the call whatever its state; the type is the cause reported.
pub(crate) fn terminate(inner: &Rc<Inner>, call_id: &JsValue, kind: &JsValue) -> bool {
    let kind = if kind.is_undefined() || kind.is_null() {
        Some("terminate".to_owned())
    } else {
        kind.as_string()
    };
    let Some(kind) = kind.filter(|k| matches!(k.as_str(), "hangup" | "reject" | "terminate"))
    else {
        return false;
    };
    let Some((core, _)) = lookup_js(inner, call_id) else {
        return false;
    };
    if kind == "reject" && !ringing_inbound(&core) {
        return false;
    }
    // For a ringing inbound call the core's hangup is a reject with `rejectCode`.
    command(inner, |ua, now| ua.terminate(now, &core.call_id, &kind))
}

fn ringing_inbound(core: &SessionCore) -> bool {
    let st = core.state.borrow();
    !st.status.outbound && st.answered.is_none()
}

/// Runs one call command of the core and delivers what comes out; true when the core
/// took it.
pub(crate) fn command(
    inner: &Rc<Inner>,
    f: impl FnOnce(&mut crate::sip::ua::Ua, crate::sip::time::Instant) -> Result<(), CallError>,
) -> bool {
    if inner.destroyed.get() {
        return false;
    }
    let r = f(&mut inner.ua.borrow_mut(), clock::now());
    inner.drive();
    r.is_ok()
}

/// Removes the call: media closed, a pending `call()`/`answer()` settled, then (for a
/// call the app knows) `ended`/`failed` and `deleteSession`; the Session's listeners
/// are dropped.
fn finish(inner: &Rc<Inner>, call_id: &str, failed: Option<u16>, cause: String, originator: &str) {
    let entry = {
        let mut calls = inner.calls.borrow_mut();
        calls.recent.retain(|c| c != call_id);
        let i = calls.list.iter().position(|e| e.core.call_id == call_id);
        i.map(|i| calls.list.remove(i))
    };
    let Some(entry) = entry else {
        return;
    };
    let core = entry.core;
    core.gone.set(true);
    core.queue.borrow_mut().clear();
    let m = core.media.borrow_mut().take();
    drop(m);
    {
        let mut st = core.state.borrow_mut();
        st.ended = Some(now_ms());
        st.answering = false;
    }
    let code = if core.state.borrow().status.outbound {
        // A call() that never got its INVITE out.
        code::UNKNOWN_ERROR
    } else {
        code::NOT_FOUND_CALL_ID
    };
    core.settle(code, &fill("the call ended: {}", &[&cause]));
    incall::settle_reneg(&core, code::NOT_FOUND_CALL_ID);
    if core.announced.get() {
        let (name, payload) = match failed {
            Some(c) => (
                "failed",
                Obj::new()
                    .s("callId", call_id)
                    .s("cause", &cause)
                    .n("code", c.into())
                    .s("originator", originator)
                    .into(),
            ),
            None => (
                "ended",
                Obj::new()
                    .s("callId", call_id)
                    .s("cause", &cause)
                    .s("originator", originator)
                    .into(),
            ),
        };
        core.emit(name, payload);
        inner.listeners.emit(
            "deleteSession",
            &[Obj::new().s("callId", call_id).s("cause", &cause).into()],
        );
    }
    core.listeners.clear();
    inner.arm_ticker();
}

/// Closes every call's media and forgets every call (`destroy()`; no events).
pub(crate) fn drop_all(inner: &Inner) {
    let list = std::mem::take(&mut inner.calls.borrow_mut().list);
    inner.calls.borrow_mut().recent.clear();
    for e in list {
        e.core.gone.set(true);
        let m = e.core.media.borrow_mut().take();
        drop(m);
        e.core
            .settle(code::UNKNOWN_ERROR, "the phone was destroyed");
        e.core.listeners.clear();
    }
}

// ------------------------------------------------------------------- core events

fn originator_str(o: Originator) -> &'static str {
    match o {
        Originator::Local => "local",
        Originator::Remote => "remote",
        Originator::System => "system",
    }
}

/// One call event of the core.
pub(crate) fn on_event(inner: &Rc<Inner>, ev: CallEvent) {
    match ev {
        CallEvent::NewSession {
            call_id,
            direction,
            remote_uri: _,
            remote_user,
            remote_display,
        } => {
            let outbound = direction == Direction::Outbound;
            // An outbound call the app did not place: the core calls a transfer
            // target for the peer's REFER.
            let adopted = outbound && find(inner, &call_id).is_none();
            let (core, js) = insert(inner, &call_id, outbound, &remote_user);
            {
                // Not a change the app could have seen: the call is not announced yet.
                let mut st = core.state.borrow_mut();
                st.status.number = remote_user.clone();
                st.status.name = remote_display
                    .filter(|d| !d.is_empty())
                    .unwrap_or(remote_user);
            }
            if !outbound {
                announce(inner, &core, &js);
            } else if adopted {
                clock::spawn(Box::pin(adopt(inner.clone(), core, js)));
            }
        }
        CallEvent::Incoming { call_id } => {
            if let Some((core, js)) = lookup(inner, &call_id) {
                if core.announced.get() {
                    inner
                        .listeners
                        .emit("incoming", &[with_session(&call_id, &js)]);
                }
            }
        }
        CallEvent::Progress { call_id, code } => {
            let Some(core) = find(inner, &call_id) else {
                return;
            };
            if crate::sip::ua::alerting(code) {
                core.update(|s| {
                    if s.status.outbound && s.answered.is_none() {
                        s.status.is_ring = true;
                        s.ring_start.get_or_insert(now_ms());
                    }
                });
            }
            core.emit(
                "progress",
                Obj::new()
                    .s("callId", &call_id)
                    .n("code", code.into())
                    .into(),
            );
        }
        CallEvent::Accepted { call_id } => {
            let Some((core, js)) = lookup(inner, &call_id) else {
                return;
            };
            core.update(|s| {
                s.answered.get_or_insert(now_ms());
                s.answering = false;
                s.status.is_ring = false;
                s.status.call_start_time = js_sys::Date::now();
            });
            core.emit("accepted", with_session(&call_id, &js));
        }
        CallEvent::Confirmed { call_id } => {
            let Some((core, js)) = lookup(inner, &call_id) else {
                return;
            };
            core.update(|s| {
                let now = now_ms();
                s.answered.get_or_insert(now);
                s.talk_start.get_or_insert(now);
                s.status.is_ring = false;
                s.status.phase = Phase::Talking;
                if s.status.call_start_time == 0.0 {
                    s.status.call_start_time = js_sys::Date::now();
                }
            });
            core.emit("confirmed", with_session(&call_id, &js));
        }
        CallEvent::Ended {
            call_id,
            cause,
            originator,
        } => finish(inner, &call_id, None, cause, originator_str(originator)),
        CallEvent::Failed {
            call_id,
            cause,
            code,
            originator,
        } => finish(
            inner,
            &call_id,
            Some(code),
            cause,
            originator_str(originator),
        ),
        other => incall::on_event(inner, other),
    }
}

/// Local media for an outbound call the core placed itself (being transferred):
/// audio, then the call is announced and its offer made.
async fn adopt(inner: Rc<Inner>, core: Rc<SessionCore>, js: JsValue) {
    let device_ids = inner.shell.borrow().device_ids.clone();
    let got = media::local_stream(&device_ids, false, true).await;
    if core.gone.get() || inner.destroyed.get() {
        if let Ok((s, _)) = &got {
            media::stop_stream(s);
        }
        return;
    }
    match got.and_then(|g| peer_connection(&inner, g)) {
        Ok((m, video)) => {
            attach_media(&core, m, video);
            announce(&inner, &core, &js);
            core.awaiting_media.set(false);
            kick(&inner, &core);
        }
        Err(e) => {
            inner.ua.borrow_mut().handle_media(
                clock::now(),
                &core.call_id,
                MediaResult::Failed(e.message),
            );
            inner.drive();
        }
    }
}

// ------------------------------------------------------------------- media worker

/// One media request of the core: `Close` at once, the others in order by the call's
/// worker (an outbound call's wait for its local media first).
pub(crate) fn on_media(inner: &Rc<Inner>, call_id: &str, req: MediaRequest) {
    let Some(core) = find(inner, call_id) else {
        if !matches!(req, MediaRequest::Close) {
            log(
                inner.level(),
                LogLevel::Warn,
                &fill("media request for an unknown call {}", &[&call_id]),
            );
            inner.ua.borrow_mut().handle_media(
                clock::now(),
                call_id,
                MediaResult::Failed("no such call in the browser".into()),
            );
            inner.drive();
        }
        return;
    };
    if let MediaRequest::Close = req {
        let m = core.media.borrow_mut().take();
        drop(m);
        core.queue.borrow_mut().clear();
        return;
    }
    core.queue.borrow_mut().push_back(req);
    kick(inner, &core);
}

/// Starts the call's media worker unless it runs or the local media is not there yet.
fn kick(inner: &Rc<Inner>, core: &Rc<SessionCore>) {
    if core.busy.get() || core.awaiting_media.get() || core.queue.borrow().is_empty() {
        return;
    }
    core.busy.set(true);
    clock::spawn(Box::pin(worker(inner.clone(), core.clone())));
}

async fn worker(inner: Rc<Inner>, core: Rc<SessionCore>) {
    loop {
        let req = core.queue.borrow_mut().pop_front();
        let Some(req) = req else {
            break;
        };
        let link = core.link();
        let ice_ms = inner.shell.borrow().ice_gathering_timeout;
        let receive_video = core.state.borrow().receive_video;
        let sdp_request = !matches!(
            req,
            MediaRequest::ApplyAnswer { .. } | MediaRequest::Rollback
        );
        let step = match &req {
            MediaRequest::CreateOffer { hold } => Some(media::Step::Offer {
                receive_video,
                hold: *hold,
            }),
            MediaRequest::CreateAnswer { offer, hold } => {
                Some(media::Step::Answer { offer, hold: *hold })
            }
            MediaRequest::ApplyAnswer { answer } => Some(media::Step::Apply(answer)),
            MediaRequest::Rollback => Some(media::Step::Rollback),
            MediaRequest::Close => None,
        };
        let res = match (link, step) {
            (Some(link), Some(step)) => match media::negotiate(&link, step, ice_ms).await {
                Ok(sdp) if sdp_request => MediaResult::Sdp(sdp),
                Ok(_) => MediaResult::Applied,
                // Nothing better to do when even the rollback fails.
                Err(_) if matches!(step, media::Step::Rollback) => MediaResult::Applied,
                Err(e) => MediaResult::Failed(e),
            },
            _ => MediaResult::Failed("no local media for this call".into()),
        };
        if core.gone.get() || inner.destroyed.get() {
            continue; // the call ended meanwhile: nothing to report
        }
        let failure = match &res {
            MediaResult::Failed(m) => Some(m.clone()),
            _ => None,
        };
        if let Some(m) = &failure {
            client_error(&core, m);
        }
        inner
            .ua
            .borrow_mut()
            .handle_media(clock::now(), &core.call_id, res);
        inner.drive();
        match failure {
            Some(m) => core.settle(code::UNKNOWN_ERROR, &m),
            // The INVITE (offer) or the 200 OK (answer) is on its way.
            None if sdp_request && !core.gone.get() => core.settle(code::SUCCESS, "OK"),
            None => {}
        }
    }
    core.busy.set(false);
}

// ------------------------------------------------------------------- timer

/// `updateTimer` for every call the app knows; true while there are calls.
pub(crate) fn tick(inner: &Inner) -> bool {
    let cores: Vec<Rc<SessionCore>> = inner
        .calls
        .borrow()
        .visible()
        .map(|e| e.core.clone())
        .collect();
    let now = now_ms();
    for c in &cores {
        let (t, stopped) = {
            let st = c.state.borrow();
            (st.timer_js(now), st.timer_stopped)
        };
        if !stopped {
            c.emit("updateTimer", t);
        }
        incall::tick(inner, c);
    }
    !cores.is_empty()
}

/// The calls the app knows, in creation order.
pub(crate) fn cores(inner: &Inner) -> Vec<Rc<SessionCore>> {
    inner
        .calls
        .borrow()
        .visible()
        .map(|e| e.core.clone())
        .collect()
}

/// True while the app has calls.
pub(crate) fn any(inner: &Inner) -> bool {
    inner.calls.borrow().visible().next().is_some()
}

// ------------------------------------------------------------------- phone views

/// `sessions`: a new Map of the live Session objects.
pub(crate) fn sessions_map(inner: &Inner) -> Map {
    let m = Map::new();
    for e in inner.calls.borrow().visible() {
        m.set(&JsValue::from_str(&e.core.call_id), &e.js);
    }
    m
}

/// `getSessions()`.
pub(crate) fn sessions_list(inner: &Inner) -> Array {
    inner
        .calls
        .borrow()
        .visible()
        .map(|e| e.js.clone())
        .collect()
}

/// `incomingList`: inbound calls still ringing.
pub(crate) fn incoming_list(inner: &Inner) -> Array {
    inner
        .calls
        .borrow()
        .visible()
        .filter(|e| {
            let s = e.core.state.borrow();
            !s.status.outbound && s.answered.is_none() && !s.answering
        })
        .map(|e| e.js.clone())
        .collect()
}

/// `getSession(callId)`.
pub(crate) fn get(inner: &Inner, call_id: &JsValue) -> JsValue {
    lookup_js(inner, call_id).map_or(JsValue::NULL, |(_, js)| js)
}

/// `currentSession`.
pub(crate) fn current(inner: &Inner) -> Option<(String, JsValue)> {
    let calls = inner.calls.borrow();
    let id = calls.recent.last()?;
    calls.find(id).map(|e| (id.clone(), e.js.clone()))
}

/// `setCurrentSession(callId)`.
pub(crate) fn set_current(inner: &Inner, call_id: &JsValue) -> bool {
    if lookup_js(inner, call_id).is_none() {
        return false;
    }
    let Some(id) = call_id.as_string() else {
        return false;
    };
    inner.calls.borrow_mut().touch(&id);
    true
}

/// `isMaxCall`.
pub(crate) fn is_max(inner: &Inner) -> bool {
    inner.calls.borrow().visible().count() >= inner.shell.borrow().max_calls as usize
}

// ------------------------------------------------------------------- Session

/// One call. Get it from the phone's events (`newRTCSession`, `incoming`) or
/// `getSession(callId)`; it stays readable after the call ended.
#[wasm_bindgen]
pub struct Session {
    pub(crate) core: Rc<SessionCore>,
    pub(crate) phone: Weak<Inner>,
}

#[wasm_bindgen]
impl Session {
    /// The call's unique id (its SIP Call-ID).
    #[wasm_bindgen(getter, js_name = callId, unchecked_return_type = "string")]
    pub fn call_id(&self) -> JsValue {
        JsValue::from_str(&self.core.call_id)
    }

    /// The current state, as a new plain object on each read.
    #[wasm_bindgen(getter, unchecked_return_type = "CallStatus")]
    pub fn status(&self) -> JsValue {
        self.core.status_js()
    }

    /// Durations in seconds.
    #[wasm_bindgen(getter, unchecked_return_type = "TimerType")]
    pub fn timer(&self) -> JsValue {
        self.core.state.borrow().timer_js(now_ms())
    }

    /// The local video (audio is not echoed back); null for an audio call.
    #[wasm_bindgen(getter, js_name = localStream, unchecked_return_type = "MediaStream | null")]
    pub fn local_stream(&self) -> JsValue {
        let m = self.core.media.borrow();
        m.as_ref()
            .and_then(|m| m.local_video())
            .map_or(JsValue::NULL, JsValue::from)
    }

    /// The remote audio and video; null until a remote track arrived.
    #[wasm_bindgen(getter, js_name = remoteStream, unchecked_return_type = "MediaStream | null")]
    pub fn remote_stream(&self) -> JsValue {
        let m = self.core.media.borrow();
        m.as_ref()
            .and_then(|m| m.remote())
            .map_or(JsValue::NULL, JsValue::from)
    }

    /// The latest quality report (every 3 s while the call is up), or null.
    #[wasm_bindgen(getter, js_name = callReport, unchecked_return_type = "Report | null")]
    pub fn call_report(&self) -> JsValue {
        self.core
            .state
            .borrow()
            .report
            .clone()
            .unwrap_or(JsValue::NULL)
    }

    /// Inbound calls still ringing (the phone's list).
    #[wasm_bindgen(getter, js_name = incomingList, unchecked_return_type = "Session[]")]
    pub fn incoming_list(&self) -> Array {
        self.phone
            .upgrade()
            .map_or_else(Array::new, |p| incoming_list(&p))
    }

    /// Adds a listener (the package's `on` returns the session).
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, event_name: &str, listener: Function) {
        if !self.core.gone.get() {
            self.core.listeners.on(event_name, listener, false);
        }
    }

    /// Adds a listener called once.
    #[wasm_bindgen(skip_typescript)]
    pub fn once(&self, event_name: &str, listener: Function) {
        if !self.core.gone.get() {
            self.core.listeners.on(event_name, listener, true);
        }
    }

    /// Removes a listener, or every listener of the event.
    #[wasm_bindgen(skip_typescript)]
    pub fn off(&self, event_name: &str, listener: Option<Function>) {
        self.core.listeners.off(event_name, listener.as_ref());
    }

    /// Answers this call (see `PhoneOperator.answer`).
    #[wasm_bindgen(skip_typescript)]
    pub fn answer(&self, option: JsValue) -> Promise {
        match self.phone.upgrade() {
            Some(p) => answer(&p, &self.id(), &option, true),
            None => Promise::resolve(&result(code::NOT_FOUND_CALL_ID, "no such call")),
        }
    }

    /// Rejects this unanswered inbound call with `rejectCode`.
    pub fn reject(&self) -> bool {
        self.phone.upgrade().is_some_and(|p| reject(&p, &self.id()))
    }

    /// CANCEL, reject or BYE, as the call's state requires.
    pub fn hangup(&self) -> bool {
        self.phone.upgrade().is_some_and(|p| hangup(&p, &self.id()))
    }

    /// Ends the call: 'hangup', 'reject' or 'terminate' (default; whatever its state).
    #[wasm_bindgen(skip_typescript)]
    pub fn terminate(&self, kind: JsValue) -> bool {
        self.phone
            .upgrade()
            .is_some_and(|p| terminate(&p, &self.id(), &kind))
    }
}

impl Session {
    pub(crate) fn id(&self) -> JsValue {
        JsValue::from_str(&self.core.call_id)
    }
}

/// The call's RTCPeerConnection over the local stream `got` (with its video flag); on
/// failure the stream's tracks are stopped, so nothing is left open.
pub(crate) fn peer_connection(
    inner: &Rc<Inner>,
    (stream, video): (web_sys::MediaStream, bool),
) -> Result<(CallMedia, bool), media::MediaError> {
    let ice = inner.shell.borrow().ice_servers.clone();
    CallMedia::new(&ice, Clone::clone(&stream))
        .map(|m| (m, video))
        .map_err(|e| {
            media::stop_stream(&stream);
            media::MediaError {
                code: media::LOCAL_STREAM_ERROR,
                message: e,
            }
        })
}

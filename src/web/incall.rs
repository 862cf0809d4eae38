//! In-call features in the shell: hold, mute, DTMF, transfers, video on/off,
//! recording control, static status and quality reports.
//!
//! The SIP side of each (re-INVITE, INFO, REFER/NOTIFY, Replaces) is the core's; this
//! module checks the API's preconditions, drives the browser media (tracks, the
//! DTMF sender, getStats) and turns the core's events into Session state and events.

use super::clock;
use super::media;
use super::phone::{result, Inner, Obj};
use super::report::{self, ReportInfo};
use super::session::{
    self, client_error, code, command, find, lookup, lookup_js, now_ms, with_session, Phase,
    Session, SessionCore,
};
use crate::sip::ua::{succeeded, valid_dtmf, CallEvent, InfoKind, Reoffer};
use crate::sip::{fill, Print as _};
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Tone length and gap of `dtmf()` (RFC 4733 §2.5.1.3 leaves them to the sender;
/// 100 ms tones with 70 ms gaps are what desk phones send and every PBX detects).
pub const DTMF_DURATION_MS: u32 = 100;
/// See [`DTMF_DURATION_MS`].
pub const DTMF_GAP_MS: u32 = 70;
/// A quality report every this many seconds while the call is up.
pub const REPORT_EVERY_S: u32 = 3;

fn talking(core: &SessionCore) -> bool {
    core.state.borrow().status.phase == Phase::Talking
}

/// A talking call the app knows, by the id it passed.
fn live(inner: &Inner, call_id: &JsValue) -> Option<Rc<SessionCore>> {
    lookup_js(inner, call_id)
        .map(|(c, _)| c)
        .filter(|c| talking(c))
}

// ------------------------------------------------------------------- hold

/// `hold(callId)`: a re-INVITE with `sendonly` (RFC 3264 §8.4); `isHold` turns true
/// when it succeeds.
pub(crate) fn hold(inner: &Rc<Inner>, call_id: &JsValue) -> bool {
    let Some(core) = live(inner, call_id) else {
        return false;
    };
    command(inner, |ua, now| ua.hold(now, &core.call_id))
}

/// `unhold(callId)`: a re-INVITE with `sendrecv`.
pub(crate) fn unhold(inner: &Rc<Inner>, call_id: &JsValue) -> bool {
    let Some(core) = live(inner, call_id) else {
        return false;
    };
    command(inner, |ua, now| ua.unhold(now, &core.call_id))
}

/// Holds every other talking call we do not hold yet (placing or answering a call,
/// API.md `call`/`answer`).
pub(crate) fn hold_others(inner: &Rc<Inner>, except: &str) {
    for c in session::cores(inner) {
        let held = c.state.borrow().status.hold_since.is_some();
        if c.call_id != except && !held && talking(&c) {
            let _ = inner.ua.borrow_mut().hold(clock::now(), &c.call_id);
        }
    }
    inner.drive();
}

// ------------------------------------------------------------------- mute

/// `mute`/`unmute`: the local audio track disabled/enabled; no re-INVITE.
pub(crate) fn mute(inner: &Inner, call_id: &JsValue, muted: bool) -> bool {
    let Some((core, _)) = lookup_js(inner, call_id) else {
        return false;
    };
    let done = core
        .media
        .borrow()
        .as_ref()
        .is_some_and(|m| m.set_muted(muted));
    if done {
        core.update(|s| s.status.is_mute = muted);
    }
    done
}

// ------------------------------------------------------------------- DTMF

/// Sends `digits` as `dtmfMode` says: RFC 4733 events through the RTCDTMFSender, or
/// one SIP INFO per digit.
fn send_digits(inner: &Rc<Inner>, core: &SessionCore, digits: &str) -> bool {
    if !valid_dtmf(digits) {
        return false;
    }
    if inner.shell.borrow().dtmf_info {
        return command(inner, |ua, now| {
            ua.dtmf_info(now, &core.call_id, digits, DTMF_DURATION_MS)
        });
    }
    let sent = core
        .media
        .borrow()
        .as_ref()
        .map(|m| m.send_dtmf(digits, DTMF_DURATION_MS, DTMF_GAP_MS));
    match sent {
        Some(Ok(())) => true,
        Some(Err(e)) => {
            client_error(core, &e);
            false
        }
        None => false,
    }
}

/// `dtmf(callId, digits)`: digits from `0123456789*#ABCD`; anything else is false and
/// nothing is sent.
pub(crate) fn dtmf(inner: &Rc<Inner>, call_id: &JsValue, digits: &JsValue) -> bool {
    let (Some(core), Some(d)) = (live(inner, call_id), digits.as_string()) else {
        return false;
    };
    send_digits(inner, &core, &d)
}

// ------------------------------------------------------------------- recording

/// `startRecord` (`start`) and `pauseRecord`: allowed by `recordPermissions` (0:
/// nothing; 1: pause, and start when paused; 2: everything), signalled per
/// `recordControl`. `recordStatus` changes on the INFO's 2xx, or at once for DTMF
/// feature codes.
pub(crate) fn record(inner: &Rc<Inner>, call_id: &JsValue, start: bool) -> bool {
    let Some(core) = live(inner, call_id) else {
        return false;
    };
    let status = core.state.borrow().status.record_status;
    let perms = inner.shell.borrow().record_permissions;
    let allowed = if start {
        (perms == 2 && status != "recording") || (perms == 1 && status == "pause")
    } else {
        perms >= 1 && status == "recording"
    };
    if !allowed {
        return false;
    }
    let codes = inner.shell.borrow().record_codes.clone();
    match codes {
        None => command(inner, |ua, now| ua.record_info(now, &core.call_id, start)),
        Some((on, off)) => {
            let sent = send_digits(inner, &core, if start { &on } else { &off });
            if sent {
                core.update(|s| s.status.record_status = if start { "recording" } else { "pause" });
            }
            sent
        }
    }
}

// ------------------------------------------------------------------- transfers

/// `blindTransfer(callId, number)`: REFER (RFC 3515); the call ends with cause
/// 'Transferred' when the transfer succeeds, else `clientError` and it stays.
pub(crate) fn blind_transfer(inner: &Rc<Inner>, call_id: &JsValue, number: &JsValue) -> bool {
    let (Some(core), Some(n)) = (live(inner, call_id), number.as_string()) else {
        return false;
    };
    command(inner, |ua, now| ua.transfer(now, &core.call_id, &n, None))
}

/// `attendedTransfer(callId, number)` (RFC 5589 §7): `callId` is the original call
/// (or its consultation call); the consultation call is the one `call(number, option,
/// callId)` made (the one to `number` when there are several).
pub(crate) fn attended_transfer(inner: &Rc<Inner>, call_id: &JsValue, number: &JsValue) -> bool {
    let (Some((core, _)), Some(n)) = (lookup_js(inner, call_id), number.as_string()) else {
        return false;
    };
    let parent_of = |c: &SessionCore| {
        c.state
            .borrow()
            .status
            .transfer_parent
            .as_ref()
            .map(|p| p.call_id.clone())
    };
    // `number` as dialled, or as a URI whose user part is the call's number.
    let is_target = |c: &SessionCore| {
        let number = &c.state.borrow().status.number;
        *number == n
            || crate::sip::message::Uri::parse(&n).is_ok_and(|u| u.user() == Some(number.as_str()))
    };
    let (parent, consult) = match parent_of(&core) {
        Some(p) if is_target(&core) => (p, core.call_id.clone()),
        Some(_) => return false,
        None => {
            let all = session::cores(inner);
            let pick = all
                .iter()
                .find(|c| parent_of(c).as_deref() == Some(core.call_id.as_str()) && is_target(c));
            let Some(c) = pick else {
                return false;
            };
            (core.call_id.clone(), c.call_id.clone())
        }
    };
    command(inner, |ua, now| {
        ua.transfer(now, &parent, &n, Some(&consult))
    })
}

// ------------------------------------------------------------------- video

/// `renegotiate(callId, offerToReceiveVideo?)`: a re-INVITE with a fresh offer.
pub(crate) fn renegotiate(
    inner: &Rc<Inner>,
    call_id: &JsValue,
    receive_video: Option<bool>,
) -> bool {
    let Some(core) = live(inner, call_id) else {
        return false;
    };
    if let Some(v) = receive_video {
        core.state.borrow_mut().receive_video = v;
    }
    command(inner, |ua, now| ua.renegotiate(now, &core.call_id))
}

/// `videoToAudio(callId)`: the camera track stopped and removed, by re-INVITE.
pub(crate) fn video_to_audio(inner: &Rc<Inner>, call_id: &JsValue) -> bool {
    let Some(core) = live(inner, call_id) else {
        return false;
    };
    if let Some(m) = core.media.borrow_mut().as_mut() {
        m.remove_video();
    }
    core.state.borrow_mut().receive_video = false;
    command(inner, |ua, now| ua.renegotiate(now, &core.call_id))
}

/// `audioToVideo(callId, allowNoneCamera = true)`: the camera added by re-INVITE;
/// resolves when the re-INVITE is answered. Without a camera: -291 when
/// `allowNoneCamera` is false, else the call only offers to receive video. Getting
/// the camera fails as `getUserMedia` does (-202, -203).
pub(crate) fn audio_to_video(
    inner: &Rc<Inner>,
    call_id: &JsValue,
    allow_none_camera: bool,
) -> Promise {
    let Some(core) = live(inner, call_id) else {
        return Promise::resolve(&result(code::NOT_FOUND_CALL_ID, "no such call"));
    };
    let id = core.call_id.clone();
    let op = add_video(inner.clone(), core, allow_none_camera);
    session::result_promise(id, true, Box::pin(op))
}

async fn add_video(
    inner: Rc<Inner>,
    core: Rc<SessionCore>,
    allow_none_camera: bool,
) -> (i32, String) {
    let (inner, core) = (&inner, &core);
    if core.reneg_waiter.armed() {
        return (code::UNKNOWN_ERROR, "a video change is under way".into());
    }
    let device_ids = inner.shell.borrow().device_ids.clone();
    let (stream, has_video) = match media::local_stream(&device_ids, true, allow_none_camera).await
    {
        Ok(x) => x,
        Err(e) => return (e.code, e.message),
    };
    // Only the camera is wanted: the call already sends the microphone.
    for t in stream.get_audio_tracks().iter() {
        media::stop_track(&t);
        stream.remove_track(t.unchecked_ref());
    }
    if core.gone.get() || !talking(core) {
        media::stop_stream(&stream);
        return (code::NOT_FOUND_CALL_ID, "the call is not up".into());
    }
    if has_video {
        let added = core
            .media
            .borrow_mut()
            .as_mut()
            .map(|m| m.add_video(Clone::clone(&stream)));
        match added {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                media::stop_stream(&stream);
                return (code::UNKNOWN_ERROR, e);
            }
            None => {
                media::stop_stream(&stream);
                return (code::NOT_FOUND_CALL_ID, "the call has no media".into());
            }
        }
        let v = core.media.borrow().as_ref().and_then(|m| m.local_video());
        if let Some(v) = v {
            core.emit("updateLocalStream", v.into());
        }
    }
    core.state.borrow_mut().receive_video = true;
    let Some(p) = core.reneg_waiter.arm() else {
        undo_video(core);
        return (code::UNKNOWN_ERROR, "no Promise".into());
    };
    let r = inner
        .ua
        .borrow_mut()
        .renegotiate(clock::now(), &core.call_id);
    inner.drive();
    if let Err(e) = r {
        core.reneg_waiter.disarm();
        undo_video(core);
        return (e.code(), e.to_text());
    }
    let _ = JsFuture::from(p).await;
    match core.reneg_waiter.take() {
        Some(code::SUCCESS) => (code::SUCCESS, "OK".into()),
        other => {
            undo_video(core);
            (
                other.unwrap_or(code::UNKNOWN_ERROR),
                "the re-INVITE failed".into(),
            )
        }
    }
}

fn undo_video(core: &SessionCore) {
    if let Some(m) = core.media.borrow_mut().as_mut() {
        m.remove_video();
    }
    core.state.borrow_mut().receive_video = false;
}

/// Wakes a pending `audioToVideo()` with `code`.
pub(crate) fn settle_reneg(core: &SessionCore, code: i32) {
    core.reneg_waiter.settle(code);
}

// ------------------------------------------------------------------- status

fn string_field(o: &JsValue, k: &str) -> Option<String> {
    if !o.is_object() {
        return None;
    }
    super::phone::field(o, k).as_string()
}

/// `setStaticStatus(partial, startManualModel?)`: name, avatar, company;
/// `staticStatusChange(new, old)` when they changed. Manual mode (true) keeps them
/// the app's.
pub(crate) fn set_static_status(
    core: &SessionCore,
    partial: &JsValue,
    manual: Option<bool>,
) -> bool {
    if !partial.is_object() || core.gone.get() {
        return false;
    }
    let before = core.state.borrow().status.clone();
    core.update(|s| {
        if let Some(v) = string_field(partial, "name") {
            s.status.name = v;
        }
        if let Some(v) = string_field(partial, "avatar") {
            s.status.avatar = v;
        }
        if let Some(v) = string_field(partial, "company") {
            s.status.company = v;
        }
        if let Some(m) = manual {
            s.manual = m;
        }
    });
    let after = core.state.borrow().status.clone();
    if (&before.name, &before.avatar, &before.company)
        != (&after.name, &after.avatar, &after.company)
    {
        core.listeners.emit(
            "staticStatusChange",
            &[after.static_js(), before.static_js()],
        );
    }
    true
}

/// `setStatus(partial)`: the app's own values for `number`, `name`, `avatar`,
/// `company` (the rest is the SDK's).
pub(crate) fn set_status(core: &SessionCore, partial: &JsValue) -> bool {
    if !partial.is_object() || core.gone.get() {
        return false;
    }
    if let Some(n) = string_field(partial, "number") {
        core.update(|s| s.status.number = n);
    }
    set_static_status(core, partial, None)
}

// ------------------------------------------------------------------- core events

/// The in-call events of the core.
pub(crate) fn on_event(inner: &Rc<Inner>, ev: CallEvent) {
    match ev {
        CallEvent::Hold {
            call_id,
            local,
            remote,
        } => {
            let Some(core) = find(inner, &call_id) else {
                return;
            };
            let (was_local, was_remote) = {
                let s = &core.state.borrow().status;
                (s.hold_since.is_some(), s.is_remote_hold)
            };
            let now = now_ms();
            core.update(|s| {
                s.status.is_remote_hold = remote;
                match (local, s.status.hold_since) {
                    (true, None) => s.status.hold_since = Some(now),
                    (false, Some(t)) => {
                        s.hold_total += now.saturating_sub(t);
                        s.status.hold_since = None;
                    }
                    _ => {}
                }
            });
            for (was, is, who) in [(was_local, local, "local"), (was_remote, remote, "remote")] {
                if was != is {
                    core.emit(
                        if is { "hold" } else { "unhold" },
                        Obj::new().s("callId", &call_id).s("originator", who).into(),
                    );
                }
            }
        }
        CallEvent::Video { call_id, on } => {
            let Some(core) = find(inner, &call_id) else {
                return;
            };
            core.update(|s| s.status.is_video = on);
            let changed = core
                .media
                .borrow_mut()
                .as_mut()
                .is_some_and(|m| m.prune_remote());
            let remote = core.media.borrow().as_ref().and_then(|m| m.remote());
            if let (true, Some(r)) = (changed, remote) {
                core.emit("updateRemoteStream", r.into());
            }
        }
        CallEvent::Renegotiated {
            call_id,
            kind,
            code: status,
        } => {
            let Some(core) = find(inner, &call_id) else {
                return;
            };
            if succeeded(status) {
                settle_reneg(&core, code::SUCCESS);
            } else {
                let what = match kind {
                    Reoffer::Hold => "hold",
                    Reoffer::Unhold => "unhold",
                    Reoffer::Renegotiate => "renegotiation",
                };
                client_error(&core, &fill("{} failed ({})", &[&what, &status]));
                settle_reneg(&core, code::UNKNOWN_ERROR);
            }
        }
        CallEvent::Dtmf {
            call_id,
            digit,
            duration,
        } => {
            if let Some(core) = find(inner, &call_id) {
                core.emit(
                    "newDTMF",
                    Obj::new()
                        .s("callId", &call_id)
                        .s("digit", digit.encode_utf8(&mut [0; 4]))
                        .n("duration", duration.into())
                        .s("originator", "remote")
                        .into(),
                );
            }
        }
        CallEvent::Info {
            call_id,
            content_type,
            body,
            record: _,
        } => {
            if let Some(core) = find(inner, &call_id) {
                core.emit(
                    "newInfo",
                    Obj::new()
                        .s("callId", &call_id)
                        .s("contentType", &content_type)
                        .s("body", &body)
                        .s("originator", "remote")
                        .into(),
                );
            }
        }
        CallEvent::InfoDone {
            call_id,
            info,
            code: status,
        } => {
            let Some(core) = find(inner, &call_id) else {
                return;
            };
            let ok = succeeded(status);
            match info {
                InfoKind::Record(on) if ok => {
                    core.update(|s| s.status.record_status = if on { "recording" } else { "pause" })
                }
                InfoKind::Record(_) => {
                    client_error(&core, &fill("recording control refused ({})", &[&status]))
                }
                InfoKind::Dtmf { digit, .. } if !ok => client_error(
                    &core,
                    &fill("DTMF {} by INFO failed ({})", &[&digit, &status]),
                ),
                InfoKind::Dtmf { .. } => {}
            }
        }
        CallEvent::Transfer {
            call_id,
            code: status,
            done,
        } => {
            let Some(core) = find(inner, &call_id) else {
                return;
            };
            if done && !succeeded(status) {
                client_error(&core, &fill("transfer failed ({})", &[&status]));
            }
        }
        CallEvent::Replaces { call_id, replaced } => {
            let (Some(old), Some((_, new_js))) = (find(inner, &replaced), lookup(inner, &call_id))
            else {
                return;
            };
            old.emit("reinvite", with_session(&call_id, &new_js));
            // RFC 3891 §3: the replacement is accepted without alerting the user.
            let video = old.state.borrow().status.is_video;
            let option = Obj::new().b("video", video).into();
            let _ = session::answer(inner, &JsValue::from_str(&call_id), &option, true);
        }
        _ => {}
    }
}

// ------------------------------------------------------------------- reports

/// Once a second for each call: every [`REPORT_EVERY_S`] seconds of a talking call,
/// a quality report from `getStats()` (`callReport`).
pub(crate) fn tick(inner: &Inner, core: &Rc<SessionCore>) {
    if !talking(core) {
        return;
    }
    let due = {
        let mut st = core.state.borrow_mut();
        st.ticks = st.ticks.wrapping_add(1);
        st.ticks % REPORT_EVERY_S == 0
    };
    let link = core.link();
    let (true, Some(link)) = (due, link) else {
        return;
    };
    let info = ReportInfo {
        call_id: core.call_id.clone(),
        extension: inner.ua.borrow().user().to_owned(),
        started_ms: core.state.borrow().status.call_start_time,
    };
    let core = core.clone();
    clock::spawn(Box::pin(async move {
        let mut acc = core.report_acc.take();
        let r = report::collect(&link, &mut acc, &info).await;
        *core.report_acc.borrow_mut() = acc;
        if core.gone.get() {
            return;
        }
        if let Ok(r) = r {
            core.state.borrow_mut().report = Some(r.clone());
            core.emit(
                "callReport",
                Obj::new()
                    .s("callId", &core.call_id)
                    .v("callReport", &r)
                    .into(),
            );
        }
    }));
}

// ------------------------------------------------------------------- Session methods

#[wasm_bindgen]
impl Session {
    /// Puts the call on hold (re-INVITE with `sendonly`).
    pub fn hold(&self) -> bool {
        self.phone.upgrade().is_some_and(|p| hold(&p, &self.id()))
    }

    /// Takes the call off hold.
    pub fn unhold(&self) -> bool {
        self.phone.upgrade().is_some_and(|p| unhold(&p, &self.id()))
    }

    /// Disables the microphone track.
    pub fn mute(&self) -> bool {
        self.phone
            .upgrade()
            .is_some_and(|p| mute(&p, &self.id(), true))
    }

    /// Enables the microphone track.
    pub fn unmute(&self) -> bool {
        self.phone
            .upgrade()
            .is_some_and(|p| mute(&p, &self.id(), false))
    }

    /// Sends DTMF digits (`0-9*#A-D`) per `dtmfMode`.
    pub fn dtmf(&self, #[wasm_bindgen(unchecked_param_type = "string")] digits: JsValue) -> bool {
        self.phone
            .upgrade()
            .is_some_and(|p| dtmf(&p, &self.id(), &digits))
    }

    /// Starts or resumes recording (per `recordPermissions` and `recordControl`).
    #[wasm_bindgen(js_name = startRecord)]
    pub fn start_record(&self) -> bool {
        self.phone
            .upgrade()
            .is_some_and(|p| record(&p, &self.id(), true))
    }

    /// Pauses recording.
    #[wasm_bindgen(js_name = pauseRecord)]
    pub fn pause_record(&self) -> bool {
        self.phone
            .upgrade()
            .is_some_and(|p| record(&p, &self.id(), false))
    }

    /// Blind transfer to `number` (REFER).
    #[wasm_bindgen(js_name = blindTransfer)]
    pub fn blind_transfer(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] number: JsValue,
    ) -> bool {
        self.phone
            .upgrade()
            .is_some_and(|p| blind_transfer(&p, &self.id(), &number))
    }

    /// Completes an attended transfer to `number` (see `PhoneOperator.attendedTransfer`).
    #[wasm_bindgen(js_name = attendedTransfer)]
    pub fn attended_transfer(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] number: JsValue,
    ) -> bool {
        self.phone
            .upgrade()
            .is_some_and(|p| attended_transfer(&p, &self.id(), &number))
    }

    /// A re-INVITE with a fresh offer.
    pub fn renegotiate(
        &self,
        #[wasm_bindgen(js_name = offerToReceiveVideo)] offer_to_receive_video: Option<bool>,
    ) -> bool {
        self.phone
            .upgrade()
            .is_some_and(|p| renegotiate(&p, &self.id(), offer_to_receive_video))
    }

    /// Adds the camera by re-INVITE.
    #[wasm_bindgen(js_name = audioToVideo, unchecked_return_type = "Promise<Result>")]
    pub fn audio_to_video(
        &self,
        #[wasm_bindgen(js_name = allowNoneCamera)] allow_none_camera: Option<bool>,
    ) -> Promise {
        match self.phone.upgrade() {
            Some(p) => audio_to_video(&p, &self.id(), allow_none_camera != Some(false)),
            None => Promise::resolve(&result(code::NOT_FOUND_CALL_ID, "no such call")),
        }
    }

    /// Removes the camera by re-INVITE.
    #[wasm_bindgen(js_name = videoToAudio)]
    pub fn video_to_audio(&self) -> bool {
        self.phone
            .upgrade()
            .is_some_and(|p| video_to_audio(&p, &self.id()))
    }

    /// Sets number/name/avatar/company shown for this call.
    #[wasm_bindgen(js_name = setStatus)]
    pub fn set_status(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Partial<CallStatus>")] partial: JsValue,
    ) -> bool {
        set_status(&self.core, &partial)
    }

    /// Sets name/avatar/company; `startManualModel` keeps them the app's.
    #[wasm_bindgen(js_name = setStaticStatus)]
    pub fn set_static_status(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Partial<StaticCallStatus>")] partial: JsValue,
        #[wasm_bindgen(js_name = startManualModel)] start_manual_model: Option<bool>,
    ) -> bool {
        set_static_status(&self.core, &partial, start_manual_model)
    }

    /// Stops `updateTimer` for this call.
    #[wasm_bindgen(js_name = stopTimer)]
    pub fn stop_timer(&self) {
        self.core.state.borrow_mut().timer_stopped = true;
    }

    /// Removes this session's listeners, then ends the call (whatever its state): as
    /// the phone's `destroy()` does, so the listeners get nothing more, not even `ended`
    /// (the phone still emits `deleteSession`).
    pub fn destroy(&self) {
        self.core.listeners.clear();
        if let Some(p) = self.phone.upgrade() {
            let _ = session::terminate(&p, &self.id(), &JsValue::UNDEFINED);
        }
    }
}

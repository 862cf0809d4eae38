//! Call media in the browser: getUserMedia, one `RTCPeerConnection` per call, SDP
//! offer/answer with a bounded wait for ICE gathering, remote tracks, and the in-call
//! primitives (hold directions, mute, DTMF, adding and dropping video). The core decides
//! when to offer, answer or close (`MediaRequest`); this module only runs the browser's
//! machinery and reports failures as the API's result codes.

use std::cell::Cell;
use std::rc::Rc;

use super::phone::{field, Obj};
use crate::sip::sdp;
pub use crate::sip::session::Hold;
use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaDevices, MediaStream, MediaStreamConstraints, MediaStreamTrack, RtcConfiguration,
    RtcPeerConnection, RtcRtpSender, RtcRtpTransceiver, RtcRtpTransceiverDirection as Dir,
    RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState, RtcdtmfSender,
    RtcdtmfToneChangeEvent,
};

#[wasm_bindgen(inline_js = "
export function ice_gathered(pc, ms) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') { resolve(); return; }
    let timer = 0;
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onState);
      pc.removeEventListener('icecandidate', onCandidate);
      resolve();
    };
    const onState = () => { if (pc.iceGatheringState === 'complete') done(); };
    const onCandidate = (e) => { if (!e.candidate) done(); };
    pc.addEventListener('icegatheringstatechange', onState);
    pc.addEventListener('icecandidate', onCandidate);
    timer = setTimeout(done, ms);
  });
}
")]
extern "C" {
    /// Resolves when ICE gathering of `pc` is complete, or after `ms` milliseconds
    /// (whatever was gathered by then is in the local description).
    fn ice_gathered(pc: &RtcPeerConnection, ms: u32) -> Promise;
}

// The calls that throw (InvalidStateError once the connection is closed or the
// transceiver stopped; bad DTMF characters), bound with `catch` on a structural view of
// the web-sys objects (`catching`) so that they return errors. Methods several
// interfaces share (`stop`, `close`, `track`) are bound here once for all of them: one
// import each instead of one per web-sys type.
#[wasm_bindgen]
extern "C" {
    pub(crate) type Catching;
    #[wasm_bindgen(method, catch, setter = direction)]
    fn set_direction(this: &Catching, d: Dir) -> Result<(), JsValue>;
    /// `stop()` of a MediaStreamTrack or an RTCRtpTransceiver.
    #[wasm_bindgen(method, catch)]
    fn stop(this: &Catching) -> Result<(), JsValue>;
    /// `close()` of an RTCPeerConnection or a WebSocket.
    #[wasm_bindgen(method, catch)]
    pub(crate) fn close(this: &Catching) -> Result<(), JsValue>;
    /// `track` of an RTCRtpSender (null without one), an RTCRtpReceiver or an
    /// RTCTrackEvent.
    #[wasm_bindgen(method, getter)]
    fn track(this: &Catching) -> Option<MediaStreamTrack>;
    #[wasm_bindgen(method, catch, js_name = addTransceiver)]
    fn add_transceiver(this: &Catching, kind: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = addTrack)]
    fn add_track(
        this: &Catching,
        track: &MediaStreamTrack,
        stream: &MediaStream,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = insertDTMF)]
    fn insert_dtmf(this: &Catching, tones: &str, duration: u32, gap: u32) -> Result<(), JsValue>;
    /// `canInsertDTMF` (webrtc-pc §7.2; undefined in old browsers).
    #[wasm_bindgen(method, getter = canInsertDTMF)]
    fn can_insert_dtmf(this: &Catching) -> Option<bool>;
}

pub(crate) fn catching(o: &impl AsRef<JsValue>) -> &Catching {
    o.as_ref().unchecked_ref()
}

/// getUserMedia found no microphone.
pub const NO_MICROPHONE: i32 = -290;
/// Video was asked for, there is no camera, and audio only was not allowed.
pub const NO_CAMERA: i32 = -291;
/// The user or the browser refused access (`NotAllowedError`).
pub const PERMISSION_DENIED: i32 = -202;
/// Any other getUserMedia failure.
pub const LOCAL_STREAM_ERROR: i32 = -203;

/// Why local media could not be had: an API result code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaError {
    /// -290, -291, -202 or -203.
    pub code: i32,
    /// What the browser said.
    pub message: String,
}

fn media_error(code: i32, message: impl Into<String>) -> MediaError {
    MediaError {
        code,
        message: message.into(),
    }
}

/// `navigator.mediaDevices`, absent outside secure contexts.
pub fn media_devices() -> Option<MediaDevices> {
    let md = web_sys::window()?.navigator().media_devices().ok()?;
    (!md.is_undefined() && !md.is_null()).then_some(md)
}

/// `name: message` of a JS error (a DOMException from the media APIs).
pub fn describe(e: &JsValue) -> String {
    let field = |k: &str| field(e, k).as_string();
    match (field("name"), field("message")) {
        (Some(n), Some(m)) if !m.is_empty() => crate::sip::fill("{}: {}", &[&n, &m]),
        (Some(n), _) => n,
        _ => e.as_string().unwrap_or_else(|| "unknown error".to_owned()),
    }
}

fn error_name(e: &JsValue) -> String {
    field(e, "name").as_string().unwrap_or_default()
}

/// How many microphones and cameras `enumerateDevices` lists.
pub async fn count_devices() -> Result<(u32, u32), String> {
    let md = media_devices().ok_or("navigator.mediaDevices is not available")?;
    let p = md.enumerate_devices().map_err(|e| describe(&e))?;
    let list = JsFuture::from(p).await.map_err(|e| describe(&e))?;
    let (mut mics, mut cams) = (0, 0);
    if let Some(a) = list.dyn_ref::<Array>() {
        for d in a.iter() {
            let kind = field(&d, "kind").as_string();
            match kind.as_deref() {
                Some("audioinput") => mics += 1,
                Some("videoinput") => cams += 1,
                _ => {}
            }
        }
    }
    Ok((mics, cams))
}

fn string_field(o: &JsValue, k: &str) -> Option<String> {
    if !o.is_object() {
        return None;
    }
    field(o, k).as_string().filter(|s| !s.is_empty())
}

/// `true`, or `{ deviceId }` (an ideal, so a device that went away falls back to
/// the default one).
fn track_constraint(device: Option<String>) -> JsValue {
    match device {
        Some(id) => Obj::new().s("deviceId", &id).into(),
        None => JsValue::TRUE,
    }
}

async fn user_media(
    md: &MediaDevices,
    device_ids: &JsValue,
    video: bool,
) -> Result<MediaStream, JsValue> {
    let c = MediaStreamConstraints::new();
    c.set_audio(&track_constraint(string_field(device_ids, "microphoneId")));
    c.set_video(&if video {
        track_constraint(string_field(device_ids, "cameraId"))
    } else {
        JsValue::FALSE
    });
    let s = JsFuture::from(md.get_user_media_with_constraints(&c)?).await?;
    // getUserMedia resolves with a MediaStream
    Ok(s.unchecked_into())
}

fn classify(e: &JsValue, video: bool) -> MediaError {
    let msg = describe(e);
    match error_name(e).as_str() {
        "NotAllowedError" | "SecurityError" | "PermissionDeniedError" => {
            media_error(PERMISSION_DENIED, msg)
        }
        "NotFoundError" | "DevicesNotFoundError" if video => media_error(NO_CAMERA, msg),
        "NotFoundError" | "DevicesNotFoundError" => media_error(NO_MICROPHONE, msg),
        _ => media_error(LOCAL_STREAM_ERROR, msg),
    }
}

/// The microphone, and the camera when `video`, with `device_ids`
/// (`{ microphoneId?, cameraId? }`). With no camera and `allow_none_camera` the call
/// goes on with audio only. Returns the stream and whether it has video.
pub async fn local_stream(
    device_ids: &JsValue,
    video: bool,
    allow_none_camera: bool,
) -> Result<(MediaStream, bool), MediaError> {
    let md = media_devices().ok_or_else(|| {
        media_error(
            LOCAL_STREAM_ERROR,
            "navigator.mediaDevices is not available (a secure context is needed)",
        )
    })?;
    let mut video = video;
    // Device presence first (cheap, no prompt); when enumerateDevices itself fails,
    // getUserMedia still decides.
    if let Ok((mics, cams)) = count_devices().await {
        if mics == 0 {
            return Err(media_error(NO_MICROPHONE, "no audio input device"));
        }
        if video && cams == 0 {
            if !allow_none_camera {
                return Err(media_error(NO_CAMERA, "no video input device"));
            }
            video = false;
        }
    }
    // A camera that fails as missing: audio only, when allowed (a second round).
    loop {
        match user_media(&md, device_ids, video).await {
            Ok(s) => return Ok((s, video)),
            Err(e) if video && allow_none_camera && classify(&e, true).code == NO_CAMERA => {
                video = false;
            }
            Err(e) => return Err(classify(&e, video)),
        }
    }
}

// NB: `MediaStream` and `MediaStreamTrack` have a JS `clone()` that web-sys binds as an
// inherent method, so `stream.clone()` makes a new stream with new tracks. Copy the
// handle with `Clone::clone(&stream)`.

/// Stops a MediaStreamTrack.
pub fn stop_track(t: &JsValue) {
    let _ = catching(t).stop();
}

/// Stops every track of `s`.
pub fn stop_stream(s: &MediaStream) {
    for t in s.get_tracks().iter() {
        stop_track(&t);
    }
}

/// What `Link`'s close promise resolves with.
const CLOSED: &str = "sipwasm: media closed";

/// What a media operation holds across its awaits: the peer connection, and a promise
/// that resolves when the call's media is closed. WebRTC leaves an operation's promise
/// pending for ever when the connection closes under it, so every await races that
/// promise; otherwise the operation would hold the connection (and its call) for good.
#[derive(Clone)]
pub struct Link {
    pc: RtcPeerConnection,
    closed: Promise,
    /// A `replaceTrack` of [`CallMedia::add_video`] not yet settled: the next offer
    /// awaits it, so that the sender has its track when the directions are chosen.
    pending: Rc<Cell<Option<Promise>>>,
}

impl Link {
    /// The call's peer connection.
    pub fn pc(&self) -> &RtcPeerConnection {
        &self.pc
    }
}

/// The transceiver direction for a stream (the rule is the core's
/// [`sdp::direction`]; JSEP RFC 8829 §4.2.4 turns it into the SDP attribute).
fn direction(sends: bool, hold: Hold) -> Dir {
    match sdp::direction(sends, hold) {
        sdp::Dir::SendRecv => Dir::Sendrecv,
        sdp::Dir::RecvOnly => Dir::Recvonly,
        sdp::Dir::SendOnly => Dir::Sendonly,
        sdp::Dir::Inactive => Dir::Inactive,
    }
}

/// Stopped, or stopping (`stop()` called, not yet negotiated): webrtc-pc §5.4.
fn is_stopped(t: &RtcRtpTransceiver) -> bool {
    t.direction() == Dir::Stopped || t.current_direction() == Some(Dir::Stopped)
}

fn is_video(t: &RtcRtpTransceiver) -> bool {
    catching(&t.receiver())
        .track()
        .is_some_and(|r| r.kind() == "video")
}

/// The transceivers that are not stopped.
fn live(pc: &RtcPeerConnection) -> impl Iterator<Item = RtcRtpTransceiver> {
    pc.get_transceivers()
        .into_iter()
        .map(JsCast::unchecked_into::<RtcRtpTransceiver>)
        .filter(|t| !is_stopped(t))
}

/// Whether the negotiated direction receives (unknown before the first negotiation:
/// counted as receiving).
fn receives(t: &RtcRtpTransceiver) -> bool {
    !matches!(
        t.current_direction(),
        Some(Dir::Sendonly | Dir::Inactive | Dir::Stopped)
    )
}

/// Sets the direction of every live transceiver for `hold`.
fn set_directions(pc: &RtcPeerConnection, hold: Hold) -> Result<(), String> {
    for t in live(pc) {
        let d = direction(catching(&t.sender()).track().is_some(), hold);
        if t.direction() != d {
            catching(&t).set_direction(d).map_err(|e| describe(&e))?;
        }
    }
    Ok(())
}

/// A listener of `track` or `tonechange` events (one closure type for both).
type Listener = Closure<dyn FnMut(JsValue)>;

/// The browser side of one call: its peer connection, the local stream it sends, and
/// the stream of what it receives. Dropping it closes everything.
pub struct CallMedia {
    pc: RtcPeerConnection,
    local: MediaStream,
    local_video: Option<MediaStream>,
    remote: Option<MediaStream>,
    ontrack: Option<Listener>,
    /// The DTMF sender observed by [`CallMedia::on_tone_change`], and its listener.
    ontone: Option<(RtcdtmfSender, Listener)>,
    pending: Rc<Cell<Option<Promise>>>,
    closed: bool,
    /// Resolves [`Link::closed`].
    on_close: Option<Function>,
    close_signal: Promise,
}

impl CallMedia {
    /// A peer connection with `ice_servers` (an `RTCIceServer[]` or undefined) that
    /// sends every track of `local`. On error the caller still owns `local`.
    pub fn new(ice_servers: &JsValue, local: MediaStream) -> Result<CallMedia, String> {
        let cfg = RtcConfiguration::new();
        if Array::is_array(ice_servers) {
            cfg.set_ice_servers(ice_servers);
        }
        let pc = RtcPeerConnection::new_with_configuration(&cfg).map_err(|e| describe(&e))?;
        for t in local.get_tracks().iter() {
            let _ = catching(&pc).add_track(t.unchecked_ref(), &local);
        }
        let videos = local.get_video_tracks();
        let local_video = if videos.length() > 0 {
            MediaStream::new_with_tracks(&videos).ok()
        } else {
            None
        };
        let mut on_close = None;
        let close_signal = Promise::new(&mut |resolve, _| on_close = Some(resolve));
        Ok(CallMedia {
            pc,
            local,
            local_video,
            remote: None,
            ontrack: None,
            ontone: None,
            pending: Rc::default(),
            closed: false,
            on_close,
            close_signal,
        })
    }

    /// Calls `f` with each remote track (from the browser's event loop).
    pub fn on_track(&mut self, f: impl FnMut(MediaStreamTrack) + 'static) {
        let mut f = f;
        let c = super::clock::listener(move |e: JsValue| {
            if let Some(t) = catching(&e).track() {
                f(t)
            }
        });
        self.pc.set_ontrack(Some(c.as_ref().unchecked_ref()));
        self.ontrack = Some(c);
    }

    /// What media operations need (handles: cheap to clone, usable across awaits).
    pub fn link(&self) -> Link {
        Link {
            pc: self.pc.clone(),
            closed: self.close_signal.clone(),
            pending: self.pending.clone(),
        }
    }

    /// The local video (no audio: it is not echoed back), if the call sends video.
    pub fn local_video(&self) -> Option<MediaStream> {
        self.local_video.clone()
    }

    /// True while the call has a local video track.
    pub fn has_local_video(&self) -> bool {
        self.local_video.is_some()
    }

    /// Adds a remote track to the remote stream; returns the stream and whether it
    /// was created now.
    pub fn add_remote(&mut self, track: &MediaStreamTrack) -> Option<(MediaStream, bool)> {
        let created = self.remote.is_none();
        if created {
            self.remote = Some(MediaStream::new().ok()?);
        }
        let s = self.remote.clone()?;
        if s.get_track_by_id(&track.id()).is_none() {
            s.add_track(track);
        }
        Some((s, created))
    }

    /// The stream of remote tracks, once one arrived.
    pub fn remote(&self) -> Option<MediaStream> {
        self.remote.clone()
    }

    /// After a negotiation: removes from the remote stream the tracks that are no longer
    /// received (their transceiver stopped, or its negotiated direction is sendonly or
    /// inactive, as the browser does for its own streams: webrtc-pc §4.4.1.6 "process
    /// the removal of a remote track"). True if the stream changed. A track that comes
    /// back (unhold) arrives again through [`CallMedia::on_track`].
    pub fn prune_remote(&mut self) -> bool {
        let Some(s) = &self.remote else {
            return false;
        };
        let mut changed = false;
        for track in s.get_tracks() {
            let track: MediaStreamTrack = track.unchecked_into();
            let id = track.id();
            let kept = live(&self.pc).any(|t| {
                receives(&t)
                    && catching(&t.receiver())
                        .track()
                        .is_some_and(|r| r.id() == id)
            });
            if !kept {
                s.remove_track(&track);
                changed = true;
            }
        }
        changed
    }

    /// True when a video transceiver currently receives (negotiated sendrecv/recvonly).
    pub fn receives_video(&self) -> bool {
        live(&self.pc).any(|t| {
            is_video(&t) && matches!(t.current_direction(), Some(Dir::Sendrecv | Dir::Recvonly))
        })
    }

    /// Enables (`muted` false) or disables the local audio tracks: a disabled track
    /// sends silence (W3C Media Capture §4.3.1.1, `enabled`). False when the call has
    /// no audio track.
    pub fn set_muted(&self, muted: bool) -> bool {
        let tracks = self.local.get_audio_tracks();
        for t in tracks.iter() {
            t.unchecked_into::<MediaStreamTrack>().set_enabled(!muted);
        }
        tracks.length() > 0
    }

    /// The sender of the (first) live audio transceiver.
    fn audio_sender(&self) -> Option<RtcRtpSender> {
        live(&self.pc).find(|t| !is_video(t)).map(|t| t.sender())
    }

    /// Sends `digits` as RFC 4733 telephone-events through the audio sender's
    /// `RTCDTMFSender` (webrtc-pc §7), after the tones still queued. `duration_ms` per
    /// tone (the browser keeps it within 40…6000) and `gap_ms` between tones (≥ 30).
    pub fn send_dtmf(&self, digits: &str, duration_ms: u32, gap_ms: u32) -> Result<(), String> {
        if self.closed {
            return Err("the call's media is closed".into());
        }
        let dtmf = self
            .audio_sender()
            .and_then(|s| s.dtmf())
            .ok_or("no audio sender for DTMF")?;
        if catching(&dtmf).can_insert_dtmf() == Some(false) {
            return Err("DTMF cannot be sent: telephone-event (RFC 4733) was not \
                 negotiated, or the call does not send audio"
                .into());
        }
        let tones = dtmf.tone_buffer() + digits;
        catching(&dtmf)
            .insert_dtmf(&tones, duration_ms, gap_ms)
            .map_err(|e| describe(&e))
    }

    /// Calls `f` with each tone as the DTMF sender starts playing it, and with an empty
    /// string when the queue is done (the `tonechange` event, webrtc-pc §7.3).
    pub fn on_tone_change(&mut self, f: impl FnMut(String) + 'static) {
        let Some(dtmf) = self.audio_sender().and_then(|s| s.dtmf()) else {
            return;
        };
        let mut f = f;
        let c = super::clock::listener(move |e: JsValue| {
            f(e.unchecked_ref::<RtcdtmfToneChangeEvent>().tone())
        });
        dtmf.set_ontonechange(Some(c.as_ref().unchecked_ref()));
        self.ontone = Some((dtmf, c));
    }

    /// Sends the first video track of `camera` in the call (its other tracks are
    /// stopped): on a live video transceiver that has no track (`replaceTrack`, direction
    /// sendrecv), else on a new one (`addTrack`). The next offer then has a sending
    /// m=video. The track is stopped by [`CallMedia::remove_video`] or on close. On
    /// error every track of `camera` is stopped.
    pub fn add_video(&mut self, camera: MediaStream) -> Result<(), String> {
        let track = Some(camera.get_video_tracks().get(0))
            .filter(|t| !t.is_undefined())
            .map(JsCast::unchecked_into::<MediaStreamTrack>);
        for t in camera.get_tracks() {
            if track
                .as_ref()
                .is_none_or(|v| v.id() != t.unchecked_ref::<MediaStreamTrack>().id())
            {
                stop_track(&t);
            }
        }
        let track = track.ok_or("the camera stream has no video track")?;
        let attached = if self.closed {
            Err("the call's media is closed".to_owned())
        } else if self.local_video.is_some() {
            Err("the call already sends video".to_owned())
        } else if let Some(t) =
            live(&self.pc).find(|t| is_video(t) && catching(&t.sender()).track().is_none())
        {
            let p = t.sender().replace_track(Some(&track));
            self.pending.set(Some(p));
            catching(&t)
                .set_direction(Dir::Sendrecv)
                .map_err(|e| describe(&e))
        } else {
            catching(&self.pc)
                .add_track(&track, &self.local)
                .map(|_| ())
                .map_err(|e| describe(&e))
        };
        if let Err(e) = attached {
            stop_track(&track);
            return Err(e);
        }
        self.local.add_track(&track);
        self.local_video = MediaStream::new_with_tracks(&Array::of1(&track)).ok();
        Ok(())
    }

    /// Stops the local video track(s) and every video transceiver (`stop()`: the next
    /// offer has m=video with port 0, RFC 3264 §8.2), so video ends both ways.
    pub fn remove_video(&mut self) {
        for t in self.local.get_video_tracks() {
            stop_track(&t);
            self.local.remove_track(t.unchecked_ref());
        }
        for t in live(&self.pc).filter(is_video) {
            if let Some(track) = catching(&t.sender()).track() {
                stop_track(&track);
            }
            let _ = catching(&t).stop();
        }
        self.pending.set(None);
        self.local_video = None;
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Stops every local track and closes the peer connection (idempotent).
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.pc.set_ontrack(None);
        if let Some((dtmf, _)) = &self.ontone {
            dtmf.set_ontonechange(None);
        }
        let _ = catching(&self.pc).close();
        stop_stream(&self.local);
        self.ontrack = None;
        self.ontone = None;
        if let Some(f) = self.on_close.take() {
            let _ = f.apply(&JsValue::NULL, &Array::of1(&JsValue::from_str(CLOSED)));
        }
    }
}

impl Drop for CallMedia {
    fn drop(&mut self) {
        self.close();
    }
}

/// The local description's SDP.
fn local_sdp(pc: &RtcPeerConnection) -> Result<String, String> {
    pc.local_description()
        .map(|d| d.sdp())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| "no local description".to_owned())
}

/// Awaits `p`, or the end of the call's media, whichever comes first.
pub(crate) async fn settle(link: &Link, p: Promise) -> Result<JsValue, String> {
    let first = Promise::race(&Array::of2(&p, &link.closed));
    let v = JsFuture::from(first).await.map_err(|e| describe(&e))?;
    if v.as_string().as_deref() == Some(CLOSED) {
        return Err("the call's media was closed".into());
    }
    Ok(v)
}

/// Awaits the `replaceTrack` of [`CallMedia::add_video`], if any: the directions are
/// chosen from the senders' tracks. (Failed: the m=video only receives.)
async fn flush(link: &Link) {
    if let Some(p) = link.pending.take() {
        let _ = settle(link, p).await;
    }
}

/// One offer/answer step on the call's peer connection (see [`negotiate`]).
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// [`create_offer`].
    Offer {
        /// Ask for video even without a camera.
        receive_video: bool,
        /// The directions.
        hold: Hold,
    },
    /// [`create_answer`] of this remote offer.
    Answer {
        /// The remote offer.
        offer: &'a str,
        /// Answer on hold.
        hold: bool,
    },
    /// [`apply_answer`]: the remote answer to our offer.
    Apply(&'a str),
    /// [`rollback`].
    Rollback,
}

/// Runs `step`: the remote description first (an offer to answer, an answer to apply),
/// then our description (an offer, an answer, or a rollback), and for an offer or an
/// answer its SDP once ICE gathering completed or `ice_ms` passed; "" for the others.
/// (One function for the four steps, so their awaits exist once.)
pub async fn negotiate(link: &Link, step: Step<'_>, ice_ms: u32) -> Result<String, String> {
    let pc = &link.pc;
    let remote = match step {
        Step::Answer { offer, .. } => Some((RtcSdpType::Offer, offer)),
        Step::Apply(answer) => Some((RtcSdpType::Answer, answer)),
        _ => None,
    };
    if let Some((kind, sdp)) = remote {
        let desc = RtcSessionDescriptionInit::new(kind);
        desc.set_sdp(sdp);
        settle(link, pc.set_remote_description(&desc)).await?;
    }
    let (offer, hold) = match step {
        Step::Apply(_) => return Ok(String::new()),
        Step::Offer {
            receive_video,
            hold,
        } => (Some(receive_video), hold),
        Step::Answer { hold: true, .. } => (None, Hold::SendOnly),
        Step::Answer { hold: false, .. } => (None, Hold::Off),
        Step::Rollback => (None, Hold::Off),
    };
    let local: JsValue = if let Step::Rollback = step {
        // back to the last stable state (nothing to do when stable)
        if !matches!(
            pc.signaling_state(),
            RtcSignalingState::HaveLocalOffer | RtcSignalingState::HaveRemoteOffer
        ) {
            return Ok(String::new());
        }
        RtcSessionDescriptionInit::new(RtcSdpType::Rollback).into()
    } else {
        flush(link).await;
        if let Some(receive_video) = offer {
            let (mut audio, mut video) = (false, false);
            for t in live(pc) {
                if is_video(&t) {
                    video = true;
                } else {
                    audio = true;
                }
            }
            for (kind, missing) in [("audio", !audio), ("video", receive_video && !video)] {
                if missing {
                    catching(pc)
                        .add_transceiver(kind)
                        .map_err(|e| describe(&e))?;
                }
            }
        }
        set_directions(pc, hold)?;
        let created = if offer.is_some() {
            pc.create_offer()
        } else {
            pc.create_answer()
        };
        settle(link, created).await?
    };
    settle(link, pc.set_local_description(local.unchecked_ref())).await?;
    if let Step::Rollback = step {
        return Ok(String::new());
    }
    settle(link, ice_gathered(pc, ice_ms)).await?;
    local_sdp(pc)
}

/// An offer, set as the local description; the SDP once ICE gathering completed or
/// `ice_ms` passed. It has m=audio, and m=video when a camera track is sent, a video
/// transceiver exists or `receive_video`; the directions follow `hold`.
pub async fn create_offer(
    link: &Link,
    receive_video: bool,
    hold: Hold,
    ice_ms: u32,
) -> Result<String, String> {
    let step = Step::Offer {
        receive_video,
        hold,
    };
    negotiate(link, step, ice_ms).await
}

/// Applies the remote `offer` and answers it, on hold (`a=sendonly`, or `a=inactive`
/// where we have nothing to send) when `hold`; the SDP as for [`create_offer`]. The
/// answer's directions are ours intersected with the offer's (RFC 3264 §6.1).
pub async fn create_answer(
    link: &Link,
    offer: &str,
    hold: bool,
    ice_ms: u32,
) -> Result<String, String> {
    negotiate(link, Step::Answer { offer, hold }, ice_ms).await
}

/// Applies the remote `answer` to our offer.
pub async fn apply_answer(link: &Link, answer: &str) -> Result<(), String> {
    negotiate(link, Step::Apply(answer), 0).await.map(|_| ())
}

/// Abandons a pending offer (ours refused, e.g. a re-INVITE answered 488 or 491; or the
/// peer's, when it could not be answered): `setLocalDescription({type: 'rollback'})`
/// back to the last stable state (JSEP RFC 8829 §4.1.10.2). Nothing to do when stable.
pub async fn rollback(link: &Link) -> Result<(), String> {
    negotiate(link, Step::Rollback, 0).await.map(|_| ())
}

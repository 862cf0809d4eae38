//! Call media in the browser: getUserMedia, one `RTCPeerConnection` per call, SDP
//! offer/answer with a bounded wait for ICE gathering, remote tracks. The core decides
//! when to offer, answer or close (`MediaRequest`); this module only runs the browser's
//! machinery and reports failures as the API's result codes.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaDevices, MediaStream, MediaStreamConstraints, MediaStreamTrack, RtcConfiguration,
    RtcOfferOptions, RtcPeerConnection, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
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
    let field = |k: &str| {
        Reflect::get(e, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_string())
    };
    match (field("name"), field("message")) {
        (Some(n), Some(m)) if !m.is_empty() => format!("{n}: {m}"),
        (Some(n), _) => n,
        _ => e.as_string().unwrap_or_else(|| "unknown error".to_owned()),
    }
}

fn error_name(e: &JsValue) -> String {
    Reflect::get(e, &JsValue::from_str("name"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// How many microphones and cameras `enumerateDevices` lists.
pub async fn count_devices() -> Result<(u32, u32), String> {
    let md = media_devices().ok_or("navigator.mediaDevices is not available")?;
    let p = md.enumerate_devices().map_err(|e| describe(&e))?;
    let list = JsFuture::from(p).await.map_err(|e| describe(&e))?;
    let (mut mics, mut cams) = (0, 0);
    if let Some(a) = list.dyn_ref::<Array>() {
        for d in a.iter() {
            let kind = Reflect::get(&d, &JsValue::from_str("kind"))
                .ok()
                .and_then(|k| k.as_string());
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
    Reflect::get(o, &JsValue::from_str(k))
        .ok()
        .and_then(|v| v.as_string())
        .filter(|s| !s.is_empty())
}

/// `true`, or `{ deviceId }` (an ideal, so a device that went away falls back to
/// the default one).
fn track_constraint(device: Option<String>) -> JsValue {
    match device {
        Some(id) => {
            let o = Object::new();
            let _ = Reflect::set(&o, &JsValue::from_str("deviceId"), &JsValue::from_str(&id));
            o.into()
        }
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
    s.dyn_into::<MediaStream>()
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
    match user_media(&md, device_ids, video).await {
        Ok(s) => Ok((s, video)),
        Err(e) if video && allow_none_camera && classify(&e, true).code == NO_CAMERA => {
            user_media(&md, device_ids, false)
                .await
                .map(|s| (s, false))
                .map_err(|e| classify(&e, false))
        }
        Err(e) => Err(classify(&e, video)),
    }
}

// NB: `MediaStream` and `MediaStreamTrack` have a JS `clone()` that web-sys binds as an
// inherent method, so `stream.clone()` makes a new stream with new tracks. Copy the
// handle with `Clone::clone(&stream)`.

/// Stops every track of `s`.
pub fn stop_stream(s: &MediaStream) {
    for t in s.get_tracks().iter() {
        if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
            t.stop();
        }
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
}

/// The browser side of one call: its peer connection, the local stream it sends, and
/// the stream of what it receives. Dropping it closes everything.
pub struct CallMedia {
    pc: RtcPeerConnection,
    local: MediaStream,
    local_video: Option<MediaStream>,
    remote: Option<MediaStream>,
    ontrack: Option<Closure<dyn FnMut(RtcTrackEvent)>>,
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
            if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
                pc.add_track_0(&t, &local);
            }
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
            closed: false,
            on_close,
            close_signal,
        })
    }

    /// Calls `f` with each remote track (from the browser's event loop).
    pub fn on_track(&mut self, f: impl FnMut(MediaStreamTrack) + 'static) {
        let mut f = f;
        let c = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |e: RtcTrackEvent| f(e.track()));
        self.pc.set_ontrack(Some(c.as_ref().unchecked_ref()));
        self.ontrack = Some(c);
    }

    /// What media operations need (handles: cheap to clone, usable across awaits).
    pub fn link(&self) -> Link {
        Link {
            pc: self.pc.clone(),
            closed: self.close_signal.clone(),
        }
    }

    /// The local video (no audio: it is not echoed back), if the call sends video.
    pub fn local_video(&self) -> Option<MediaStream> {
        self.local_video.clone()
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
        self.pc.close();
        stop_stream(&self.local);
        self.ontrack = None;
        if let Some(f) = self.on_close.take() {
            let _ = f.call1(&JsValue::NULL, &JsValue::from_str(CLOSED));
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
async fn settle(link: &Link, p: Promise) -> Result<JsValue, String> {
    let first = Promise::race(&Array::of2(&p, &link.closed));
    let v = JsFuture::from(first).await.map_err(|e| describe(&e))?;
    if v.as_string().as_deref() == Some(CLOSED) {
        return Err("the call's media was closed".into());
    }
    Ok(v)
}

async fn set_local_and_gather(link: &Link, desc: JsValue, ice_ms: u32) -> Result<String, String> {
    let pc = &link.pc;
    settle(link, pc.set_local_description(desc.unchecked_ref())).await?;
    settle(link, ice_gathered(pc, ice_ms)).await?;
    local_sdp(pc)
}

/// An offer (audio, video if a camera track is sent or `receive_video`), set as the
/// local description; the SDP once ICE gathering completed or `ice_ms` passed.
pub async fn create_offer(link: &Link, receive_video: bool, ice_ms: u32) -> Result<String, String> {
    let opts = RtcOfferOptions::new();
    opts.set_offer_to_receive_audio(true);
    if receive_video {
        opts.set_offer_to_receive_video(true);
    }
    let offer = settle(link, link.pc.create_offer_with_rtc_offer_options(&opts)).await?;
    set_local_and_gather(link, offer, ice_ms).await
}

/// Applies the remote `offer` and answers it; the SDP as for [`create_offer`].
pub async fn create_answer(link: &Link, offer: &str, ice_ms: u32) -> Result<String, String> {
    let desc = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    desc.set_sdp(offer);
    settle(link, link.pc.set_remote_description(&desc)).await?;
    let answer = settle(link, link.pc.create_answer()).await?;
    set_local_and_gather(link, answer, ice_ms).await
}

/// Applies the remote `answer` to our offer.
pub async fn apply_answer(link: &Link, answer: &str) -> Result<(), String> {
    let desc = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
    desc.set_sdp(answer);
    settle(link, link.pc.set_remote_description(&desc))
        .await
        .map(|_| ())
}

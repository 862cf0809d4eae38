//! The call quality report of the API (`Report`, `callReport` every 3 s): a plain object
//! of strings computed from `RTCPeerConnection.getStats()` (W3C webrtc-stats §§6-7:
//! inbound-rtp, outbound-rtp, remote-inbound-rtp, codec, transport, candidate-pair,
//! local-candidate). A few lines of JS walk the stats (in Rust that walk was 8 KB of
//! wasm); the arithmetic and the formatting are pure Rust functions of numbers, without
//! `core::fmt`'s float code (it would weigh more than this whole module).

use super::phone::Obj;
use crate::sip::Print as _;
use js_sys::{Array, Date};
use wasm_bindgen::prelude::*;

use super::media::{settle, Link};

#[wasm_bindgen(inline_js = "
export function stats_digest(report) {
  const kinds = { audio: [0, 0, 0, NaN, 0, NaN, NaN, NaN, NaN], video: [0, 0, 0, NaN, 0, NaN, NaN, NaN, NaN] };
  const codecs = { audio: ['', ''], video: ['', ''] };
  const add = (a, i, v) => { if (typeof v === 'number') a[i] = isNaN(a[i]) ? v : a[i] + v; };
  const max = (a, i, v) => { if (typeof v === 'number') a[i] = isNaN(a[i]) ? v : Math.max(a[i], v); };
  let pair = '', fallback = '';
  report.forEach((s) => {
    const a = kinds[s.kind || s.mediaType] || [], c = codecs[s.kind || s.mediaType] || [];
    switch (s.type) {
      case 'inbound-rtp':
        a[0] = 1; add(a, 1, s.packetsReceived); add(a, 2, s.packetsLost); max(a, 3, s.jitter);
        add(a, 8, s.totalSamplesDuration); c[0] = c[0] || s.codecId; break;
      case 'outbound-rtp': a[0] = 1; add(a, 4, s.packetsSent); c[1] = c[1] || s.codecId; break;
      case 'remote-inbound-rtp':
        add(a, 5, s.packetsLost); max(a, 6, s.fractionLost); max(a, 7, s.jitter); break;
      case 'transport': pair = pair || s.selectedCandidatePairId || ''; break;
      // Firefox marks the pair selected; else a nominated pair that works
      case 'candidate-pair': if (s.selected || (s.nominated && s.state === 'succeeded')) fallback = s.id;
    }
  });
  const field = (id, f) => (report.get(id) || {})[f] || '';
  const local = field(pair || fallback, 'localCandidateId');
  return [...kinds.audio, ...kinds.video,
    field(codecs.audio[0] || codecs.audio[1], 'mimeType'), field(codecs.video[0] || codecs.video[1], 'mimeType'),
    field(local, 'candidateType'), (navigator.connection || {}).type || 'unknown'];
}
")]
extern "C" {
    /// Per kind (audio, then video) nine numbers: an RTP stream exists (0/1),
    /// packetsReceived, packetsLost, jitter (max), packetsSent, remote packetsLost,
    /// fractionLost (max), remote jitter (max), totalSamplesDuration (NaN: none); then
    /// the audio and video codec mimeTypes (what we receive, else what we send), the
    /// selected pair's local candidateType and `navigator.connection.type`.
    #[wasm_bindgen(catch)]
    fn stats_digest(report: &JsValue) -> Result<Array, JsValue>;
}

/// Running jitter statistics of one direction of one kind, over the call so far.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Jitter {
    /// Largest sample, seconds.
    pub max: f64,
    /// Sum of the samples, seconds.
    pub sum: f64,
    /// Number of samples.
    pub count: u32,
}

impl Jitter {
    /// Adds a sample in seconds (as getStats gives it); none or a bad value is skipped.
    pub fn add(&mut self, seconds: Option<f64>) {
        if let Some(s) = seconds.filter(|s| s.is_finite() && *s >= 0.0) {
            self.max = self.max.max(s);
            self.sum += s;
            self.count += 1;
        }
    }

    /// The largest sample in ms, as [`ms`] formats it.
    pub fn max_ms(&self) -> String {
        ms(self.max)
    }

    /// The mean of the samples in ms ("0" before the first).
    pub fn avg_ms(&self) -> String {
        ms(if self.count == 0 {
            0.0
        } else {
            self.sum / f64::from(self.count)
        })
    }
}

/// What the report keeps between its runs: jitter per direction and kind.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReportAcc {
    /// Audio we receive (inbound-rtp jitter).
    pub audio_rx: Jitter,
    /// Audio we send, as the peer receives it (remote-inbound-rtp jitter).
    pub audio_tx: Jitter,
    /// Video we receive.
    pub video_rx: Jitter,
    /// Video we send.
    pub video_tx: Jitter,
}

/// The call's identity in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportInfo {
    /// `callId`.
    pub call_id: String,
    /// `extension`: our user.
    pub extension: String,
    /// `Date.now()` when the call was answered (0 if unknown). `lksDuration` is the
    /// audio received (inbound-rtp totalSamplesDuration), else (the browser counts
    /// samples as they are played: nothing when the remote audio has no sink) the time
    /// since then.
    pub started_ms: f64,
}

/// One kind's numbers from one getStats() run (sums over its RTP streams).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct KindStats {
    /// An inbound-rtp or outbound-rtp of this kind exists.
    pub present: bool,
    /// The codec's mimeType, e.g. `audio/opus` (what we receive, else what we send).
    pub mime: String,
    /// inbound-rtp packetsReceived.
    pub received: f64,
    /// inbound-rtp packetsLost (cumulative, RFC 3550 §6.4.1: may be negative).
    pub lost: f64,
    /// inbound-rtp jitter, seconds.
    pub jitter: Option<f64>,
    /// outbound-rtp packetsSent.
    pub sent: f64,
    /// remote-inbound-rtp packetsLost: the peer's cumulative count (its RTCP RR).
    pub remote_lost: Option<f64>,
    /// remote-inbound-rtp fractionLost (0…1, the last RR interval).
    pub remote_fraction_lost: Option<f64>,
    /// remote-inbound-rtp jitter, seconds.
    pub remote_jitter: Option<f64>,
}

/// `v` rounded to `decimals` places (at most 9), e.g. `fixed(0.1234567, 6)` =
/// "0.123457". Negative and non-finite values count as 0.
pub fn fixed(v: f64, decimals: u32) -> String {
    let d = decimals.min(9);
    let scale = 10u64.pow(d);
    let v = if v.is_finite() && v > 0.0 { v } else { 0.0 };
    // `as` saturates; half away from zero
    let n = (v * scale as f64 + 0.5) as u64;
    let mut s = (n / scale).to_text();
    if d > 0 {
        let frac = (n % scale).to_text();
        s.push('.');
        for _ in frac.len()..d as usize {
            s.push('0');
        }
        s.push_str(&frac);
    }
    s
}

/// Seconds as milliseconds with at most 3 decimals and no trailing zeros: 0.0125 →
/// "12.5", 0.003 → "3".
pub fn ms(seconds: f64) -> String {
    let mut s = fixed(seconds * 1000.0, 3);
    let keep = s.trim_end_matches('0').trim_end_matches('.').len();
    s.truncate(keep);
    s
}

/// `part / whole` with 6 decimals ("0.000000" when `whole` is not positive), at most 1.
pub fn ratio(part: f64, whole: f64) -> String {
    fixed(
        if whole > 0.0 {
            (part / whole).min(1.0)
        } else {
            0.0
        },
        6,
    )
}

/// The codec name of a mimeType: `audio/opus` → "opus", `video/VP8` → "vp8".
pub fn codec_name(mime: &str) -> String {
    // `split_once`, not slicing: no slice-panic path (and its Debug code) in the wasm.
    let sub = mime.split_once('/').map_or(mime, |(_, sub)| sub);
    sub.to_ascii_lowercase()
}

/// `iceResult` from the selected pair's local candidateType (RFC 8445 §5.1.1): host →
/// "local", srflx/prflx → "public", relay → "turn"; "" when unknown.
pub fn ice_result(candidate_type: &str) -> &'static str {
    match candidate_type {
        "host" => "local",
        "srflx" | "prflx" => "public",
        "relay" => "turn",
        _ => "",
    }
}

/// `YYYY-MM-DD hh:mm:ss`.
pub fn local_date(year: u32, month: u32, day: u32, h: u32, m: u32, s: u32) -> String {
    let mut out = year.to_text();
    for (sep, v) in [('-', month), ('-', day), (' ', h), (':', m), (':', s)] {
        out.push(sep);
        if v < 10 {
            out.push('0');
        }
        v.print(&mut out);
    }
    out
}

/// The nine strings of a kind, in the order codec, Rx, RxLost, RxMaxjitter,
/// RxAvgjitter, Tx, TxLost, TxMaxjitter, TxAvgjitter, after adding this run's jitter
/// samples to `rx` and `tx`; all empty when the kind is not `present`. RxLost is
/// lost/(lost+received); TxLost the peer's cumulative loss over what we sent, else its
/// last fractionLost.
pub fn kind_fields(s: &KindStats, rx: &mut Jitter, tx: &mut Jitter) -> [String; 9] {
    if !s.present {
        return Default::default();
    }
    rx.add(s.jitter);
    tx.add(s.remote_jitter);
    let lost = s.lost.max(0.0);
    let tx_lost = match (s.remote_lost, s.remote_fraction_lost) {
        (Some(l), _) if s.sent > 0.0 => ratio(l.max(0.0), s.sent),
        (_, Some(f)) => fixed(f.min(1.0), 6),
        _ => ratio(0.0, 0.0),
    };
    [
        codec_name(&s.mime),
        fixed(s.received, 0),
        ratio(lost, lost + s.received),
        rx.max_ms(),
        rx.avg_ms(),
        fixed(s.sent, 0),
        tx_lost,
        tx.max_ms(),
        tx.avg_ms(),
    ]
}

/// The report's field names, in the order [`collect`] computes the values.
const NAMES: [&str; 26] = [
    "lksTimestamp",
    "lksDate",
    "callId",
    "extension",
    "iceResult",
    "lksNetworkType",
    "lksDeviceType",
    "lksDuration",
    "lksAudioCodec",
    "lksAudioRx",
    "lksAudioRxLost",
    "lksAudioRxMaxjitter",
    "lksAudioRxAvgjitter",
    "lksAudioTx",
    "lksAudioTxLost",
    "lksAudioTxMaxjitter",
    "lksAudioTxAvgjitter",
    "lksVideoCodec",
    "lksVideoRx",
    "lksVideoRxLost",
    "lksVideoRxMaxjitter",
    "lksVideoRxAvgjitter",
    "lksVideoTx",
    "lksVideoTxLost",
    "lksVideoTxMaxjitter",
    "lksVideoTxAvgjitter",
];

/// The report of the call now, as the API's plain object of strings; `acc` carries the
/// jitter statistics from one run to the next.
pub async fn collect(
    link: &Link,
    acc: &mut ReportAcc,
    info: &ReportInfo,
) -> Result<JsValue, String> {
    let report = settle(link, link.pc().get_stats()).await?;
    let d = stats_digest(&report).map_err(|e| super::media::describe(&e))?;
    let num = |i: u32| d.get(i).as_f64().filter(|v| !v.is_nan());
    let text = |i: u32| d.get(i).as_string().unwrap_or_default();
    let kind = |base: u32, mime: String| KindStats {
        present: num(base) == Some(1.0),
        mime,
        received: num(base + 1).unwrap_or(0.0),
        lost: num(base + 2).unwrap_or(0.0),
        jitter: num(base + 3),
        sent: num(base + 4).unwrap_or(0.0),
        remote_lost: num(base + 5),
        remote_fraction_lost: num(base + 6),
        remote_jitter: num(base + 7),
    };
    let mut audio = kind(0, text(18));
    audio.present = true; // a call always has audio: zeros rather than nothing
    let video = kind(9, text(19));

    let now = Date::new_0();
    let now_ms = now.get_time();
    let duration = match num(8) {
        Some(d) if d > 0.0 => d,
        _ if info.started_ms > 0.0 => (now_ms - info.started_ms) / 1000.0,
        _ => 0.0,
    };
    let date = local_date(
        now.get_full_year(),
        now.get_month() + 1,
        now.get_date(),
        now.get_hours(),
        now.get_minutes(),
        now.get_seconds(),
    );
    let head = [
        fixed(now_ms, 0),
        date,
        info.call_id.clone(),
        info.extension.clone(),
        ice_result(&text(20)).to_owned(),
        text(21),
        "web".to_owned(),
        (duration.max(0.0) as u64).to_text(), // whole seconds
    ];
    let a = kind_fields(&audio, &mut acc.audio_rx, &mut acc.audio_tx);
    let v = kind_fields(&video, &mut acc.video_rx, &mut acc.video_tx);
    let mut o = Obj::new();
    for (k, v) in NAMES.iter().zip(head.iter().chain(&a).chain(&v)) {
        o = o.s(k, v);
    }
    Ok(o.into())
}

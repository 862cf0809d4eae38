//! TypeScript declarations of the API's plain-object types, generated from these Rust
//! definitions by tsify (declarations only: values cross the boundary through
//! `web::config` and small hand-built objects, which keeps serde out of the wasm).

#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use tsify::Tsify;
use wasm_bindgen::prelude::*;

/// A WebSocket URL, or several tried in order with failover.
#[derive(Tsify, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Servers {
    /// One server.
    One(String),
    /// Several, in order.
    Many(Vec<String>),
}

/// Input devices used by getUserMedia.
#[derive(Tsify, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceIds {
    /// `MediaDeviceInfo.deviceId` of the camera.
    #[tsify(optional)]
    pub camera_id: Option<String>,
    /// `MediaDeviceInfo.deviceId` of the microphone.
    #[tsify(optional)]
    pub microphone_id: Option<String>,
}

/// Feature codes sent as DTMF to start and pause recording.
#[derive(Tsify, Serialize, Deserialize)]
pub struct RecordCodes {
    /// Code that starts or resumes recording.
    pub start: String,
    /// Code that pauses recording.
    pub pause: String,
}

/// How recording is signalled.
#[derive(Tsify, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordControl {
    /// `'info'`: SIP INFO with `Record: on` / `Record: off`.
    Info(String),
    /// DTMF feature codes.
    Codes(RecordCodes),
}

/// The configuration given to `new PhoneOperator(config)`.
#[derive(Tsify, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneConfig {
    /// WebSocket URL(s) of the SIP server (RFC 7118, subprotocol `sip`). `ws://` only
    /// for loopback hosts unless `allowInsecure`.
    pub server: Servers,
    /// Allow `ws://` to non-loopback hosts (default false).
    #[tsify(optional)]
    pub allow_insecure: Option<bool>,
    /// The address of record, `sip:user@domain`.
    pub uri: String,
    /// Digest user name (default: the user part of `uri`).
    #[tsify(optional)]
    pub authorization_user: Option<String>,
    /// Digest password.
    #[tsify(optional)]
    pub password: Option<String>,
    /// Precomputed HA1 (hex MD5 of `user:realm:password`) instead of a password.
    #[tsify(optional)]
    pub ha1: Option<String>,
    /// The realm the HA1 was computed for.
    #[tsify(optional)]
    pub realm: Option<String>,
    /// Display name in From.
    #[tsify(optional)]
    pub display_name: Option<String>,
    /// Seconds asked for in REGISTER (default 600).
    #[tsify(optional)]
    pub register_expires: Option<u32>,
    /// Retries of a failed registration before giving up with -204 (default 5).
    #[tsify(optional)]
    pub re_registry_phone_times: Option<u32>,
    /// Extra headers on every request, each `Name: value`.
    #[tsify(optional)]
    pub extra_headers: Option<Vec<String>>,
    /// Input devices.
    #[tsify(optional)]
    pub device_ids: Option<DeviceIds>,
    /// STUN/TURN servers.
    #[tsify(optional, type = "RTCIceServer[]")]
    pub ice_servers: Option<Vec<String>>,
    /// The longest wait for ICE gathering before the SDP goes out with the candidates
    /// gathered so far, in ms (default 1000, at most 10000).
    #[tsify(optional)]
    pub ice_gathering_timeout: Option<u32>,
    /// Concurrent calls allowed (default 2).
    #[tsify(optional)]
    pub max_calls: Option<u32>,
    /// Answer new INVITEs with 486 while a call is up.
    #[tsify(optional)]
    pub disable_call_waiting: Option<bool>,
    /// 0: no recording control; 1: pause/resume only; 2: start/pause/resume.
    #[tsify(optional, type = "0 | 1 | 2")]
    pub record_permissions: Option<u8>,
    /// How `dtmf()` is sent (default 'rfc4733').
    #[tsify(optional, type = "'rfc4733' | 'info'")]
    pub dtmf_mode: Option<String>,
    /// Status sent by `reject()` (default 486).
    #[tsify(optional, type = "486 | 603")]
    pub reject_code: Option<u16>,
    /// How recording is signalled (default 'info').
    #[tsify(optional, type = "'info' | RecordCodes")]
    pub record_control: Option<RecordControl>,
    /// Video capability (default 'enabled').
    #[tsify(optional, type = "'enabled' | 'disabled'")]
    pub video_plan: Option<String>,
    /// User-Agent header.
    #[tsify(optional)]
    pub user_agent: Option<String>,
    /// Seconds between CRLF keep-alive pings (RFC 5626 §4.4.1; default 30, 0 = off).
    #[tsify(optional)]
    pub keep_alive_interval: Option<u32>,
    /// Also send a plain-text `heartbeat` frame every 30 s (some PBX gateways want it).
    #[tsify(optional)]
    pub heartbeat: Option<bool>,
    /// The `+sip.instance` URN (RFC 5626); a random one per PhoneOperator by default.
    #[tsify(optional)]
    pub instance_id: Option<String>,
    /// Console logging level (default 'warn'); SIP traffic at 'debug'.
    #[tsify(optional, type = "'off' | 'error' | 'warn' | 'info' | 'debug'")]
    pub log: Option<String>,
}

/// Options of `call()` and `answer()`.
#[derive(Tsify, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallOptions {
    /// Send video.
    #[tsify(optional)]
    pub video: Option<bool>,
    /// Ask for video.
    #[tsify(optional)]
    pub offer_to_receive_video: Option<bool>,
    /// Extra headers on this call's INVITE.
    #[tsify(optional)]
    pub extra_headers: Option<Vec<String>>,
}

/// Call durations in seconds.
#[derive(Tsify, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimerType {
    /// Seconds ringing.
    pub ring_duration: f64,
    /// Seconds calling (outbound, before answer).
    pub calling_duration: f64,
    /// Seconds talking.
    pub call_duration: f64,
    /// Seconds on hold.
    pub hold_duration: f64,
}

/// The outcome of an API call.
#[derive(Tsify, Serialize, Deserialize)]
#[serde(rename = "Result", rename_all = "camelCase")]
pub struct ApiResult {
    /// 200 or a negative result code.
    pub code: i32,
    /// What happened.
    pub message: String,
    /// The call concerned.
    #[tsify(optional)]
    pub call_id: Option<String>,
}

#[wasm_bindgen(typescript_custom_section)]
const EVENTS: &'static str = r#"
/** The outcome of an API call. */
export type Result = ApiResult;

/** The parts of a call's status an app may set (name, avatar, company). */
export interface StaticCallStatus {
  name: string;
  avatar: string;
  company: string;
}

/** The attended-transfer call a call belongs to. */
export type TransferParent = {
  callId: string;
  avatar: string;
  name: string;
  number: string;
  callDuration: number;
  holdDuration: number;
};

/** A call's state (`session.status`; a new object on each read). */
export interface CallStatus extends StaticCallStatus {
  /** The remote user part. */
  number: string;
  callId: string;
  communicationType: 'outbound' | 'inbound';
  isVideo: boolean;
  isRing: boolean;
  isHold: boolean;
  isMute: boolean;
  /** outbound: 'calling' until answered; inbound: 'ringing', then 'connecting' after
   * answer(); 'talking' once confirmed. */
  callStatus: 'ringing' | 'calling' | 'talking' | 'connecting';
  /** ms since the epoch when answered, 0 before. */
  callStartTime: number;
  recordStatus: 'stop' | 'recording' | 'pause';
  isTransfer: boolean;
  transferParent?: TransferParent;
  isConference: boolean;
  /** The peer holds us (an addition to the contract's CallStatus). */
  isRemoteHold: boolean;
}

/** A call quality report (all values strings). */
export type Report = Record<string, string>;

/** The events of a PhoneOperator and their listeners. */
export interface PhoneEventMap {
  connected: () => void;
  disconnected: (e: { code: number; reason: string }) => void;
  registered: () => void;
  registrationFailed: (e: { code: number; cause: string }) => void;
  isRegisteredChange: (registered: boolean) => void;
  recordPermissionsChange: (permissions: number) => void;
  videoPlanChange: (plan: string) => void;
  /** A Session was created (either direction). */
  newRTCSession: (e: { callId: string; session: Session }) => void;
  /** An inbound call is ringing. */
  incoming: (e: { callId: string; session: Session }) => void;
  /** The Session was added to `sessions`. */
  startSession: (e: { callId: string; session: Session }) => void;
  /** The Session was removed from `sessions`. */
  deleteSession: (e: { callId: string; cause: string }) => void;
}

/** The events of a Session and their listeners. */
export interface SessionEventMap {
  /** A 1xx response (180, 183). */
  progress: (e: { callId: string; code: number }) => void;
  /** 2xx to the INVITE. */
  accepted: (e: { callId: string; session: Session }) => void;
  /** ACK sent or received: the call is up. */
  confirmed: (e: { callId: string; session: Session }) => void;
  /** The call ended after it was up. */
  ended: (e: { callId: string; cause: string; originator: 'local' | 'remote' | 'system' }) => void;
  /** The call never came up (rejected, cancelled, timed out). */
  failed: (e: { callId: string; cause: string; code: number; originator: 'local' | 'remote' | 'system' }) => void;
  /** A local failure (media, permissions, ICE). */
  clientError: (e: { callId: string; cause: string }) => void;
  /** The first remote track arrived (`stream` is `remoteStream`). */
  streamAdded: (e: { callId: string; communicationType: 'outbound' | 'inbound'; stream: MediaStream }) => void;
  /** The local video stream was set. */
  updateLocalStream: (stream: MediaStream) => void;
  /** A track was added to the remote stream. */
  updateRemoteStream: (stream: MediaStream) => void;
  statusChange: (newStatus: CallStatus, oldStatus: CallStatus) => void;
  /** Once a second while the call exists. */
  updateTimer: (timer: TimerType) => void;
  /** name/avatar/company changed (setStaticStatus). */
  staticStatusChange: (newStatus: StaticCallStatus, oldStatus: StaticCallStatus) => void;
  /** Every 3 s while the call is up. */
  callReport: (e: { callId: string; callReport: Report }) => void;
  /** DTMF received by SIP INFO. */
  newDTMF: (e: { callId: string; digit: string; duration: number; originator: 'remote' }) => void;
  /** Another SIP INFO received. */
  newInfo: (e: { callId: string; contentType: string; body: string; originator: 'remote' }) => void;
  /** The call was replaced by an attended transfer (INVITE with Replaces): the new call. */
  reinvite: (e: { callId: string; session: Session }) => void;
  /** Hold started: 'local' when our hold re-INVITE succeeded, 'remote' when the peer holds us. */
  hold: (e: { callId: string; originator: 'local' | 'remote' }) => void;
  /** Hold ended (as `hold`). */
  unhold: (e: { callId: string; originator: 'local' | 'remote' }) => void;
}

export interface Session {
  /** Adds a listener; returns the session. */
  on<K extends keyof SessionEventMap>(eventName: K, listener: SessionEventMap[K]): this;
  /** Adds a listener called once; returns the session. */
  once<K extends keyof SessionEventMap>(eventName: K, listener: SessionEventMap[K]): this;
  /** Removes a listener, or every listener of the event; returns the session. */
  off<K extends keyof SessionEventMap>(eventName: K, listener?: SessionEventMap[K]): this;
  /** Answers this ringing inbound call; resolves once the 200 OK is sent. */
  answer(option?: CallOptions): Promise<Result>;
  /** Ends the call: 'hangup', 'reject', or 'terminate' (default: whatever its state). */
  terminate(type?: 'hangup' | 'reject' | 'terminate'): boolean;
}

export interface PhoneOperator {
  /** Calls `number` (a user part or a sip:/sips:/tel: URI). Resolves once the Session
   * exists and the INVITE is sent ({ code: 200, message, callId }), or with an error
   * code. `transferId`: the call being attended-transferred (it is put on hold; the new
   * call gets `isTransfer` and `transferParent`; -207 when unknown). */
  call(number: string, option?: CallOptions, transferId?: string): Promise<Result>;
  /** Answers a ringing inbound call; resolves once the 200 OK is sent. */
  answer(callId: string, option?: CallOptions, allowNoneCamera?: boolean): Promise<Result>;
  /** Ends a call; the type is the cause reported (default 'terminate'). */
  terminate(callId: string, type?: 'hangup' | 'reject' | 'terminate'): boolean;
  /** Connects and registers (listen for events first); returns the phone. */
  start(): this;
  /** Adds a listener; returns the phone. */
  on<K extends keyof PhoneEventMap>(eventName: K, listener: PhoneEventMap[K]): this;
  /** Adds a listener called once; returns the phone. */
  once<K extends keyof PhoneEventMap>(eventName: K, listener: PhoneEventMap[K]): this;
  /** Removes a listener, or every listener of the event; returns the phone. */
  off<K extends keyof PhoneEventMap>(eventName: K, listener?: PhoneEventMap[K]): this;
}
"#;

//! `PhoneConfig` (a plain JS object) → the core's `UaConfig`. Only type conversion
//! happens here; every value rule lives in the core (`sip::config`).

use crate::sip::config::{ConfigError, UaConfig};
use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// The parts of `PhoneConfig` the shell keeps for itself (media, policies, logging).
#[derive(Debug, Clone)]
pub struct ShellConfig {
    /// Console logging level.
    pub log: LogLevel,
    /// `maxCalls` (drives `isMaxCall`).
    pub max_calls: u32,
    /// `recordPermissions` 0/1/2.
    pub record_permissions: u8,
    /// `videoPlan`: 'enabled' or 'disabled'.
    pub video_plan: String,
    /// `deviceIds` as given.
    pub device_ids: JsValue,
    /// `rejectCode` (486 or 603), sent by `reject()`.
    pub reject_code: u16,
    /// `iceServers` as given (an `RTCIceServer[]`, or undefined).
    pub ice_servers: JsValue,
    /// `iceGatheringTimeout`: the longest wait for ICE gathering, in ms.
    pub ice_gathering_timeout: u32,
    /// `dtmfMode: 'info'` (else RFC 4733).
    pub dtmf_info: bool,
    /// `recordControl` as DTMF feature codes (start, pause); `None`: SIP INFO.
    pub record_codes: Option<(String, String)>,
}

/// Default `iceGatheringTimeout` (ms): host candidates take milliseconds; a STUN
/// server that does not answer must not hold the call up for long.
pub const ICE_GATHERING_TIMEOUT_MS: u32 = 1000;

/// Console logging levels (`PhoneConfig.log`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Errors only.
    Error,
    /// And warnings.
    Warn,
    /// And state changes.
    Info,
    /// And every SIP message (credentials redacted by the core).
    Debug,
}

fn err(field: &'static str, message: &str) -> ConfigError {
    ConfigError {
        field,
        message: message.to_owned(),
    }
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn present(v: &JsValue) -> bool {
    !v.is_undefined() && !v.is_null()
}

fn opt_string(obj: &JsValue, field: &'static str) -> Result<Option<String>, ConfigError> {
    let v = get(obj, field);
    if !present(&v) {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| err(field, "must be a string"))
}

fn opt_bool(obj: &JsValue, field: &'static str) -> Result<Option<bool>, ConfigError> {
    let v = get(obj, field);
    if !present(&v) {
        return Ok(None);
    }
    v.as_bool()
        .map(Some)
        .ok_or_else(|| err(field, "must be a boolean"))
}

/// A whole number in `min..=max`.
fn opt_uint(
    obj: &JsValue,
    field: &'static str,
    min: u32,
    max: u32,
) -> Result<Option<u32>, ConfigError> {
    let v = get(obj, field);
    if !present(&v) {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= f64::from(min) && n <= f64::from(max) => {
            Ok(Some(n as u32))
        }
        _ => Err(ConfigError {
            field,
            message: format!("must be a whole number from {min} to {max}"),
        }),
    }
}

/// An array of strings.
pub fn string_array(v: &JsValue, field: &'static str) -> Result<Vec<String>, ConfigError> {
    if !Array::is_array(v) {
        return Err(err(field, "must be an array of strings"));
    }
    let a: &Array = v.unchecked_ref();
    a.iter()
        .map(|x| {
            x.as_string()
                .ok_or_else(|| err(field, "must be an array of strings"))
        })
        .collect()
}

/// The `PhoneConfig` name of a core config field, for error messages.
pub fn js_field(field: &'static str) -> &'static str {
    match field {
        "servers" => "server",
        "allow_insecure" => "allowInsecure",
        "authorization_user" => "authorizationUser",
        "display_name" => "displayName",
        "register_expires" => "registerExpires",
        "re_register_times" => "reRegistryPhoneTimes",
        "extra_headers" => "extraHeaders",
        "user_agent" => "userAgent",
        "keepalive_interval_secs" => "keepAliveInterval",
        "instance_id" => "instanceId",
        "max_calls" => "maxCalls",
        "disable_call_waiting" => "disableCallWaiting",
        "reject_code" => "rejectCode",
        "no_answer_timeout_secs" => "noAnswerTimeout",
        other => other,
    }
}

/// Converts a `PhoneConfig` object.
pub fn from_js(cfg: &JsValue) -> Result<(UaConfig, ShellConfig), ConfigError> {
    if !cfg.is_object() {
        return Err(err("config", "must be an object"));
    }
    let mut ua = UaConfig::default();
    let server = get(cfg, "server");
    ua.servers = if let Some(s) = server.as_string() {
        vec![s]
    } else if present(&server) {
        string_array(&server, "server")?
    } else {
        return Err(err("server", "is required"));
    };
    ua.allow_insecure = opt_bool(cfg, "allowInsecure")?.unwrap_or(false);
    ua.uri = opt_string(cfg, "uri")?.ok_or_else(|| err("uri", "is required"))?;
    ua.authorization_user = opt_string(cfg, "authorizationUser")?;
    ua.password = opt_string(cfg, "password")?;
    ua.ha1 = opt_string(cfg, "ha1")?;
    ua.realm = opt_string(cfg, "realm")?;
    ua.display_name = opt_string(cfg, "displayName")?;
    if let Some(n) = opt_uint(cfg, "registerExpires", 1, 0x7fff_ffff)? {
        ua.register_expires = n;
    }
    if let Some(n) = opt_uint(cfg, "reRegistryPhoneTimes", 0, 1000)? {
        ua.re_register_times = n;
    }
    let extra = get(cfg, "extraHeaders");
    if present(&extra) {
        ua.extra_headers = string_array(&extra, "extraHeaders")?;
    }
    ua.user_agent = opt_string(cfg, "userAgent")?;
    if let Some(n) = opt_uint(cfg, "keepAliveInterval", 0, 3600)? {
        ua.keepalive_interval_secs = n;
    }
    ua.heartbeat = opt_bool(cfg, "heartbeat")?.unwrap_or(false);
    ua.instance_id = opt_string(cfg, "instanceId")?;

    let log = match opt_string(cfg, "log")?.as_deref() {
        None | Some("warn") => LogLevel::Warn,
        Some("off") => LogLevel::Off,
        Some("error") => LogLevel::Error,
        Some("info") => LogLevel::Info,
        Some("debug") => LogLevel::Debug,
        Some(_) => {
            return Err(err(
                "log",
                "must be 'off', 'error', 'warn', 'info' or 'debug'",
            ))
        }
    };
    let max_calls = opt_uint(cfg, "maxCalls", 1, 100)?.unwrap_or(2);
    let record_permissions = opt_uint(cfg, "recordPermissions", 0, 2)?.unwrap_or(0) as u8;
    let dtmf_info = match opt_string(cfg, "dtmfMode")?.as_deref() {
        None | Some("rfc4733") => false,
        Some("info") => true,
        Some(_) => return Err(err("dtmfMode", "must be 'rfc4733' or 'info'")),
    };
    let rc = get(cfg, "recordControl");
    let record_codes = if !present(&rc) || rc.as_string().as_deref() == Some("info") {
        None
    } else {
        let code = |k: &str| {
            js_sys::Reflect::get(&rc, &JsValue::from_str(k))
                .ok()
                .and_then(|v| v.as_string())
                .filter(|c| crate::sip::ua::valid_dtmf(c))
        };
        match (rc.is_object(), code("start"), code("pause")) {
            (true, Some(start), Some(pause)) => Some((start, pause)),
            _ => {
                return Err(err(
                    "recordControl",
                    "must be 'info' or { start, pause } with DTMF digits (0-9*#A-D)",
                ))
            }
        }
    };
    let reject_code = match opt_uint(cfg, "rejectCode", 400, 699)? {
        None => 486,
        Some(c) if c == 486 || c == 603 => c as u16,
        Some(_) => return Err(err("rejectCode", "must be 486 or 603")),
    };
    ua.max_calls = max_calls;
    ua.disable_call_waiting = opt_bool(cfg, "disableCallWaiting")?.unwrap_or(false);
    ua.reject_code = reject_code;
    let ice_gathering_timeout =
        opt_uint(cfg, "iceGatheringTimeout", 0, 10_000)?.unwrap_or(ICE_GATHERING_TIMEOUT_MS);
    let video_plan = match opt_string(cfg, "videoPlan")?.as_deref() {
        None | Some("enabled") => "enabled".to_owned(),
        Some("disabled") => "disabled".to_owned(),
        Some(_) => return Err(err("videoPlan", "must be 'enabled' or 'disabled'")),
    };
    let device_ids = get(cfg, "deviceIds");
    if present(&device_ids) && !device_ids.is_object() {
        return Err(err(
            "deviceIds",
            "must be an object { cameraId?, microphoneId? }",
        ));
    }
    let ice = get(cfg, "iceServers");
    if present(&ice) && !Array::is_array(&ice) {
        return Err(err("iceServers", "must be an array of RTCIceServer"));
    }
    Ok((
        ua,
        ShellConfig {
            log,
            max_calls,
            record_permissions,
            video_plan,
            device_ids: if present(&device_ids) {
                device_ids
            } else {
                js_sys::Object::new().into()
            },
            reject_code,
            ice_servers: if present(&ice) {
                ice
            } else {
                JsValue::UNDEFINED
            },
            ice_gathering_timeout,
            dtmf_info,
            record_codes,
        },
    ))
}

//! `PhoneConfig` (a plain JS object) → the core's `UaConfig`. Only type conversion
//! happens here; every value rule lives in the core (`sip::config`).

use crate::sip::config::{ConfigError, UaConfig};
use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};

/// The parts of `PhoneConfig` the shell keeps for itself (media, policies, logging).
#[derive(Debug, Clone)]
pub struct ShellConfig {
    /// Console logging level.
    pub log: LogLevel,
    /// `maxCalls` (drives `isMaxCall`; 1–100, the core's rule).
    pub max_calls: u32,
    /// `recordPermissions` 0/1/2.
    pub record_permissions: u8,
    /// `videoPlan`: 'enabled' or 'disabled'.
    pub video_plan: String,
    /// `deviceIds` as given.
    pub device_ids: JsValue,
    /// `rejectCode` (486 or 603, the core's rule), sent by `reject()`.
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
    super::phone::field(obj, key)
}

fn present(v: &JsValue) -> bool {
    !v.is_undefined() && !v.is_null()
}

/// Reads the fields of a `PhoneConfig` in order and keeps the first error: once one is
/// kept, nothing more is read (what an early return would do, without the drop code of
/// an early return at every field).
struct Reader<'a> {
    cfg: &'a JsValue,
    error: Option<ConfigError>,
}

impl Reader<'_> {
    /// Keeps `field: message` unless an error is kept already.
    fn fail(&mut self, field: &'static str, message: &str) {
        if self.error.is_none() {
            self.error = Some(err(field, message));
        }
    }

    /// The field's value when it is present (and no error was kept).
    fn value(&self, field: &'static str) -> Option<JsValue> {
        if self.error.is_some() {
            return None;
        }
        Some(get(self.cfg, field)).filter(present)
    }

    fn string(&mut self, field: &'static str) -> Option<String> {
        let v = self.value(field)?;
        let s = v.as_string();
        if s.is_none() {
            self.fail(field, "must be a string");
        }
        s
    }

    fn bool(&mut self, field: &'static str) -> bool {
        let Some(v) = self.value(field) else {
            return false;
        };
        let b = v.as_bool();
        if b.is_none() {
            self.fail(field, "must be a boolean");
        }
        b.unwrap_or(false)
    }

    /// A whole number in `min..=max`.
    fn uint(&mut self, field: &'static str, min: u32, max: u32) -> Option<u32> {
        let v = self.value(field)?;
        match v.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= f64::from(min) && n <= f64::from(max) => {
                Some(n as u32)
            }
            _ => {
                self.fail(
                    field,
                    &crate::sip::fill("must be a whole number from {} to {}", &[&min, &max]),
                );
                None
            }
        }
    }

    /// One of `allowed` (the first when absent); its index.
    fn choice(&mut self, field: &'static str, allowed: &[&str], message: &str) -> usize {
        let Some(s) = self.string(field) else {
            return 0;
        };
        allowed.iter().position(|a| *a == s).unwrap_or_else(|| {
            self.fail(field, message);
            0
        })
    }

    fn strings(&mut self, field: &'static str) -> Option<Vec<String>> {
        let v = self.value(field)?;
        string_array(&v, field)
            .map_err(|e| {
                if self.error.is_none() {
                    self.error = Some(e);
                }
            })
            .ok()
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
    const NAMES: [(&str, &str); 14] = [
        ("servers", "server"),
        ("allow_insecure", "allowInsecure"),
        ("authorization_user", "authorizationUser"),
        ("display_name", "displayName"),
        ("register_expires", "registerExpires"),
        ("re_register_times", "reRegistryPhoneTimes"),
        ("extra_headers", "extraHeaders"),
        ("user_agent", "userAgent"),
        ("keepalive_interval_secs", "keepAliveInterval"),
        ("instance_id", "instanceId"),
        ("max_calls", "maxCalls"),
        ("disable_call_waiting", "disableCallWaiting"),
        ("reject_code", "rejectCode"),
        ("no_answer_timeout_secs", "noAnswerTimeout"),
    ];
    NAMES
        .iter()
        .find(|(core, _)| *core == field)
        .map_or(field, |(_, js)| js)
}

/// Converts a `PhoneConfig` object.
pub fn from_js(cfg: &JsValue) -> Result<(UaConfig, ShellConfig), ConfigError> {
    if !cfg.is_object() {
        return Err(err("config", "must be an object"));
    }
    let mut r = Reader { cfg, error: None };
    let mut ua = UaConfig::default();
    let server = get(cfg, "server");
    ua.servers = if let Some(s) = server.as_string() {
        vec![s]
    } else if present(&server) {
        string_array(&server, "server")?
    } else {
        return Err(err("server", "is required"));
    };
    ua.allow_insecure = r.bool("allowInsecure");
    match r.string("uri") {
        Some(u) => ua.uri = u,
        None => r.fail("uri", "is required"),
    }
    ua.authorization_user = r.string("authorizationUser");
    ua.password = r.string("password");
    ua.ha1 = r.string("ha1");
    ua.realm = r.string("realm");
    ua.display_name = r.string("displayName");
    if let Some(n) = r.uint("registerExpires", 1, 0x7fff_ffff) {
        ua.register_expires = n;
    }
    if let Some(n) = r.uint("reRegistryPhoneTimes", 0, 1000) {
        ua.re_register_times = n;
    }
    if let Some(h) = r.strings("extraHeaders") {
        ua.extra_headers = h;
    }
    ua.user_agent = r.string("userAgent");
    if let Some(n) = r.uint("keepAliveInterval", 0, 3600) {
        ua.keepalive_interval_secs = n;
    }
    ua.heartbeat = r.bool("heartbeat");
    ua.instance_id = r.string("instanceId");

    const LEVELS: [LogLevel; 5] = [
        LogLevel::Warn,
        LogLevel::Off,
        LogLevel::Error,
        LogLevel::Info,
        LogLevel::Debug,
    ];
    let log = LEVELS[r.choice(
        "log",
        &["warn", "off", "error", "info", "debug"],
        "must be 'off', 'error', 'warn', 'info' or 'debug'",
    )];
    // maxCalls and rejectCode: whole numbers here, their ranges are the core's rules.
    if let Some(n) = r.uint("maxCalls", 0, u32::MAX) {
        ua.max_calls = n;
    }
    let record_permissions = r.uint("recordPermissions", 0, 2).unwrap_or(0) as u8;
    let dtmf_info = r.choice(
        "dtmfMode",
        &["rfc4733", "info"],
        "must be 'rfc4733' or 'info'",
    ) == 1;
    let mut record_codes = None;
    if let Some(rc) = r.value("recordControl") {
        if rc.as_string().as_deref() != Some("info") {
            let code = |k: &str| {
                get(&rc, k)
                    .as_string()
                    .filter(|c| crate::sip::ua::valid_dtmf(c))
            };
            match (rc.is_object(), code("start"), code("pause")) {
                (true, Some(start), Some(pause)) => record_codes = Some((start, pause)),
                _ => r.fail(
                    "recordControl",
                    "must be 'info' or { start, pause } with DTMF digits (0-9*#A-D)",
                ),
            }
        }
    }
    if let Some(c) = r.uint("rejectCode", 0, u32::from(u16::MAX)) {
        ua.reject_code = c as u16;
    }
    ua.disable_call_waiting = r.bool("disableCallWaiting");
    let ice_gathering_timeout = r
        .uint("iceGatheringTimeout", 0, 10_000)
        .unwrap_or(ICE_GATHERING_TIMEOUT_MS);
    let video_plan = ["enabled", "disabled"][r.choice(
        "videoPlan",
        &["enabled", "disabled"],
        "must be 'enabled' or 'disabled'",
    )]
    .to_owned();
    let device_ids = r.value("deviceIds");
    if device_ids.as_ref().is_some_and(|d| !d.is_object()) {
        r.fail(
            "deviceIds",
            "must be an object { cameraId?, microphoneId? }",
        );
    }
    let ice = r.value("iceServers");
    if ice.as_ref().is_some_and(|i| !Array::is_array(i)) {
        r.fail("iceServers", "must be an array of RTCIceServer");
    }
    if let Some(e) = r.error {
        return Err(e);
    }
    // Kept as given: the constructor refuses the config unless the core accepts them.
    let (max_calls, reject_code) = (ua.max_calls, ua.reject_code);
    Ok((
        ua,
        ShellConfig {
            log,
            max_calls,
            record_permissions,
            video_plan,
            device_ids: device_ids.unwrap_or_else(|| js_sys::Object::new().into()),
            reject_code,
            ice_servers: ice.unwrap_or(JsValue::UNDEFINED),
            ice_gathering_timeout,
            dtmf_info,
            record_codes,
        },
    ))
}

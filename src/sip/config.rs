//! User agent configuration: plain data in, validated data out.
//!
//! All string validation lives here, so the shell only converts JS values to a
//! [`UaConfig`] and reports a [`ConfigError`] (which names the field) to the app.
//! [`UaConfig::validate`] is pure: no clock, no randomness.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::sip::auth::Credentials;
use crate::sip::message::display_by_print;
use crate::sip::message::{scan, valid_value, HeaderName, SipUri, Uri};
use crate::sip::ua::LogLevel;
use crate::sip::{fill, Print};
use std::fmt;
use std::time::Duration;

/// Shortest registration interval accepted. RFC 3261 §10.2.8 lets a registrar refuse
/// short ones with 423; common registrars use 60 s as their minimum.
pub const MIN_REGISTER_EXPIRES: u32 = 60;
/// Longest registration interval: `delta-seconds` fits 2**31-1 (RFC 3261 §10.2.1.1).
pub const MAX_REGISTER_EXPIRES: u32 = i32::MAX as u32;
/// Most registration retries accepted (a bound, not an RFC value).
pub const MAX_RE_REGISTER_TIMES: u32 = 1000;
/// Keep-alive intervals allowed when not 0 (RFC 5626 §4.4.1 recommends 95–120 s for
/// connection-oriented flows; browsers and NATs often need shorter ones).
pub const KEEPALIVE_RANGE_SECS: std::ops::RangeInclusive<u32> = 10..=3600;
/// Bounds on lists and strings, so hostile or mistaken input stays small.
const MAX_SERVERS: usize = 16;
const MAX_EXTRA_HEADERS: usize = 32;
const MAX_STRING: usize = 1024;

/// Headers the user agent writes itself; extra headers may not set them.
const MANAGED_HEADERS: [HeaderName; 12] = [
    HeaderName::Via,
    HeaderName::From,
    HeaderName::To,
    HeaderName::CallId,
    HeaderName::CSeq,
    HeaderName::Contact,
    HeaderName::MaxForwards,
    HeaderName::ContentLength,
    HeaderName::Expires,
    HeaderName::Authorization,
    HeaderName::ProxyAuthorization,
    HeaderName::Route,
];

/// What the app configures (the `PhoneConfig` of the JS API, in Rust types).
#[derive(Clone, PartialEq, Eq)]
pub struct UaConfig {
    /// WebSocket URLs (`wss://`, or `ws://` for loopback), tried in order (RFC 7118).
    pub servers: Vec<String>,
    /// Allow `ws://` to non-loopback hosts.
    pub allow_insecure: bool,
    /// The address of record, `sip:user@domain`.
    pub uri: String,
    /// Digest user name; defaults to the user part of `uri`.
    pub authorization_user: Option<String>,
    /// Digest password.
    pub password: Option<String>,
    /// Precomputed digest HA1 (32 hex digits for MD5, 64 for SHA-256).
    pub ha1: Option<String>,
    /// The realm `ha1` was computed for; any realm when absent.
    pub realm: Option<String>,
    /// Display name in From.
    pub display_name: Option<String>,
    /// Registration interval asked for, in seconds (default 600).
    pub register_expires: u32,
    /// Failed registrations retried before giving up with -204 (default 5).
    pub re_register_times: u32,
    /// `Name: value` headers added to every request.
    pub extra_headers: Vec<String>,
    /// User-Agent header; a default naming this SDK when absent.
    pub user_agent: Option<String>,
    /// CRLF keep-alive interval in seconds (RFC 5626 §4.4.1); 0 turns keep-alives off.
    pub keepalive_interval_secs: u32,
    /// Also send a plain-text `heartbeat` frame every 30 s (some PBXs want one).
    pub heartbeat: bool,
    /// `urn:uuid:...` instance ID (RFC 5626 §4.1); generated when absent. Persist it
    /// (e.g. in localStorage) so the registrar sees the same instance after a reload.
    pub instance_id: Option<String>,
    /// Calls allowed at once (default 2): a further inbound INVITE gets 486 Busy Here
    /// and `Ua::call` fails with `MaxCalls`.
    pub max_calls: u32,
    /// While any call exists, answer new inbound INVITEs with 486 Busy Here.
    pub disable_call_waiting: bool,
    /// The status `Ua::reject` and `Ua::hangup` of a ringing inbound call send: 486
    /// (Busy Here, the default) or 603 (Decline).
    pub reject_code: u16,
    /// Seconds an inbound call may ring before it is refused with 480, and an
    /// outbound call may go unanswered before it is cancelled (default 60).
    pub no_answer_timeout_secs: u32,
    /// The session interval asked for in our INVITEs (RFC 4028 §7.1), default 1800;
    /// 0 asks for none (session timers the peer asks for are still honoured).
    pub session_expires_secs: u32,
}

impl Default for UaConfig {
    fn default() -> Self {
        UaConfig {
            servers: Vec::new(),
            allow_insecure: false,
            uri: String::new(),
            authorization_user: None,
            password: None,
            ha1: None,
            realm: None,
            display_name: None,
            register_expires: 600,
            re_register_times: 5,
            extra_headers: Vec::new(),
            user_agent: None,
            keepalive_interval_secs: 30,
            heartbeat: false,
            instance_id: None,
            max_calls: 2,
            disable_call_waiting: false,
            reject_code: 486,
            no_answer_timeout_secs: 60,
            session_expires_secs: 1800,
        }
    }
}

impl fmt::Debug for UaConfig {
    /// Never shows the password or HA1.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("UaConfig")
            .field("servers", &self.servers)
            .field("allow_insecure", &self.allow_insecure)
            .field("uri", &self.uri)
            .field("authorization_user", &self.authorization_user)
            .field("password", &redact(&self.password))
            .field("ha1", &redact(&self.ha1))
            .field("realm", &self.realm)
            .field("display_name", &self.display_name)
            .field("register_expires", &self.register_expires)
            .field("re_register_times", &self.re_register_times)
            .field("extra_headers", &self.extra_headers)
            .field("user_agent", &self.user_agent)
            .field("keepalive_interval_secs", &self.keepalive_interval_secs)
            .field("heartbeat", &self.heartbeat)
            .field("instance_id", &self.instance_id)
            .field("max_calls", &self.max_calls)
            .field("disable_call_waiting", &self.disable_call_waiting)
            .field("reject_code", &self.reject_code)
            .field("no_answer_timeout_secs", &self.no_answer_timeout_secs)
            .field("session_expires_secs", &self.session_expires_secs)
            .finish()
    }
}

/// A configuration value that cannot be used. `Display`: `<field>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The [`UaConfig`] field (or method argument) at fault.
    pub field: &'static str,
    /// What is wrong, for a human.
    pub message: String,
}

impl ConfigError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        ConfigError {
            field,
            message: message.into(),
        }
    }
}

impl Print for ConfigError {
    fn print(&self, out: &mut String) {
        out.push_str(self.field);
        out.push_str(": ");
        out.push_str(&self.message);
    }
}

display_by_print!(ConfigError);

impl std::error::Error for ConfigError {}

/// One WebSocket server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// The URL as given (trimmed), passed to `new WebSocket(url, "sip")`.
    pub url: String,
    /// `wss://`: the Via transport is `WSS`, else `WS` (RFC 7118 §5.2).
    pub secure: bool,
}

/// A configuration that passed [`UaConfig::validate`]. Opaque: build it only that way.
#[derive(Clone)]
pub struct ValidConfig {
    pub(crate) servers: Vec<ServerUrl>,
    pub(crate) aor: SipUri,
    pub(crate) registrar: Uri,
    pub(crate) credentials: Credentials,
    pub(crate) realm: Option<String>,
    pub(crate) display_name: Option<String>,
    pub(crate) register_expires: u32,
    pub(crate) re_register_times: u32,
    pub(crate) extra_headers: Vec<(HeaderName, String)>,
    pub(crate) user_agent: String,
    pub(crate) keepalive_interval: Option<Duration>,
    pub(crate) heartbeat: bool,
    pub(crate) instance_id: Option<String>,
    pub(crate) calls: CallPolicy,
    /// The least severe [`UaEvent::Log`](crate::sip::ua::UaEvent::Log) level
    /// emitted; `None`: none. Set by [`Ua::set_log_level`](crate::sip::ua::Ua::set_log_level).
    pub(crate) log_min: Option<LogLevel>,
}

/// The validated call settings (see the `UaConfig` fields of the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallPolicy {
    /// Calls allowed at once, at least 1.
    pub max_calls: usize,
    /// Refuse inbound INVITEs with 486 while any call exists.
    pub disable_call_waiting: bool,
    /// 486 or 603.
    pub reject_code: u16,
    /// How long an unanswered call may ring.
    pub no_answer_timeout: Duration,
    /// The session interval we ask for, in seconds (RFC 4028 §7.1); `None`: ask for
    /// none.
    pub session_expires: Option<u32>,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            max_calls: 2,
            disable_call_waiting: false,
            reject_code: 486,
            no_answer_timeout: Duration::from_secs(60),
            session_expires: Some(1800),
        }
    }
}

/// The smallest session interval (RFC 4028 §4: at least 90 s), also our Min-SE.
pub const MIN_SESSION_EXPIRES: u32 = 90;
/// The longest session interval accepted in the configuration (one day).
pub const MAX_SESSION_EXPIRES: u32 = 86_400;
/// Most calls allowed at once.
pub const MAX_CALLS: u32 = 100;
/// Longest no-answer timeout, in seconds.
pub const MAX_NO_ANSWER_SECS: u32 = 3600;

impl fmt::Debug for ValidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidConfig")
            .field("servers", &self.servers)
            .field("aor", &self.aor.to_text())
            .field("credentials", &self.credentials)
            .field("register_expires", &self.register_expires)
            .finish_non_exhaustive()
    }
}

impl ValidConfig {
    /// The servers, in failover order.
    pub fn servers(&self) -> &[ServerUrl] {
        &self.servers
    }

    /// The address of record.
    pub fn aor(&self) -> &SipUri {
        &self.aor
    }

    /// The registrar's Request-URI: `sip:<domain of the AOR>` (RFC 3261 §10.2).
    pub fn registrar(&self) -> &Uri {
        &self.registrar
    }

    /// The User-Agent header value.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// The call settings.
    pub fn calls(&self) -> &CallPolicy {
        &self.calls
    }
}

/// The User-Agent sent when the app sets none.
pub const DEFAULT_USER_AGENT: &str = concat!("sipwasm/", env!("CARGO_PKG_VERSION"));

impl UaConfig {
    /// Checks every field and returns the configuration the [`Ua`](crate::sip::ua::Ua)
    /// runs on. The first problem found is returned, naming its field.
    pub fn validate(&self) -> Result<ValidConfig, ConfigError> {
        let servers = validate_servers(&self.servers, self.allow_insecure)?;
        let aor = validate_aor(&self.uri)?;
        let mut registrar = SipUri::new(None, aor.host());
        registrar.secure = aor.secure;
        registrar.port = aor.port;
        let default_user = aor.user_unescaped().unwrap_or_default();
        let username = match non_empty(&self.authorization_user) {
            Some(u) => {
                check_text("authorization_user", u, 256)?;
                u.to_owned()
            }
            None => default_user,
        };
        let realm = match non_empty(&self.realm) {
            Some(r) => {
                check_text("realm", r, 256)?;
                Some(r.to_owned())
            }
            None => None,
        };
        let credentials = match (non_empty(&self.password), non_empty(&self.ha1)) {
            (Some(p), _) => {
                if p.len() > MAX_STRING || p.contains(['\r', '\n', '\0']) {
                    return Err(ConfigError::new(
                        "password",
                        "must be at most 1024 bytes without CR, LF or NUL",
                    ));
                }
                Credentials::Password {
                    username,
                    password: p.to_owned(),
                }
            }
            (None, Some(h)) => Credentials::Ha1 {
                username,
                realm: realm.clone(),
                ha1: validate_ha1(h)?,
            },
            (None, None) => {
                return Err(ConfigError::new(
                    "password",
                    "a password (or an ha1) is required",
                ))
            }
        };
        let display_name = match non_empty(&self.display_name) {
            Some(d) => {
                check_text("display_name", d, 256)?;
                Some(d.to_owned())
            }
            None => None,
        };
        if self.register_expires < MIN_REGISTER_EXPIRES
            || self.register_expires > MAX_REGISTER_EXPIRES
        {
            return Err(ConfigError::new(
                "register_expires",
                fill(
                    "must be between {} and {} seconds (got {})",
                    &[
                        &MIN_REGISTER_EXPIRES,
                        &MAX_REGISTER_EXPIRES,
                        &self.register_expires,
                    ],
                ),
            ));
        }
        if self.re_register_times > MAX_RE_REGISTER_TIMES {
            return Err(ConfigError::new(
                "re_register_times",
                fill(
                    "must be at most {} (got {})",
                    &[&MAX_RE_REGISTER_TIMES, &self.re_register_times],
                ),
            ));
        }
        let extra_headers = validate_extra_headers(&self.extra_headers)?;
        let user_agent = match non_empty(&self.user_agent) {
            Some(ua) => {
                check_text("user_agent", ua, 256)?;
                ua.to_owned()
            }
            None => DEFAULT_USER_AGENT.to_owned(),
        };
        let keepalive_interval = match self.keepalive_interval_secs {
            0 => None,
            s if KEEPALIVE_RANGE_SECS.contains(&s) => Some(Duration::from_secs(u64::from(s))),
            s => {
                return Err(ConfigError::new(
                    "keepalive_interval_secs",
                    fill(
                        "must be 0 (off) or between {} and {} seconds (got {})",
                        &[KEEPALIVE_RANGE_SECS.start(), KEEPALIVE_RANGE_SECS.end(), &s],
                    ),
                ))
            }
        };
        let instance_id = match non_empty(&self.instance_id) {
            Some(i) => Some(validate_instance_id(i)?),
            None => None,
        };
        let calls = self.validate_calls()?;
        Ok(ValidConfig {
            servers,
            aor,
            registrar: Uri::Sip(registrar),
            credentials,
            realm,
            display_name,
            register_expires: self.register_expires,
            re_register_times: self.re_register_times,
            extra_headers,
            user_agent,
            keepalive_interval,
            heartbeat: self.heartbeat,
            instance_id,
            calls,
            log_min: Some(LogLevel::Debug),
        })
    }

    fn validate_calls(&self) -> Result<CallPolicy, ConfigError> {
        if !(1..=MAX_CALLS).contains(&self.max_calls) {
            return Err(ConfigError::new(
                "max_calls",
                fill(
                    "must be between 1 and {} (got {})",
                    &[&MAX_CALLS, &self.max_calls],
                ),
            ));
        }
        if !matches!(self.reject_code, 486 | 603) {
            return Err(ConfigError::new(
                "reject_code",
                fill("must be 486 or 603 (got {})", &[&self.reject_code]),
            ));
        }
        if !(1..=MAX_NO_ANSWER_SECS).contains(&self.no_answer_timeout_secs) {
            return Err(ConfigError::new(
                "no_answer_timeout_secs",
                fill(
                    "must be between 1 and {} seconds (got {})",
                    &[&MAX_NO_ANSWER_SECS, &self.no_answer_timeout_secs],
                ),
            ));
        }
        let session_expires = match self.session_expires_secs {
            0 => None,
            s if (MIN_SESSION_EXPIRES..=MAX_SESSION_EXPIRES).contains(&s) => Some(s),
            s => {
                return Err(ConfigError::new(
                    "session_expires_secs",
                    fill(
                        "must be 0 (none) or between {} and {} seconds (got {})",
                        &[&MIN_SESSION_EXPIRES, &MAX_SESSION_EXPIRES, &s],
                    ),
                ))
            }
        };
        Ok(CallPolicy {
            max_calls: self.max_calls as usize,
            disable_call_waiting: self.disable_call_waiting,
            reject_code: self.reject_code,
            no_answer_timeout: Duration::from_secs(u64::from(self.no_answer_timeout_secs)),
            session_expires,
        })
    }
}

/// The value without surrounding spaces and tabs, `None` when absent or blank (JS
/// often passes `""` for "unset"). Other whitespace (CR, LF) is kept, to be refused.
fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(trim_blank).filter(|s| !s.is_empty())
}

fn trim_blank(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Free text that goes into a header: bounded, no control characters at all.
fn check_text(field: &'static str, v: &str, max: usize) -> Result<(), ConfigError> {
    if v.len() > max {
        return Err(ConfigError::new(
            field,
            fill("must be at most {} bytes", &[&max]),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(ConfigError::new(
            field,
            "must not contain control characters (CR, LF, NUL, ...)",
        ));
    }
    Ok(())
}

/// Digest credentials given later through `Ua::re_register`.
pub(crate) fn validate_reregister(
    authorization_user: &str,
    ha1: &str,
    realm: Option<&str>,
) -> Result<Credentials, ConfigError> {
    let user = trim_blank(authorization_user);
    if user.is_empty() {
        return Err(ConfigError::new("authorization_user", "must not be empty"));
    }
    check_text("authorization_user", user, 256)?;
    Ok(Credentials::Ha1 {
        username: user.to_owned(),
        realm: realm.map(str::to_owned),
        ha1: validate_ha1(trim_blank(ha1))?,
    })
}

fn validate_ha1(h: &str) -> Result<String, ConfigError> {
    if !matches!(h.len(), 32 | 64) || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ConfigError::new(
            "ha1",
            "must be 32 (MD5) or 64 (SHA-256) hexadecimal digits",
        ));
    }
    Ok(h.to_ascii_lowercase())
}

fn validate_aor(uri: &str) -> Result<SipUri, ConfigError> {
    let u = trim_blank(uri);
    if u.is_empty() {
        return Err(ConfigError::new("uri", "is required (sip:user@domain)"));
    }
    if u.len() > MAX_STRING {
        return Err(ConfigError::new("uri", "must be at most 1024 bytes"));
    }
    let parsed = Uri::parse(u)
        .map_err(|e| ConfigError::new("uri", fill("not a SIP URI: {}", &[&e.reason])))?;
    let Uri::Sip(sip) = parsed else {
        return Err(ConfigError::new(
            "uri",
            "must be a sip: or sips: URI (sip:user@domain)",
        ));
    };
    if sip.user().is_none() {
        return Err(ConfigError::new(
            "uri",
            "must have a user part (sip:user@domain)",
        ));
    }
    if sip.password().is_some() || !sip.headers().is_empty() {
        return Err(ConfigError::new(
            "uri",
            "must not carry a password or URI headers",
        ));
    }
    Ok(sip)
}

fn validate_servers(
    servers: &[String],
    allow_insecure: bool,
) -> Result<Vec<ServerUrl>, ConfigError> {
    if servers.is_empty() {
        return Err(ConfigError::new(
            "servers",
            "at least one WebSocket URL (wss://...) is required",
        ));
    }
    if servers.len() > MAX_SERVERS {
        return Err(ConfigError::new(
            "servers",
            fill("at most {} servers", &[&MAX_SERVERS]),
        ));
    }
    let mut out = Vec::with_capacity(servers.len());
    for s in servers {
        out.push(validate_server(s, allow_insecure)?);
    }
    Ok(out)
}

/// `ws://` or `wss://`, a host, an optional port, a path; no userinfo, no fragment
/// (the WebSocket constructor rejects fragments), no whitespace or controls.
fn validate_server(raw: &str, allow_insecure: bool) -> Result<ServerUrl, ConfigError> {
    let url = trim_blank(raw);
    // `"url": what is wrong`
    let err = |m: &str| ConfigError::new("servers", fill("{}: {}", &[&super::Quoted(url), &m]));
    if url.len() > MAX_STRING || !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(err(
            "must be printable ASCII without spaces, at most 1024 bytes",
        ));
    }
    let (secure, rest) = match super::split_once_str(url, "://") {
        Some((s, r)) if s.eq_ignore_ascii_case("wss") => (true, r),
        Some((s, r)) if s.eq_ignore_ascii_case("ws") => (false, r),
        _ => return Err(err("must start with wss:// or ws://")),
    };
    if url.contains('#') {
        return Err(err("must not have a #fragment"));
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end).unwrap_or("");
    if authority.contains('@') {
        return Err(err("must not contain user info"));
    }
    let (host, port) = split_host_port(authority).ok_or_else(|| err("invalid host or port"))?;
    if port == Some(0) {
        return Err(err("invalid port"));
    }
    if !secure && !allow_insecure && !is_loopback(host) {
        return Err(err(
            "ws:// is only allowed to loopback hosts; use wss:// (or set allow_insecure)",
        ));
    }
    Ok(ServerUrl {
        url: url.to_owned(),
        secure,
    })
}

/// Splits `host[:port]` / `[v6][:port]`; `None` when malformed.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']')?;
        let inner = v6.get(..close)?;
        parse_ipv6(inner)?;
        let after = v6.get(close + 1..)?;
        (authority.get(..close + 2)?, after)
    } else {
        match authority.split_once(':') {
            Some((h, _)) => (h, authority.get(h.len()..).unwrap_or("")),
            None => (authority, ""),
        }
    };
    let port = match port {
        "" => None,
        p => {
            let digits = p.strip_prefix(':')?;
            Some(scan::parse_decimal(digits, 65535)? as u16)
        }
    };
    let name = host.strip_prefix('[').unwrap_or(host);
    let valid = !host.is_empty()
        && (host.starts_with('[')
            || name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')));
    valid.then_some((host, port))
}

/// 127.0.0.0/8, ::1 or `localhost` (WHATWG treats `*.localhost` as loopback too).
fn is_loopback(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    if h == "localhost" || h.ends_with(".localhost") {
        return true;
    }
    if let Some(v6) = h.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        return parse_ipv6(v6) == Some([0, 0, 0, 0, 0, 0, 0, 1]);
    }
    parse_ipv4(&h).is_some_and(|[a, ..]| a == 127)
}

/// A dotted-quad IPv4 address as `std::net::Ipv4Addr` reads it: four decimal octets
/// of 1-3 digits, without a leading zero, each at most 255.
fn parse_ipv4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = s.split('.');
    for slot in &mut out {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p.starts_with('0')) {
            return None;
        }
        let mut v = 0u16;
        for b in p.bytes() {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u16::from(b - b'0');
        }
        *slot = u8::try_from(v).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// The eight groups of an IPv6 address in text form (RFC 4291 §2.2) as
/// `std::net::Ipv6Addr` reads it: groups of 1-4 hex digits, at most one `::` standing
/// for one or more zero groups, and a dotted IPv4 address as the last two groups
/// (not before a `::`).
fn parse_ipv6(s: &str) -> Option<[u16; 8]> {
    let mut groups = [0u16; 8];
    let Some((head, tail)) = super::split_once_str(s, "::") else {
        return (ipv6_groups(s, &mut groups, true)? == 8).then_some(groups);
    };
    let h = ipv6_groups(head, groups.get_mut(..7)?, false)?;
    let mut t = [0u16; 7];
    let n = ipv6_groups(tail, t.get_mut(..7 - h)?, true)?;
    groups.get_mut(8 - n..)?.copy_from_slice(t.get(..n)?);
    Some(groups)
}

/// Reads `:`-separated groups of `text` (none when empty) into `slots`, an IPv4 tail
/// if `v4`; how many slots were filled, `None` when malformed or too many.
fn ipv6_groups(text: &str, slots: &mut [u16], v4: bool) -> Option<usize> {
    if text.is_empty() {
        return Some(0);
    }
    let mut n = 0;
    let mut parts = text.split(':').peekable();
    while let Some(p) = parts.next() {
        if p.contains('.') {
            let [a, b, c, d] = parse_ipv4(p)?;
            if !v4 || parts.peek().is_some() {
                return None;
            }
            let pair = slots.get_mut(n..n + 2)?;
            pair.copy_from_slice(&[u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])]);
            return Some(n + 2);
        }
        if p.is_empty() || p.len() > 4 {
            return None;
        }
        let mut v = 0u16;
        for c in p.chars() {
            v = v << 4 | c.to_digit(16)? as u16;
        }
        *slots.get_mut(n)? = v;
        n += 1;
    }
    Some(n)
}

pub(crate) fn validate_extra_headers(
    headers: &[String],
) -> Result<Vec<(HeaderName, String)>, ConfigError> {
    if headers.len() > MAX_EXTRA_HEADERS {
        return Err(ConfigError::new(
            "extra_headers",
            fill("at most {} headers", &[&MAX_EXTRA_HEADERS]),
        ));
    }
    let mut out = Vec::with_capacity(headers.len());
    for h in headers {
        out.push(parse_extra_header(h)?);
    }
    Ok(out)
}

/// Parses one `Name: value` extra header (RFC 3261 §7.3.1): a token name that the UA
/// does not manage, a value without CR, LF or NUL so it cannot inject headers.
pub fn parse_extra_header(h: &str) -> Result<(HeaderName, String), ConfigError> {
    if h.len() > MAX_STRING {
        return Err(ConfigError::new(
            "extra_headers",
            "each header must be at most 1024 bytes",
        ));
    }
    // `"header": what is wrong`
    let err = |m: &str| ConfigError::new("extra_headers", fill("{}: {}", &[&super::Quoted(h), &m]));
    if !valid_value(h) {
        return Err(err("must not contain CR, LF or NUL"));
    }
    let Some((name, value)) = h.split_once(':') else {
        return Err(err("expected \"Name: value\""));
    };
    let name = name.trim();
    let value = value.trim();
    if !scan::is_token_str(name) {
        return Err(err("the header name must be a token"));
    }
    let header = HeaderName::from_wire(name);
    if MANAGED_HEADERS.iter().any(|m| m.matches(&header)) {
        return Err(err(&fill("{} is set by the user agent itself", &[&header])));
    }
    if value.chars().any(char::is_control) {
        return Err(err("control characters in the value"));
    }
    Ok((header, value.to_owned()))
}

fn validate_instance_id(i: &str) -> Result<String, ConfigError> {
    let ok = i.len() == 45
        && i.get(..9)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:uuid:"))
        && i.get(9..).is_some_and(|u| {
            u.bytes().enumerate().all(|(k, b)| match k {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
        });
    if !ok {
        return Err(ConfigError::new(
            "instance_id",
            "must be urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (RFC 5626 §4.1)",
        ));
    }
    Ok(i.to_ascii_lowercase())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn host_port_and_loopback() {
        assert_eq!(
            split_host_port("a.example:8089"),
            Some(("a.example", Some(8089)))
        );
        assert_eq!(split_host_port("[::1]:443"), Some(("[::1]", Some(443))));
        assert_eq!(split_host_port("[::1]"), Some(("[::1]", None)));
        assert_eq!(split_host_port("a b"), None);
        assert_eq!(split_host_port(":80"), None);
        assert_eq!(split_host_port("a:99999"), None);
        assert_eq!(split_host_port("[zz]"), None);
        assert!(is_loopback("127.3.4.5"));
        assert!(is_loopback("[::1]"));
        assert!(is_loopback("LocalHost"));
        assert!(!is_loopback("128.0.0.1"));
        assert!(!is_loopback("localhost.example.com"));
        assert!(is_loopback("[::0.0.0.1]"));
        assert!(!is_loopback("[::ffff:127.0.0.1]"));
        assert!(!is_loopback("127.0.0.01"));
    }

    /// The hand-written address readers agree with `std::net` (which they replace to
    /// keep its parser out of the wasm).
    #[test]
    fn ip_parsers_match_std() {
        use std::net::{Ipv4Addr, Ipv6Addr};
        let fixed = [
            "",
            ":",
            "::",
            ":::",
            "::1",
            "1::",
            "1::2",
            "1:::2",
            "::1:2:3:4:5:6:7",
            "::1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:",
            ":1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8::",
            "1:2:3:4:5:6:7",
            "FFFF::abcd",
            "fffff::",
            "::ffff:127.0.0.1",
            "::1.2.3.4",
            "1.2.3.4::",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:1.2.3.4",
            "1:2:3:4:5::1.2.3.4",
            "1:2:3:4:5:6::1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "::1.2.3.4:5",
            "::1.2.3",
            "::1.2.3.4.5",
            "::01.2.3.4",
            "::0.0.0.0",
            "::256.1.1.1",
            "1.2.3.4:1::",
            "+1::",
            "::+1",
            "0::0",
            "00000::",
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.1",
            "01.0.0.1",
            "1.2.3",
            "1.2.3.4.",
            ".1.2.3.4",
            "1..2.3",
            "127.0.0.1",
            "1234.0.0.1",
            "a.b.c.d",
            "+1.2.3.4",
            "1.2.3.-4",
            "127.000.0.1",
        ];
        let mut inputs: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
        // Random strings over the characters that matter.
        let alphabet = b"0123456789aAfFg:.:.:";
        // xorshift32
        let mut x: u32 = 12345;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as usize
        };
        for _ in 0..200_000 {
            let len = next() % 20;
            let mut s = String::new();
            for _ in 0..len {
                s.push(*alphabet.get(next() % alphabet.len()).unwrap() as char);
            }
            inputs.push(s);
        }
        // Random sequences of groups, addresses and separators.
        let tokens = [
            "0",
            "1",
            "ff",
            "FFFF",
            "12345",
            "0.0.0.1",
            "1.2.3.4",
            "01.2.3.4",
            "256.0.0.0",
            ":",
            ":",
            ":",
            "::",
            ".",
            "g",
        ];
        for _ in 0..200_000 {
            let len = next() % 16;
            let mut s = String::new();
            for _ in 0..len {
                s.push_str(tokens.get(next() % tokens.len()).unwrap());
            }
            inputs.push(s);
        }
        let valid = inputs
            .iter()
            .filter(|s| s.parse::<Ipv6Addr>().is_ok())
            .count();
        assert!(valid > 1000, "{valid}");
        for s in &inputs {
            assert_eq!(
                parse_ipv6(s),
                s.parse::<Ipv6Addr>().ok().map(|a| a.segments()),
                "{s:?}"
            );
            assert_eq!(
                parse_ipv4(s),
                s.parse::<Ipv4Addr>().ok().map(|a| a.octets()),
                "{s:?}"
            );
        }
    }
}

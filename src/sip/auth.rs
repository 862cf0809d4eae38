//! SIP Digest authentication, client (UAC) side, sans-IO.
//!
//! Implements HTTP Digest as SIP uses it: RFC 3261 §22, RFC 2617, RFC 7616
//! (SHA-256, `-sess`, quoting rules) and RFC 8760 (several algorithms per realm).
//! The module works on header *values*: the caller hands in the values of
//! `WWW-Authenticate` / `Proxy-Authenticate` and receives the values to put in
//! `Authorization` / `Proxy-Authorization`. No clock, no randomness, no I/O:
//! the client nonce (`cnonce`) is always supplied by the caller.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt;

use crate::sip::message::{display_by_print, scan};
use crate::sip::{push_fill, Print, Quoted};
use md5::{Digest, Md5};
use sha2::Sha256;

/// Longest challenge header value accepted, in bytes; longer values are
/// rejected with [`AuthError::TooLong`] (defensive bound, not from an RFC).
pub const MAX_HEADER_VALUE_LEN: usize = 8 * 1024;

/// Most distinct (kind, realm) pairs one [`Authenticator`] answers at once
/// (RFC 3261 §22.3 allows one per proxy/realm; this bounds a hostile response).
pub const MAX_REALMS: usize = 16;

// ---------------------------------------------------------------------------
// Algorithm and qop
// ---------------------------------------------------------------------------

/// Digest hash algorithm (RFC 7616 §3.3 `algorithm`, RFC 8760).
///
/// An absent `algorithm` parameter means [`Algorithm::Md5`] (RFC 2617 §3.2.1,
/// RFC 7616 §3.3). `SHA-512-256` is not supported and such challenges are
/// skipped (RFC 8760 §2.4: ignore challenges that are not understood).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5` (RFC 2617 §3.2.1).
    Md5,
    /// `MD5-sess` (RFC 2617 §3.2.2.2).
    Md5Sess,
    /// `SHA-256` (RFC 7616 §3.3 and §6.1; RFC 8760 adds it to SIP).
    Sha256,
    /// `SHA-256-sess` (RFC 7616 §3.4.2).
    Sha256Sess,
}

/// Hash function underlying an [`Algorithm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Md5,
    Sha256,
}

impl Algorithm {
    /// Parses an `algorithm` token case-insensitively (RFC 7616 §3.3);
    /// `None` for algorithms this module does not implement.
    pub fn parse(value: &str) -> Option<Self> {
        [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ]
        .into_iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(value))
    }

    /// Canonical token as registered in the IANA "HTTP Digest Algorithm
    /// Values" registry (RFC 7616 §6.1).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Whether this is a `-sess` variant, whose HA1 folds in nonce and cnonce
    /// (RFC 2617 §3.2.2.2, RFC 7616 §3.4.2).
    pub fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    fn family(self) -> Family {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => Family::Md5,
            Algorithm::Sha256 | Algorithm::Sha256Sess => Family::Sha256,
        }
    }

    /// Relative strength, used only by [`AlgorithmPolicy::Strongest`].
    fn strength(self) -> u8 {
        match self.family() {
            Family::Md5 => 1,
            Family::Sha256 => 2,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Quality of protection (RFC 2617 §3.2.1, RFC 7616 §3.3 `qop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qop {
    /// `auth`: authentication only.
    Auth,
    /// `auth-int`: authentication with integrity of the body (HA2 includes
    /// H(entity-body), RFC 2617 §3.2.2.3, RFC 7616 §3.4.3).
    AuthInt,
}

impl Qop {
    /// Parses a qop token case-insensitively; `None` for unknown values
    /// (e.g. `auth-conf`), which are ignored (RFC 2617 §3.2.1).
    pub fn parse(value: &str) -> Option<Self> {
        if value.eq_ignore_ascii_case("auth") {
            Some(Qop::Auth)
        } else if value.eq_ignore_ascii_case("auth-int") {
            Some(Qop::AuthInt)
        } else {
            None
        }
    }

    /// Token as sent, unquoted, in the credentials (RFC 7616 §3.4).
    pub fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

impl fmt::Display for Qop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Why a challenge could not be parsed or answered. Never a panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The header value holds no challenge (RFC 3261 §25.1 `challenge`).
    Empty,
    /// The header value exceeds [`MAX_HEADER_VALUE_LEN`].
    TooLong,
    /// Syntax error at byte offset `at` (RFC 3261 §25.1 `digest-cln` grammar).
    Syntax {
        /// Byte offset in the header value.
        at: usize,
        /// What the parser expected there.
        expected: &'static str,
    },
    /// A quoted-string has no closing `"` (RFC 3261 §25.1 `quoted-string`).
    UnterminatedQuote,
    /// A control character (CR, LF, NUL…) inside a value.
    ControlCharacter,
    /// [`Challenge::parse`] got several challenges; use [`parse_challenges`].
    MultipleChallenges,
    /// Scheme other than `Digest` (e.g. `Basic`, which RFC 3261 §22.1 deprecates).
    UnsupportedScheme(String),
    /// `algorithm` not implemented here, e.g. `SHA-512-256` (RFC 8760 §2.4).
    UnsupportedAlgorithm(String),
    /// A `qop` list was offered but contains neither `auth` nor `auth-int`
    /// (RFC 7616 §3.4: the client's qop must be one the server offered).
    UnsupportedQop,
    /// A Digest parameter appears twice (RFC 7235 §2.1: at most once each).
    DuplicateParam(String),
    /// No `realm` parameter (required, RFC 3261 §25.1 / RFC 7616 §3.3).
    MissingRealm,
    /// No `nonce` parameter (required, RFC 7616 §3.3).
    MissingNonce,
    /// A `-sess` algorithm without `qop`: there is no cnonce to build the
    /// session key from (RFC 2617 §3.2.2.2 requires cnonce, §3.2.2 only with qop).
    SessionWithoutQop,
    /// The precomputed HA1 was made for another realm (HA1 = H(user:realm:pass)).
    RealmMismatch {
        /// Realm the HA1 was computed for.
        expected: String,
        /// Realm the challenge asked for.
        got: String,
    },
    /// The precomputed HA1 is not 32 or 64 hex digits.
    InvalidHa1,
    /// The HA1 was computed with another hash than the challenge's algorithm
    /// (RFC 7616 §3.4.2: HA1 is H(…) with the challenge's hash).
    Ha1AlgorithmMismatch(Algorithm),
    /// A caller-supplied input (username, uri, cnonce, method, nc) is unusable.
    InvalidInput(&'static str),
    /// More than [`MAX_REALMS`] realms challenged at once.
    TooManyRealms,
}

impl Print for AuthError {
    fn print(&self, out: &mut String) {
        match self {
            AuthError::Empty => out.push_str("empty authentication header"),
            AuthError::TooLong => push_fill(
                out,
                "header value longer than {} bytes",
                &[&MAX_HEADER_VALUE_LEN],
            ),
            AuthError::Syntax { at, expected } => {
                push_fill(out, "syntax error at byte {}: expected {}", &[at, expected])
            }
            AuthError::UnterminatedQuote => out.push_str("unterminated quoted-string"),
            AuthError::ControlCharacter => out.push_str("control character in value"),
            AuthError::MultipleChallenges => out.push_str("more than one challenge in value"),
            AuthError::UnsupportedScheme(s) => {
                push_fill(out, "unsupported auth scheme {}", &[&Quoted(s)])
            }
            AuthError::UnsupportedAlgorithm(a) => {
                push_fill(out, "unsupported digest algorithm {}", &[&Quoted(a)])
            }
            AuthError::UnsupportedQop => out.push_str("no supported qop offered"),
            AuthError::DuplicateParam(p) => push_fill(out, "duplicate parameter {}", &[&Quoted(p)]),
            AuthError::MissingRealm => out.push_str("missing realm"),
            AuthError::MissingNonce => out.push_str("missing nonce"),
            AuthError::SessionWithoutQop => out.push_str("-sess algorithm without qop"),
            AuthError::RealmMismatch { expected, got } => push_fill(
                out,
                "HA1 is for realm {}, challenge is for {}",
                &[&Quoted(expected), &Quoted(got)],
            ),
            AuthError::InvalidHa1 => out.push_str("HA1 must be 32 or 64 hex digits"),
            AuthError::Ha1AlgorithmMismatch(a) => push_fill(
                out,
                "HA1 was not computed with the hash of {}",
                &[&a.as_str()],
            ),
            AuthError::InvalidInput(what) => push_fill(out, "invalid {}", &[what]),
            AuthError::TooManyRealms => {
                push_fill(out, "more than {} realms challenged", &[&MAX_REALMS])
            }
        }
    }
}

impl std::error::Error for AuthError {}

// ---------------------------------------------------------------------------
// Challenge parsing
// ---------------------------------------------------------------------------

/// One Digest challenge from a `WWW-Authenticate` or `Proxy-Authenticate`
/// value (RFC 3261 §22.4 / §25.1, RFC 7616 §3.3). Values are unquoted and
/// unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `realm`, compared case-sensitively (RFC 7616 §3.3).
    pub realm: String,
    /// Server nonce.
    pub nonce: String,
    /// `opaque`, echoed back unchanged (RFC 7616 §3.4).
    pub opaque: Option<String>,
    /// Hash algorithm; MD5 when absent (RFC 7616 §3.3).
    pub algorithm: Algorithm,
    /// Offered qop values: `None` when the parameter is absent (RFC 2069
    /// compatible mode, RFC 2617 §3.2.2.1), `Some(list)` of the known values
    /// otherwise (possibly empty if only unknown values were offered).
    pub qop: Option<Vec<Qop>>,
    /// `stale=true` (case-insensitive): the nonce expired but the credentials
    /// were fine (RFC 7616 §3.3, RFC 2617 §3.2.1).
    pub stale: bool,
    /// `domain`: space-separated URIs of the protection space (RFC 7616 §3.3).
    pub domain: Vec<String>,
}

impl Challenge {
    /// Parses one header value holding exactly one challenge. The scheme is
    /// matched case-insensitively (RFC 3261 §25.1); LWS around `=` and `,`,
    /// quoted-strings with `\` escapes and token values are accepted; unknown
    /// auth-params are ignored (RFC 2617 §3.2.1).
    pub fn parse(value: &str) -> Result<Challenge, AuthError> {
        if value.len() > MAX_HEADER_VALUE_LEN {
            return Err(AuthError::TooLong);
        }
        let mut cur = Cursor::new(value);
        let raw = match cur.next_raw() {
            None => return Err(AuthError::Empty),
            Some(raw) => raw?,
        };
        let challenge = Challenge::from_raw(&raw)?;
        cur.skip_separators();
        if !cur.at_end() {
            return Err(AuthError::MultipleChallenges);
        }
        Ok(challenge)
    }

    fn from_raw(raw: &RawChallenge<'_>) -> Result<Challenge, AuthError> {
        if !raw.is_digest() {
            return Err(AuthError::UnsupportedScheme(raw.scheme.to_string()));
        }
        if let Some(at) = raw.token68_at {
            return Err(AuthError::Syntax {
                at,
                expected: "digest parameters",
            });
        }
        for name in [
            "realm",
            "nonce",
            "opaque",
            "algorithm",
            "qop",
            "stale",
            "domain",
        ] {
            if raw.count(name) > 1 {
                return Err(AuthError::DuplicateParam(name.to_string()));
            }
        }
        let realm = raw.get("realm").ok_or(AuthError::MissingRealm)?;
        let nonce = raw.get("nonce").ok_or(AuthError::MissingNonce)?;
        let algorithm = match raw.get("algorithm") {
            None => Algorithm::Md5,
            Some(a) => {
                Algorithm::parse(a).ok_or_else(|| AuthError::UnsupportedAlgorithm(a.to_string()))?
            }
        };
        let qop = raw.get("qop").map(|list| {
            let mut out = Vec::new();
            for q in list.split(',').filter_map(|q| Qop::parse(q.trim())) {
                if !out.contains(&q) {
                    out.push(q);
                }
            }
            out
        });
        Ok(Challenge {
            realm: realm.to_string(),
            nonce: nonce.to_string(),
            opaque: raw.get("opaque").map(str::to_string),
            algorithm,
            qop,
            stale: raw
                .get("stale")
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
            domain: {
                let mut domain = Vec::new();
                for uri in raw.get("domain").unwrap_or("").split_whitespace() {
                    domain.push(uri.to_owned());
                }
                domain
            },
        })
    }
}

/// Splits a header value that may hold several challenges
/// (`Digest realm="a", nonce="x", Digest realm="b", …`, RFC 7235 §4.1 /
/// RFC 2617 §1.2: commas also separate parameters, and may appear inside
/// quoted-strings) and parses each. Non-Digest challenges yield
/// [`AuthError::UnsupportedScheme`]; a syntax error ends the list because the
/// rest of the value cannot be re-synchronised.
pub fn parse_challenges(value: &str) -> Vec<Result<Challenge, AuthError>> {
    if value.len() > MAX_HEADER_VALUE_LEN {
        return vec![Err(AuthError::TooLong)];
    }
    let mut cur = Cursor::new(value);
    let mut out = Vec::new();
    while let Some(raw) = cur.next_raw() {
        match raw {
            Ok(raw) => out.push(Challenge::from_raw(&raw)),
            Err(e) => {
                out.push(Err(e));
                break;
            }
        }
    }
    out
}

/// A challenge before Digest-specific interpretation.
struct RawChallenge<'a> {
    scheme: &'a str,
    params: Vec<(&'a str, String)>,
    /// Offset of a token68 blob (RFC 7235 §2.1), if the challenge used one.
    token68_at: Option<usize>,
}

impl RawChallenge<'_> {
    fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    /// First value of a parameter; names are case-insensitive (RFC 7235 §2.1).
    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn count(&self, name: &str) -> usize {
        self.params
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }
}

/// RFC 3261 §25.1 `token` characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// RFC 7235 §2.1 `token68` characters (without the trailing `=` padding).
fn is_token68_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

/// Bytes accepted in an unquoted parameter value. Broader than `token` so
/// that sloppy servers sending e.g. an unquoted base64 nonce still work.
fn is_bare_value_byte(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) && b != b',' && b != b'"'
}

fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Byte cursor over a header value. Only ever advances over ASCII bytes or
/// whole quoted-strings, so every `get(start..pos)` is on a char boundary.
struct Cursor<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(src: &'a str) -> Self {
        Cursor { src, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn byte_at(&self, pos: usize) -> Option<u8> {
        self.src.as_bytes().get(pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn skip_lws(&mut self) {
        while self.peek().is_some_and(is_lws) {
            self.pos += 1;
        }
    }

    /// Skips LWS and empty list elements (RFC 7230 §7 `#rule` leniency).
    fn skip_separators(&mut self) {
        while self.peek().is_some_and(|b| is_lws(b) || b == b',') {
            self.pos += 1;
        }
    }

    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    /// Reads a quoted-string at the cursor (which is on `"`), undoing
    /// `\` quoted-pairs (RFC 3261 §25.1). CR/LF and other controls except
    /// HTAB are refused so that values can never inject header lines.
    fn quoted_string(&mut self) -> Result<String, AuthError> {
        self.pos += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let b = self.peek().ok_or(AuthError::UnterminatedQuote)?;
            self.pos += 1;
            let b = match b {
                b'"' => break,
                b'\\' => {
                    let escaped = self.peek().ok_or(AuthError::UnterminatedQuote)?;
                    self.pos += 1;
                    escaped
                }
                other => other,
            };
            if b != b'\t' && (b < 0x20 || b == 0x7f) {
                return Err(AuthError::ControlCharacter);
            }
            out.push(b);
        }
        String::from_utf8(out).map_err(|_| AuthError::Syntax {
            at: self.pos,
            expected: "UTF-8 in quoted-string",
        })
    }

    /// If a token68 blob (RFC 7235 §2.1) followed by end or `,` starts at
    /// the cursor, returns where it ends.
    fn token68_end(&self) -> Option<usize> {
        let mut p = self.pos;
        while self.byte_at(p).is_some_and(is_token68_byte) {
            p += 1;
        }
        if p == self.pos {
            return None;
        }
        while self.byte_at(p) == Some(b'=') {
            p += 1;
        }
        let end = p;
        while self.byte_at(p).is_some_and(is_lws) {
            p += 1;
        }
        match self.byte_at(p) {
            None | Some(b',') => Some(end),
            Some(_) => None,
        }
    }

    /// Reads the next challenge: `auth-scheme [ 1*SP ( token68 /
    /// #auth-param ) ]` (RFC 7235 §2.1; RFC 3261 §25.1 for Digest). A bare
    /// token not followed by `=` starts the next challenge.
    fn next_raw(&mut self) -> Option<Result<RawChallenge<'a>, AuthError>> {
        self.skip_separators();
        if self.at_end() {
            return None;
        }
        let start = self.pos;
        let scheme = self.take_while(is_token_byte);
        if scheme.is_empty() {
            return Some(Err(AuthError::Syntax {
                at: start,
                expected: "auth-scheme",
            }));
        }
        let after_scheme = self.pos;
        self.skip_lws();
        let mut raw = RawChallenge {
            scheme,
            params: Vec::new(),
            token68_at: None,
        };
        match self.peek() {
            None | Some(b',') => return Some(Ok(raw)),
            Some(b'=') => {
                return Some(Err(AuthError::Syntax {
                    at: self.pos,
                    expected: "auth-scheme before parameters",
                }))
            }
            Some(_) if self.pos == after_scheme => {
                return Some(Err(AuthError::Syntax {
                    at: self.pos,
                    expected: "space after auth-scheme",
                }))
            }
            Some(_) => {}
        }
        if let Some(end) = self.token68_end() {
            raw.token68_at = Some(self.pos);
            self.pos = end;
            return Some(Ok(raw));
        }
        loop {
            self.skip_lws();
            let item = self.pos;
            match self.peek() {
                None => break,
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(_) => {}
            }
            let name = self.take_while(is_token_byte);
            if name.is_empty() {
                return Some(Err(AuthError::Syntax {
                    at: item,
                    expected: "auth-param name",
                }));
            }
            self.skip_lws();
            if self.peek() != Some(b'=') {
                // `name` is the scheme of the next challenge.
                self.pos = item;
                break;
            }
            self.pos += 1;
            self.skip_lws();
            let value = if self.peek() == Some(b'"') {
                match self.quoted_string() {
                    Ok(v) => v,
                    Err(e) => return Some(Err(e)),
                }
            } else {
                let at = self.pos;
                let v = self.take_while(is_bare_value_byte);
                if v.is_empty() {
                    return Some(Err(AuthError::Syntax {
                        at,
                        expected: "auth-param value",
                    }));
                }
                v.to_string()
            };
            raw.params.push((name, value));
            self.skip_lws();
            match self.peek() {
                None | Some(b',') => {}
                Some(_) => {
                    return Some(Err(AuthError::Syntax {
                        at: self.pos,
                        expected: "`,` between parameters",
                    }))
                }
            }
        }
        Some(Ok(raw))
    }
}

// ---------------------------------------------------------------------------
// Credentials and response computation
// ---------------------------------------------------------------------------

/// What the user logs in with. `Debug` never shows the password or HA1.
#[derive(Clone)]
pub enum Credentials {
    /// Username and cleartext password (RFC 7616 §3.4.2 `passwd`).
    Password {
        /// Username sent in the `username` parameter.
        username: String,
        /// Password; only ever hashed.
        password: String,
    },
    /// Precomputed HA1 = H(username ":" realm ":" password) in hex
    /// (RFC 2617 §3.2.2.2, RFC 7616 §3.4.2). 64 hex digits means SHA-256,
    /// anything else is treated as MD5 and must be 32 hex digits.
    Ha1 {
        /// Username sent in the `username` parameter.
        username: String,
        /// Realm the HA1 was computed for; `None` accepts any realm.
        realm: Option<String>,
        /// Hex HA1 (case-insensitive).
        ha1: String,
    },
}

impl Credentials {
    /// The username, whichever variant.
    pub fn username(&self) -> &str {
        match self {
            Credentials::Password { username, .. } | Credentials::Ha1 { username, .. } => username,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &format_args!("<redacted>"))
                .finish(),
            Credentials::Ha1 {
                username, realm, ..
            } => f
                .debug_struct("Ha1")
                .field("username", username)
                .field("realm", realm)
                .field("ha1", &format_args!("<redacted>"))
                .finish(),
        }
    }
}

/// Digest credentials for one request (RFC 7616 §3.4, RFC 3261 §22.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// `username`.
    pub username: String,
    /// `realm`, copied from the challenge.
    pub realm: String,
    /// `nonce`, copied from the challenge.
    pub nonce: String,
    /// `uri`: the digest-uri (RFC 3261 §22.4: the Request-URI).
    pub uri: String,
    /// `response`: request-digest in lowercase hex.
    pub response: String,
    /// `algorithm`, the challenge's (RFC 7616 §3.4).
    pub algorithm: Algorithm,
    /// `cnonce`, present iff `qop` is (RFC 2617 §3.2.2).
    pub cnonce: Option<String>,
    /// `opaque`, copied from the challenge (RFC 7616 §3.4).
    pub opaque: Option<String>,
    /// Chosen `qop`; `None` in the RFC 2069 compatible form.
    pub qop: Option<Qop>,
    /// `nc`, present iff `qop` is (RFC 7616 §3.4).
    pub nc: Option<u32>,
}

impl Authorization {
    /// Renders the `Authorization` / `Proxy-Authorization` header value.
    /// `username`, `realm`, `nonce`, `uri`, `response`, `cnonce` and `opaque`
    /// are quoted with `"` and `\` escaped; `algorithm`, `qop` and `nc` are
    /// never quoted (RFC 7616 §3.4); `nc` is 8 lowercase hex digits
    /// (RFC 2617 §3.2.2 `nc-value`).
    pub fn to_header_value(&self) -> String {
        let mut s = String::with_capacity(256);
        s.push_str("Digest ");
        push_quoted(&mut s, "username", &self.username);
        s.push_str(", ");
        push_quoted(&mut s, "realm", &self.realm);
        s.push_str(", ");
        push_quoted(&mut s, "nonce", &self.nonce);
        s.push_str(", ");
        push_quoted(&mut s, "uri", &self.uri);
        s.push_str(", ");
        push_quoted(&mut s, "response", &self.response);
        s.push_str(", algorithm=");
        s.push_str(self.algorithm.as_str());
        if let Some(cnonce) = &self.cnonce {
            s.push_str(", ");
            push_quoted(&mut s, "cnonce", cnonce);
        }
        if let Some(opaque) = &self.opaque {
            s.push_str(", ");
            push_quoted(&mut s, "opaque", opaque);
        }
        if let Some(qop) = self.qop {
            s.push_str(", qop=");
            s.push_str(qop.as_str());
        }
        if let Some(nc) = self.nc {
            s.push_str(", nc=");
            crate::sip::push_hex(&mut s, u64::from(nc), 8);
        }
        s
    }
}

fn push_quoted(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push('=');
    scan::quote(value, out);
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        crate::sip::push_hex(&mut s, u64::from(*b), 2);
    }
    s
}

fn digest_hex<D: Digest>(mut hasher: D, parts: &[&[u8]]) -> String {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update(b":");
        }
        hasher.update(*part);
    }
    hex(&hasher.finalize())
}

/// H(part1 ":" part2 ":" …) in lowercase hex (RFC 7616 §3.4.1 `H`/`KD`).
fn hash_hex(family: Family, parts: &[&[u8]]) -> String {
    match family {
        Family::Md5 => digest_hex(Md5::new(), parts),
        Family::Sha256 => digest_hex(Sha256::new(), parts),
    }
}

/// Refuses control characters in anything that ends up in the header.
fn check_printable(what: &'static str, value: &str) -> Result<(), AuthError> {
    if value.chars().any(char::is_control) {
        Err(AuthError::InvalidInput(what))
    } else {
        Ok(())
    }
}

/// Hash family a hex HA1 was computed with: 64 digits = SHA-256, else MD5.
fn ha1_family(ha1: &str) -> Result<Family, AuthError> {
    if !ha1.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AuthError::InvalidHa1);
    }
    match ha1.len() {
        64 => Ok(Family::Sha256),
        32 => Ok(Family::Md5),
        _ => Err(AuthError::InvalidHa1),
    }
}

/// Checks that `credentials` can answer `challenge` and picks the qop:
/// `auth` when offered, else `auth-int` (RFC 7616 §3.4: one of the offered
/// values), `None` when the challenge has no qop (RFC 2617 §3.2.2.1).
fn check_answerable(
    challenge: &Challenge,
    credentials: &Credentials,
) -> Result<Option<Qop>, AuthError> {
    let qop = match &challenge.qop {
        None => None,
        Some(list) if list.contains(&Qop::Auth) => Some(Qop::Auth),
        Some(list) if list.contains(&Qop::AuthInt) => Some(Qop::AuthInt),
        Some(_) => return Err(AuthError::UnsupportedQop),
    };
    if qop.is_none() && challenge.algorithm.is_session() {
        return Err(AuthError::SessionWithoutQop);
    }
    if let Credentials::Ha1 { realm, ha1, .. } = credentials {
        if let Some(realm) = realm {
            if *realm != challenge.realm {
                return Err(AuthError::RealmMismatch {
                    expected: realm.clone(),
                    got: challenge.realm.clone(),
                });
            }
        }
        if ha1_family(ha1)? != challenge.algorithm.family() {
            return Err(AuthError::Ha1AlgorithmMismatch(challenge.algorithm));
        }
    }
    Ok(qop)
}

/// Computes the Digest credentials for one request (RFC 2617 §3.2.2,
/// RFC 7616 §3.4.1–3.4.3):
///
/// - HA1 = H(user ":" realm ":" password), or the precomputed HA1; for
///   `-sess`, HA1 = H(HA1 ":" nonce ":" cnonce) (RFC 7616 §3.4.2);
/// - HA2 = H(method ":" uri), plus `":" H(body)` for `auth-int` (§3.4.3);
/// - response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2) with qop,
///   or H(HA1 ":" nonce ":" HA2) without (RFC 2069 form, RFC 2617 §3.2.2.1).
///
/// `cnonce` and `nc` are used only when the challenge offers qop; `nc`
/// must then be ≥ 1 (RFC 7616 §3.4). `digest_uri` is the Request-URI
/// (RFC 3261 §22.4).
pub fn digest_response(
    challenge: &Challenge,
    credentials: &Credentials,
    method: &str,
    digest_uri: &str,
    body: &[u8],
    cnonce: &str,
    nc: u32,
) -> Result<Authorization, AuthError> {
    let username = credentials.username();
    check_printable("username", username)?;
    check_printable("uri", digest_uri)?;
    check_printable("realm", &challenge.realm)?;
    check_printable("nonce", &challenge.nonce)?;
    if let Some(opaque) = &challenge.opaque {
        check_printable("opaque", opaque)?;
    }
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(AuthError::InvalidInput("method"));
    }
    let qop = check_answerable(challenge, credentials)?;
    if qop.is_some() {
        if cnonce.is_empty() {
            return Err(AuthError::InvalidInput("cnonce"));
        }
        check_printable("cnonce", cnonce)?;
        if nc == 0 {
            return Err(AuthError::InvalidInput("nc"));
        }
    }

    let algorithm = challenge.algorithm;
    let family = algorithm.family();
    let realm = challenge.realm.as_bytes();
    let nonce = challenge.nonce.as_bytes();
    let base_ha1 = match credentials {
        Credentials::Password { username, password } => {
            hash_hex(family, &[username.as_bytes(), realm, password.as_bytes()])
        }
        Credentials::Ha1 { ha1, .. } => ha1.to_ascii_lowercase(),
    };
    let ha1 = if algorithm.is_session() {
        hash_hex(family, &[base_ha1.as_bytes(), nonce, cnonce.as_bytes()])
    } else {
        base_ha1
    };
    let ha2 = match qop {
        Some(Qop::AuthInt) => {
            let body_hash = hash_hex(family, &[body]);
            hash_hex(
                family,
                &[
                    method.as_bytes(),
                    digest_uri.as_bytes(),
                    body_hash.as_bytes(),
                ],
            )
        }
        _ => hash_hex(family, &[method.as_bytes(), digest_uri.as_bytes()]),
    };
    let response = match qop {
        Some(q) => {
            let mut nc_hex = String::with_capacity(8);
            crate::sip::push_hex(&mut nc_hex, u64::from(nc), 8);
            hash_hex(
                family,
                &[
                    ha1.as_bytes(),
                    nonce,
                    nc_hex.as_bytes(),
                    cnonce.as_bytes(),
                    q.as_str().as_bytes(),
                    ha2.as_bytes(),
                ],
            )
        }
        None => hash_hex(family, &[ha1.as_bytes(), nonce, ha2.as_bytes()]),
    };
    Ok(Authorization {
        username: username.to_string(),
        realm: challenge.realm.clone(),
        nonce: challenge.nonce.clone(),
        uri: digest_uri.to_string(),
        response,
        algorithm,
        cnonce: qop.map(|_| cnonce.to_string()),
        opaque: challenge.opaque.clone(),
        qop,
        nc: qop.map(|_| nc),
    })
}

// ---------------------------------------------------------------------------
// Authenticator state machine
// ---------------------------------------------------------------------------

/// Which header a challenge came from, and so which header answers it
/// (RFC 3261 §22.2 for 401 / §22.3 for 407).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallengeKind {
    /// `WWW-Authenticate`, answered with `Authorization`.
    Www,
    /// `Proxy-Authenticate`, answered with `Proxy-Authorization`.
    Proxy,
}

impl ChallengeKind {
    /// Name of the header carrying the answer (RFC 3261 §20.7 / §20.28).
    pub fn authorization_header(self) -> &'static str {
        match self {
            ChallengeKind::Www => "Authorization",
            ChallengeKind::Proxy => "Proxy-Authorization",
        }
    }
}

/// How to pick among several supported challenges for one realm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlgorithmPolicy {
    /// RFC 8760 §2.4: use the topmost challenge that is supported (the
    /// server lists them in its order of preference, §2.3).
    #[default]
    ServerOrder,
    /// Local policy allowed by RFC 8760 §2.4 ("unless a local policy
    /// dictates otherwise"): the strongest supported algorithm (SHA-256
    /// over MD5), ties to the topmost; resists the header-reordering
    /// downgrade noted in RFC 8760 §3 (Security Considerations).
    Strongest,
}

/// Why the [`Authenticator`] gives up; the request cannot succeed by retrying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// The realm rejected an answer computed from a fresh challenge without
    /// `stale=true`: the credentials are wrong (RFC 7616 §3.3 / RFC 3261 §22.2).
    WrongCredentials {
        /// The rejecting realm.
        realm: String,
    },
    /// `stale=true` twice in a row for the same realm (RFC 7616 §3.3 allows
    /// a retry without asking the user, not a loop).
    RepeatedStale {
        /// The realm.
        realm: String,
    },
    /// Some realm offered only unsupported schemes/algorithms/qops (RFC 8760 §2.4).
    NoSupportedChallenge,
    /// No challenge could be parsed (first error kept).
    Malformed(AuthError),
    /// The precomputed HA1 is for another realm than the one challenging.
    RealmMismatch {
        /// Realm of the HA1.
        expected: String,
        /// Realm of the challenge.
        got: String,
    },
    /// The status is not 401 or 407 (RFC 3261 §21.4.2 / §21.4.8).
    NotAChallenge(u16),
    /// A local input (HA1, uri, cnonce, method) is unusable.
    LocalError(AuthError),
}

impl Print for AuthFailure {
    fn print(&self, out: &mut String) {
        match self {
            AuthFailure::WrongCredentials { realm } => {
                push_fill(out, "credentials rejected by realm {}", &[&Quoted(realm)])
            }
            AuthFailure::RepeatedStale { realm } => push_fill(
                out,
                "realm {} answered stale twice in a row",
                &[&Quoted(realm)],
            ),
            AuthFailure::NoSupportedChallenge => out.push_str("no supported challenge"),
            AuthFailure::Malformed(e) => push_fill(out, "malformed challenge: {}", &[e]),
            AuthFailure::RealmMismatch { expected, got } => push_fill(
                out,
                "HA1 is for realm {}, challenged by {}",
                &[&Quoted(expected), &Quoted(got)],
            ),
            AuthFailure::NotAChallenge(status) => {
                push_fill(out, "status {} is not 401/407", &[status])
            }
            AuthFailure::LocalError(e) => push_fill(out, "cannot compute credentials: {}", &[e]),
        }
    }
}

display_by_print!(AuthError, AuthFailure);

impl std::error::Error for AuthFailure {}

/// Outcome of [`Authenticator::handle_challenges`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthDecision {
    /// Re-send the request (new CSeq, RFC 3261 §22.2) with these headers:
    /// `Authorization` for [`ChallengeKind::Www`], `Proxy-Authorization`
    /// for [`ChallengeKind::Proxy`].
    Retry(Vec<(ChallengeKind, String)>),
    /// Give up and report to the user.
    Fail(AuthFailure),
}

/// How the last request answered a cached challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// Answered a challenge just received.
    Fresh,
    /// Answered a challenge just received with `stale=true`.
    StaleRetry,
    /// Answered pre-emptively from the cache (new request or other realm).
    Cached,
}

/// One cached challenge per (kind, realm).
#[derive(Debug, Clone)]
struct Entry {
    kind: ChallengeKind,
    challenge: Challenge,
    /// Last nonce-count sent with `challenge.nonce` (0 = none yet).
    nc: u32,
    /// cnonce that built the `-sess` session key (RFC 2617 §3.2.2.2).
    session_cnonce: Option<String>,
    attempt: Attempt,
}

/// Challenges of one response grouped by (kind, realm), in order.
struct Group {
    kind: ChallengeKind,
    realm: String,
    items: Vec<Result<Challenge, AuthError>>,
}

/// Per-request-sender Digest state (one per registration or dialog), sans-IO.
///
/// Call [`Authenticator::authorize`] for every new request (it returns the
/// headers to add, possibly none) and [`Authenticator::handle_challenges`]
/// for every 401/407. Challenges are cached per (kind, realm) so later
/// requests can be authorized pre-emptively with an incremented nonce-count
/// (RFC 7616 §3.4, RFC 3261 §22.3). `Debug` never shows the secret.
#[derive(Clone)]
pub struct Authenticator {
    credentials: Credentials,
    policy: AlgorithmPolicy,
    entries: Vec<Entry>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("credentials", &self.credentials)
            .field("policy", &self.policy)
            .field("entries", &self.entries)
            .finish()
    }
}

impl Authenticator {
    /// New authenticator with no cached challenge and
    /// [`AlgorithmPolicy::ServerOrder`] (RFC 8760 §2.4).
    pub fn new(credentials: Credentials) -> Self {
        Authenticator {
            credentials,
            policy: AlgorithmPolicy::default(),
            entries: Vec::new(),
        }
    }

    /// Chooses how to pick among algorithms of one realm (RFC 8760 §2.4).
    pub fn set_algorithm_policy(&mut self, policy: AlgorithmPolicy) {
        self.policy = policy;
    }

    /// Replaces the credentials and forgets every cached challenge.
    pub fn set_credentials(&mut self, credentials: Credentials) {
        self.credentials = credentials;
        self.reset();
    }

    /// Forgets cached challenges, nonce-counts and failure history.
    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// Reacts to a 401/407 (RFC 3261 §22.2, §22.3).
    ///
    /// `challenges` are the header values of the response in message order,
    /// each tagged with the header it came from; one value may hold several
    /// challenges. Per (kind, realm) the chosen challenge follows the
    /// [`AlgorithmPolicy`] (RFC 8760 §2.4); unsupported schemes and
    /// algorithms are ignored (RFC 8760 §2.4); every challenged realm is
    /// answered (RFC 3261 §22.3) and every other cached
    /// realm is re-sent with an incremented `nc`. A realm that rejects a
    /// fresh answer without `stale=true` means wrong credentials; `stale=true`
    /// is retried once without asking the user (RFC 7616 §3.3).
    /// `cnonce` is called once per answer that needs a new client nonce.
    pub fn handle_challenges(
        &mut self,
        status: u16,
        challenges: &[(ChallengeKind, &str)],
        method: &str,
        digest_uri: &str,
        body: &[u8],
        cnonce: &mut dyn FnMut() -> String,
    ) -> AuthDecision {
        if status != 401 && status != 407 {
            return AuthDecision::Fail(AuthFailure::NotAChallenge(status));
        }
        let groups = match collect_groups(challenges) {
            Ok(groups) => groups,
            Err(failure) => return AuthDecision::Fail(failure),
        };
        let mut chosen = Vec::with_capacity(groups.len());
        for group in &groups {
            match self.select(group) {
                Ok(challenge) => chosen.push((group.kind, challenge.clone())),
                Err(failure) => return AuthDecision::Fail(failure),
            }
        }

        // Plan on a copy: nothing changes unless the whole retry is built.
        let mut entries = self.entries.clone();
        for entry in &mut entries {
            let challenged = chosen
                .iter()
                .any(|(k, c)| *k == entry.kind && c.realm == entry.challenge.realm);
            if !challenged {
                entry.attempt = Attempt::Cached;
            }
        }
        for (kind, challenge) in chosen {
            let existing = entries
                .iter_mut()
                .find(|e| e.kind == kind && e.challenge.realm == challenge.realm);
            match existing {
                Some(entry) => {
                    let next = match (entry.attempt, challenge.stale) {
                        (Attempt::Fresh | Attempt::StaleRetry, false) => {
                            return AuthDecision::Fail(AuthFailure::WrongCredentials {
                                realm: challenge.realm,
                            })
                        }
                        (Attempt::StaleRetry, true) => {
                            return AuthDecision::Fail(AuthFailure::RepeatedStale {
                                realm: challenge.realm,
                            })
                        }
                        (Attempt::Fresh | Attempt::Cached, true) => Attempt::StaleRetry,
                        // A pre-emptive answer with a cached nonce was refused:
                        // the nonce may simply have expired, answer once afresh.
                        (Attempt::Cached, false) => Attempt::Fresh,
                    };
                    if entry.challenge.nonce != challenge.nonce {
                        entry.nc = 0;
                        entry.session_cnonce = None;
                    }
                    entry.challenge = challenge;
                    entry.attempt = next;
                }
                None => entries.push(Entry {
                    kind,
                    challenge,
                    nc: 0,
                    session_cnonce: None,
                    attempt: Attempt::Fresh,
                }),
            }
        }

        let mut out = Vec::with_capacity(entries.len());
        for entry in &mut entries {
            match answer(entry, &self.credentials, method, digest_uri, body, cnonce) {
                Ok(value) => out.push((entry.kind, value)),
                Err(e) => return AuthDecision::Fail(classify(e)),
            }
        }
        self.entries = entries;
        AuthDecision::Retry(out)
    }

    /// Credentials for a *new* request (e.g. a REGISTER refresh or a
    /// re-INVITE) from the cached challenges, each with its nonce-count
    /// incremented (RFC 7616 §3.4 `nc`, RFC 3261 §22.3 re-use of
    /// credentials), so no new 401/407 round-trip is needed while the
    /// nonce is valid. Returns nothing when no challenge is cached. An entry
    /// that cannot be computed (bad uri/cnonce) is left out.
    pub fn authorize(
        &mut self,
        method: &str,
        digest_uri: &str,
        body: &[u8],
        cnonce: &mut dyn FnMut() -> String,
    ) -> Vec<(ChallengeKind, String)> {
        let mut out = Vec::with_capacity(self.entries.len());
        for entry in &mut self.entries {
            entry.attempt = Attempt::Cached;
            if let Ok(value) = answer(entry, &self.credentials, method, digest_uri, body, cnonce) {
                out.push((entry.kind, value));
            }
        }
        out
    }

    /// Picks the challenge to answer in one (kind, realm) group.
    fn select<'g>(&self, group: &'g Group) -> Result<&'g Challenge, AuthFailure> {
        let mut best: Option<&Challenge> = None;
        let mut first_error: Option<AuthError> = None;
        for item in &group.items {
            let challenge = match item {
                Ok(c) => c,
                Err(e) => {
                    first_error.get_or_insert_with(|| e.clone());
                    continue;
                }
            };
            if let Err(e) = check_answerable(challenge, &self.credentials) {
                first_error.get_or_insert(e);
                continue;
            }
            best = match best {
                None => Some(challenge),
                Some(b)
                    if self.policy == AlgorithmPolicy::Strongest
                        && challenge.algorithm.strength() > b.algorithm.strength() =>
                {
                    Some(challenge)
                }
                Some(b) => Some(b),
            };
        }
        best.ok_or_else(|| first_error.map_or(AuthFailure::NoSupportedChallenge, classify))
    }
}

/// Maps an [`AuthError`] to the failure reported by the authenticator.
fn classify(error: AuthError) -> AuthFailure {
    match error {
        AuthError::RealmMismatch { expected, got } => AuthFailure::RealmMismatch { expected, got },
        AuthError::UnsupportedScheme(_)
        | AuthError::UnsupportedAlgorithm(_)
        | AuthError::UnsupportedQop
        | AuthError::SessionWithoutQop
        | AuthError::Ha1AlgorithmMismatch(_) => AuthFailure::NoSupportedChallenge,
        AuthError::InvalidHa1 | AuthError::InvalidInput(_) => AuthFailure::LocalError(error),
        other => AuthFailure::Malformed(other),
    }
}

/// Parses all header values and groups Digest challenges by (kind, realm),
/// keeping message order. Non-Digest schemes are ignored (RFC 8760 §2.4;
/// `Basic` is deprecated by RFC 3261 §22.1).
fn collect_groups(challenges: &[(ChallengeKind, &str)]) -> Result<Vec<Group>, AuthFailure> {
    if challenges.is_empty() {
        return Err(AuthFailure::Malformed(AuthError::Empty));
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut first_error: Option<AuthError> = None;
    for &(kind, value) in challenges {
        if value.len() > MAX_HEADER_VALUE_LEN {
            first_error.get_or_insert(AuthError::TooLong);
            continue;
        }
        let mut cur = Cursor::new(value);
        let mut any = false;
        while let Some(raw) = cur.next_raw() {
            any = true;
            let raw = match raw {
                Ok(raw) => raw,
                Err(e) => {
                    first_error.get_or_insert(e);
                    break;
                }
            };
            if !raw.is_digest() {
                continue;
            }
            let Some(realm) = raw.get("realm") else {
                first_error.get_or_insert(AuthError::MissingRealm);
                continue;
            };
            let item = Challenge::from_raw(&raw);
            match groups
                .iter_mut()
                .find(|g| g.kind == kind && g.realm == realm)
            {
                Some(group) => group.items.push(item),
                None => {
                    if groups.len() >= MAX_REALMS {
                        return Err(AuthFailure::Malformed(AuthError::TooManyRealms));
                    }
                    groups.push(Group {
                        kind,
                        realm: realm.to_string(),
                        items: vec![item],
                    });
                }
            }
        }
        if !any {
            first_error.get_or_insert(AuthError::Empty);
        }
    }
    if groups.is_empty() {
        return Err(first_error.map_or(AuthFailure::NoSupportedChallenge, AuthFailure::Malformed));
    }
    Ok(groups)
}

/// Computes the header value answering `entry` with the next nonce-count
/// (RFC 7616 §3.4) and records the count. For `-sess` the cnonce that built
/// the session key is kept for the nonce's lifetime (RFC 2617 §3.2.2.2).
fn answer(
    entry: &mut Entry,
    credentials: &Credentials,
    method: &str,
    digest_uri: &str,
    body: &[u8],
    cnonce: &mut dyn FnMut() -> String,
) -> Result<String, AuthError> {
    let nc = entry.nc.saturating_add(1);
    let with_qop = entry.challenge.qop.is_some();
    let session = entry.challenge.algorithm.is_session();
    let client_nonce = match (&entry.session_cnonce, with_qop, session) {
        (_, false, _) => String::new(),
        (Some(kept), true, true) => kept.clone(),
        _ => cnonce(),
    };
    let auth = digest_response(
        &entry.challenge,
        credentials,
        method,
        digest_uri,
        body,
        &client_nonce,
        nc,
    )?;
    entry.nc = nc;
    if with_qop && session {
        entry.session_cnonce = Some(client_nonce);
    }
    Ok(auth.to_header_value())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_fields() {
        let c = Challenge::parse(
            r#"Digest realm="atlanta.com", domain="sip:ss1.carrier.com sip:b.example", qop="auth,auth-int", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5"#,
        )
        .unwrap();
        assert_eq!(c.realm, "atlanta.com");
        assert_eq!(c.nonce, "f84f1cec41e6cbe5aea9c8e88d359");
        assert_eq!(c.opaque.as_deref(), Some(""));
        assert_eq!(c.algorithm, Algorithm::Md5);
        assert_eq!(c.qop, Some(vec![Qop::Auth, Qop::AuthInt]));
        assert!(!c.stale);
        assert_eq!(c.domain, vec!["sip:ss1.carrier.com", "sip:b.example"]);
    }

    #[test]
    fn lws_tokens_case_and_unknown_params() {
        let c = Challenge::parse(
            "  dIgEsT\trealm = \"r\" ,\r\n nonce=abc/def==  , stale = \"TRUE\",algorithm=\"sha-256-SESS\", qop=auth-int, charset=UTF-8, userhash=true ,",
        )
        .unwrap();
        assert_eq!(c.realm, "r");
        assert_eq!(c.nonce, "abc/def==");
        assert!(c.stale);
        assert_eq!(c.algorithm, Algorithm::Sha256Sess);
        assert_eq!(c.qop, Some(vec![Qop::AuthInt]));
        assert_eq!(c.opaque, None);
        assert!(c.domain.is_empty());
    }

    #[test]
    fn absent_algorithm_is_md5_and_absent_qop_is_none() {
        let c = Challenge::parse(r#"Digest realm="r", nonce="n""#).unwrap();
        assert_eq!(c.algorithm, Algorithm::Md5);
        assert_eq!(c.qop, None);
        let c = Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-conf""#).unwrap();
        assert_eq!(c.qop, Some(vec![]));
    }

    #[test]
    fn quoted_escapes_and_commas() {
        let c = Challenge::parse(r#"Digest realm="a \"b\", c\\d", nonce="x,y""#).unwrap();
        assert_eq!(c.realm, r#"a "b", c\d"#);
        assert_eq!(c.nonce, "x,y");
    }

    #[test]
    fn utf8_realm() {
        let c = Challenge::parse("Digest realm=\"caf\u{e9} \\\u{e9}\", nonce=\"n\"").unwrap();
        assert_eq!(c.realm, "caf\u{e9} \u{e9}");
    }

    #[test]
    fn other_schemes_are_unsupported() {
        assert_eq!(
            Challenge::parse(r#"Basic realm="WallyWorld""#),
            Err(AuthError::UnsupportedScheme("Basic".into()))
        );
        assert_eq!(
            Challenge::parse("Bearer"),
            Err(AuthError::UnsupportedScheme("Bearer".into()))
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#),
            Err(AuthError::UnsupportedAlgorithm("SHA-512-256".into()))
        );
    }

    #[test]
    fn splits_several_challenges() {
        let v = r#"Digest realm="a, b", nonce="x", algorithm=SHA-256, Basic realm="z", Negotiate YII+/a==, Digest realm="b",nonce="y""#;
        let all = parse_challenges(v);
        assert_eq!(all.len(), 4);
        let first = all[0].as_ref().unwrap();
        assert_eq!((first.realm.as_str(), first.nonce.as_str()), ("a, b", "x"));
        assert_eq!(first.algorithm, Algorithm::Sha256);
        assert_eq!(all[1], Err(AuthError::UnsupportedScheme("Basic".into())));
        assert_eq!(
            all[2],
            Err(AuthError::UnsupportedScheme("Negotiate".into()))
        );
        let last = all[3].as_ref().unwrap();
        assert_eq!((last.realm.as_str(), last.nonce.as_str()), ("b", "y"));
        assert_eq!(
            Challenge::parse(v),
            Err(AuthError::MultipleChallenges),
            "Challenge::parse wants exactly one"
        );
        assert!(parse_challenges("  ,  ").is_empty());
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(Challenge::parse(""), Err(AuthError::Empty));
        assert_eq!(Challenge::parse("   "), Err(AuthError::Empty));
        assert_eq!(
            Challenge::parse(r#"Digest realm="r, nonce=n"#),
            Err(AuthError::UnterminatedQuote)
        );
        assert!(matches!(
            Challenge::parse(r#"Digest realm="r, nonce="n"#),
            Err(AuthError::Syntax { .. })
        ));
        assert_eq!(
            Challenge::parse(r#"Digest nonce="n", realm="r"#),
            Err(AuthError::UnterminatedQuote)
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="r\"#),
            Err(AuthError::UnterminatedQuote)
        );
        assert_eq!(
            Challenge::parse("Digest realm=\"r\r\nVia: x\", nonce=\"n\""),
            Err(AuthError::ControlCharacter)
        );
        assert_eq!(
            Challenge::parse(r#"Digest nonce="n""#),
            Err(AuthError::MissingRealm)
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="r""#),
            Err(AuthError::MissingNonce)
        );
        assert_eq!(
            Challenge::parse(r#"Digest realm="r", realm="s", nonce="n""#),
            Err(AuthError::DuplicateParam("realm".into()))
        );
        assert!(matches!(
            Challenge::parse(r#"Digest realm="r" nonce="n""#),
            Err(AuthError::Syntax { .. })
        ));
        assert!(matches!(
            Challenge::parse(r#"Digest realm=, nonce="n""#),
            Err(AuthError::Syntax { .. })
        ));
        assert!(matches!(
            Challenge::parse(r#"="r""#),
            Err(AuthError::Syntax { .. })
        ));
        assert!(matches!(
            Challenge::parse(r#"Digest"r""#),
            Err(AuthError::Syntax { .. })
        ));
        assert!(matches!(
            Challenge::parse("Digest abc=="),
            Err(AuthError::Syntax { .. })
        ));
        assert!(matches!(
            Challenge::parse("\u{0}\u{1}\u{ff}\u{2028}"),
            Err(AuthError::Syntax { .. })
        ));
        let huge = format!(
            "Digest realm=\"r\", nonce=\"{}\"",
            "a".repeat(MAX_HEADER_VALUE_LEN)
        );
        assert_eq!(Challenge::parse(&huge), Err(AuthError::TooLong));
        assert_eq!(parse_challenges(&huge), vec![Err(AuthError::TooLong)]);
    }

    #[test]
    fn every_truncation_is_an_error_or_a_value_never_a_panic() {
        let v = "Digest realm=\"r \\\"q\\\"\", nonce=\"n\u{e9}\", qop=\"auth\", algorithm=SHA-256, Basic x==, Digest realm=\"b\", nonce=\"y\"";
        for end in 0..=v.len() {
            if let Some(prefix) = v.get(..end) {
                let _ = Challenge::parse(prefix);
                let _ = parse_challenges(prefix);
            }
        }
        let bytes = v.as_bytes();
        for i in 0..bytes.len() {
            for b in [b'"', b'\\', b',', b'=', b' ', 0u8, 0xff] {
                let mut m = bytes.to_vec();
                m[i] = b;
                let s = String::from_utf8_lossy(&m);
                let _ = Challenge::parse(&s);
                let _ = parse_challenges(&s);
            }
        }
    }

    #[test]
    fn header_value_escapes_and_omits_absent_fields() {
        let auth = Authorization {
            username: r#"a"b\c"#.into(),
            realm: "r".into(),
            nonce: "n".into(),
            uri: "sip:x".into(),
            response: "00".into(),
            algorithm: Algorithm::Sha256,
            cnonce: None,
            opaque: None,
            qop: None,
            nc: None,
        };
        assert_eq!(
            auth.to_header_value(),
            r#"Digest username="a\"b\\c", realm="r", nonce="n", uri="sip:x", response="00", algorithm=SHA-256"#
        );
    }

    #[test]
    fn algorithm_and_qop_tokens() {
        assert_eq!(Algorithm::parse("md5-SESS"), Some(Algorithm::Md5Sess));
        assert_eq!(Algorithm::parse("SHA-256"), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::parse("SHA-512-256"), None);
        assert_eq!(Algorithm::parse(""), None);
        assert_eq!(Qop::parse("AUTH-INT"), Some(Qop::AuthInt));
        assert_eq!(Qop::parse("auth-conf"), None);
        assert_eq!(Algorithm::Sha256Sess.to_string(), "SHA-256-sess");
    }
}

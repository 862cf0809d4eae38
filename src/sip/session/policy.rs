//! What the UA refuses before any call logic runs (RFC 3261 §8.2), and how a dialled
//! number becomes a URI.

use super::CallError;
use crate::sip::message::{
    scan, valid_value, HeaderName, Incoming, MediaType, Method, SipUri, StartLine, Uri,
};
use crate::sip::ua::{Local, ACCEPT, ALLOW};
use crate::sip::{fill, Print};

/// The option tags we understand in Require (RFC 3261 §8.2.2.3): SIP Outbound, Path,
/// GRUU (registration), session timers (RFC 4028) and Replaces (RFC 3891).
pub const UNDERSTOOD: [&str; 5] = ["outbound", "path", "gruu", "timer", "replaces"];

/// A refusal: status, reason phrase, extra headers for the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: u16,
    pub(crate) reason: &'static str,
    pub(crate) headers: Vec<(HeaderName, String)>,
}

impl Refusal {
    pub(crate) fn new(code: u16, reason: &'static str) -> Self {
        Refusal {
            code,
            reason,
            headers: Vec::new(),
        }
    }

    fn with(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// The §8.2 checks for a new request (not ACK or CANCEL), in the RFC's order:
///
/// 1. method (§8.2.1): REGISTER, MESSAGE, SUBSCRIBE, PUBLISH → 405 with Allow (we
///    are not a registrar, RFC 4475 `regaut01`, `cparam01/02`, `regescrt`); an unknown
///    method → 501 with Allow;
/// 2. Request-URI (§8.2.2.1): not `sip:`/`sips:` → 416 (`unkscm`, `novelsc`); clearly
///    not us → 404. "Clearly" means our own random Contact host with another user:
///    proxies rewrite the Request-URI to our Contact, and a request to any user at the
///    AOR domain may be an alias, so those pass;
/// 3. Require (§8.2.2.3): option tags outside [`UNDERSTOOD`] → 420 with Unsupported
///    (`bext01`);
/// 4. body (§8.2.3), for INVITE and UPDATE with a body: a Content-Type other than
///    `application/sdp` → 415 with Accept (`invut`); a Content-Encoding other than
///    `identity` → 415 with Accept-Encoding;
/// 5. an INVITE or UPDATE whose Accept rules out `application/sdp` → 406 with Accept
///    (`sdp01`), as our answer would be SDP.
///
/// Max-Forwards is not checked: we are the final recipient, and decrementing it is a
/// proxy's job (§16.6), so an OPTIONS with Max-Forwards 0 is answered (`zeromf`).
pub(crate) fn check(req: &Incoming, local: &Local) -> Option<Refusal> {
    let method = req.msg.method()?;
    match method {
        Method::Register | Method::Message | Method::Subscribe | Method::Publish => {
            return Some(Refusal::new(405, "Method Not Allowed").with(HeaderName::Allow, ALLOW))
        }
        Method::Other(_) => {
            return Some(Refusal::new(501, "Not Implemented").with(HeaderName::Allow, ALLOW))
        }
        _ => {}
    }
    if let StartLine::Request(r) = &req.msg.start {
        let Uri::Sip(u) = &r.uri else {
            return Some(Refusal::new(416, "Unsupported URI Scheme"));
        };
        let ours = u.host().eq_ignore_ascii_case(&local.via_host);
        if ours && u.user().is_some_and(|user| user != local.contact_user) {
            return Some(Refusal::new(404, "Not Found"));
        }
    }
    // The option-tags we do not understand, joined with ", ".
    let mut unsupported = String::new();
    let required = req.msg.headers.get_all(&HeaderName::Require);
    for t in required.flat_map(scan::split_list).map(str::trim) {
        if !t.is_empty() && !UNDERSTOOD.iter().any(|u| u.eq_ignore_ascii_case(t)) {
            if !unsupported.is_empty() {
                unsupported.push_str(", ");
            }
            unsupported.push_str(t);
        }
    }
    if !unsupported.is_empty() {
        return Some(Refusal::new(420, "Bad Extension").with(HeaderName::Unsupported, unsupported));
    }
    if matches!(method, Method::Invite | Method::Update) {
        if !req.msg.body.is_empty() {
            let sdp = req
                .msg
                .headers
                .typed::<MediaType>(HeaderName::ContentType)
                .and_then(Result::ok)
                .is_some_and(|t| {
                    t.mtype.eq_ignore_ascii_case("application")
                        && t.subtype.eq_ignore_ascii_case("sdp")
                });
            if !sdp {
                return Some(
                    Refusal::new(415, "Unsupported Media Type").with(HeaderName::Accept, ACCEPT),
                );
            }
            let encoded = crate::sip::tokens(&req.msg.headers, &HeaderName::ContentEncoding)
                .is_none_or(|l| l.iter().any(|t| !t.eq_ignore_ascii_case("identity")));
            if encoded {
                return Some(
                    Refusal::new(415, "Unsupported Media Type")
                        .with(HeaderName::AcceptEncoding, "identity"),
                );
            }
        }
        if req.msg.headers.get(&HeaderName::Accept).is_some() {
            let takes_sdp = req
                .msg
                .headers
                .typed_list::<MediaType>(HeaderName::Accept)
                .map(|l| l.iter().any(|t| t.matches("application", "sdp")))
                .unwrap_or(false);
            if !takes_sdp {
                return Some(Refusal::new(406, "Not Acceptable").with(HeaderName::Accept, ACCEPT));
            }
        }
    }
    None
}

/// Longest dialled string accepted.
const MAX_TARGET: usize = 256;

/// The Request-URI for a dialled `target` (API "number" rules): a full `sip:`, `sips:`
/// or `tel:` URI (without URI headers or a password, which could smuggle headers into
/// the INVITE, RFC 3261 §19.1.5); `user@host` (as `sip:user@host`); or a user part —
/// letters, digits, `*#+-._~!'()&=$,;?/` and `%HH` escapes, `#` sent escaped — that
/// becomes `sip:<user>@<AOR domain>` (`sips:` when the AOR is). Anything else
/// (spaces, CR/LF, `<>`, quotes, an empty string) is [`CallError::InvalidNumber`].
pub(crate) fn parse_target(target: &str, aor: &SipUri) -> Result<Uri, CallError> {
    let bad = || CallError::InvalidNumber;
    if target.is_empty()
        || target.len() > MAX_TARGET
        || !valid_value(target)
        || target
            .bytes()
            .any(|b| b <= b' ' || b >= 0x7f || matches!(b, b'<' | b'>' | b'"'))
    {
        return Err(bad());
    }
    let uri_text = if let Some((scheme, _)) = target.split_once(':') {
        if !["sip", "sips", "tel"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme))
        {
            return Err(bad());
        }
        target.to_owned()
    } else if target.contains('@') {
        fill("sip:{}", &[&target])
    } else {
        let mut user = String::with_capacity(target.len() + 8);
        let b = target.as_bytes();
        let mut i = 0;
        while let Some(&c) = b.get(i) {
            match c {
                b'#' => user.push_str("%23"),
                b'%' => {
                    let hex = b
                        .get(i + 1..i + 3)
                        .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                    let Some(h) = hex else { return Err(bad()) };
                    user.push('%');
                    user.extend(h.iter().map(|&x| char::from(x)));
                    i += 2;
                }
                c if scan::is_user(c) => user.push(char::from(c)),
                _ => return Err(bad()),
            }
            i += 1;
        }
        let scheme = if aor.secure { "sips" } else { "sip" };
        let mut text = fill("{}:{}@{}", &[&scheme, &user, &aor.host()]);
        if let Some(p) = aor.port {
            text.push(':');
            p.print(&mut text);
        }
        text
    };
    let uri = Uri::parse(&uri_text).map_err(|_| bad())?;
    if let Uri::Sip(u) = &uri {
        if !u.headers().is_empty() || u.password().is_some() {
            return Err(bad());
        }
    }
    Ok(uri)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn aor() -> SipUri {
        match Uri::parse("sip:alice@example.com").unwrap() {
            Uri::Sip(u) => u,
            _ => unreachable!(),
        }
    }

    #[test]
    fn targets() {
        let t = |s: &str| parse_target(s, &aor()).map(|u| u.to_string());
        assert_eq!(t("1001").unwrap(), "sip:1001@example.com");
        assert_eq!(t("*72#").unwrap(), "sip:*72%23@example.com");
        assert_eq!(
            t("+1-555.0100_x~").unwrap(),
            "sip:+1-555.0100_x~@example.com"
        );
        assert_eq!(t("a%20b").unwrap(), "sip:a%20b@example.com");
        assert_eq!(t("bob@b.example").unwrap(), "sip:bob@b.example");
        assert_eq!(
            t("sips:bob@b.example;transport=ws").unwrap(),
            "sips:bob@b.example;transport=ws"
        );
        assert_eq!(t("tel:+15550100").unwrap(), "tel:+15550100");
        for bad in [
            "",
            "10 01",
            "1001\r\nVia: x",
            "<sip:a@b>",
            "\"a\"",
            "a%2",
            "a%zz",
            "http:x",
            "sip:a@b?Route=%3Csip:x%3E",
            "sip:a:pw@b",
            "sip:",
            "é",
            "a:b",
        ] {
            assert_eq!(t(bad), Err(CallError::InvalidNumber), "{bad:?}");
        }
    }
}

//! Dialogs (RFC 3261 §12): identity, route set, sequence numbers and the requests
//! sent inside one.
//!
//! A [`Dialog`] is plain state; it sends nothing. The call layer
//! ([`session`](crate::sip::session)) creates one from the response that establishes
//! it (UAC, §12.1.2) or from the request (UAS, §12.1.1), builds requests with
//! [`Dialog::request`] and [`Dialog::ack`], and checks incoming requests with
//! [`Dialog::matches`] and [`Dialog::accept_remote_seq`].
//!
//! Decisions:
//! - The From and To values of our requests are kept as whole header values (display
//!   names and URIs exactly as the dialog started, plus the tags), as §12.2.1.1 asks
//!   for "the remote URI" and "the local URI" with their tags.
//! - A peer without tags (RFC 2543, e.g. RFC 4475 `inv2543`) gets an empty remote tag
//!   (§12.1.1: "the remote tag MUST be set to null"), so its later requests still match.
//! - Both loose and strict routing are followed when building requests (§12.2.1.1).
//! - A response or request without a usable Contact leaves the remote target at the
//!   Request-URI (UAC) or the From URI (UAS): over a WebSocket every request goes to the
//!   edge proxy anyway, which routes on it.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::sip::message::{
    scan, CSeq, HeaderName, Incoming, Message, Method, NameAddr, NameAddrHeader, StartLine,
    TypedHeader, Uri, Via,
};
use crate::sip::{fill, Print};

/// Identifies a dialog (RFC 3261 §12): Call-ID, local tag, remote tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag (From of our requests, To of theirs).
    pub local_tag: String,
    /// The peer's tag; empty for an RFC 2543 peer that sent none.
    pub remote_tag: String,
}

/// The state of one dialog (RFC 3261 §12.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// Call-ID and tags.
    pub id: DialogId,
    /// The From value of our requests: the local URI (with display name) and our tag.
    local: String,
    /// The To value of our requests: the remote URI and the remote tag, if any.
    remote: String,
    /// Where requests go (the peer's Contact URI), updated by target refreshes.
    remote_target: Uri,
    /// Route values in the order they are sent.
    route_set: Vec<String>,
    /// The last CSeq number we used.
    local_seq: u32,
    /// The highest CSeq number seen from the peer (§12.2.2), none yet for a UAC.
    remote_seq: Option<u32>,
}

/// Every Record-Route element of `m`, top first, each a valid name-addr.
fn record_routes(m: &Message) -> Vec<String> {
    name_addrs(m, &HeaderName::RecordRoute)
}

/// Every element of every `name` line of `m`, in order, that is a valid name-addr
/// (Record-Route here, Service-Route for the UA).
pub(crate) fn name_addrs(m: &Message, name: &HeaderName) -> Vec<String> {
    let mut out = Vec::new();
    for line in m.headers.get_all(name) {
        for v in scan::split_list(line).map(str::trim) {
            if NameAddrHeader::parse(v).is_ok() {
                out.push(v.to_owned());
            }
        }
    }
    out
}

/// The URI of the first Contact of `m`.
fn contact_uri(m: &Incoming) -> Option<Uri> {
    m.base
        .contacts
        .iter()
        .find_map(|c| c.addr())
        .map(|a| a.uri().clone())
}

/// `value` with `;tag=<tag>` appended unless it has a tag.
fn with_tag(value: &str, tag: &str) -> String {
    let tagged = NameAddrHeader::parse(value).is_ok_and(|h| h.tag().is_some());
    if tagged || tag.is_empty() {
        value.to_owned()
    } else {
        fill("{};tag={}", &[&value, &tag])
    }
}

impl Dialog {
    /// The dialog a response to our INVITE establishes (a 101–199 with a To tag: early;
    /// a 2xx: confirmed), §12.1.2: route set = Record-Route reversed, remote target =
    /// the Contact, remote tag = the To tag, local sequence number = the INVITE's, and
    /// the Call-ID the INVITE's (the response's may be missing or different: it is
    /// matched to our transaction by branch and CSeq method alone).
    pub fn uac(invite: &Message, response: &Incoming, invite_seq: u32) -> Dialog {
        let b = &response.base;
        let ruri = match &invite.start {
            StartLine::Request(r) => r.uri.clone(),
            StartLine::Response(_) => Uri::Other {
                scheme: "invalid".into(),
                rest: "invalid".into(),
            },
        };
        let local = invite
            .headers
            .get(&HeaderName::From)
            .unwrap_or("")
            .to_owned();
        let local_tag = NameAddrHeader::parse(&local)
            .ok()
            .and_then(|h| h.tag().map(str::to_owned))
            .unwrap_or_default();
        let remote = response
            .msg
            .headers
            .get(&HeaderName::To)
            .or_else(|| invite.headers.get(&HeaderName::To))
            .unwrap_or("")
            .to_owned();
        let remote_tag = b.to.as_ref().and_then(|t| t.tag()).unwrap_or("").to_owned();
        let mut route_set = record_routes(&response.msg);
        route_set.reverse();
        Dialog {
            id: DialogId {
                call_id: invite
                    .headers
                    .get(&HeaderName::CallId)
                    .unwrap_or("")
                    .to_owned(),
                local_tag,
                remote_tag,
            },
            local,
            remote,
            remote_target: contact_uri(response).unwrap_or(ruri),
            route_set,
            local_seq: invite_seq,
            remote_seq: None,
        }
    }

    /// The dialog our response to `request` establishes, §12.1.1: route set =
    /// Record-Route in order, remote target = the Contact, remote sequence number =
    /// the request's, our tag `local_tag`. `local_seq` is where our own CSeq numbers
    /// start (§12.1.1 leaves it empty; §8.1.1.5 lets us choose).
    pub fn uas(request: &Incoming, local_tag: &str, local_seq: u32) -> Dialog {
        let b = &request.base;
        let remote = request
            .msg
            .headers
            .get(&HeaderName::From)
            .unwrap_or("")
            .to_owned();
        let local = with_tag(
            request.msg.headers.get(&HeaderName::To).unwrap_or(""),
            local_tag,
        );
        let remote_target = contact_uri(request)
            .or_else(|| b.from.as_ref().map(|f| f.uri().clone()))
            .unwrap_or(Uri::Other {
                scheme: "invalid".into(),
                rest: "invalid".into(),
            });
        Dialog {
            id: DialogId {
                call_id: b.call_id.clone().unwrap_or_default(),
                local_tag: local_tag.to_owned(),
                remote_tag: b
                    .from
                    .as_ref()
                    .and_then(|f| f.tag())
                    .unwrap_or("")
                    .to_owned(),
            },
            local,
            remote,
            remote_target,
            route_set: record_routes(&request.msg),
            local_seq,
            remote_seq: b.cseq.as_ref().map(|c| c.seq),
        }
    }

    /// The remote target (the peer's Contact URI).
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }

    /// The route set, in the order the Route headers are sent.
    pub fn route_set(&self) -> &[String] {
        &self.route_set
    }

    /// The last CSeq number we used.
    pub fn local_seq(&self) -> u32 {
        self.local_seq
    }

    /// The next CSeq number for a new request (§12.2.1.1: one higher each time; kept
    /// below 2**31 as §8.1.1.5 asks).
    pub fn next_seq(&mut self) -> u32 {
        self.local_seq = self.local_seq.wrapping_add(1) & 0x7fff_ffff;
        self.local_seq
    }

    /// True when a request with this Call-ID, To tag (ours) and From tag (theirs)
    /// belongs to this dialog (§12.2.2).
    pub fn matches(&self, call_id: &str, to_tag: Option<&str>, from_tag: Option<&str>) -> bool {
        self.id.call_id == call_id
            && to_tag == Some(self.id.local_tag.as_str())
            && from_tag.unwrap_or("") == self.id.remote_tag
    }

    /// Checks the CSeq number of a request in the dialog (§12.2.2): lower than the
    /// last one seen is out of order (answer 500, return false); otherwise it becomes
    /// the remote sequence number. ACK and CANCEL carry the INVITE's number and are not
    /// checked.
    pub fn accept_remote_seq(&mut self, seq: u32) -> bool {
        match self.remote_seq {
            Some(r) if seq < r => false,
            _ => {
                self.remote_seq = Some(seq);
                true
            }
        }
    }

    /// A target refresh (re-INVITE, UPDATE, or a 2xx to one of ours): the remote
    /// target becomes the Contact URI, when there is one (§12.2.1.2, §12.2.2).
    pub fn refresh_target(&mut self, m: &Incoming) {
        if let Some(uri) = contact_uri(m) {
            self.remote_target = uri;
        }
    }

    /// The Request-URI and Route values of a request in the dialog (§12.2.1.1): with
    /// an empty route set or a loose-routing first hop (`lr`), the remote target and
    /// the route set; with a strict router first, that router's URI and the rest of
    /// the route set followed by the remote target.
    pub fn target_and_routes(&self) -> (Uri, Vec<String>) {
        let Some(first) = self.route_set.first() else {
            return (self.remote_target.clone(), Vec::new());
        };
        match NameAddrHeader::parse(first) {
            Ok(h) if h.uri().param("lr").is_none() => {
                let mut routes = self.route_set.get(1..).unwrap_or_default().to_vec();
                routes.push(NameAddr::new(self.remote_target.clone()).to_text());
                (h.uri().clone(), routes)
            }
            _ => (self.remote_target.clone(), self.route_set.clone()),
        }
    }

    /// A request in the dialog (§12.2.1.1): Request-URI and Route from the route set,
    /// To (remote URI and tag), From (local URI and tag), Call-ID, `CSeq: seq method`,
    /// the given Via, Max-Forwards 70. The caller adds Contact (for target refresh
    /// requests), Allow, Supported, a body, and Content-Length.
    pub fn request(&self, method: Method, seq: u32, via: &Via) -> Message {
        let (uri, routes) = self.target_and_routes();
        let mut m = Message::request(method.clone(), uri);
        m.headers.push_typed(HeaderName::Via, via);
        m.headers.push(HeaderName::MaxForwards, "70");
        for r in routes {
            m.headers.push(HeaderName::Route, r);
        }
        m.headers.push(HeaderName::To, &self.remote);
        m.headers.push(HeaderName::From, &self.local);
        m.headers.push(HeaderName::CallId, &self.id.call_id);
        m.headers
            .push_typed(HeaderName::CSeq, &CSeq { seq, method });
        m
    }

    /// The ACK for a 2xx to the INVITE with CSeq number `invite_seq` (§13.2.2.4): built
    /// like any request in the dialog, with the INVITE's CSeq number and method ACK, a
    /// new branch (`via`), and the INVITE's Authorization and Proxy-Authorization
    /// (§13.2.2.4: "the same credentials"). No body (our offers go in the INVITE).
    pub fn ack(&self, invite_seq: u32, via: &Via, invite: Option<&Message>) -> Message {
        let mut m = self.request(Method::Ack, invite_seq, via);
        if let Some(inv) = invite {
            for name in [HeaderName::Authorization, HeaderName::ProxyAuthorization] {
                for v in inv.headers.get_all(&name) {
                    m.headers.push(name.clone(), v);
                }
            }
        }
        m.headers.push(HeaderName::ContentLength, "0");
        m
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn inc(text: &str) -> Incoming {
        Incoming::parse(text.replace('\n', "\r\n").as_bytes()).unwrap()
    }

    const INVITE: &str = "INVITE sip:bob@b.example SIP/2.0\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\nFrom: \"A\" <sip:a@a.example>;tag=la\nTo: <sip:bob@b.example>\nCall-ID: c1\nCSeq: 7 INVITE\nProxy-Authorization: Digest x=1\nContent-Length: 0\n\n";

    #[test]
    fn uac_route_set_is_reversed_and_loose() {
        let inv = inc(INVITE).msg;
        let ok = inc("SIP/2.0 200 OK\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\nRecord-Route: <sip:p2.example;lr>, <sip:p1.example;lr>\nRecord-Route: <sip:p0.example;lr>\nFrom: \"A\" <sip:a@a.example>;tag=la\nTo: <sip:bob@b.example>;tag=rb\nCall-ID: c1\nCSeq: 7 INVITE\nContact: <sip:bob@192.0.2.4;transport=ws>\nContent-Length: 0\n\n");
        let mut d = Dialog::uac(&inv, &ok, 7);
        assert_eq!(d.id.remote_tag, "rb");
        assert_eq!(d.id.local_tag, "la");
        assert_eq!(
            d.route_set(),
            [
                "<sip:p0.example;lr>",
                "<sip:p1.example;lr>",
                "<sip:p2.example;lr>"
            ]
        );
        let via = Via::new("WSS", "a.invalid", None, "z9hG4bK2");
        let ack = d.ack(7, &via, Some(&inv));
        let text = ack.to_string();
        assert!(
            text.starts_with("ACK sip:bob@192.0.2.4;transport=ws SIP/2.0\r\n"),
            "{text}"
        );
        assert!(text.contains("CSeq: 7 ACK\r\n"));
        assert!(text.contains("Proxy-Authorization: Digest x=1\r\n"));
        assert!(text.contains("To: <sip:bob@b.example>;tag=rb\r\n"));
        assert_eq!(d.next_seq(), 8);
        assert!(d.matches("c1", Some("la"), Some("rb")));
        assert!(!d.matches("c1", Some("la"), Some("x")));
        assert!(!d.matches("c1", None, Some("rb")));
    }

    #[test]
    fn strict_router_and_uas_sequence_rules() {
        let req = inc("INVITE sip:a@x.invalid SIP/2.0\nVia: SIP/2.0/WSS p.example;branch=z9hG4bK9\nRecord-Route: <sip:strict.example>\nRecord-Route: <sip:p2.example;lr>\nFrom: <sip:b@b.example>;tag=rb\nTo: <sip:a@a.example>\nCall-ID: c2\nCSeq: 5 INVITE\nContact: <sip:b@192.0.2.9>\nContent-Length: 0\n\n");
        let mut d = Dialog::uas(&req, "la", 100);
        let (uri, routes) = d.target_and_routes();
        assert_eq!(uri.to_string(), "sip:strict.example");
        assert_eq!(routes, ["<sip:p2.example;lr>", "<sip:b@192.0.2.9>"]);
        assert!(d.accept_remote_seq(6));
        assert!(!d.accept_remote_seq(5));
        assert!(d.accept_remote_seq(6));
        let via = Via::new("WSS", "a.invalid", None, "z9hG4bK3");
        let seq = d.next_seq();
        let bye = d.request(Method::Bye, seq, &via).to_string();
        assert!(bye.contains("From: <sip:a@a.example>;tag=la\r\n"), "{bye}");
        assert!(bye.contains("To: <sip:b@b.example>;tag=rb\r\n"), "{bye}");
        assert!(bye.contains("CSeq: 101 BYE\r\n"), "{bye}");
        // An RFC 2543 peer without tags still matches.
        let old = inc("INVITE sip:a@x.invalid SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: <sip:b@b.example>\nTo: <sip:a@a.example>\nCall-ID: c3\nCSeq: 1 INVITE\n\n");
        let d = Dialog::uas(&old, "t", 1);
        assert!(d.matches("c3", Some("t"), None));
        assert_eq!(d.remote_target().to_string(), "sip:b@b.example");
    }
}

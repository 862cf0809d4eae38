//! Transaction keys and request/response matching (RFC 3261 §17.1.3, §17.2.3, §9.2).

use crate::sip::message::{display_by_print, CSeq, Incoming, Method, StartLine, Uri, Via};
use crate::sip::{push_fill, Print};
use std::cmp::Ordering;

/// Identifies one transaction. Client and server keys never collide.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TsxKey {
    /// A client transaction: the branch of the top Via of the request we sent and the
    /// request method (RFC 3261 §17.1.3). An INVITE and its CANCEL share the branch.
    Client {
        /// The branch, with the `z9hG4bK` magic cookie.
        branch: Box<str>,
        /// The method of the request that created the transaction.
        method: Method,
    },
    /// A server transaction for an RFC 3261 request: branch and sent-by of the top Via
    /// and the method, ACK counted as INVITE (RFC 3261 §17.2.3).
    Server {
        /// The branch, with the `z9hG4bK` magic cookie.
        branch: Box<str>,
        /// `host[:port]` of the top Via, host in lower case.
        sent_by: Box<str>,
        /// The method of the request that created the transaction (never ACK).
        method: Method,
    },
    /// A server transaction for a request whose top Via branch lacks the magic cookie
    /// (an RFC 2543 peer). Requests are matched to it by the §17.2.3 fallback rules;
    /// `id` numbers these transactions in creation order.
    Rfc2543 {
        /// A number unique among this layer's RFC 2543 transactions.
        id: u64,
        /// The method of the request that created the transaction (never ACK).
        method: Method,
    },
}

impl TsxKey {
    /// The method of the request that created the transaction.
    pub fn method(&self) -> &Method {
        match self {
            TsxKey::Client { method, .. }
            | TsxKey::Server { method, .. }
            | TsxKey::Rfc2543 { method, .. } => method,
        }
    }

    /// True for a client transaction.
    pub fn is_client(&self) -> bool {
        matches!(self, TsxKey::Client { .. })
    }

    /// The branch, if the key has one.
    pub fn branch(&self) -> Option<&str> {
        match self {
            TsxKey::Client { branch, .. } | TsxKey::Server { branch, .. } => Some(branch),
            TsxKey::Rfc2543 { .. } => None,
        }
    }

    /// The key of the client transaction that sent a request with this top Via and
    /// method, if the branch carries the magic cookie.
    pub(crate) fn client(top: &Via, method: &Method) -> Option<TsxKey> {
        if !top.is_rfc3261_branch() {
            return None;
        }
        Some(TsxKey::Client {
            branch: top.branch()?.into(),
            method: method.clone(),
        })
    }

    /// The server key of a received request (ACK maps to INVITE), if its top Via
    /// branch carries the magic cookie (RFC 3261 §17.2.3).
    pub(crate) fn server(top: &Via, method: &Method) -> Option<TsxKey> {
        if !top.is_rfc3261_branch() {
            return None;
        }
        let method = match method {
            Method::Ack => Method::Invite,
            m => m.clone(),
        };
        Some(TsxKey::Server {
            branch: top.branch()?.into(),
            sent_by: sent_by(top).into(),
            method,
        })
    }

    fn rank(&self) -> (u8, &str, &str, u64, &str) {
        match self {
            TsxKey::Client { branch, method } => (0, branch, "", 0, method.as_str()),
            TsxKey::Server {
                branch,
                sent_by,
                method,
            } => (1, branch, sent_by, 0, method.as_str()),
            TsxKey::Rfc2543 { id, method } => (2, "", "", *id, method.as_str()),
        }
    }
}

impl Ord for TsxKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for TsxKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Print for TsxKey {
    fn print(&self, out: &mut String) {
        match self {
            TsxKey::Client { branch, method } => push_fill(out, "client {} {}", &[method, branch]),
            TsxKey::Server {
                branch,
                sent_by,
                method,
            } => push_fill(out, "server {} {} from {}", &[method, branch, sent_by]),
            TsxKey::Rfc2543 { id, method } => push_fill(out, "server {} rfc2543#{}", &[method, id]),
        }
    }
}

display_by_print!(TsxKey);

/// `host[:port]` of a Via, host lower-cased (hosts compare case-insensitively).
fn sent_by(v: &Via) -> String {
    let mut s = v.host().to_ascii_lowercase();
    if let Some(p) = v.port {
        s.push(':');
        p.print(&mut s);
    }
    s
}

/// What the RFC 2543 fallback of RFC 3261 §17.2.3 compares: the Request-URI, To tag,
/// From tag, Call-ID, CSeq and top Via of the request that created the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rfc2543Match {
    uri: Uri,
    to_tag: Option<String>,
    from_tag: Option<String>,
    call_id: Option<String>,
    cseq: Option<CSeq>,
    top_via: Option<Via>,
}

impl Rfc2543Match {
    pub(crate) fn of(req: &Incoming) -> Option<Rfc2543Match> {
        let StartLine::Request(line) = &req.msg.start else {
            return None;
        };
        let b = &req.base;
        Some(Rfc2543Match {
            uri: line.uri.clone(),
            to_tag: b.to.as_ref().and_then(|t| t.tag()).map(str::to_owned),
            from_tag: b.from.as_ref().and_then(|t| t.tag()).map(str::to_owned),
            call_id: b.call_id.clone(),
            cseq: b.cseq.clone(),
            top_via: b.vias.first().cloned(),
        })
    }

    fn common(&self, other: &Rfc2543Match) -> bool {
        self.uri == other.uri
            && self.from_tag == other.from_tag
            && self.call_id == other.call_id
            && self.top_via == other.top_via
            && self.cseq.as_ref().map(|c| c.seq) == other.cseq.as_ref().map(|c| c.seq)
    }

    /// A retransmission of the request that created the transaction: everything
    /// equal, CSeq method included (§17.2.3).
    pub(crate) fn same_request(&self, req: &Rfc2543Match) -> bool {
        self.common(req)
            && self.to_tag == req.to_tag
            && self.cseq.as_ref().map(|c| &c.method) == req.cseq.as_ref().map(|c| &c.method)
    }

    /// An ACK for this INVITE: same Request-URI, From tag, Call-ID, CSeq number and
    /// top Via, and the To tag of the response the transaction sent (§17.2.3).
    pub(crate) fn acked_by(&self, ack: &Rfc2543Match, response_to_tag: Option<&str>) -> bool {
        self.common(ack) && ack.to_tag.as_deref() == response_to_tag
    }

    /// The transaction a CANCEL targets: matched as if the CANCEL had the method of
    /// the request it cancels (§9.2), so the CSeq method is not compared.
    pub(crate) fn cancelled_by(&self, cancel: &Rfc2543Match) -> bool {
        self.common(cancel) && self.to_tag == cancel.to_tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::TypedHeader;

    #[test]
    fn server_key_maps_ack_and_normalises_sent_by() {
        let v = Via::parse("SIP/2.0/WSS EXAMPLE.invalid:443;branch=z9hG4bKx").unwrap();
        let inv = TsxKey::server(&v, &Method::Invite).unwrap();
        assert_eq!(TsxKey::server(&v, &Method::Ack).unwrap(), inv);
        assert_ne!(TsxKey::server(&v, &Method::Cancel).unwrap(), inv);
        assert_eq!(
            inv,
            TsxKey::Server {
                branch: "z9hG4bKx".into(),
                sent_by: "example.invalid:443".into(),
                method: Method::Invite
            }
        );
        let old = Via::parse("SIP/2.0/UDP h;branch=1234").unwrap();
        assert_eq!(TsxKey::server(&old, &Method::Invite), None);
        assert_eq!(TsxKey::client(&old, &Method::Invite), None);
        assert!(TsxKey::client(&v, &Method::Bye).unwrap().is_client());
    }
}

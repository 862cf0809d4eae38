//! The transaction layer (RFC 3261 §17, amended by RFC 6026), sans-IO.
//!
//! A [`TransactionLayer`] owns every client and server transaction of one UA. It reads
//! no clock (every input carries `now`), draws no random number (the caller chooses
//! branches; the layer only reuses the INVITE's branch for its ACK and CANCEL, as
//! §17.1.1.3 and §9.1 require) and performs no I/O.
//!
//! The transport is a WebSocket (RFC 7118): reliable, one message per frame. So no
//! request or response is ever retransmitted by this layer, and Timers D, I, J and K
//! are zero (see [`Timer`]).
//!
//! # Driving it
//!
//! Inputs are [`send_request`](TransactionLayer::send_request),
//! [`send_cancel`](TransactionLayer::send_cancel),
//! [`respond`](TransactionLayer::respond) (commands from the TU),
//! [`handle_request`](TransactionLayer::handle_request),
//! [`handle_response`](TransactionLayer::handle_response),
//! [`handle_transport_error`](TransactionLayer::handle_transport_error) (from the
//! transport) and [`handle_timeout`](TransactionLayer::handle_timeout).
//!
//! **After any `handle_*` or command call, drain
//! [`poll_transmit`](TransactionLayer::poll_transmit) (print each message with
//! `Message::to_bytes` and send it) and [`poll_event`](TransactionLayer::poll_event),
//! then re-arm the timer at [`poll_timeout`](TransactionLayer::poll_timeout)** and call
//! `handle_timeout(now)` when it fires. Calling `handle_timeout` early is harmless.
//! A zero-duration timer (D, I, J, K) is due at the `now` it was armed with, so the
//! transaction lingers until that `handle_timeout` call and absorbs any duplicate
//! that arrives first.
//!
//! Every key handed out (by a return value or a [`TsxEvent::Request`]) is later
//! reported exactly once by [`TsxEvent::Terminated`], after which the transaction is
//! gone ([`TransactionLayer::len`] counts the live ones).
//!
//! # What the TU still does
//!
//! The ACK for a 2xx and the retransmission of a 2xx it sends (RFC 6026 §7.1, §7.2);
//! a 100 Trying for an INVITE (§17.2.1 lets the transaction skip it when the TU answers
//! within 200 ms); responses to every request and CANCEL it is given (a server
//! transaction waits for them without a timer); a CANCEL (or other give-up) for an
//! INVITE that stays in Proceeding, which has no timer once a provisional arrived
//! (§17.1.1.2); and the §8.2 checks beyond form.

mod client;
mod key;
mod server;
mod timer;

pub use key::TsxKey;
pub use server::build_response;
pub use timer::{Timer, TimerConfig};

use crate::sip::message::display_by_print;
use crate::sip::message::{
    Base, HeaderName, Incoming, Message, Method, ParseError, StartLine, Via,
};
use crate::sip::time::Instant;
use crate::sip::{push_fill, Print};
use client::ClientTsx;
use key::Rfc2543Match;
use server::{AckOutcome, ServerTsx};
use std::collections::VecDeque;
use std::rc::Rc;

/// The state of a transaction (RFC 3261 Figures 5–8, RFC 6026 Figures 5 and 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsxState {
    /// A CANCEL waiting for a provisional response to its INVITE before it may be
    /// sent (RFC 3261 §9.1). Not an RFC state.
    Queued,
    /// INVITE client: request sent, nothing received (§17.1.1.2).
    Calling,
    /// Non-INVITE client: request sent; non-INVITE server: request passed up
    /// (§17.1.2.2, §17.2.2).
    Trying,
    /// A provisional was received (client) or the request awaits or got a provisional
    /// (server).
    Proceeding,
    /// A final (non-2xx for INVITE) was received or sent; absorbing retransmissions.
    Completed,
    /// INVITE: a 2xx was received or sent (RFC 6026 §7.1, §7.2).
    Accepted,
    /// INVITE server: the ACK for a non-2xx arrived (§17.2.1).
    Confirmed,
    /// Over; the transaction is removed as soon as it gets here.
    Terminated,
}

impl TsxState {
    /// The variant's name, for logs.
    pub fn name(self) -> &'static str {
        match self {
            TsxState::Queued => "Queued",
            TsxState::Calling => "Calling",
            TsxState::Trying => "Trying",
            TsxState::Proceeding => "Proceeding",
            TsxState::Completed => "Completed",
            TsxState::Accepted => "Accepted",
            TsxState::Confirmed => "Confirmed",
            TsxState::Terminated => "Terminated",
        }
    }
}

/// What the layer tells the TU. Every variant names the transaction it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsxEvent {
    /// A new request created the server transaction `key`; answer it with
    /// [`TransactionLayer::respond`].
    Request {
        /// The new server transaction.
        key: TsxKey,
        /// The request, shared with the server transaction (which keeps it to build
        /// its responses): no copy per request.
        request: Rc<Incoming>,
    },
    /// A response for the client transaction `key`: a provisional, a final, or in
    /// Accepted a retransmitted or forked 2xx to an INVITE (RFC 6026 §7.2).
    Response {
        /// The client transaction.
        key: TsxKey,
        /// The response.
        response: Box<Incoming>,
    },
    /// A CANCEL for the server transaction `target` (RFC 3261 §9.2). It has its own
    /// server transaction `key`: answer it 200, and answer `target` 487 if it has no
    /// final response yet.
    Cancel {
        /// The CANCEL's own (non-INVITE) server transaction.
        key: TsxKey,
        /// The transaction it cancels.
        target: TsxKey,
        /// The CANCEL.
        request: Rc<Incoming>,
    },
    /// An ACK that is not part of a transaction: the ACK for a 2xx (RFC 6026 §7.1).
    /// `key` is the INVITE server transaction in Accepted it matched, if any.
    Ack {
        /// The matched INVITE server transaction in Accepted, if any.
        key: Option<TsxKey>,
        /// The ACK.
        request: Rc<Incoming>,
    },
    /// A 2xx to an INVITE that matches no transaction (its Timer M has run out, or it
    /// was never ours). RFC 3261 §18.1.2 passes it to the core: a UA that has no
    /// dialog for it should ACK it and send BYE (§13.2.2.4).
    Stray2xx {
        /// The response.
        response: Box<Incoming>,
    },
    /// The queued CANCEL `key` was dropped unsent: its INVITE got a final response,
    /// timed out or failed first (§9.1).
    CancelDropped {
        /// The CANCEL client transaction (it terminates next).
        key: TsxKey,
        /// Its INVITE client transaction.
        invite: TsxKey,
    },
    /// Timer B or F (no final response), or H (no ACK), fired (§17.1.1.2, §17.1.2.2,
    /// §17.2.1).
    Timeout {
        /// The failed transaction (it terminates next).
        key: TsxKey,
        /// Which timer.
        timer: Timer,
    },
    /// The transport failed while the transaction was live (§17.1.4, §17.2.4).
    TransportError {
        /// The failed transaction (it terminates next).
        key: TsxKey,
    },
    /// The transaction is gone; the TU can free what it kept for it.
    Terminated {
        /// The transaction.
        key: TsxKey,
    },
}

/// What [`TransactionLayer::handle_request`] did with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// A new server transaction; a [`TsxEvent::Request`] was queued.
    New(TsxKey),
    /// A retransmission absorbed by transaction `key`, which resent its last response
    /// if it had one to resend (§17.2.1, §17.2.2).
    Retransmission(TsxKey),
    /// An ACK absorbed by the INVITE server transaction `key` (an ACK for its non-2xx
    /// final, §17.2.1; Timer I is running).
    AckAbsorbed(TsxKey),
    /// An ACK for a 2xx, passed up as [`TsxEvent::Ack`] (RFC 6026 §7.1).
    AckToTu,
    /// A CANCEL for `target`; it created the server transaction `key` and a
    /// [`TsxEvent::Cancel`] was queued (§9.2).
    Cancel {
        /// The CANCEL's server transaction.
        key: TsxKey,
        /// The transaction it cancels.
        target: TsxKey,
    },
    /// A CANCEL matching no transaction: the layer answered it 481 through its new
    /// server transaction `key` (§9.2). No event but `Terminated` follows.
    CancelUnmatched(TsxKey),
    /// Not a request, or one without the headers a transaction needs (§8.1.1); it was
    /// dropped. The UA may answer it 400 statelessly when it has a Via.
    Invalid(ParseError),
}

/// What [`TransactionLayer::handle_response`] did with a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseDisposition {
    /// Given to the client transaction `key` (which passed it up or absorbed it).
    Matched(TsxKey),
    /// A 2xx to an INVITE matching no transaction, passed up as [`TsxEvent::Stray2xx`].
    Stray2xx,
    /// Dropped: no matching transaction, not a response, no CSeq, or not exactly one
    /// Via (§8.1.3.3, §18.1.2).
    Dropped,
}

/// An API misuse or a request the layer cannot send. Nothing changed when one is
/// returned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsxError {
    /// `send_request` was given a response.
    NotARequest,
    /// `respond` was given a request.
    NotAResponse,
    /// ACK and CANCEL are not sent with `send_request` (the TU sends the ACK for a 2xx
    /// itself; use `send_cancel`).
    InvalidMethod(Method),
    /// A base header of the request is malformed.
    Malformed(ParseError),
    /// A header a transaction needs is missing (§8.1.1).
    MissingHeader(HeaderName),
    /// The top Via has no branch starting with the magic cookie `z9hG4bK` (§8.1.1.7).
    InvalidBranch,
    /// A transaction with this key already exists.
    Exists(TsxKey),
    /// No live transaction has this key (never created, or terminated).
    Unknown(TsxKey),
    /// The key names the wrong kind of transaction: `respond` needs a server one,
    /// `send_cancel` an INVITE client one.
    WrongKind(TsxKey),
    /// A status code outside 100–699.
    InvalidStatus(u16),
    /// The transaction's state forbids this (a response after the final one; a
    /// non-2xx after a 2xx; a CANCEL after the final response).
    InvalidState {
        /// The transaction.
        key: TsxKey,
        /// Its state.
        state: TsxState,
    },
}

impl Print for TsxError {
    fn print(&self, out: &mut String) {
        match self {
            TsxError::NotARequest => out.push_str("not a request"),
            TsxError::NotAResponse => out.push_str("not a response"),
            TsxError::InvalidMethod(m) => {
                push_fill(out, "{} cannot start a client transaction", &[m])
            }
            TsxError::Malformed(e) => push_fill(out, "malformed request: {}", &[e]),
            TsxError::MissingHeader(h) => push_fill(out, "missing {} header", &[h]),
            TsxError::InvalidBranch => out.push_str("top Via branch lacks the z9hG4bK cookie"),
            TsxError::Exists(k) => push_fill(out, "transaction exists: {}", &[k]),
            TsxError::Unknown(k) => push_fill(out, "no such transaction: {}", &[k]),
            TsxError::WrongKind(k) => push_fill(out, "wrong kind of transaction: {}", &[k]),
            TsxError::InvalidStatus(c) => push_fill(out, "invalid status code {}", &[c]),
            TsxError::InvalidState { key, state } => {
                push_fill(out, "not allowed in state {}: {}", &[&state.name(), key])
            }
        }
    }
}

display_by_print!(TsxError);

impl std::error::Error for TsxError {}

/// Output queues shared by the transactions.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub(crate) transmits: VecDeque<Message>,
    pub(crate) events: VecDeque<TsxEvent>,
}

#[derive(Debug)]
enum Tsx {
    Client(ClientTsx),
    Server(ServerTsx),
}

impl Tsx {
    fn state(&self) -> TsxState {
        match self {
            Tsx::Client(c) => c.state,
            Tsx::Server(s) => s.state,
        }
    }

    fn next_timer(&self) -> Option<(Instant, Timer)> {
        match self {
            Tsx::Client(c) => c.timers.next(),
            Tsx::Server(s) => s.timers.next(),
        }
    }
}

/// Every client and server transaction of a UA. See the [module docs](self) for the
/// drive loop.
///
/// ```
/// use sipwasm::sip::message::Message;
/// use sipwasm::sip::time::Instant;
/// use sipwasm::sip::transaction::{Timer, TransactionLayer, TsxEvent};
///
/// let mut layer = TransactionLayer::default();
/// let invite = Message::parse(
///     b"INVITE sip:bob@b.example SIP/2.0\r\n\
///       Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\n\
///       Max-Forwards: 70\r\nFrom: <sip:a@a.example>;tag=1\r\n\
///       To: <sip:bob@b.example>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n",
/// )?;
/// let key = layer.send_request(Instant::ZERO, invite)?;
/// // After every call: drain, then re-arm the one timer.
/// while let Some(m) = layer.poll_transmit() {
///     let _bytes = m.to_bytes(); // websocket.send(..)
/// }
/// while let Some(_event) = layer.poll_event() {}
/// let deadline = layer.poll_timeout();
/// assert_eq!(deadline, Some(Instant::from_millis(32_000))); // Timer B = 64*T1
///
/// layer.handle_timeout(Instant::from_millis(32_000));
/// assert_eq!(layer.poll_event(), Some(TsxEvent::Timeout { key: key.clone(), timer: Timer::B }));
/// assert_eq!(layer.poll_event(), Some(TsxEvent::Terminated { key }));
/// assert!(layer.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TransactionLayer {
    config: TimerConfig,
    /// Ordered, so timers firing together and transport errors report in key order.
    tsxs: Tsxs,
    out: Out,
    next_rfc2543: u64,
}

impl Default for TransactionLayer {
    fn default() -> Self {
        TransactionLayer::new(TimerConfig::default())
    }
}

impl TransactionLayer {
    /// An empty layer with these timer values.
    pub fn new(config: TimerConfig) -> Self {
        TransactionLayer {
            config,
            tsxs: Tsxs::default(),
            out: Out::default(),
            next_rfc2543: 0,
        }
    }

    /// The timer values.
    pub fn config(&self) -> &TimerConfig {
        &self.config
    }

    /// How many transactions are live.
    pub fn len(&self) -> usize {
        self.tsxs.len()
    }

    /// True when no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.tsxs.is_empty()
    }

    /// The state of a live transaction.
    pub fn state(&self, key: &TsxKey) -> Option<TsxState> {
        self.tsxs.get(key).map(Tsx::state)
    }

    /// The request of a live transaction: as sent (client) or received (server).
    pub fn request(&self, key: &TsxKey) -> Option<&Message> {
        match self.tsxs.get(key)? {
            Tsx::Client(c) => Some(&c.request),
            Tsx::Server(s) => Some(&s.request.msg),
        }
    }

    /// The next message to send, in order. Poll again after any input or command.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Message> {
        self.out.transmits.pop_front()
    }

    /// The next event for the TU, in order. Poll again after any input or command.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<TsxEvent> {
        self.out.events.pop_front()
    }

    /// The earliest timer deadline across all transactions; `None` when no timer is
    /// armed. Changes after any input or command.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.tsxs
            .iter()
            .filter_map(|(_, t)| t.next_timer().map(|(at, _)| at))
            .min()
    }

    /// Starts a client transaction for `request` and queues it for sending.
    ///
    /// The request must carry its top Via with a branch starting with `z9hG4bK`
    /// (§8.1.1.7), and From, To, Call-ID and a CSeq whose method is the request's
    /// (§8.1.1). An INVITE starts in Calling with Timer B, anything else in Trying with
    /// Timer F (§17.1.1.2, §17.1.2.2).
    pub fn send_request(&mut self, now: Instant, request: Message) -> Result<TsxKey, TsxError> {
        let StartLine::Request(line) = &request.start else {
            return Err(TsxError::NotARequest);
        };
        let method = line.method.clone();
        let uri = line.uri.clone();
        if matches!(method, Method::Ack | Method::Cancel) {
            return Err(TsxError::InvalidMethod(method));
        }
        let base = Base::extract(&request.headers, Some(&method)).map_err(TsxError::Malformed)?;
        let top = base
            .vias
            .first()
            .ok_or(TsxError::MissingHeader(HeaderName::Via))?;
        let key = TsxKey::client(top, &method).ok_or(TsxError::InvalidBranch)?;
        let seq = required(&base)?;
        if self.tsxs.contains_key(&key) {
            return Err(TsxError::Exists(key));
        }
        let mut tsx = ClientTsx::new(request.clone(), uri, top.clone(), seq);
        tsx.start(now, &self.config);
        self.out.transmits.push_back(request);
        self.tsxs.insert(key.clone(), Tsx::Client(tsx));
        Ok(key)
    }

    /// Cancels the INVITE client transaction `invite` (§9.1) and returns the key of
    /// the CANCEL's client transaction.
    ///
    /// The CANCEL copies the INVITE's Request-URI, Call-ID, To, From, CSeq number
    /// (method CANCEL), top Via (the only one) and Route headers. It is sent once the
    /// INVITE has received a provisional response: right away in Proceeding, queued in
    /// Calling (and dropped with [`TsxEvent::CancelDropped`] if the INVITE ends first).
    /// Once sent, the INVITE is given 64*T1 to end (Timer B re-armed, §9.1).
    pub fn send_cancel(&mut self, now: Instant, invite: &TsxKey) -> Result<TsxKey, TsxError> {
        let Some(tsx) = self.tsxs.get(invite) else {
            return Err(TsxError::Unknown(invite.clone()));
        };
        let (Tsx::Client(inv), Method::Invite) = (tsx, invite.method()) else {
            return Err(TsxError::WrongKind(invite.clone()));
        };
        let send_now = match inv.state {
            TsxState::Calling => false,
            TsxState::Proceeding => true,
            state => {
                return Err(TsxError::InvalidState {
                    key: invite.clone(),
                    state,
                })
            }
        };
        let key = TsxKey::client(inv.top_via(), &Method::Cancel)
            .ok_or(TsxError::WrongKind(invite.clone()))?;
        if self.tsxs.contains_key(&key) {
            return Err(TsxError::Exists(key));
        }
        let cancel = inv.build_cancel();
        let uri = match &cancel.start {
            StartLine::Request(r) => r.uri.clone(),
            StartLine::Response(_) => return Err(TsxError::WrongKind(invite.clone())),
        };
        let tsx = ClientTsx::new(cancel, uri, inv.top_via().clone(), inv.seq());
        self.tsxs.insert(key.clone(), Tsx::Client(tsx));
        if send_now {
            self.start_cancel(now, invite, &key);
        }
        Ok(key)
    }

    /// Sends the queued CANCEL `cancel` of `invite` and gives the INVITE 64*T1 to end.
    fn start_cancel(&mut self, now: Instant, invite: &TsxKey, cancel: &TsxKey) {
        match self.tsxs.get_mut(cancel) {
            Some(Tsx::Client(c)) if c.state == TsxState::Queued => {
                c.start(now, &self.config);
                self.out.transmits.push_back(c.request.clone());
            }
            _ => return,
        }
        if let Some(Tsx::Client(inv)) = self.tsxs.get_mut(invite) {
            inv.timers.start(Timer::B, now, &self.config);
        }
    }

    /// Drops the CANCEL of `invite` if it is still queued (§9.1).
    fn drop_queued_cancel(&mut self, invite: &TsxKey) {
        let Some(branch) = invite.branch() else {
            return;
        };
        let key = TsxKey::Client {
            branch: branch.into(),
            method: Method::Cancel,
        };
        if let Some(Tsx::Client(c)) = self.tsxs.get_mut(&key) {
            if c.state == TsxState::Queued {
                c.terminate();
                self.out.events.push_back(TsxEvent::CancelDropped {
                    key: key.clone(),
                    invite: invite.clone(),
                });
                self.reap(&key);
            }
        }
    }

    /// A response from the transport. It goes to the client transaction with the same
    /// top Via branch and CSeq method (§17.1.3). A 2xx to an INVITE matching none goes
    /// up as [`TsxEvent::Stray2xx`]; any other unmatched response is dropped (§18.1.2).
    pub fn handle_response(
        &mut self,
        now: Instant,
        response: impl Into<Box<Incoming>>,
    ) -> ResponseDisposition {
        let response = response.into();
        let Some(code) = response.msg.status() else {
            return ResponseDisposition::Dropped;
        };
        let (Some(cseq), [top]) = (&response.base.cseq, response.base.vias.as_slice()) else {
            return ResponseDisposition::Dropped;
        };
        let is_invite = cseq.method == Method::Invite;
        let key = TsxKey::client(top, &cseq.method);
        let Some((key, Tsx::Client(tsx))) = key
            .as_ref()
            .and_then(|k| self.tsxs.get_mut(k).map(|t| (k, t)))
        else {
            // A response without an RFC 3261 branch was never ours.
            if is_invite && key.is_some() && (200..=299).contains(&code) {
                self.out.events.push_back(TsxEvent::Stray2xx { response });
                return ResponseDisposition::Stray2xx;
            }
            return ResponseDisposition::Dropped;
        };
        tsx.on_response(now, &self.config, key, response, &mut self.out);
        let state = tsx.state;
        let key = key.clone();
        if is_invite {
            match state {
                TsxState::Proceeding => {
                    let cancel = TsxKey::Client {
                        branch: key.branch().unwrap_or_default().into(),
                        method: Method::Cancel,
                    };
                    self.start_cancel(now, &key, &cancel);
                }
                TsxState::Completed | TsxState::Accepted => self.drop_queued_cancel(&key),
                _ => {}
            }
        }
        self.reap(&key);
        ResponseDisposition::Matched(key)
    }

    /// A request from the transport (§17.2.3 matching, §9.2 for CANCEL, RFC 6026 §7.1
    /// for ACK). See [`Disposition`] for the outcomes.
    pub fn handle_request(
        &mut self,
        now: Instant,
        request: impl Into<Rc<Incoming>>,
    ) -> Disposition {
        let request = request.into();
        let Some(method) = request.msg.method().cloned() else {
            return Disposition::Invalid(ParseError {
                reason: "not a request",
                status: 400,
                header: None,
            });
        };
        if let Err(e) = request.check_request() {
            return Disposition::Invalid(e);
        }
        let Some(top) = request.base.vias.first() else {
            return Disposition::Invalid(ParseError {
                reason: "missing Via",
                status: 400,
                header: Some(HeaderName::Via),
            });
        };
        let rfc3261 = TsxKey::server(top, &method);
        let rfc2543 = match rfc3261 {
            Some(_) => None,
            None => Rfc2543Match::of(&request),
        };
        match method {
            Method::Ack => self.on_ack(now, rfc3261, rfc2543, request),
            Method::Cancel => self.on_cancel(now, rfc3261, rfc2543, top.clone(), request),
            _ => {
                if let Some(key) = self.find_server(rfc3261.as_ref(), rfc2543.as_ref()) {
                    if let Some(Tsx::Server(s)) = self.tsxs.get_mut(&key) {
                        s.on_retransmission(&mut self.out);
                    }
                    return Disposition::Retransmission(key);
                }
                let key = self.insert_server(rfc3261, rfc2543, &method, request.clone());
                self.out.events.push_back(TsxEvent::Request {
                    key: key.clone(),
                    request,
                });
                Disposition::New(key)
            }
        }
    }

    /// The server transaction a (non-ACK) request is a retransmission of.
    fn find_server(
        &self,
        rfc3261: Option<&TsxKey>,
        rfc2543: Option<&Rfc2543Match>,
    ) -> Option<TsxKey> {
        if let Some(k) = rfc3261 {
            return self.tsxs.contains_key(k).then(|| k.clone());
        }
        let m = rfc2543?;
        self.tsxs.iter().find_map(|(k, t)| match t {
            Tsx::Server(s) if s.rfc2543.as_ref().is_some_and(|o| o.same_request(m)) => {
                Some(k.clone())
            }
            _ => None,
        })
    }

    fn insert_server(
        &mut self,
        rfc3261: Option<TsxKey>,
        rfc2543: Option<Rfc2543Match>,
        method: &Method,
        request: Rc<Incoming>,
    ) -> TsxKey {
        let key = rfc3261.unwrap_or_else(|| {
            self.next_rfc2543 = self.next_rfc2543.wrapping_add(1);
            TsxKey::Rfc2543 {
                id: self.next_rfc2543,
                method: method.clone(),
            }
        });
        self.tsxs
            .insert(key.clone(), Tsx::Server(ServerTsx::new(request, rfc2543)));
        key
    }

    fn on_ack(
        &mut self,
        now: Instant,
        rfc3261: Option<TsxKey>,
        rfc2543: Option<Rfc2543Match>,
        request: Rc<Incoming>,
    ) -> Disposition {
        let found = match (&rfc3261, &rfc2543) {
            (Some(k), _) => self.tsxs.contains_key(k).then(|| k.clone()),
            (None, Some(m)) => self.tsxs.iter().find_map(|(k, t)| match t {
                Tsx::Server(s)
                    if k.method() == &Method::Invite
                        && s.rfc2543
                            .as_ref()
                            .is_some_and(|o| o.acked_by(m, s.response_to_tag())) =>
                {
                    Some(k.clone())
                }
                _ => None,
            }),
            (None, None) => None,
        };
        let outcome = match found.as_ref().and_then(|k| self.tsxs.get_mut(k)) {
            Some(Tsx::Server(s)) => Some(s.on_ack(now, &self.config)),
            _ => None,
        };
        match (found, outcome) {
            (Some(key), Some(AckOutcome::Absorbed)) => Disposition::AckAbsorbed(key),
            (key, _) => {
                self.out.events.push_back(TsxEvent::Ack { key, request });
                Disposition::AckToTu
            }
        }
    }

    fn on_cancel(
        &mut self,
        now: Instant,
        rfc3261: Option<TsxKey>,
        rfc2543: Option<Rfc2543Match>,
        top: Via,
        request: Rc<Incoming>,
    ) -> Disposition {
        if let Some(key) = self.find_server(rfc3261.as_ref(), rfc2543.as_ref()) {
            if let Some(Tsx::Server(s)) = self.tsxs.get_mut(&key) {
                s.on_retransmission(&mut self.out);
            }
            return Disposition::Retransmission(key);
        }
        // §9.2: the target is matched as if the CANCEL had its method; prefer an INVITE.
        let target = match (&rfc3261, &rfc2543) {
            (Some(_), _) => TsxKey::server(&top, &Method::Invite)
                .filter(|k| self.tsxs.contains_key(k))
                .or_else(|| {
                    let branch = top.branch().unwrap_or_default();
                    let TsxKey::Server { sent_by, .. } = rfc3261.as_ref()? else {
                        return None;
                    };
                    self.tsxs.iter().find_map(|(k, _)| match k {
                        TsxKey::Server {
                            branch: b,
                            sent_by: s,
                            method,
                        } if &**b == branch && s == sent_by && *method != Method::Cancel => {
                            Some(k.clone())
                        }
                        _ => None,
                    })
                }),
            (None, Some(m)) => self.tsxs.iter().find_map(|(k, t)| match t {
                Tsx::Server(s)
                    if k.method() != &Method::Cancel
                        && s.rfc2543.as_ref().is_some_and(|o| o.cancelled_by(m)) =>
                {
                    Some(k.clone())
                }
                _ => None,
            }),
            (None, None) => None,
        };
        let key = self.insert_server(rfc3261, rfc2543, &Method::Cancel, request.clone());
        match target {
            Some(target) => {
                self.out.events.push_back(TsxEvent::Cancel {
                    key: key.clone(),
                    target: target.clone(),
                    request,
                });
                Disposition::Cancel { key, target }
            }
            None => {
                let tag = server::derived_tag(&request);
                let resp = build_response(
                    &request.msg,
                    481,
                    "Call/Transaction Does Not Exist",
                    Some(&tag),
                );
                if let Some(Tsx::Server(s)) = self.tsxs.get_mut(&key) {
                    // A fresh non-INVITE server transaction in Trying accepts a final.
                    let _ = s.respond(now, &self.config, &key, resp, &mut self.out);
                }
                Disposition::CancelUnmatched(key)
            }
        }
    }

    /// Sends `response` through the server transaction `key` (§17.2.1, §17.2.2, RFC
    /// 6026 §7.1). A 2xx to an INVITE moves it to Accepted (Timer L), where further
    /// 2xx (the TU's retransmissions) are still sent; a 300–699 to Completed (Timer
    /// H). Build the response with [`build_response`] or as §8.2.6 says.
    pub fn respond(
        &mut self,
        now: Instant,
        key: &TsxKey,
        response: Message,
    ) -> Result<(), TsxError> {
        match self.tsxs.get_mut(key) {
            None => Err(TsxError::Unknown(key.clone())),
            Some(Tsx::Client(_)) => Err(TsxError::WrongKind(key.clone())),
            Some(Tsx::Server(s)) => s.respond(now, &self.config, key, response, &mut self.out),
        }
    }

    /// Fires every timer due at or before `now`, earliest first. Early calls do
    /// nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        loop {
            let due = self
                .tsxs
                .iter()
                .filter_map(|(k, t)| t.next_timer().map(|(at, timer)| (at, k, timer)))
                .filter(|(at, _, _)| *at <= now)
                .min();
            let Some((_, key, timer)) = due else {
                break;
            };
            let key = key.clone();
            match self.tsxs.get_mut(&key) {
                Some(Tsx::Client(c)) => {
                    c.timers.stop(timer);
                    c.on_timer(timer, &key, &mut self.out);
                }
                Some(Tsx::Server(s)) => {
                    s.timers.stop(timer);
                    s.on_timer(timer, &key, &mut self.out);
                }
                None => break,
            }
            if key.is_client()
                && key.method() == &Method::Invite
                && self.state(&key) == Some(TsxState::Terminated)
            {
                self.drop_queued_cancel(&key);
            }
            self.reap(&key);
        }
    }

    /// The transport failed (the WebSocket closed, or a send failed). Every live
    /// transaction ends with [`TsxEvent::TransportError`] then
    /// [`TsxEvent::Terminated`] (§17.1.4, §17.2.4); messages not yet polled are
    /// discarded, as they were meant for the dead connection.
    pub fn handle_transport_error(&mut self, _now: Instant) {
        self.out.transmits.clear();
        for (key, _) in std::mem::take(&mut self.tsxs).0 {
            self.out
                .events
                .push_back(TsxEvent::TransportError { key: key.clone() });
            self.out.events.push_back(TsxEvent::Terminated { key });
        }
    }

    /// Removes `key` if it reached Terminated, reporting it.
    fn reap(&mut self, key: &TsxKey) {
        if self.state(key) == Some(TsxState::Terminated) {
            self.tsxs.remove(key);
            self.out
                .events
                .push_back(TsxEvent::Terminated { key: key.clone() });
        }
    }
}

/// The live transactions, sorted by key: a `Vec` searched by bisection (a layer holds
/// a handful of transactions, and this is much less code than a `BTreeMap`).
#[derive(Debug, Default)]
struct Tsxs(Vec<(TsxKey, Tsx)>);

impl Tsxs {
    fn find(&self, key: &TsxKey) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.cmp(key))
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn contains_key(&self, key: &TsxKey) -> bool {
        self.find(key).is_ok()
    }

    fn get(&self, key: &TsxKey) -> Option<&Tsx> {
        let i = self.find(key).ok()?;
        self.0.get(i).map(|(_, t)| t)
    }

    fn get_mut(&mut self, key: &TsxKey) -> Option<&mut Tsx> {
        let i = self.find(key).ok()?;
        self.0.get_mut(i).map(|(_, t)| t)
    }

    /// Adds `tsx` under `key`, replacing a transaction already there.
    fn insert(&mut self, key: TsxKey, tsx: Tsx) {
        match self.find(&key) {
            Ok(i) => {
                if let Some(slot) = self.0.get_mut(i) {
                    slot.1 = tsx;
                }
            }
            Err(i) => self.0.insert(i, (key, tsx)),
        }
    }

    fn remove(&mut self, key: &TsxKey) {
        if let Ok(i) = self.find(key) {
            self.0.remove(i);
        }
    }

    /// In key order.
    fn iter(&self) -> impl Iterator<Item = (&TsxKey, &Tsx)> {
        self.0.iter().map(|(k, t)| (k, t))
    }
}

/// Checks From, To, Call-ID and CSeq are present (§8.1.1) and returns the CSeq number.
fn required(base: &Base) -> Result<u32, TsxError> {
    if base.from.is_none() {
        return Err(TsxError::MissingHeader(HeaderName::From));
    }
    if base.to.is_none() {
        return Err(TsxError::MissingHeader(HeaderName::To));
    }
    if base.call_id.is_none() {
        return Err(TsxError::MissingHeader(HeaderName::CallId));
    }
    base.cseq
        .as_ref()
        .map(|c| c.seq)
        .ok_or(TsxError::MissingHeader(HeaderName::CSeq))
}

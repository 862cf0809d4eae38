//! WebSocket connection decisions: connect, fail over, back off, keep alive.
//!
//! Sans-IO: this module only decides. It never touches a socket; it tells the
//! [`Ua`](crate::sip::ua::Ua) what to do ([`Action`]) and when to call it again
//! ([`Connection::poll_timeout`]).
//!
//! # Connecting and failing over (RFC 7118 §5, RFC 5626 §4.5)
//!
//! - `start` connects to the first server. A `Connect` that yields neither `Connected`
//!   nor `Closed` within [`CONNECT_TIMEOUT`] is a failed attempt.
//! - A failed attempt moves on to the next server in the list (wrapping around).
//! - An established connection that drops is retried on the *same* server first (it was
//!   working; a restart or network blip is the likely cause); if it dropped within
//!   [`STABLE_AFTER`] of opening it counts as a failed attempt instead, so a server that
//!   accepts and then closes cannot cause a reconnect storm.
//! - Before each reconnect the connection waits `min(0.5 s · 2^(k-1), 30 s)` scaled by a
//!   uniform factor in [0.75, 1.25], `k` being the consecutive failures: the randomised,
//!   capped exponential back-off of RFC 5626 §4.5 with shorter times, since a browser
//!   phone reconnects to its own edge proxy. A connection that opens resets `k`.
//!
//! # Keep-alive (RFC 5626 §4.4.1)
//!
//! Every keep-alive interval (randomised to 80–100 % of the configured value, or of the
//! registrar's `Flow-Timer` if that is shorter, as §4.4.1 asks) a double-CRLF ping is
//! sent. The pong (a single CRLF) must arrive within [`PONG_TIMEOUT`] (10 s, §4.4.1)
//! or the flow is treated as failed, **but only once pongs are known to work on this
//! connection**: a pong was already seen, or the registrar answered with
//! `Require: outbound` (it then implements RFC 5626 and must answer). Many WebSocket
//! servers never answer CRLF pings; closing on a missing pong there would kill live
//! connections. Until pongs are known to work, a tick on which nothing at all was
//! received since the previous tick asks the UA to send an OPTIONS probe to the
//! server ([`Action::Probe`]); the UA treats a probe (or REGISTER) that times out
//! (Timer F, 32 s) with nothing received meanwhile as a dead connection. Any received
//! frame counts as proof of life and cancels a pending pong deadline.
//!
//! A dead connection is therefore noticed within interval + 10 s when pongs work, and
//! within 2 · interval + 32 s otherwise; with keep-alives off, only the REGISTER
//! refresh notices it.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::sip::config::ServerUrl;
use crate::sip::rng::Rng;
use crate::sip::time::Instant;
use std::time::Duration;

/// How long a `Connect` may take before it counts as failed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for a pong once pongs are known to work (RFC 5626 §4.4.1).
pub const PONG_TIMEOUT: Duration = Duration::from_secs(10);
/// First reconnect back-off.
pub const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// Longest reconnect back-off.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Back-off jitter, in percent either way.
pub const BACKOFF_JITTER_PCT: u32 = 25;
/// A connection that drops sooner than this after opening counts as a failed attempt.
pub const STABLE_AFTER: Duration = Duration::from_secs(5);
/// Interval of the optional plain-text `heartbeat` frame.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30);

/// The back-off before reconnect attempt number `failures` (1-based), before jitter:
/// `min(BACKOFF_BASE · 2^(failures-1), BACKOFF_MAX)`.
pub fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    BACKOFF_BASE.saturating_mul(1 << exp).min(BACKOFF_MAX)
}

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Not started, or stopped.
    Idle,
    /// `Connect` was emitted; waiting for `Connected` or `Closed` until `deadline`.
    Connecting {
        /// When the attempt counts as failed.
        deadline: Instant,
    },
    /// The WebSocket is open.
    Open {
        /// When it opened.
        since: Instant,
    },
    /// Waiting to reconnect.
    Waiting {
        /// When to connect again.
        until: Instant,
    },
}

/// What the UA must do after [`Connection::handle_timeout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a WebSocket to this URL.
    Connect(String),
    /// The connect attempt timed out: close it, it failed.
    ConnectTimeout,
    /// Send a double-CRLF keep-alive ping (RFC 5626 §4.4.1).
    Ping,
    /// Send the plain-text `heartbeat` frame.
    Heartbeat,
    /// The connection has been silent and pongs are not known to work: send an OPTIONS
    /// to the server to find out whether it is alive.
    Probe,
    /// No pong within [`PONG_TIMEOUT`]: the flow failed (RFC 5626 §4.4.1).
    PongTimeout,
}

/// The connection state machine of one UA.
#[derive(Debug)]
pub struct Connection {
    servers: Vec<ServerUrl>,
    index: usize,
    failures: u32,
    failures_before_open: u32,
    state: ConnState,
    keepalive: Option<Duration>,
    heartbeat: bool,
    flow_timer: Option<Duration>,
    pong_enforced: bool,
    next_ping: Option<Instant>,
    pong_deadline: Option<Instant>,
    next_heartbeat: Option<Instant>,
    last_rx: Option<Instant>,
    last_tick: Instant,
}

impl Connection {
    /// A connection over `servers` (never empty after validation) with the given
    /// keep-alive interval (`None`: off) and heartbeat setting.
    pub fn new(servers: Vec<ServerUrl>, keepalive: Option<Duration>, heartbeat: bool) -> Self {
        Connection {
            servers,
            index: 0,
            failures: 0,
            failures_before_open: 0,
            state: ConnState::Idle,
            keepalive,
            heartbeat,
            flow_timer: None,
            pong_enforced: false,
            next_ping: None,
            pong_deadline: None,
            next_heartbeat: None,
            last_rx: None,
            last_tick: Instant::ZERO,
        }
    }

    /// The current state.
    pub fn state(&self) -> ConnState {
        self.state
    }

    /// True while the WebSocket is open.
    pub fn is_open(&self) -> bool {
        matches!(self.state, ConnState::Open { .. })
    }

    /// The server of the current (or next) attempt.
    pub fn current(&self) -> Option<&ServerUrl> {
        self.servers.get(self.index)
    }

    /// Consecutive failures so far (0 once a connection opened).
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// True once a pong was seen or the registrar required outbound: a missing pong
    /// then means a dead connection.
    pub fn pong_enforced(&self) -> bool {
        self.pong_enforced
    }

    /// When the last frame was received on this connection.
    pub fn last_rx(&self) -> Option<Instant> {
        self.last_rx
    }

    /// Starts connecting to the first server; returns its URL.
    pub fn start(&mut self, now: Instant) -> Option<String> {
        self.index = 0;
        self.failures = 0;
        self.connect(now)
    }

    fn connect(&mut self, now: Instant) -> Option<String> {
        let url = self.current()?.url.clone();
        self.state = ConnState::Connecting {
            deadline: now + CONNECT_TIMEOUT,
        };
        Some(url)
    }

    /// The WebSocket opened: reset the back-off, start the keep-alive timers.
    pub fn on_connected(&mut self, now: Instant, rng: &mut Rng) {
        self.state = ConnState::Open { since: now };
        self.failures_before_open = self.failures;
        self.failures = 0;
        self.clear_flow();
        self.last_tick = now;
        self.next_ping = self.ping_interval(rng).map(|d| now + d);
        self.next_heartbeat = self.heartbeat.then(|| now + HEARTBEAT_INTERVAL);
    }

    /// The connection or the attempt failed: pick the server and the back-off for the
    /// next attempt (see the module docs) and return the wait.
    pub fn on_failure(&mut self, now: Instant, rng: &mut Rng) -> Duration {
        match self.state {
            ConnState::Open { since } if now.saturating_since(since) >= STABLE_AFTER => {
                self.failures = 1;
            }
            ConnState::Open { .. } => {
                self.failures = self.failures_before_open.saturating_add(1);
                self.advance();
            }
            _ => {
                self.failures = self.failures.saturating_add(1);
                self.advance();
            }
        }
        self.clear_flow();
        let wait = rng.jitter(backoff(self.failures), BACKOFF_JITTER_PCT);
        self.state = ConnState::Waiting { until: now + wait };
        wait
    }

    fn advance(&mut self) {
        if !self.servers.is_empty() {
            self.index = (self.index + 1) % self.servers.len();
        }
    }

    /// Stops everything: no reconnect, no keep-alive.
    pub fn stop(&mut self) {
        self.state = ConnState::Idle;
        self.clear_flow();
    }

    /// Stops the keep-alive timers but keeps the connection (while un-REGISTERing).
    pub fn stop_keepalive(&mut self) {
        self.next_ping = None;
        self.pong_deadline = None;
        self.next_heartbeat = None;
    }

    fn clear_flow(&mut self) {
        self.pong_enforced = false;
        self.flow_timer = None;
        self.next_ping = None;
        self.pong_deadline = None;
        self.next_heartbeat = None;
        self.last_rx = None;
    }

    /// A frame arrived: the connection is alive.
    pub fn on_rx(&mut self, now: Instant) {
        self.last_rx = Some(now);
        self.pong_deadline = None;
    }

    /// A CRLF pong arrived: pongs work on this connection from now on.
    pub fn on_pong(&mut self, now: Instant) {
        self.on_rx(now);
        self.pong_enforced = true;
    }

    /// What the registrar's 2xx said about outbound (RFC 5626 §4.2.1, §4.4.1):
    /// `Require: outbound` makes pongs mandatory; `Flow-Timer` caps the interval.
    pub fn on_registrar_outbound(
        &mut self,
        now: Instant,
        rng: &mut Rng,
        require_outbound: bool,
        flow_timer: Option<u32>,
    ) {
        if !self.is_open() {
            return;
        }
        if require_outbound {
            self.pong_enforced = true;
        }
        let flow = flow_timer
            .filter(|&s| s > 0)
            .map(|s| Duration::from_secs(u64::from(s)));
        if flow != self.flow_timer {
            self.flow_timer = flow;
            if let Some(d) = self.ping_interval(rng) {
                let candidate = now + d;
                self.next_ping = Some(self.next_ping.map_or(candidate, |t| t.min(candidate)));
            }
        }
    }

    /// The randomised interval to the next ping: 80–100 % of the configured interval,
    /// or of `Flow-Timer` when shorter (RFC 5626 §4.4.1).
    fn ping_interval(&self, rng: &mut Rng) -> Option<Duration> {
        let base = match (self.keepalive, self.flow_timer) {
            (None, _) => return None,
            (Some(k), Some(f)) => k.min(f),
            (Some(k), None) => k,
        };
        Some(rng.between(crate::sip::rng::percent(base, 80), base))
    }

    /// The next deadline of this state machine.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            ConnState::Idle => None,
            ConnState::Connecting { deadline } => Some(deadline),
            ConnState::Waiting { until } => Some(until),
            ConnState::Open { .. } => [self.next_ping, self.pong_deadline, self.next_heartbeat]
                .into_iter()
                .flatten()
                .min(),
        }
    }

    /// Fires what is due at `now`; early calls return nothing.
    pub fn handle_timeout(&mut self, now: Instant, rng: &mut Rng) -> Vec<Action> {
        let mut actions = Vec::new();
        match self.state {
            ConnState::Idle => {}
            ConnState::Connecting { deadline } => {
                if deadline <= now {
                    actions.push(Action::ConnectTimeout);
                }
            }
            ConnState::Waiting { until } => {
                if until <= now {
                    if let Some(url) = self.connect(now) {
                        actions.push(Action::Connect(url));
                    }
                }
            }
            ConnState::Open { .. } => {
                if self.pong_deadline.is_some_and(|t| t <= now) {
                    self.pong_deadline = None;
                    actions.push(Action::PongTimeout);
                    return actions;
                }
                if let Some(t) = self.next_heartbeat.filter(|t| *t <= now) {
                    self.next_heartbeat = Some(t.max(now) + HEARTBEAT_INTERVAL);
                    actions.push(Action::Heartbeat);
                }
                if self.next_ping.is_some_and(|t| t <= now) {
                    actions.push(Action::Ping);
                    if self.pong_enforced {
                        if self.pong_deadline.is_none() {
                            self.pong_deadline = Some(now + PONG_TIMEOUT);
                        }
                    } else if self.last_rx.is_none_or(|t| t < self.last_tick) {
                        actions.push(Action::Probe);
                    }
                    self.last_tick = now;
                    self.next_ping = self.ping_interval(rng).map(|d| now + d);
                }
            }
        }
        actions
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn servers(n: usize) -> Vec<ServerUrl> {
        (0..n)
            .map(|i| ServerUrl {
                url: format!("wss://s{i}.example"),
                secure: true,
            })
            .collect()
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let ms: Vec<u128> = (1..=8).map(|k| backoff(k).as_millis()).collect();
        assert_eq!(ms, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        assert_eq!(backoff(u32::MAX), BACKOFF_MAX);
    }

    #[test]
    fn failover_and_reset() {
        let mut rng = Rng::from_seed([1; 32]);
        let mut c = Connection::new(servers(2), None, false);
        let t0 = Instant::ZERO;
        assert_eq!(c.start(t0).as_deref(), Some("wss://s0.example"));
        let w = c.on_failure(t0, &mut rng);
        assert!((375..=625).contains(&w.as_millis()));
        assert_eq!(c.current().unwrap().url, "wss://s1.example");
        let ConnState::Waiting { until } = c.state() else {
            panic!("{:?}", c.state())
        };
        assert_eq!(
            c.handle_timeout(until, &mut rng),
            [Action::Connect("wss://s1.example".into())]
        );
        c.on_connected(until, &mut rng);
        assert_eq!(c.failures(), 0);
        // A stable connection drops: same server, first back-off step.
        let later = until + Duration::from_secs(60);
        c.on_failure(later, &mut rng);
        assert_eq!(c.failures(), 1);
        assert_eq!(c.current().unwrap().url, "wss://s1.example");
    }

    #[test]
    fn short_lived_connection_counts_as_failure() {
        let mut rng = Rng::from_seed([2; 32]);
        let mut c = Connection::new(servers(2), None, false);
        let t = Instant::ZERO;
        c.start(t);
        c.on_failure(t, &mut rng);
        c.on_connected(t, &mut rng);
        c.on_failure(t + Duration::from_secs(1), &mut rng);
        assert_eq!(c.failures(), 2);
        assert_eq!(c.current().unwrap().url, "wss://s0.example");
    }
}

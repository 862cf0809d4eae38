//! The transaction timer table (RFC 3261 §17, Table 4 of Appendix A; RFC 6026 §8).
//!
//! The SDK runs SIP over WebSocket only, a reliable transport where one WebSocket
//! message is one SIP message (RFC 7118 §5.3). So there are no retransmission timers
//! (A, E, G) and the wait-for-retransmissions timers D, I, J and K are zero.

use crate::sip::time::Instant;
use std::time::Duration;

/// The timer base values (RFC 3261 §17.1.1.1, §17.1.2.2, Appendix A).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// T1, the round-trip estimate: 500 ms by default. Timers B, F, H, L and M are 64*T1.
    pub t1: Duration,
    /// T2, the longest retransmission interval: 4 s by default. Unused here (no
    /// retransmissions over a reliable transport); the session layer caps its 2xx
    /// retransmissions with it (RFC 3261 §13.3.1.4).
    pub t2: Duration,
    /// T4, how long a message lives in the network: 5 s by default. Unused here
    /// (Timers I and K are zero over a reliable transport).
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64*T1, the transaction timeout (32 s with the default T1).
    pub fn timeout(&self) -> Duration {
        self.t1.saturating_mul(64)
    }
}

/// The transaction timers, named as in RFC 3261 Appendix A and RFC 6026 §8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// INVITE client transaction timeout, 64*T1 (RFC 3261 §17.1.1.2). Also re-armed
    /// when a CANCEL is sent: the INVITE is given up 64*T1 later if no final response
    /// comes (§9.1).
    B,
    /// Wait for retransmitted non-2xx finals to an INVITE: 0 over a reliable transport
    /// (RFC 3261 §17.1.1.2).
    D,
    /// Non-INVITE client transaction timeout, 64*T1 (RFC 3261 §17.1.2.2).
    F,
    /// Wait for the ACK to a non-2xx final, 64*T1 (RFC 3261 §17.2.1).
    H,
    /// Wait for ACK retransmissions: 0 over a reliable transport (RFC 3261 §17.2.1).
    I,
    /// Wait for non-INVITE request retransmissions: 0 over a reliable transport
    /// (RFC 3261 §17.2.2).
    J,
    /// Wait for non-INVITE response retransmissions: 0 over a reliable transport
    /// (RFC 3261 §17.1.2.2).
    K,
    /// INVITE server transaction in Accepted, absorbing INVITE retransmissions after a
    /// 2xx: 64*T1 (RFC 6026 §7.1, §8.4).
    L,
    /// INVITE client transaction in Accepted, passing up retransmitted and forked 2xx:
    /// 64*T1 (RFC 6026 §7.2, §8.11).
    M,
}

impl Timer {
    /// Every timer, in table order.
    pub const ALL: [Timer; 9] = [
        Timer::B,
        Timer::D,
        Timer::F,
        Timer::H,
        Timer::I,
        Timer::J,
        Timer::K,
        Timer::L,
        Timer::M,
    ];

    /// The duration of this timer over a reliable transport.
    pub fn duration(self, config: &TimerConfig) -> Duration {
        match self {
            Timer::B | Timer::F | Timer::H | Timer::L | Timer::M => config.timeout(),
            Timer::D | Timer::I | Timer::J | Timer::K => Duration::ZERO,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The deadlines of one transaction, one slot per [`Timer`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TimerTable([Option<Instant>; 9]);

impl TimerTable {
    /// Arms `timer` to fire at `now` plus its duration.
    pub(crate) fn start(&mut self, timer: Timer, now: Instant, config: &TimerConfig) {
        self.set(timer, now + timer.duration(config));
    }

    /// Arms `timer` at `at`.
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        if let Some(slot) = self.0.get_mut(timer.index()) {
            *slot = Some(at);
        }
    }

    /// Disarms `timer`.
    pub(crate) fn stop(&mut self, timer: Timer) {
        if let Some(slot) = self.0.get_mut(timer.index()) {
            *slot = None;
        }
    }

    /// Disarms every timer.
    pub(crate) fn stop_all(&mut self) {
        self.0 = [None; 9];
    }

    /// When `timer` fires, if armed.
    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.0.get(timer.index()).copied().flatten()
    }

    /// The earliest armed timer and its deadline (ties go to table order).
    pub(crate) fn next(&self) -> Option<(Instant, Timer)> {
        Timer::ALL
            .iter()
            .filter_map(|&t| self.get(t).map(|at| (at, t)))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let c = TimerConfig::default();
        for t in [Timer::B, Timer::F, Timer::H, Timer::L, Timer::M] {
            assert_eq!(t.duration(&c), Duration::from_secs(32), "{t:?}");
        }
        for t in [Timer::D, Timer::I, Timer::J, Timer::K] {
            assert_eq!(t.duration(&c), Duration::ZERO, "{t:?}");
        }
        let fast = TimerConfig {
            t1: Duration::from_millis(100),
            ..c
        };
        assert_eq!(Timer::M.duration(&fast), Duration::from_millis(6400));
    }

    #[test]
    fn table() {
        let c = TimerConfig::default();
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.start(Timer::M, Instant::from_millis(10), &c);
        t.start(Timer::D, Instant::from_millis(10), &c);
        assert_eq!(t.next(), Some((Instant::from_millis(10), Timer::D)));
        t.stop(Timer::D);
        assert_eq!(t.next(), Some((Instant::from_millis(32_010), Timer::M)));
        t.stop_all();
        assert_eq!(t.get(Timer::M), None);
    }
}

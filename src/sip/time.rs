//! Time as the core sees it: milliseconds on the shell's monotonic clock
//! (`performance.now()` in the browser, a virtual clock in tests). The core never
//! reads a clock; every input carries `now`.

use std::ops::{Add, Sub};
use std::time::Duration;

/// Whole milliseconds of `d` as a `u64` (saturating): `Duration::as_millis` is a
/// `u128`, whose formatting is much more code.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A point in time, in milliseconds since an origin chosen by the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(0);

    /// `ms` milliseconds after the origin.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Milliseconds since the origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Time elapsed since `earlier`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(ms))
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_sub(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_millis(1000);
        assert_eq!((t + Duration::from_secs(32)).as_millis(), 33_000);
        assert_eq!((t - Duration::from_secs(5)).as_millis(), 0);
        assert_eq!((t + Duration::MAX).as_millis(), u64::MAX);
        assert_eq!(
            t.saturating_since(Instant::from_millis(1500)),
            Duration::ZERO
        );
    }
}

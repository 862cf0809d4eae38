//! The core's only source of randomness: a seedable xoshiro256** generator.
//!
//! The core never draws entropy itself. The shell seeds it once with 32 bytes from
//! `crypto.getRandomValues`; tests use fixed seeds, so every run is identical. Tags,
//! branches, Call-IDs, cnonces, the `.invalid` Via host (RFC 7118 §5.2), the instance
//! UUID (RFC 5626 §4.1) and back-off jitter all come from here.
//!
//! xoshiro256** (Blackman & Vigna) is fast and statistically strong but not a CSPRNG.
//! SIP uses these values for uniqueness, not secrecy (RFC 3261 §8.1.1.3 asks for
//! "cryptographically random" tags only to keep them globally unique), and the seed is
//! cryptographically random, so this is adequate.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

/// A seedable pseudo-random generator (xoshiro256**).
#[derive(Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl std::fmt::Debug for Rng {
    /// Never shows the state (it would predict every future tag and cnonce).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rng { .. }")
    }
}

/// SplitMix64 step: spreads any seed (all zeros included) over the whole state.
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const ALNUM: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

impl Rng {
    /// A generator for `seed`. Each 8-byte word is mixed through SplitMix64, so weak
    /// seeds (all zeros, counters) still give a well-spread, never-all-zero state.
    pub fn from_seed(seed: [u8; 32]) -> Rng {
        let mut s = [0u64; 4];
        let mut acc = 0u64;
        for (slot, chunk) in s.iter_mut().zip(seed.chunks_exact(8)) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            acc ^= u64::from_le_bytes(word);
            *slot = splitmix64(&mut acc);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Rng { s }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = &mut self.s;
        let result = s1.wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = *s1 << 17;
        *s2 ^= *s0;
        *s3 ^= *s1;
        *s1 ^= *s2;
        *s0 ^= *s3;
        *s2 ^= t;
        *s3 = s3.rotate_left(45);
        result
    }

    /// A uniform number in `0..n` (0 when `n` is 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Reject the top partial range so every residue is equally likely.
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// `len` characters from `[a-z0-9]` (a SIP `token` and `word`, safe in any header).
    pub fn token(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        for _ in 0..len {
            let i = self.below(ALNUM.len() as u64) as usize;
            s.push(char::from(ALNUM.get(i).copied().unwrap_or(b'x')));
        }
        s
    }

    /// A random (version 4) UUID as a URN: `urn:uuid:xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`
    /// (RFC 4122 §4.4, the `+sip.instance` form of RFC 5626 §4.1).
    pub fn uuid_urn(&mut self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        let hi = (hi & !0xf000) | 0x4000; // version 4
        let lo = (lo & !(0xc << 60)) | (0x8 << 60); // variant 10xx

        // As `urn:uuid:{:08x}-{:04x}-{:04x}-{:04x}-{:012x}` prints it.
        let mut s = String::with_capacity(45);
        s.push_str("urn:uuid:");
        crate::sip::push_hex(&mut s, hi >> 32, 8);
        s.push('-');
        crate::sip::push_hex(&mut s, hi >> 16, 4);
        s.push('-');
        crate::sip::push_hex(&mut s, hi, 4);
        s.push('-');
        crate::sip::push_hex(&mut s, lo >> 48, 4);
        s.push('-');
        crate::sip::push_hex(&mut s, lo, 12);
        s
    }

    /// A duration uniform in `[lo, hi]` at millisecond resolution (`lo` if `hi < lo`).
    pub fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let lo_ms = u64::try_from(lo.as_millis()).unwrap_or(u64::MAX);
        let hi_ms = u64::try_from(hi.as_millis()).unwrap_or(u64::MAX);
        if hi_ms <= lo_ms {
            return Duration::from_millis(lo_ms);
        }
        let span = hi_ms - lo_ms;
        Duration::from_millis(lo_ms + self.below(span.saturating_add(1)))
    }

    /// `base` scaled by a uniform factor in `[1 - pct/100, 1 + pct/100]`.
    pub fn jitter(&mut self, base: Duration, pct: u32) -> Duration {
        let pct = pct.min(100);
        let lo = percent(base, 100 - pct);
        let hi = percent(base, 100 + pct);
        self.between(lo, hi)
    }
}

/// `pct` % of `d` in whole milliseconds, rounded down after rounding to the nearest
/// nanosecond: what `d.mul_f64(pct / 100)` gives at the millisecond resolution of
/// [`Rng::between`], in integers (no float-to-`Duration` code, no overflow panic:
/// saturates).
pub(crate) fn percent(d: Duration, pct: u32) -> Duration {
    let k = u64::from(pct);
    // d = ms + rem ns; pct % of it = (ms·k / 100) ms + ((ms·k mod 100)·10⁴ + rem·k/100) ns.
    let a = crate::sip::time::millis(d).saturating_mul(k);
    let rem = u64::from(d.subsec_nanos() % 1_000_000);
    let ns = (a % 100) * 10_000 + (rem * k + 50) / 100;
    Duration::from_millis((a / 100).saturating_add(ns / 1_000_000))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_seed_sensitive() {
        let mut a = Rng::from_seed([7; 32]);
        let mut b = Rng::from_seed([7; 32]);
        let mut c = Rng::from_seed([8; 32]);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
        // An all-zero seed still produces varied output.
        let mut z = Rng::from_seed([0; 32]);
        let v: Vec<u64> = (0..4).map(|_| z.next_u64()).collect();
        assert!(v.iter().all(|&x| x != 0));
        assert_ne!(v[0], v[1]);
    }

    #[test]
    fn tokens_and_uuid() {
        let mut r = Rng::from_seed([1; 32]);
        let t = r.token(22);
        assert_eq!(t.len(), 22);
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        let u = r.uuid_urn();
        assert_eq!(u.len(), 45, "{u}");
        assert_eq!(&u[..9], "urn:uuid:");
        assert_eq!(&u[23..24], "4", "{u}");
        assert!(matches!(&u[28..29], "8" | "9" | "a" | "b"), "{u}");
    }

    #[test]
    fn ranges() {
        let mut r = Rng::from_seed([3; 32]);
        assert_eq!(r.below(0), 0);
        for _ in 0..1000 {
            assert!(r.below(7) < 7);
            let d = r.jitter(Duration::from_millis(1000), 25);
            assert!((750..=1250).contains(&d.as_millis()), "{d:?}");
        }
        assert_eq!(
            r.between(Duration::from_secs(2), Duration::from_secs(1)),
            Duration::from_secs(2)
        );
    }

    /// `percent` is `mul_f64` (which it replaces) at millisecond resolution.
    #[test]
    fn percent_matches_mul_f64() {
        let ms = |d: Duration| d.as_millis();
        let check = |d: Duration, pct: u32| {
            assert_eq!(
                ms(percent(d, pct)),
                ms(d.mul_f64(f64::from(pct) / 100.0)),
                "{d:?} {pct}"
            );
        };
        for pct in [0, 1, 50, 75, 80, 99, 100, 101, 125, 150, 200] {
            for m in 0..20_000 {
                check(Duration::from_millis(m), pct);
            }
        }
        let mut r = Rng::from_seed([9; 32]);
        for _ in 0..200_000 {
            let secs = r.below(1_000_000);
            let nanos = r.below(1_000_000_000) as u32;
            let pct = r.below(201) as u32;
            check(Duration::new(secs, nanos), pct);
            check(Duration::new(secs, nanos / 1_000_000 * 1_000_000), pct);
        }
        // Saturates where mul_f64 panics.
        assert_eq!(
            percent(Duration::MAX, 200),
            Duration::from_millis(u64::MAX / 100 + 2)
        );
    }
}

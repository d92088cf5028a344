//! The responder's half-open IKE SAs (RFC 7296 §2.6): by the request that made them, to
//! answer its retransmissions, and counted in all and per source address in O(1), so that
//! deciding whether to demand a cookie, a puzzle or nothing costs the same with ten or a
//! hundred thousand IKE SAs. Also the rate of new IKE SAs, which says when the responder
//! is busy.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use foldhash::quality::FixedState;

use crate::event::IkeSaHandle;
use crate::tables::release;

/// The half-open IKE SAs. Keys are chosen by peers, so the maps' hash is seeded at random.
#[derive(Debug)]
pub(crate) struct HalfOpen {
    /// By the peer's address (without the port) and SPIi, as the request that made each
    /// came: a request replayed from other ports is a retransmission of the same, not
    /// another half-open SA (RFC 8019 §10: a solved puzzle must not buy more than one).
    by_request: HashMap<(IpAddr, u64), IkeSaHandle, FixedState>,
    /// How many are from each address (the address without its port: a flood varies
    /// ports at will).
    per_source: HashMap<IpAddr, usize, FixedState>,
    rate: Rate,
    /// IKE_AUTH requests on half-open SAs that failed their integrity check.
    auth_failures: Rate,
}

impl HalfOpen {
    /// An empty table whose hashes are seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            by_request: HashMap::with_hasher(FixedState::with_seed(seed)),
            per_source: HashMap::with_hasher(FixedState::with_seed(seed.rotate_left(32))),
            rate: Rate::default(),
            auth_failures: Rate::default(),
        }
    }

    /// The half-open IKE SA made by the request from `remote` with `spi_i`.
    pub(crate) fn get(&self, remote: SocketAddr, spi_i: u64) -> Option<IkeSaHandle> {
        self.by_request.get(&(remote.ip(), spi_i)).copied()
    }

    /// Half-open IKE SAs in all.
    pub(crate) fn total(&self) -> usize {
        self.by_request.len()
    }

    /// Half-open IKE SAs from `source`.
    pub(crate) fn count_from(&self, source: IpAddr) -> usize {
        self.per_source.get(&source).copied().unwrap_or(0)
    }

    /// Files a new half-open IKE SA, made at `now`.
    pub(crate) fn insert(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        spi_i: u64,
        handle: IkeSaHandle,
    ) {
        if self
            .by_request
            .insert((remote.ip(), spi_i), handle)
            .is_none()
        {
            *self.per_source.entry(remote.ip()).or_default() += 1;
        }
        self.rate.count(now);
    }

    /// Unfiles the half-open IKE SA `handle` made by the request from `remote` with `spi_i`
    /// (it was authenticated or closed).
    pub(crate) fn remove(&mut self, remote: SocketAddr, spi_i: u64, handle: IkeSaHandle) {
        let key = (remote.ip(), spi_i);
        if self.by_request.get(&key) != Some(&handle) {
            return;
        }
        self.by_request.remove(&key);
        let source = remote.ip();
        if let Some(count) = self.per_source.get_mut(&source) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_source.remove(&source);
            }
        }
        release(&mut self.by_request);
        release(&mut self.per_source);
    }

    /// IKE SAs created in the last second or so.
    pub(crate) fn recent_rate(&self, now: Instant) -> u32 {
        self.rate.per_second(now)
    }

    /// Counts an IKE_AUTH request on a half-open SA that failed its integrity check.
    pub(crate) fn auth_failed(&mut self, now: Instant) {
        self.auth_failures.count(now);
    }

    /// IKE_AUTH requests on half-open SAs that failed their integrity check in the last
    /// second or so (RFC 8019 §7.2: the sign that calls for IKE_AUTH puzzles).
    pub(crate) fn auth_failure_rate(&self, now: Instant) -> u32 {
        self.auth_failures.per_second(now)
    }
}

/// A rate over whole seconds: the count in the current second and in the one before.
#[derive(Debug, Default)]
struct Rate {
    /// When the current second began.
    since: Option<Instant>,
    current: u32,
    previous: u32,
}

const SECOND: Duration = Duration::from_secs(1);

impl Rate {
    fn roll(&mut self, now: Instant) {
        let Some(since) = self.since else {
            self.since = Some(now);
            return;
        };
        let elapsed = now.saturating_duration_since(since);
        if elapsed >= SECOND + SECOND {
            self.previous = 0;
            self.current = 0;
            self.since = Some(now);
        } else if elapsed >= SECOND {
            self.previous = self.current;
            self.current = 0;
            self.since = Some(since.checked_add(SECOND).unwrap_or(now));
        }
    }

    fn count(&mut self, now: Instant) {
        self.roll(now);
        self.current = self.current.saturating_add(1);
    }

    /// The larger of the last full second's count and the current one's: a burst shows at
    /// once and is remembered for the next second.
    fn per_second(&self, now: Instant) -> u32 {
        let Some(since) = self.since else {
            return 0;
        };
        let elapsed = now.saturating_duration_since(since);
        if elapsed >= SECOND + SECOND {
            0
        } else if elapsed >= SECOND {
            self.current
        } else {
            self.current.max(self.previous)
        }
    }
}

#[cfg(test)]
// A test's clock: any instant will do.
#[allow(clippy::unwrap_used, clippy::disallowed_methods)]
mod tests {
    use super::*;

    fn addr(last: u8, port: u16) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, last], port))
    }

    #[test]
    fn counts_in_all_and_per_source() {
        let now = Instant::now();
        let mut table = HalfOpen::new(7);
        for spi in 1..=5u64 {
            table.insert(now, addr(1, 500 + spi as u16), spi, IkeSaHandle(spi));
        }
        table.insert(now, addr(2, 500), 9, IkeSaHandle(9));
        assert_eq!(table.total(), 6);
        assert_eq!(table.count_from(addr(1, 0).ip()), 5);
        assert_eq!(table.count_from(addr(2, 0).ip()), 1);
        assert_eq!(table.get(addr(1, 503), 3), Some(IkeSaHandle(3)));
        // Only the SA the request made is unfiled.
        table.remove(addr(1, 503), 3, IkeSaHandle(4));
        assert_eq!(table.total(), 6);
        table.remove(addr(1, 503), 3, IkeSaHandle(3));
        assert_eq!(table.total(), 5);
        assert_eq!(table.count_from(addr(1, 0).ip()), 4);
        table.remove(addr(2, 500), 9, IkeSaHandle(9));
        assert_eq!(table.count_from(addr(2, 0).ip()), 0);
        assert!(!table.per_source.contains_key(&addr(2, 0).ip()));
    }

    #[test]
    fn the_rate_covers_the_last_second() {
        let start = Instant::now();
        let mut table = HalfOpen::new(1);
        for i in 0..10u64 {
            table.insert(start, addr(1, 1), i, IkeSaHandle(i));
        }
        assert_eq!(table.recent_rate(start), 10);
        // A burst is seen for the rest of its second and the whole next one.
        let later = start + Duration::from_millis(1500);
        assert_eq!(table.recent_rate(later), 10);
        assert_eq!(table.recent_rate(start + Duration::from_millis(2100)), 0);
        table.insert(later, addr(1, 1), 99, IkeSaHandle(99));
        assert_eq!(table.recent_rate(later), 10);
        assert_eq!(table.recent_rate(later + Duration::from_millis(600)), 1);
        assert_eq!(table.recent_rate(later + Duration::from_secs(3)), 0);
    }
}

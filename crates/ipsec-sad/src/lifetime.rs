//! SA lifetimes (RFC 4301 §4.4.2.1 "Lifetime of this SA"): soft limits that start a rekey,
//! hard limits that end the SA, in bytes, packets and time.

use std::time::{Duration, Instant};

/// The default [`Lifetime::sequence_margin`]: a rekey starts when fewer than 2^24 sequence
/// numbers remain, which at 15 million packets a second (10 Gbit/s of 64-byte packets)
/// still leaves the IKE exchange more than a second.
pub const DEFAULT_SEQUENCE_MARGIN: u64 = 1 << 24;

/// One set of limits; a limit that is `None` is never reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Limits {
    /// Payload bytes protected or verified under the SA (the ESP Payload Data, without
    /// ESP header, IV, padding, trailer or ICV).
    pub bytes: Option<u64>,
    /// Packets protected or verified under the SA.
    pub packets: Option<u64>,
    /// The instant at which the limit is reached.
    pub time: Option<Instant>,
}

impl Limits {
    /// No limit at all.
    pub const NONE: Self = Self {
        bytes: None,
        packets: None,
        time: None,
    };

    /// The limit reached first by an SA that has handled `bytes` and `packets`, if any
    /// (time is checked separately, against `now`).
    pub(crate) fn volume_reached(&self, bytes: u64, packets: u64) -> Option<LimitKind> {
        if self.packets.is_some_and(|limit| packets >= limit) {
            Some(LimitKind::Packets)
        } else if self.bytes.is_some_and(|limit| bytes >= limit) {
            Some(LimitKind::Bytes)
        } else {
            None
        }
    }

    /// Whether the time limit has been reached at `now`.
    pub(crate) fn time_reached(&self, now: Instant) -> bool {
        self.time.is_some_and(|deadline| now >= deadline)
    }
}

/// The lifetime of one SA (RFC 4301 §4.4.2.1): crossing a `soft` limit asks for a rekey
/// ([`SadEvent::RekeyNeeded`](crate::SadEvent::RekeyNeeded), once per SA); crossing a `hard`
/// limit ends the SA ([`SadEvent::Expired`](crate::SadEvent::Expired)).
///
/// A packet limit of `n` lets exactly `n` packets through; a byte limit lets through the
/// packet that reaches or crosses it, and none after it. A packet that crosses a soft and a
/// hard limit at once reports only the expiry. Time limits are absolute instants, fixed
/// when the SA is installed (see [`LifetimeTemplate::starting_at`]); a packet handled at or
/// after one applies it at once, before the caller's timer would.
///
/// For an outbound SA the sequence number is a limit too (RFC 4303 §3.3.3: it must never
/// wrap): sending the highest one is a hard limit, and coming within `sequence_margin` of
/// it a soft one, so a rekey starts while there is room left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lifetime {
    /// Limits that start a rekey.
    pub soft: Limits,
    /// Limits that end the SA.
    pub hard: Limits,
    /// Outbound SAs only: the rekey starts once no more than this many sequence numbers
    /// remain.
    pub sequence_margin: u64,
}

impl Lifetime {
    /// No limit but the sequence number's, with the default margin.
    pub const UNLIMITED: Self = Self {
        soft: Limits::NONE,
        hard: Limits::NONE,
        sequence_margin: DEFAULT_SEQUENCE_MARGIN,
    };
}

impl Default for Lifetime {
    fn default() -> Self {
        Self::UNLIMITED
    }
}

/// A set of limits relative to an SA's installation, for an SPD entry's SA template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LimitsTemplate {
    /// Payload bytes, as in [`Limits::bytes`].
    pub bytes: Option<u64>,
    /// Packets, as in [`Limits::packets`].
    pub packets: Option<u64>,
    /// Time from installation.
    pub time: Option<Duration>,
}

impl LimitsTemplate {
    /// The absolute limits of an SA installed at `now`; a time too far in the future to be
    /// represented becomes no time limit.
    pub fn starting_at(&self, now: Instant) -> Limits {
        Limits {
            bytes: self.bytes,
            packets: self.packets,
            time: self.time.and_then(|t| now.checked_add(t)),
        }
    }
}

/// A lifetime relative to an SA's installation (RFC 4301 §4.4.2.1), as an SPD entry's SA
/// template carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LifetimeTemplate {
    /// Limits that start a rekey.
    pub soft: LimitsTemplate,
    /// Limits that end the SA.
    pub hard: LimitsTemplate,
    /// As [`Lifetime::sequence_margin`].
    pub sequence_margin: u64,
}

impl LifetimeTemplate {
    /// The lifetime of an SA installed at `now`.
    pub fn starting_at(&self, now: Instant) -> Lifetime {
        Lifetime {
            soft: self.soft.starting_at(now),
            hard: self.hard.starting_at(now),
            sequence_margin: self.sequence_margin,
        }
    }
}

impl Default for LifetimeTemplate {
    fn default() -> Self {
        Self {
            soft: LimitsTemplate::default(),
            hard: LimitsTemplate::default(),
            sequence_margin: DEFAULT_SEQUENCE_MARGIN,
        }
    }
}

/// Which limit of a [`Lifetime`] was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitKind {
    /// The byte count.
    Bytes,
    /// The packet count.
    Packets,
    /// The time.
    Time,
    /// The outbound sequence number (RFC 4303 §3.3.3).
    SequenceNumber,
}

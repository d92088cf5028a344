//! Why an inbound packet was dropped, and counters of each reason (RFC 4301 §5.2, RFC 4303
//! §3.4: each of these is an auditable event).

use std::fmt;

use ipsec_esp::OpenError;

use crate::flow::FlowError;

/// What was wrong with a malformed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedCause {
    /// Too short to hold an SPI.
    TooShort {
        /// The packet's length.
        len: usize,
    },
    /// The ESP structure (RFC 4303 §2): too short for header, IV, trailer and ICV.
    Esp(ipsec_esp::Error),
    /// The ciphertext is not a whole number of cipher blocks (RFC 4303 §2.4).
    NotBlockAligned,
    /// The decrypted inner packet (tunnel mode) or upper-layer header (transport mode)
    /// cannot be read for the selector check (RFC 4301 §5.2).
    Inner(FlowError),
    /// The IP packet does not lead to a valid AH header (RFC 4302 §2, §3.4.1).
    Ah(ipsec_ah::OpenError),
    /// A structural error of a kind this crate does not know yet.
    Other,
}

impl fmt::Display for MalformedCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { len } => write!(f, "{len} bytes cannot hold an SPI"),
            Self::Esp(error) => write!(f, "{error}"),
            Self::NotBlockAligned => f.write_str("ciphertext is not block aligned"),
            Self::Inner(error) => write!(f, "inner packet: {error}"),
            Self::Ah(error) => write!(f, "{error}"),
            Self::Other => f.write_str("malformed"),
        }
    }
}

/// Why an inbound packet was dropped. Each is a value to count, never a reason to end an
/// SA; no plaintext is released with any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DropReason {
    /// No inbound SA has the packet's SPI (RFC 4301 §5.2 step 3b, RFC 4303 §3.4.2).
    #[error("unknown SPI {spi:#010x}")]
    UnknownSpi {
        /// The SPI.
        spi: u32,
    },
    /// The packet is malformed.
    #[error("malformed packet: {cause}")]
    Malformed {
        /// The SA, once the SPI was found.
        spi: Option<u32>,
        /// What was wrong.
        cause: MalformedCause,
    },
    /// The sequence number was already received (RFC 4303 §3.4.3).
    #[error("SPI {spi:#010x}: replayed sequence number {seq}")]
    Replayed {
        /// The SA.
        spi: u32,
        /// The full sequence number.
        seq: u64,
    },
    /// The sequence number is left of the anti-replay window (RFC 4303 §3.4.3).
    #[error("SPI {spi:#010x}: sequence number {seq} is older than the window")]
    TooOld {
        /// The SA.
        spi: u32,
        /// The full sequence number.
        seq: u64,
    },
    /// The ICV did not verify (RFC 4303 §3.4.4).
    #[error("SPI {spi:#010x}: ICV mismatch")]
    IcvMismatch {
        /// The SA.
        spi: u32,
    },
    /// The authenticated plaintext's padding or Pad Length is wrong (RFC 4303 §2.4, §2.5).
    #[error("SPI {spi:#010x}: bad padding")]
    BadPadding {
        /// The SA.
        spi: u32,
    },
    /// The decrypted packet is not one the SA's selectors admit (RFC 4301 §5.2 step 4).
    #[error("SPI {spi:#010x}: packet does not match the SA's selectors")]
    SelectorMismatch {
        /// The SA.
        spi: u32,
    },
    /// The SA reached a hard lifetime limit (RFC 4301 §4.4.2.1).
    #[error("SPI {spi:#010x}: SA expired")]
    Expired {
        /// The SA.
        spi: u32,
    },
}

impl DropReason {
    /// The reason's kind, for counting.
    pub fn kind(&self) -> DropKind {
        match self {
            Self::UnknownSpi { .. } => DropKind::UnknownSpi,
            Self::Malformed { .. } => DropKind::Malformed,
            Self::Replayed { .. } => DropKind::Replayed,
            Self::TooOld { .. } => DropKind::TooOld,
            Self::IcvMismatch { .. } => DropKind::IcvMismatch,
            Self::BadPadding { .. } => DropKind::BadPadding,
            Self::SelectorMismatch { .. } => DropKind::SelectorMismatch,
            Self::Expired { .. } => DropKind::Expired,
        }
    }

    /// The SA the packet was meant for, once its SPI was known.
    pub fn spi(&self) -> Option<u32> {
        match self {
            Self::UnknownSpi { spi }
            | Self::Replayed { spi, .. }
            | Self::TooOld { spi, .. }
            | Self::IcvMismatch { spi }
            | Self::BadPadding { spi }
            | Self::SelectorMismatch { spi }
            | Self::Expired { spi } => Some(*spi),
            Self::Malformed { spi, .. } => *spi,
        }
    }

    /// The drop reason for an AH SA's refusal of a packet with `spi`.
    pub(crate) fn from_ah(spi: u32, error: ipsec_ah::OpenError) -> Self {
        use ipsec_ah::OpenError;
        match error {
            OpenError::Replayed { seq } => Self::Replayed { spi, seq },
            OpenError::TooOld { seq } => Self::TooOld { spi, seq },
            OpenError::IcvMismatch => Self::IcvMismatch { spi },
            OpenError::UnknownSpi { found, .. } => Self::UnknownSpi { spi: found },
            other => Self::Malformed {
                spi: Some(spi),
                cause: MalformedCause::Ah(other),
            },
        }
    }

    /// The drop reason for an ESP SA's refusal of a packet with `spi`.
    pub(crate) fn from_esp(spi: u32, error: OpenError) -> Self {
        use ipsec_esp::{Error, Structure};
        match error {
            OpenError::Replayed { seq } => Self::Replayed { spi, seq },
            OpenError::TooOld { seq } => Self::TooOld { spi, seq },
            OpenError::IcvMismatch => Self::IcvMismatch { spi },
            OpenError::UnknownSpi { found, .. } => Self::UnknownSpi { spi: found },
            OpenError::NotBlockAligned { .. } => Self::Malformed {
                spi: Some(spi),
                cause: MalformedCause::NotBlockAligned,
            },
            // Found in the authenticated plaintext: the trailer's padding is wrong.
            OpenError::Malformed(
                Error::BadPadding { .. }
                | Error::PadLengthTooLarge { .. }
                | Error::Truncated {
                    what: Structure::Trailer,
                    ..
                },
            ) => Self::BadPadding { spi },
            OpenError::Malformed(error) => Self::Malformed {
                spi: Some(spi),
                cause: MalformedCause::Esp(error),
            },
            _ => Self::Malformed {
                spi: Some(spi),
                cause: MalformedCause::Other,
            },
        }
    }
}

/// The kind of a [`DropReason`], without its details: an index for counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DropKind {
    /// [`DropReason::UnknownSpi`].
    UnknownSpi,
    /// [`DropReason::Malformed`].
    Malformed,
    /// [`DropReason::Replayed`].
    Replayed,
    /// [`DropReason::TooOld`].
    TooOld,
    /// [`DropReason::IcvMismatch`].
    IcvMismatch,
    /// [`DropReason::BadPadding`].
    BadPadding,
    /// [`DropReason::SelectorMismatch`].
    SelectorMismatch,
    /// [`DropReason::Expired`].
    Expired,
}

impl DropKind {
    /// Every kind, in counter order.
    pub const ALL: [Self; 8] = [
        Self::UnknownSpi,
        Self::Malformed,
        Self::Replayed,
        Self::TooOld,
        Self::IcvMismatch,
        Self::BadPadding,
        Self::SelectorMismatch,
        Self::Expired,
    ];

    /// A short name for logs and metrics labels.
    pub fn name(&self) -> &'static str {
        match self {
            Self::UnknownSpi => "unknown_spi",
            Self::Malformed => "malformed",
            Self::Replayed => "replayed",
            Self::TooOld => "too_old",
            Self::IcvMismatch => "icv_mismatch",
            Self::BadPadding => "bad_padding",
            Self::SelectorMismatch => "selector_mismatch",
            Self::Expired => "expired",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How many inbound packets were dropped for each [`DropKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DropCounters {
    counts: [u64; DropKind::ALL.len()],
}

impl DropCounters {
    /// Packets dropped for `kind`.
    pub fn get(&self, kind: DropKind) -> u64 {
        self.counts.get(kind.index()).copied().unwrap_or_default()
    }

    /// Packets dropped for any reason.
    pub fn total(&self) -> u64 {
        self.counts
            .iter()
            .fold(0u64, |sum, c| sum.saturating_add(*c))
    }

    /// Each kind with its count.
    pub fn iter(&self) -> impl Iterator<Item = (DropKind, u64)> + '_ {
        DropKind::ALL.into_iter().map(|kind| (kind, self.get(kind)))
    }

    /// Adds `other`'s counts to these (to total several SAs' drops).
    pub fn add(&mut self, other: &DropCounters) {
        for (count, more) in self.counts.iter_mut().zip(other.counts) {
            *count = count.saturating_add(more);
        }
    }

    pub(crate) fn count(&mut self, kind: DropKind) {
        if let Some(count) = self.counts.get_mut(kind.index()) {
            *count = count.saturating_add(1);
        }
    }
}

//! Errors of the databases' management operations: installing, removing and configuring
//! entries. Per-packet outcomes are separate: [`DropReason`](crate::DropReason) for inbound
//! packets, [`SealError`](crate::SealError) for outbound ones.

use ipsec_crypto::CryptoError;

/// Why a database operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SadError {
    /// The SPI is reserved: 0 is never sent, and 1 to 255 are reserved by IANA, so this end
    /// never chooses them for an inbound SA (RFC 4303 §2.1).
    #[error("SPI {spi} is reserved (RFC 4303 §2.1)")]
    ReservedSpi {
        /// The SPI.
        spi: u32,
    },
    /// An inbound SA with this SPI is already installed (RFC 4301 §4.4.2: the SPI alone
    /// identifies an inbound unicast SA).
    #[error("an inbound SA with SPI {spi:#010x} is already installed")]
    DuplicateSpi {
        /// The SPI.
        spi: u32,
    },
    /// The SPI given does not match the SA's own.
    #[error("SPI {given:#010x} given for an SA whose SPI is {sa:#010x}")]
    SpiMismatch {
        /// The SPI passed in.
        given: u32,
        /// The SA's SPI.
        sa: u32,
    },
    /// No free SPI was found after repeated random draws.
    #[error("no free SPI found after {tries} random draws")]
    SpiSpaceExhausted {
        /// How many draws were made.
        tries: u32,
    },
    /// The random source failed.
    #[error("random source failed: {0}")]
    Random(#[from] CryptoError),
    /// An address range whose ends are of different families, or whose start is above its
    /// end.
    #[error("address range ends are of different families or out of order")]
    InvalidRange,
    /// A prefix length beyond the address's bits.
    #[error("prefix length {len} is longer than the address")]
    InvalidPrefix {
        /// The prefix length.
        len: u8,
    },
    /// No SPD entry has this id.
    #[error("no SPD entry with id {0}")]
    UnknownSpdEntry(u64),
    /// A position beyond the end of an ordered database.
    #[error("position {position} is beyond the {len} entries")]
    InvalidPosition {
        /// The position asked for.
        position: usize,
        /// Entries there are.
        len: usize,
    },
    /// A PAD wildcard that is not `*.domain`, `*@domain` or `*@*.domain`.
    #[error("invalid identity wildcard {0:?}")]
    InvalidWildcard(String),
    /// An identity whose bytes do not fit its type (RFC 7296 §3.5).
    #[error("identity of type {id_type} has invalid contents")]
    InvalidIdentity {
        /// The ID Type.
        id_type: u8,
    },
    /// An ID Type this crate does not know (RFC 7296 §3.5).
    #[error("unknown identity type {0}")]
    UnknownIdentityType(u8),
}

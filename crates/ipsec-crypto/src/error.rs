//! Why a cryptographic operation failed.

/// Why a cryptographic operation failed. Carries no secret material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The ICV (tag) did not verify: the data was forged, corrupted or keyed differently.
    #[error("integrity check failed")]
    IntegrityCheckFailed,
    /// A key or keying material has the wrong length for the algorithm.
    #[error("key of {actual} bytes given where {expected} are needed")]
    KeyLength {
        /// Bytes the algorithm needs.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// A buffer has the wrong length for the operation (too short for the ICV, or not a
    /// whole number of cipher blocks).
    #[error("buffer of {actual} bytes is invalid here: {reason}")]
    BufferLength {
        /// Bytes given.
        actual: usize,
        /// What the operation needs.
        reason: &'static str,
    },
    /// The peer's key exchange public value is malformed or unsafe (RFC 6989, RFC 8031 §2).
    #[error("the peer's public value for group {group} is invalid")]
    InvalidPublicValue {
        /// The group's IANA number.
        group: u16,
    },
    /// The algorithm may not be used here (AUTH_AES_GMAC outside AH, RFC 4543 §5.3).
    #[error("algorithm not usable here: {0}")]
    Unsuitable(&'static str),
    /// The random source failed.
    #[error("the random source failed")]
    RandomSource,
    /// prf+ was asked for more output than 255 iterations give (RFC 7296 §2.13).
    #[error("prf+ cannot give {requested} bytes")]
    PrfPlusTooLong {
        /// Bytes asked for.
        requested: usize,
    },
}

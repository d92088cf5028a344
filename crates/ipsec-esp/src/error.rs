//! Why an ESP packet or its decrypted plaintext could not be parsed, or a representation
//! could not be emitted.

use core::fmt;

/// The part of an ESP packet an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Structure {
    /// The ESP header: SPI and Sequence Number (RFC 4303 §2.1, §2.2).
    Header,
    /// The trailer that ends the decrypted plaintext: Padding, Pad Length and Next Header
    /// (RFC 4303 §2.4 to §2.6).
    Trailer,
}

impl fmt::Display for Structure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Header => "ESP header",
            Self::Trailer => "ESP trailer",
        })
    }
}

/// Why bytes received from the network, or decrypted from them, are not a valid ESP
/// structure (RFC 4303 §2). Each is a reason to drop the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before the structure does.
    #[error("{what} truncated: {needed} bytes needed, {available} available")]
    Truncated {
        /// The structure being read.
        what: Structure,
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes there were.
        available: usize,
    },
    /// The SPI is zero, which is reserved for local use and never sent (RFC 4303 §2.1).
    #[error("SPI 0 is reserved and must not be sent (RFC 4303 §2.1)")]
    ReservedSpi,
    /// Pad Length counts more padding bytes than precede the trailer (RFC 4303 §2.5).
    #[error("Pad Length {pad_length} exceeds the {available} bytes before it")]
    PadLengthTooLarge {
        /// The Pad Length field.
        pad_length: u8,
        /// Bytes of payload and padding before the Pad Length field.
        available: usize,
    },
    /// The padding is not the default sequence 1, 2, 3, … (RFC 4303 §2.4).
    #[error("padding byte {at} (counting from 0) is {found}, not its default value {at} + 1")]
    BadPadding {
        /// Offset of the first wrong byte within the padding.
        at: usize,
        /// The byte found there.
        found: u8,
    },
}

/// Why a representation could not be written to a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The buffer is smaller than the representation's `buffer_len`.
    #[error("buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes the representation needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// The SPI is zero, which must not be sent (RFC 4303 §2.1).
    #[error("SPI 0 is reserved and must not be sent (RFC 4303 §2.1)")]
    ReservedSpi,
    /// The alignment asked of the padding is not a power of two from 1 to 256
    /// (RFC 4303 §2.4).
    #[error("padding alignment {alignment} is not a power of two from 1 to 256")]
    InvalidAlignment {
        /// The alignment asked for.
        alignment: usize,
    },
}

/// Checks that a buffer of `available` bytes can take `needed` bytes.
pub(crate) fn check_room(needed: usize, available: usize) -> Result<(), EmitError> {
    if available < needed {
        return Err(EmitError::BufferTooSmall { needed, available });
    }
    Ok(())
}

/// Checks that `bytes` holds at least the `minimum` bytes of a structure's fixed part.
pub(crate) fn check_len(what: Structure, bytes: &[u8], minimum: usize) -> Result<(), Error> {
    if bytes.len() < minimum {
        return Err(Error::Truncated {
            what,
            needed: minimum,
            available: bytes.len(),
        });
    }
    Ok(())
}

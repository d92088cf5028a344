//! Why an AH header could not be parsed, or a representation could not be emitted.

/// Why bytes received from the network are not a valid AH header (RFC 4302 §2). Each is a
/// reason to drop the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before the AH header does: before its fixed part, or before the
    /// length that Payload Len gives it.
    #[error("AH header truncated: {needed} bytes needed, {available} available")]
    Truncated {
        /// Bytes the header needs.
        needed: usize,
        /// Bytes there were.
        available: usize,
    },
    /// Payload Len gives the header fewer bytes than its fixed part (RFC 4302 §2.2).
    #[error("AH Payload Len gives a header of {length} bytes, less than its minimum {minimum}")]
    LengthTooSmall {
        /// The header length Payload Len gives: (Payload Len + 2) * 4.
        length: usize,
        /// The smallest valid header length.
        minimum: usize,
    },
    /// The SPI is zero, which is reserved for local use and never sent (RFC 4302 §2.4).
    #[error("SPI 0 is reserved and must not be sent (RFC 4302 §2.4)")]
    ReservedSpi,
    /// The Integrity Check Value field is shorter than the ICV the algorithm produces
    /// (RFC 4302 §2.6).
    #[error("AH ICV field of {field_len} bytes cannot hold an ICV of {icv_len} bytes")]
    IcvFieldTooShort {
        /// The algorithm's ICV length.
        icv_len: usize,
        /// The length of the ICV field, padding included.
        field_len: usize,
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
    /// The SPI is zero, which must not be sent (RFC 4302 §2.4).
    #[error("SPI 0 is reserved and must not be sent (RFC 4302 §2.4)")]
    ReservedSpi,
    /// The ICV field's length is not a multiple of 4, or too long for Payload Len
    /// (RFC 4302 §2.2, §2.6).
    #[error("AH ICV field length {length} is not a multiple of 4 from 0 to 1016")]
    InvalidIcvFieldLen {
        /// The ICV field length asked for.
        length: usize,
    },
    /// An ICV is longer than the header's ICV field (RFC 4302 §2.6).
    #[error("ICV of {icv_len} bytes does not fit the AH ICV field of {field_len} bytes")]
    IcvTooLong {
        /// The ICV's length.
        icv_len: usize,
        /// The length of the ICV field, padding included.
        field_len: usize,
    },
}

/// Checks that a buffer of `available` bytes can take `needed` bytes.
pub(crate) fn check_room(needed: usize, available: usize) -> Result<(), EmitError> {
    if available < needed {
        return Err(EmitError::BufferTooSmall { needed, available });
    }
    Ok(())
}

/// Checks that `bytes` holds at least `minimum` bytes of the AH header.
pub(crate) fn check_len(bytes: &[u8], minimum: usize) -> Result<(), Error> {
    if bytes.len() < minimum {
        return Err(Error::Truncated {
            needed: minimum,
            available: bytes.len(),
        });
    }
    Ok(())
}

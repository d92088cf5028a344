//! Why an AH header could not be parsed, a representation could not be emitted, or the IP
//! packet around an AH header could not be processed.

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

/// What is wrong with an IP packet that should carry an AH header (RFC 4302 §3). On receipt
/// each is a reason to drop the packet; on sending, a mistake in the packet the caller laid
/// out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// The IP version is neither 4 nor 6.
    #[error("IP version {0} is neither 4 nor 6")]
    Version(u8),
    /// The IPv4 Internet Header Length is below the 20 bytes of the fixed header
    /// (RFC 791 §3.1).
    #[error("IPv4 header length {0} is less than 20 bytes")]
    Ipv4HeaderLength(usize),
    /// The IPv4 Total Length, or 40 plus the IPv6 Payload Length, is not the length of the
    /// packet given: the length is covered by the ICV (RFC 4302 §3.3.3.1.1.1,
    /// §3.3.3.1.2.1), so the packet must be passed exactly.
    #[error("the IP length field gives {field} bytes, the packet has {actual}")]
    LengthField {
        /// The packet length the IP header gives.
        field: usize,
        /// Bytes passed.
        actual: usize,
    },
    /// An IPv4 option whose length is below 2, runs past the header, or (source routes)
    /// is no whole number of addresses (RFC 791 §3.1; RFC 4302 §3.3.3.1.1.2 needs the
    /// length of every option to zero it).
    #[error("IPv4 option at byte {offset} has an invalid length")]
    Ipv4Option {
        /// Offset of the option's type byte in the packet.
        offset: usize,
    },
    /// An option in a Hop-by-Hop or Destination Options header runs past the header
    /// (RFC 8200 §4.2).
    #[error("IPv6 option at byte {offset} runs past its extension header")]
    Ipv6Option {
        /// Offset of the option's type byte in the packet.
        offset: usize,
    },
    /// A Hop-by-Hop Options header that does not directly follow the IPv6 header
    /// (RFC 8200 §4.1).
    #[error("IPv6 Hop-by-Hop Options header not directly after the IPv6 header")]
    HopByHopNotFirst,
    /// The chain of headers leads to another protocol before any AH header: the IPv4
    /// Protocol or the last IPv6 Next Header must be 51 (RFC 4302 §2, §3.1).
    #[error("protocol {protocol} where AH (51) was expected")]
    NotAh {
        /// The protocol number found.
        protocol: u8,
    },
    /// The AH header itself is invalid (RFC 4302 §2).
    #[error("AH header: {0}")]
    Ah(Error),
    /// The AH header's length is not the one the SA's algorithm gives: the ICV (and IV)
    /// plus only the padding IPv4/IPv6 alignment needs (RFC 4302 §2.6, §3.3.3.2.1).
    #[error("AH header of {found} bytes where the SA's algorithm needs {expected}")]
    HeaderLength {
        /// The length for the SA's algorithm and the IP version.
        expected: usize,
        /// The length Payload Len gives.
        found: usize,
    },
}

/// A well-formed packet this crate does not process (RFC 4302 §3.3.3.1.2.2, App. A2). Each
/// is a reason to drop the packet, documented as a limit of this implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unsupported {
    /// An IPv6 extension header before AH that is neither Hop-by-Hop Options, Destination
    /// Options nor Routing: a Fragment header (which a receiver "MUST remove or skip over",
    /// RFC 4302 App. A2; the caller should reassemble and remove it first), Mobility, HIP,
    /// Shim6 or an experimental one.
    #[error("IPv6 extension header {next_header} before AH is not supported")]
    ExtensionHeader {
        /// Its Next Header value.
        next_header: u8,
    },
    /// An IPv6 Routing header with Segments Left above zero: its addresses are mutable but
    /// predictable and would have to be reordered as the receiver will see them
    /// (RFC 4302 §3.3.3.1.2.2, App. A2), which this crate does not do.
    #[error("IPv6 Routing header type {routing_type} with {segments_left} segments left")]
    RoutingHeader {
        /// Routing Type.
        routing_type: u8,
        /// Segments Left.
        segments_left: u8,
    },
    /// An IPv6 jumbogram: Payload Length 0 with data after the header (RFC 2675).
    #[error("IPv6 jumbograms are not supported")]
    Jumbogram,
    /// More mutable IPv6 options before AH than this crate zeroes without copying the
    /// packet (about 28).
    #[error("too many mutable IPv6 options before AH")]
    TooManyMutableOptions,
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

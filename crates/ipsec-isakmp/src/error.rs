//! Why a message could not be parsed or emitted.

use core::fmt;

use crate::registry::NotifyType;

/// The wire structure an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Structure {
    /// The IKE header (RFC 7296 §3.1).
    Header,
    /// A generic payload header (RFC 7296 §3.2).
    PayloadHeader,
    /// A Security Association payload (RFC 7296 §3.3).
    SecurityAssociation,
    /// A Proposal substructure (RFC 7296 §3.3.1).
    Proposal,
    /// A Transform substructure (RFC 7296 §3.3.2).
    Transform,
    /// A Transform attribute (RFC 7296 §3.3.5).
    TransformAttribute,
    /// A Key Exchange payload (RFC 7296 §3.4).
    KeyExchange,
    /// An Identification payload (RFC 7296 §3.5).
    Identification,
    /// A Certificate payload (RFC 7296 §3.6).
    Certificate,
    /// A Certificate Request payload (RFC 7296 §3.7).
    CertificateRequest,
    /// An Authentication payload (RFC 7296 §3.8).
    Authentication,
    /// A Nonce payload (RFC 7296 §3.9).
    Nonce,
    /// A Notify payload (RFC 7296 §3.10).
    Notify,
    /// A Delete payload (RFC 7296 §3.11).
    Delete,
    /// A Traffic Selector payload (RFC 7296 §3.13).
    TrafficSelectors,
    /// One Traffic Selector (RFC 7296 §3.13.1).
    TrafficSelector,
    /// An Encrypted and Authenticated payload (RFC 7296 §3.14).
    Encrypted,
    /// An Encrypted and Authenticated Fragment payload (RFC 7383 §2.5).
    EncryptedFragment,
    /// A Configuration payload (RFC 7296 §3.15).
    Configuration,
    /// A Configuration attribute (RFC 7296 §3.15.1).
    ConfigurationAttribute,
    /// An EAP payload (RFC 7296 §3.16).
    Eap,
    /// A Puzzle Solution payload (RFC 8019 §8.2).
    PuzzleSolution,
    /// A datagram received on UDP port 4500 (RFC 3948 §2).
    Udp4500Datagram,
}

impl fmt::Display for Structure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Header => "IKE header",
            Self::PayloadHeader => "payload header",
            Self::SecurityAssociation => "SA payload",
            Self::Proposal => "proposal",
            Self::Transform => "transform",
            Self::TransformAttribute => "transform attribute",
            Self::KeyExchange => "KE payload",
            Self::Identification => "ID payload",
            Self::Certificate => "CERT payload",
            Self::CertificateRequest => "CERTREQ payload",
            Self::Authentication => "AUTH payload",
            Self::Nonce => "Nonce payload",
            Self::Notify => "Notify payload",
            Self::Delete => "Delete payload",
            Self::TrafficSelectors => "TS payload",
            Self::TrafficSelector => "traffic selector",
            Self::Encrypted => "SK payload",
            Self::EncryptedFragment => "SKF payload",
            Self::Configuration => "CP payload",
            Self::ConfigurationAttribute => "configuration attribute",
            Self::Eap => "EAP payload",
            Self::PuzzleSolution => "PS payload",
            Self::Udp4500Datagram => "UDP 4500 datagram",
        })
    }
}

/// Why bytes received from the network are not a valid IKEv2 structure.
///
/// Every variant names the structure at fault. [`Error::notify_type`] gives the Notify a
/// responder answers with (RFC 7296 §2.5, §2.21).
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
    /// A length field is smaller than the structure's fixed part.
    #[error("{what} length field says {length}, less than its minimum {minimum}")]
    LengthTooSmall {
        /// The structure being read.
        what: Structure,
        /// The length field's value.
        length: usize,
        /// The smallest valid value.
        minimum: usize,
    },
    /// A length field claims more bytes than the enclosing structure holds.
    #[error("{what} length field says {length}, but only {available} bytes remain")]
    LengthOverrun {
        /// The structure being read.
        what: Structure,
        /// The length field's value.
        length: usize,
        /// Bytes left in the enclosing structure.
        available: usize,
    },
    /// Bytes remain after the last element of a structure.
    #[error("{what} has {extra} bytes after its last element")]
    TrailingBytes {
        /// The structure being read.
        what: Structure,
        /// How many bytes are left over.
        extra: usize,
    },
    /// A count field disagrees with the elements actually present.
    #[error("{what} declares {declared} elements but holds {found}")]
    CountMismatch {
        /// The structure being read.
        what: Structure,
        /// The count field's value.
        declared: usize,
        /// Elements found before the structure ended.
        found: usize,
    },
    /// A list that must hold at least one element is empty.
    #[error("{what} holds no elements")]
    Empty {
        /// The structure being read.
        what: Structure,
    },
    /// A field holds a value the RFC does not allow there.
    #[error("{what} field {field} has the invalid value {value}")]
    InvalidField {
        /// The structure being read.
        what: Structure,
        /// The field's name as the RFC spells it.
        field: &'static str,
        /// The value found.
        value: u32,
    },
    /// The IKE header's major version is not 2 (RFC 7296 §2.5).
    #[error("IKE major version {0} is not supported")]
    UnsupportedMajorVersion(u8),
    /// A payload with the critical bit set has a type this crate does not understand
    /// (RFC 7296 §2.5).
    #[error("unsupported critical payload type {0}")]
    UnsupportedCriticalPayload(u8),
    /// A payload other than the Encrypted payload follows an SK or SKF payload, which must be
    /// last (RFC 7296 §3.14, RFC 7383 §2.5).
    #[error("{0} is not the last payload of the message")]
    EncryptedNotLast(Structure),
}

impl Error {
    /// The Notify message type that reports this error to the peer (RFC 7296 §2.5, §3.10.1).
    pub fn notify_type(&self) -> NotifyType {
        match self {
            Self::UnsupportedMajorVersion(_) => NotifyType::InvalidMajorVersion,
            Self::UnsupportedCriticalPayload(_) => NotifyType::UnsupportedCriticalPayload,
            _ => NotifyType::InvalidSyntax,
        }
    }
}

/// Why a representation could not be written to a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The buffer is smaller than [`buffer_len`](crate::Message::buffer_len).
    #[error("buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes the representation needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// A list the RFC requires to hold at least one element is empty.
    #[error("{what} must hold at least one element")]
    Empty {
        /// The structure being written.
        what: Structure,
    },
    /// A field's value does not fit the bits the wire format gives it.
    #[error("{what} field {field} does not fit its wire format")]
    InvalidField {
        /// The structure being written.
        what: Structure,
        /// The field's name as the RFC spells it.
        field: &'static str,
    },
    /// An SK or SKF payload is followed by another payload; it must be last (RFC 7296 §3.14).
    #[error("{0} must be the last payload of a chain")]
    EncryptedNotLast(Structure),
    /// A structure is too long for its length field, or a list too long for its count field.
    #[error("{what} is too long for its length or count field: {length}")]
    TooLong {
        /// The structure being written.
        what: Structure,
        /// Its length or element count.
        length: usize,
    },
}

/// Checks that a buffer of `available` bytes can take `needed` bytes.
pub(crate) fn check_room(needed: usize, available: usize) -> Result<(), EmitError> {
    if available < needed {
        return Err(EmitError::BufferTooSmall { needed, available });
    }
    Ok(())
}

/// Converts a length or count to the width of its wire field, or reports it too long.
pub(crate) fn fit<N: TryFrom<usize>>(what: Structure, length: usize) -> Result<N, EmitError> {
    N::try_from(length).map_err(|_| EmitError::TooLong { what, length })
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

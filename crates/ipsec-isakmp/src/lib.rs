//! The IKEv2 message format: the IKE header and every payload of RFC 7296 §3, plus the SKF
//! payload of RFC 7383 and the UDP 4500 demultiplexing of RFC 3948.
//!
//! Two layers, as smoltcp's `wire` module has them:
//!
//! - **Views** (`HeaderView`, `PayloadView`, `ProposalView`, …) wrap a byte buffer after a
//!   checked constructor (`new_checked`) has verified every length they rely on, and read
//!   fields in place without copying. [`PayloadIter`] walks a payload chain the same way.
//! - **Representations** ([`Message`], [`Payload`], [`SecurityAssociation`], …) own their
//!   data, and have `parse`, `buffer_len` and `emit`: `parse(emit(x)) == x`.
//!
//! Hostile input never panics and never makes this crate allocate more than the input's own
//! size: every length and count is checked before use and a violation is a typed [`Error`]
//! naming the structure at fault. Unknown codepoints of every IANA registry parse into an
//! `Unknown(n)` arm; an unknown payload is kept opaque unless its critical bit is set, which
//! is [`Error::UnsupportedCriticalPayload`] (RFC 7296 §2.5).
//!
//! ```
//! use ipsec_isakmp::{ExchangeType, Message, Payload};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let datagram = include_bytes!("../tests/data/charon/aes256gcm16-x25519/01-ike_sa_init-request.bin");
//! let message = Message::parse(datagram)?;
//! assert_eq!(message.exchange_type, ExchangeType::IkeSaInit);
//! for payload in &message.payloads {
//!     if let Payload::SecurityAssociation(sa) = payload {
//!         assert!(!sa.proposals.is_empty());
//!     }
//! }
//! assert_eq!(message.to_vec()?, datagram);
//! # Ok(())
//! # }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[macro_use]
mod registry;
mod error;
pub mod field;
mod header;
mod message;
pub mod payload;
mod spi;
mod udp_encap;

pub use error::{EmitError, Error, Structure};
pub use header::{Flags, HEADER_LEN, Header, HeaderView, MAJOR_VERSION, MINOR_VERSION};
pub use message::Message;
pub use payload::{
    AddressRange, Authentication, Certificate, CertificateRequest, ConfigAttribute, Configuration,
    Delete, Eap, Encrypted, EncryptedFragment, Identification, KeyExchange, Nonce, Notify,
    OpaqueSelector, PUZZLE_KEYS, Payload, PayloadIter, PayloadView, Proposal, PuzzleRequest,
    PuzzleSolution, RawPayload, SecurityAssociation, TrafficSelector, TrafficSelectors, Transform,
    TransformAttribute, TransformId, UnknownPayload, VendorId,
};
pub use registry::{
    AuthMethod, CertEncoding, CfgAttributeType, CfgType, DhGroup, EncrId, EsnId, ExchangeType,
    IdType, IntegId, NotifyType, PayloadType, PrfId, ProtocolId, TransformAttributeType,
    TransformType, TsType,
};
pub use spi::Spi;
pub use udp_encap::{NAT_KEEPALIVE, NON_ESP_MARKER, Udp4500Datagram, classify_udp4500};

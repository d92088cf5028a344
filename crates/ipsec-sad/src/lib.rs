//! The three databases of RFC 4301 §4.4 for the IPsec data plane, sans-IO.
//!
//! - [`Sad`], the Security Association Database (§4.4.2): inbound SAs by SPI in a hash map,
//!   outbound SAs by [`OutboundHandle`] in a slab, both `O(1)` at a million SAs.
//!   [`Sad::open`] demultiplexes an ESP packet by SPI, verifies and decrypts it, counts it
//!   against the SA's lifetime and checks it against the SA's traffic selectors
//!   (§5.2); [`Sad::seal`] protects an outbound payload. Every dropped packet is a
//!   [`DropReason`], counted per SA and overall. Lifetimes (§4.4.2.1) in bytes, packets,
//!   time and sequence numbers report [`SadEvent::RekeyNeeded`] at the soft limit and
//!   [`SadEvent::Expired`] at the hard one, through [`Sad::poll_event`]; time limits come
//!   due through [`Sad::poll_timeout`] and [`Sad::handle_timeout`].
//! - [`Spd`], the Security Policy Database (§4.4.1): ordered entries of [`Selector`]s with
//!   an [`Action`], PROTECT (with an [`SaTemplate`]), BYPASS or DISCARD, and the per-SA
//!   policies of the installed outbound SAs, found by the selectors each was negotiated for
//!   ([`Spd::add_sa`]; one hash probe per prefix length in use, at any number of SAs). A
//!   lookup returns a [`Decision`]: the SA to protect a packet with, or
//!   [`Decision::Acquire`] when an SA must first be negotiated. [`Flow::parse`] reads a
//!   packet's selector fields from an IPv4 or IPv6 header, hostile input safe.
//! - [`Pad`], the Peer Authorization Database (§4.4.3): which [`PeerId`]s may
//!   authenticate ([`IdMatcher`], with wildcards), with what ([`PeerAuth`]), and for which
//!   traffic selectors.
//!
//! Nothing here reads a clock: every operation that depends on time takes `now: Instant`,
//! and lifetimes are absolute instants fixed at installation. SAs are ESP or AH
//! ([`InboundProtocolSa`], [`OutboundProtocolSa`]): ESP packets go through [`Sad::open`] and
//! [`Sad::seal`], AH-protected IP packets through [`Sad::open_ah`] and [`Sad::seal_ah`].
//!
//! ```
//! use ipsec_sad::{Action, AddrRange, Decision, Flow, Selector, Spd, SpdEntry};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut spd = Spd::new();
//! let lan = AddrRange::prefix("10.1.0.0".parse()?, 16)?;
//! spd.push(SpdEntry::new(vec![Selector::addresses(lan, AddrRange::ANY_V4)], Action::Bypass));
//!
//! // An IPv4/UDP packet from 10.1.2.3:5000 to 198.51.100.7:53.
//! let mut packet = [0u8; 28];
//! packet[..4].copy_from_slice(&[0x45, 0, 0, 28]);
//! packet[9] = 17;
//! packet[12..16].copy_from_slice(&[10, 1, 2, 3]);
//! packet[16..20].copy_from_slice(&[198, 51, 100, 7]);
//! packet[20..24].copy_from_slice(&[0x13, 0x88, 0, 53]);
//! let flow = Flow::parse(&packet)?;
//! assert!(matches!(spd.lookup_outbound(&flow), Decision::Bypass { .. }));
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod drop;
mod error;
pub mod flow;
mod inbound_table;
mod lifetime;
mod pad;
mod sa_policy;
mod sad;
mod selector;
mod spd;

pub use drop::{DropCounters, DropKind, DropReason, MalformedCause};
pub use error::SadError;
pub use flow::{Flow, FlowError, FlowPorts, Layer, MAX_EXTENSION_HEADERS};
pub use lifetime::{
    DEFAULT_SEQUENCE_MARGIN, Lifetime, LifetimeTemplate, LimitKind, Limits, LimitsTemplate,
};
pub use pad::{IdMatcher, Pad, PadEntry, PeerAuth, PeerId, id_type};
pub use sad::{
    InboundEntry, InboundProtocolSa, IpsecProtocol, Mode, Opened, OpenedAh, OutboundEntry,
    OutboundHandle, OutboundProtocolSa, OuterAddresses, SaConfig, SaEntry, SaId, SaStats, Sad,
    SadEvent, SealError,
};
pub use selector::{AddrRange, Direction, NextLayer, PortRange, Selector};
pub use spd::{Action, AlgorithmProposal, Decision, SaTemplate, Spd, SpdEntry, SpdEntryId};

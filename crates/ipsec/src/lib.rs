//! IPsec for Rust: IKEv2 (RFC 7296), ESP (RFC 4303) and AH (RFC 4302) as sans-IO crates,
//! and the [`Endpoint`] that joins them.
//!
//! The caller owns sockets, threads, clocks and randomness; the endpoint turns bytes, time
//! and random numbers into bytes, deadlines and events. Configure it the way strongSwan is
//! configured — connections with proposal strings such as `aes256gcm16-prfsha256-x25519`,
//! identities, a pre-shared key and traffic selectors — then drive it from any event loop:
//!
//! - what arrives on UDP 500/4500 goes to [`Endpoint::handle_udp`], raw ESP to
//!   [`Endpoint::handle_esp`], AH to [`Endpoint::handle_ah`], inner packets to send to
//!   [`Endpoint::send`];
//! - [`Endpoint::poll_output`] gives datagrams to send and packets to deliver,
//!   [`Endpoint::poll_event`] what happened, [`Endpoint::poll_timeout`] when to call
//!   [`Endpoint::handle_timeout`];
//! - a data path that allocates nothing works in the caller's buffers instead:
//!   [`Endpoint::send_in_place`] seals an inner packet where it lies (with
//!   [`SEAL_HEADROOM`] and [`SEAL_TAILROOM`] around it) and says where the ESP packet goes,
//!   [`Endpoint::handle_udp_in_place`] and [`Endpoint::handle_esp_in_place`] open ESP where
//!   it lies and return the inner packet's range.
//!
//! The crates it builds on are re-exported: [`isakmp`] (message format), [`crypto`]
//! (algorithms and providers), [`esp`], [`ah`], [`replay`], [`sad`] (SAD, SPD, PAD) and
//! [`ikev2`] (the state machine).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(doctest, doc = include_str!("../../../README.md"))]

mod config;
mod endpoint;
mod event;
mod in_place;
mod keylog;
#[cfg(feature = "os-random")]
mod os_random;
mod proposal_string;
mod trace;

pub use config::{
    Action, Auth, Child, ChildBuilder, Config, ConfigBuilder, ConfigError, Connection,
    ConnectionBuilder, Secret, StartAction, ValueError, parse_addresses, parse_duration,
    parse_identity, parse_number, parse_remote_identity, parse_traffic_selector,
};
pub use endpoint::{ChildSaInfo, ConnectionInfo, Endpoint, IkeSaInfo, QueueDrops, Traffic};
pub use event::{ChildRemoval, Dropped, Event, Output, SendOutcome};
pub use in_place::{Delivered, SEAL_HEADROOM, SEAL_TAILROOM, SendInPlace, Transmit};
pub use ipsec_ikev2::{
    CloseReason, DosProtection, IkeSaHandle, IkeSaState, IpsecProtocol, Mode, Path, PuzzlePolicy,
    UniquePolicy,
};
pub use ipsec_sad::{DropCounters, DropKind};
pub use keylog::{EspSaKeys, KeyLog, KeyLogDir, esp_sa_row, ikev2_decryption_table_row};
#[cfg(feature = "os-random")]
pub use os_random::OsRandom;
pub use proposal_string::{
    DEFAULT_ESP_PROPOSALS, DEFAULT_IKE_PROPOSALS, ProposalError, parse_ah_proposals,
    parse_esp_proposals, parse_ike_proposals,
};

/// The `bytes` crate, whose [`Bytes`](bytes::Bytes) the output queues hand out.
pub use bytes;

// The crates underneath, documented here in full (inlined), so that every type the
// facade's signatures use has its page in the facade's documentation.
#[doc(inline)]
pub use ipsec_ah as ah;
#[doc(inline)]
pub use ipsec_crypto as crypto;
#[doc(inline)]
pub use ipsec_esp as esp;
#[doc(inline)]
pub use ipsec_ikev2 as ikev2;
#[doc(inline)]
pub use ipsec_isakmp as isakmp;
#[doc(inline)]
pub use ipsec_replay as replay;
#[doc(inline)]
pub use ipsec_sad as sad;

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No connection has this name.
    #[error("no connection named `{0}`")]
    UnknownConnection(String),
    /// The connection has no child of this name.
    #[error("connection `{0}` has no child named `{1}`")]
    UnknownChild(String, String),
    /// No Child SA has this inbound SPI.
    #[error("no Child SA with inbound SPI {0:08x}")]
    UnknownChildSa(u32),
    /// The connection cannot initiate: `remote_addrs` holds no single address to initiate
    /// to, or `local_addrs` none of its family to initiate from.
    #[error(
        "connection `{0}` has no single remote address to initiate to and local address to initiate from"
    )]
    NoTarget(String),
    /// IKE refused the command.
    #[error(transparent)]
    Ike(#[from] ipsec_ikev2::CommandError),
}

//! The IKEv2 state machine of RFC 7296, sans-IO: the caller passes in datagrams, the time and
//! a random source, and takes out datagrams, deadlines and events. Nothing here reads a
//! clock, opens a socket or starts a thread.
//!
//! An [`Endpoint`] owns IKE SAs by [`IkeSaHandle`]:
//!
//! - [`Endpoint::initiate`] starts an IKE SA with a peer ([`PeerConfig`]);
//! - [`Endpoint::handle_datagram`] takes every IKE datagram received (port 500, or the NAT-T
//!   port behind the non-ESP marker) and [`Endpoint::handle_timeout`] every deadline that
//!   [`Endpoint::poll_timeout`] announced;
//! - [`Endpoint::poll_transmit`] and [`Endpoint::poll_event`] are drained after each call.
//!
//! What it does: IKE_SA_INIT with several proposals, KE, nonces, NAT detection and
//! SIGNATURE_HASH_ALGORITHMS (RFC 7296 §1.2, §2.23, RFC 7427); NO_PROPOSAL_CHOSEN,
//! INVALID_KE_PAYLOAD with the initiator's retry, and stateless COOKIEs (§2.6); the key
//! schedule (§2.14) and the SK payload with AEADs (RFC 5282) or cipher and integrity
//! (§3.14); IKE_AUTH with pre-shared keys (§2.15) and the first Child SA with narrowing
//! (§2.9), transport mode (§1.3.1) and Child SA keys (§2.17); message IDs, retransmission
//! and the response cache (§2.1 – §2.3); NAT-T with keepalives (RFC 3948); INFORMATIONAL
//! deletes and liveness checks (§1.4). CREATE_CHILD_SA (§1.3) creates further Child SAs,
//! rekeys Child SAs with or without PFS and rekeys the IKE SA (§2.8, §2.18), settling
//! simultaneous rekeys by the lowest nonce (§2.8.1, §2.8.2) and the other collisions as §2.25
//! says; soft lifetimes start rekeys, jittered, and hard ones delete. Each
//! [`Event::ChildSaReady`] carries what the data plane needs to install the Child SA, and
//! says whether to send on it yet (make-before-break, §2.8).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod config;
mod cookie;
mod credentials;
mod endpoint;
mod error;
mod event;
mod half_open;
mod identity;
mod ike_sa;
mod keys;
mod message;
mod nat;
mod proposal;
mod puzzle;
mod queue;
mod select;
mod sk;
mod tables;
mod ts;
mod unique;

pub use auth::psk_auth;
pub use config::{
    AddrRange, AuthMethod, ChildConfig, ChildProposal, DosProtection, Encryption, EndpointConfig,
    IdMatcher, IkeLifetime, IkeProposal, IpsecProtocol, Lifetimes, Mode, PeerConfig, PeerId,
    PuzzlePolicy, RetransmitConfig, UniquePolicy,
};
pub use credentials::{Credentials, SharedKey, SharedKeys};
pub use endpoint::{Endpoint, Stats};
pub use error::{CommandError, DropReason, Error};
pub use event::{
    ChildDeleteReason, ChildSaReady, CloseReason, Event, IkeKeyLog, IkeSaHandle, IkeSaInfo,
    IkeSaState, Path, Transmit,
};
pub use ike_sa::child_keymat_len;
pub use keys::{
    IkeKeys, KeyLengths, child_keymat, derive_ike_keys, derive_rekeyed_ike_keys, rekey_skeyseed,
    skeyseed,
};
pub use nat::{NatState, nat_detection_hash};
pub use proposal::{ChildAlgorithms, IkeAlgorithms};
pub use queue::BoundedQueue;
pub use sk::{SkError, open_sk};
pub use ts::{narrow, within};

//! What the endpoint tells the caller.

use std::net::SocketAddr;

use ipsec_crypto::SecretBytes;
use ipsec_isakmp::{Identification, NotifyType, TrafficSelector};

use crate::config::{Lifetimes, Mode};
use crate::nat::NatState;
use crate::proposal::{ChildAlgorithms, IkeAlgorithms};

/// An IKE SA, as the endpoint knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IkeSaHandle(pub(crate) u64);

impl IkeSaHandle {
    /// A number for logs; unique within one endpoint.
    pub fn id(&self) -> u64 {
        self.0
    }
}

/// Where datagrams of an IKE SA go: our address and port, and the peer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Path {
    /// Our address and port.
    pub local: SocketAddr,
    /// The peer's address and port.
    pub remote: SocketAddr,
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// From which local address and port, to which remote one.
    pub path: Path,
    /// The UDP payload (with the non-ESP marker when the path needs one, RFC 3948 §2.2).
    pub payload: bytes::Bytes,
}

/// The keys of an IKE SA for a Wireshark `ikev2_decryption_table`, emitted only when
/// [`EndpointConfig::key_log`](crate::EndpointConfig::key_log) is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeKeyLog {
    /// SPIi.
    pub spi_i: u64,
    /// SPIr.
    pub spi_r: u64,
    /// The negotiated algorithms.
    pub algorithms: IkeAlgorithms,
    /// SK_ei.
    pub sk_ei: SecretBytes,
    /// SK_er.
    pub sk_er: SecretBytes,
    /// SK_ai.
    pub sk_ai: SecretBytes,
    /// SK_ar.
    pub sk_ar: SecretBytes,
    /// SKEYSEED, SK_d, SK_pi and SK_pr, for comparing key schedules.
    pub skeyseed: SecretBytes,
    /// SK_d.
    pub sk_d: SecretBytes,
    /// SK_pi.
    pub sk_pi: SecretBytes,
    /// SK_pr.
    pub sk_pr: SecretBytes,
}

/// Everything the data plane needs to install a Child SA (RFC 7296 §2.17, RFC 4301 §4.4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSaReady {
    /// The IKE SA that negotiated it.
    pub ike_sa: IkeSaHandle,
    /// The name of the child configuration it was made from.
    pub child: String,
    /// The SPI the peer puts on packets to us.
    pub inbound_spi: u32,
    /// The SPI we put on packets to the peer.
    pub outbound_spi: u32,
    /// The algorithms.
    pub algorithms: ChildAlgorithms,
    /// Keying material for the inbound SA: encryption key (with salt for AEADs), then
    /// integrity key.
    pub inbound_keymat: SecretBytes,
    /// Keying material for the outbound SA, likewise.
    pub outbound_keymat: SecretBytes,
    /// Tunnel or transport.
    pub mode: Mode,
    /// Our side's traffic selectors, as agreed.
    pub local_ts: Vec<TrafficSelector>,
    /// The peer's side's traffic selectors, as agreed.
    pub remote_ts: Vec<TrafficSelector>,
    /// ESP goes in UDP on the NAT-T ports of `path` (RFC 3948).
    pub udp_encapsulation: bool,
    /// The IKE SA's path: ESP goes between these addresses (and, encapsulated, ports).
    pub path: Path,
    /// Lifetimes from the configuration.
    pub lifetimes: Lifetimes,
    /// Whether we may add TFC padding: the peer did not send ESP_TFC_PADDING_NOT_SUPPORTED.
    pub tfc_padding: bool,
    /// The inbound SPI of the Child SA this one replaces (a rekey, RFC 7296 §1.3.3), if any.
    pub rekeyed: Option<u32>,
    /// Whether to send on it now. A rekey's responder installs the new SA but keeps sending
    /// on the old one until an authentic packet arrives on the new one or the
    /// [`Event::ChildSaActive`] event says so (RFC 7296 §2.8: make-before-break); the
    /// redundant SA of a simultaneous rekey never becomes active (§2.8.1).
    pub active: bool,
}

/// Why a Child SA was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChildDeleteReason {
    /// A rekey replaced it (RFC 7296 §1.3.3), whoever deleted it.
    Rekeyed,
    /// We deleted it.
    Local,
    /// The peer deleted it, or said it had none such (CHILD_SA_NOT_FOUND).
    Peer,
    /// Its IKE SA closed.
    IkeSaClosed,
}

/// Where an IKE SA is in its life, for listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IkeSaState {
    /// IKE_SA_INIT or IKE_AUTH under way.
    Connecting,
    /// Up.
    Established,
    /// Our Delete is on its way.
    Deleting,
}

/// An IKE SA as `swanctl --list-sas` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IkeSaInfo {
    /// Its handle.
    pub handle: IkeSaHandle,
    /// The name of its peer configuration, once known (a responder learns it at IKE_AUTH).
    pub connection: Option<String>,
    /// Where it is in its life.
    pub state: IkeSaState,
    /// Whether we are its original initiator (after a rekey: of the rekey).
    pub initiator: bool,
    /// SPIi.
    pub spi_i: u64,
    /// SPIr; 0 until the responder chose it.
    pub spi_r: u64,
    /// Where its datagrams go.
    pub path: Path,
    /// The peer's authenticated identity.
    pub peer_id: Option<Identification>,
    /// The algorithms, once agreed.
    pub algorithms: Option<IkeAlgorithms>,
    /// What NAT detection found.
    pub nat: NatState,
    /// When it was created.
    pub created_at: std::time::Instant,
    /// When it was established.
    pub established_at: Option<std::time::Instant>,
    /// When it will be rekeyed.
    pub rekey_at: Option<std::time::Instant>,
    /// When it will be closed unless rekeyed first.
    pub expires_at: Option<std::time::Instant>,
    /// Its Child SAs.
    pub child_sas: usize,
}

/// Why an IKE SA ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// We deleted it.
    LocalDelete,
    /// The peer deleted it.
    PeerDelete,
    /// The peer's AUTH did not verify, or it refused ours (RFC 7296 §2.21.2).
    AuthenticationFailed,
    /// No proposal was acceptable (RFC 7296 §2.7).
    NoProposalChosen,
    /// No identity of ours matched, or the peer's is not one we accept.
    UnknownPeer,
    /// The peer answered with an error notification.
    PeerError(NotifyType),
    /// The peer answered with something we cannot accept (a proposal not offered, a missing
    /// payload).
    ProtocolError,
    /// Establishment did not finish in time (half-open expiry, retries exhausted).
    EstablishmentTimeout,
    /// Requests went unanswered through every retransmission (RFC 7296 §2.4).
    DeadPeer,
    /// Its hard lifetime passed and no rekey had replaced it (RFC 7296 §2.8).
    LifetimeExpired,
    /// A newer IKE SA with the same identities replaced it: the peer sent INITIAL_CONTACT
    /// (RFC 7296 §2.4) or the `unique` policy asked for it.
    Replaced,
    /// The peer kept answering TEMPORARY_FAILURE for minutes: the two sides' state is out
    /// of sync (RFC 7296 §2.25).
    OutOfSync,
}

/// What happened, for the caller to act on (install SAs, log, count).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// An IKE SA is up.
    IkeSaEstablished {
        /// Which.
        handle: IkeSaHandle,
        /// The name of its peer configuration (the connection).
        connection: String,
        /// Whether we initiated it.
        initiator: bool,
        /// The peer's authenticated identity.
        peer_id: Identification,
        /// The negotiated algorithms.
        algorithms: IkeAlgorithms,
        /// NAT detection's findings.
        nat: NatState,
        /// Where its datagrams go now.
        path: Path,
        /// Its keys, if the key log is on.
        keys: Option<Box<IkeKeyLog>>,
    },
    /// A Child SA is ready to install.
    ChildSaReady(Box<ChildSaReady>),
    /// A Child SA could not be created (in IKE_AUTH or CREATE_CHILD_SA) or rekeyed; the
    /// IKE SA stays up (RFC 7296 §2.21.3), and an SA whose rekey failed stays until its
    /// hard lifetime.
    ChildSaFailed {
        /// The IKE SA.
        handle: IkeSaHandle,
        /// The name of the child configuration.
        child: String,
        /// The notification that said why (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, ...).
        reason: NotifyType,
        /// The inbound SPI of the Child SA whose rekey failed; `None` for a new Child SA.
        rekeying: Option<u32>,
    },
    /// Send on this Child SA from now on: it replaced the one named in its
    /// [`ChildSaReady::rekeyed`], whose delete has arrived (RFC 7296 §2.8).
    ChildSaActive {
        /// The IKE SA.
        handle: IkeSaHandle,
        /// Its inbound SPI.
        inbound_spi: u32,
    },
    /// A Child SA was deleted; remove it from the data plane.
    ChildSaDeleted {
        /// The IKE SA.
        handle: IkeSaHandle,
        /// Its inbound SPI.
        inbound_spi: u32,
        /// Its outbound SPI.
        outbound_spi: u32,
        /// Why. A rekeyed one may still receive packets the peer sent on it before
        /// switching, so its inbound SA may linger a moment (RFC 7296 §2.8.1 asks to accept
        /// packets on both while both exist).
        reason: ChildDeleteReason,
    },
    /// The IKE SA was rekeyed (RFC 7296 §1.3.2, §2.18): new SPIs and keys, the same handle;
    /// its Child SAs carry on unchanged.
    IkeSaRekeyed {
        /// Which.
        handle: IkeSaHandle,
        /// Whether we initiated the surviving rekey (and are its new original initiator).
        initiator: bool,
        /// The new SPIi.
        spi_i: u64,
        /// The new SPIr.
        spi_r: u64,
        /// The negotiated algorithms.
        algorithms: IkeAlgorithms,
        /// Its keys, if the key log is on.
        keys: Option<Box<IkeKeyLog>>,
    },
    /// As responder we refused a peer's request (RFC 7296 §2.21): its IKE_SA_INIT (no
    /// acceptable proposal), its IKE_AUTH (authentication failed, no configuration for its
    /// identity) or a Child SA (no proposal chosen, TS_UNACCEPTABLE).
    Refused {
        /// The IKE SA, if the request reached one.
        handle: Option<IkeSaHandle>,
        /// The name of the peer configuration chosen for the request, if one was.
        connection: Option<String>,
        /// The peer's address and port.
        remote: SocketAddr,
        /// The identity the peer claimed, if it sent one.
        peer_id: Option<Identification>,
        /// The notification we answered with.
        reason: NotifyType,
    },
    /// The peer's address or port changed (a NAT mapping moved, RFC 7296 §2.23): the IKE
    /// SA's datagrams, and its Child SAs' ESP in UDP, go to `path` from now on.
    PathChanged {
        /// The IKE SA.
        handle: IkeSaHandle,
        /// The new path.
        path: Path,
    },
    /// A newer IKE SA with the same identities replaces this one (swanctl's `unique`): its
    /// Delete is on its way, and its Child SAs should carry no more new traffic.
    IkeSaReplaced {
        /// The IKE SA being deleted.
        handle: IkeSaHandle,
    },
    /// The keys of an IKE SA under this handle that never becomes the current one (the
    /// redundant SA of a simultaneous rekey, RFC 7296 §2.8.2), for a key log: its messages
    /// (the Delete that ends it) are protected with them. Only with
    /// [`EndpointConfig::key_log`](crate::EndpointConfig::key_log).
    IkeSaKeys {
        /// The IKE SA handle it belongs to.
        handle: IkeSaHandle,
        /// Its keys.
        keys: Box<IkeKeyLog>,
    },
    /// An IKE SA ended, with its Child SAs (each reported by `ChildSaDeleted` first).
    IkeSaClosed {
        /// Which.
        handle: IkeSaHandle,
        /// Why.
        reason: CloseReason,
    },
}

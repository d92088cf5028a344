//! What the endpoint hands back: outputs to send or deliver, events, and why a datagram
//! was dropped.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use ipsec_ikev2::{ChildAlgorithms, CloseReason, IkeAlgorithms, IkeSaHandle, Mode, NatState, Path};
use ipsec_isakmp::{Identification, NotifyType, TrafficSelector};
use ipsec_sad::{LimitKind, SaId};

/// Something for the caller to send or deliver. Not `non_exhaustive`: a new kind of
/// output is one the caller must handle, so adding one breaks the build on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A UDP datagram: IKE, ESP in UDP, or a NAT-keepalive.
    Udp {
        /// From which local address and port, to which remote one.
        path: Path,
        /// The UDP payload.
        payload: Bytes,
    },
    /// An ESP packet to send as IP protocol 50 (RFC 4303), without UDP.
    Esp {
        /// Our address.
        source: IpAddr,
        /// The peer's address.
        destination: IpAddr,
        /// The ESP packet, from the SPI on.
        packet: Bytes,
    },
    /// A whole IP packet carrying AH (RFC 4302), IP header included: AH covers the header,
    /// so it goes out as it is (a raw socket with the header included, `IP_HDRINCL`).
    Ah {
        /// Our address.
        source: IpAddr,
        /// The peer's address.
        destination: IpAddr,
        /// The IP packet.
        packet: Bytes,
    },
    /// A packet that arrived protected, to deliver: the inner IP packet in tunnel mode, the
    /// upper-layer payload (with `next_header` its protocol) in transport mode.
    Deliver {
        /// The packet.
        packet: Bytes,
        /// Next Header of ESP's trailer or the AH header: 4 or 41 in tunnel mode, the
        /// protocol otherwise.
        next_header: u8,
        /// Whether it came through a transport-mode SA.
        transport: bool,
        /// The address of the peer that sent it (the outer source address).
        peer: IpAddr,
        /// The IKE SA of the Child SA that carried it.
        ike_sa: IkeSaHandle,
        /// The inbound SPI of the Child SA that carried it.
        inbound_spi: u32,
    },
}

/// What became of a packet given to [`Endpoint::send`](crate::Endpoint::send).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendOutcome {
    /// Protected and queued on `poll_output`.
    Sent,
    /// The SPD says BYPASS: send it in the clear.
    Bypass,
    /// The SPD says DISCARD, or no policy matches, or the packet is not IP, or it needs an
    /// SA that no trap asks IKE for.
    Discarded,
    /// The policy needs an SA that IKE is negotiating now (its trap started it, the
    /// ACQUIRE of RFC 4301 §5.1); the packet was not sent.
    Acquiring,
    /// Sealing failed (the SA expired, a hard limit).
    Failed(ipsec_sad::SealError),
}

/// Why a datagram was dropped; every reason can be counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Dropped {
    /// IKE dropped it.
    #[error("IKE: {0}")]
    Ike(ipsec_ikev2::DropReason),
    /// The SAD dropped it (unknown SPI, replay, ICV, padding, selectors, expiry).
    #[error("IPsec: {0}")]
    Sad(ipsec_sad::DropReason),
    /// Too short to be anything on the NAT-T port.
    #[error("malformed datagram")]
    Malformed,
}

/// What happened. Every event about an SA names its connection (and child).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// An IKE SA is up.
    IkeSaEstablished {
        /// Its connection.
        connection: String,
        /// The IKE SA.
        handle: IkeSaHandle,
        /// Whether we initiated it.
        initiator: bool,
        /// The peer's identity.
        peer_id: Identification,
        /// The algorithms.
        algorithms: IkeAlgorithms,
        /// What NAT detection found.
        nat: NatState,
        /// Where its datagrams go.
        path: Path,
    },
    /// A Child SA is installed. A new one carries traffic at once; a rekey's replacement
    /// for `rekeyed` takes over as RFC 7296 §2.8 says (at once when we rekeyed, when the
    /// peer's first packet on it or its Delete of the old SA arrives when the peer did).
    ChildSaInstalled {
        /// Its connection.
        connection: String,
        /// Its child configuration.
        child: String,
        /// The IKE SA.
        ike_sa: IkeSaHandle,
        /// Our SPI.
        inbound_spi: u32,
        /// The peer's SPI.
        outbound_spi: u32,
        /// The algorithms (ESP or AH).
        algorithms: ChildAlgorithms,
        /// Tunnel or transport.
        mode: Mode,
        /// ESP in UDP.
        udp_encapsulation: bool,
        /// Our side's selectors.
        local_ts: Vec<TrafficSelector>,
        /// The peer's side's selectors.
        remote_ts: Vec<TrafficSelector>,
        /// The inbound SPI of the Child SA this one rekeys (RFC 7296 §1.3.3), if any.
        rekeyed: Option<u32>,
    },
    /// The peer refused a Child SA or its rekey, or we could not make one; the IKE SA
    /// stays.
    ChildSaFailed {
        /// Its connection.
        connection: String,
        /// Its child configuration.
        child: String,
        /// The IKE SA.
        ike_sa: IkeSaHandle,
        /// The notification that said why.
        reason: NotifyType,
        /// The inbound SPI of the Child SA whose rekey failed (it carries on until its hard
        /// lifetime); `None` for a new Child SA.
        rekeying: Option<u32>,
    },
    /// An IKE SA was rekeyed (RFC 7296 §1.3.2): same handle, new SPIs and keys; its Child
    /// SAs carry on.
    IkeSaRekeyed {
        /// Its connection.
        connection: String,
        /// The IKE SA.
        handle: IkeSaHandle,
        /// The new SPIi.
        spi_i: u64,
        /// The new SPIr.
        spi_r: u64,
        /// The algorithms.
        algorithms: IkeAlgorithms,
    },
    /// A negotiated Child SA could not be installed.
    InstallFailed {
        /// Its connection.
        connection: String,
        /// Its child configuration.
        child: String,
        /// The IKE SA.
        ike_sa: IkeSaHandle,
        /// Our SPI.
        inbound_spi: u32,
        /// What went wrong.
        problem: &'static str,
    },
    /// A Child SA was removed.
    ChildSaRemoved {
        /// Its connection.
        connection: String,
        /// Its child configuration.
        child: String,
        /// The IKE SA.
        ike_sa: IkeSaHandle,
        /// Our SPI.
        inbound_spi: u32,
        /// The peer's SPI.
        outbound_spi: u32,
        /// Why.
        reason: ChildRemoval,
    },
    /// An IKE SA ended, with its Child SAs (each reported by `ChildSaRemoved` first).
    IkeSaClosed {
        /// Its connection.
        connection: String,
        /// The IKE SA.
        handle: IkeSaHandle,
        /// Why.
        reason: CloseReason,
    },
    /// An SA crossed a soft lifetime limit (RFC 4301 §4.4.2.1); its Child SA is being
    /// rekeyed.
    RekeyNeeded {
        /// Its connection.
        connection: String,
        /// Its child configuration.
        child: String,
        /// The SA.
        sa: SaId,
        /// Which limit.
        limit: LimitKind,
    },
    /// An SA crossed a hard lifetime limit and no longer carries traffic; its Child SA is
    /// being deleted.
    Expired {
        /// Its connection.
        connection: String,
        /// Its child configuration.
        child: String,
        /// The SA.
        sa: SaId,
        /// Which limit.
        limit: LimitKind,
    },
    /// As responder we refused a peer (RFC 7296 §2.21): no acceptable IKE proposal, a
    /// failed authentication, no configuration for its identity, or a Child SA we could
    /// not agree on.
    PeerRefused {
        /// The connection, if the request got as far as choosing one.
        connection: Option<String>,
        /// The peer's address and port.
        remote: SocketAddr,
        /// The identity the peer claimed, if it sent one.
        peer_id: Option<Identification>,
        /// The notification we answered with.
        reason: NotifyType,
    },
}

/// Why a Child SA was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChildRemoval {
    /// We or the peer deleted it (RFC 7296 §1.4.1).
    Deleted,
    /// A rekey replaced it (RFC 7296 §1.3.3).
    Rekeyed,
    /// Its IKE SA closed.
    IkeSaClosed,
    /// No traffic for the child's `inactivity` time.
    Inactive,
}

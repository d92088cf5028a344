//! NAT detection (RFC 7296 §2.23).

use std::net::{IpAddr, SocketAddr};

use sha1::{Digest, Sha1};

/// The NAT_DETECTION_*_IP notification data for `addr`:
/// `SHA-1(SPIi | SPIr | IP | Port)` (RFC 7296 §2.23); SPIr is zero in an IKE_SA_INIT request.
pub fn nat_detection_hash(spi_i: u64, spi_r: u64, addr: SocketAddr) -> [u8; 20] {
    let mut hash = Sha1::new();
    hash.update(spi_i.to_be_bytes());
    hash.update(spi_r.to_be_bytes());
    match addr.ip() {
        IpAddr::V4(v4) => hash.update(v4.octets()),
        IpAddr::V6(v6) => hash.update(v6.octets()),
    }
    hash.update(addr.port().to_be_bytes());
    hash.finalize().into()
}

/// What NAT detection found (RFC 7296 §2.23).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NatState {
    /// Our address as the peer saw it differs from ours: we are behind a NAT, and send
    /// NAT-keepalives (RFC 3948 §4).
    pub local_behind_nat: bool,
    /// The peer's address differs from the one it claims: it is behind a NAT (or it asked
    /// for UDP encapsulation with a hash that cannot match).
    pub remote_behind_nat: bool,
}

impl NatState {
    /// Whether ESP and IKE go over the NAT-T port, ESP in UDP (RFC 3948).
    pub fn encapsulate(&self) -> bool {
        self.local_behind_nat || self.remote_behind_nat
    }
}

//! What the IKEv2 benches share: two peers' configurations (PSK, Curve25519, AES-256-GCM,
//! PRF-HMAC-SHA2-256) and moving datagrams between endpoints by hand.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use ipsec_crypto::SecretBytes;
use ipsec_ikev2::{
    ChildConfig, ChildProposal, Encryption, Endpoint, EndpointConfig, IdMatcher, IkeProposal, Path,
    PeerConfig, PeerId, SharedKeys,
};
use ipsec_isakmp::{AddressRange, DhGroup, EsnId, Identification, PrfId, TrafficSelector};

pub const A_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
pub const B_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

pub fn range(start: [u8; 4], end: [u8; 4]) -> TrafficSelector {
    TrafficSelector::Ipv4(AddressRange {
        ip_protocol: 0,
        start_port: 0,
        end_port: 65535,
        start_address: start.into(),
        end_address: end.into(),
    })
}

/// x25519, AES-256-GCM (16-byte ICV), PRF-HMAC-SHA2-256; the Child SA AES-256-GCM.
pub fn peer(local: &str, remote: &str, local_net: u8, remote_net: u8) -> PeerConfig {
    PeerConfig {
        name: "bench".into(),
        local_id: Identification::fqdn(local),
        remote_id: IdMatcher::Exact(PeerId::Fqdn(remote.into())),
        ike_proposals: vec![IkeProposal {
            encryption: vec![Encryption::aes_gcm_16(256)],
            integrity: vec![],
            prf: vec![PrfId::HmacSha2_256],
            dh: vec![DhGroup::Curve25519],
        }],
        children: vec![Arc::new(ChildConfig {
            name: "net".into(),
            proposals: vec![ChildProposal {
                esn: vec![EsnId::NoEsn],
                ..ChildProposal::esp(vec![Encryption::aes_gcm_16(256)], vec![])
            }],
            local_ts: vec![range([10, local_net, 0, 0], [10, local_net, 255, 255])],
            remote_ts: vec![range([10, remote_net, 0, 0], [10, remote_net, 255, 255])],
            ..ChildConfig::default()
        })],
        ..PeerConfig::default()
    }
}

/// An endpoint configuration holding the benchmark's pre-shared key.
pub fn endpoint_config() -> EndpointConfig {
    EndpointConfig {
        credentials: Arc::new(SharedKeys::single(SecretBytes::copy_from(
            b"benchmark pre-shared key",
        ))),
        ..EndpointConfig::default()
    }
}

pub fn a_path() -> Path {
    Path {
        local: SocketAddr::new(A_IP, 500),
        remote: SocketAddr::new(B_IP, 500),
    }
}

pub fn reversed(path: Path) -> Path {
    Path {
        local: path.remote,
        remote: path.local,
    }
}

/// Delivers every datagram `from` has queued to `to`; returns how many.
pub fn relay(now: Instant, from: &mut Endpoint, to: &mut Endpoint) -> usize {
    let mut n = 0;
    while let Some(t) = from.poll_transmit() {
        let _ = to.handle_datagram(now, reversed(t.path), &t.payload);
        n += 1;
    }
    n
}

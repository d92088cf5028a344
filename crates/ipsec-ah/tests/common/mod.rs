//! Helpers shared by the AH tests: the known-answer file reader (`[name]` starts a vector,
//! `field = hex` sets a field, `#` starts a comment), algorithms and packet builders.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ipsec_ah::{AhTransform, InboundAhSa, IpVersion, OutboundAhSa};
use ipsec_crypto::{IntegrityAlgorithm, RUST_CRYPTO};
use ipsec_replay::ReplayWindow;

#[path = "../../../ipsec-crypto/tests/common/vector_file.rs"]
mod vector_file;

#[allow(unused_imports)] // not every test binary reads vector files
pub use vector_file::{Vector, parse};

/// Every integrity algorithm of the default provider: HMAC-SHA-256-128, -384-192,
/// -512-256, AES-128-GMAC and AES-256-GMAC.
pub fn algorithms() -> Vec<&'static dyn IntegrityAlgorithm> {
    RUST_CRYPTO.integrity.to_vec()
}

/// `algorithm` keyed with keying material derived from `seed`.
pub fn transform(algorithm: &dyn IntegrityAlgorithm, seed: u8) -> AhTransform {
    let keymat: Vec<u8> = (0..algorithm.spec().key_len)
        .map(|i| seed.wrapping_add(i as u8))
        .collect();
    AhTransform::new(algorithm, &keymat).unwrap()
}

/// A matching outbound and inbound SA (64-packet window).
pub fn pair(
    algorithm: &dyn IntegrityAlgorithm,
    spi: u32,
    esn: bool,
) -> (OutboundAhSa, InboundAhSa) {
    (
        OutboundAhSa::new(spi, esn, transform(algorithm, 0x40)),
        InboundAhSa::new(
            spi,
            ReplayWindow::new(64, esn).unwrap(),
            transform(algorithm, 0x40),
        ),
    )
}

pub const V4_SRC: [u8; 4] = [192, 0, 2, 1];
pub const V4_DST: [u8; 4] = [198, 51, 100, 7];
pub const V6_SRC: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
pub const V6_DST: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// The Internet checksum of `data` (RFC 1071).
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Recomputes the IPv4 header checksum in place.
pub fn fix_ipv4_checksum(packet: &mut [u8]) {
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    packet[10..12].fill(0);
    let sum = checksum(&packet[..ihl]);
    packet[10..12].copy_from_slice(&sum.to_be_bytes());
}

/// An IPv4 packet with `options` (a multiple of 4 bytes), room for an AH header of
/// `ah_len` bytes (zeros), then `payload`. Returns the packet and the AH offset.
pub fn ipv4(options: &[u8], ah_len: usize, payload: &[u8]) -> (Vec<u8>, usize) {
    assert_eq!(options.len() % 4, 0);
    let ihl = 20 + options.len();
    let total = ihl + ah_len + payload.len();
    let mut packet = vec![
        0x40 | (ihl / 4) as u8,
        0x28,
        0,
        0,
        0x12,
        0x34,
        0x40,
        0,
        64,
        51,
        0,
        0,
    ];
    packet[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    packet.extend(V4_SRC);
    packet.extend(V4_DST);
    packet.extend(options);
    packet.resize(ihl + ah_len, 0);
    packet.extend(payload);
    fix_ipv4_checksum(&mut packet);
    (packet, ihl)
}

/// An IPv6 packet with extension headers `ext` (the first of type `first`; the last must
/// name AH), room for AH, then `payload`. Returns the packet and the AH offset.
pub fn ipv6(first: u8, ext: &[u8], ah_len: usize, payload: &[u8]) -> (Vec<u8>, usize) {
    let payload_len = ext.len() + ah_len + payload.len();
    // Traffic class 0x2b, flow label 0x12345, hop limit 64.
    let mut packet = vec![0x62, 0xb1, 0x23, 0x45];
    packet.extend((payload_len as u16).to_be_bytes());
    packet.extend([first, 64]);
    packet.extend(V6_SRC);
    packet.extend(V6_DST);
    packet.extend(ext);
    let ah_offset = packet.len();
    packet.resize(ah_offset + ah_len, 0);
    packet.extend(payload);
    (packet, ah_offset)
}

/// An IP packet of `version` in transport or tunnel mode for `sa`, carrying `payload`
/// (the upper layer, or an inner packet). IPv6 packets carry a Hop-by-Hop header with a
/// mutable and an immutable option.
pub fn packet_for(sa: &OutboundAhSa, version: IpVersion, payload: &[u8]) -> (Vec<u8>, usize) {
    let ah_len = sa.ah_header_len(version);
    match version {
        IpVersion::V4 => ipv4(&[], ah_len, payload),
        _ => ipv6(0, &HOP_BY_HOP, ah_len, payload),
    }
}

/// A Hop-by-Hop Options header naming AH next: an option whose data may change en route
/// (type 0x3e, 2 bytes of data), then an immutable one (type 0x1e, no data).
pub const HOP_BY_HOP: [u8; 8] = [51, 0, 0x3e, 2, 0xaa, 0xbb, 0x1e, 0];

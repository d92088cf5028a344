//! Helpers shared by the SAD, SPD and flow tests: ESP SAs keyed with RUST_CRYPTO, and
//! hand-built IPv4 and IPv6 packets.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipsec_crypto::{RUST_CRYPTO, iana};
use ipsec_esp::{EspTransform, InboundSa, OutboundSa};
use ipsec_replay::ReplayWindow;
use ipsec_sad::{OutboundHandle, Sad, SealError};

/// AES-128-GCM keying material: 16 key bytes and the 4-byte salt.
pub(crate) const GCM_KEYMAT: [u8; 20] = [0x42; 20];

/// An AES-128-GCM transform keyed with `keymat`.
pub(crate) fn gcm(keymat: &[u8]) -> EspTransform {
    EspTransform::aead(
        RUST_CRYPTO.aead(iana::ENCR_AES_GCM_16, 128).unwrap(),
        keymat,
    )
    .unwrap()
}

/// An ENCR_NULL + HMAC-SHA-256-128 transform: the plaintext stays readable on the wire.
pub(crate) fn null_sha256(key: &[u8; 32]) -> EspTransform {
    EspTransform::cipher_integrity(
        RUST_CRYPTO.cipher(iana::ENCR_NULL, 0).unwrap(),
        RUST_CRYPTO.integrity(iana::AUTH_HMAC_SHA2_256_128).unwrap(),
        key,
    )
    .unwrap()
}

/// An inbound AES-128-GCM SA with a 64-packet window.
pub(crate) fn inbound(spi: u32) -> InboundSa {
    InboundSa::new(spi, ReplayWindow::new(64, false).unwrap(), gcm(&GCM_KEYMAT))
}

/// The outbound AES-128-GCM SA matching [`inbound`].
pub(crate) fn outbound(spi: u32) -> OutboundSa {
    OutboundSa::new(spi, false, gcm(&GCM_KEYMAT))
}

pub(crate) fn v4(text: &str) -> IpAddr {
    IpAddr::V4(text.parse::<Ipv4Addr>().unwrap())
}

pub(crate) fn v6(text: &str) -> IpAddr {
    IpAddr::V6(text.parse::<Ipv6Addr>().unwrap())
}

/// An IPv4 packet from `src` to `dst` with `protocol` and `upper` as its payload.
pub(crate) fn ipv4_packet(src: [u8; 4], dst: [u8; 4], protocol: u8, upper: &[u8]) -> Vec<u8> {
    let total = 20 + upper.len();
    let mut p = vec![0u8; 20];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[8] = 64;
    p[9] = protocol;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    p.extend_from_slice(upper);
    p
}

/// An IPv6 packet with `next_header` and `rest` (extension headers and upper layer).
pub(crate) fn ipv6_packet(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, rest: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 40];
    p[0] = 0x60;
    p[4..6].copy_from_slice(&(rest.len() as u16).to_be_bytes());
    p[6] = next_header;
    p[7] = 64;
    p[8..24].copy_from_slice(&src.octets());
    p[24..40].copy_from_slice(&dst.octets());
    p.extend_from_slice(rest);
    p
}

/// A UDP header and `data`.
pub(crate) fn udp(src_port: u16, dst_port: u16, data: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&src_port.to_be_bytes());
    u.extend_from_slice(&dst_port.to_be_bytes());
    u.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(data);
    u
}

/// An ICMP (or ICMPv6) header of `icmp_type` and `code`, and 4 bytes of rest.
pub(crate) fn icmp(icmp_type: u8, code: u8) -> Vec<u8> {
    vec![icmp_type, code, 0, 0, 0, 1, 0, 1]
}

/// Seals `payload` with the outbound SA `handle` and returns the packet.
pub(crate) fn seal(
    sad: &mut Sad,
    now: std::time::Instant,
    handle: OutboundHandle,
    payload: &[u8],
    next_header: u8,
) -> Result<Vec<u8>, SealError> {
    let sa = sad.outbound(handle).and_then(|e| e.sa());
    let (header, tail) = sa.map_or((0, 0), |sa| (sa.header_len(), sa.tail_len(payload.len())));
    let mut buf = vec![0u8; header + payload.len() + tail];
    buf[header..header + payload.len()].copy_from_slice(payload);
    let len = sad.seal(now, handle, &mut buf, payload.len(), next_header)?;
    buf.truncate(len);
    Ok(buf)
}

/// The origin of the tests' fake clock. `Instant` has no constructor, so one real reading
/// is taken; every later time is this plus a `Duration`, as a caller's clock would give.
#[allow(
    clippy::disallowed_methods,
    reason = "the fake clock needs one real origin"
)]
pub(crate) fn start() -> std::time::Instant {
    std::time::Instant::now()
}

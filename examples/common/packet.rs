//! Hand-built IPv4 packets for the examples: ICMP echo requests and replies.

use std::net::Ipv4Addr;

/// The Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 packet around `payload` of `protocol`.
pub fn ipv4(source: Ipv4Addr, destination: Ipv4Addr, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut packet = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0x12,
        0x34,
        0x40,
        0,
        64,
        protocol,
        0,
        0,
    ];
    packet.extend_from_slice(&source.octets());
    packet.extend_from_slice(&destination.octets());
    let sum = checksum(&packet);
    packet[10..12].copy_from_slice(&sum.to_be_bytes());
    packet.extend_from_slice(payload);
    packet
}

/// An ICMP echo request (type 8) or reply (type 0) inside IPv4.
pub fn icmp_echo(
    source: Ipv4Addr,
    destination: Ipv4Addr,
    reply: bool,
    id: u16,
    seq: u16,
    data: &[u8],
) -> Vec<u8> {
    let mut icmp = vec![if reply { 0 } else { 8 }, 0, 0, 0];
    icmp.extend_from_slice(&id.to_be_bytes());
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(data);
    let sum = checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    ipv4(source, destination, 1, &icmp)
}

/// An ICMP echo message found in an IPv4 packet.
pub struct Echo<'a> {
    pub source: Ipv4Addr,
    pub destination: Ipv4Addr,
    pub reply: bool,
    pub id: u16,
    pub seq: u16,
    pub data: &'a [u8],
}

/// Reads an ICMP echo request or reply out of an IPv4 packet.
pub fn parse_echo(packet: &[u8]) -> Option<Echo<'_>> {
    if packet.len() < 28 || packet[0] >> 4 != 4 || packet[9] != 1 {
        return None;
    }
    let header = usize::from(packet[0] & 0x0f) * 4;
    let icmp = packet.get(header..)?;
    let kind = *icmp.first()?;
    if kind != 0 && kind != 8 {
        return None;
    }
    Some(Echo {
        source: Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]),
        destination: Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]),
        reply: kind == 0,
        id: u16::from_be_bytes([*icmp.get(4)?, *icmp.get(5)?]),
        seq: u16::from_be_bytes([*icmp.get(6)?, *icmp.get(7)?]),
        data: icmp.get(8..)?,
    })
}

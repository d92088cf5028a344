//! The selector fields of an IP packet (RFC 4301 §4.4.1.1): addresses, next layer protocol,
//! and ports or ICMP type and code, read from hostile bytes without panicking.
//!
//! IPv4 header (RFC 791 §3.1) and IPv6 header (RFC 8200 §3) fields read here:
//!
//! ```text
//! IPv4:  0      1      2      3             IPv6:  0      1      2      3
//!       +------+------+------+------+             +------+------+------+------+
//!  0    |V|IHL | TOS  | Total Length|        0    |V| TC / Flow Label          |
//!  4    | Identification |F| FragOff|        4    |Payload Length|NextHd|HopLim|
//!  8    | TTL  |Proto | Checksum    |        8    | Source Address (16)       |
//! 12    | Source Address            |       24    | Destination Address (16)  |
//! 16    | Destination Address       |       40    | extension headers, upper  |
//! 20    | options, then upper layer |             +------+------+------+------+
//!       +------+------+------+------+
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IP protocol numbers used by the flow extractor.
pub mod protocol {
    /// IPv6 Hop-by-Hop Options (RFC 8200 §4.3).
    pub const HOP_BY_HOP: u8 = 0;
    /// ICMP (RFC 792).
    pub const ICMP: u8 = 1;
    /// IPv4 in IP: the next header of a tunnel-mode ESP payload that is an IPv4 packet.
    pub const IPV4: u8 = 4;
    /// TCP (RFC 9293).
    pub const TCP: u8 = 6;
    /// UDP (RFC 768).
    pub const UDP: u8 = 17;
    /// DCCP (RFC 4340).
    pub const DCCP: u8 = 33;
    /// IPv6 in IP: the next header of a tunnel-mode ESP payload that is an IPv6 packet.
    pub const IPV6: u8 = 41;
    /// IPv6 Routing header (RFC 8200 §4.4).
    pub const ROUTING: u8 = 43;
    /// IPv6 Fragment header (RFC 8200 §4.5).
    pub const FRAGMENT: u8 = 44;
    /// ESP (RFC 4303).
    pub const ESP: u8 = 50;
    /// AH (RFC 4302).
    pub const AH: u8 = 51;
    /// ICMPv6 (RFC 4443).
    pub const ICMPV6: u8 = 58;
    /// No Next Header (RFC 8200 §4.7); in ESP, a dummy packet (RFC 4303 §2.6).
    pub const NO_NEXT_HEADER: u8 = 59;
    /// IPv6 Destination Options (RFC 8200 §4.6).
    pub const DESTINATION_OPTIONS: u8 = 60;
    /// SCTP (RFC 9260).
    pub const SCTP: u8 = 132;
    /// UDP-Lite (RFC 3828).
    pub const UDP_LITE: u8 = 136;
}

/// The most IPv6 extension headers walked before the upper-layer header; a packet with
/// more is refused, so a hostile chain costs a bounded amount of work.
pub const MAX_EXTENSION_HEADERS: usize = 8;

const IPV4_HEADER_LEN: usize = 20;
const IPV6_HEADER_LEN: usize = 40;

/// The part of a packet a [`FlowError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layer {
    /// The IPv4 header (RFC 791 §3.1).
    Ipv4Header,
    /// The fixed IPv6 header (RFC 8200 §3).
    Ipv6Header,
    /// An IPv6 extension header (RFC 8200 §4).
    ExtensionHeader,
    /// The upper-layer header's ports or ICMP type and code.
    UpperLayer,
    /// The whole packet, as long as its IP header says.
    Packet,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ipv4Header => "IPv4 header",
            Self::Ipv6Header => "IPv6 header",
            Self::ExtensionHeader => "IPv6 extension header",
            Self::UpperLayer => "upper-layer header",
            Self::Packet => "IP packet",
        })
    }
}

/// Why the selector fields could not be read from a packet. Each is a reason to drop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// The bytes end before the structure does.
    #[error("{what} truncated: {needed} bytes needed, {available} available")]
    Truncated {
        /// The structure being read.
        what: Layer,
        /// Bytes it needs.
        needed: usize,
        /// Bytes there were.
        available: usize,
    },
    /// The version nibble is neither 4 nor 6.
    #[error("IP version {0} is neither 4 nor 6")]
    UnknownVersion(u8),
    /// IPv4 Internet Header Length below 5 words (RFC 791 §3.1).
    #[error("IPv4 header length of {ihl} words is below the minimum of 5")]
    BadHeaderLength {
        /// The IHL field.
        ihl: u8,
    },
    /// IPv4 Total Length smaller than the header it must include (RFC 791 §3.1).
    #[error("IPv4 total length {total} is below the header length {header}")]
    BadTotalLength {
        /// The Total Length field.
        total: usize,
        /// The header length from IHL.
        header: usize,
    },
    /// The IPv6 packet has more extension headers than [`MAX_EXTENSION_HEADERS`].
    #[error("more than {limit} IPv6 extension headers")]
    TooManyExtensionHeaders {
        /// The limit.
        limit: usize,
    },
}

/// The ports of a packet for its selector check (RFC 4301 §4.4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowPorts {
    /// Source and destination port (TCP, UDP, SCTP, UDP-Lite, DCCP).
    Ports {
        /// Source port.
        source: u16,
        /// Destination port.
        destination: u16,
    },
    /// ICMP or ICMPv6: message type and code take the ports' place.
    Icmp {
        /// Message type.
        icmp_type: u8,
        /// Message code.
        code: u8,
    },
    /// OPAQUE: a non-initial fragment, or a protocol without ports. Matches only port
    /// selectors that are ANY.
    Opaque,
}

/// The selector fields of one packet (RFC 4301 §4.4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flow {
    /// Source address.
    pub source: IpAddr,
    /// Destination address.
    pub destination: IpAddr,
    /// Next layer protocol: for IPv6 the Next Header after the extension headers walked
    /// (Hop-by-Hop, Routing, Fragment, Destination Options).
    pub protocol: u8,
    /// Ports, ICMP type and code, or OPAQUE.
    pub ports: FlowPorts,
}

impl Flow {
    /// The selector fields of the IPv4 or IPv6 packet at the start of `packet` (the version
    /// nibble decides). Bytes after the length the IP header declares are ignored (TFC
    /// padding, RFC 4303 §2.7).
    ///
    /// IPv6 extension headers (Hop-by-Hop, Routing, Fragment, Destination Options) are
    /// walked to the upper-layer header, at most [`MAX_EXTENSION_HEADERS`] of them; ESP, AH
    /// and every other value end the walk and are the next layer protocol. A non-initial
    /// fragment (IPv4 offset or IPv6 Fragment header offset not zero) has OPAQUE ports.
    pub fn parse(packet: &[u8]) -> Result<Self, FlowError> {
        parse_ip(packet).map(|(flow, _)| flow)
    }

    /// The selector fields of a transport-mode payload (RFC 4301 §5.2): the addresses from
    /// the outer IP header, `next_header` from the ESP trailer, and ports or ICMP type and
    /// code from the start of `payload`. With two IPv6 addresses, IPv6 extension headers at
    /// the start of the payload are walked as [`parse`](Self::parse) does.
    pub fn from_transport(
        source: IpAddr,
        destination: IpAddr,
        next_header: u8,
        payload: &[u8],
    ) -> Result<Self, FlowError> {
        let (protocol, upper, fragment) = match (source, destination) {
            (IpAddr::V6(_), IpAddr::V6(_)) => walk_extension_headers(next_header, payload)?,
            _ => (next_header, payload, false),
        };
        let ports = if fragment {
            FlowPorts::Opaque
        } else {
            upper_ports(protocol, upper)?
        };
        Ok(Self {
            source,
            destination,
            protocol,
            ports,
        })
    }
}

fn truncated(what: Layer, needed: usize, available: usize) -> FlowError {
    FlowError::Truncated {
        what,
        needed,
        available,
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let pair = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes(pair.try_into().ok()?))
}

fn array_at<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Parses an IPv4 or IPv6 packet: its flow and its length as its header declares.
pub(crate) fn parse_ip(packet: &[u8]) -> Result<(Flow, usize), FlowError> {
    let first = *packet
        .first()
        .ok_or(truncated(Layer::Packet, 1, packet.len()))?;
    match first >> 4 {
        4 => parse_ipv4(packet),
        6 => parse_ipv6(packet),
        version => Err(FlowError::UnknownVersion(version)),
    }
}

fn parse_ipv4(packet: &[u8]) -> Result<(Flow, usize), FlowError> {
    let fixed = packet.get(..IPV4_HEADER_LEN).ok_or(truncated(
        Layer::Ipv4Header,
        IPV4_HEADER_LEN,
        packet.len(),
    ))?;
    let first = fixed.first().copied().unwrap_or_default();
    let ihl = first & 0x0f;
    if ihl < 5 {
        return Err(FlowError::BadHeaderLength { ihl });
    }
    let header_len = usize::from(ihl) * 4;
    if packet.len() < header_len {
        return Err(truncated(Layer::Ipv4Header, header_len, packet.len()));
    }
    let total = usize::from(u16_at(fixed, 2).unwrap_or_default());
    if total < header_len {
        return Err(FlowError::BadTotalLength {
            total,
            header: header_len,
        });
    }
    let whole = packet
        .get(..total)
        .ok_or(truncated(Layer::Packet, total, packet.len()))?;
    let fragment_offset = u16_at(fixed, 6).unwrap_or_default() & 0x1fff;
    let protocol = fixed.get(9).copied().unwrap_or_default();
    let source = Ipv4Addr::from(array_at::<4>(fixed, 12).unwrap_or_default());
    let destination = Ipv4Addr::from(array_at::<4>(fixed, 16).unwrap_or_default());
    let ports = if fragment_offset != 0 {
        FlowPorts::Opaque
    } else {
        upper_ports(protocol, whole.get(header_len..).unwrap_or_default())?
    };
    let flow = Flow {
        source: source.into(),
        destination: destination.into(),
        protocol,
        ports,
    };
    Ok((flow, total))
}

fn parse_ipv6(packet: &[u8]) -> Result<(Flow, usize), FlowError> {
    let fixed = packet.get(..IPV6_HEADER_LEN).ok_or(truncated(
        Layer::Ipv6Header,
        IPV6_HEADER_LEN,
        packet.len(),
    ))?;
    let payload_len = usize::from(u16_at(fixed, 4).unwrap_or_default());
    let next_header = fixed.get(6).copied().unwrap_or_default();
    let source = Ipv6Addr::from(array_at::<16>(fixed, 8).unwrap_or_default());
    let destination = Ipv6Addr::from(array_at::<16>(fixed, 24).unwrap_or_default());
    // Payload Length 0 with a Hop-by-Hop header is a jumbogram (RFC 2675): its length is in
    // the Jumbo Payload option; here the buffer's end stands for it.
    let total = if payload_len == 0 && next_header == protocol::HOP_BY_HOP {
        packet.len()
    } else {
        IPV6_HEADER_LEN + payload_len
    };
    let whole = packet
        .get(..total)
        .ok_or(truncated(Layer::Packet, total, packet.len()))?;
    let after = whole.get(IPV6_HEADER_LEN..).unwrap_or_default();
    let (protocol, upper, fragment) = walk_extension_headers(next_header, after)?;
    let ports = if fragment {
        FlowPorts::Opaque
    } else {
        upper_ports(protocol, upper)?
    };
    let flow = Flow {
        source: source.into(),
        destination: destination.into(),
        protocol,
        ports,
    };
    Ok((flow, total))
}

/// Walks IPv6 extension headers from `next_header` over `bytes` (RFC 8200 §4): returns the
/// upper-layer protocol, the bytes from its header on, and whether a Fragment header with
/// a non-zero offset was met (then the rest is fragment data, and the ports are OPAQUE).
fn walk_extension_headers(
    mut next_header: u8,
    bytes: &[u8],
) -> Result<(u8, &[u8], bool), FlowError> {
    let mut rest = bytes;
    for _ in 0..=MAX_EXTENSION_HEADERS {
        let is_fragment = next_header == protocol::FRAGMENT;
        let header_len = match next_header {
            protocol::HOP_BY_HOP | protocol::ROUTING | protocol::DESTINATION_OPTIONS => {
                let len = rest
                    .get(1)
                    .ok_or(truncated(Layer::ExtensionHeader, 2, rest.len()))?;
                (usize::from(*len) + 1) * 8
            }
            protocol::FRAGMENT => 8,
            _ => return Ok((next_header, rest, false)),
        };
        let header = rest.get(..header_len).ok_or(truncated(
            Layer::ExtensionHeader,
            header_len,
            rest.len(),
        ))?;
        next_header = header.first().copied().unwrap_or_default();
        rest = rest.get(header_len..).unwrap_or_default();
        // Fragment Offset is the high 13 bits of bytes 2..4 (RFC 8200 §4.5): past a
        // non-initial fragment's header lies fragment data, not the upper-layer header.
        if is_fragment && u16_at(header, 2).is_some_and(|field| field >> 3 != 0) {
            return Ok((next_header, &[], true));
        }
    }
    Err(FlowError::TooManyExtensionHeaders {
        limit: MAX_EXTENSION_HEADERS,
    })
}

/// The ports, or ICMP type and code, at the start of an upper-layer header.
fn upper_ports(protocol: u8, upper: &[u8]) -> Result<FlowPorts, FlowError> {
    match protocol {
        protocol::TCP | protocol::UDP | protocol::SCTP | protocol::UDP_LITE | protocol::DCCP => {
            let (Some(source), Some(destination)) = (u16_at(upper, 0), u16_at(upper, 2)) else {
                return Err(truncated(Layer::UpperLayer, 4, upper.len()));
            };
            Ok(FlowPorts::Ports {
                source,
                destination,
            })
        }
        protocol::ICMP | protocol::ICMPV6 => {
            let Some([icmp_type, code]) = array_at::<2>(upper, 0) else {
                return Err(truncated(Layer::UpperLayer, 2, upper.len()));
            };
            Ok(FlowPorts::Icmp { icmp_type, code })
        }
        _ => Ok(FlowPorts::Opaque),
    }
}

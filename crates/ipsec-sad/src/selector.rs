//! Traffic selectors (RFC 4301 §4.4.1.1): address ranges, next layer protocol and port
//! ranges, seen from this end (local) and the peer's (remote).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::SadError;
use crate::flow::{Flow, FlowPorts};

/// A range of IP addresses, `start..=end` within one family (RFC 4301 §4.4.1.1 "Remote IP
/// Address(es)", "Local IP Address(es)"), or any address of either family.
///
/// A range whose `start` is above its `end` is empty and contains nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddrRange {
    /// Every IPv4 and IPv6 address (the selector value ANY).
    Any,
    /// IPv4 addresses from `start` to `end`, both included.
    V4 {
        /// The lowest address in the range.
        start: Ipv4Addr,
        /// The highest address in the range.
        end: Ipv4Addr,
    },
    /// IPv6 addresses from `start` to `end`, both included.
    V6 {
        /// The lowest address in the range.
        start: Ipv6Addr,
        /// The highest address in the range.
        end: Ipv6Addr,
    },
}

impl AddrRange {
    /// Every IPv4 address, 0.0.0.0 to 255.255.255.255.
    pub const ANY_V4: Self = Self::V4 {
        start: Ipv4Addr::UNSPECIFIED,
        end: Ipv4Addr::BROADCAST,
    };

    /// Every IPv6 address, `::` to `ffff:…:ffff`.
    pub const ANY_V6: Self = Self::V6 {
        start: Ipv6Addr::UNSPECIFIED,
        end: Ipv6Addr::from_bits(u128::MAX),
    };

    /// The range `start..=end`; both ends must be of one family and `start <= end`.
    pub fn new(start: IpAddr, end: IpAddr) -> Result<Self, SadError> {
        match (start, end) {
            (IpAddr::V4(start), IpAddr::V4(end)) if start <= end => Ok(Self::V4 { start, end }),
            (IpAddr::V6(start), IpAddr::V6(end)) if start <= end => Ok(Self::V6 { start, end }),
            _ => Err(SadError::InvalidRange),
        }
    }

    /// The one address `addr`.
    pub fn single(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => Self::V4 { start: a, end: a },
            IpAddr::V6(a) => Self::V6 { start: a, end: a },
        }
    }

    /// The addresses of the prefix `addr/len` (the host bits of `addr` are ignored).
    pub fn prefix(addr: IpAddr, len: u8) -> Result<Self, SadError> {
        match addr {
            IpAddr::V4(a) => {
                if len > 32 {
                    return Err(SadError::InvalidPrefix { len });
                }
                // The host bits: all of them for /0, none for /32 (a shift by 32 is None).
                let host = u32::MAX.checked_shr(u32::from(len)).unwrap_or(0);
                let bits = a.to_bits() & !host;
                Ok(Self::V4 {
                    start: Ipv4Addr::from_bits(bits),
                    end: Ipv4Addr::from_bits(bits | host),
                })
            }
            IpAddr::V6(a) => {
                if len > 128 {
                    return Err(SadError::InvalidPrefix { len });
                }
                let host = u128::MAX.checked_shr(u32::from(len)).unwrap_or(0);
                let bits = a.to_bits() & !host;
                Ok(Self::V6 {
                    start: Ipv6Addr::from_bits(bits),
                    end: Ipv6Addr::from_bits(bits | host),
                })
            }
        }
    }

    /// How many leading bits all of the range's addresses are known to share: the width
    /// of the address less the bits needed to count the range (32 for one IPv4 address, 24
    /// for a /24, 0 for `Any` or a whole family). The larger, the more specific.
    pub fn fixed_bits(&self) -> u16 {
        match self {
            Self::Any => 0,
            Self::V4 { start, end } => {
                bits_fixed(u128::from(start.to_bits()), u128::from(end.to_bits()), 32)
            }
            Self::V6 { start, end } => bits_fixed(start.to_bits(), end.to_bits(), 128),
        }
    }

    /// Whether `addr` lies in the range.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self, addr) {
            (Self::Any, _) => true,
            (Self::V4 { start, end }, IpAddr::V4(a)) => *start <= a && a <= *end,
            (Self::V6 { start, end }, IpAddr::V6(a)) => *start <= a && a <= *end,
            _ => false,
        }
    }

    /// Whether every address of `self` lies in `outer` (an empty range lies in any range).
    /// The PAD uses this to decide whether a peer may claim a traffic selector
    /// (RFC 4301 §4.4.3.3).
    pub fn is_within(&self, outer: &Self) -> bool {
        match (self, outer) {
            (_, Self::Any) => true,
            (Self::V4 { start, end }, _) if start > end => true,
            (Self::V6 { start, end }, _) if start > end => true,
            (Self::V4 { start, end }, Self::V4 { start: s, end: e }) => s <= start && end <= e,
            (Self::V6 { start, end }, Self::V6 { start: s, end: e }) => s <= start && end <= e,
            _ => false,
        }
    }
}

/// `width - ceil(log2(count))` for the `count` values from `start` to `end` out of
/// `2^width`; 0 for an empty range.
pub(crate) fn bits_fixed(start: u128, end: u128, width: u32) -> u16 {
    let Some(span) = end.checked_sub(start) else {
        return 0;
    };
    // `span` + 1 values need `128 - leading_zeros(span)` bits to count them.
    let free = 128 - span.leading_zeros();
    u16::try_from(width.saturating_sub(free)).unwrap_or(0)
}

/// A range of ports `start..=end` (RFC 4301 §4.4.1.1 "Local Port", "Remote Port").
///
/// For ICMP and ICMPv6 the two port selectors hold the message type (local port) and code
/// (remote port) instead; see [`Selector`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// The lowest port in the range.
    pub start: u16,
    /// The highest port in the range.
    pub end: u16,
}

impl PortRange {
    /// Every port (the selector value ANY), which also matches OPAQUE ports: a non-initial
    /// fragment or a protocol without ports (RFC 4301 §4.4.1.1).
    pub const ANY: Self = Self {
        start: 0,
        end: u16::MAX,
    };

    /// The ports `start..=end`.
    pub const fn new(start: u16, end: u16) -> Self {
        Self { start, end }
    }

    /// The one port `port`.
    pub const fn single(port: u16) -> Self {
        Self {
            start: port,
            end: port,
        }
    }

    /// Whether `port` lies in the range.
    pub fn contains(&self, port: u16) -> bool {
        self.start <= port && port <= self.end
    }

    /// Whether this is ANY, the whole range 0..=65535.
    pub fn is_any(&self) -> bool {
        *self == Self::ANY
    }

    /// How many leading bits all of the range's ports share (16 for one port, 0 for ANY).
    pub fn fixed_bits(&self) -> u16 {
        bits_fixed(u128::from(self.start), u128::from(self.end), 16)
    }
}

impl Default for PortRange {
    fn default() -> Self {
        Self::ANY
    }
}

/// The next layer protocol selector (RFC 4301 §4.4.1.1 "Next Layer Protocol"): the IP
/// protocol number after any IPv6 extension headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NextLayer {
    /// Any protocol.
    #[default]
    Any,
    /// Exactly this IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, …).
    Protocol(u8),
}

impl NextLayer {
    /// Whether a packet whose next layer protocol is `protocol` matches.
    pub fn matches(&self, protocol: u8) -> bool {
        match self {
            Self::Any => true,
            Self::Protocol(p) => *p == protocol,
        }
    }
}

/// Which way a packet crosses the IPsec boundary: it decides which of a packet's addresses
/// and ports is the local one (RFC 4301 §4.4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Leaving: the source address and port are local, the destination remote.
    Outbound,
    /// Arriving: the destination address and port are local, the source remote.
    Inbound,
}

/// One selector set (RFC 4301 §4.4.1.1, §4.4.1.2): a packet matches when every field
/// matches.
///
/// Ports: for TCP, UDP, SCTP, UDP-Lite and DCCP `local_port` and `remote_port` are port
/// ranges. For ICMP and ICMPv6, which have no ports, RFC 4301 §4.4.1.1 selects on the
/// message type and code instead: here `local_port` is the range of **types** and
/// `remote_port` the range of **codes**, in both directions (type and code are not
/// directional). That expresses every form §4.4.1.1 allows: one type with a range of codes,
/// one type with ANY code, and ANY type with ANY code. A packet whose ports are OPAQUE (a
/// non-initial fragment, a protocol without ports) matches only port ranges that are
/// [`PortRange::ANY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Selector {
    /// Addresses on this side of the SA.
    pub local: AddrRange,
    /// Addresses on the peer's side.
    pub remote: AddrRange,
    /// The next layer protocol.
    pub protocol: NextLayer,
    /// Local ports, or ICMP types.
    pub local_port: PortRange,
    /// Remote ports, or ICMP codes.
    pub remote_port: PortRange,
}

impl Selector {
    /// Every packet of every family: ANY for each field.
    pub const ANY: Self = Self {
        local: AddrRange::Any,
        remote: AddrRange::Any,
        protocol: NextLayer::Any,
        local_port: PortRange::ANY,
        remote_port: PortRange::ANY,
    };

    /// The selector for any protocol and port between `local` and `remote`.
    pub fn addresses(local: AddrRange, remote: AddrRange) -> Self {
        Self {
            local,
            remote,
            ..Self::ANY
        }
    }

    /// The same selector with the next layer protocol set to `protocol`.
    pub fn with_protocol(self, protocol: u8) -> Self {
        Self {
            protocol: NextLayer::Protocol(protocol),
            ..self
        }
    }

    /// The same selector with port ranges (ICMP: type and code ranges).
    pub fn with_ports(self, local_port: PortRange, remote_port: PortRange) -> Self {
        Self {
            local_port,
            remote_port,
            ..self
        }
    }

    /// The same selector restricted to ICMP (`protocol` 1) or ICMPv6 (58) messages of
    /// `icmp_type`, with a code in `codes` (RFC 4301 §4.4.1.1).
    pub fn with_icmp(self, protocol: u8, icmp_type: u8, codes: PortRange) -> Self {
        Self {
            protocol: NextLayer::Protocol(protocol),
            local_port: PortRange::single(u16::from(icmp_type)),
            remote_port: codes,
            ..self
        }
    }

    /// Whether the packet `flow`, travelling in `direction`, matches.
    pub fn matches(&self, flow: &Flow, direction: Direction) -> bool {
        let (local, remote) = match direction {
            Direction::Outbound => (flow.source, flow.destination),
            Direction::Inbound => (flow.destination, flow.source),
        };
        if !(self.local.contains(local)
            && self.remote.contains(remote)
            && self.protocol.matches(flow.protocol))
        {
            return false;
        }
        match flow.ports {
            FlowPorts::Ports {
                source,
                destination,
            } => {
                let (local, remote) = match direction {
                    Direction::Outbound => (source, destination),
                    Direction::Inbound => (destination, source),
                };
                self.local_port.contains(local) && self.remote_port.contains(remote)
            }
            FlowPorts::Icmp { icmp_type, code } => {
                self.local_port.contains(u16::from(icmp_type))
                    && self.remote_port.contains(u16::from(code))
            }
            FlowPorts::Opaque => self.local_port.is_any() && self.remote_port.is_any(),
        }
    }
}

/// Whether any selector of `selectors` matches `flow` travelling in `direction` (an SPD
/// entry or an SA holds a list of selector sets, RFC 4301 §4.4.1.2).
pub(crate) fn any_matches(selectors: &[Selector], flow: &Flow, direction: Direction) -> bool {
    selectors.iter().any(|s| s.matches(flow, direction))
}

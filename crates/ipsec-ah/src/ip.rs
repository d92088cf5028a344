//! The IP packet around an AH header: where AH lies in it, and the bytes its ICV covers
//! with the mutable fields zeroed (RFC 4302 §3.3.3).
//!
//! Nothing here writes to the packet. The IP header with its mutable fields zeroed is built
//! in a copy on the stack (at most 60 bytes); the mutable data of IPv6 options and the ICV
//! itself are fed to the integrity algorithm as runs of zeros, so that the ICV is computed
//! over the packet in parts without copying it and without allocating.

use crate::error::{Malformed, Unsupported};
use crate::field;
use crate::header::FIXED_LEN;

/// The IP protocol number of AH (RFC 4302 §2; IANA Assigned Internet Protocol Numbers).
pub const IPPROTO_AH: u8 = 51;

const IPV4_HEADER_LEN: usize = 20;
const IPV4_MAX_HEADER_LEN: usize = 60;
const IPV6_HEADER_LEN: usize = 40;

const IPV6_HOP_BY_HOP: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_FRAGMENT: u8 = 44;
const IPV6_DESTINATION: u8 = 60;
/// Extension headers (RFC 8200 §4, IANA IPv6 Extension Header Types) this crate does not
/// walk: Fragment, Mobility, HIP, Shim6 and the two experimental values.
const IPV6_UNSUPPORTED: [u8; 6] = [IPV6_FRAGMENT, 135, 139, 140, 253, 254];

/// The "change en route" bit of an IPv6 option type: the third highest bit (RFC 8200 §4.2,
/// RFC 4302 §3.3.3.1.2.2).
const IPV6_OPTION_MUTABLE: u8 = 0x20;
/// Pad1, the one IPv6 option without a length byte (RFC 8200 §4.2).
const IPV6_PAD1: u8 = 0;

/// IPv4 option types that stay in the ICV (RFC 4302 App. A1, "IMMUTABLE"; the whole type
/// byte: copy flag, class and number): Security (130), Extended Security (133), Commercial
/// Security (134), Router Alert (148) and Sender Directed Multi-Destination Delivery (149).
/// End of Option List (0) and No Operation (1) are immutable too and handled apart. Every
/// other option, known or not, is zeroed (App. A1 "MUTABLE" and "EXPERIMENTAL,
/// SUPERCEDED"; §3.3.3.1 for unrecognised ones).
const IPV4_IMMUTABLE_OPTIONS: [u8; 5] = [0x82, 0x85, 0x86, 0x94, 0x95];
const IPV4_EOL: u8 = 0;
const IPV4_NOP: u8 = 1;
/// Loose and Strict Source and Record Route (RFC 791 §3.1): zeroed, and the Destination
/// Address is predictable: the last address of the route (RFC 4302 §3.3.3.1.1.1).
const IPV4_LSRR: u8 = 0x83;
const IPV4_SSRR: u8 = 0x89;

/// How many slices the ICV input may be cut into: the IP header, the AH header, the ICV's
/// zeros, the rest and the ESN, and two more (data and zeros) per mutable IPv6 option.
const MAX_PARTS: usize = 64;

/// Zeros fed in place of mutable data: an IPv6 option's data is at most 255 bytes.
static ZEROS: [u8; 256] = [0; 256];

/// The IP version of a packet, which decides the AH header's alignment (RFC 4302 §2.6) and
/// its mutable fields (§3.3.3.1.1, §3.3.3.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpVersion {
    /// IPv4: the AH header is a multiple of 4 octets (RFC 4302 §2.6).
    V4,
    /// IPv6: the AH header is a multiple of 8 octets (RFC 4302 §2.6).
    V6,
}

impl IpVersion {
    /// Whether this is IPv6, whose AH header is aligned to 8 octets (RFC 4302 §2.6).
    pub const fn is_ipv6(self) -> bool {
        matches!(self, Self::V6)
    }
}

/// Which side computes the ICV. They differ only for an IPv4 source route, whose final
/// destination the sender takes from the option and the receiver finds in the Destination
/// Address (RFC 4302 §3.3.3.1.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Outbound,
    Inbound,
}

/// Why a packet's headers cannot be walked to AH, or its ICV input cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PacketError {
    /// The buffer ends before what the headers say is there.
    Truncated {
        needed: usize,
        available: usize,
    },
    Malformed(Malformed),
    Unsupported(Unsupported),
    /// An IPv4 fragment (RFC 4302 §3.4.1, §3.3.4).
    Fragment,
}

impl From<Malformed> for PacketError {
    fn from(error: Malformed) -> Self {
        Self::Malformed(error)
    }
}

impl From<Unsupported> for PacketError {
    fn from(error: Unsupported) -> Self {
        Self::Unsupported(error)
    }
}

/// Where the AH header lies in a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) version: IpVersion,
    /// Offset of the AH header: after the IPv4 header with its options, or after the IPv6
    /// header and the extension headers before AH.
    pub(crate) ah_offset: usize,
}

/// What the SA's algorithm puts in the Integrity Check Value field: an IV (GMAC), then the
/// ICV, then padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuthLayout {
    pub(crate) iv_len: usize,
    pub(crate) icv_len: usize,
}

impl AuthLayout {
    /// Offset of the ICV proper from the start of the AH header.
    pub(crate) const fn icv_offset(&self) -> usize {
        FIXED_LEN + self.iv_len
    }
}

fn truncated(needed: usize, packet: &[u8]) -> PacketError {
    PacketError::Truncated {
        needed,
        available: packet.len(),
    }
}

fn check_len(packet: &[u8], needed: usize) -> Result<(), PacketError> {
    if packet.len() < needed {
        return Err(truncated(needed, packet));
    }
    Ok(())
}

/// The IP header's length field must give the packet's length exactly.
fn check_total(packet: &[u8], field: usize) -> Result<(), PacketError> {
    if field > packet.len() {
        return Err(truncated(field, packet));
    }
    if field < packet.len() {
        return Err(Malformed::LengthField {
            field,
            actual: packet.len(),
        }
        .into());
    }
    Ok(())
}

fn slice(packet: &[u8], start: usize, end: usize) -> Result<&[u8], PacketError> {
    packet.get(start..end).ok_or(truncated(end, packet))
}

/// Walks the IP header (and IPv6 extension headers) of `packet` to its AH header, checking
/// every length on the way. The AH header itself is not checked here.
pub(crate) fn locate(packet: &[u8]) -> Result<Layout, PacketError> {
    let first = *packet.first().ok_or(truncated(1, packet))?;
    match first >> 4 {
        4 => locate_v4(packet, first),
        6 => locate_v6(packet),
        version => Err(Malformed::Version(version).into()),
    }
}

/// IPv4 (RFC 791 §3.1): AH follows the header and its options directly.
fn locate_v4(packet: &[u8], first: u8) -> Result<Layout, PacketError> {
    check_len(packet, IPV4_HEADER_LEN)?;
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < IPV4_HEADER_LEN {
        return Err(Malformed::Ipv4HeaderLength(ihl).into());
    }
    check_len(packet, ihl)?;
    let total = usize::from(field::u16_at(packet, 2..4));
    if total < ihl {
        return Err(Malformed::LengthField {
            field: total,
            actual: packet.len(),
        }
        .into());
    }
    check_total(packet, total)?;
    // More Fragments or a Fragment Offset: "the receiver MUST discard the packet"
    // (RFC 4302 §3.4.1), and AH is applied only to whole datagrams (§3.3.4).
    if field::u16_at(packet, 6..8) & 0x3fff != 0 {
        return Err(PacketError::Fragment);
    }
    let protocol = field::u8_at(packet, 9);
    if protocol != IPPROTO_AH {
        return Err(Malformed::NotAh { protocol }.into());
    }
    Ok(Layout {
        version: IpVersion::V4,
        ah_offset: ihl,
    })
}

/// IPv6 (RFC 8200 §3, §4): AH follows the Hop-by-Hop, Destination and Routing headers that
/// come before it (RFC 4302 §3.1.1, Figure 3).
fn locate_v6(packet: &[u8]) -> Result<Layout, PacketError> {
    check_len(packet, IPV6_HEADER_LEN)?;
    let payload = usize::from(field::u16_at(packet, 4..6));
    if payload == 0 && packet.len() > IPV6_HEADER_LEN {
        return Err(Unsupported::Jumbogram.into());
    }
    check_total(packet, IPV6_HEADER_LEN + payload)?;
    let mut next = field::u8_at(packet, 6);
    let mut offset = IPV6_HEADER_LEN;
    loop {
        match next {
            IPPROTO_AH => {
                return Ok(Layout {
                    version: IpVersion::V6,
                    ah_offset: offset,
                });
            }
            IPV6_HOP_BY_HOP | IPV6_DESTINATION | IPV6_ROUTING => {
                if next == IPV6_HOP_BY_HOP && offset != IPV6_HEADER_LEN {
                    return Err(Malformed::HopByHopNotFirst.into());
                }
                check_len(packet, offset + 2)?;
                let len = (usize::from(field::u8_at(packet, offset + 1)) + 1) * 8;
                check_len(packet, offset + len)?;
                if next == IPV6_ROUTING {
                    let segments_left = field::u8_at(packet, offset + 3);
                    if segments_left != 0 {
                        return Err(Unsupported::RoutingHeader {
                            routing_type: field::u8_at(packet, offset + 2),
                            segments_left,
                        }
                        .into());
                    }
                }
                next = field::u8_at(packet, offset);
                offset += len;
            }
            other if IPV6_UNSUPPORTED.contains(&other) => {
                return Err(Unsupported::ExtensionHeader { next_header: other }.into());
            }
            protocol => return Err(Malformed::NotAh { protocol }.into()),
        }
    }
}

/// Zeroes the mutable fields of an IPv4 header and its options in place, and with a source
/// route puts the final destination in the Destination Address when sending
/// (RFC 4302 §3.3.3.1.1, App. A1).
fn massage_ipv4(header: &mut [u8], direction: Direction) -> Result<(), PacketError> {
    // DSCP/ECN (1), Flags and Fragment Offset (6, 7), TTL (8), Header Checksum (10, 11).
    for at in [1, 6, 7, 8, 10, 11] {
        field::set_u8(header, at, 0);
    }
    let end = header.len();
    let mut at = IPV4_HEADER_LEN;
    while at < end {
        let kind = field::u8_at(header, at);
        if kind == IPV4_EOL {
            // What follows End of Option List is padding, included as sent (App. A1 note).
            break;
        }
        if kind == IPV4_NOP {
            at += 1;
            continue;
        }
        let invalid = Malformed::Ipv4Option { offset: at };
        if at + 1 >= end {
            return Err(invalid.into());
        }
        let len = usize::from(field::u8_at(header, at + 1));
        if len < 2 || at + len > end {
            return Err(invalid.into());
        }
        if IPV4_IMMUTABLE_OPTIONS.contains(&kind) {
            at += len;
            continue;
        }
        if kind == IPV4_LSRR || kind == IPV4_SSRR {
            // Type, length, pointer, then addresses of 4 bytes each.
            if len < 3 || (len - 3) % 4 != 0 {
                return Err(invalid.into());
            }
            if direction == Direction::Outbound && len >= 7 {
                let mut last = [0u8; 4];
                if let Some(address) = header.get(at + len - 4..at + len) {
                    last.copy_from_slice(address);
                }
                field::put(header, 16, &last);
            }
        }
        if let Some(option) = header.get_mut(at..at + len) {
            option.fill(0);
        }
        at += len;
    }
    Ok(())
}

/// Zeroes the mutable fields of the fixed IPv6 header in place: Traffic Class (DSCP, ECN),
/// Flow Label and Hop Limit (RFC 4302 §3.3.3.1.2.1).
fn massage_ipv6(header: &mut [u8]) {
    if let Some(first) = header.first_mut() {
        *first &= 0xf0;
    }
    for at in [1, 2, 3, 7] {
        field::set_u8(header, at, 0);
    }
}

/// The slices the ICV is computed over, in order.
struct Parts<'a> {
    list: [&'a [u8]; MAX_PARTS],
    len: usize,
}

impl<'a> Parts<'a> {
    fn new() -> Self {
        Self {
            list: [&[]; MAX_PARTS],
            len: 0,
        }
    }

    fn push(&mut self, part: &'a [u8]) -> Result<(), PacketError> {
        if part.is_empty() {
            return Ok(());
        }
        let slot = self
            .list
            .get_mut(self.len)
            .ok_or(Unsupported::TooManyMutableOptions)?;
        *slot = part;
        self.len += 1;
        Ok(())
    }

    fn push_zeros(&mut self, mut len: usize) -> Result<(), PacketError> {
        while len > 0 {
            let take = len.min(ZEROS.len());
            self.push(ZEROS.get(..take).unwrap_or_default())?;
            len -= take;
        }
        Ok(())
    }

    fn as_slice(&self) -> &[&'a [u8]] {
        self.list.get(..self.len).unwrap_or_default()
    }
}

/// Pushes the IPv6 extension headers between the fixed header and AH, from `run` on, with
/// the data of every option whose "change en route" bit is set replaced by zeros; the option
/// type and length stay (RFC 4302 §3.3.3.1.2.2). Routing headers (Segments Left 0, checked by
/// [`locate`]) are included as they are. Returns where the pending run of packet bytes
/// starts.
fn push_ipv6_extensions<'a>(
    packet: &'a [u8],
    ah_offset: usize,
    parts: &mut Parts<'a>,
    mut run: usize,
) -> Result<usize, PacketError> {
    let mut next = field::u8_at(packet, 6);
    let mut offset = IPV6_HEADER_LEN;
    while offset < ah_offset {
        let end = offset + (usize::from(field::u8_at(packet, offset + 1)) + 1) * 8;
        if end > packet.len() {
            return Err(truncated(end, packet));
        }
        if next == IPV6_HOP_BY_HOP || next == IPV6_DESTINATION {
            let mut at = offset + 2;
            while at < end {
                let kind = field::u8_at(packet, at);
                if kind == IPV6_PAD1 {
                    at += 1;
                    continue;
                }
                let invalid = Malformed::Ipv6Option { offset: at };
                if at + 2 > end {
                    return Err(invalid.into());
                }
                let data = at + 2;
                let data_end = data + usize::from(field::u8_at(packet, at + 1));
                if data_end > end {
                    return Err(invalid.into());
                }
                if kind & IPV6_OPTION_MUTABLE != 0 && data_end > data {
                    parts.push(slice(packet, run, data)?)?;
                    parts.push_zeros(data_end - data)?;
                    run = data_end;
                }
                at = data_end;
            }
        }
        next = field::u8_at(packet, offset);
        offset = end;
    }
    Ok(run)
}

/// Calls `f` with the parts whose concatenation is what the AH ICV covers (RFC 4302 §3.3.3):
///
/// 1. for AUTH_AES_GMAC first the IV alone, which the algorithm takes as its nonce and does
///    not hash by itself (see `ipsec-crypto`'s `gmac_integrity`);
/// 2. the IP header with its mutable fields zeroed (or predicted), then the IPv6 extension
///    headers before AH with mutable option data zeroed;
/// 3. the AH header with the ICV zeroed: Next Header, Payload Len, RESERVED, SPI, Sequence
///    Number, the IV of GMAC in place, zeros for the ICV, the padding as sent;
/// 4. everything after AH;
/// 5. the high 32 bits of an extended sequence number, appended implicitly
///    (§3.3.3.2.2).
///
/// No implicit padding is added: neither HMAC (RFC 4868) nor GMAC (RFC 4543) asks for any.
/// The caller has checked that the whole AH header lies inside `packet`.
pub(crate) fn with_icv_input<R>(
    packet: &[u8],
    layout: Layout,
    direction: Direction,
    auth: AuthLayout,
    esn_high: Option<u32>,
    f: impl FnOnce(&[&[u8]]) -> R,
) -> Result<R, PacketError> {
    let ah = layout.ah_offset;
    let iv_start = ah + FIXED_LEN;
    let icv_start = ah + auth.icv_offset();
    let icv_end = icv_start + auth.icv_len;
    check_len(packet, icv_end)?;
    let high = esn_high.map(u32::to_be_bytes);
    let mut header = [0u8; IPV4_MAX_HEADER_LEN];
    let header_len = match layout.version {
        IpVersion::V4 => ah,
        IpVersion::V6 => IPV6_HEADER_LEN,
    };
    let copy = header
        .get_mut(..header_len)
        .ok_or(truncated(header_len, packet))?;
    copy.copy_from_slice(slice(packet, 0, header_len)?);
    match layout.version {
        IpVersion::V4 => massage_ipv4(copy, direction)?,
        IpVersion::V6 => massage_ipv6(copy),
    }

    let mut parts = Parts::new();
    if auth.iv_len > 0 {
        parts.push(slice(packet, iv_start, icv_start)?)?;
    }
    parts.push(header.get(..header_len).unwrap_or_default())?;
    let mut run = header_len;
    if layout.version == IpVersion::V6 {
        run = push_ipv6_extensions(packet, ah, &mut parts, run)?;
    }
    parts.push(slice(packet, run, icv_start)?)?;
    parts.push_zeros(auth.icv_len)?;
    parts.push(slice(packet, icv_end, packet.len())?)?;
    if let Some(high) = &high {
        parts.push(high)?;
    }
    Ok(f(parts.as_slice()))
}

//! ESP in UDP on port 4500 (RFC 3948), for callers that build or read the UDP header
//! themselves (raw sockets, TUN devices). Callers that use a UDP socket send and receive the
//! ESP packet as the datagram's payload and need none of this but [`NAT_KEEPALIVE`].

use crate::field;

/// The UDP port of IKE and ESP behind a NAT (RFC 3948 §2, RFC 7296 §2.23).
pub const UDP_ENCAP_PORT: u16 = 4500;

/// Length of the UDP header.
pub const UDP_HEADER_LEN: usize = 8;

/// The payload of a NAT-keepalive packet, sent to keep a NAT mapping alive (RFC 3948 §2.3).
pub const NAT_KEEPALIVE: [u8; 1] = [0xff];

/// Byte offsets of the UDP header in front of an ESP packet (RFC 3948 §2.1, RFC 768):
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |        Source Port            |      Destination Port         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Length              |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      ESP header [RFC4303]                     |
/// ~                                                               ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod offset {
    use crate::field::Field;

    pub(super) const SOURCE_PORT: usize = 0;
    pub(super) const DESTINATION_PORT: usize = 2;
    pub(super) const LENGTH: Field = 4..6;
    pub(super) const CHECKSUM: usize = 6;
}

/// Why a UDP datagram does not carry an ESP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UdpError {
    /// The datagram or its buffer is shorter than it must be.
    #[error("UDP datagram truncated: {needed} bytes needed, {available} available")]
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes there are.
        available: usize,
    },
    /// The UDP Length field disagrees with the datagram.
    #[error("UDP Length {length} disagrees with the datagram's {actual} bytes")]
    LengthMismatch {
        /// The Length field.
        length: usize,
        /// The datagram's length.
        actual: usize,
    },
    /// The payload starts with the non-ESP marker: it is IKE, not ESP (RFC 3948 §2.2).
    #[error("the payload is an IKE message behind the non-ESP marker")]
    NotEsp,
    /// The payload is a NAT-keepalive, to be dropped (RFC 3948 §2.3).
    #[error("NAT-keepalive")]
    NatKeepalive,
}

/// Writes a UDP header into `buf[..8]` for the ESP packet of `esp_len` bytes that follows it
/// at `buf[8..]`, and returns the datagram's length. The checksum is zero, as RFC 3948 §2.1
/// says for IPv4; over IPv6 the caller's stack must fill it in.
pub fn encapsulate_udp(
    buf: &mut [u8],
    source_port: u16,
    destination_port: u16,
    esp_len: usize,
) -> Result<usize, UdpError> {
    let total = esp_len.saturating_add(UDP_HEADER_LEN);
    let length = u16::try_from(total).map_err(|_| UdpError::LengthMismatch {
        length: total,
        actual: total,
    })?;
    if buf.len() < total {
        return Err(UdpError::Truncated {
            needed: total,
            available: buf.len(),
        });
    }
    field::set_u16(buf, offset::SOURCE_PORT, source_port);
    field::set_u16(buf, offset::DESTINATION_PORT, destination_port);
    field::set_u16(buf, offset::LENGTH.start, length);
    field::set_u16(buf, offset::CHECKSUM, 0);
    Ok(total)
}

/// The ESP packet inside a UDP datagram (header included): checks the Length field and
/// that the payload is neither a NAT-keepalive nor an IKE message (RFC 3948 §2.2, §2.3).
pub fn decapsulate_udp(datagram: &[u8]) -> Result<&[u8], UdpError> {
    if datagram.len() < UDP_HEADER_LEN {
        return Err(UdpError::Truncated {
            needed: UDP_HEADER_LEN,
            available: datagram.len(),
        });
    }
    let length = usize::from(field::u16_at(datagram, offset::LENGTH));
    if length != datagram.len() {
        return Err(UdpError::LengthMismatch {
            length,
            actual: datagram.len(),
        });
    }
    let payload = field::rest(datagram, UDP_HEADER_LEN);
    if payload == NAT_KEEPALIVE {
        return Err(UdpError::NatKeepalive);
    }
    match payload.get(..4) {
        Some([0, 0, 0, 0]) => Err(UdpError::NotEsp),
        Some(_) => Ok(payload),
        None => Err(UdpError::Truncated {
            needed: UDP_HEADER_LEN + 4,
            available: datagram.len(),
        }),
    }
}

//! Telling apart what arrives on UDP port 4500: IKE behind a non-ESP marker, ESP, and
//! NAT-keepalives (RFC 3948 §2.2, §2.3; RFC 7296 §2.23).

use crate::error::{Error, Structure};

/// The four zero octets in front of an IKE message on port 4500 (RFC 3948 §2.2).
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// The one-octet payload of a NAT-keepalive packet (RFC 3948 §2.3).
pub const NAT_KEEPALIVE: u8 = 0xff;

/// What a UDP datagram received on port 4500 carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Udp4500Datagram<'a> {
    /// An IKE message; the slice starts at the IKE header, after the non-ESP marker.
    Ike(&'a [u8]),
    /// An ESP packet; the slice starts at the SPI, which is non-zero.
    Esp(&'a [u8]),
    /// A NAT-keepalive, to be dropped (RFC 3948 §2.3).
    NatKeepalive,
}

/// Classifies a UDP payload received on port 4500 (RFC 3948 §2.2, §2.3).
///
/// A single 0xFF octet is a NAT-keepalive. Otherwise the first four octets decide: zero is
/// the non-ESP marker before an IKE message, anything else an ESP SPI. A datagram of fewer
/// than four octets that is no keepalive is truncated.
pub fn classify_udp4500(datagram: &[u8]) -> Result<Udp4500Datagram<'_>, Error> {
    if datagram == [NAT_KEEPALIVE] {
        return Ok(Udp4500Datagram::NatKeepalive);
    }
    match datagram.split_first_chunk::<4>() {
        Some((marker, ike)) if *marker == NON_ESP_MARKER => Ok(Udp4500Datagram::Ike(ike)),
        Some(_) => Ok(Udp4500Datagram::Esp(datagram)),
        None => Err(Error::Truncated {
            what: Structure::Udp4500Datagram,
            needed: NON_ESP_MARKER.len(),
            available: datagram.len(),
        }),
    }
}

//! AH through the endpoint (RFC 4302): AH SAs installed from what IKE negotiated, inner
//! packets wrapped in an outer IP header with AH (tunnel mode) or given AH after their own
//! header (transport mode), and AH-protected packets verified and delivered. AH covers the
//! IP header, so it travels as whole IP packets, never in UDP: it does not cross a NAT
//! (RFC 3948 encapsulates ESP only).

use std::net::IpAddr;
use std::time::Instant;

use bytes::Bytes;
use ipsec_ah::{AhTransform, IPPROTO_AH, InboundAhSa, IpVersion, OutboundAhSa};
use ipsec_ikev2::{ChildSaReady, Mode};
use ipsec_replay::ReplayWindow;
use ipsec_sad::{OutboundHandle, OutboundProtocolSa, SaConfig};

use super::Endpoint;
use crate::event::{Dropped, Output, SendOutcome};

/// The TTL / Hop Limit of the outer header we build (RFC 1122's recommended 64).
const OUTER_TTL: u8 = 64;

/// The IPv4 header checksum (RFC 791 §3.1) of `header`, whose checksum field is zero.
fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => u32::from(u16::from_be_bytes([*high, *low])),
            [high] => u32::from(*high) << 8,
            _ => 0,
        })
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Writes `value` big-endian at `at` in `buf`, if it fits.
fn put_u16(buf: &mut [u8], at: usize, value: u16) {
    if let Some(slot) = buf.get_mut(at..at + 2) {
        slot.copy_from_slice(&value.to_be_bytes());
    }
}

/// An IPv4 header of 20 bytes from `source` to `destination` carrying AH, `total` bytes
/// long in all, checksum left zero (RFC 791 §3.1).
fn ipv4_header(source: [u8; 4], destination: [u8; 4], total: u16) -> [u8; 20] {
    let mut header = [0u8; 20];
    header[0] = 0x45;
    header[2..4].copy_from_slice(&total.to_be_bytes());
    header[6] = 0x40; // Don't Fragment: AH protects whole datagrams (RFC 4302 §3.3.4).
    header[8] = OUTER_TTL;
    header[9] = IPPROTO_AH;
    header[12..16].copy_from_slice(&source);
    header[16..20].copy_from_slice(&destination);
    header
}

/// An IPv6 header of 40 bytes from `source` to `destination` carrying AH and a payload of
/// `payload_len` bytes (RFC 8200 §3).
fn ipv6_header(source: [u8; 16], destination: [u8; 16], payload_len: u16) -> [u8; 40] {
    let mut header = [0u8; 40];
    header[0] = 0x60;
    header[4..6].copy_from_slice(&payload_len.to_be_bytes());
    header[6] = IPPROTO_AH;
    header[7] = OUTER_TTL;
    header[8..24].copy_from_slice(&source);
    header[24..40].copy_from_slice(&destination);
    header
}

/// The packet with room for an AH header of `ah_len` bytes, and the Next Header AH is to
/// carry: in tunnel mode a new outer header from `source` to `destination` around the
/// whole `packet`; in transport mode `packet`'s own header (IPv4 with its options, IPv6
/// without extension headers) with AH after it.
fn lay_out(
    mode: Mode,
    packet: &[u8],
    source: IpAddr,
    destination: IpAddr,
    ah_len: usize,
) -> Option<(Vec<u8>, u8, IpVersion)> {
    let inner_version = packet.first()? >> 4;
    match mode {
        Mode::Tunnel => {
            let next_header = match inner_version {
                4 => 4,
                6 => 41,
                _ => return None,
            };
            match (source, destination) {
                (IpAddr::V4(s), IpAddr::V4(d)) => {
                    let total = u16::try_from(20 + ah_len + packet.len()).ok()?;
                    let mut out = ipv4_header(s.octets(), d.octets(), total).to_vec();
                    out.resize(20 + ah_len, 0);
                    out.extend_from_slice(packet);
                    Some((out, next_header, IpVersion::V4))
                }
                (IpAddr::V6(s), IpAddr::V6(d)) => {
                    let payload = u16::try_from(ah_len + packet.len()).ok()?;
                    let mut out = ipv6_header(s.octets(), d.octets(), payload).to_vec();
                    out.resize(40 + ah_len, 0);
                    out.extend_from_slice(packet);
                    Some((out, next_header, IpVersion::V6))
                }
                _ => None,
            }
        }
        Mode::Transport => match inner_version {
            4 => {
                let header_len = usize::from(packet.first()? & 0x0f) * 4;
                let header = packet.get(..header_len)?;
                let next_header = *packet.get(9)?;
                let payload = packet.get(header_len..)?;
                let total = u16::try_from(header_len + ah_len + payload.len()).ok()?;
                let mut out = header.to_vec();
                put_u16(&mut out, 2, total);
                *out.get_mut(9)? = IPPROTO_AH;
                put_u16(&mut out, 10, 0);
                out.resize(header_len + ah_len, 0);
                out.extend_from_slice(payload);
                Some((out, next_header, IpVersion::V4))
            }
            6 => {
                let header = packet.get(..40)?;
                let next_header = *packet.get(6)?;
                if matches!(next_header, 0 | 43 | 44 | 60) {
                    // Extension headers would have to come before AH (RFC 4302 §3.1.1).
                    return None;
                }
                let payload = packet.get(40..)?;
                let payload_len = u16::try_from(ah_len + payload.len()).ok()?;
                let mut out = header.to_vec();
                put_u16(&mut out, 4, payload_len);
                *out.get_mut(6)? = IPPROTO_AH;
                out.resize(40 + ah_len, 0);
                out.extend_from_slice(payload);
                Some((out, next_header, IpVersion::V6))
            }
            _ => None,
        },
    }
}

impl Endpoint {
    /// Installs both halves of an AH Child SA (RFC 4302) in the SAD.
    pub(super) fn install_ah(
        &mut self,
        ready: &ChildSaReady,
        replay: ReplayWindow,
        config: SaConfig,
    ) -> Result<OutboundHandle, &'static str> {
        let integrity = ready
            .algorithms
            .integrity
            .and_then(|i| self.config.provider.integrity(i.value()))
            .ok_or("integrity algorithm not in provider")?;
        let inbound = InboundAhSa::new(
            ready.inbound_spi,
            replay,
            AhTransform::new(integrity, ready.inbound_keymat.expose()).map_err(|_| "bad keys")?,
        );
        let outbound = OutboundAhSa::new(
            ready.outbound_spi,
            ready.algorithms.esn,
            AhTransform::new(integrity, ready.outbound_keymat.expose()).map_err(|_| "bad keys")?,
        );
        self.sad
            .install_inbound(ready.inbound_spi, inbound, config.clone())
            .map_err(|_| "inbound SPI refused")?;
        match self.sad.install_outbound(outbound, config) {
            Ok(handle) => Ok(handle),
            Err(_) => {
                self.sad.remove_inbound(ready.inbound_spi);
                Err("outbound SA refused")
            }
        }
    }

    /// Protects `packet` with the AH SA `handle` and queues the IP packet that results.
    pub(super) fn seal_ah(
        &mut self,
        now: Instant,
        handle: OutboundHandle,
        packet: &[u8],
    ) -> SendOutcome {
        let Some(child) = self
            .children
            .by_outbound
            .get(&handle)
            .and_then(|route| self.children.by_spi.get(&route.inbound_spi))
        else {
            return SendOutcome::Discarded;
        };
        let (mode, source, destination) =
            (child.mode, child.path.local.ip(), child.path.remote.ip());
        let version = match (mode, packet.first().map(|b| b >> 4)) {
            (Mode::Tunnel, _) if source.is_ipv6() => IpVersion::V6,
            (Mode::Tunnel, _) => IpVersion::V4,
            (Mode::Transport, Some(6)) => IpVersion::V6,
            (Mode::Transport, _) => IpVersion::V4,
        };
        let Some(ah_len) = self
            .sad
            .outbound(handle)
            .and_then(|e| e.sa())
            .and_then(|sa| match sa {
                OutboundProtocolSa::Ah(_) => sa.ah_header_len(version),
                _ => None,
            })
        else {
            return SendOutcome::Discarded;
        };
        let Some((mut out, next_header, version)) =
            lay_out(mode, packet, source, destination, ah_len)
        else {
            return SendOutcome::Discarded;
        };
        if let Err(error) = self.sad.seal_ah(now, handle, &mut out, next_header) {
            return SendOutcome::Failed(error);
        }
        if version == IpVersion::V4 {
            // The checksum is not covered by the ICV (RFC 4302 §3.3.3.1.1.1): last.
            let header_len = out.first().map_or(20, |b| usize::from(b & 0x0f) * 4);
            let checksum = out.get(..header_len).map_or(0, ipv4_checksum);
            put_u16(&mut out, 10, checksum);
        }
        let (source, destination) = match mode {
            Mode::Tunnel => (source, destination),
            Mode::Transport => match ipsec_sad::Flow::parse(packet) {
                Ok(flow) => (flow.source, flow.destination),
                Err(_) => (source, destination),
            },
        };
        self.outputs.push_back(Output::Ah {
            source,
            destination,
            packet: Bytes::from(out),
        });
        self.pump(now);
        SendOutcome::Sent
    }

    /// Takes an IP packet carrying AH (IP protocol 51), IP header included: AH covers the
    /// header. Verified through the SAD (RFC 4302 §3.4, RFC 4301 §5.2), its payload is
    /// queued for delivery: the inner packet in tunnel mode, the upper-layer payload in
    /// transport mode.
    pub fn handle_ah(&mut self, now: Instant, packet: &[u8]) -> Result<(), Dropped> {
        let result = self.open_ah(now, packet);
        self.pump(now);
        if let Err(reason) = &result {
            crate::trace::dropped(reason);
        }
        result
    }

    fn open_ah(&mut self, now: Instant, packet: &[u8]) -> Result<(), Dropped> {
        let opened = self.sad.open_ah(now, packet).map_err(Dropped::Sad)?;
        let spi = opened.spi;
        let peer = opened.flow.source;
        let deliver = Output::Deliver {
            packet: Bytes::copy_from_slice(opened.payload),
            next_header: opened.next_header,
            transport: opened.mode == ipsec_sad::Mode::Transport,
            peer: match opened.mode {
                ipsec_sad::Mode::Transport => peer,
                ipsec_sad::Mode::Tunnel => ipsec_sad::Flow::parse(packet)
                    .map(|outer| outer.source)
                    .unwrap_or(peer),
            },
            ike_sa: match self.children.by_spi.get(&spi) {
                Some(child) => child.ike,
                None => match self.children.lingering.get(&spi) {
                    Some((ike, _)) => *ike,
                    None => return Ok(()),
                },
            },
            inbound_spi: spi,
        };
        if self.children.by_spi.get(&spi).is_some_and(|c| c.pending) {
            self.activate(spi);
        }
        self.outputs.push_back(deliver);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_of_a_known_header() {
        // RFC 1071's example is for words; this header's checksum is known: b861.
        let header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(ipv4_checksum(&header), 0xb861);
    }

    #[test]
    fn transport_mode_keeps_the_header_and_moves_the_protocol_into_ah() {
        let mut packet = vec![
            0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        packet.extend_from_slice(&[0x13, 0x88, 0, 53, 0, 8, 0, 0]);
        let source = "10.0.0.1".parse().unwrap();
        let destination = "10.0.0.2".parse().unwrap();
        let (out, next, version) =
            lay_out(Mode::Transport, &packet, source, destination, 24).unwrap();
        assert_eq!((next, version), (17, IpVersion::V4));
        assert_eq!(out.len(), 20 + 24 + 8);
        assert_eq!(out[9], IPPROTO_AH);
        assert_eq!(u16::from_be_bytes([out[2], out[3]]), 52);
        assert_eq!(&out[44..], &packet[20..]);
        let (tunnel, next, _) = lay_out(Mode::Tunnel, &packet, source, destination, 24).unwrap();
        assert_eq!(next, 4);
        assert_eq!(&tunnel[44..], &packet[..]);
    }
}

//! Packets in and out: UDP datagrams demultiplexed into IKE, ESP in UDP and keepalives
//! (RFC 3948 §2), ESP opened through the SAD (RFC 4301 §5.2), inner packets looked up in
//! the SPD and sealed (§5.1).

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use bytes::Bytes;
use ipsec_ikev2::{Mode, Path};
use ipsec_isakmp::{Udp4500Datagram, classify_udp4500};
use ipsec_sad::{Decision, Flow, OutboundHandle, OuterAddresses, SpdEntryId};

use super::Endpoint;
use crate::event::{Dropped, Output, SendOutcome};

/// The well-known IKE port (RFC 7296 §2): on it every datagram is IKE.
const IKE_PORT: u16 = 500;

impl Endpoint {
    /// Takes a UDP datagram that arrived on one of our ports: on port 500 it is IKE; on
    /// any other (the NAT-T port, or an IKE port other than 500, which strongSwan treats as
    /// one) IKE behind the non-ESP marker, ESP, or a NAT-keepalive (RFC 3948 §2). On a
    /// non-standard IKE port an unmarked datagram is ESP only if its SPI names one of our
    /// Child SAs encapsulated on that port; otherwise it is IKE. A NAT-keepalive is not an
    /// error.
    pub fn handle_udp(&mut self, now: Instant, path: Path, datagram: &[u8]) -> Result<(), Dropped> {
        let result = self.demultiplex(now, path, datagram);
        self.pump(now);
        if let Err(reason) = &result {
            crate::trace::dropped(reason);
        }
        result
    }

    fn demultiplex(&mut self, now: Instant, path: Path, datagram: &[u8]) -> Result<(), Dropped> {
        let port = path.local.port();
        if port == self.config.ike_port && port == IKE_PORT {
            return self
                .ike
                .handle_datagram(now, path, datagram)
                .map_err(Dropped::Ike);
        }
        match classify_udp4500(datagram).map_err(|_| Dropped::Malformed)? {
            Udp4500Datagram::NatKeepalive => Ok(()),
            Udp4500Datagram::Ike(_) => self
                .ike
                .handle_datagram(now, path, datagram)
                .map_err(Dropped::Ike),
            Udp4500Datagram::Esp(esp) => {
                if port == self.config.ike_port && !self.encapsulated_here(esp, path.local) {
                    // An IKE message without the marker (IKE_SA_INIT) on a custom IKE port.
                    return self
                        .ike
                        .handle_datagram(now, path, datagram)
                        .map_err(Dropped::Ike);
                }
                self.open(now, path.remote.ip(), path.local.ip(), esp)
            }
        }
    }

    /// Whether `esp`'s SPI is one of our Child SAs' whose ESP in UDP arrives at `local`.
    fn encapsulated_here(&self, esp: &[u8], local: SocketAddr) -> bool {
        let Some(spi) = esp
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
        else {
            return false;
        };
        self.children
            .by_spi
            .get(&spi)
            .is_some_and(|c| c.udp_encapsulation && c.path.local.port() == local.port())
    }

    /// Takes an ESP packet that arrived as IP protocol 50 from `source` to `destination`.
    pub fn handle_esp(
        &mut self,
        now: Instant,
        source: IpAddr,
        destination: IpAddr,
        packet: &[u8],
    ) -> Result<(), Dropped> {
        let result = self.open(now, source, destination, packet);
        self.pump(now);
        if let Err(reason) = &result {
            crate::trace::dropped(reason);
        }
        result
    }

    /// Verifies and decrypts an ESP packet through the SAD (RFC 4301 §5.2), and queues the
    /// inner packet for delivery.
    fn open(
        &mut self,
        now: Instant,
        source: IpAddr,
        destination: IpAddr,
        packet: &[u8],
    ) -> Result<(), Dropped> {
        let mut buf = packet.to_vec();
        let outer = OuterAddresses {
            source,
            destination,
        };
        let opened = self
            .sad
            .open_with_outer(now, outer, &mut buf)
            .map_err(Dropped::Sad)?;
        let spi = opened.spi;
        let (ike_sa, pending) = match self.children.by_spi.get(&spi) {
            Some(child) => (child.ike, child.pending),
            // A rekeyed SA's lingering inbound half: its packets still count.
            None => match self.children.lingering.get(&spi) {
                Some((ike, _)) => (*ike, false),
                None => return Ok(()),
            },
        };
        if pending {
            // RFC 7296 §2.8: an authentic packet on the new SA shows the peer sends on it.
            self.activate(spi);
        }
        if opened.is_dummy() {
            return Ok(());
        }
        self.outputs.push_back(Output::Deliver {
            packet: Bytes::copy_from_slice(opened.payload),
            next_header: opened.next_header,
            transport: opened.mode == ipsec_sad::Mode::Transport,
            peer: source,
            ike_sa,
            inbound_spi: spi,
        });
        Ok(())
    }

    /// Sends an inner IP packet (from the tunnel device or the host stack): the SPD decides
    /// (RFC 4301 §5.1). PROTECT with an installed SA whose negotiated selectors match seals
    /// it, queued on [`Endpoint::poll_output`]; PROTECT without one starts IKE for the
    /// policy's child if a trap asks for it (the ACQUIRE idea), and the packet is not sent.
    pub fn send(&mut self, now: Instant, packet: &[u8]) -> SendOutcome {
        let Ok(flow) = Flow::parse(packet) else {
            return SendOutcome::Discarded;
        };
        let decision = match self.spd.lookup_outbound(&flow) {
            Decision::Protect { sa, .. } => Ok(sa),
            Decision::Acquire { id, .. } => Err(Some(id)),
            Decision::Bypass { .. } => return SendOutcome::Bypass,
            Decision::Discard { .. } | Decision::NoMatch => Err(None),
        };
        match decision {
            Ok(handle) => self.seal(now, handle, packet),
            Err(Some(entry)) => self.acquire(now, entry),
            Err(None) => SendOutcome::Discarded,
        }
    }

    /// A packet needs the SA of the policy `entry` and none is installed: its child is
    /// initiated if a trap is set for it (RFC 4301 §5.1 step 3c).
    fn acquire(&mut self, now: Instant, entry: SpdEntryId) -> SendOutcome {
        let Some((connection, child)) = self.policy_owners.get(&entry).cloned() else {
            return SendOutcome::Discarded;
        };
        let trapped = self
            .connection_state(&connection)
            .is_some_and(|c| c.trapped.contains(&child));
        if !trapped {
            return SendOutcome::Discarded;
        }
        match self.initiate_child(now, &connection, &child) {
            Ok(_) => SendOutcome::Acquiring,
            Err(_) => SendOutcome::Discarded,
        }
    }

    fn seal(&mut self, now: Instant, handle: OutboundHandle, packet: &[u8]) -> SendOutcome {
        let Some(child) = self
            .children
            .by_outbound
            .get(&handle)
            .and_then(|spi| self.children.by_spi.get(spi))
        else {
            return SendOutcome::Discarded;
        };
        if child.protocol == ipsec_ikev2::IpsecProtocol::Ah {
            return self.seal_ah(now, handle, packet);
        }
        let (payload, next_header) = match child.mode {
            Mode::Tunnel => {
                let next_header = if packet.first().is_some_and(|v| v >> 4 == 6) {
                    41
                } else {
                    4
                };
                (packet, next_header)
            }
            Mode::Transport => match transport_payload(packet) {
                Some(split) => split,
                None => return SendOutcome::Discarded,
            },
        };
        let (path, udp) = (child.path, child.udp_encapsulation);
        let Some(sa) = self.sad.outbound(handle).and_then(|e| e.sa()) else {
            return SendOutcome::Discarded;
        };
        let header = sa.header_len();
        let mut buf = vec![0u8; sa.packet_len(payload.len())];
        if let Some(slot) = buf.get_mut(header..header + payload.len()) {
            slot.copy_from_slice(payload);
        }
        let len = match self
            .sad
            .seal(now, handle, &mut buf, payload.len(), next_header)
        {
            Ok(len) => len,
            Err(error) => return SendOutcome::Failed(error),
        };
        buf.truncate(len);
        let packet = Bytes::from(buf);
        // ESP in UDP goes over the IKE SA's ports, whatever they are (RFC 3948, RFC 7296
        // §2.23): the port pair IKE floated to, following the peer if it moved.
        self.outputs.push_back(if udp {
            Output::Udp {
                path,
                payload: packet,
            }
        } else {
            Output::Esp {
                source: path.local.ip(),
                destination: path.remote.ip(),
                packet,
            }
        });
        self.pump(now);
        SendOutcome::Sent
    }
}

/// The upper-layer payload of a transport-mode packet and its protocol: the IP header is
/// the caller's (RFC 4303 §3.1.1).
pub(super) fn transport_payload(packet: &[u8]) -> Option<(&[u8], u8)> {
    match packet.first()? >> 4 {
        4 => {
            let header = usize::from(packet.first()? & 0x0f) * 4;
            Some((packet.get(header..)?, *packet.get(9)?))
        }
        6 => Some((packet.get(40..)?, *packet.get(6)?)),
        _ => None,
    }
}

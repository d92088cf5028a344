//! Packets in and out: UDP datagrams demultiplexed into IKE, ESP in UDP and keepalives
//! (RFC 3948 §2), ESP opened through the SAD (RFC 4301 §5.2), inner packets looked up in
//! the SPD and sealed (§5.1). The data path works in the caller's buffers
//! ([`Endpoint::send_in_place`], [`Endpoint::handle_udp_in_place`]); the owned-buffer
//! calls ([`Endpoint::send`], [`Endpoint::handle_udp`]) copy once into a buffer of their
//! own and queue the result on [`Endpoint::poll_output`].

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::time::Instant;

use bytes::{Buf, Bytes};
use ipsec_ikev2::{Mode, Path};
use ipsec_isakmp::{Udp4500Datagram, classify_udp4500};
use ipsec_sad::{Decision, Flow, OutboundHandle, OuterAddresses, SpdEntryId};

use super::Endpoint;
use crate::event::{Dropped, Output, SendOutcome};
use crate::in_place::{Delivered, SEAL_HEADROOM, SEAL_TAILROOM, SendInPlace, Transmit};

/// The well-known IKE port (RFC 7296 §2): on it every datagram is IKE.
const IKE_PORT: u16 = 500;

/// What a UDP datagram on one of our ports is (RFC 3948 §2).
enum Route {
    /// An IKE message (behind the non-ESP marker, if the port calls for one).
    Ike,
    /// A NAT-keepalive: nothing to do.
    Keepalive,
    /// ESP in UDP, starting at the datagram's first byte.
    Esp,
}

impl Endpoint {
    /// Takes a UDP datagram that arrived on one of our ports: on port 500 it is IKE; on
    /// any other (the NAT-T port, or an IKE port other than 500, which strongSwan treats as
    /// one) IKE behind the non-ESP marker, ESP, or a NAT-keepalive (RFC 3948 §2). On a
    /// non-standard IKE port an unmarked datagram is ESP only if its SPI names one of our
    /// Child SAs encapsulated on that port; otherwise it is IKE. A NAT-keepalive is not an
    /// error.
    ///
    /// An ESP packet is copied once and the inner packet queued on
    /// [`poll_output`](Self::poll_output) as [`Output::Deliver`];
    /// [`handle_udp_in_place`](Self::handle_udp_in_place) opens it in `datagram` instead.
    pub fn handle_udp(&mut self, now: Instant, path: Path, datagram: &[u8]) -> Result<(), Dropped> {
        let result = match self.route(path, datagram) {
            Ok(Route::Esp) => {
                let mut buf = datagram.to_vec();
                self.open(now, path.remote.ip(), path.local.ip(), &mut buf)
                    .map(|delivered| self.queue_delivery(buf, delivered))
            }
            other => self.handle_not_esp(now, path, datagram, other),
        };
        self.finish(now, result)
    }

    /// As [`handle_udp`](Self::handle_udp), with ESP opened in place: the inner packet is
    /// returned as a range of `datagram`, not queued, and nothing is allocated. IKE
    /// messages and keepalives give `Ok(None)`, as do dummy packets (RFC 4303 §2.6).
    pub fn handle_udp_in_place(
        &mut self,
        now: Instant,
        path: Path,
        datagram: &mut [u8],
    ) -> Result<Option<Delivered>, Dropped> {
        let result = match self.route(path, datagram) {
            Ok(Route::Esp) => self.open(now, path.remote.ip(), path.local.ip(), datagram),
            other => self
                .handle_not_esp(now, path, datagram, other)
                .map(|()| None),
        };
        self.finish(now, result)
    }

    /// Takes an ESP packet that arrived as IP protocol 50 from `source` to `destination`.
    /// It is copied once and the inner packet queued on [`poll_output`](Self::poll_output);
    /// [`handle_esp_in_place`](Self::handle_esp_in_place) opens it in `packet` instead.
    pub fn handle_esp(
        &mut self,
        now: Instant,
        source: IpAddr,
        destination: IpAddr,
        packet: &[u8],
    ) -> Result<(), Dropped> {
        let mut buf = packet.to_vec();
        let result = self
            .open(now, source, destination, &mut buf)
            .map(|delivered| self.queue_delivery(buf, delivered));
        self.finish(now, result)
    }

    /// As [`handle_esp`](Self::handle_esp), opened in place: the inner packet is returned
    /// as a range of `packet`, not queued, and nothing is allocated; a dummy packet
    /// (RFC 4303 §2.6) gives `Ok(None)`.
    pub fn handle_esp_in_place(
        &mut self,
        now: Instant,
        source: IpAddr,
        destination: IpAddr,
        packet: &mut [u8],
    ) -> Result<Option<Delivered>, Dropped> {
        let result = self.open(now, source, destination, packet);
        self.finish(now, result)
    }

    /// After a datagram: what it set off inside IKE and the SAD is collected, and a drop
    /// traced.
    fn finish<T>(&mut self, now: Instant, result: Result<T, Dropped>) -> Result<T, Dropped> {
        self.pump(now);
        if let Err(reason) = &result {
            crate::trace::dropped(reason);
        }
        result
    }

    /// What the datagram that arrived on `path` is (RFC 3948 §2).
    fn route(&self, path: Path, datagram: &[u8]) -> Result<Route, Dropped> {
        let port = path.local.port();
        if port == self.config.ike_port && port == IKE_PORT {
            return Ok(Route::Ike);
        }
        match classify_udp4500(datagram).map_err(|_| Dropped::Malformed)? {
            Udp4500Datagram::NatKeepalive => Ok(Route::Keepalive),
            Udp4500Datagram::Ike(_) => Ok(Route::Ike),
            // An IKE message without the marker (IKE_SA_INIT) on a custom IKE port.
            Udp4500Datagram::Esp(esp)
                if port == self.config.ike_port && !self.encapsulated_here(esp, path.local) =>
            {
                Ok(Route::Ike)
            }
            Udp4500Datagram::Esp(_) => Ok(Route::Esp),
        }
    }

    /// IKE and keepalives, as [`route`](Self::route) found them.
    fn handle_not_esp(
        &mut self,
        now: Instant,
        path: Path,
        datagram: &[u8],
        route: Result<Route, Dropped>,
    ) -> Result<(), Dropped> {
        match route? {
            Route::Keepalive => Ok(()),
            Route::Ike | Route::Esp => self
                .ike
                .handle_datagram(now, path, datagram)
                .map_err(Dropped::Ike),
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

    /// Queues what [`open`](Self::open) delivered from `buf` on the output queue.
    fn queue_delivery(&mut self, buf: Vec<u8>, delivered: Option<Delivered>) {
        let Some(delivered) = delivered else {
            return;
        };
        let packet = into_bytes(buf, delivered.packet);
        self.outputs.push_back(Output::Deliver {
            packet,
            next_header: delivered.next_header,
            transport: delivered.transport,
            peer: delivered.peer,
            ike_sa: delivered.ike_sa,
            inbound_spi: delivered.inbound_spi,
        });
    }

    /// Verifies and decrypts an ESP packet in place through the SAD (RFC 4301 §5.2), and
    /// says where the inner packet lies; `None` for a dummy packet or one on an SA the
    /// facade no longer reports.
    fn open(
        &mut self,
        now: Instant,
        source: IpAddr,
        destination: IpAddr,
        packet: &mut [u8],
    ) -> Result<Option<Delivered>, Dropped> {
        // Addresses, not pointers: the payload's offset in the buffer, found without unsafe.
        let base = packet.as_ptr() as usize;
        let outer = OuterAddresses {
            source,
            destination,
        };
        let opened = self
            .sad
            .open_with_outer(now, outer, packet)
            .map_err(Dropped::Sad)?;
        let start = (opened.payload.as_ptr() as usize).saturating_sub(base);
        let range = start..start.saturating_add(opened.payload.len());
        let (spi, next_header, dummy) = (opened.spi, opened.next_header, opened.is_dummy());
        let transport = opened.mode == ipsec_sad::Mode::Transport;
        let (ike_sa, pending) = match self.children.by_spi.get(&spi) {
            Some(child) => (child.ike, child.pending),
            // A rekeyed SA's lingering inbound half: its packets still count.
            None => match self.children.lingering.get(&spi) {
                Some((ike, _)) => (*ike, false),
                None => return Ok(None),
            },
        };
        if pending {
            // RFC 7296 §2.8: an authentic packet on the new SA shows the peer sends on it.
            self.activate(spi);
        }
        if dummy {
            return Ok(None);
        }
        Ok(Some(Delivered {
            packet: range,
            next_header,
            transport,
            peer: source,
            ike_sa,
            inbound_spi: spi,
        }))
    }

    /// Sends an inner IP packet (from the tunnel device or the host stack): the SPD decides
    /// (RFC 4301 §5.1). PROTECT with an installed SA whose negotiated selectors match seals
    /// it, queued on [`Endpoint::poll_output`]; PROTECT without one starts IKE for the
    /// policy's child if a trap asks for it (the ACQUIRE idea), and the packet is not sent.
    ///
    /// The packet is copied once into a buffer of its own;
    /// [`send_in_place`](Self::send_in_place) seals it in the caller's buffer instead.
    pub fn send(&mut self, now: Instant, packet: &[u8]) -> SendOutcome {
        let (mut buf, inner) = with_room(packet, SEAL_HEADROOM, SEAL_TAILROOM);
        let (sealed, transmit) = match self.send_in_place(now, &mut buf, inner) {
            SendInPlace::Sealed { packet, transmit } => (packet, transmit),
            SendInPlace::NotSealed(outcome) => return outcome,
            // The constants leave room for every SA the endpoint installs.
            SendInPlace::NoRoom { .. } => return SendOutcome::Discarded,
        };
        let packet = into_bytes(buf, sealed);
        self.outputs.push_back(match transmit {
            Transmit::Udp(path) => Output::Udp {
                path,
                payload: packet,
            },
            Transmit::Esp {
                source,
                destination,
            } => Output::Esp {
                source,
                destination,
                packet,
            },
        });
        SendOutcome::Sent
    }

    /// As [`send`](Self::send), sealed in the caller's buffer: the inner packet is
    /// `buf[inner]`, with room before it for the ESP header and after it for the trailer
    /// ([`SEAL_HEADROOM`] and [`SEAL_TAILROOM`] are enough for every SA the endpoint
    /// installs). The ESP packet is returned as a range of `buf`,
    /// with where to send it; nothing is allocated. In transport mode the inner packet's
    /// IP header is consumed: the ESP header is written over its end.
    pub fn send_in_place(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        inner: Range<usize>,
    ) -> SendInPlace {
        let Some(packet) = buf.get(inner.clone()) else {
            return SendInPlace::NotSealed(SendOutcome::Discarded);
        };
        let Ok(flow) = Flow::parse(packet) else {
            return SendInPlace::NotSealed(SendOutcome::Discarded);
        };
        let decision = match self.spd.lookup_outbound(&flow) {
            Decision::Protect { sa, .. } => Ok(sa),
            Decision::Acquire { id, .. } => Err(Some(id)),
            Decision::Bypass { .. } => return SendInPlace::NotSealed(SendOutcome::Bypass),
            Decision::Discard { .. } | Decision::NoMatch => Err(None),
        };
        match decision {
            Ok(handle) => self.seal(now, handle, buf, inner),
            Err(Some(entry)) => SendInPlace::NotSealed(self.acquire(now, entry)),
            Err(None) => SendInPlace::NotSealed(SendOutcome::Discarded),
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

    /// Seals `buf[inner]` with the outbound SA `handle` where it lies (RFC 4303 §3.3).
    fn seal(
        &mut self,
        now: Instant,
        handle: OutboundHandle,
        buf: &mut [u8],
        inner: Range<usize>,
    ) -> SendInPlace {
        let Some(route) = self.children.by_outbound.get(&handle).copied() else {
            return SendInPlace::NotSealed(SendOutcome::Discarded);
        };
        if route.protocol == ipsec_ikev2::IpsecProtocol::Ah {
            let packet = buf.get(inner).unwrap_or_default();
            return SendInPlace::NotSealed(self.seal_ah(now, handle, packet));
        }
        let Some(packet) = buf.get(inner.clone()) else {
            return SendInPlace::NotSealed(SendOutcome::Discarded);
        };
        // The payload (the whole packet in tunnel mode, what follows the IP header in
        // transport mode) and its protocol (RFC 4303 §2.6).
        let (skip, next_header) = match route.mode {
            Mode::Tunnel => (
                0,
                if packet.first().is_some_and(|v| v >> 4 == 6) {
                    41
                } else {
                    4
                },
            ),
            Mode::Transport => match transport_header(packet) {
                Some(split) => split,
                None => return SendInPlace::NotSealed(SendOutcome::Discarded),
            },
        };
        let payload_start = inner.start.saturating_add(skip);
        let payload_len = inner.end.saturating_sub(payload_start);
        // ESP in UDP goes over the IKE SA's ports, whatever they are (RFC 3948, RFC 7296
        // §2.23): the port pair IKE floated to, following the peer if it moved.
        let transmit = route.transmit;
        let Some(sa) = self.sad.outbound(handle).and_then(|e| e.sa()) else {
            return SendInPlace::NotSealed(SendOutcome::Discarded);
        };
        let headroom = sa.header_len();
        let tailroom = sa
            .packet_len(payload_len)
            .saturating_sub(headroom.saturating_add(payload_len));
        let room = payload_start
            .checked_sub(headroom)
            .map(|start| (start, inner.end.saturating_add(tailroom)))
            .filter(|(_, end)| *end <= buf.len());
        let Some((start, end)) = room else {
            return SendInPlace::NoRoom {
                headroom: headroom.saturating_sub(skip),
                tailroom,
            };
        };
        let Some(window) = buf.get_mut(start..end) else {
            return SendInPlace::NotSealed(SendOutcome::Discarded);
        };
        let sealed = self.sad.seal(now, handle, window, payload_len, next_header);
        self.pump(now);
        match sealed {
            Ok(len) => SendInPlace::Sealed {
                packet: start..start.saturating_add(len),
                transmit,
            },
            Err(error) => SendInPlace::NotSealed(SendOutcome::Failed(error)),
        }
    }
}

/// The length of a transport-mode packet's IP header and its protocol: the header is the
/// caller's (RFC 4303 §3.1.1), the payload what follows it.
fn transport_header(packet: &[u8]) -> Option<(usize, u8)> {
    match packet.first()? >> 4 {
        4 => {
            let header = usize::from(packet.first()? & 0x0f) * 4;
            (header <= packet.len()).then_some((header, *packet.get(9)?))
        }
        6 => (packet.len() >= 40).then_some((40, *packet.get(6)?)),
        _ => None,
    }
}

/// A buffer holding `packet` with `headroom` bytes before it and `tailroom` after it, and
/// where the packet lies in it.
fn with_room(packet: &[u8], headroom: usize, tailroom: usize) -> (Vec<u8>, Range<usize>) {
    let inner = headroom..headroom.saturating_add(packet.len());
    let mut buf = vec![0u8; inner.end.saturating_add(tailroom)];
    if let Some(slot) = buf.get_mut(inner.clone()) {
        slot.copy_from_slice(packet);
    }
    (buf, inner)
}

/// `buf[range]` as [`Bytes`], without copying it or allocating again: the buffer is cut
/// after the range and shrunk to fit (in place, for the allocators we know), and the
/// `Bytes` starts at the range.
fn into_bytes(mut buf: Vec<u8>, range: Range<usize>) -> Bytes {
    buf.truncate(range.end);
    let mut bytes = Bytes::from(buf.into_boxed_slice());
    bytes.advance(range.start.min(bytes.len()));
    bytes
}

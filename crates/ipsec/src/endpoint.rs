//! The endpoint: IKE, the SAD and the SPD joined (RFC 4301 §5), driven by the caller.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ipsec_crypto::{SecretBytes, SecureRandom};
use ipsec_esp::{EspTransform, InboundSa, OutboundSa};
use ipsec_ikev2::{ChildSaReady, CloseReason, EndpointConfig, IkeSaHandle, Mode, Path, PeerConfig};
use ipsec_isakmp::{TrafficSelector, Udp4500Datagram, classify_udp4500};
use ipsec_replay::ReplayWindow;
use ipsec_sad::{
    Action, AddrRange, Decision, Flow, LifetimeTemplate, LimitsTemplate, OutboundHandle,
    OuterAddresses, PortRange, SaConfig, SaId, SaTemplate, Sad, SadEvent, Selector, Spd, SpdEntry,
    SpdEntryId,
};

use crate::config::{Config, ConfigError, Connection};
use crate::event::{Dropped, Event, Output, SendOutcome};
use crate::keylog::EspSaKeys;

/// The anti-replay window of every inbound SA (RFC 4303 §3.4.3 asks for at least 32; 1024
/// absorbs the reordering of a busy multi-queue path).
const REPLAY_WINDOW: u32 = 1024;

struct ConnectionState {
    connection: Connection,
    peer: Arc<PeerConfig>,
    spd_entry: SpdEntryId,
    ike: Option<IkeSaHandle>,
}

/// How long the inbound SA of a rekeyed Child SA stays after its Delete, for the packets
/// the peer sent on it before switching (RFC 7296 §2.8.1 asks to accept packets on both SAs
/// while both exist; strongSwan keeps it as long).
const REKEYED_INBOUND_LINGER: Duration = Duration::from_secs(5);

/// An installed Child SA, as the facade tracks it.
struct Child {
    ike: IkeSaHandle,
    outbound: OutboundHandle,
    path: Path,
    udp_encapsulation: bool,
    mode: Mode,
    /// Installed but not yet sent on: the replacement of a rekey the peer started, which
    /// takes over on the peer's first packet on it or its Delete of the old SA (RFC 7296
    /// §2.8).
    pending: bool,
}

/// An IPsec endpoint: IKEv2 (RFC 7296) negotiates the Child SAs, the SAD and SPD (RFC 4301)
/// protect the traffic with ESP (RFC 4303), in UDP when a NAT is about (RFC 3948).
///
/// The caller feeds it what arrives on UDP 500 and 4500 ([`Endpoint::handle_udp`]), raw ESP
/// ([`Endpoint::handle_esp`]) and the inner packets to send ([`Endpoint::send`]); it drains
/// [`Endpoint::poll_output`] (datagrams to send, packets to deliver) and
/// [`Endpoint::poll_event`], and calls [`Endpoint::handle_timeout`] at
/// [`Endpoint::poll_timeout`]. It reads no clock and opens no socket.
pub struct Endpoint {
    config: Config,
    ike: ipsec_ikev2::Endpoint,
    sad: Sad,
    spd: Spd,
    connections: Vec<ConnectionState>,
    ike_connection: HashMap<IkeSaHandle, usize>,
    children: HashMap<u32, Child>,
    by_outbound: HashMap<OutboundHandle, u32>,
    /// Inbound SAs of rekeyed Child SAs, kept until these instants.
    lingering: Vec<(Instant, u32)>,
    outputs: VecDeque<Output>,
    events: VecDeque<Event>,
}

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("connections", &self.connections.len())
            .field("ike", &self.ike)
            .field("child_sas", &self.children.len())
            .finish_non_exhaustive()
    }
}

/// The SAD selector for one pair of agreed traffic selectors (RFC 4301 §4.4.1.1).
fn selector(local: &TrafficSelector, remote: &TrafficSelector) -> Option<Selector> {
    let range = |ts: &TrafficSelector| -> Option<(AddrRange, u8, PortRange)> {
        match ts {
            TrafficSelector::Ipv4(r) => Some((
                AddrRange::new(r.start_address.into(), r.end_address.into()).ok()?,
                r.ip_protocol,
                PortRange {
                    start: r.start_port,
                    end: r.end_port,
                },
            )),
            TrafficSelector::Ipv6(r) => Some((
                AddrRange::new(r.start_address.into(), r.end_address.into()).ok()?,
                r.ip_protocol,
                PortRange {
                    start: r.start_port,
                    end: r.end_port,
                },
            )),
            _ => None,
        }
    };
    let (local_addresses, local_protocol, local_port) = range(local)?;
    let (remote_addresses, remote_protocol, remote_port) = range(remote)?;
    let protocol = match (local_protocol, remote_protocol) {
        (0, p) | (p, 0) => p,
        (a, b) if a == b => a,
        _ => return None,
    };
    let mut selector = Selector::addresses(local_addresses, remote_addresses);
    if protocol != 0 {
        selector = selector.with_protocol(protocol);
    }
    selector.local_port = local_port;
    selector.remote_port = remote_port;
    Some(selector)
}

fn selectors(local: &[TrafficSelector], remote: &[TrafficSelector]) -> Vec<Selector> {
    local
        .iter()
        .flat_map(|l| remote.iter().filter_map(move |r| selector(l, r)))
        .collect()
}

fn sad_mode(mode: Mode) -> ipsec_sad::Mode {
    match mode {
        Mode::Tunnel => ipsec_sad::Mode::Tunnel,
        Mode::Transport => ipsec_sad::Mode::Transport,
    }
}

fn lifetime(ready: &ChildSaReady) -> LifetimeTemplate {
    let l = ready.lifetimes;
    LifetimeTemplate {
        soft: LimitsTemplate {
            bytes: l.soft_bytes,
            packets: l.soft_packets,
            time: l.soft_time,
        },
        hard: LimitsTemplate {
            bytes: l.hard_bytes,
            packets: l.hard_packets,
            time: l.hard_time,
        },
        sequence_margin: ipsec_sad::DEFAULT_SEQUENCE_MARGIN,
    }
}

impl Endpoint {
    /// An endpoint with `config`; `rng` supplies SPIs, nonces and private keys.
    pub fn new(config: Config, rng: Box<dyn SecureRandom>) -> Result<Self, ConfigError> {
        let mut spd = Spd::new();
        let mut connections = Vec::new();
        for connection in &config.connections {
            if connections
                .iter()
                .any(|c: &ConnectionState| c.connection.name == connection.name)
            {
                return Err(ConfigError::DuplicateName(connection.name.clone()));
            }
            if connection.ike_proposals.is_empty() || connection.esp_proposals.is_empty() {
                return Err(ConfigError::Connection {
                    name: connection.name.clone(),
                    problem: "no proposals",
                });
            }
            let template = SaTemplate {
                mode: sad_mode(connection.mode),
                protocol: ipsec_sad::IpsecProtocol::Esp,
                proposals: Vec::new(),
                lifetime: LifetimeTemplate {
                    soft: LimitsTemplate::default(),
                    hard: LimitsTemplate::default(),
                    sequence_margin: ipsec_sad::DEFAULT_SEQUENCE_MARGIN,
                },
            };
            let entry = SpdEntry::new(
                selectors(&connection.local_ts, &connection.remote_ts),
                Action::Protect { template },
            );
            connections.push(ConnectionState {
                connection: connection.clone(),
                peer: Arc::new(connection.peer_config()),
                spd_entry: spd.push(entry),
                ike: None,
            });
        }
        let mut ike_config = EndpointConfig {
            ike_port: config.ike_port,
            nat_t_port: config.nat_t_port,
            cookie_threshold: config.cookie_threshold,
            retransmit: config.ike,
            provider: config.provider,
            key_log: config.key_log.is_some(),
            ..EndpointConfig::default()
        };
        if config.accept_peers {
            for state in &connections {
                for proposal in &state.connection.ike_proposals {
                    if !ike_config.responder_ike_proposals.contains(proposal) {
                        ike_config.responder_ike_proposals.push(proposal.clone());
                    }
                }
                ike_config.responder_peers.push(state.peer.clone());
            }
        }
        let ike = ipsec_ikev2::Endpoint::new(ike_config, rng).map_err(|_| ConfigError::Random)?;
        Ok(Self {
            config,
            ike,
            sad: Sad::new(),
            spd,
            connections,
            ike_connection: HashMap::new(),
            children: HashMap::new(),
            by_outbound: HashMap::new(),
            lingering: Vec::new(),
            outputs: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// The SAD, for its counters.
    pub fn sad(&self) -> &Sad {
        &self.sad
    }

    /// The IKE endpoint, for its counters.
    pub fn ike(&self) -> &ipsec_ikev2::Endpoint {
        &self.ike
    }

    fn connection_index(&self, name: &str) -> Option<usize> {
        self.connections
            .iter()
            .position(|c| c.connection.name == name)
    }

    /// Starts the IKE SA of the connection `name` (strongSwan's `swanctl --initiate`).
    pub fn connect(&mut self, now: Instant, name: &str) -> Result<IkeSaHandle, crate::Error> {
        let index = self
            .connection_index(name)
            .ok_or_else(|| crate::Error::UnknownConnection(name.to_string()))?;
        self.start(now, index)
    }

    fn start(&mut self, now: Instant, index: usize) -> Result<IkeSaHandle, crate::Error> {
        let state = self
            .connections
            .get_mut(index)
            .ok_or(crate::Error::UnknownConnection(String::new()))?;
        let path = Path {
            local: state.connection.local,
            remote: state.connection.remote,
        };
        let handle = self.ike.initiate(now, state.peer.clone(), path)?;
        state.ike = Some(handle);
        self.ike_connection.insert(handle, index);
        self.pump(now);
        Ok(handle)
    }

    /// Deletes an IKE SA and its Child SAs.
    pub fn disconnect(&mut self, now: Instant, handle: IkeSaHandle) -> Result<(), crate::Error> {
        self.ike.delete_ike_sa(now, handle)?;
        self.pump(now);
        Ok(())
    }

    /// Deletes every IKE SA, as before shutting down.
    pub fn disconnect_all(&mut self, now: Instant) {
        let handles: Vec<IkeSaHandle> = self.ike_connection.keys().copied().collect();
        for handle in handles {
            let _ = self.ike.delete_ike_sa(now, handle);
        }
        self.pump(now);
    }

    /// Takes what arrived on UDP: IKE on port 500; on the NAT-T port IKE behind the non-ESP
    /// marker, ESP, or a NAT-keepalive (RFC 3948 §2).
    pub fn handle_udp(&mut self, now: Instant, path: Path, datagram: &[u8]) -> Result<(), Dropped> {
        let result = if path.local.port() == self.config.ike_port {
            self.ike
                .handle_datagram(now, path, datagram)
                .map_err(Dropped::Ike)
        } else {
            match classify_udp4500(datagram).map_err(|_| Dropped::Malformed)? {
                Udp4500Datagram::NatKeepalive => Err(Dropped::Keepalive),
                Udp4500Datagram::Ike(_) => self
                    .ike
                    .handle_datagram(now, path, datagram)
                    .map_err(Dropped::Ike),
                Udp4500Datagram::Esp(esp) => self.open(now, path.remote.ip(), path.local.ip(), esp),
            }
        };
        self.pump(now);
        if let Err(reason) = &result {
            crate::trace::dropped(reason);
        }
        result
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
            .map_err(Dropped::Esp)?;
        let spi = opened.spi;
        if self.children.get(&spi).is_some_and(|c| c.pending) {
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
        });
        Ok(())
    }

    /// Sends an inner IP packet (from the tunnel device or the host stack): the SPD decides
    /// (RFC 4301 §5.1). PROTECT with an SA seals it into ESP, queued on
    /// [`Endpoint::poll_output`]; PROTECT without one starts IKE for the policy (the
    /// ACQUIRE idea) and the packet is not sent.
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

    fn acquire(&mut self, now: Instant, entry: SpdEntryId) -> SendOutcome {
        let Some(index) = self.connections.iter().position(|c| c.spd_entry == entry) else {
            return SendOutcome::Discarded;
        };
        let pending = self.connections.get(index).is_some_and(|c| c.ike.is_some());
        let on_demand = self
            .connections
            .get(index)
            .is_some_and(|c| c.connection.start_on_demand);
        if !pending && on_demand && self.start(now, index).is_err() {
            return SendOutcome::Discarded;
        }
        SendOutcome::Acquiring
    }

    fn seal(&mut self, now: Instant, handle: OutboundHandle, packet: &[u8]) -> SendOutcome {
        let Some(child) = self
            .by_outbound
            .get(&handle)
            .and_then(|spi| self.children.get(spi))
        else {
            return SendOutcome::Discarded;
        };
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
        self.outputs.push_back(if udp {
            Output::Udp {
                path: Path {
                    local: std::net::SocketAddr::new(path.local.ip(), self.config.nat_t_port),
                    remote: path.remote,
                },
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

    /// Acts on every deadline that has passed (IKE timers, SA lifetimes).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.ike.handle_timeout(now);
        self.sad.handle_timeout(now);
        let (due, later): (Vec<_>, Vec<_>) =
            self.lingering.drain(..).partition(|(at, _)| *at <= now);
        self.lingering = later;
        for (_, spi) in due {
            self.sad.remove_inbound(spi);
        }
        self.pump(now);
    }

    /// When to call [`Endpoint::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.ike.poll_timeout(),
            self.sad.poll_timeout(),
            self.lingering.iter().map(|(at, _)| *at).min(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next datagram to send or packet to deliver; call until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next event; call until `None`.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Moves what IKE and the SAD produced into the facade's queues, installing and removing
    /// Child SAs on the way.
    fn pump(&mut self, now: Instant) {
        while let Some(transmit) = self.ike.poll_transmit() {
            self.outputs.push_back(Output::Udp {
                path: transmit.path,
                payload: transmit.payload,
            });
        }
        while let Some(event) = self.ike.poll_event() {
            self.on_ike_event(now, event);
        }
        let mut lifetime_events = false;
        while let Some(event) = self.sad.poll_event() {
            match event {
                // Events of a rekeyed SA's lingering inbound half are not reported: the
                // caller was told it is gone.
                SadEvent::RekeyNeeded { sa, limit } => {
                    // RFC 4301 §4.4.2.1: a soft limit starts the replacement.
                    if let Some((ike, inbound)) = self.child_of(sa) {
                        let _ = self.ike.rekey_child_sa(now, ike, inbound);
                        lifetime_events = true;
                        self.events.push_back(Event::RekeyNeeded { sa, limit });
                    }
                }
                SadEvent::Expired { sa, limit } => {
                    // A hard limit ends the Child SA (RFC 7296 §2.8).
                    if let Some((ike, inbound)) = self.child_of(sa) {
                        let _ = self.ike.delete_child_sa(now, ike, inbound);
                        lifetime_events = true;
                        self.events.push_back(Event::Expired { sa, limit });
                    }
                }
                _ => {}
            }
        }
        if lifetime_events {
            self.pump(now);
        }
    }

    /// The IKE SA and inbound SPI of the Child SA an SAD entry belongs to.
    fn child_of(&self, sa: SaId) -> Option<(IkeSaHandle, u32)> {
        let inbound = match sa {
            SaId::Inbound { spi } => spi,
            SaId::Outbound { handle, .. } => *self.by_outbound.get(&handle)?,
        };
        self.children.get(&inbound).map(|c| (c.ike, inbound))
    }

    /// Sends on the Child SA with inbound SPI `spi` from now on (RFC 7296 §2.8).
    fn activate(&mut self, spi: u32) {
        let Some(child) = self.children.get_mut(&spi) else {
            return;
        };
        if !child.pending {
            return;
        }
        child.pending = false;
        let outbound = child.outbound;
        if let Some(entry) = self.sad.outbound(outbound) {
            self.spd.add_sa(outbound, &entry.config().selectors);
        }
    }

    fn connection_name(&self, handle: IkeSaHandle) -> String {
        self.ike_connection
            .get(&handle)
            .and_then(|i| self.connections.get(*i))
            .map(|c| c.connection.name.clone())
            .unwrap_or_default()
    }

    fn on_ike_event(&mut self, now: Instant, event: ipsec_ikev2::Event) {
        match event {
            ipsec_ikev2::Event::IkeSaEstablished {
                handle,
                peer_id,
                algorithms,
                nat,
                path,
                keys,
                ..
            } => {
                if !self.ike_connection.contains_key(&handle)
                    && let Some(index) = self.connections.iter().position(|c| {
                        c.connection
                            .remote_id
                            .as_ref()
                            .is_none_or(|id| *id == peer_id)
                    })
                {
                    self.ike_connection.insert(handle, index);
                    if let Some(state) = self.connections.get_mut(index) {
                        state.ike = Some(handle);
                    }
                }
                if let (Some(log), Some(keys)) = (&self.config.key_log, &keys) {
                    log.log_ike_sa(keys);
                }
                crate::trace::ike_sa_established(handle, &peer_id, &path);
                self.events.push_back(Event::IkeSaEstablished {
                    connection: self.connection_name(handle),
                    handle,
                    peer_id,
                    algorithms,
                    nat,
                    path,
                });
            }
            ipsec_ikev2::Event::ChildSaReady(ready) => self.install(now, *ready),
            ipsec_ikev2::Event::ChildSaActive { inbound_spi, .. } => self.activate(inbound_spi),
            ipsec_ikev2::Event::ChildSaFailed {
                handle,
                reason,
                rekeying,
            } => {
                self.events.push_back(Event::ChildSaFailed {
                    connection: self.connection_name(handle),
                    ike_sa: handle,
                    reason,
                    rekeying,
                });
            }
            ipsec_ikev2::Event::ChildSaDeleted {
                handle,
                inbound_spi,
                outbound_spi,
                rekeyed,
            } => {
                let linger = rekeyed.then(|| now + REKEYED_INBOUND_LINGER);
                self.remove_child(handle, inbound_spi, outbound_spi, linger);
            }
            ipsec_ikev2::Event::IkeSaRekeyed {
                handle,
                spi_i,
                spi_r,
                algorithms,
                keys,
                ..
            } => {
                if let (Some(log), Some(keys)) = (&self.config.key_log, &keys) {
                    log.log_ike_sa(keys);
                }
                crate::trace::ike_sa_rekeyed(handle, spi_i, spi_r);
                self.events.push_back(Event::IkeSaRekeyed {
                    connection: self.connection_name(handle),
                    handle,
                    spi_i,
                    spi_r,
                    algorithms,
                });
            }
            ipsec_ikev2::Event::IkeSaClosed { handle, reason } => self.closed(handle, reason),
            _ => {}
        }
    }

    /// Installs a Child SA that IKE negotiated: both directions in the SAD, the outbound one
    /// linked to its SPD entry (RFC 4301 §4.4.1.2).
    fn install(&mut self, now: Instant, ready: ChildSaReady) {
        let result = self.try_install(now, &ready);
        match result {
            Ok(()) => {
                crate::trace::child_sa_installed(&ready);
                self.events.push_back(Event::ChildSaInstalled {
                    connection: self.connection_name(ready.ike_sa),
                    ike_sa: ready.ike_sa,
                    inbound_spi: ready.inbound_spi,
                    outbound_spi: ready.outbound_spi,
                    algorithms: ready.algorithms,
                    mode: ready.mode,
                    udp_encapsulation: ready.udp_encapsulation,
                    local_ts: ready.local_ts,
                    remote_ts: ready.remote_ts,
                    rekeyed: ready.rekeyed,
                });
            }
            Err(problem) => self.events.push_back(Event::InstallFailed {
                ike_sa: ready.ike_sa,
                inbound_spi: ready.inbound_spi,
                problem,
            }),
        }
    }

    fn transform(
        &self,
        ready: &ChildSaReady,
        keymat: &SecretBytes,
    ) -> Result<EspTransform, &'static str> {
        let provider = self.config.provider;
        let encryption = ready.algorithms.encryption;
        let bits = encryption.effective_key_bits();
        if encryption.is_aead() {
            let aead = provider
                .aead(encryption.id.value(), bits)
                .ok_or("AEAD not in provider")?;
            return EspTransform::aead(aead, keymat.expose()).map_err(|_| "bad AEAD keys");
        }
        let cipher = provider
            .cipher(encryption.id.value(), bits)
            .ok_or("cipher not in provider")?;
        let integrity = ready
            .algorithms
            .integrity
            .and_then(|i| provider.integrity(i.value()))
            .ok_or("integrity algorithm not in provider")?;
        EspTransform::cipher_integrity(cipher, integrity, keymat.expose()).map_err(|_| "bad keys")
    }

    fn try_install(&mut self, now: Instant, ready: &ChildSaReady) -> Result<(), &'static str> {
        let esn = ready.algorithms.esn;
        let inbound = InboundSa::new(
            ready.inbound_spi,
            ReplayWindow::new(REPLAY_WINDOW, esn).map_err(|_| "replay window")?,
            self.transform(ready, &ready.inbound_keymat)?,
        );
        let outbound = OutboundSa::new(
            ready.outbound_spi,
            esn,
            self.transform(ready, &ready.outbound_keymat)?,
        );
        let selectors = selectors(&ready.local_ts, &ready.remote_ts);
        let config = SaConfig::new(
            sad_mode(ready.mode),
            selectors.clone(),
            lifetime(ready).starting_at(now),
        );
        self.sad
            .install_inbound(ready.inbound_spi, inbound, config.clone())
            .map_err(|_| "inbound SPI refused")?;
        let handle = match self.sad.install_outbound(outbound, config) {
            Ok(handle) => handle,
            Err(_) => {
                self.sad.remove_inbound(ready.inbound_spi);
                return Err("outbound SA refused");
            }
        };
        if ready.active {
            // RFC 4301 §4.4.1.2: the SA serves exactly the selectors negotiated for it.
            self.spd.add_sa(handle, &selectors);
        }
        self.by_outbound.insert(handle, ready.inbound_spi);
        self.children.insert(
            ready.inbound_spi,
            Child {
                ike: ready.ike_sa,
                outbound: handle,
                path: ready.path,
                udp_encapsulation: ready.udp_encapsulation,
                mode: ready.mode,
                pending: !ready.active,
            },
        );
        if let Some(log) = &self.config.key_log {
            self.log_child(log.as_ref(), ready);
        }
        Ok(())
    }

    fn log_child(&self, log: &dyn crate::keylog::KeyLog, ready: &ChildSaReady) {
        let provider = self.config.provider;
        let encryption = ready.algorithms.encryption;
        let encryption_len = if encryption.is_aead() {
            provider
                .aead(encryption.id.value(), encryption.effective_key_bits())
                .map_or(0, |a| a.spec().keymat_len())
        } else {
            provider
                .cipher(encryption.id.value(), encryption.effective_key_bits())
                .map_or(0, |c| c.spec().key_len())
        };
        let split = |keymat: &SecretBytes| {
            let (e, i) = keymat.expose().split_at(encryption_len.min(keymat.len()));
            (SecretBytes::copy_from(e), SecretBytes::copy_from(i))
        };
        let (local, remote) = (ready.path.local.ip(), ready.path.remote.ip());
        for (spi, source, destination, keymat) in [
            (ready.inbound_spi, remote, local, &ready.inbound_keymat),
            (ready.outbound_spi, local, remote, &ready.outbound_keymat),
        ] {
            let (encryption_key, integrity_key) = split(keymat);
            log.log_esp_sa(&EspSaKeys {
                source,
                destination,
                spi,
                algorithms: ready.algorithms,
                encryption_key,
                integrity_key,
            });
        }
    }

    /// Removes a Child SA: its outbound SA at once, its inbound SA at once or, for a rekeyed
    /// one, at `linger`.
    fn remove_child(
        &mut self,
        ike: IkeSaHandle,
        inbound_spi: u32,
        outbound_spi: u32,
        linger: Option<Instant>,
    ) {
        if let Some(child) = self.children.remove(&inbound_spi) {
            match linger {
                Some(at) => self.lingering.push((at, inbound_spi)),
                None => {
                    self.sad.remove_inbound(inbound_spi);
                }
            }
            self.sad.remove_outbound(child.outbound);
            self.spd.remove_sa(child.outbound);
            self.by_outbound.remove(&child.outbound);
        }
        crate::trace::child_sa_removed(ike, inbound_spi, outbound_spi);
        self.events.push_back(Event::ChildSaRemoved {
            ike_sa: ike,
            inbound_spi,
            outbound_spi,
        });
    }

    fn closed(&mut self, handle: IkeSaHandle, reason: CloseReason) {
        let stale: Vec<(u32, u32)> = self
            .children
            .iter()
            .filter(|(_, c)| c.ike == handle)
            .filter_map(|(spi, c)| self.sad.outbound(c.outbound).map(|e| (*spi, e.spi())))
            .collect();
        for (inbound, outbound) in stale {
            self.remove_child(handle, inbound, outbound, None);
        }
        let connection = self.connection_name(handle);
        if let Some(index) = self.ike_connection.remove(&handle)
            && let Some(state) = self.connections.get_mut(index)
            && state.ike == Some(handle)
        {
            state.ike = None;
        }
        crate::trace::ike_sa_closed(handle, reason);
        self.events.push_back(Event::IkeSaClosed {
            connection,
            handle,
            reason,
        });
    }
}

/// The upper-layer payload of a transport-mode packet and its protocol: the IP header is
/// the caller's (RFC 4303 §3.1.1).
fn transport_payload(packet: &[u8]) -> Option<(&[u8], u8)> {
    match packet.first()? >> 4 {
        4 => {
            let header = usize::from(packet.first()? & 0x0f) * 4;
            Some((packet.get(header..)?, *packet.get(9)?))
        }
        6 => Some((packet.get(40..)?, *packet.get(6)?)),
        _ => None,
    }
}

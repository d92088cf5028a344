//! A deterministic pair simulator (quinn-proto's `Pair` is the model): two endpoints, a
//! fake clock, and a network with seeded loss, duplication, reordering, delay and an
//! optional NAT in front of the initiator.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipsec_crypto::{SecretBytes, SeededRandom};
use ipsec_ikev2::{
    ChildConfig, ChildProposal, Encryption, Endpoint, EndpointConfig, Event, IdMatcher,
    IkeProposal, Path, PeerConfig, PeerId, SharedKeys,
};
use ipsec_isakmp::{AddressRange, DhGroup, EsnId, Identification, IntegId, PrfId, TrafficSelector};

/// The pre-shared key of the test peers.
pub const PSK: &[u8] = b"shared secret of a and b";

pub const A_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
pub const B_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
/// The public address of the NAT in front of A, when there is one.
pub const NAT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

pub fn ike_proposal(dh: &[DhGroup]) -> IkeProposal {
    IkeProposal {
        encryption: vec![Encryption::aes_gcm_16(256)],
        integrity: vec![],
        prf: vec![PrfId::HmacSha2_256],
        dh: dh.to_vec(),
    }
}

pub fn cbc_proposal() -> IkeProposal {
    IkeProposal {
        encryption: vec![Encryption::aes_cbc(128)],
        integrity: vec![IntegId::HmacSha2_256_128],
        prf: vec![PrfId::HmacSha2_256],
        dh: vec![DhGroup::Modp2048],
    }
}

pub fn child_proposal() -> ChildProposal {
    ChildProposal {
        esn: vec![EsnId::NoEsn],
        ..ChildProposal::esp(vec![Encryption::aes_gcm_16(256)], vec![])
    }
}

pub fn host(ip: [u8; 4]) -> TrafficSelector {
    range([ip, ip])
}

pub fn range([start, end]: [[u8; 4]; 2]) -> TrafficSelector {
    TrafficSelector::Ipv4(AddressRange {
        ip_protocol: 0,
        start_port: 0,
        end_port: 65535,
        start_address: start.into(),
        end_address: end.into(),
    })
}

pub fn peer(local: &str, remote: &str) -> PeerConfig {
    PeerConfig {
        name: "test".into(),
        local_id: Identification::fqdn(local),
        remote_id: IdMatcher::Exact(PeerId::Fqdn(remote.into())),
        ike_proposals: vec![ike_proposal(&[DhGroup::Curve25519])],
        children: vec![Arc::new(ChildConfig {
            name: "net".into(),
            proposals: vec![child_proposal()],
            ..ChildConfig::default()
        })],
        ..PeerConfig::default()
    }
}

/// The first child configuration of `peer`, to change.
pub fn child_mut(peer: &mut PeerConfig) -> &mut ChildConfig {
    Arc::make_mut(&mut peer.children[0])
}

/// A copy of the first child configuration of `peer`.
pub fn first_child(peer: &PeerConfig) -> ChildConfig {
    (*peer.children[0]).clone()
}

/// The two peers' configurations of a plain site-to-site tunnel 10.1.0.0/16 <-> 10.2.0.0/16.
pub fn site_to_site() -> (PeerConfig, PeerConfig) {
    let mut a = peer("a.example", "b.example");
    let mut b = peer("b.example", "a.example");
    child_mut(&mut a).local_ts = vec![range([[10, 1, 0, 0], [10, 1, 255, 255]])];
    child_mut(&mut a).remote_ts = vec![range([[10, 2, 0, 0], [10, 2, 255, 255]])];
    child_mut(&mut b).local_ts = first_child(&a).remote_ts;
    child_mut(&mut b).remote_ts = first_child(&a).local_ts;
    (a, b)
}

/// How the network misbehaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Network {
    /// Probability a datagram is lost.
    pub loss: f64,
    /// Probability a datagram is delivered twice.
    pub duplicate: f64,
    /// Largest extra delay, so later datagrams overtake earlier ones.
    pub jitter: Duration,
    /// The base one-way delay.
    pub delay: Duration,
    /// Put A behind a NAT.
    pub nat: bool,
    /// Drop everything (a dead link) from this instant on.
    pub dead_after: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

struct InFlight {
    at: Instant,
    order: u64,
    to: Side,
    path: Path,
    payload: bytes::Bytes,
}

/// A small deterministic generator for the network's decisions.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }

    fn upto(&mut self, max: Duration) -> Duration {
        let nanos = max.as_nanos() as u64;
        if nanos == 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos(self.next() % nanos)
        }
    }
}

pub struct Pair {
    pub a: Endpoint,
    pub b: Endpoint,
    pub now: Instant,
    pub start: Instant,
    pub network: Network,
    pub a_events: Vec<Event>,
    pub b_events: Vec<Event>,
    pub delivered: u64,
    dice: Dice,
    flight: Vec<InFlight>,
    order: u64,
}

pub fn endpoint_config(responder: Option<PeerConfig>) -> EndpointConfig {
    let mut config = EndpointConfig::default();
    if let Some(peer) = responder {
        config.responder_peers = vec![Arc::new(peer)];
    }
    config.credentials = Arc::new(SharedKeys::single(SecretBytes::copy_from(PSK)));
    config.key_log = true;
    config
}

impl Pair {
    /// A as initiator with `a`, B as responder with `b`.
    pub fn new(
        seed: u64,
        a_config: EndpointConfig,
        b_config: EndpointConfig,
        network: Network,
    ) -> Self {
        // The fake clock starts anywhere; only the time the simulator adds to it matters.
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        Self {
            a: Endpoint::new(a_config, Box::new(SeededRandom::from_u64(seed))).unwrap(),
            b: Endpoint::new(
                b_config,
                Box::new(SeededRandom::from_u64(seed ^ 0xdead_beef)),
            )
            .unwrap(),
            now,
            start: now,
            network,
            a_events: Vec::new(),
            b_events: Vec::new(),
            delivered: 0,
            dice: Dice(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            flight: Vec::new(),
            order: 0,
        }
    }

    /// The standard pair: A initiates to B with the given peers.
    pub fn with_peers(
        seed: u64,
        a: PeerConfig,
        b: PeerConfig,
        network: Network,
    ) -> (Self, Arc<PeerConfig>) {
        let pair = Self::new(
            seed,
            endpoint_config(None),
            endpoint_config(Some(b)),
            network,
        );
        (pair, Arc::new(a))
    }

    pub fn a_path(&self) -> Path {
        Path {
            local: SocketAddr::new(A_IP, 500),
            remote: SocketAddr::new(B_IP, 500),
        }
    }

    pub fn initiate(&mut self, peer: Arc<PeerConfig>) -> ipsec_ikev2::IkeSaHandle {
        let path = self.a_path();
        self.a.initiate(self.now, peer, None, path).unwrap()
    }

    /// What B sees as the source of A's datagram, and back.
    fn translate_a_to_b(&self, path: Path) -> Path {
        let remote = if self.network.nat {
            SocketAddr::new(NAT_IP, 40_000 + path.local.port() % 10_000)
        } else {
            path.local
        };
        Path {
            local: path.remote,
            remote,
        }
    }

    fn translate_b_to_a(&self, path: Path) -> Path {
        let local = if self.network.nat {
            SocketAddr::new(A_IP, path.remote.port() - 40_000)
        } else {
            path.remote
        };
        Path {
            local,
            remote: path.local,
        }
    }

    fn enqueue(&mut self, to: Side, path: Path, payload: bytes::Bytes) {
        if self.network.dead_after.is_some_and(|t| self.now >= t)
            || self.dice.chance(self.network.loss)
        {
            return;
        }
        let copies = if self.dice.chance(self.network.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let at = self.now + self.network.delay + self.dice.upto(self.network.jitter);
            self.order += 1;
            self.flight.push(InFlight {
                at,
                order: self.order,
                to,
                path,
                payload: payload.clone(),
            });
        }
    }

    fn collect(&mut self) {
        while let Some(t) = self.a.poll_transmit() {
            let path = self.translate_a_to_b(t.path);
            self.enqueue(Side::B, path, t.payload);
        }
        while let Some(t) = self.b.poll_transmit() {
            let path = self.translate_b_to_a(t.path);
            self.enqueue(Side::A, path, t.payload);
        }
        while let Some(e) = self.a.poll_event() {
            self.a_events.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.b_events.push(e);
        }
    }

    /// Runs the simulation until nothing is in flight and neither endpoint has a deadline
    /// before `until`, or `until` is reached.
    pub fn drive_until(&mut self, until: Instant) {
        loop {
            self.collect();
            let next_delivery = self.flight.iter().map(|f| (f.at, f.order)).min();
            let next_timer = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let next = [next_delivery.map(|d| d.0), next_timer]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next else {
                return;
            };
            if next > until {
                self.now = until;
                return;
            }
            self.now = self.now.max(next);
            if let Some((at, order)) = next_delivery
                && at <= self.now
            {
                let index = self.flight.iter().position(|f| f.order == order).unwrap();
                let datagram = self.flight.swap_remove(index);
                self.delivered += 1;
                let endpoint = match datagram.to {
                    Side::A => &mut self.a,
                    Side::B => &mut self.b,
                };
                let _ = endpoint.handle_datagram(self.now, datagram.path, &datagram.payload);
                continue;
            }
            self.a.handle_timeout(self.now);
            self.b.handle_timeout(self.now);
            // Every deadline that passed was acted on: none is left in the past.
            for endpoint in [&self.a, &self.b] {
                assert!(endpoint.poll_timeout().is_none_or(|t| t > self.now));
            }
        }
    }

    /// Runs for at most `limit` of simulated time.
    pub fn drive(&mut self, limit: Duration) {
        let until = self.now + limit;
        self.drive_until(until);
    }

    pub fn events(&self, side: Side) -> &[Event] {
        match side {
            Side::A => &self.a_events,
            Side::B => &self.b_events,
        }
    }

    pub fn established(&self, side: Side) -> bool {
        self.events(side)
            .iter()
            .any(|e| matches!(e, Event::IkeSaEstablished { .. }))
    }

    pub fn child(&self, side: Side) -> Option<&ipsec_ikev2::ChildSaReady> {
        self.events(side).iter().find_map(|e| match e {
            Event::ChildSaReady(c) => Some(&**c),
            _ => None,
        })
    }

    pub fn closed(&self, side: Side) -> Option<ipsec_ikev2::CloseReason> {
        self.events(side).iter().find_map(|e| match e {
            Event::IkeSaClosed { reason, .. } => Some(*reason),
            _ => None,
        })
    }
}

/// One side's Child SAs as its events tell them: created by `ChildSaReady`, activated by
/// `active` or `ChildSaActive`, ended by `ChildSaDeleted`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ledger {
    /// Inbound SPI -> (outbound SPI, sends on it, inbound keymat, outbound keymat).
    pub children: std::collections::BTreeMap<u32, (u32, bool, Vec<u8>, Vec<u8>)>,
    /// Every Child SA ever made, by inbound SPI.
    pub created: u64,
    /// The IKE SA's SPIs after the last rekey.
    pub ike_spis: Option<(u64, u64)>,
    pub ike_rekeys: u64,
    /// Inbound SPIs in the order they became the one to send on.
    pub activated: Vec<u32>,
}

impl Ledger {
    pub fn of(events: &[Event]) -> Self {
        let mut ledger = Self::default();
        for event in events {
            match event {
                Event::ChildSaReady(c) => {
                    ledger.created += 1;
                    if c.active {
                        ledger.activated.push(c.inbound_spi);
                    }
                    ledger.children.insert(
                        c.inbound_spi,
                        (
                            c.outbound_spi,
                            c.active,
                            c.inbound_keymat.expose().to_vec(),
                            c.outbound_keymat.expose().to_vec(),
                        ),
                    );
                }
                Event::ChildSaActive { inbound_spi, .. } => {
                    if let Some(child) = ledger.children.get_mut(inbound_spi) {
                        child.1 = true;
                        ledger.activated.push(*inbound_spi);
                    }
                }
                Event::ChildSaDeleted { inbound_spi, .. } => {
                    ledger.children.remove(inbound_spi);
                }
                Event::IkeSaEstablished {
                    keys: Some(keys), ..
                } => ledger.ike_spis = Some((keys.spi_i, keys.spi_r)),
                Event::IkeSaRekeyed { spi_i, spi_r, .. } => {
                    ledger.ike_spis = Some((*spi_i, *spi_r));
                    ledger.ike_rekeys += 1;
                }
                _ => {}
            }
        }
        ledger
    }

    /// The outbound SPI this side sends on now: that of the Child SA most recently made
    /// the one to send on, among those that still exist.
    pub fn sending_on(&self) -> Option<u32> {
        self.activated
            .iter()
            .rev()
            .find_map(|spi| self.children.get(spi).map(|c| c.0))
    }

    /// The SA pairs, as (our inbound, our outbound).
    pub fn pairs(&self) -> std::collections::BTreeSet<(u32, u32)> {
        self.children.iter().map(|(i, c)| (*i, c.0)).collect()
    }
}

impl Pair {
    pub fn ledger(&self, side: Side) -> Ledger {
        Ledger::of(self.events(side))
    }

    /// At a quiet point both sides hold the same Child SAs (each one's inbound the other's
    /// outbound, with the same keys), send on all of them, and agree on the IKE SA's SPIs.
    pub fn assert_agree(&self, context: &str) {
        assert_agree(&self.a_events, &self.b_events, context);
    }
}

/// See [`Pair::assert_agree`].
pub fn assert_agree(a_events: &[Event], b_events: &[Event], context: &str) {
    let (a, b) = (Ledger::of(a_events), Ledger::of(b_events));
    let mirrored: std::collections::BTreeSet<(u32, u32)> =
        b.pairs().into_iter().map(|(i, o)| (o, i)).collect();
    assert_eq!(a.pairs(), mirrored, "{context}: Child SAs differ");
    for (inbound, (outbound, active, in_key, out_key)) in &a.children {
        let theirs = &b.children[outbound];
        assert_eq!(theirs.0, *inbound, "{context}");
        assert_eq!(in_key, &theirs.3, "{context}: keys of {inbound:08x}");
        assert_eq!(out_key, &theirs.2, "{context}: keys of {outbound:08x}");
        assert!(*active, "{context}: A does not send on {inbound:08x}");
        assert!(theirs.1, "{context}: B does not send on {outbound:08x}");
    }
    assert_eq!(a.ike_spis, b.ike_spis, "{context}: IKE SA SPIs differ");
}

impl Pair {
    /// The handle of the IKE SA on `side`.
    pub fn handle(&self, side: Side) -> ipsec_ikev2::IkeSaHandle {
        self.events(side)
            .iter()
            .find_map(|e| match e {
                Event::IkeSaEstablished { handle, .. } => Some(*handle),
                _ => None,
            })
            .expect("an established IKE SA")
    }

    pub fn endpoint(&mut self, side: Side) -> &mut Endpoint {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    /// The inbound SPIs of `side`'s Child SAs.
    pub fn child_spis(&self, side: Side) -> Vec<u32> {
        self.ledger(side).children.keys().copied().collect()
    }
}

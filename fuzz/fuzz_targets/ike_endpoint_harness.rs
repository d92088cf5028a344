//! The harness of the `ike_endpoint` fuzz target, kept apart from the target so that the
//! seed generator and the replay test in `crates/ipsec-ikev2/tests/fuzz_ike_endpoint.rs`
//! run the very same code (they include this file with `#[path]`).
//!
//! Two endpoints per input, both fresh and seeded, so that every input replays exactly:
//!
//! - **A**, an initiator that has called `initiate` towards B and waits for the IKE_SA_INIT
//!   response (it has no responder proposals, so it answers no IKE_SA_INIT itself);
//! - **B**, a responder with IKE proposals for AES-GCM/x25519, ChaCha20-Poly1305/x25519 and
//!   AES-CBC+HMAC with x25519 or MODP-2048, one PSK peer (A's identity), and a low cookie
//!   threshold so that the stateless COOKIE path is reached too.
//!
//! The input is a sequence of chunks `[op, len_lo, len_hi, body[len]]` (a short last body is
//! taken as it is). `op`:
//!
//! | bits | meaning |
//! |---|---|
//! | 0-1 | 0: `body` as a datagram to B; 1: `body` as a datagram to A; 2: deliver A's oldest unsent datagram to B, XORed with `body`; 3: deliver B's oldest to A, XORed with `body` |
//! | 2 | for 0 and 1: overwrite SPIi and SPIr of `body` with the SPIs A and B chose; for 2 and 3: instead of relaying, A (2) or B (3) runs the command `body[0]` names: [`COMMANDS`] |
//! | 3 | for 0 and 1: the NAT-T ports (4500) instead of 500; for 2 and 3: drop the datagram instead of delivering it |
//! | 4-7 | how far the fake clock moves before the chunk: [`STEPS`] |
//!
//! The commands rekey a Child SA or the IKE SA, create a further Child SA, delete either, or
//! check liveness, so that with relays, drops and clock steps the fuzzer explores the
//! CREATE_CHILD_SA exchanges and their collisions (RFC 7296 §1.3, §2.8, §2.25) too.
//!
//! After each chunk both endpoints get `handle_timeout(now)`, and their datagrams and
//! events are drained. Relaying with an empty body is a faithful network, so a handful of
//! bytes make a whole handshake, and the fuzzer mutates real messages from there.
//!
//! Checked: no panic; no deadline left due after `handle_timeout`; both endpoints' IKE SA
//! counts stay small (half-open SAs are capped by
//! the cookie threshold; a fuzzer cannot make IKE SAs without valid AUTH); a Child SA that
//! both sides report with the same SPI has the same keys on both sides.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ipsec_crypto::{SecretBytes, SeededRandom};
use ipsec_ikev2::{
    ChildConfig, ChildProposal, ChildSaReady, Encryption, Endpoint, EndpointConfig, Event,
    IdMatcher, IkeProposal, Path, PeerConfig, PeerId, SharedKeys, Transmit,
};
use ipsec_isakmp::{AddressRange, DhGroup, EsnId, Identification, IntegId, PrfId, TrafficSelector};

/// A's address.
pub const A_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
/// B's address.
pub const B_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
/// B demands cookies once this many IKE SAs are half-open (RFC 7296 §2.6).
pub const COOKIE_THRESHOLD: usize = 4;
/// The most IKE SAs B may hold: half-open ones up to the threshold, plus the few that a
/// faithful relay of A's messages (with their cookie) can establish or leave half-open.
pub const MAX_B_SAS: usize = COOKIE_THRESHOLD + 4;
/// The most IKE SAs A may hold: the one it initiated (and a rekeyed successor).
pub const MAX_A_SAS: usize = 2;
/// Undelivered datagrams kept per direction; older ones are lost, as on a network.
const QUEUE: usize = 16;
/// Chunks looked at per input.
const MAX_CHUNKS: usize = 64;
/// Clock steps selected by the high nibble of `op`.
pub const STEPS: [Duration; 16] = [
    Duration::ZERO,
    Duration::ZERO,
    Duration::ZERO,
    Duration::ZERO,
    Duration::from_millis(10),
    Duration::from_millis(100),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(20),
    Duration::from_secs(31),
    Duration::from_secs(61),
    Duration::from_secs(300),
    Duration::from_secs(3600),
];

/// Operation codes (`op & 3`).
pub const TO_B: u8 = 0;
/// A datagram to A.
pub const TO_A: u8 = 1;
/// Relay A's next datagram to B.
pub const RELAY_A_TO_B: u8 = 2;
/// Relay B's next datagram to A.
pub const RELAY_B_TO_A: u8 = 3;
/// `op` bit: patch the SPIs.
pub const PATCH_SPIS: u8 = 1 << 2;
/// `op` bit: NAT-T ports.
pub const NAT_T: u8 = 1 << 3;
/// With a relay op: run a command instead (the same bit as [`PATCH_SPIS`]).
pub const COMMAND: u8 = 1 << 2;
/// With a relay op: drop the datagram (the same bit as [`NAT_T`]).
pub const DROP: u8 = 1 << 3;

/// The commands `body[0] % 6` selects.
pub const COMMANDS: [&str; 6] = [
    "rekey the newest Child SA",
    "rekey the IKE SA",
    "create a further Child SA",
    "delete the newest Child SA",
    "delete the IKE SA",
    "check liveness",
];

/// The fixed base of the fake clock. `Instant` has no constant; one reading of the real
/// clock, taken once per process, is the origin. Only the offsets the harness adds to it
/// matter, so every input still replays exactly.
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    #[allow(clippy::disallowed_methods)]
    *BASE.get_or_init(Instant::now)
}

fn range(start: [u8; 4], end: [u8; 4]) -> TrafficSelector {
    TrafficSelector::Ipv4(AddressRange {
        ip_protocol: 0,
        start_port: 0,
        end_port: 65535,
        start_address: start.into(),
        end_address: end.into(),
    })
}

fn gcm_x25519() -> IkeProposal {
    IkeProposal {
        encryption: vec![Encryption::aes_gcm_16(256)],
        integrity: vec![],
        prf: vec![PrfId::HmacSha2_256],
        dh: vec![DhGroup::Curve25519],
    }
}

/// B's IKE proposals: the three suites of the charon captures (and x25519 with CBC).
pub fn responder_proposals() -> Vec<IkeProposal> {
    vec![
        gcm_x25519(),
        IkeProposal {
            encryption: vec![Encryption::chacha20_poly1305()],
            integrity: vec![],
            prf: vec![PrfId::HmacSha2_256],
            dh: vec![DhGroup::Curve25519],
        },
        IkeProposal {
            encryption: vec![Encryption::aes_cbc(128), Encryption::aes_cbc(256)],
            integrity: vec![IntegId::HmacSha2_256_128],
            prf: vec![PrfId::HmacSha2_256],
            dh: vec![DhGroup::Curve25519, DhGroup::Modp2048],
        },
    ]
}

fn peer(
    local: &str,
    remote: &str,
    local_ts: TrafficSelector,
    remote_ts: TrafficSelector,
    ike_proposals: Vec<IkeProposal>,
) -> PeerConfig {
    PeerConfig {
        name: "fuzz".into(),
        local_id: Identification::fqdn(local),
        remote_id: IdMatcher::Exact(PeerId::Fqdn(remote.into())),
        ike_proposals,
        children: vec![Arc::new(ChildConfig {
            name: "net".into(),
            proposals: vec![ChildProposal {
                esn: vec![EsnId::NoEsn, EsnId::Esn],
                ..ChildProposal::esp(
                    vec![Encryption::aes_gcm_16(256), Encryption::chacha20_poly1305()],
                    vec![],
                )
            }],
            local_ts: vec![local_ts],
            remote_ts: vec![remote_ts],
            ..ChildConfig::default()
        })],
        liveness_interval: Some(Duration::from_secs(30)),
        ..PeerConfig::default()
    }
}

/// The key both fuzzed peers hold.
fn credentials() -> Arc<SharedKeys> {
    Arc::new(SharedKeys::single(SecretBytes::copy_from(
        b"ike_endpoint fuzz psk",
    )))
}

/// A's view of the peer B.
pub fn initiator_peer() -> PeerConfig {
    peer(
        "a.example",
        "b.example",
        range([10, 1, 0, 0], [10, 1, 255, 255]),
        range([10, 2, 0, 0], [10, 2, 255, 255]),
        vec![gcm_x25519()],
    )
}

/// B's view of the peer A: it accepts more proposals than A offers.
pub fn responder_peer() -> PeerConfig {
    peer(
        "b.example",
        "a.example",
        range([10, 2, 0, 0], [10, 2, 255, 255]),
        range([10, 1, 0, 0], [10, 1, 255, 255]),
        responder_proposals(),
    )
}

/// A's path to B on `port`.
pub fn a_path(port: u16) -> Path {
    Path {
        local: SocketAddr::new(A_IP, port),
        remote: SocketAddr::new(B_IP, port),
    }
}

/// B's path to A on `port`.
pub fn b_path(port: u16) -> Path {
    Path {
        local: SocketAddr::new(B_IP, port),
        remote: SocketAddr::new(A_IP, port),
    }
}

/// The other side's view of a datagram's path.
fn reversed(path: Path) -> Path {
    Path {
        local: path.remote,
        remote: path.local,
    }
}

/// The two endpoints, the fake clock and the datagrams in flight.
pub struct Harness {
    pub a: Endpoint,
    pub b: Endpoint,
    pub now: Instant,
    /// Datagrams A sent, not yet delivered.
    pub a_out: VecDeque<Transmit>,
    /// Datagrams B sent, not yet delivered.
    pub b_out: VecDeque<Transmit>,
    /// Every event, in order.
    pub a_events: Vec<Event>,
    pub b_events: Vec<Event>,
    /// The SPI A chose, and the last non-zero SPIr B used.
    spi_a: u64,
    spi_b: Option<u64>,
}

impl Harness {
    /// Fresh endpoints with fixed seeds; A has initiated.
    pub fn new() -> Self {
        let now = base();
        let a_config = EndpointConfig {
            responder_peers: Vec::new(),
            credentials: credentials(),
            ..EndpointConfig::default()
        };
        let b_config = EndpointConfig {
            dos: ipsec_ikev2::DosProtection {
                cookie_threshold: COOKIE_THRESHOLD,
                ..Default::default()
            },
            responder_peers: vec![Arc::new(responder_peer())],
            credentials: credentials(),
            ..EndpointConfig::default()
        };
        let mut a = Endpoint::new(a_config, Box::new(SeededRandom::from_u64(0xa))).unwrap();
        let b = Endpoint::new(b_config, Box::new(SeededRandom::from_u64(0xb))).unwrap();
        a.initiate(now, Arc::new(initiator_peer()), None, a_path(500))
            .expect("A initiates");
        let mut harness = Self {
            a,
            b,
            now,
            a_out: VecDeque::new(),
            b_out: VecDeque::new(),
            a_events: Vec::new(),
            b_events: Vec::new(),
            spi_a: 0,
            spi_b: None,
        };
        harness.drain();
        harness.spi_a = harness
            .a_out
            .front()
            .map(|t| spi_at(&t.payload, 0))
            .expect("A sent its IKE_SA_INIT request");
        harness
    }

    fn drain(&mut self) {
        while let Some(t) = self.a.poll_transmit() {
            push(&mut self.a_out, t);
        }
        while let Some(t) = self.b.poll_transmit() {
            let message = t
                .payload
                .strip_prefix(&ipsec_isakmp::NON_ESP_MARKER)
                .unwrap_or(&t.payload);
            if message.len() >= 16 && spi_at(message, 8) != 0 {
                self.spi_b = Some(spi_at(message, 8));
            }
            push(&mut self.b_out, t);
        }
        while let Some(e) = self.a.poll_event() {
            self.a_events.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.b_events.push(e);
        }
        assert!(self.a_events.len() < 1000 && self.b_events.len() < 1000);
    }

    /// Moves the clock and lets both endpoints act on their deadlines.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        // Every deadline that passed was acted on: none is left in the past.
        for endpoint in [&self.a, &self.b] {
            assert!(
                endpoint.poll_timeout().is_none_or(|t| t > self.now),
                "a deadline stays due after handle_timeout"
            );
        }
        self.drain();
    }

    /// One chunk: `op` and its body.
    pub fn step(&mut self, op: u8, body: &[u8]) {
        self.advance(STEPS[usize::from(op >> 4)]);
        let port = if op & NAT_T != 0 { 4500 } else { 500 };
        match op & 3 {
            TO_B | TO_A => {
                let mut datagram = body.to_vec();
                if op & PATCH_SPIS != 0 {
                    self.patch_spis(&mut datagram);
                }
                if op & 3 == TO_B {
                    let _ = self.b.handle_datagram(self.now, b_path(port), &datagram);
                } else {
                    let _ = self.a.handle_datagram(self.now, a_path(port), &datagram);
                }
            }
            kind if op & COMMAND != 0 => {
                self.command(kind == RELAY_A_TO_B, body.first().copied().unwrap_or(0));
            }
            RELAY_A_TO_B => {
                if let Some(t) = self.a_out.pop_front()
                    && op & DROP == 0
                {
                    let datagram = xor(&t.payload, body);
                    let _ = self
                        .b
                        .handle_datagram(self.now, reversed(t.path), &datagram);
                }
            }
            _ => {
                if let Some(t) = self.b_out.pop_front()
                    && op & DROP == 0
                {
                    let datagram = xor(&t.payload, body);
                    let _ = self
                        .a
                        .handle_datagram(self.now, reversed(t.path), &datagram);
                }
            }
        }
        self.drain();
        self.check();
    }

    /// Runs command `which` (see [`COMMANDS`]) on A or B, if it has an IKE SA; refusals
    /// (no such Child SA, not established) are fine.
    fn command(&mut self, on_a: bool, which: u8) {
        let (endpoint, events, peer) = if on_a {
            (&mut self.a, &self.a_events, initiator_peer())
        } else {
            (&mut self.b, &self.b_events, responder_peer())
        };
        let Some(handle) = events.iter().rev().find_map(|e| match e {
            Event::IkeSaEstablished { handle, .. } => Some(*handle),
            _ => None,
        }) else {
            return;
        };
        let child = newest_child(events);
        let now = self.now;
        let _ = match which % 6 {
            0 => endpoint.rekey_child_sa(now, handle, child),
            1 => endpoint.rekey_ike_sa(now, handle),
            2 => endpoint.create_child_sa(now, handle, peer.children[0].clone()),
            3 => endpoint.delete_child_sa(now, handle, child),
            4 => endpoint.delete_ike_sa(now, handle),
            _ => endpoint.check_liveness(now, handle),
        };
    }

    /// Writes A's SPI as SPIi and B's (if any) as SPIr, behind a non-ESP marker if there is
    /// one.
    fn patch_spis(&self, datagram: &mut [u8]) {
        let start = if datagram.starts_with(&ipsec_isakmp::NON_ESP_MARKER) {
            4
        } else {
            0
        };
        if datagram.len() >= start + 16 {
            datagram[start..start + 8].copy_from_slice(&self.spi_a.to_be_bytes());
            if let Some(spi_b) = self.spi_b {
                datagram[start + 8..start + 16].copy_from_slice(&spi_b.to_be_bytes());
            }
        }
    }

    /// The invariants.
    pub fn check(&self) {
        assert!(
            self.a.ike_sa_count() <= MAX_A_SAS,
            "A holds {} IKE SAs",
            self.a.ike_sa_count()
        );
        assert!(
            self.b.ike_sa_count() <= MAX_B_SAS,
            "B holds {} IKE SAs",
            self.b.ike_sa_count()
        );
        for a in children(&self.a_events) {
            for b in children(&self.b_events) {
                if a.outbound_spi == b.inbound_spi {
                    assert_eq!(a.outbound_keymat, b.inbound_keymat, "A->B keys differ");
                }
                if a.inbound_spi == b.outbound_spi {
                    assert_eq!(a.inbound_keymat, b.outbound_keymat, "B->A keys differ");
                }
            }
        }
    }

    /// Whether both sides reported an established IKE SA.
    pub fn both_established(&self) -> bool {
        let up = |events: &[Event]| {
            events
                .iter()
                .any(|e| matches!(e, Event::IkeSaEstablished { .. }))
        };
        up(&self.a_events) && up(&self.b_events)
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

fn children(events: &[Event]) -> impl Iterator<Item = &ChildSaReady> {
    events.iter().filter_map(|e| match e {
        Event::ChildSaReady(c) => Some(&**c),
        _ => None,
    })
}

/// The inbound SPI of the newest Child SA not deleted yet (0 if none).
fn newest_child(events: &[Event]) -> u32 {
    let mut live: Vec<u32> = Vec::new();
    for event in events {
        match event {
            Event::ChildSaReady(c) => live.push(c.inbound_spi),
            Event::ChildSaDeleted { inbound_spi, .. } => live.retain(|s| s != inbound_spi),
            _ => {}
        }
    }
    live.last().copied().unwrap_or(0)
}

fn push(queue: &mut VecDeque<Transmit>, t: Transmit) {
    if queue.len() == QUEUE {
        queue.pop_front();
    }
    queue.push_back(t);
}

fn spi_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// `message` with `mask` XORed into its first bytes (a longer mask is cut).
fn xor(message: &[u8], mask: &[u8]) -> Vec<u8> {
    let mut out = message.to_vec();
    for (byte, m) in out.iter_mut().zip(mask) {
        *byte ^= m;
    }
    out
}

/// Splits an input into chunks `(op, body)`.
pub fn chunks(mut data: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while out.len() < MAX_CHUNKS {
        let [op, lo, hi, rest @ ..] = data else {
            break;
        };
        let len = usize::from(u16::from_le_bytes([*lo, *hi])).min(rest.len());
        let (body, tail) = rest.split_at(len);
        out.push((*op, body));
        data = tail;
    }
    out
}

/// Encodes chunks; the inverse of [`chunks`].
pub fn encode(ops: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (op, body) in ops {
        out.push(*op);
        out.extend_from_slice(&u16::try_from(body.len()).unwrap().to_le_bytes());
        out.extend_from_slice(body);
    }
    out
}

/// Runs one input, then lets an hour pass so every timer fires.
pub fn run(data: &[u8]) -> Harness {
    let mut harness = Harness::new();
    for (op, body) in chunks(data) {
        harness.step(op, body);
    }
    for _ in 0..4 {
        harness.advance(Duration::from_secs(900));
        harness.check();
    }
    harness
}

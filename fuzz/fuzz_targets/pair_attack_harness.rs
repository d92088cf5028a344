//! The harness of the `pair_attack` fuzz target, kept apart from the target so that the
//! replay test in `crates/ipsec/tests/fuzz_pair_attack.rs` runs the very same code (it
//! includes this file with `#[path]`).
//!
//! Two facade endpoints and an attacker in the middle who sees every datagram. **A** is a
//! client whose child is a trap (traffic starts it, and starts it again after a failure)
//! with liveness checks; **B** is a gateway for `%any`. Both send tagged inner packets.
//! The input is a sequence of chunks `[op, len, body[len]]`; the low nibble of `op` says
//! what the attacker does with the oldest datagram in flight one way (`op & 1`: 0 from A
//! to B, 1 from B to A):
//!
//! | `op & 0x0e` | the attacker |
//! |---|---|
//! | 0 | delivers it |
//! | 2 | drops it |
//! | 4 | delivers it twice |
//! | 6 | delivers it with `body` XORed over it |
//! | 8 | swaps it with the one behind it (reordering) |
//! | 10 | reflects it to its sender |
//! | 12 | replays a datagram it saw earlier (`body[0]` picks which) to its destination |
//! | 14 | injects `body` as a datagram to B (`op & 1` = 0) or A, with the live SPIs of a datagram it saw written over its first bytes |
//!
//! and the high nibble moves the fake clock first ([`STEPS`]). Chunks whose `op & 0x0f` is
//! 0 or 1 and whose body starts with 0xff instead make A (0) or B (1) send a tagged inner
//! packet. After each chunk both endpoints' timers run and their outputs go in flight.
//!
//! Checked: no panic; every inner packet delivered was sent by the other side, and none
//! is delivered twice (RFC 4303 §3.4.3: replay protection; §3.4.4: integrity); and once
//! the attack stops and the network is faithful for ten simulated minutes, the pair heals:
//! a packet from A reaches B and B's answer reaches A.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use ipsec::{
    Action, Child, Config, Connection, Endpoint, Output, Path, Secret, SendOutcome, StartAction,
    UniquePolicy,
};
use ipsec_crypto::SeededRandom;

/// A's outer address.
pub const A_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
/// B's outer address.
pub const B_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// A's inner address.
const A_INNER: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
/// A host behind B.
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 5);
/// Datagrams in flight per direction; older ones are lost, as on a network.
const QUEUE: usize = 32;
/// Datagrams the attacker remembers.
const SEEN: usize = 64;
/// Chunks looked at per input.
const MAX_CHUNKS: usize = 96;

/// How far the clock moves before a chunk, by the op's high nibble.
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

/// What travels: a UDP datagram (IKE, or ESP in UDP) or raw ESP.
#[derive(Debug, Clone)]
pub enum Datagram {
    /// With the path as its receiver sees it.
    Udp { path: Path, payload: Vec<u8> },
    /// IP protocol 50 from `source` to `destination`.
    Esp {
        source: IpAddr,
        destination: IpAddr,
        packet: Vec<u8>,
    },
}

impl Datagram {
    fn bytes_mut(&mut self) -> &mut Vec<u8> {
        match self {
            Self::Udp { payload, .. } => payload,
            Self::Esp { packet, .. } => packet,
        }
    }

    /// The same datagram sent back to where it came from.
    fn reflected(&self) -> Self {
        match self {
            Self::Udp { path, payload } => Self::Udp {
                path: Path {
                    local: path.remote,
                    remote: path.local,
                },
                payload: payload.clone(),
            },
            Self::Esp {
                source,
                destination,
                packet,
            } => Self::Esp {
                source: *destination,
                destination: *source,
                packet: packet.clone(),
            },
        }
    }

    /// Whether it is addressed to B.
    fn to_b(&self) -> bool {
        match self {
            Self::Udp { path, .. } => path.local.ip() == IpAddr::from(B_IP),
            Self::Esp { destination, .. } => *destination == IpAddr::from(B_IP),
        }
    }
}

/// The two endpoints, the wire between them and what each delivered.
pub struct Pair {
    pub a: Endpoint,
    pub b: Endpoint,
    pub now: Instant,
    /// In flight: `[A to B, B to A]`.
    flight: [VecDeque<Datagram>; 2],
    seen: VecDeque<Datagram>,
    /// Tags of inner packets sent: `[by A, by B]`.
    sent: [HashSet<u64>; 2],
    /// Tags delivered: `[at B, at A]`.
    delivered: [HashSet<u64>; 2],
    next_tag: u64,
}

fn secret() -> Secret {
    Secret::new(&["a.clients.example", "gw.example"], b"pair attack key").unwrap()
}

fn client(now: Instant) -> Endpoint {
    let connection = Connection::builder("home")
        .local_addrs(&A_IP.to_string())
        .remote_addrs(&B_IP.to_string())
        .local_id("a.clients.example")
        .remote_id("gw.example")
        .proposals("aes128gcm16-prfsha256-x25519")
        .dpd_delay(Duration::from_secs(30))
        .keyingtries(0)
        .child(
            Child::builder("net")
                .local_ts(&format!("{A_INNER}/32"))
                .remote_ts("10.1.0.0/16")
                .esp_proposals("aes128gcm16")
                .start_action(StartAction::Trap)
                .close_action(Action::Trap)
                .dpd_action(Action::Trap)
                .build(),
        )
        .build();
    let config = Config::builder()
        .connection(connection)
        .unwrap()
        .secret(secret())
        .build()
        .unwrap();
    Endpoint::new(now, config, Box::new(SeededRandom::from_u64(0xa))).unwrap()
}

fn gateway(now: Instant) -> Endpoint {
    let connection = Connection::builder("rw")
        .local_addrs(&B_IP.to_string())
        .remote_addrs("%any")
        .local_id("gw.example")
        .remote_id("a.clients.example")
        .proposals("aes128gcm16-prfsha256-x25519")
        .dpd_delay(Duration::from_secs(30))
        .unique(UniquePolicy::Replace)
        .child(
            Child::builder("net")
                .local_ts("10.1.0.0/16")
                .remote_ts("10.99.0.0/16")
                .esp_proposals("aes128gcm16")
                .build(),
        )
        .build();
    let config = Config::builder()
        .connection(connection)
        .unwrap()
        .secret(secret())
        .build()
        .unwrap();
    Endpoint::new(now, config, Box::new(SeededRandom::from_u64(0xb))).unwrap()
}

/// An IPv4/UDP packet carrying `tag`, with a valid header checksum.
fn tagged(source: Ipv4Addr, destination: Ipv4Addr, tag: u64) -> Vec<u8> {
    let mut packet = vec![0u8; 28];
    packet[0] = 0x45;
    packet[2..4].copy_from_slice(&36u16.to_be_bytes());
    packet[8] = 64;
    packet[9] = 17;
    packet[12..16].copy_from_slice(&source.octets());
    packet[16..20].copy_from_slice(&destination.octets());
    let mut sum: u32 = packet[..20]
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    packet[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    packet[20..22].copy_from_slice(&4000u16.to_be_bytes());
    packet[22..24].copy_from_slice(&5000u16.to_be_bytes());
    packet[24..26].copy_from_slice(&16u16.to_be_bytes());
    packet.extend_from_slice(&tag.to_be_bytes());
    packet
}

/// The tag at the end of an inner packet.
fn tag_of(packet: &[u8]) -> Option<u64> {
    let tail = packet.get(packet.len().checked_sub(8)?..)?;
    Some(u64::from_be_bytes(tail.try_into().ok()?))
}

impl Default for Pair {
    fn default() -> Self {
        Self::new()
    }
}

impl Pair {
    /// Fresh endpoints, with fixed seeds so that every input replays exactly.
    pub fn new() -> Self {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let mut pair = Self {
            a: client(now),
            b: gateway(now),
            now,
            flight: [VecDeque::new(), VecDeque::new()],
            seen: VecDeque::new(),
            sent: [HashSet::new(), HashSet::new()],
            delivered: [HashSet::new(), HashSet::new()],
            next_tag: 1,
        };
        pair.drain();
        pair
    }

    /// `from_a` sends one tagged inner packet; whether it went out.
    pub fn send(&mut self, from_a: bool) -> bool {
        let tag = self.next_tag;
        self.next_tag += 1;
        let (endpoint, packet) = if from_a {
            (&mut self.a, tagged(A_INNER, SERVER, tag))
        } else {
            (&mut self.b, tagged(SERVER, A_INNER, tag))
        };
        let outcome = endpoint.send(self.now, &packet);
        let sent = outcome == SendOutcome::Sent;
        if sent {
            self.sent[usize::from(!from_a)].insert(tag);
        }
        self.drain();
        sent
    }

    /// Moves both endpoints' outputs onto the wire and checks their deliveries.
    fn drain(&mut self) {
        for from_a in [true, false] {
            loop {
                let endpoint = if from_a { &mut self.a } else { &mut self.b };
                let Some(output) = endpoint.poll_output() else {
                    break;
                };
                let datagram = match output {
                    Output::Udp { path, payload } => Datagram::Udp {
                        path: Path {
                            local: path.remote,
                            remote: path.local,
                        },
                        payload: payload.to_vec(),
                    },
                    Output::Esp {
                        source,
                        destination,
                        packet,
                    } => Datagram::Esp {
                        source,
                        destination,
                        packet: packet.to_vec(),
                    },
                    Output::Deliver { packet, .. } => {
                        self.check_delivery(from_a, &packet);
                        continue;
                    }
                    _ => continue,
                };
                let queue = &mut self.flight[usize::from(!from_a)];
                if queue.len() >= QUEUE {
                    queue.pop_front();
                }
                queue.push_back(datagram);
            }
            let endpoint = if from_a { &mut self.a } else { &mut self.b };
            while endpoint.poll_event().is_some() {}
        }
    }

    /// A packet delivered at A (`at_a`) or B must be one the other sent, delivered once.
    fn check_delivery(&mut self, at_a: bool, packet: &[u8]) {
        let tag = tag_of(packet).expect("a delivered packet carries a tag");
        let (sender, receiver) = if at_a { (1, 1) } else { (0, 0) };
        assert!(
            self.sent[sender].contains(&tag),
            "delivered a packet nobody sent"
        );
        assert!(self.delivered[receiver].insert(tag), "delivered twice");
    }

    fn deliver(&mut self, datagram: Datagram) {
        if self.seen.len() >= SEEN {
            self.seen.pop_front();
        }
        self.seen.push_back(datagram.clone());
        let now = self.now;
        let to_b = datagram.to_b();
        let endpoint = if to_b { &mut self.b } else { &mut self.a };
        let _ = match &datagram {
            Datagram::Udp { path, payload } => endpoint.handle_udp(now, *path, payload),
            Datagram::Esp {
                source,
                destination,
                packet,
            } => endpoint.handle_esp(now, *source, *destination, packet),
        };
        self.drain();
    }

    /// Moves the clock and runs both endpoints' timers.
    pub fn advance(&mut self, step: Duration) {
        self.now += step;
        for _ in 0..64 {
            let due = |e: &Endpoint| e.poll_timeout().is_some_and(|t| t <= self.now);
            if !due(&self.a) && !due(&self.b) {
                break;
            }
            self.a.handle_timeout(self.now);
            self.b.handle_timeout(self.now);
            self.drain();
        }
    }

    /// One chunk of the attack.
    pub fn step(&mut self, op: u8, body: &[u8]) {
        self.advance(STEPS[usize::from(op >> 4)]);
        let way = usize::from(op & 1);
        if op & 0x0e == 0 && body.first() == Some(&0xff) {
            self.send(way == 0);
            return;
        }
        match op & 0x0e {
            0 => {
                if let Some(d) = self.flight[way].pop_front() {
                    self.deliver(d);
                }
            }
            2 => {
                self.flight[way].pop_front();
            }
            4 => {
                if let Some(d) = self.flight[way].pop_front() {
                    self.deliver(d.clone());
                    self.deliver(d);
                }
            }
            6 => {
                if let Some(mut d) = self.flight[way].pop_front() {
                    for (byte, mask) in d.bytes_mut().iter_mut().zip(body) {
                        *byte ^= mask;
                    }
                    self.deliver(d);
                }
            }
            8 => {
                if self.flight[way].len() >= 2 {
                    self.flight[way].swap(0, 1);
                }
            }
            10 => {
                if let Some(d) = self.flight[way].pop_front() {
                    self.deliver(d.reflected());
                }
            }
            12 => {
                if !self.seen.is_empty() {
                    let index = usize::from(body.first().copied().unwrap_or(0)) % self.seen.len();
                    let d = self.seen[index].clone();
                    self.deliver(d);
                }
            }
            _ => self.inject(way == 0, body),
        }
    }

    /// `body` to B (`to_b`) or A, over the first bytes of a datagram seen going there, so
    /// that its SPIs (IKE's or ESP's) and header are live.
    fn inject(&mut self, to_b: bool, body: &[u8]) {
        let Some(template) = self.seen.iter().rev().find(|d| d.to_b() == to_b).cloned() else {
            return;
        };
        let mut d = template;
        let bytes = d.bytes_mut();
        // Keep the live prefix: the non-ESP marker and IKE SPIs, or the ESP SPI.
        let keep = 24.min(bytes.len());
        bytes.truncate(keep);
        bytes.extend_from_slice(body);
        self.deliver(d);
    }

    /// The network turns faithful: everything in flight arrives, timers run, for ten
    /// simulated minutes, with A sending now and then (its trap starts what is missing).
    pub fn heal(&mut self) {
        let end = self.now + Duration::from_secs(600);
        let mut next_send = self.now;
        while self.now < end {
            while let Some(d) = self.flight[0]
                .pop_front()
                .or_else(|| self.flight[1].pop_front())
            {
                self.deliver(d);
            }
            if self.now >= next_send {
                self.send(true);
                next_send = self.now + Duration::from_secs(20);
            }
            self.advance(Duration::from_millis(500));
        }
    }

    /// After [`Pair::heal`]: A's packet reaches B, and B's answer reaches A.
    pub fn healed(&mut self) -> bool {
        let before = [self.delivered[0].len(), self.delivered[1].len()];
        let mut a_sent = false;
        for _ in 0..20 {
            a_sent = self.send(true);
            if a_sent {
                break;
            }
            self.settle();
        }
        self.settle();
        let b_sent = self.send(false);
        self.settle();
        a_sent
            && b_sent
            && self.delivered[0].len() > before[0]
            && self.delivered[1].len() > before[1]
    }

    /// Delivers everything in flight and runs the timers for a few seconds.
    fn settle(&mut self) {
        for _ in 0..40 {
            while let Some(d) = self.flight[0]
                .pop_front()
                .or_else(|| self.flight[1].pop_front())
            {
                self.deliver(d);
            }
            self.advance(Duration::from_millis(100));
        }
    }
}

/// Runs one input: the attack, then the healing, and checks the pair healed.
pub fn run(data: &[u8]) -> Pair {
    let mut pair = Pair::new();
    for (op, body) in chunks(data).take(MAX_CHUNKS) {
        pair.step(op, body);
    }
    pair.heal();
    assert!(pair.healed(), "the pair did not heal after the attack");
    pair
}

/// The chunks `[op, len, body[len]]` of an input (a short last body is taken as it is).
pub fn chunks(mut data: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (&op, rest) = data.split_first()?;
        let (&len, rest) = rest.split_first().unwrap_or((&0, &[]));
        let len = usize::from(len).min(rest.len());
        let (body, rest) = rest.split_at(len);
        data = rest;
        Some((op, body))
    })
}

/// The input for `chunks`, for seeds.
pub fn encode(chunks: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (op, body) in chunks {
        out.push(*op);
        out.push(u8::try_from(body.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&body[..body.len().min(255)]);
    }
    out
}

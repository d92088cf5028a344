//! Two gateways over a simulated lossy, reordering, duplicating network for hours of
//! simulated time with short lifetimes, so that Child SAs and the IKE SA are rekeyed
//! hundreds of times (RFC 7296 §2.8) while inner packets flow both ways. Every packet sent
//! must be delivered exactly once unless the simulator dropped every copy of it, every send
//! after establishment must find an SA (make-before-break), and whenever IKE is quiet both
//! gateways must hold the same Child SAs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ipsec::{
    Child, ChildBuilder, Config, Connection, ConnectionBuilder, Endpoint, Event, Output, Path,
    SendOutcome,
};
use ipsec_crypto::SeededRandom;

const GW_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const GW_B: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const HOST_A: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 5);
const HOST_B: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 7);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Side {
    A,
    B,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// The lifetimes under test, as swanctl.conf settings of the child and the connection.
#[derive(Clone, Copy)]
struct Policy {
    child: fn(ChildBuilder) -> ChildBuilder,
    ike: fn(ConnectionBuilder) -> ConnectionBuilder,
}

fn gateway(side: Side, policy: Policy, seed: u64, now: Instant) -> Endpoint {
    let (local, remote, ids, subnets) = match side {
        Side::A => (
            GW_A,
            GW_B,
            ("gw-a.example", "gw-b.example"),
            ("10.1.0.0/16", "10.2.0.0/16"),
        ),
        Side::B => (
            GW_B,
            GW_A,
            ("gw-b.example", "gw-a.example"),
            ("10.2.0.0/16", "10.1.0.0/16"),
        ),
    };
    let child = (policy.child)(
        Child::builder("net")
            .local_ts(subnets.0)
            .remote_ts(subnets.1)
            .esp_proposals("aes128gcm16"),
    );
    let connection = (policy.ike)(
        Connection::builder("site")
            .local_addrs(&local.to_string())
            .remote_addrs(&remote.to_string())
            .local_id(ids.0)
            .remote_id(ids.1)
            .psk(b"a pre-shared key both gateways know")
            .proposals("aes128gcm16-prfsha256-x25519")
            .child(child.build()),
    );
    let config = Config::builder()
        .connection(connection.build())
        .unwrap()
        .build()
        .unwrap();
    Endpoint::new(now, config, Box::new(SeededRandom::from_u64(seed))).unwrap()
}

/// An IPv4/UDP packet from `source` to `destination` whose payload is `id`.
fn inner_packet(source: Ipv4Addr, destination: Ipv4Addr, id: u64) -> Vec<u8> {
    let mut packet = vec![0u8; 20 + 8 + 8];
    let total = packet.len() as u16;
    packet[0] = 0x45;
    packet[2..4].copy_from_slice(&total.to_be_bytes());
    packet[8] = 64;
    packet[9] = 17;
    packet[12..16].copy_from_slice(&source.octets());
    packet[16..20].copy_from_slice(&destination.octets());
    let mut sum = 0u32;
    for word in packet[..20].chunks(2) {
        sum += u32::from(u16::from_be_bytes([word[0], word[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    packet[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    packet[20..22].copy_from_slice(&4000u16.to_be_bytes());
    packet[22..24].copy_from_slice(&5000u16.to_be_bytes());
    packet[24..26].copy_from_slice(&16u16.to_be_bytes());
    packet[28..36].copy_from_slice(&id.to_be_bytes());
    packet
}

fn packet_id(packet: &[u8]) -> u64 {
    u64::from_be_bytes(packet[28..36].try_into().unwrap())
}

/// The network's dice.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn chance(&mut self, per_million: u64) -> bool {
        self.next() % 1_000_000 < per_million
    }

    fn upto(&mut self, max: Duration) -> Duration {
        Duration::from_micros(self.next() % max.as_micros().max(1) as u64)
    }
}

enum Payload {
    Ike(Path, Bytes),
    Esp {
        source: IpAddr,
        destination: IpAddr,
        packet: Bytes,
    },
}

struct Datagram {
    at: Instant,
    order: u64,
    to: Side,
    payload: Payload,
}

/// How the network misbehaves, in datagrams per million.
#[derive(Clone, Copy)]
struct Weather {
    loss: u64,
    duplicate: u64,
    delay: Duration,
    jitter: Duration,
}

struct Sim {
    a: Endpoint,
    b: Endpoint,
    now: Instant,
    start: Instant,
    weather: Weather,
    dice: Dice,
    flight: Vec<Datagram>,
    order: u64,
    next_id: u64,
    /// Every inner packet sealed, by id, with its sender.
    sent: HashMap<u64, Side>,
    /// Deliveries per id.
    delivered: HashMap<u64, u32>,
    /// Ids whose every copy the network dropped.
    lost: HashSet<u64>,
    /// Sends that found no SA.
    unsent: u64,
    /// Child SAs as each side's events tell them: (inbound, outbound).
    sas: [BTreeSet<(u32, u32)>; 2],
    child_rekeys: [u64; 2],
    ike_rekeys: [u64; 2],
    quiet_checks: u64,
}

impl Sim {
    fn new(policy: Policy, weather: Weather, seed: u64) -> Self {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        Self {
            a: gateway(Side::A, policy, seed, now),
            b: gateway(Side::B, policy, seed ^ 0x5eed, now),
            now,
            start: now,
            weather,
            dice: Dice(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            flight: Vec::new(),
            order: 0,
            next_id: 1,
            sent: HashMap::new(),
            delivered: HashMap::new(),
            lost: HashSet::new(),
            unsent: 0,
            sas: [BTreeSet::new(), BTreeSet::new()],
            child_rekeys: [0, 0],
            ike_rekeys: [0, 0],
            quiet_checks: 0,
        }
    }

    fn endpoint(&mut self, side: Side) -> &mut Endpoint {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    /// Puts a datagram on the wire: maybe duplicated, each copy maybe lost, each delayed.
    /// Returns whether any copy survives.
    fn transmit(&mut self, to: Side, payload: Payload) -> bool {
        let copies = if self.dice.chance(self.weather.duplicate) {
            2
        } else {
            1
        };
        let mut survived = false;
        for copy in 0..copies {
            if self.dice.chance(self.weather.loss) {
                continue;
            }
            survived = true;
            let at = self.now + self.weather.delay + self.dice.upto(self.weather.jitter);
            self.order += 1;
            let payload = match (&payload, copy) {
                (Payload::Ike(path, bytes), _) => Payload::Ike(*path, bytes.clone()),
                (
                    Payload::Esp {
                        source,
                        destination,
                        packet,
                    },
                    _,
                ) => Payload::Esp {
                    source: *source,
                    destination: *destination,
                    packet: packet.clone(),
                },
            };
            self.flight.push(Datagram {
                at,
                order: self.order,
                to,
                payload,
            });
        }
        survived
    }

    /// Drains `side`'s outputs onto the wire and into the delivery count; the first ESP
    /// packet carries `sealing`, the inner packet just sent.
    fn drain(&mut self, side: Side, mut sealing: Option<u64>) {
        while let Some(output) = self.endpoint(side).poll_output() {
            match output {
                Output::Udp { path, payload } => {
                    let back = Path {
                        local: path.remote,
                        remote: path.local,
                    };
                    self.transmit(side.other(), Payload::Ike(back, payload));
                }
                Output::Esp {
                    source,
                    destination,
                    packet,
                } => {
                    let id = sealing.take().expect("an ESP packet for each send");
                    let survived = self.transmit(
                        side.other(),
                        Payload::Esp {
                            source,
                            destination,
                            packet,
                        },
                    );
                    if !survived {
                        self.lost.insert(id);
                    }
                }
                Output::Deliver { packet, .. } => {
                    let id = packet_id(&packet);
                    assert_eq!(
                        self.sent.get(&id),
                        Some(&side.other()),
                        "packet {id} delivered to its sender or never sent"
                    );
                    *self.delivered.entry(id).or_default() += 1;
                }
                Output::Ah { .. } => panic!("the gateways negotiate ESP"),
            }
        }
        while let Some(event) = self.endpoint(side).poll_event() {
            let index = side as usize;
            match event {
                Event::ChildSaInstalled {
                    inbound_spi,
                    outbound_spi,
                    rekeyed,
                    ..
                } => {
                    self.sas[index].insert((inbound_spi, outbound_spi));
                    if rekeyed.is_some() {
                        self.child_rekeys[index] += 1;
                    }
                }
                Event::ChildSaRemoved {
                    inbound_spi,
                    outbound_spi,
                    ..
                } => {
                    self.sas[index].remove(&(inbound_spi, outbound_spi));
                }
                Event::IkeSaRekeyed { .. } => self.ike_rekeys[index] += 1,
                Event::IkeSaClosed { reason, .. } => {
                    panic!(
                        "{side:?}: the IKE SA closed ({reason:?}) at {:?}",
                        self.now - self.start
                    )
                }
                Event::ChildSaFailed { reason, .. } => {
                    panic!("{side:?}: a Child SA failed ({reason:?})")
                }
                Event::InstallFailed { problem, .. } => panic!("{side:?}: {problem}"),
                _ => {}
            }
        }
    }

    fn send_inner(&mut self, side: Side) {
        let id = self.next_id;
        self.next_id += 1;
        let packet = match side {
            Side::A => inner_packet(HOST_A, HOST_B, id),
            Side::B => inner_packet(HOST_B, HOST_A, id),
        };
        let now = self.now;
        match self.endpoint(side).send(now, &packet) {
            SendOutcome::Sent => {
                self.sent.insert(id, side);
                self.drain(side, Some(id));
            }
            _ => {
                self.unsent += 1;
                self.drain(side, None);
            }
        }
    }

    fn deliver(&mut self, datagram: Datagram) {
        let now = self.now;
        let to = datagram.to;
        let endpoint = self.endpoint(to);
        let _ = match datagram.payload {
            Payload::Ike(path, bytes) => endpoint.handle_udp(now, path, &bytes),
            Payload::Esp {
                source,
                destination,
                packet,
            } => endpoint.handle_esp(now, source, destination, &packet),
        };
        self.drain(to, None);
    }

    /// Whenever no IKE exchange is under way and none is in flight, both sides hold the
    /// same Child SAs.
    fn check_quiet_point(&mut self) {
        let ike_in_flight = self
            .flight
            .iter()
            .any(|d| matches!(d.payload, Payload::Ike(..)));
        if ike_in_flight || !self.a.ike().is_idle() || !self.b.ike().is_idle() {
            return;
        }
        let mirrored: BTreeSet<(u32, u32)> = self.sas[1].iter().map(|(i, o)| (*o, *i)).collect();
        assert_eq!(
            self.sas[0],
            mirrored,
            "the gateways disagree on the Child SAs at {:?}",
            self.now - self.start
        );
        self.quiet_checks += 1;
    }

    /// Runs for `duration`, each side sending an inner packet every `interval` until
    /// `duration` minus a drain time.
    fn run(&mut self, duration: Duration, interval: Duration) {
        let end = self.start + duration;
        let stop_sending = end - Duration::from_secs(30);
        // Traffic starts once the first Child SA is surely up on both sides: before that a
        // responder's first packets may overtake its IKE_AUTH response.
        let established_by = self.start + Duration::from_secs(10);
        let mut next_send = [established_by, established_by + interval / 2];
        let mut next_check = self.now;
        let now = self.now;
        self.a.connect(now, "site").unwrap();
        self.drain(Side::A, None);
        loop {
            let arrival = self.flight.iter().map(|d| (d.at, d.order)).min();
            let timers = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let sends = next_send
                .iter()
                .copied()
                .min()
                .filter(|t| *t < stop_sending);
            let next = [arrival.map(|a| a.0), timers, sends, Some(next_check)]
                .into_iter()
                .flatten()
                .min()
                .unwrap();
            if next > end {
                break;
            }
            self.now = self.now.max(next);
            if let Some((at, order)) = arrival
                && at <= self.now
            {
                let index = self.flight.iter().position(|d| d.order == order).unwrap();
                let datagram = self.flight.swap_remove(index);
                self.deliver(datagram);
                continue;
            }
            for (index, side) in [Side::A, Side::B].into_iter().enumerate() {
                if next_send[index] <= self.now && self.now < stop_sending {
                    self.send_inner(side);
                    next_send[index] += interval;
                }
            }
            if next_check <= self.now {
                self.check_quiet_point();
                next_check = self.now + Duration::from_secs(1);
            }
            let now = self.now;
            self.a.handle_timeout(now);
            self.drain(Side::A, None);
            self.b.handle_timeout(now);
            self.drain(Side::B, None);
            for endpoint in [&self.a, &self.b] {
                assert!(
                    endpoint.poll_timeout().is_none_or(|t| t > now),
                    "a deadline stays due after handle_timeout"
                );
            }
        }
    }

    /// Every packet sent was delivered exactly once, unless every copy was lost.
    fn assert_exactly_once(&self) -> (usize, usize) {
        let mut lost = 0;
        for (id, from) in &self.sent {
            let count = self.delivered.get(id).copied().unwrap_or(0);
            if self.lost.contains(id) {
                assert_eq!(count, 0, "packet {id} from {from:?} was lost yet delivered");
                lost += 1;
            } else {
                assert_eq!(
                    count, 1,
                    "packet {id} from {from:?} delivered {count} times"
                );
            }
        }
        (self.sent.len(), lost)
    }
}

#[test]
fn hours_of_rekeys_with_traffic_both_ways() {
    let policy = Policy {
        child: |child| {
            child
                .rekey_time(Duration::from_secs(60))
                .life_time(Duration::from_secs(90))
                .rand_time(Duration::from_secs(6))
        },
        ike: |connection| {
            connection
                .rekey_time(Duration::from_secs(300))
                .over_time(Duration::from_secs(300))
                .rand_time(Duration::from_secs(30))
        },
    };
    let weather = Weather {
        loss: 10_000,
        duplicate: 10_000,
        delay: Duration::from_millis(10),
        jitter: Duration::from_millis(40),
    };
    let mut sim = Sim::new(policy, weather, 2026);
    sim.run(Duration::from_secs(4 * 3600), Duration::from_millis(250));
    let (sent, lost) = sim.assert_exactly_once();
    let child_rekeys = sim.child_rekeys[0];
    let ike_rekeys = sim.ike_rekeys[0];
    println!(
        "4 h simulated: {sent} packets sent, {} delivered exactly once, {lost} lost by the \
         network; {child_rekeys} Child SA rekeys, {ike_rekeys} IKE SA rekeys; {} quiet points \
         checked",
        sent - lost,
        sim.quiet_checks
    );
    assert_eq!(sim.unsent, 0, "a send found no SA during a rekey");
    assert_eq!(child_rekeys, sim.child_rekeys[1]);
    assert_eq!(ike_rekeys, sim.ike_rekeys[1]);
    assert!(child_rekeys >= 200, "only {child_rekeys} Child SA rekeys");
    assert!(ike_rekeys >= 30, "only {ike_rekeys} IKE SA rekeys");
    assert!(sim.quiet_checks > 1000);
    assert!(lost > 0 && lost < sent / 50);
}

#[test]
fn packet_counts_start_the_rekeys() {
    let policy = Policy {
        child: |child| child.rekey_packets(300).life_packets(600).rand_packets(0),
        ike: |connection| connection,
    };
    let weather = Weather {
        loss: 5_000,
        duplicate: 5_000,
        delay: Duration::from_millis(5),
        jitter: Duration::from_millis(20),
    };
    let mut sim = Sim::new(policy, weather, 7);
    sim.run(Duration::from_secs(1800), Duration::from_millis(100));
    let (sent, lost) = sim.assert_exactly_once();
    println!(
        "30 min simulated: {sent} packets sent, {} delivered exactly once, {lost} lost; {} \
         Child SA rekeys started by packet counts",
        sent - lost,
        sim.child_rekeys[0]
    );
    assert_eq!(sim.unsent, 0);
    // About 18,000 packets each way over SAs that last 300 packets a direction.
    assert!(
        sim.child_rekeys[0] >= 50,
        "{} rekeys for {sent} packets",
        sim.child_rekeys[0]
    );
    assert!(lost < sent / 50);
}

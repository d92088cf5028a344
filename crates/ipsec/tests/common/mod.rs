//! A network of facade endpoints in one process: datagrams routed by address with a fixed
//! delay, a fake clock, every timer honoured in time order, and what each node delivered
//! and reported kept for the test to check.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ipsec::{Endpoint, Event, Output, Path, SendOutcome};

/// What travels between nodes.
#[derive(Debug, Clone)]
pub enum Wire {
    /// A UDP datagram, with the path as the receiver sees it.
    Udp { path: Path, payload: Bytes },
    /// Raw ESP.
    Esp {
        source: IpAddr,
        destination: IpAddr,
        packet: Bytes,
    },
    /// An IP packet with AH.
    Ah { packet: Bytes },
}

/// One endpoint on the network, with what it delivered and reported.
pub struct Node {
    pub name: String,
    pub endpoint: Endpoint,
    pub ip: IpAddr,
    /// Inner packets delivered, with the inbound SPI that carried each.
    pub delivered: Vec<(Bytes, u32)>,
    pub events: Vec<Event>,
    /// Every packet this node put on the wire.
    pub sent: Vec<Wire>,
}

/// Decides whether a datagram on the wire is dropped (a dead link, an attacker).
pub type Filter = Box<dyn FnMut(usize, &Wire) -> bool>;

pub struct Net {
    pub nodes: Vec<Node>,
    by_ip: HashMap<IpAddr, usize>,
    pub start: Instant,
    pub now: Instant,
    pub delay: Duration,
    flight: Vec<(Instant, u64, usize, Wire)>,
    order: u64,
    /// Returns true for a datagram to drop, given the receiving node's index.
    pub drop: Option<Filter>,
}

impl Default for Net {
    fn default() -> Self {
        Self::new()
    }
}

impl Net {
    pub fn new() -> Self {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        Self {
            nodes: Vec::new(),
            by_ip: HashMap::new(),
            start: now,
            now,
            delay: Duration::from_millis(5),
            flight: Vec::new(),
            order: 0,
            drop: None,
        }
    }

    /// Adds `endpoint` at `ip`; returns its index.
    pub fn add(&mut self, name: &str, ip: IpAddr, endpoint: Endpoint) -> usize {
        let index = self.nodes.len();
        self.nodes.push(Node {
            name: name.to_string(),
            endpoint,
            ip,
            delivered: Vec::new(),
            events: Vec::new(),
            sent: Vec::new(),
        });
        self.by_ip.insert(ip, index);
        self.drain(index);
        index
    }

    /// Replaces the endpoint of node `index` (a reboot).
    pub fn replace(&mut self, index: usize, endpoint: Endpoint) {
        self.nodes[index].endpoint = endpoint;
        self.drain(index);
    }

    pub fn node(&mut self, index: usize) -> &mut Node {
        &mut self.nodes[index]
    }

    /// Node `index` sends the inner packet `packet`.
    pub fn send(&mut self, index: usize, packet: &[u8]) -> SendOutcome {
        let now = self.now;
        let outcome = self.nodes[index].endpoint.send(now, packet);
        self.drain(index);
        outcome
    }

    /// Runs `command` on node `index`'s endpoint at the current time, then collects what
    /// it produced.
    pub fn with<T>(
        &mut self,
        index: usize,
        command: impl FnOnce(&mut Endpoint, Instant) -> T,
    ) -> T {
        let now = self.now;
        let result = command(&mut self.nodes[index].endpoint, now);
        self.drain(index);
        result
    }

    /// Moves node `index`'s outputs onto the wire, its deliveries and events into its
    /// record.
    pub fn drain(&mut self, index: usize) {
        loop {
            let Some(output) = self.nodes[index].endpoint.poll_output() else {
                break;
            };
            match output {
                Output::Udp { path, payload } => {
                    let wire = Wire::Udp {
                        path: Path {
                            local: path.remote,
                            remote: path.local,
                        },
                        payload,
                    };
                    self.put(index, path.remote.ip(), wire);
                }
                Output::Esp {
                    source,
                    destination,
                    packet,
                } => self.put(
                    index,
                    destination,
                    Wire::Esp {
                        source,
                        destination,
                        packet,
                    },
                ),
                Output::Ah {
                    destination,
                    packet,
                    ..
                } => self.put(index, destination, Wire::Ah { packet }),
                Output::Deliver {
                    packet,
                    inbound_spi,
                    ..
                } => self.nodes[index].delivered.push((packet, inbound_spi)),
            }
        }
        while let Some(event) = self.nodes[index].endpoint.poll_event() {
            self.nodes[index].events.push(event);
        }
    }

    fn put(&mut self, from: usize, to_ip: IpAddr, wire: Wire) {
        self.nodes[from].sent.push(wire.clone());
        let Some(to) = self.by_ip.get(&to_ip).copied() else {
            return;
        };
        self.order += 1;
        self.flight
            .push((self.now + self.delay, self.order, to, wire));
    }

    /// Puts `wire`, made by an attacker, in flight to the node at `to_ip`: it arrives after
    /// the usual delay, before anything the network sends from now on.
    pub fn inject(&mut self, to_ip: IpAddr, wire: Wire) {
        let Some(to) = self.by_ip.get(&to_ip).copied() else {
            return;
        };
        self.order += 1;
        self.flight
            .push((self.now + self.delay, self.order, to, wire));
    }

    /// Runs the network for `duration`: datagrams arrive and timers fire in time order.
    pub fn run(&mut self, duration: Duration) {
        let end = self.now + duration;
        loop {
            let arrival = self
                .flight
                .iter()
                .map(|(at, order, ..)| (*at, *order))
                .min();
            let timer = self
                .nodes
                .iter()
                .filter_map(|n| n.endpoint.poll_timeout())
                .min();
            let next = [arrival.map(|a| a.0), timer].into_iter().flatten().min();
            let Some(next) = next.filter(|t| *t <= end) else {
                break;
            };
            self.now = self.now.max(next);
            if let Some((at, order)) = arrival
                && at <= self.now
            {
                let position = self
                    .flight
                    .iter()
                    .position(|(_, o, ..)| *o == order)
                    .unwrap();
                let (_, _, to, wire) = self.flight.swap_remove(position);
                self.arrive(to, wire);
                continue;
            }
            let now = self.now;
            for index in 0..self.nodes.len() {
                if self.nodes[index]
                    .endpoint
                    .poll_timeout()
                    .is_some_and(|t| t <= now)
                {
                    self.nodes[index].endpoint.handle_timeout(now);
                    self.drain(index);
                }
            }
        }
        self.now = self.now.max(end);
    }

    fn arrive(&mut self, to: usize, wire: Wire) {
        if let Some(drop) = &mut self.drop
            && drop(to, &wire)
        {
            return;
        }
        let now = self.now;
        let endpoint = &mut self.nodes[to].endpoint;
        let _ = match &wire {
            Wire::Udp { path, payload } => endpoint.handle_udp(now, *path, payload),
            Wire::Esp {
                source,
                destination,
                packet,
            } => endpoint.handle_esp(now, *source, *destination, packet),
            Wire::Ah { packet } => endpoint.handle_ah(now, packet),
        };
        self.drain(to);
    }

    /// The events of node `index` taken out.
    pub fn take_events(&mut self, index: usize) -> Vec<Event> {
        std::mem::take(&mut self.nodes[index].events)
    }
}

/// An IPv4/UDP packet from `source` to `destination` carrying `payload`, with a valid
/// header checksum.
pub fn udp_packet(source: Ipv4Addr, destination: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    let total = 20 + 8 + payload.len();
    let mut packet = vec![0u8; 28];
    packet[0] = 0x45;
    packet[2..4].copy_from_slice(&(total as u16).to_be_bytes());
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
    packet[24..26].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    packet.extend_from_slice(payload);
    packet
}

pub fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}
